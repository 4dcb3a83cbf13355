//! A server's reply as the client reads it (RFC 5321 §4.2), with its
//! enhanced status code (RFC 3463, carried as RFC 2034 says), parsed
//! incrementally and within bounds a hostile server cannot stretch.

use std::fmt;

/// The longest reply line taken, CRLF included. RFC 5321 §4.5.3.1.5 says
/// 512 octets; real servers stay below that, some long EHLO keywords (AUTH
/// lists) come near it.
pub const MAX_LINE: usize = 2048;

/// The most lines one reply may have. An EHLO reply of a big provider has
/// about 15.
pub const MAX_LINES: usize = 64;

/// Why bytes from the server are not a reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// A line does not start with a reply code (three digits, the first
    /// 2 to 5) and a space, hyphen or line end (RFC 5321 §4.2).
    #[error("not an SMTP reply line: {0:?}")]
    Syntax(String),
    /// The lines of one multi-line reply carry different codes
    /// (RFC 5321 §4.2.1 wants the same code on each).
    #[error("reply lines with codes {0} and {1}")]
    MixedCodes(u16, u16),
    /// A line longer than [`MAX_LINE`].
    #[error("reply line longer than {MAX_LINE} octets")]
    LineTooLong,
    /// More than [`MAX_LINES`] lines.
    #[error("reply of more than {MAX_LINES} lines")]
    TooManyLines,
}

/// An enhanced status code `class.subject.detail` (RFC 3463 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnhancedCode {
    /// 2 (success), 4 (persistent transient failure), 5 (permanent).
    pub class: u8,
    /// 0 to 999.
    pub subject: u16,
    /// 0 to 999.
    pub detail: u16,
}

impl EnhancedCode {
    /// Reads `class.subject.detail` (RFC 3463 §2: class 2, 4 or 5, subject
    /// and detail one to three digits).
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('.');
        let class = match parts.next()? {
            "2" => 2,
            "4" => 4,
            "5" => 5,
            _ => return None,
        };
        let number = |part: Option<&str>| -> Option<u16> {
            let part = part?;
            if (1..=3).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        let subject = number(parts.next())?;
        let detail = number(parts.next())?;
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            class,
            subject,
            detail,
        })
    }
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// One reply: its code, the enhanced status code when the first line
/// starts with one, and the text of each line without the code (and
/// without the enhanced code where a line repeats it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The basic reply code (RFC 5321 §4.2.3), 200 to 599.
    pub code: u16,
    /// RFC 2034 §4: the enhanced code leads the text of every line.
    pub enhanced: Option<EnhancedCode>,
    /// The text of each line (invalid UTF-8 replaced), at least one.
    pub lines: Vec<String>,
}

impl Response {
    /// 2xx.
    pub fn is_positive_completion(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// 3xx (354 to DATA).
    pub fn is_intermediate(&self) -> bool {
        (300..400).contains(&self.code)
    }

    /// 4xx: the same command may work later.
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// 5xx.
    pub fn is_permanent(&self) -> bool {
        self.code >= 500
    }

    /// The lines' text joined by spaces, with the enhanced code in front:
    /// `2.0.0 Ok: queued as 4F1B`.
    pub fn text(&self) -> String {
        let mut text = self.enhanced.map(|e| e.to_string()).unwrap_or_default();
        for line in &self.lines {
            if !text.is_empty() && !line.is_empty() {
                text.push(' ');
            }
            text.push_str(line);
        }
        text
    }
}

impl fmt::Display for Response {
    /// `550 5.1.1 User unknown`: the code and [`Response::text`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.text();
        if text.is_empty() {
            write!(f, "{}", self.code)
        } else {
            write!(f, "{} {text}", self.code)
        }
    }
}

