//! The first line of a frame: `MSRP <tid> <method>` or `MSRP <tid> <code> [comment]`.

use super::error::{MsrpError, excerpt};
use super::frame::Method;
use super::grammar;

/// `pMSRP SP`: the literal, case-sensitive start of every frame (RFC 4975 §9).
pub(crate) const MAGIC: &[u8] = b"MSRP ";

/// A parsed start line.
#[derive(Debug)]
pub(crate) enum StartLine {
    /// `req-start = pMSRP SP transact-id SP method CRLF`
    Request { tid: String, method: Method },
    /// `resp-start = pMSRP SP transact-id SP status-code [SP comment] CRLF`
    Response {
        tid: String,
        code: u16,
        comment: Option<String>,
    },
}

impl StartLine {
    pub(crate) fn tid(&self) -> &str {
        match self {
            StartLine::Request { tid, .. } | StartLine::Response { tid, .. } => tid,
        }
    }
}

/// Parses a complete start line (without its CRLF).
pub(crate) fn parse_start_line(line: &[u8]) -> Result<StartLine, MsrpError> {
    let text = std::str::from_utf8(line).map_err(|_| MsrpError::NotUtf8("start line"))?;
    if !grammar::is_utf8text(text) {
        return Err(MsrpError::BadStartLine("control character in start line"));
    }
    let rest = text.strip_prefix("MSRP ").ok_or(MsrpError::NotMsrp)?;
    let (tid, rest) = rest
        .split_once(' ')
        .ok_or(MsrpError::BadStartLine("missing method or status code"))?;
    if !grammar::is_ident(tid) {
        return Err(MsrpError::BadTransactionId(excerpt(tid.as_bytes())));
    }
    let tid = tid.to_owned();
    let (word, comment) = match rest.split_once(' ') {
        Some((word, comment)) => (word, Some(comment)),
        None => (rest, None),
    };
    // RFC 4975 §9: a status code is exactly three digits, a method is upper-case letters.
    if let Some(code) = grammar::parse_three_digits(word) {
        return Ok(StartLine::Response {
            tid,
            code,
            comment: comment.map(str::to_owned),
        });
    }
    if !grammar::is_method_token(word) {
        return Err(MsrpError::BadMethod(excerpt(word.as_bytes())));
    }
    if comment.is_some() {
        return Err(MsrpError::BadStartLine("unexpected text after the method"));
    }
    Ok(StartLine::Request {
        tid,
        method: Method::from_token(word),
    })
}

/// Rejects an unterminated start line early when no continuation could make
/// it valid, so garbage is refused before the header limit is reached.
pub(crate) fn check_partial_start_line(buf: &[u8]) -> Result<(), MsrpError> {
    // A trailing CR may be the first half of the CRLF still to come.
    let text = buf.strip_suffix(b"\r").unwrap_or(buf);
    if text.iter().any(|&b| (b < b' ' && b != b'\t') || b == 0x7f) {
        return Err(MsrpError::BadStartLine("control character in start line"));
    }
    let Some(after_magic) = text.get(MAGIC.len()..) else {
        return Ok(());
    };
    let mut words = after_magic.splitn(2, |&b| b == b' ');
    let tid = words.next().unwrap_or_default();
    let tid_ended = words.next().is_some();
    let tid_ok = grammar::is_ident_prefix(tid) && (!tid_ended || tid.len() >= grammar::IDENT_MIN);
    if !tid_ok {
        return Err(MsrpError::BadTransactionId(excerpt(tid)));
    }
    Ok(())
}
