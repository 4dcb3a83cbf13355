//! The one shape of every report the gateway writes (RFC 6522
//! `multipart/report`): a human-readable part, the machine-readable report
//! (`message/delivery-status`, `message/disposition-notification`) and,
//! for a DSN, the returned header section — sent from the null
//! reverse-path (RFC 5321 §4.5.5, RFC 8098 §3), so that no report is ever
//! answered by another, and marked `Auto-Submitted: auto-replied`
//! (RFC 3834 §5) for every vacation responder and loop check.

use mail_builder::MessageBuilder;
use mail_builder::headers::HeaderType;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::{BodyPart, MimePart};

use interwork_plugin_host::bindings::types::{DsnNotify, Timestamp};

use super::OutgoingMail;
use super::outgoing::{new_message_id, rfc5322_date};

/// One report to write.
pub(super) struct Notice<'a> {
    /// The gateway's host name (Message-ID).
    pub hostname: &'a str,
    /// The address it goes to (envelope and `To`).
    pub to: &'a str,
    /// `From` display name and address.
    pub from_name: Option<&'a str>,
    pub from: &'a str,
    pub subject: &'a str,
    /// The human-readable part, CRLF ended lines.
    pub text: &'a str,
    /// `report-type` and the machine-readable part, ASCII lines.
    pub report_type: &'a str,
    pub report: &'a [u8],
    /// The header section of the reported message, when it is returned
    /// (`text/rfc822-headers`, RFC 6522 §4 / RET=HDRS).
    pub returned_headers: Option<&'a [u8]>,
}

/// The report as a mail; `None` when mail-builder cannot write it.
pub(super) fn multipart_report(notice: &Notice<'_>, now: Timestamp) -> Option<OutgoingMail> {
    let message_id = new_message_id(notice.hostname, &now);
    let mut parts = vec![
        MimePart::new("text/plain", BodyPart::Text(notice.text.to_string().into())),
        // ASCII lines as bytes, 7bit with no charset, as RFC 3464 and
        // RFC 8098 have them (readers look for the fields in the clear).
        MimePart::new(
            format!("message/{}", notice.report_type),
            BodyPart::Binary(notice.report.to_vec().into()),
        )
        .transfer_encoding("7bit"),
    ];
    if let Some(headers) = notice.returned_headers {
        parts.push(
            MimePart::new(
                "text/rfc822-headers",
                BodyPart::Binary(headers.to_vec().into()),
            )
            .transfer_encoding("7bit"),
        );
    }
    let report = MimePart::new(
        ContentType::new("multipart/report").attribute("report-type", notice.report_type),
        parts,
    );
    let bytes = MessageBuilder::new()
        .header("Date", HeaderType::Raw(Raw::new(rfc5322_date(&now, &now))))
        .message_id(message_id.clone())
        .from(Address::new_address(
            notice.from_name,
            notice.from.to_string(),
        ))
        .to(Address::new_address(None::<&str>, notice.to.to_string()))
        .subject(notice.subject)
        .header("Auto-Submitted", HeaderType::Raw(Raw::new("auto-replied")))
        .body(report)
        .write_to_vec()
        .ok()?;
    Some(OutgoingMail {
        envelope_from: String::new(),
        envelope_to: vec![notice.to.to_string()],
        dsn_notify: DsnNotify::empty(),
        envid: None,
        message_id,
        bytes,
        seven_bit: None,
    })
}
