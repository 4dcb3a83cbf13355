//! Typing indications (RFC 3994 `application/im-iscomposing+xml`): IM
//! clients send one every few seconds while their user writes, as a pager
//! MESSAGE or inside an MSRP session, plain or wrapped in CPIM (RFC 3862,
//! as RCS and OMA CPM send them). Mail has nothing like them: the gateway
//! answers them (`200 OK`) and drops them, counted, and never makes a mail.

use crate::im::incoming::content_media;

/// RFC 3994 §8.
pub const CONTENT_TYPE: &str = "application/im-iscomposing+xml";

/// Whether content is a typing indication, plain or inside CPIM.
pub fn is_typing_indication(content_type: Option<&str>, body: &[u8]) -> bool {
    content_media(content_type, body).as_deref() == Some(CONTENT_TYPE)
}

/// Drops one typing indication from `sender`, that came in `mode`
/// (`pager`, `large`): a debug line and the count.
pub fn drop_indication(sender: &str, session: &str, mode: &'static str) {
    tracing::debug!(
        sender,
        session,
        mode,
        "typing indication (RFC 3994): answered and dropped"
    );
    crate::telemetry::typing_indication(mode);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_wrapped_indications_are_recognised() {
        assert!(is_typing_indication(
            Some("application/im-iscomposing+xml; charset=utf-8"),
            b"<isComposing/>"
        ));
        let cpim = b"From: <sip:a@x.test>\r\nTo: <sip:b@y.test>\r\n\r\n\
            Content-Type: application/im-iscomposing+xml\r\n\r\n<isComposing/>";
        assert!(is_typing_indication(Some("message/cpim"), cpim));
        let text = b"From: <sip:a@x.test>\r\nTo: <sip:b@y.test>\r\n\r\n\
            Content-Type: text/plain\r\n\r\nhello";
        assert!(!is_typing_indication(Some("message/cpim"), text));
        assert!(!is_typing_indication(Some("text/plain"), b"<isComposing/>"));
        assert!(!is_typing_indication(None, b""));
    }
}
