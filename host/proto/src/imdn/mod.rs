//! Instant Message Disposition Notification (RFC 5438): asking for
//! delivery/display notifications in CPIM headers, and the
//! `message/imdn+xml` notification document.
//!
//! * [`Dispositions`] reads and writes `imdn.Disposition-Notification`.
//! * [`validate_message_id`] checks `imdn.Message-ID` values.
//! * [`request_headers`], [`message_id_of`], [`dispositions_of`] and
//!   [`notification_message`] work on [`crate::cpim::CpimMessage`]s and
//!   find IMDN headers by namespace URN, never by prefix.
//! * [`parse_xml`] / [`write_xml`] handle the notification document with
//!   quick-xml: `xml_tree` reads it with the namespace-aware `NsReader`
//!   (names resolved by URI, never by prefix) and refuses DOCTYPE,
//!   undefined entities, CDATA, processing instructions, non-UTF-8
//!   encodings and deep nesting; `xml_parse` applies the RFC 5438 §7.2.1
//!   document rules; `xml_write` writes the §7.2.1.1 shape with quick-xml's
//!   `Writer`. `parse_xml(write_xml(n)) == n`.

mod disposition;
mod error;
mod message_id;
mod notification;
mod request;
mod xml_parse;
pub(crate) mod xml_tree;
mod xml_write;

#[cfg(test)]
mod tests;

pub use disposition::Dispositions;
pub use error::ImdnError;
pub use message_id::validate_message_id;
pub use notification::{
    DeliveryStatus, DisplayStatus, IMDN_CONTENT_TYPE, IMDN_XML_NAMESPACE, Notification,
    NotificationKind,
};
pub use request::{
    IMDN_PREFIX, IMDN_URN, dispositions_of, message_id_of, notification_message, request_headers,
};
pub use xml_parse::parse_xml;
pub use xml_write::{escape_xml, write_xml};
