//! Reports that come back by mail (issue 10): delivery status
//! notifications (DSN, RFC 3464) and message disposition notifications
//! (MDN, RFC 8098), both carried in a `multipart/report` (RFC 6522). A
//! report is read into the few things the gateway acts on — which message
//! it is about, for whom, and what happened — and every field may be
//! missing: MTAs differ (Postfix, Exim, Sendmail, Gmail, Exchange) and
//! some leave out what the RFCs require.
//!
//! The message it is about is found by, in order: `Original-Envelope-Id`
//! (the `ENVID` the gateway gave), the `Original-Message-ID` of an MDN,
//! and the `Message-ID` in the returned headers (`text/rfc822-headers`
//! or `message/rfc822`).

use crate::mime::{self, NotAMail, ReceivedMail};

/// What a DSN says a recipient's delivery came to (RFC 3464 §2.3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Could not be delivered.
    Failed,
    /// Not yet delivered; still trying.
    Delayed,
    /// Delivered to the recipient's mailbox.
    Delivered,
    /// Handed on to a system that will not report (a relay).
    Relayed,
    /// Delivered and expanded to several recipients.
    Expanded,
    /// Anything else, lower case.
    Other(String),
}

/// One recipient's block of a DSN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientStatus {
    /// `Final-Recipient`, the address without its type (`rfc822;`).
    pub final_recipient: Option<String>,
    /// `Original-Recipient`, the same way.
    pub original_recipient: Option<String>,
    /// `Action`.
    pub action: Action,
    /// `Status`, e.g. `5.1.1`.
    pub status: Option<String>,
    /// `Diagnostic-Code`, with its type (`smtp; 550 …`).
    pub diagnostic: Option<String>,
}

/// A delivery status notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// `Original-Envelope-Id`: the ENVID of the mail it reports.
    pub original_envelope_id: Option<String>,
    /// `Reporting-MTA`, without its type.
    pub reporting_mta: Option<String>,
    /// The recipients' blocks, in order.
    pub recipients: Vec<RecipientStatus>,
    /// The `Message-ID` of the returned message or headers, without
    /// brackets.
    pub original_message_id: Option<String>,
}

/// What an MDN says the recipient did with the message (RFC 8098 §3.2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Shown to the recipient.
    Displayed,
    /// Deleted without being shown.
    Deleted,
    /// Sent somewhere else without being shown (printed, faxed, forwarded).
    Dispatched,
    /// Processed without being shown.
    Processed,
    /// Anything else (`denied`, `failed` and extensions), lower case.
    Other(String),
}

/// A message disposition notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispositionReport {
    /// `Original-Message-ID`, else the returned headers' `Message-ID`,
    /// without brackets.
    pub original_message_id: Option<String>,
    /// `Final-Recipient`, without its type.
    pub final_recipient: Option<String>,
    /// The disposition type of the `Disposition` field.
    pub disposition: Disposition,
    /// Whether the recipient's user agent acted by itself
    /// (`automatic-action` / `MDN-sent-automatically`).
    pub automatic: bool,
}

/// A report that came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// A DSN.
    Delivery(DeliveryReport),
    /// An MDN.
    Disposition(DispositionReport),
}

/// The report a mail is, or `None` for a mail that is not one (not a
/// `multipart/report`, or one without its machine-readable part).
pub fn parse(data: &[u8]) -> Result<Option<Report>, NotAMail> {
    let mail = mime::parse(data)?;
    Ok(read(&mail))
}

/// The `report-type` of the top-level `multipart/report`, lower case.
fn report_type(mail: &ReceivedMail) -> Option<String> {
    let content_type = mail
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("Content-Type"))?;
    let mut items = content_type.value.split(';');
    if !items
        .next()?
        .trim()
        .eq_ignore_ascii_case("multipart/report")
    {
        return None;
    }
    items.find_map(|item| {
        let (name, value) = item.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("report-type")
            .then(|| value.trim().trim_matches('"').to_ascii_lowercase())
    })
}

fn media_type(part: &mime::Part) -> &str {
    part.content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
}

