//! The single error type of the MSRP module.

use thiserror::Error;

/// Everything that can go wrong while parsing, validating or reassembling MSRP.
///
/// Values quoted in messages are cut to a short excerpt so that a hostile
/// peer cannot make error strings large.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MsrpError {
    /// The bytes do not begin with the `MSRP ` start-line prefix.
    #[error("input is not MSRP: a frame must start with \"MSRP \"")]
    NotMsrp,
    /// The start line is present but does not follow the grammar.
    #[error("malformed start line: {0}")]
    BadStartLine(&'static str),
    /// The transaction id is not an `ident` (RFC 4975 §9).
    #[error(
        "invalid transaction id {0:?}: expected 4 to 32 characters, a letter or digit first, \
         then letters, digits or . - + % ="
    )]
    BadTransactionId(String),
    /// The method token is not upper-case letters (RFC 4975 §9).
    #[error("invalid method {0:?}: a method is one or more upper-case letters")]
    BadMethod(String),
    /// The start line and header fields together are longer than allowed.
    #[error("start line and header fields exceed the limit of {limit} bytes")]
    HeaderTooLarge {
        /// The configured [`Limits::max_header_bytes`](super::Limits).
        limit: usize,
    },
    /// More header fields than allowed.
    #[error("more than {limit} header fields")]
    TooManyHeaders {
        /// The configured [`Limits::max_headers`](super::Limits).
        limit: usize,
    },
    /// The body is longer than allowed, or its end-line did not come in time.
    #[error("body exceeds the limit of {limit} bytes without a matching end-line")]
    BodyTooLarge {
        /// The body limit in force for this request.
        limit: usize,
    },
    /// A header line is not `Name: value`.
    #[error("malformed header line {line:?}: {reason}")]
    BadHeaderLine {
        /// Excerpt of the offending line.
        line: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A known header field has a value outside its grammar.
    #[error("invalid {name} value {value:?}: {reason}")]
    BadHeaderValue {
        /// The header field name.
        name: &'static str,
        /// Excerpt of the value.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A header field that may appear once appeared again.
    #[error("header field {0} appears more than once")]
    DuplicateHeader(&'static str),
    /// A header field the RFC requires is absent.
    #[error("required header field {0} is missing")]
    MissingHeader(&'static str),
    /// An MSRP URI does not follow RFC 4975 §9.
    #[error("invalid MSRP URI {uri:?}: {reason}")]
    BadUri {
        /// Excerpt of the URI text.
        uri: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A Byte-Range value does not follow RFC 4975 §9 or is inconsistent.
    #[error("invalid Byte-Range {value:?}: {reason}")]
    BadByteRange {
        /// Excerpt of the value.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A Status value does not follow RFC 4975 §9.
    #[error("invalid Status {value:?}: {reason}")]
    BadStatus {
        /// Excerpt of the value.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A request carries a body but no Content-Type (RFC 4975 §7.1).
    #[error("request has a body but no Content-Type header field")]
    MissingContentType,
    /// A response carries a body, which RFC 4975 §9 does not allow.
    #[error("a response must not carry a body")]
    ResponseWithBody,
    /// Text that must be UTF-8 is not.
    #[error("{0} is not valid UTF-8")]
    NotUtf8(&'static str),
    /// The reassembler was given a request other than SEND.
    #[error("only SEND requests carry message content, got {0}")]
    NotASend(String),
    /// A Message-ID is not an `ident` (RFC 4975 §9).
    #[error("invalid Message-ID {0:?}")]
    BadMessageId(String),
    /// A chunk's body does not agree with its Byte-Range or with earlier chunks.
    #[error("chunk of message {message_id:?} is inconsistent: {reason}")]
    ChunkMismatch {
        /// The message the chunk belongs to.
        message_id: String,
        /// What does not agree.
        reason: &'static str,
    },
    /// A chunk overlaps bytes received earlier but carries different content.
    #[error("chunk of message {message_id:?} overlaps earlier bytes with different content")]
    ConflictingChunk {
        /// The message the chunk belongs to.
        message_id: String,
    },
    /// Starting another message would exceed the reassembler's limit.
    #[error("already {limit} messages in progress; refusing to start another")]
    TooManyMessagesInProgress {
        /// The configured maximum.
        limit: usize,
    },
    /// A chunk arrived for a message that was already completed or aborted.
    #[error("message {message_id:?} was already completed or aborted")]
    MessageFinished {
        /// The finished message.
        message_id: String,
    },
}

/// Maximum number of bytes of offending input quoted in an error.
const EXCERPT_BYTES: usize = 64;

/// A short, lossy, printable excerpt of `bytes` for error messages.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    let cut = bytes.get(..EXCERPT_BYTES).unwrap_or(bytes);
    String::from_utf8_lossy(cut).into_owned()
}
