//! Multipart bodies (RFC 2046 §5.1): split into their parts ([`split`]),
//! and written for the IM side ([`write_mixed`]: a content part and its
//! attachments, sent binary, since MSRP and SIP bodies are 8-bit clean and
//! need no transfer encoding).

/// The `boundary` parameter of a `Content-Type`, unquoted (RFC 2046
/// §5.1.1: 1 to 70 characters).
pub fn boundary(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (key, value) = p.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"'))
            .filter(|b| !b.is_empty() && b.len() <= 70)
    })
}

/// One part of a multipart body, as written: its header block (without
/// the empty line that ends it) and its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawPart<'a> {
    /// The header lines, CRLF-separated; empty when the part has none.
    pub head: &'a [u8],
    /// The body, transfer-encoded as the part's headers say.
    pub body: &'a [u8],
}

/// Why a multipart body cannot be split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed multipart body: {0}")]
pub struct SplitError(pub &'static str);

/// Splits a multipart body (RFC 2046 §5.1.1): the parts between
/// `--boundary` delimiter lines, up to the `--boundary--` close. The
/// preamble and the epilogue are not parts.
pub fn split<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<RawPart<'a>>, SplitError> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    // Positions of the delimiter lines: at the start, or after CRLF.
    let mut starts = Vec::new();
    let mut at = 0;
    while let Some(found) = memchr::memmem::find(&body[at..], delimiter) {
        let position = at + found;
        let line_start = position == 0 || body[..position].ends_with(b"\r\n");
        if line_start && ends_delimiter(&body[position + delimiter.len()..]) {
            starts.push(position);
        }
        at = position + delimiter.len();
    }
    let mut parts = Vec::new();
    for (i, &start) in starts.iter().enumerate() {
        let after = start + delimiter.len();
        if body[after..].starts_with(b"--") {
            return Ok(parts);
        }
        let Some(end) = starts.get(i + 1) else {
            return Err(SplitError("no close delimiter"));
        };
        // The delimiter line ends (transport padding allowed) in CRLF.
        let line_end = memchr::memmem::find(&body[after..*end], b"\r\n")
            .ok_or(SplitError("delimiter line without CRLF"))?;
        // The CRLF before the next delimiter is the delimiter's (RFC 2046
        // §5.1.1); when it is the one that ended this delimiter line, the
        // part is empty.
        let start = after + line_end + 2;
        let content = body.get(start..end - 2).unwrap_or_default();
        parts.push(raw_part(content)?);
    }
    Err(SplitError("no delimiter"))
}

/// Whether what follows `--boundary` makes it a delimiter line (RFC 2046
/// §5.1.1): the close's `--`, or transport padding (spaces and tabs) and
/// CRLF. `--b` is not a delimiter of boundary `b` in a line `--bc`.
fn ends_delimiter(rest: &[u8]) -> bool {
    if rest.starts_with(b"--") {
        return true;
    }
    let padding = rest
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    rest[padding..].starts_with(b"\r\n")
}

/// A part's header block and body: they end at the first empty line; a
/// part that starts with one has no headers (RFC 2046 §5.1.1).
fn raw_part(content: &[u8]) -> Result<RawPart<'_>, SplitError> {
    if content.starts_with(b"\r\n") {
        return Ok(RawPart {
            head: &content[..0],
            body: &content[2..],
        });
    }
    let end = memchr::memmem::find(content, b"\r\n\r\n")
        .ok_or(SplitError("a part has no end of headers"))?;
    Ok(RawPart {
        head: &content[..end],
        body: &content[end + 4..],
    })
}

/// One part to write.
#[derive(Debug, Clone, Copy)]
pub struct OutPart<'a> {
    /// Its `Content-Type` with parameters.
    pub content_type: &'a str,
    /// `attachment` / `inline`, if any.
    pub disposition: Option<&'a str>,
    /// The file name, if any (RFC 2231 encoded when it is not ASCII).
    pub filename: Option<&'a str>,
    /// `Content-ID` without angle brackets, if any.
    pub content_id: Option<&'a str>,
    /// The content.
    pub body: &'a [u8],
}

/// Why the parts cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultipartError {
    /// A header value holds CR, LF or another control character.
    #[error("the {0} of a part holds a control character")]
    Control(&'static str),
    /// The boundary occurs in a part's content.
    #[error("the boundary occurs in a part")]
    Boundary,
}

fn checked<'a>(what: &'static str, value: &'a str) -> Result<&'a str, MultipartError> {
    if value.chars().any(|c| c.is_control()) {
        return Err(MultipartError::Control(what));
    }
    Ok(value)
}

