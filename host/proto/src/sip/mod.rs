//! SIP messages (RFC 3261), sans-IO: parse and write bytes, nothing else.
//! Sockets, transactions and timers live in the gateway (`interwork::sip`).
//!
//! Why not a crate: rsip 0.4 serialises `202 Accepted` as "201", does not
//! parse compact header names and has no Content-Length framing. rsipstack
//! 0.7.14 fixes those, but its parser is lenient where a gateway must answer
//! 400 (an unparsable Content-Length becomes 0, a body shorter than its
//! Content-Length is silently truncated, a header line without a colon is
//! dropped), it is not incremental, and its transactions own their sockets.
//! This module is strict, incremental, and small.

mod header;
mod message;
mod parse;
mod uri;
mod write;

pub use header::{CSeq, NameAddr, Via, canonical_name};
pub use message::{Headers, Message, Method, Request, Response};
pub use parse::{Limits, SipError, parse_datagram, parse_stream};
pub use uri::{Uri, unescape};
pub use write::write;

#[cfg(test)]
mod tests;
