//! Reading the `<imdn>` document of RFC 5438 into a [`Notification`].

use super::message_id::validate_message_id;
use super::notification::{IMDN_XML_NAMESPACE, NotificationKind};
use super::xml_tree::{XmlElement, parse_document};
use super::xml_write::check_uri;
use super::{ImdnError, Notification};
use crate::dates::parse_rfc3339;

/// Reads a `message/imdn+xml` body.
///
/// Strict about the document: the root must be `<imdn>` in the IMDN
/// namespace, with exactly one `message-id`, one `datetime`, at most one
/// `recipient-uri`, `original-recipient-uri` and `subject` (read and
/// dropped), and exactly one delivery or display notification holding one
/// status. Unknown elements in the IMDN namespace are errors; elements of
/// other namespaces are skipped, because the schema lets extensions add
/// them. Child order is not enforced.
pub fn parse_xml(body: &[u8]) -> Result<Notification, ImdnError> {
    let root = parse_document(body)?;
    if !is_imdn(&root, "imdn") {
        return Err(not_imdn(
            "root element must be <imdn> in urn:ietf:params:xml:ns:imdn",
        ));
    }

    let mut message_id = None;
    let mut datetime = None;
    let mut recipient_uri = None;
    let mut original_recipient_uri = None;
    let mut subject_seen = false;
    let mut kind = None;
    for child in root.children.iter().filter(|c| in_imdn_namespace(c)) {
        match child.local_name.as_str() {
            "message-id" => set_once(&mut message_id, leaf_text(child)?, "message-id")?,
            "datetime" => set_once(&mut datetime, leaf_text(child)?, "datetime")?,
            "recipient-uri" => set_once(&mut recipient_uri, leaf_text(child)?, "recipient-uri")?,
            "original-recipient-uri" => set_once(
                &mut original_recipient_uri,
                leaf_text(child)?,
                "original-recipient-uri",
            )?,
            "subject" => {
                leaf_text(child)?;
                if std::mem::replace(&mut subject_seen, true) {
                    return Err(not_imdn("more than one <subject>"));
                }
            }
            "delivery-notification" | "display-notification" => {
                set_once(&mut kind, notification_kind(child)?, "notification")?;
            }
            "processing-notification" => {
                return Err(ImdnError::Unsupported(
                    "processing notifications are not handled".to_owned(),
                ));
            }
            other => return Err(not_imdn(&format!("unexpected element <{other}>"))),
        }
    }

    let message_id = message_id.ok_or_else(|| not_imdn("missing <message-id>"))?;
    validate_message_id(&message_id)?;
    let datetime = datetime.ok_or_else(|| not_imdn("missing <datetime>"))?;
    check_uri("recipient-uri", recipient_uri.as_deref())?;
    check_uri("original-recipient-uri", original_recipient_uri.as_deref())?;
    Ok(Notification {
        message_id,
        datetime: parse_rfc3339(&datetime)?,
        recipient_uri,
        original_recipient_uri,
        kind: kind.ok_or_else(|| not_imdn("missing delivery or display notification"))?,
    })
}

fn not_imdn(reason: &str) -> ImdnError {
    ImdnError::NotImdn(reason.to_owned())
}

fn in_imdn_namespace(element: &XmlElement) -> bool {
    element.namespace.as_deref() == Some(IMDN_XML_NAMESPACE)
}

fn is_imdn(element: &XmlElement, local_name: &str) -> bool {
    in_imdn_namespace(element) && element.local_name == local_name
}

fn set_once<T>(slot: &mut Option<T>, value: T, name: &str) -> Result<(), ImdnError> {
    if slot.replace(value).is_some() {
        return Err(not_imdn(&format!("more than one {name}")));
    }
    Ok(())
}

/// The trimmed text of an element that must not contain elements.
fn leaf_text(element: &XmlElement) -> Result<String, ImdnError> {
    if !element.children.is_empty() {
        return Err(not_imdn(&format!(
            "<{}> must contain text only",
            element.local_name
        )));
    }
    Ok(element
        .text
        .trim_matches([' ', '\t', '\r', '\n'])
        .to_owned())
}

/// `<delivery-notification><status><delivered/></status></...>`.
fn notification_kind(element: &XmlElement) -> Result<NotificationKind, ImdnError> {
    let status = single_imdn_child(element)?;
    if status.local_name != "status" {
        return Err(not_imdn(&format!(
            "<{}> must contain <status>",
            element.local_name
        )));
    }
    let value = single_imdn_child(status)?;
    if !value.children.iter().all(|c| !in_imdn_namespace(c)) || !is_blank(&value.text) {
        return Err(not_imdn("status value must be an empty element"));
    }
    NotificationKind::from_elements(&element.local_name, &value.local_name).ok_or_else(|| {
        not_imdn(&format!(
            "<{}> is not a status of <{}>",
            value.local_name, element.local_name
        ))
    })
}

/// The one child in the IMDN namespace, with no stray text around it.
fn single_imdn_child(element: &XmlElement) -> Result<&XmlElement, ImdnError> {
    let mut children = element.children.iter().filter(|c| in_imdn_namespace(c));
    match (children.next(), children.next()) {
        (Some(child), None) if is_blank(&element.text) => Ok(child),
        _ => Err(not_imdn(&format!(
            "<{}> must contain exactly one element",
            element.local_name
        ))),
    }
}

fn is_blank(text: &str) -> bool {
    text.trim_matches([' ', '\t', '\r', '\n']).is_empty()
}