/// RFC 2231 §4 `filename*=utf-8''…` for a name that is not plain ASCII
/// (or holds a quote or backslash), `filename="…"` otherwise.
fn filename_parameter(name: &str) -> String {
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\' || b == b' ');
    if plain {
        return format!("filename=\"{name}\"");
    }
    let mut out = String::from("filename*=utf-8''");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `Content-Type` of the body [`write_mixed`] writes with `boundary`.
pub fn mixed_content_type(boundary: &str) -> String {
    format!("multipart/mixed; boundary=\"{boundary}\"")
}

/// Writes a part's header fields (`Content-Type`, `Content-Disposition`
/// with the file name, `Content-ID`, `Content-Language`) and the empty line
/// that ends them; not its body.
pub fn write_part_head(
    part: &OutPart<'_>,
    language: Option<&str>,
    out: &mut Vec<u8>,
) -> Result<(), MultipartError> {
    out.extend_from_slice(b"Content-Type: ");
    out.extend_from_slice(checked("Content-Type", part.content_type)?.as_bytes());
    out.extend_from_slice(b"\r\n");
    if part.disposition.is_some() || part.filename.is_some() {
        let disposition = checked("disposition", part.disposition.unwrap_or("attachment"))?;
        out.extend_from_slice(b"Content-Disposition: ");
        out.extend_from_slice(disposition.as_bytes());
        if let Some(name) = part.filename {
            out.extend_from_slice(b"; ");
            out.extend_from_slice(filename_parameter(checked("file name", name)?).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }
    if let Some(id) = part.content_id {
        out.extend_from_slice(b"Content-ID: <");
        out.extend_from_slice(checked("Content-ID", id)?.as_bytes());
        out.extend_from_slice(b">\r\n");
    }
    if let Some(language) = language {
        out.extend_from_slice(b"Content-Language: ");
        out.extend_from_slice(checked("Content-Language", language)?.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// Writes `parts` as a `multipart/mixed` body with `boundary` (1 to 70
/// characters that occur in no part, RFC 2046 §5.1.1).
pub fn write_mixed(
    parts: &[OutPart<'_>],
    boundary: &str,
    out: &mut Vec<u8>,
) -> Result<(), MultipartError> {
    let delimiter = format!("--{boundary}");
    if parts
        .iter()
        .any(|p| memchr::memmem::find(p.body, delimiter.as_bytes()).is_some())
    {
        return Err(MultipartError::Boundary);
    }
    for part in parts {
        out.extend_from_slice(delimiter.as_bytes());
        out.extend_from_slice(b"\r\n");
        write_part_head(part, None, out)?;
        out.extend_from_slice(part.body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(delimiter.as_bytes());
    out.extend_from_slice(b"--\r\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_parts_that_a_mail_parser_reads_back() {
        let png = [0x89, b'P', b'N', b'G', 0, 0xff, b'\r', b'\n'];
        let parts = [
            OutPart {
                content_type: "text/plain;charset=utf-8",
                disposition: None,
                filename: None,
                content_id: None,
                body: "Grüße".as_bytes(),
            },
            OutPart {
                content_type: "image/png",
                disposition: Some("attachment"),
                filename: Some("photo ä.png"),
                content_id: Some("img1@example.test"),
                body: &png,
            },
        ];
        let mut body = Vec::new();
        write_mixed(&parts, "b0undary", &mut body).unwrap();
        let mut mail =
            format!("Content-Type: {}\r\n\r\n", mixed_content_type("b0undary")).into_bytes();
        mail.extend_from_slice(&body);
        let read = crate::mime::parse(&mail).unwrap();
        assert_eq!(read.parts.len(), 2);
        assert_eq!(read.parts[0].body, "Grüße".as_bytes());
        assert_eq!(read.parts[1].body, png);
        assert_eq!(read.parts[1].filename.as_deref(), Some("photo ä.png"));
        assert_eq!(
            read.parts[1].content_id.as_deref(),
            Some("img1@example.test")
        );
        assert!(body.ends_with(b"--b0undary--\r\n"));
    }

    #[test]
    fn refuses_a_boundary_inside_a_part_and_control_characters() {
        let part = |body: &'static [u8], ct: &'static str| OutPart {
            content_type: ct,
            disposition: None,
            filename: None,
            content_id: None,
            body,
        };
        let mut out = Vec::new();
        assert_eq!(
            write_mixed(&[part(b"x\r\n--b\r\n", "text/plain")], "b", &mut out),
            Err(MultipartError::Boundary)
        );
        assert_eq!(
            write_mixed(&[part(b"x", "text/plain\r\nX: y")], "b", &mut out),
            Err(MultipartError::Control("Content-Type"))
        );
    }
}
