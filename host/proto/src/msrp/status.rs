//! The Status header value of REPORT requests (RFC 4975 §7.1.2, §9).

use std::fmt;
use std::str::FromStr;

use super::error::{MsrpError, excerpt};
use super::grammar;

/// `Status: 000 200 OK` — a namespace, a status code and an optional comment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Status {
    /// Three-digit namespace; `000` for the codes of RFC 4975 §10.
    pub namespace: u16,
    /// Three-digit status code, as in responses.
    pub code: u16,
    /// Free text after the code, if any.
    pub comment: Option<String>,
}

impl Status {
    /// A status in namespace `000` (RFC 4975 §7.1.2).
    pub fn new(code: u16, comment: Option<&str>) -> Self {
        Self {
            namespace: 0,
            code,
            comment: comment.map(str::to_owned),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // RFC 4975 §9: both numbers are exactly three digits.
        write!(f, "{:03} {:03}", self.namespace, self.code)?;
        if let Some(comment) = &self.comment {
            write!(f, " {comment}")?;
        }
        Ok(())
    }
}

impl FromStr for Status {
    type Err = MsrpError;

    /// Parses `namespace SP status-code [SP comment]` (RFC 4975 §9).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |reason| MsrpError::BadStatus {
            value: excerpt(text.as_bytes()),
            reason,
        };
        let (namespace, rest) = text.split_once(' ').ok_or(bad("missing status code"))?;
        let namespace =
            grammar::parse_three_digits(namespace).ok_or(bad("namespace is not three digits"))?;
        let (code, comment) = match rest.split_once(' ') {
            Some((code, comment)) => (code, Some(comment)),
            None => (rest, None),
        };
        let code = grammar::parse_three_digits(code).ok_or(bad("code is not three digits"))?;
        if comment.is_some_and(|c| !grammar::is_utf8text(c)) {
            return Err(bad("control character in comment"));
        }
        Ok(Self {
            namespace,
            code,
            comment: comment.map(str::to_owned),
        })
    }
}
