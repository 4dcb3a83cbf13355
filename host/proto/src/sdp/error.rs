//! The one error type of the SDP module.

use thiserror::Error;

/// Why a session description could not be read, answered or written.
///
/// Text that came from the peer is shown with `{:?}` so that control
/// characters in it cannot forge log lines.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SdpError {
    /// SDP text is UTF-8 (RFC 8866 §5).
    #[error("session description is not valid UTF-8")]
    NotUtf8,
    /// A line that breaks the SDP grammar.
    #[error("line {line}: {reason}")]
    MalformedLine {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A `<type>=` letter SDP does not define; RFC 8866 §5 says such a
    /// description must be rejected or ignored as a whole.
    #[error("line {line}: unknown line type {kind:?}")]
    UnknownLineType {
        /// 1-based line number.
        line: usize,
        /// The type letter.
        kind: char,
    },
    /// A line SDP requires is absent.
    #[error("missing mandatory {0} line")]
    MissingLine(&'static str),
    /// The offer has no usable `m=message ... TCP/MSRP` or `TCP/TLS/MSRP`.
    #[error(
        "offer has no MSRP media (m=message with TCP/MSRP or TCP/TLS/MSRP and a non-zero port)"
    )]
    NoMsrpMedia,
    /// The offered MSRP media has no `a=path` (RFC 4975 §8.2 makes it
    /// mandatory).
    #[error("MSRP media line {media} has no a=path")]
    MissingPath {
        /// 0-based index of the m-line.
        media: usize,
    },
    /// The offer asks for a connection setup the gateway does not do.
    #[error("unsupported a=setup:{0} (RFC 6135)")]
    UnsupportedSetup(&'static str),
    /// Our path and the offered transport disagree on TLS.
    #[error("offered transport {offered:?} does not match our path scheme ({reason})")]
    TransportMismatch {
        /// The offered `<proto>`.
        offered: String,
        /// What does not match.
        reason: &'static str,
    },
    /// A value that cannot be written as SDP, or parameters that would
    /// make an invalid description.
    #[error("{field}: {reason}; refusing to write it")]
    InvalidValue {
        /// Which field.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}