fn read(mail: &ReceivedMail) -> Option<Report> {
    let kind = report_type(mail)?;
    let returned_id = mail
        .parts
        .iter()
        .find(|p| {
            matches!(
                media_type(p),
                "text/rfc822-headers"
                    | "message/rfc822"
                    | "message/global"
                    | "message/global-headers"
            )
        })
        .and_then(|p| message_id_in(&p.body));
    let machine = |types: &[&str]| {
        mail.parts
            .iter()
            .find(|p| types.contains(&media_type(p)))
            .map(|p| String::from_utf8_lossy(&p.body).into_owned())
    };
    match kind.as_str() {
        "delivery-status" => {
            let text = machine(&["message/delivery-status", "message/global-delivery-status"])?;
            Some(Report::Delivery(delivery(&text, returned_id)))
        }
        "disposition-notification" => {
            let text = machine(&[
                "message/disposition-notification",
                "message/global-disposition-notification",
            ])?;
            Some(Report::Disposition(disposition(&text, returned_id)))
        }
        _ => None,
    }
}

/// The field blocks of a report part (RFC 3464 §2.1: groups of header-like
/// fields separated by blank lines), names lower case, values unfolded.
fn blocks(text: &str) -> Vec<Vec<(String, String)>> {
    // Lines end in CRLF or LF; a CR alone ends nothing (RFC 5322 §2.3
    // forbids it) and becomes a space, so no value holds a line break.
    let text = text.replace("\r\n", "\n").replace('\r', " ");
    let mut all = Vec::new();
    let mut block: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !block.is_empty() {
                all.push(std::mem::take(&mut block));
            }
        } else if line.starts_with([' ', '\t']) {
            // A folded continuation of the field before.
            if let Some((_, value)) = block.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            block.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    if !block.is_empty() {
        all.push(block);
    }
    all
}

fn field<'a>(block: &'a [(String, String)], name: &str) -> Option<&'a str> {
    block
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// `rfc822; bob@example.org` → `bob@example.org` (the address type is
/// left out; one without a type is taken as it is).
fn without_type(value: &str) -> String {
    value
        .split_once(';')
        .map_or(value, |(_, address)| address)
        .trim()
        .trim_matches(['<', '>'])
        .to_string()
}

fn without_brackets(value: &str) -> String {
    value.trim().trim_matches(['<', '>']).trim().to_string()
}

fn delivery(text: &str, returned_id: Option<String>) -> DeliveryReport {
    let blocks = blocks(text);
    let per_message = blocks.first().map(Vec::as_slice).unwrap_or_default();
    let recipients = blocks
        .iter()
        .filter(|b| field(b, "final-recipient").is_some() || field(b, "action").is_some())
        .map(|b| RecipientStatus {
            final_recipient: field(b, "final-recipient").map(without_type),
            original_recipient: field(b, "original-recipient").map(without_type),
            action: match field(b, "action").map(str::to_ascii_lowercase).as_deref() {
                Some("failed") => Action::Failed,
                Some("delayed") => Action::Delayed,
                Some("delivered") => Action::Delivered,
                Some("relayed") => Action::Relayed,
                Some("expanded") => Action::Expanded,
                other => Action::Other(other.unwrap_or_default().to_string()),
            },
            // Some MTAs add a comment after the code: `5.1.1 (bad user)`.
            status: field(b, "status")
                .and_then(|s| s.split_whitespace().next())
                .map(str::to_string),
            diagnostic: field(b, "diagnostic-code").map(str::to_string),
        })
        .collect();
    DeliveryReport {
        original_envelope_id: field(per_message, "original-envelope-id").map(str::to_string),
        reporting_mta: field(per_message, "reporting-mta").map(without_type),
        recipients,
        original_message_id: returned_id,
    }
}

fn disposition(text: &str, returned_id: Option<String>) -> DispositionReport {
    let fields: Vec<(String, String)> = blocks(text).into_iter().flatten().collect();
    // RFC 8098 §3.2.6: `action-mode/sending-mode; type/modifiers`.
    let value = field(&fields, "disposition").unwrap_or_default();
    let (modes, kind) = value.split_once(';').unwrap_or(("", value));
    let kind = kind
        .split('/')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    DispositionReport {
        original_message_id: field(&fields, "original-message-id")
            .map(without_brackets)
            .or(returned_id),
        final_recipient: field(&fields, "final-recipient").map(without_type),
        disposition: match kind.as_str() {
            "displayed" => Disposition::Displayed,
            "deleted" => Disposition::Deleted,
            "dispatched" => Disposition::Dispatched,
            "processed" => Disposition::Processed,
            _ => Disposition::Other(kind),
        },
        automatic: modes.to_ascii_lowercase().contains("automatic-action"),
    }
}

/// The `Message-ID` in a returned header section or message.
fn message_id_in(returned: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(returned);
    let fields: Vec<(String, String)> = blocks(&text).into_iter().next()?;
    field(&fields, "message-id").map(without_brackets)
}

#[cfg(test)]
mod tests;
