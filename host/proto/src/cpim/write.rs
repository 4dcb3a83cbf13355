//! Writing a `message/cpim` body (RFC 3862 §2).

use super::header::check_header;
use super::parse::is_field_name;
use super::{CpimError, CpimMessage};

/// Appends the wire form of `message` to `out`, with CRLF line ends.
///
/// Security rule: a value must never create a new header line, so every
/// header is checked first and a value holding CR or LF is **refused**
/// ([`CpimError::LineBreakInValue`]); nothing is escaped silently. To carry
/// free text that may contain line breaks, build the header with
/// [`super::CpimHeader::text`] (RFC 3862 §2.3 escapes) or
/// [`super::format_address`] (quoted display name). On error `out` is left
/// untouched.
pub fn write(message: &CpimMessage, out: &mut Vec<u8>) -> Result<(), CpimError> {
    for header in &message.headers {
        check_header(header)?;
    }
    for (name, value) in &message.content_headers {
        check_content_header(name, value)?;
    }

    for header in &message.headers {
        out.extend_from_slice(header.full_name().as_bytes());
        out.push(b':');
        if let Some(params) = &header.params {
            out.extend_from_slice(params.as_bytes());
        }
        out.push(b' ');
        out.extend_from_slice(header.value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    for (name, value) in &message.content_headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&message.body);
    Ok(())
}

fn check_content_header(name: &str, value: &str) -> Result<(), CpimError> {
    if !is_field_name(name) {
        return Err(CpimError::InvalidHeader {
            header: name.to_owned(),
            reason: "content header name must be printable ASCII without ':'".to_owned(),
        });
    }
    if value.contains(['\r', '\n']) {
        return Err(CpimError::LineBreakInValue {
            header: name.to_owned(),
        });
    }
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(CpimError::InvalidHeader {
            header: name.to_owned(),
            reason: "value contains a control character".to_owned(),
        });
    }
    Ok(())
}
