//! A received mail (SMTP DATA) as the plugin contract's `email-message`:
//! `interwork_proto::mime` reads it (headers decoded, parts
//! transfer-decoded, text in UTF-8); this adds the envelope.

use interwork_plugin_host::bindings::types::{
    DsnNotify, EmailMessage, Header, MailPart, Timestamp,
};
use interwork_proto::mime;

pub use interwork_proto::mime::NotAMail;

/// The sender's address: the first `From` mailbox, else the reverse-path.
pub fn author(mail: &EmailMessage) -> Option<String> {
    mail.headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("From"))
        .and_then(|h| address_in(&h.value))
        .or_else(|| Some(mail.envelope_from.clone()).filter(|s| !s.is_empty()))
}

/// The address of a one-address header value (`Carol <c@x>` or `c@x`).
pub fn address_in(value: &str) -> Option<String> {
    match (value.rfind('<'), value.rfind('>')) {
        (Some(open), Some(close)) if open < close => {
            Some(value[open + 1..close].trim().to_string())
        }
        _ => Some(value.trim().to_string()).filter(|s| s.contains('@')),
    }
}

/// Parses `data` received from `mail_from` for `rcpt_to`; `now` dates a
/// mail without a usable Date.
pub fn parse(
    data: &[u8],
    mail_from: &str,
    rcpt_to: &[String],
    now: Timestamp,
) -> Result<EmailMessage, NotAMail> {
    let mail = mime::parse(data)?;
    Ok(EmailMessage {
        envelope_from: mail_from.to_string(),
        envelope_to: rcpt_to.to_vec(),
        dsn_notify: DsnNotify::empty(),
        date: mail
            .date
            .map(|d| Timestamp {
                unix_seconds: d.unix_seconds,
                offset_minutes: d.offset_minutes,
            })
            .or(Some(now)),
        headers: mail
            .headers
            .into_iter()
            .map(|h| Header {
                name: h.name,
                value: h.value,
            })
            .collect(),
        body: mail
            .parts
            .into_iter()
            .map(|p| MailPart {
                content_type: p.content_type,
                disposition: p.disposition,
                filename: p.filename,
                content_id: p.content_id,
                body: p.body,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp {
        unix_seconds: 1_795_873_950,
        offset_minutes: 0,
    };

    #[test]
    fn the_envelope_and_the_author_come_with_the_parts() {
        let parsed = parse(
            b"From: =?UTF-8?B?5byg5LiJ?= <zhang@mail.example.test>\r\n\
Date: Sat, 28 Nov 2026 21:52:27 +0800\r\n\r\nhi\r\n",
            "bounce@mail.example.test",
            &["alice@im.example.test".into()],
            NOW,
        )
        .unwrap();
        assert_eq!(parsed.envelope_from, "bounce@mail.example.test");
        assert_eq!(parsed.envelope_to, ["alice@im.example.test"]);
        assert_eq!(author(&parsed).as_deref(), Some("zhang@mail.example.test"));
        assert_eq!(
            parsed.date,
            Some(Timestamp {
                unix_seconds: 1_795_873_947,
                offset_minutes: 480
            })
        );
        assert_eq!(parsed.body.len(), 1);
        assert_eq!(parsed.body[0].content_type, "text/plain; charset=utf-8");
    }

    #[test]
    fn an_undated_mail_is_dated_now() {
        let parsed = parse(
            b"Subject: x\r\n\r\nhi\r\n",
            "",
            &["a@im.example.test".into()],
            NOW,
        )
        .unwrap();
        assert_eq!(parsed.date, Some(NOW));
        assert_eq!(author(&parsed), None);
    }
}
