//! Loops across the two networks are stopped within one hop (SPEC S7's
//! offline-delivery case: a mail to a provisioned address whose IM system
//! routes back to the gateway, which would turn it into mail again).
//!
//! * Mail → IM: the `Received:` fields are counted (RFC 5321 §6.3) and
//!   refused above the limit with 554 5.4.6; the IM made carries them as a
//!   hop marker ([`HOPS_HEADER`]: count and the gateway that made it) and as
//!   hops already spent from its `Max-Forwards`.
//! * IM → mail: `Max-Forwards: 0` is refused with 483 (RFC 3261 §16.3
//!   item 2, the gateway forwarding as a proxy would); an IM whose marker
//!   names this gateway was made from one of its own mails and is refused
//!   with 482 (§8.2.2.2); every mail made gets the gateway's `Received:`.
//! * Automatic mail (null reverse-path, `Auto-Submitted` other than `no`,
//!   `multipart/report`) never becomes a chat message a user could answer
//!   back into a loop (RFC 3834 §2, §5).

use interwork_plugin_host::bindings::types::EmailMessage;
use interwork_proto::sip::Request;

use crate::outcome::{About, Kind, Verdict};

/// The SIP header of an IM made from a mail: `<hops>;by=<gateway host>`.
pub const HOPS_HEADER: &str = "Interwork-Hops";

/// RFC 3261 §8.1.1.6: the initial Max-Forwards of a request.
pub const MAX_FORWARDS: usize = 70;

/// `Received:` fields of a mail.
pub fn received_count(mail: &EmailMessage) -> usize {
    mail.headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("Received"))
        .count()
}

/// Refuses a mail that went through more than `limit` hops (554 5.4.6);
/// the count otherwise.
pub fn check_mail_hops(mail: &EmailMessage, limit: usize) -> Result<usize, Verdict> {
    let hops = received_count(mail);
    if hops > limit {
        tracing::warn!(
            hops,
            limit,
            "mail refused: too many Received fields (mail loop)"
        );
        return Err(Verdict::new(
            Kind::Looped,
            About::Content,
            format!("Too many hops ({hops} Received fields, limit {limit}): mail loop"),
        ));
    }
    Ok(hops)
}

/// Why a mail is automatic (RFC 3834), if it is.
pub fn automatic(envelope_from: &str, mail: &EmailMessage) -> Option<&'static str> {
    if envelope_from.is_empty() {
        return Some("null reverse-path (a bounce)");
    }
    let header = |name: &str| {
        mail.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.trim().to_ascii_lowercase())
    };
    if header("Auto-Submitted").is_some_and(|v| v.split(';').next().unwrap_or("").trim() != "no") {
        return Some("Auto-Submitted");
    }
    if header("Content-Type").is_some_and(|v| v.starts_with("multipart/report")) {
        return Some("multipart/report (a delivery or read report)");
    }
    None
}

/// Refuses automatic mail with a log line; the notifications work will turn
/// reports into IMDNs instead.
pub fn refuse_automatic(envelope_from: &str, mail: &EmailMessage) -> Result<(), Verdict> {
    let Some(why) = automatic(envelope_from, mail) else {
        return Ok(());
    };
    tracing::info!(
        from = envelope_from,
        reason = why,
        "automatic mail not turned into an IM"
    );
    Err(Verdict::new(
        Kind::Refused,
        About::Content,
        format!("Automatic mail ({why}) is not delivered as a chat message"),
    ))
}

/// Marks an IM made from a mail that took `hops` hops: the marker, and
/// the hops spent taken from Max-Forwards (at least 1 left).
pub fn mark_im(request: &mut Request, hops: usize, hostname: &str) {
    let left = MAX_FORWARDS.saturating_sub(hops).max(1);
    request.headers.set("Max-Forwards", left.to_string());
    request
        .headers
        .set(HOPS_HEADER, format!("{hops};by={hostname}"));
}

/// Refuses an IM that must not become a mail: no hops left, or made by
/// this gateway from one of its mails.
pub fn check_im(request: &Request, hostname: &str) -> Result<(), Verdict> {
    if request.max_forwards() == Some(0) {
        return Err(Verdict::new(
            Kind::TooManyHops,
            About::Content,
            "Max-Forwards is 0",
        ));
    }
    for marker in request.headers.get_all(HOPS_HEADER) {
        let by = marker
            .split(';')
            .skip(1)
            .find_map(|p| p.trim().strip_prefix("by="));
        if by.is_some_and(|by| by.eq_ignore_ascii_case(hostname)) {
            tracing::warn!(
                marker,
                "IM refused: made by this gateway from a mail (loop)"
            );
            return Err(Verdict::new(
                Kind::Looped,
                About::Content,
                format!("Loop: this IM was made from a mail by {hostname}"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use interwork_plugin_host::bindings::types::{DsnNotify, Header};
    use interwork_proto::sip::{Headers, Method};

    use super::*;

    fn mail(headers: &[(&str, &str)]) -> EmailMessage {
        EmailMessage {
            envelope_from: "bob@mail.example.test".into(),
            envelope_to: vec!["alice@im.example.test".into()],
            dsn_notify: DsnNotify::empty(),
            headers: headers
                .iter()
                .map(|(n, v)| Header {
                    name: n.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            date: None,
            body: Vec::new(),
        }
    }

    #[test]
    fn hops_above_the_limit_are_554_5_4_6() {
        let received = vec![("Received", "from a by b; Thu, 1 Jan 2026 00:00:00 +0000"); 26];
        let verdict = check_mail_hops(&mail(&received), 25).unwrap_err();
        let reply = verdict.smtp_reply();
        assert_eq!((reply.code, reply.enhanced), (554, Some("5.4.6")));
        assert_eq!(check_mail_hops(&mail(&received[..25]), 25), Ok(25));
    }

    #[test]
    fn automatic_mail_is_recognised() {
        let plain = mail(&[("Subject", "hi")]);
        assert_eq!(automatic("bob@mail.example.test", &plain), None);
        assert!(automatic("", &plain).is_some());
        for (name, value, automatic_one) in [
            ("Auto-Submitted", "auto-replied", true),
            ("Auto-Submitted", "auto-generated; owner-email=x@y", true),
            ("auto-submitted", "No", false),
            (
                "Content-Type",
                "multipart/report; report-type=delivery-status",
                true,
            ),
            ("Content-Type", "multipart/mixed", false),
        ] {
            let m = mail(&[(name, value)]);
            assert_eq!(
                automatic("bob@mail.example.test", &m).is_some(),
                automatic_one,
                "{name}: {value}"
            );
        }
    }

    #[test]
    fn an_im_marked_by_us_or_out_of_hops_is_refused() {
        let mut request = Request {
            method: Method::Message,
            uri: "sip:bob@mail.example.test".into(),
            headers: Headers::default(),
            body: Vec::new(),
        };
        request.headers.push("Max-Forwards", "70");
        assert_eq!(check_im(&request, "gw.example.test"), Ok(()));
        mark_im(&mut request, 3, "gw.example.test");
        assert_eq!(request.headers.get("Max-Forwards"), Some("67"));
        let looped = check_im(&request, "GW.example.test").unwrap_err();
        assert_eq!(looped.sip_answer("gw").code, 482);
        assert_eq!(check_im(&request, "other-gw.example.test"), Ok(()));
        request.headers.set("Max-Forwards", "0");
        request
            .headers
            .set(HOPS_HEADER, "1;by=other-gw.example.test");
        assert_eq!(
            check_im(&request, "gw.example.test")
                .unwrap_err()
                .sip_answer("gw")
                .code,
            483
        );
    }
}
