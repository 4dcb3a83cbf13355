//! The one error type of the IMDN module.

use thiserror::Error;

use crate::cpim::CpimError;
use crate::dates::TimeError;

/// Why an IMDN header or notification could not be read or written.
///
/// Text that came from the peer is shown with `{:?}` so that control
/// characters in it cannot forge log lines.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ImdnError {
    /// `imdn.Message-ID` is not an RFC 3862 Token (RFC 5438 §6.3).
    #[error("invalid IMDN Message-ID {0:?}: must be a non-empty RFC 3862 Token")]
    InvalidMessageId(String),
    /// A date could not be read or written.
    #[error("IMDN datetime: {0}")]
    Time(#[from] TimeError),
    /// The CPIM envelope could not be built.
    #[error("CPIM envelope: {0}")]
    Cpim(#[from] CpimError),
    /// A URI that cannot be carried safely.
    #[error(
        "invalid {field} {value:?}: must be non-empty, without whitespace or control characters"
    )]
    InvalidUri {
        /// Which element or header it was meant for.
        field: &'static str,
        /// The offending value.
        value: String,
    },
    /// The body is not well-formed XML, or uses XML features the reader
    /// refuses (DOCTYPE, undefined entities, CDATA, processing
    /// instructions, other encodings than UTF-8, deep nesting).
    #[error("IMDN XML, byte {offset}: {reason}")]
    Xml {
        /// Byte offset in the body where the problem was found.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
    /// Well-formed XML that is not an RFC 5438 `<imdn>` document.
    #[error("not an IMDN document: {0}")]
    NotImdn(String),
    /// A valid IMDN of a kind this gateway does not handle.
    #[error("unsupported IMDN: {0}")]
    Unsupported(String),
}
