//! Delivery status notifications the gateway writes (RFC 3464, in the
//! `multipart/report` of RFC 6522): when a mail it accepted with `250`
//! cannot be delivered as an IM — refused by the IM system afterwards, or
//! still undeliverable when its queue lifetime ran out — its sender is
//! told by a DSN from the null reverse-path (RFC 5321 §4.5.5), so that no
//! notification is ever answered by another.

use mail_builder::MessageBuilder;
use mail_builder::headers::HeaderType;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::{BodyPart, MimePart};

use interwork_plugin_host::bindings::types::{DsnNotify, Timestamp};

use super::OutgoingMail;
use super::outgoing::{new_message_id, rfc5322_date};

/// What a failure report says about the mail it reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure<'a> {
    /// The mail's reverse-path: the DSN goes there.
    pub sender: &'a str,
    /// Its recipients (`Final-Recipient`).
    pub recipients: &'a [String],
    /// When the gateway accepted it.
    pub arrival: Timestamp,
    /// The mail as accepted; its header section is returned (RET=HDRS).
    pub original: &'a [u8],
    /// RFC 3463 status, e.g. `5.1.1`, or `4.4.7` for an expired one.
    pub status: &'a str,
    /// What the IM side (or the queue) last said, as an SMTP reply.
    pub diagnostic: &'a str,
}

/// The header section of a mail (up to the first empty line), CRLF ended;
/// the whole mail when it has no body.
pub fn header_section(mail: &[u8]) -> &[u8] {
    mail.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(mail, |end| &mail[..end + 2])
}

/// One line of US-ASCII (RFC 3464 fields are ASCII; RFC 6533's
/// internationalized reports are not needed for what the gateway says):
/// CR and LF become spaces, anything else outside ASCII a `?`.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\r' | '\n' => ' ',
            c if c.is_ascii() && !c.is_ascii_control() => c,
            _ => '?',
        })
        .collect()
}

/// The DSN for `failure`, from `MAILER-DAEMON@hostname` over the null
/// reverse-path; `None` when the mail had a null reverse-path itself
/// (RFC 3464 §2: a DSN is never sent about a DSN).
pub fn failure_report(
    failure: &Failure<'_>,
    hostname: &str,
    now: Timestamp,
) -> Option<OutgoingMail> {
    if failure.sender.is_empty() {
        return None;
    }
    let message_id = new_message_id(hostname, &now);
    let expired = failure.status == "4.4.7";
    let recipients = failure
        .recipients
        .iter()
        .map(|r| format!("<{r}>"))
        .collect::<Vec<_>>()
        .join(", ");
    let why = if expired {
        "it could not be delivered before its time in the queue\r\nran out"
    } else {
        "the IM system refused it"
    };
    let text = format!(
        "This is the mail system of the IM gateway {hostname}.\r\n\r\n\
         Your message to {recipients} was accepted by the gateway,\r\n\
         but {why}.\r\nIt will not be delivered.\r\n\r\n\
         The last answer was:\r\n  {}\r\n\r\n\
         The delivery report and the header of your message are attached.\r\n",
        one_line(failure.diagnostic)
    );
    // RFC 3464 §2.2: the per-message fields, then one block per recipient.
    let mut status = format!(
        "Reporting-MTA: dns; {hostname}\r\nArrival-Date: {}\r\n",
        rfc5322_date(&failure.arrival, &now)
    );
    for recipient in failure.recipients {
        status.push_str(&format!(
            "\r\nFinal-Recipient: rfc822; {recipient}\r\n\
             Action: failed\r\n\
             Status: {}\r\n\
             Diagnostic-Code: smtp; {}\r\n\
             Last-Attempt-Date: {}\r\n",
            failure.status,
            one_line(failure.diagnostic),
            rfc5322_date(&now, &now)
        ));
    }
    let report = MimePart::new(
        ContentType::new("multipart/report").attribute("report-type", "delivery-status"),
        vec![
            MimePart::new("text/plain", BodyPart::Text(text.into())),
            // ASCII lines as bytes, 7bit with no charset, as RFC 3464 has it
            // (readers of DSNs look for the fields in the clear).
            MimePart::new(
                "message/delivery-status",
                BodyPart::Binary(status.into_bytes().into()),
            )
            .transfer_encoding("7bit"),
            MimePart::new(
                "text/rfc822-headers",
                BodyPart::Binary(header_section(failure.original).to_vec().into()),
            ),
        ],
    );
    let builder = MessageBuilder::new()
        .header("Date", HeaderType::Raw(Raw::new(rfc5322_date(&now, &now))))
        .message_id(message_id.clone())
        .from(Address::new_address(
            Some("Mail Delivery System"),
            format!("MAILER-DAEMON@{hostname}"),
        ))
        .to(Address::new_address(
            None::<&str>,
            failure.sender.to_string(),
        ))
        .subject("Undelivered instant message")
        // RFC 3834 §5: an automatic response; our own loop check and
        // every vacation responder leave it alone.
        .header("Auto-Submitted", HeaderType::Raw(Raw::new("auto-replied")))
        .body(report);
    let bytes = builder.write_to_vec().ok()?;
    Some(OutgoingMail {
        envelope_from: String::new(),
        envelope_to: vec![failure.sender.to_string()],
        dsn_notify: DsnNotify::empty(),
        envid: None,
        message_id,
        bytes,
        seven_bit: None,
    })
}

