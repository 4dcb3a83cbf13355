//! `message/cpim` (RFC 3862): the envelope around instant messages in
//! SIP MESSAGE and MSRP, carrying sender, recipients, time, subject and
//! extension headers such as IMDN's (RFC 5438).
//!
//! * [`parse()`] reads a complete body; [`write()`] produces the exact wire
//!   form with CRLF line ends, and `parse(write(m)) == m`.
//! * Header values are kept as raw wire text; accessors decode them.
//! * Namespaced headers are found by URN with [`CpimMessage::get_ns`],
//!   never by the literal prefix, which every sender chooses freely.
//! * CR/LF policy: [`write()`] **refuses** a header value holding CR or LF.
//!   [`CpimHeader::text`] and [`format_address`] escape free text instead
//!   (RFC 3862 §2.3 escapes, quoted display names).

mod error;
mod header;
mod message;
mod namespace;
mod parse;
mod value;
mod write;

#[cfg(test)]
mod tests;

pub use error::CpimError;
pub use header::CpimHeader;
pub use message::{Address, CpimMessage};
pub use namespace::CPIM_HEADERS_URN;
pub use parse::parse;
pub use value::{
    decode_escapes, escape_text, format_address, is_name, is_token, parse_address, quote_string,
};
pub use write::write;

/// MIME type of a CPIM body.
pub const CONTENT_TYPE: &str = "message/cpim";
