//! A received mail (RFC 5322, MIME RFC 2045–2049) read into what the
//! e-mail → IM direction needs: header values decoded (RFC 2047 encoded
//! words, any charset), leaf parts transfer-decoded, text turned into UTF-8.
//! The parsing itself is Stalwart's `mail-parser`; this module decides what
//! is kept and guarantees the shape: no CR, LF or other control character
//! in a header value, a lower-case media type on every part.

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};

pub mod entity;
pub mod multipart;

/// The media type of a `Content-Type` value, lower case, without its
/// parameters: `Text/Plain; charset=utf-8` → `text/plain`.
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

use crate::dates::Timestamp;

/// Why the bytes are not a mail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the message cannot be parsed as RFC 5322")]
pub struct NotAMail;

/// A header as the plugins see it: decoded, unfolded, one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The field name as written.
    pub name: String,
    /// The decoded value, without control characters.
    pub value: String,
}

/// One leaf part of the message, in the order of the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// `type/subtype` in lower case with the parameters other than
    /// `charset`; text parts end in `; charset=utf-8` (they were converted).
    pub content_type: String,
    /// `inline` / `attachment`, lower case, when the part said.
    pub disposition: Option<String>,
    /// The file name (`filename` or `name`, RFC 2231 decoded).
    pub filename: Option<String>,
    /// `Content-ID` without its angle brackets (RFC 2392), if any.
    pub content_id: Option<String>,
    /// The decoded content; for text, UTF-8. A nested `message/rfc822`
    /// is kept whole, as its raw bytes.
    pub body: Vec<u8>,
}

/// A received mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// Every header of the top-level message, in order.
    pub headers: Vec<Header>,
    /// `Date:`, when it can be read.
    pub date: Option<Timestamp>,
    /// The leaf parts (multipart containers are not parts themselves).
    pub parts: Vec<Part>,
}

fn addresses(address: &Address<'_>) -> String {
    address
        .iter()
        .map(|a| match (&a.name, &a.address) {
            (Some(name), Some(addr)) => format!("\"{}\" <{addr}>", name.replace('"', "'")),
            (None, Some(addr)) => format!("<{addr}>"),
            (Some(name), None) => name.to_string(),
            (None, None) => String::new(),
        })
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// RFC 2045 §5.1 `token`: US-ASCII without space, controls or tspecials.
pub(crate) fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b))
}

/// `type/subtype` in lower case with the parameters other than `charset`,
/// or `None` when the header is not one (RFC 2045 §5.2 then has the part
/// read as the default type).
fn content_type_text(ct: &mail_parser::ContentType<'_>) -> Option<String> {
    let (ctype, subtype) = (ct.ctype(), ct.subtype()?);
    if !is_token(ctype) || !is_token(subtype) {
        return None;
    }
    let mut text = format!("{ctype}/{subtype}").to_ascii_lowercase();
    for attr in ct.attributes().unwrap_or_default() {
        if is_token(&attr.name) && !attr.name.eq_ignore_ascii_case("charset") {
            let value = one_line(&attr.value).replace(['"', '\\'], "");
            text.push_str(&format!("; {}=\"{value}\"", attr.name));
        }
    }
    Some(text)
}

/// A line break (CR, LF, or a fold: the break and the white space after it,
/// which mail-parser leaves in some values, and which an encoded word such
/// as `=?utf-8?q?a=0D=0Ab?=` decodes to) becomes one space, a TAB a space,
/// and other control characters are dropped: a header value goes on into
/// SIP and CPIM header lines, where a line break would end the header and a
/// NUL is refused.
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' | '\n' => {
                while chars
                    .next_if(|c| matches!(c, '\r' | '\n' | ' ' | '\t'))
                    .is_some()
                {}
                out.push(' ');
            }
            '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Reads `data`, the message as DATA delivered it (dot-unstuffed).
///
/// A panic inside mail-parser is contained and reported as [`NotAMail`]:
/// mail-parser 0.11.9 reaches a `debug_assert!(false)` on some multipart
/// shapes (message.rs:485, found by the `mime` fuzz target, input in
/// `fuzz/crashes/mime/`); a release build goes on past it, a debug build
/// would panic in the middle of an SMTP session.
pub fn parse(data: &[u8]) -> Result<ReceivedMail, NotAMail> {
    std::panic::catch_unwind(|| read(data)).unwrap_or(Err(NotAMail))
}

fn read(data: &[u8]) -> Result<ReceivedMail, NotAMail> {
    let message = MessageParser::default().parse(data).ok_or(NotAMail)?;
    let mut headers = Vec::new();
    for header in message.headers() {
        let value = match &header.value {
            HeaderValue::Text(text) => text.to_string(),
            HeaderValue::TextList(list) => list.join(", "),
            HeaderValue::Address(address) => addresses(address),
            HeaderValue::DateTime(date) => date.to_rfc822(),
            // Raw text for everything else (Received, Content-*, unknown).
            // Unfolded: white space runs become one space.
            _ => String::from_utf8_lossy(
                data.get(header.offset_start as usize..header.offset_end as usize)
                    .unwrap_or_default(),
            )
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        };
        headers.push(Header {
            name: one_line(header.name.as_str()),
            value: one_line(&value),
        });
    }
    let date = message.date().map(|d| {
        let offset = i16::from(d.tz_hour) * 60 + i16::from(d.tz_minute);
        Timestamp {
            unix_seconds: d.to_timestamp(),
            offset_minutes: if d.tz_before_gmt { -offset } else { offset },
        }
    });
    let mut parts = Vec::new();
    for part in &message.parts {
        // A missing or invalid Content-Type is the RFC 2045 §5.2 default,
        // text/plain, for a part mail-parser read as text; anything else
        // is opaque data.
        let declared = part.content_type().and_then(content_type_text);
        let content_type = declared.unwrap_or_else(|| match &part.body {
            PartType::Text(_) => "text/plain".to_string(),
            PartType::Html(_) => "text/html".to_string(),
            _ => "application/octet-stream".to_string(),
        });
        let disposition = part
            .content_disposition()
            .map(|d| one_line(&d.ctype().to_ascii_lowercase()));
        let filename = part.attachment_name().map(one_line);
        let content_id = part
            .content_id()
            .map(|id| one_line(id.trim().trim_start_matches('<').trim_end_matches('>')));
        let (content_type, body) = match &part.body {
            PartType::Multipart(_) => continue,
            // mail-parser has decoded the charset: the text is UTF-8 now.
            PartType::Text(text) => (
                format!("{content_type}; charset=utf-8"),
                text.as_bytes().to_vec(),
            ),
            PartType::Html(html) => (
                format!("{content_type}; charset=utf-8"),
                html.as_bytes().to_vec(),
            ),
            PartType::Binary(bytes) | PartType::InlineBinary(bytes) => {
                (content_type, bytes.to_vec())
            }
            PartType::Message(inner) => {
                ("message/rfc822".to_string(), inner.raw_message().to_vec())
            }
        };
        parts.push(Part {
            content_type,
            disposition,
            filename,
            content_id,
            body,
        });
    }
    Ok(ReceivedMail {
        headers,
        date,
        parts,
    })
}

#[cfg(test)]
mod tests;
