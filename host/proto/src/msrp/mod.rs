//! MSRP (RFC 4975) framing for the Interwork gateway, sans-IO.
//!
//! Everything here is a pure function over bytes: the caller owns the TCP
//! connection, feeds received bytes to [`parse`], sends what [`write`](fn@write)
//! produces, and hands incoming SEND chunks to a [`Reassembler`].
//!
//! * [`parse`] / [`write`](fn@write) — one frame (request or response) from / to bytes.
//! * [`Request::send`], [`Request::report`], [`Response::to_request`] — builders.
//! * [`chunk`] — split an outgoing message into SEND chunks.
//! * [`Reassembler`] — put incoming chunks back together.
//!
//! Malformed input never panics: it yields an [`MsrpError`], and every
//! buffer grows only up to the configured [`Limits`].
#![forbid(unsafe_code)]

mod builders;
mod byte_range;
mod byte_set;
mod chunker;
mod error;
mod frame;
mod grammar;
mod header_fields;
mod limits;
mod parser;
mod reassembler;
mod start_line;
mod status;
mod uri;
mod writer;

#[cfg(test)]
mod tests;

pub use byte_range::ByteRange;
pub use chunker::chunk;
pub use error::MsrpError;
pub use frame::{Continuation, FailureReport, Frame, Method, Request, Response};
pub use limits::Limits;
pub use parser::parse;
pub use reassembler::{Progress, Reassembler};
pub use status::Status;
pub use uri::MsrpUri;
pub use writer::write;
