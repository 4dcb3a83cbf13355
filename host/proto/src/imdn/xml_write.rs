//! Writing a [`Notification`] as the `<imdn>` document of RFC 5438, with
//! quick-xml's event [`Writer`].

use std::io;

use quick_xml::Writer;
use quick_xml::escape::escape;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::message_id::validate_message_id;
use super::notification::IMDN_XML_NAMESPACE;
use super::{ImdnError, Notification};
use crate::dates::format_rfc3339;

/// Appends the `message/imdn+xml` body for `notification` to `out`.
///
/// The shape of RFC 5438 §7.2.1.1: the XML declaration, `<imdn>` in the
/// IMDN namespace as the default namespace, `<message-id>`, `<datetime>`,
/// the recipient URIs when known, and the notification with its status,
/// indented by two spaces. Text is escaped (`& < > " '`). The message id
/// must be a valid IMDN Message-ID and URIs must be free of whitespace and
/// control characters, so that [`super::parse_xml`] reads back exactly the
/// same notification. On error `out` is left untouched.
pub fn write_xml(notification: &Notification, out: &mut Vec<u8>) -> Result<(), ImdnError> {
    validate_message_id(&notification.message_id)?;
    check_uri("recipient-uri", notification.recipient_uri.as_deref())?;
    check_uri(
        "original-recipient-uri",
        notification.original_recipient_uri.as_deref(),
    )?;
    let datetime = format_rfc3339(&notification.datetime)?;

    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    write_document(&mut writer, notification, &datetime).map_err(|error| ImdnError::Xml {
        // Unreachable: writing to a `Vec<u8>` does not fail. Mapped, not
        // unwrapped, so that writing can never panic.
        offset: writer.get_ref().len(),
        reason: format!("writing the document: {error}"),
    })?;
    out.extend_from_slice(&writer.into_inner());
    out.push(b'\n');
    Ok(())
}

fn write_document(
    writer: &mut Writer<Vec<u8>>,
    notification: &Notification,
    datetime: &str,
) -> io::Result<()> {
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    writer
        .create_element("imdn")
        .with_attribute(("xmlns", IMDN_XML_NAMESPACE))
        .write_inner_content(|imdn| {
            write_leaf(imdn, "message-id", &notification.message_id)?;
            write_leaf(imdn, "datetime", datetime)?;
            if let Some(uri) = &notification.recipient_uri {
                write_leaf(imdn, "recipient-uri", uri)?;
            }
            if let Some(uri) = &notification.original_recipient_uri {
                write_leaf(imdn, "original-recipient-uri", uri)?;
            }
            let kind = notification.kind;
            imdn.create_element(kind.element())
                .write_inner_content(|element| {
                    element
                        .create_element("status")
                        .write_inner_content(|status| {
                            status.create_element(kind.status_element()).write_empty()?;
                            Ok(())
                        })?;
                    Ok(())
                })?;
            Ok(())
        })?;
    Ok(())
}

/// `<name>text</name>`, the text escaped by [`BytesText::new`].
fn write_leaf(writer: &mut Writer<Vec<u8>>, name: &str, text: &str) -> io::Result<()> {
    writer
        .create_element(name)
        .write_text_content(BytesText::new(text))?;
    Ok(())
}

/// Escapes the five XML special characters, everywhere, so the text is
/// safe in element content and in either kind of attribute quotes
/// (quick-xml's [`escape`], which also writes `\r` as `&#13;` so that it
/// survives line-end normalisation).
pub fn escape_xml(text: &str) -> String {
    escape(text).into_owned()
}

pub(crate) fn check_uri(field: &'static str, uri: Option<&str>) -> Result<(), ImdnError> {
    match uri {
        Some(value)
            if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Err(ImdnError::InvalidUri {
                field,
                value: value.to_owned(),
            })
        }
        _ => Ok(()),
    }
}
