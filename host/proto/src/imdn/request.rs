//! IMDN headers inside CPIM: requesting notifications (RFC 5438 §7.1.1)
//! and wrapping a notification for sending (RFC 5438 §7.2.1).

use super::message_id::validate_message_id;
use super::notification::IMDN_CONTENT_TYPE;
use super::xml_write::write_xml;
use super::{Dispositions, ImdnError, Notification};
use crate::cpim::{CpimHeader, CpimMessage, format_address};
use crate::dates::{Timestamp, format_rfc3339};

/// Namespace URN of the IMDN CPIM headers (RFC 5438 §6.1).
pub const IMDN_URN: &str = "urn:ietf:params:imdn";

/// The prefix this gateway binds to [`IMDN_URN`]; peers may pick another.
pub const IMDN_PREFIX: &str = "imdn";

/// The CPIM headers that request notifications, in the order of the
/// RFC 5438 §7.1.1 example: `NS`, `imdn.Message-ID`, `DateTime`,
/// `imdn.Disposition-Notification`.
///
/// `DateTime` is included because the recipient echoes it back in the
/// notification's `<datetime>`, where it helps match the two. The
/// `Disposition-Notification` header is left out when `dispositions` is
/// empty, since an empty request asks for nothing.
pub fn request_headers(
    message_id: &str,
    dispositions: Dispositions,
    datetime: &Timestamp,
) -> Result<Vec<CpimHeader>, ImdnError> {
    validate_message_id(message_id)?;
    let mut headers = vec![
        CpimHeader::new("NS", format!("{IMDN_PREFIX} <{IMDN_URN}>")),
        CpimHeader::with_prefix(IMDN_PREFIX, "Message-ID", message_id),
        CpimHeader::new("DateTime", format_rfc3339(datetime)?),
    ];
    if !dispositions.is_empty() {
        headers.push(CpimHeader::with_prefix(
            IMDN_PREFIX,
            "Disposition-Notification",
            dispositions.to_string(),
        ));
    }
    Ok(headers)
}

/// The `imdn.Message-ID` of a received message, found by namespace URN.
pub fn message_id_of(message: &CpimMessage) -> Option<&str> {
    Some(message.get_ns(IMDN_URN, "Message-ID")?.value.as_str())
}

/// The notifications a received message asks for; none if it has no
/// `Disposition-Notification` header.
pub fn dispositions_of(message: &CpimMessage) -> Dispositions {
    message
        .get_ns(IMDN_URN, "Disposition-Notification")
        .map_or(Dispositions::NONE, |header| {
            Dispositions::parse(&header.value)
        })
}

/// Builds the CPIM message that carries `notification` back to the
/// original sender (RFC 5438 §7.2.1.1): `From` is the notifying recipient,
/// `To` the original sender, `imdn.Message-ID` a fresh id for the
/// notification itself, and the content is `message/imdn+xml` with
/// `Content-Disposition: notification`.
pub fn notification_message(
    from_uri: &str,
    to_uri: &str,
    own_message_id: &str,
    sent_at: &Timestamp,
    notification: &Notification,
) -> Result<CpimMessage, ImdnError> {
    validate_message_id(own_message_id)?;
    let mut body = Vec::new();
    write_xml(notification, &mut body)?;
    let mut message = CpimMessage::new();
    message
        .push_header(CpimHeader::new("From", format_address(None, from_uri)?))
        .push_header(CpimHeader::new("To", format_address(None, to_uri)?))
        .push_header(CpimHeader::new("NS", format!("{IMDN_PREFIX} <{IMDN_URN}>")))
        .push_header(CpimHeader::with_prefix(
            IMDN_PREFIX,
            "Message-ID",
            own_message_id,
        ))
        .push_header(CpimHeader::new("DateTime", format_rfc3339(sent_at)?))
        .set_content(IMDN_CONTENT_TYPE, body)
        .push_content_header("Content-Disposition", "notification");
    Ok(message)
}
