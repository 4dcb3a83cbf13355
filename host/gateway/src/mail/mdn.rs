//! Message disposition notifications the gateway writes (RFC 8098): when
//! the IM side says an IM made from a mail was displayed, the mail's
//! `Disposition-Notification-To` is told, as the mail's recipient, with
//! `MDN-Gateway` naming the gateway that translated the IM side's
//! notification (§3.2.2).

use interwork_plugin_host::bindings::types::Timestamp;

use super::dsn::one_line;
use super::{OutgoingMail, notice};

/// What an MDN says.
#[derive(Debug, Clone, PartialEq)]
pub struct Displayed<'a> {
    /// Where the mail asked its MDN to go.
    pub to: &'a str,
    /// The mail's recipient: the `Final-Recipient`, and the MDN's `From`.
    pub recipient: &'a str,
    /// The mail's Message-ID, without brackets (`Original-Message-ID`).
    pub message_id: Option<&'a str>,
    /// The mail's subject.
    pub subject: Option<&'a str>,
    /// The IM user who read it.
    pub reader: &'a str,
}

/// The MDN `displayed`, sent because the IM user's client reported the
/// IM displayed: `manual-action/MDN-sent-manually` (RFC 8098 §3.2.6.1 —
/// an IM client sends its read report as its user opens the message).
pub fn displayed(mdn: &Displayed<'_>, hostname: &str, now: Timestamp) -> Option<OutgoingMail> {
    let subject = match mdn.subject {
        Some(subject) => format!("Displayed: {}", one_line(subject)),
        None => "Displayed".to_string(),
    };
    let text = format!(
        "This is the IM gateway {hostname}.\r\n\r\n\
         Your message{} to <{}> was displayed to its recipient\r\n\
         ({}) by their instant messaging client.\r\n\
         This is no guarantee that the message has been read or understood.\r\n",
        mdn.message_id
            .map(|id| format!(" <{}>", one_line(id)))
            .unwrap_or_default(),
        mdn.recipient,
        one_line(mdn.reader),
    );
    let mut report = format!(
        "Reporting-UA: {hostname}; Interwork\r\n\
         MDN-Gateway: dns; {hostname}\r\n\
         Final-Recipient: rfc822; {}\r\n",
        mdn.recipient
    );
    if let Some(id) = mdn.message_id {
        report.push_str(&format!("Original-Message-ID: <{}>\r\n", one_line(id)));
    }
    report.push_str("Disposition: manual-action/MDN-sent-manually; displayed\r\n");
    notice::multipart_report(
        &notice::Notice {
            hostname,
            to: mdn.to,
            from_name: None,
            from: mdn.recipient,
            subject: &subject,
            text: &text,
            report_type: "disposition-notification",
            report: report.as_bytes(),
            returned_headers: None,
        },
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_mdn_names_the_message_the_gateway_and_the_disposition() {
        let now = Timestamp {
            unix_seconds: 1_796_000_600,
            offset_minutes: 0,
        };
        let mdn = displayed(
            &Displayed {
                to: "carol@mail.example.test",
                recipient: "bob@gw.example.test",
                message_id: Some("m1@mail.example.test"),
                subject: Some("lunch?"),
                reader: "sip:bob@im.example.test",
            },
            "gw.example.test",
            now,
        )
        .expect("an MDN");
        assert_eq!(mdn.envelope_from, "", "null reverse-path (RFC 8098 §3)");
        assert_eq!(mdn.envelope_to, ["carol@mail.example.test"]);
        // Our own reader of returning reports takes it as what it is.
        match interwork_proto::report::parse(&mdn.bytes) {
            Ok(Some(interwork_proto::report::Report::Disposition(report))) => {
                assert_eq!(
                    report.original_message_id.as_deref(),
                    Some("m1@mail.example.test")
                );
                assert_eq!(
                    report.disposition,
                    interwork_proto::report::Disposition::Displayed
                );
                assert!(!report.automatic);
            }
            other => panic!("{other:?}"),
        }
        let text = String::from_utf8_lossy(&mdn.bytes);
        for needle in [
            "MDN-Gateway: dns; gw.example.test",
            "Disposition: manual-action/MDN-sent-manually; displayed",
            "Subject: Displayed: lunch?",
            "Auto-Submitted: auto-replied",
        ] {
            assert!(text.contains(needle), "{needle:?} in\n{text}");
        }
    }
}
