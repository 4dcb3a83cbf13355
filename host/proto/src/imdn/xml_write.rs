//! Writing a [`Notification`] as the `<imdn>` document of RFC 5438.

use super::message_id::validate_message_id;
use super::notification::IMDN_XML_NAMESPACE;
use super::{ImdnError, Notification};
use crate::dates::format_rfc3339;

/// Appends the `message/imdn+xml` body for `notification` to `out`.
///
/// Text is escaped (`& < > " '`). The message id must be a valid IMDN
/// Message-ID and URIs must be free of whitespace and control characters,
/// so that [`super::parse_xml`] reads back exactly the same notification.
/// On error `out` is left untouched.
pub fn write_xml(notification: &Notification, out: &mut Vec<u8>) -> Result<(), ImdnError> {
    validate_message_id(&notification.message_id)?;
    check_uri("recipient-uri", notification.recipient_uri.as_deref())?;
    check_uri(
        "original-recipient-uri",
        notification.original_recipient_uri.as_deref(),
    )?;
    let datetime = format_rfc3339(&notification.datetime)?;

    let mut document = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    document.push_str(&format!("<imdn xmlns=\"{IMDN_XML_NAMESPACE}\">\n"));
    push_leaf(&mut document, "message-id", &notification.message_id);
    push_leaf(&mut document, "datetime", &datetime);
    if let Some(uri) = &notification.recipient_uri {
        push_leaf(&mut document, "recipient-uri", uri);
    }
    if let Some(uri) = &notification.original_recipient_uri {
        push_leaf(&mut document, "original-recipient-uri", uri);
    }
    let kind = notification.kind;
    document.push_str(&format!(
        "  <{0}>\n    <status>\n      <{1}/>\n    </status>\n  </{0}>\n</imdn>\n",
        kind.element(),
        kind.status_element()
    ));
    out.extend_from_slice(document.as_bytes());
    Ok(())
}

fn push_leaf(document: &mut String, name: &str, text: &str) {
    document.push_str(&format!("  <{name}>{}</{name}>\n", escape_xml(text)));
}

/// Escapes the five XML special characters, everywhere, so the text is
/// safe in element content and in either kind of attribute quotes.
pub fn escape_xml(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            other => escaped.push(other),
        }
    }
    escaped
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
