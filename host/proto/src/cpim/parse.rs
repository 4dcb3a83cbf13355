//! Reading a `message/cpim` body (RFC 3862 §2).

use super::header::parse_header_line;
use super::{CpimError, CpimMessage};

/// Reads a complete `message/cpim` body: message headers, a blank line,
/// the encapsulated object's MIME headers, a blank line, then the body,
/// kept byte for byte.
///
/// Lines may end in CRLF or, leniently, in a bare LF; a bare CR inside the
/// header sections is refused. `Content-Length` is not checked: the body is
/// everything after the second blank line, because the outer protocol (SIP,
/// MSRP) already delimits the whole CPIM body.
pub fn parse(input: &[u8]) -> Result<CpimMessage, CpimError> {
    let mut lines = Lines::new(input);

    let mut headers = Vec::new();
    loop {
        let (line_number, line) = lines.next_header_line("message headers")?;
        if line.is_empty() {
            break;
        }
        headers.push(parse_header_line(line, line_number)?);
    }

    let mut content_headers: Vec<(String, String)> = Vec::new();
    loop {
        let (line_number, line) = lines.next_header_line("content headers")?;
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            // RFC 5322 §2.2.3 unfolding: drop the line break, keep the WSP.
            let (_, value) = content_headers
                .last_mut()
                .ok_or(CpimError::MalformedHeader {
                    line: line_number,
                    reason: "continuation line without a header before it".to_owned(),
                })?;
            value.push_str(line);
            continue;
        }
        content_headers.push(parse_content_header(line, line_number)?);
    }

    Ok(CpimMessage {
        headers,
        content_headers,
        body: lines.rest().to_vec(),
    })
}

/// A MIME header of the encapsulated object (RFC 5322 §2.2, RFC 2045 §3).
fn parse_content_header(line: &str, line_number: usize) -> Result<(String, String), CpimError> {
    let (name, value) = line
        .split_once(':')
        .ok_or(CpimError::HeaderWithoutColon { line: line_number })?;
    if !is_field_name(name) {
        return Err(CpimError::MalformedHeader {
            line: line_number,
            reason: "content header name must be printable ASCII without ':' or spaces".to_owned(),
        });
    }
    // The one space after the colon belongs to the syntax, not the value,
    // mirroring the message headers so both round-trip the same way.
    let value = value.strip_prefix(' ').unwrap_or(value);
    Ok((name.to_owned(), value.to_owned()))
}

/// RFC 5322 §3.6.8 `field-name` = 1*ftext (printable US-ASCII except ':').
pub(crate) fn is_field_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
}

/// Splits the header sections into lines while remembering where the body
/// starts.
struct Lines<'a> {
    input: &'a [u8],
    position: usize,
    line_number: usize,
}

impl<'a> Lines<'a> {
    fn new(input: &'a [u8]) -> Self {
        Self {
            input,
            position: 0,
            line_number: 0,
        }
    }

    /// The next complete line of a header section, checked for UTF-8 and
    /// control characters other than TAB.
    fn next_header_line(&mut self, section: &'static str) -> Result<(usize, &'a str), CpimError> {
        let rest = &self.input[self.position..];
        let Some(newline) = rest.iter().position(|&b| b == b'\n') else {
            // A section that runs to the end of the input never met its
            // terminating blank line.
            return Err(CpimError::MissingBlankLine { section });
        };
        self.position += newline + 1;
        self.line_number += 1;
        let line = &rest[..newline];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line_number = self.line_number;
        if line.contains(&b'\r') {
            return Err(CpimError::BareCarriageReturn { line: line_number });
        }
        let text =
            std::str::from_utf8(line).map_err(|_| CpimError::NotUtf8 { line: line_number })?;
        if text.chars().any(|c| c.is_control() && c != '\t') {
            return Err(CpimError::MalformedHeader {
                line: line_number,
                reason: "control character in header line".to_owned(),
            });
        }
        Ok((line_number, text))
    }

    fn rest(&self) -> &'a [u8] {
        &self.input[self.position..]
    }
}