#[cfg(test)]
mod tests {
    use mail_parser::MimeHeaders as _;

    use super::*;

    fn failure<'a>(recipients: &'a [String], status: &'a str) -> Failure<'a> {
        Failure {
            sender: "carol@mail.example.test",
            recipients,
            arrival: Timestamp {
                unix_seconds: 1_796_000_000,
                offset_minutes: 0,
            },
            original:
                b"From: Carol <carol@mail.example.test>\r\nSubject: hi\r\n\r\nsecret body\r\n",
            status,
            diagnostic: "550 5.1.1 IM system answered 404 Not Found",
        }
    }

    #[test]
    fn a_failure_report_is_a_multipart_report_from_the_null_path() {
        let recipients = vec!["bob@gw.example.test".to_string()];
        let now = Timestamp {
            unix_seconds: 1_796_000_600,
            offset_minutes: 0,
        };
        let dsn =
            failure_report(&failure(&recipients, "5.1.1"), "gw.example.test", now).expect("a DSN");
        assert_eq!(dsn.envelope_from, "", "null reverse-path");
        assert_eq!(dsn.envelope_to, ["carol@mail.example.test"]);
        let parsed = mail_parser::MessageParser::default()
            .parse(&dsn.bytes)
            .expect("parses");
        let ct = parsed.content_type().expect("content type");
        assert_eq!(
            (ct.ctype(), ct.subtype(), ct.attribute("report-type")),
            ("multipart", Some("report"), Some("delivery-status"))
        );
        let text = String::from_utf8_lossy(&dsn.bytes);
        for needle in [
            "Reporting-MTA: dns; gw.example.test",
            "Final-Recipient: rfc822; bob@gw.example.test",
            "Action: failed",
            "Status: 5.1.1",
            "Diagnostic-Code: smtp; 550 5.1.1 IM system answered 404 Not Found",
            "Content-Type: text/rfc822-headers",
            "Subject: hi",
            "Auto-Submitted: auto-replied",
            "MAILER-DAEMON@gw.example.test",
        ] {
            assert!(text.contains(needle), "{needle:?} in\n{text}");
        }
        assert!(!text.contains("secret body"), "headers only (RET=HDRS)");
    }

    #[test]
    fn a_bounce_is_never_bounced() {
        let recipients = vec!["bob@gw.example.test".to_string()];
        let mut f = failure(&recipients, "4.4.7");
        f.sender = "";
        assert!(failure_report(&f, "gw.example.test", f.arrival).is_none());
    }
}
