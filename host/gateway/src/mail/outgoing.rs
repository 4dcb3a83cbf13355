//! The mail made from an IM: the conversion plugin chose the header values
//! and content; this writes them as RFC 5322 / MIME (RFC 2045–2047) with
//! mail-builder, adding what the host owns (Message-ID, Date, MIME).

use std::borrow::Cow;

use mail_builder::MessageBuilder;
use mail_builder::headers::HeaderType;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;
use mail_builder::mime::{BodyPart, MimePart};

use interwork_plugin_host::bindings::types::{DsnNotify, EmailMessage, MailPart, Timestamp};
use interwork_proto::dates;
use interwork_proto::mime::entity::{self, Body, Entity};
use interwork_proto::mime::media_type;

/// A mail ready for SMTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// `MAIL FROM`, without angle brackets.
    pub envelope_from: String,
    /// `RCPT TO`s, without angle brackets.
    pub envelope_to: Vec<String>,
    /// DSN the conversion plugin asked for (RFC 3461 `NOTIFY=`).
    pub dsn_notify: DsnNotify,
    /// The envelope identifier sent as `ENVID=` with a DSN request
    /// (RFC 3461 §4.4), returned in the DSN as `Original-Envelope-Id`: at
    /// most 100 characters in xtext form (a longer one is not sent);
    /// `None` for none.
    pub envid: Option<String>,
    /// Without angle brackets.
    pub message_id: String,
    /// The message, RFC 5322 with CRLF line ends. Short UTF-8 text goes
    /// as `8bit` (RFC 6152), readable in any mail client's source view.
    pub bytes: Vec<u8>,
    /// The same message with every part in 7 bits (quoted-printable or
    /// base64, whichever mail-builder finds shorter), for a server that
    /// does not offer 8BITMIME; `None` when `bytes` is 7-bit already.
    pub seven_bit: Option<Vec<u8>>,
}

/// Why a plugin's mail cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// A header name the plugin gave is not an RFC 5322 field name.
    #[error("header name {0:?} is not a valid RFC 5322 field name")]
    HeaderName(String),
    /// An address header whose value is not a list of addresses.
    #[error("{name}: {value:?} is not a list of e-mail addresses")]
    Address {
        /// The header.
        name: String,
        /// Its value.
        value: String,
    },
    /// The envelope has no recipient.
    #[error("the mail has no recipient")]
    NoRecipient,
    /// A `multipart/*` part whose body is not one.
    #[error("a multipart part cannot be read: {0}")]
    Multipart(String),
    /// mail-builder refused.
    #[error("cannot write the mail: {0}")]
    Write(String),
}

/// Headers whose value is a list of mailboxes (RFC 5322 §3.6.2, §3.6.3;
/// RFC 8098 §2.1), written with mail-builder's address encoder.
const ADDRESS_HEADERS: &[&str] = &[
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Disposition-Notification-To",
];

/// Headers the host writes itself; a plugin's values for them are dropped.
fn host_owned(name: &str) -> bool {
    ["Date", "Message-ID", "MIME-Version", "Bcc", "Received"]
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name))
        || name.to_ascii_lowercase().starts_with("content-")
}

/// RFC 5322 §2.2: printable US-ASCII except colon.
fn valid_field_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| (33..=126).contains(&b) && b != b':')
}

/// A value from the IM side must never start a new header line: CR and LF
/// become spaces before anything else looks at the value.
fn one_line(value: &str) -> Cow<'_, str> {
    if value.contains(['\r', '\n']) {
        Cow::Owned(value.replace(['\r', '\n'], " "))
    } else {
        Cow::Borrowed(value)
    }
}

/// `Name <a@b>`, `<a@b>`, `a@b`, comma-separated.
fn parse_addresses(name: &str, value: &str) -> Result<Address<'static>, MailError> {
    let bad = || MailError::Address {
        name: name.to_string(),
        value: value.to_string(),
    };
    let mut list = Vec::new();
    for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (display, address) = match (item.rfind('<'), item.rfind('>')) {
            (Some(open), Some(close)) if open < close => {
                let display = item[..open].trim().trim_matches('"').trim();
                (
                    (!display.is_empty()).then(|| display.to_string()),
                    item[open + 1..close].trim(),
                )
            }
            (None, None) => (None, item),
            _ => return Err(bad()),
        };
        let valid = address
            .rsplit_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
            && !address.contains(|c: char| c.is_whitespace() || c == '<' || c == '>');
        if !valid {
            return Err(bad());
        }
        list.push(Address::new_address(display, address.to_string()));
    }
    match list.len() {
        0 => Err(bad()),
        1 => Ok(list.remove(0)),
        _ => Ok(Address::new_list(list)),
    }
}