/// Reads one reply from the start of `bytes`: `Ok(None)` while its last
/// line (`code SP text CRLF`, after any `code - text CRLF`) has not
/// arrived, otherwise the reply and the number of bytes it took. A bare LF
/// ends a line too (some servers send it). Stateless: the caller keeps
/// the bytes and calls again with more; the bounds make each call cost at
/// most `MAX_LINES × MAX_LINE` octets of scanning.
pub fn parse(bytes: &[u8]) -> Result<Option<(Response, usize)>, ReplyError> {
    let mut code = None;
    let mut lines: Vec<&[u8]> = Vec::new();
    let mut at = 0;
    loop {
        let rest = &bytes[at..];
        let Some(lf) = rest.iter().take(MAX_LINE).position(|&b| b == b'\n') else {
            // Check what has arrived of the line so far, so a server that
            // sends no reply code learns so before we read more.
            if rest.len() >= MAX_LINE {
                return Err(ReplyError::LineTooLong);
            }
            line_code(rest.strip_suffix(b"\r").unwrap_or(rest), true)?;
            return Ok(None);
        };
        let line = &rest[..lf];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        at += lf + 1;
        let (this_code, last) = line_code(line, false)?
            .ok_or_else(|| ReplyError::Syntax(String::from_utf8_lossy(line).into()))?;
        match code {
            None => code = Some(this_code),
            Some(first) if first != this_code => {
                return Err(ReplyError::MixedCodes(first, this_code));
            }
            Some(_) => {}
        }
        if lines.len() == MAX_LINES {
            return Err(ReplyError::TooManyLines);
        }
        lines.push(line.get(4..).unwrap_or_default());
        if last {
            let code = code.unwrap_or(this_code);
            return Ok(Some((response(code, &lines), at)));
        }
    }
}

/// The code of a line and whether it is the last (`250 ` or a bare `250`)
/// or not (`250-`). With `partial`, `line` is the start of a line still
/// arriving: `Ok(None)` while it is too short to tell.
fn line_code(line: &[u8], partial: bool) -> Result<Option<(u16, bool)>, ReplyError> {
    let bad = || ReplyError::Syntax(String::from_utf8_lossy(&line[..line.len().min(64)]).into());
    for (i, &b) in line.iter().take(3).enumerate() {
        // RFC 5321 §4.2: 2yz to 5yz (1yz is not used by SMTP).
        let ok = if i == 0 {
            (b'2'..=b'5').contains(&b)
        } else {
            b.is_ascii_digit()
        };
        if !ok {
            return Err(bad());
        }
    }
    if line.len() < 3 || (partial && line.len() < 4) {
        return if partial { Ok(None) } else { Err(bad()) };
    }
    let code = line[..3]
        .iter()
        .fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
    match line.get(3) {
        None | Some(b' ') => Ok(Some((code, true))),
        Some(b'-') => Ok(Some((code, false))),
        Some(_) => Err(bad()),
    }
}

/// A reply of the text of its lines: the enhanced code of the first line
/// (RFC 2034 §4: its class must be that of the reply code), stripped from
/// every line that repeats it.
fn response(code: u16, lines: &[&[u8]]) -> Response {
    let first = lines.first().copied().unwrap_or_default();
    let enhanced = leading_code(first).filter(|(e, _)| u16::from(e.class) == code / 100);
    let lines = lines
        .iter()
        .map(|line| {
            let text = match (enhanced, leading_code(line)) {
                (Some((e, _)), Some((this, len))) if this == e => &line[len..],
                _ => line,
            };
            String::from_utf8_lossy(text).into_owned()
        })
        .collect();
    Response {
        code,
        enhanced: enhanced.map(|(e, _)| e),
        lines,
    }
}

/// An enhanced code at the start of a line's text, followed by a space or
/// the end of the line, and how many octets it and that space take.
fn leading_code(text: &[u8]) -> Option<(EnhancedCode, usize)> {
    let end = text.iter().position(|&b| b == b' ').unwrap_or(text.len());
    // `5.123.123` is the longest.
    if end > 9 {
        return None;
    }
    let code = EnhancedCode::parse(std::str::from_utf8(&text[..end]).ok()?)?;
    Some((code, (end + 1).min(text.len())))
}
