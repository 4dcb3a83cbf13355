//! The Byte-Range header value (RFC 4975 §7.1.1, §9).

use std::fmt;
use std::str::FromStr;

use super::error::{MsrpError, excerpt};

/// Which bytes of the whole message a chunk carries: `start-end/total`.
///
/// Positions are 1-based and `end` is inclusive, so `1-2048/4096` is the first
/// half of a 4096-byte message. `None` stands for `*` (not known yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ByteRange {
    /// Position of the chunk's first byte in the message, from 1.
    pub start: u64,
    /// Position of the chunk's last byte, or `None` for `*`.
    pub end: Option<u64>,
    /// Size of the whole message, or `None` for `*`.
    pub total: Option<u64>,
}

impl ByteRange {
    /// The range of a message sent whole in one chunk (`1-len/len`).
    pub fn whole(len: u64) -> Self {
        Self {
            start: 1,
            end: Some(len),
            total: Some(len),
        }
    }
}

impl fmt::Display for ByteRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-", self.start)?;
        match self.end {
            Some(end) => write!(f, "{end}/")?,
            None => f.write_str("*/")?,
        }
        match self.total {
            Some(total) => write!(f, "{total}"),
            None => f.write_str("*"),
        }
    }
}

impl FromStr for ByteRange {
    type Err = MsrpError;

    /// Parses `range-start "-" range-end "/" total` (RFC 4975 §9).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |reason| MsrpError::BadByteRange {
            value: excerpt(text.as_bytes()),
            reason,
        };
        let (start, rest) = text.split_once('-').ok_or(bad("missing \"-\""))?;
        let (end, total) = rest.split_once('/').ok_or(bad("missing \"/\""))?;
        let start = number(start).ok_or(bad("start is not a number"))?;
        let end = star_or_number(end).ok_or(bad("end is neither a number nor \"*\""))?;
        let total = star_or_number(total).ok_or(bad("total is neither a number nor \"*\""))?;
        // RFC 4975 §7.1.1: byte positions count from 1.
        if start == 0 {
            return Err(bad("start must be at least 1"));
        }
        // An empty chunk ends just before it starts (`1-0/0`); anything earlier is backwards.
        if end.is_some_and(|end| end < start - 1) {
            return Err(bad("end is before start"));
        }
        if let Some(total) = total
            && (end.is_some_and(|end| end > total) || start - 1 > total)
        {
            return Err(bad("range lies beyond total"));
        }
        Ok(Self { start, end, total })
    }
}

/// `1*DIGIT` as u64; `None` on anything else, including overflow.
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `1*DIGIT / "*"`: `Some(None)` for `*`.
fn star_or_number(text: &str) -> Option<Option<u64>> {
    if text == "*" {
        Some(None)
    } else {
        number(text).map(Some)
    }
}