/// `type/subtype; a=b; c="d"` → mail-builder's content type.
fn content_type(text: &str) -> ContentType<'static> {
    let mut parts = text.split(';');
    let mut ct = ContentType::new(
        parts
            .next()
            .unwrap_or("application/octet-stream")
            .trim()
            .to_ascii_lowercase(),
    );
    for param in parts {
        if let Some((k, v)) = param.split_once('=') {
            ct = ct.attribute(
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_string(),
            );
        }
    }
    ct
}

/// Text up to this size goes as `8bit` when it is not ASCII: a short
/// message stays readable, and the 7-bit copy kept for servers without
/// 8BITMIME costs little. Longer text is encoded as mail-builder chooses.
const EIGHT_BIT_MAX: usize = 64 * 1024;

/// RFC 5322 §2.1.1: a line is at most 998 octets without its CRLF.
const MAX_LINE: usize = 998;

/// The text with CRLF line ends, when it can go as `8bit` (RFC 2045 §2.8:
/// lines of at most 998 octets, no NUL, CR and LF only as CRLF).
fn as_eight_bit(text: &str) -> Option<String> {
    if text.is_ascii() || text.len() > EIGHT_BIT_MAX || text.contains('\0') {
        return None;
    }
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    if normalized.split('\n').any(|line| line.len() > MAX_LINE) {
        return None;
    }
    Some(normalized.replace('\n', "\r\n"))
}

/// How the text parts of a mail are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transfer {
    /// Short non-ASCII text as `8bit`.
    EightBit,
    /// Everything in 7 bits.
    SevenBit,
}

/// One part of the plugin's mail. A `multipart/*` part (the canonical form
/// an IM's multipart content comes in, `interwork_proto::mime::entity`) is
/// written as the same tree: each multipart with its type and parameters,
/// each leaf with its file name, Content-ID and language, encoded for mail.
fn mime_part(part: &MailPart, transfer: Transfer) -> Result<MimePart<'static>, MailError> {
    if media_type(&part.content_type).starts_with("multipart/") {
        let entity = entity::parse(&part.content_type, &part.body)
            .map_err(|e| MailError::Multipart(e.to_string()))?;
        return Ok(entity_part(&entity, transfer));
    }
    Ok(leaf_part(
        &Leaf {
            content_type: &part.content_type,
            disposition: part.disposition.as_deref(),
            filename: part.filename.as_deref(),
            content_id: part.content_id.as_deref(),
            language: None,
            body: &part.body,
        },
        transfer,
    ))
}

fn entity_part(entity: &Entity, transfer: Transfer) -> MimePart<'static> {
    match &entity.body {
        Body::Leaf(body) => leaf_part(
            &Leaf {
                content_type: &entity.content_type,
                disposition: entity.disposition.as_deref(),
                filename: entity.filename.as_deref(),
                content_id: entity.content_id.as_deref(),
                language: entity.language.as_deref(),
                body,
            },
            transfer,
        ),
        Body::Parts(parts) => {
            let children = parts.iter().map(|p| entity_part(p, transfer)).collect();
            let mime = MimePart::new(
                content_type(&entity.content_type),
                BodyPart::Multipart(children),
            );
            match &entity.content_id {
                // RFC 2387 §3.2: a related part may itself be referred to.
                Some(id) => mime.cid(one_line(id).into_owned()),
                None => mime,
            }
        }
    }
}

/// A leaf part to write: a plugin's part or a leaf of a multipart one.
struct Leaf<'a> {
    content_type: &'a str,
    disposition: Option<&'a str>,
    filename: Option<&'a str>,
    content_id: Option<&'a str>,
    language: Option<&'a str>,
    body: &'a [u8],
}

