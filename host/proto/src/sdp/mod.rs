//! Session descriptions (RFC 8866, formerly RFC 4566) as MSRP uses them
//! (RFC 4975 §8, connection setup per RFC 6135).
//!
//! * [`parse()`] reads an offer or answer: CRLF or LF line ends, SIPp-style
//!   padding tolerated; the MSRP attributes (`a=path`, `a=accept-types`,
//!   `a=accept-wrapped-types`, `a=max-size`, `a=setup`, direction) are
//!   typed, every other line is kept.
//! * [`write()`] emits CRLF lines in RFC 8866 order; `parse(write(d)) == d`.
//!   CR/LF policy: any value holding CR or LF is **refused**, never
//!   escaped, since SDP has no escape syntax.
//! * [`answer_msrp`] answers an offer per RFC 3264; [`msrp_offer`] builds
//!   the gateway's own offer.

mod error;
mod model;
mod msrp;
mod parse;
mod write;

#[cfg(test)]
mod tests;

pub use error::SdpError;
pub use model::{
    Connection, Direction, MediaDescription, Origin, SdpLine, SessionDescription, Setup, Timing,
};
pub use msrp::{MsrpAnswerParams, MsrpOfferParams, answer_msrp, msrp_offer};
pub use parse::parse;
pub use write::write;

/// MIME type of a session description.
pub const CONTENT_TYPE: &str = "application/sdp";
