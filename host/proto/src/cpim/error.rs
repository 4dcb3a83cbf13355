//! The one error type of the CPIM module.

use thiserror::Error;

/// Why a `message/cpim` body could not be read or written.
///
/// Text that came from the peer is shown with `{:?}` so that control
/// characters in it cannot forge log lines.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CpimError {
    /// Header lines must be UTF-8 (RFC 3862 §3.1).
    #[error("line {line}: header is not valid UTF-8")]
    NotUtf8 {
        /// 1-based line number.
        line: usize,
    },
    /// A CR that is not followed by LF inside the header sections.
    #[error("line {line}: carriage return without line feed")]
    BareCarriageReturn {
        /// 1-based line number.
        line: usize,
    },
    /// The blank line that must end a header section is missing (RFC 3862 §2).
    #[error("missing blank line after the {section}")]
    MissingBlankLine {
        /// `"message headers"` or `"content headers"`.
        section: &'static str,
    },
    /// A header line without `:`; often a sign that a blank line is missing.
    #[error("line {line}: header has no ':' (is a blank line missing?)")]
    HeaderWithoutColon {
        /// 1-based line number.
        line: usize,
    },
    /// A header line whose syntax is wrong in some other way.
    #[error("line {line}: {reason}")]
    MalformedHeader {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A header value that would start a new header line if written.
    #[error("header {header:?}: value contains CR or LF; refusing to write it")]
    LineBreakInValue {
        /// Full header name, prefix included.
        header: String,
    },
    /// A header that cannot be written for another reason.
    #[error("header {header:?}: {reason}; refusing to write it")]
    InvalidHeader {
        /// Full header name, prefix included.
        header: String,
        /// What is wrong.
        reason: String,
    },
}