fn leaf_part(part: &Leaf<'_>, transfer: Transfer) -> MimePart<'static> {
    let ct = content_type(part.content_type);
    let charset_utf8 = ct.attributes.iter().all(|(k, v)| {
        k != "charset" || v.eq_ignore_ascii_case("utf-8") || v.eq_ignore_ascii_case("us-ascii")
    });
    // Text that is UTF-8 goes as text: 8bit when short and allowed, else
    // 7bit / quoted-printable / base64 as mail-builder sees fit; anything
    // else as bytes (base64).
    let text = std::str::from_utf8(part.body)
        .ok()
        .filter(|_| ct.is_text() && charset_utf8);
    let eight_bit = text
        .filter(|_| transfer == Transfer::EightBit)
        .and_then(as_eight_bit);
    let mut mime = match (eight_bit, text) {
        (Some(eight_bit), _) => {
            MimePart::new(ct, BodyPart::Text(eight_bit.into())).transfer_encoding("8bit")
        }
        (None, Some(text)) => MimePart::new(ct, BodyPart::Text(text.to_string().into())),
        (None, None) => MimePart::new(ct, BodyPart::Binary(part.body.to_vec().into())),
    };
    mime = match (part.disposition, part.filename) {
        // An inline image keeps its name: RFC 2183 §2.3 allows it.
        (Some("inline"), Some(name)) => mime.header(
            "Content-Disposition",
            ContentType::new("inline").attribute("filename", one_line(name).into_owned()),
        ),
        (_, Some(name)) => mime.attachment(one_line(name).into_owned()),
        (Some("inline"), None) => mime.inline(),
        _ => mime,
    };
    // RFC 2392: what `cid:` URLs of the content point at.
    if let Some(id) = part.content_id {
        mime = mime.cid(one_line(id).into_owned());
    }
    if let Some(language) = part.language {
        mime = mime.language(one_line(language).into_owned());
    }
    mime
}

/// The `Date` value (RFC 5322 §3.3) of a timestamp, in its own zone; a
/// date that cannot be written (years past 9999) becomes the gateway's now.
pub(super) fn rfc5322_date(date: &Timestamp, now: &Timestamp) -> String {
    let as_time = |t: &Timestamp| dates::Timestamp {
        unix_seconds: t.unix_seconds,
        offset_minutes: t.offset_minutes,
    };
    dates::format_rfc5322(&as_time(date))
        .or_else(|_| dates::format_rfc5322(&as_time(now)))
        .unwrap_or_else(|_| "Thu, 1 Jan 1970 00:00:00 +0000".to_string())
}

/// A Message-ID unique to this gateway, at its host name (RFC 5322 §3.6.4).
pub(super) fn new_message_id(hostname: &str, now: &Timestamp) -> String {
    format!("{:x}.{}@{hostname}", now.unix_seconds, crate::ids::token())
}

/// The gateway's trace field (RFC 5321 §4.4) on a mail it made from an IM
/// that came from `from` (the IM system's domain): a mail that loops back
/// to a mail system is counted like any other hop.
fn received(from: &str, hostname: &str, message_id: &str, now: &Timestamp) -> String {
    let from = if from.is_empty() { "unknown" } else { from };
    format!(
        "from {from} by {hostname} with SIP id <{message_id}>; {}",
        rfc5322_date(now, now)
    )
}

/// Writes the mail a conversion plugin returned for an IM from the IM
/// system of `im_domain`.
pub fn build(
    mail: &EmailMessage,
    hostname: &str,
    im_domain: &str,
    now: Timestamp,
) -> Result<OutgoingMail, MailError> {
    if mail.envelope_to.is_empty() {
        return Err(MailError::NoRecipient);
    }
    let message_id = new_message_id(hostname, &now);
    let date = mail.date.unwrap_or(now);
    let trace = received(one_line(im_domain).as_ref(), hostname, &message_id, &now);
    let mut builder = MessageBuilder::new()
        .header("Received", HeaderType::Raw(Raw::new(trace)))
        .header("Date", HeaderType::Raw(Raw::new(rfc5322_date(&date, &now))))
        .message_id(message_id.clone());
    for header in &mail.headers {
        let name = header.name.trim();
        if !valid_field_name(name) {
            return Err(MailError::HeaderName(name.to_string()));
        }
        if host_owned(name) {
            tracing::warn!(
                header = name,
                "the conversion plugin set a header the host owns; ignored"
            );
            continue;
        }
        let value = one_line(&header.value);
        let canonical = ADDRESS_HEADERS
            .iter()
            .find(|h| h.eq_ignore_ascii_case(name));
        builder = match canonical {
            Some(&address_header) => builder.header(
                address_header,
                HeaderType::Address(parse_addresses(address_header, &value)?),
            ),
            None => builder.header(
                name.to_string(),
                HeaderType::Text(Text::new(value.into_owned())),
            ),
        };
    }
    let write = |transfer| {
        let body = match mail.body.as_slice() {
            [] => MimePart::new(ContentType::new("text/plain"), BodyPart::Text("".into())),
            [one] => mime_part(one, transfer)?,
            many => MimePart::new(
                ContentType::new("multipart/mixed"),
                BodyPart::Multipart(
                    many.iter()
                        .map(|p| mime_part(p, transfer))
                        .collect::<Result<_, _>>()?,
                ),
            ),
        };
        builder
            .clone()
            .body(body)
            .write_to_vec()
            .map_err(|e| MailError::Write(e.to_string()))
    };
    let bytes = write(Transfer::EightBit)?;
    let seven_bit = if bytes.is_ascii() {
        None
    } else {
        Some(write(Transfer::SevenBit)?)
    };
    Ok(OutgoingMail {
        envelope_from: mail.envelope_from.clone(),
        envelope_to: mail.envelope_to.clone(),
        dsn_notify: mail.dsn_notify,
        envid: None,
        message_id,
        bytes,
        seven_bit,
    })
}

#[cfg(test)]
mod tests;
