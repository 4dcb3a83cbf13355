//! The gateway's MSRP side (RFC 4975), around the frames of
//! `interwork_proto::msrp`:
//!
//! * `sessions` — the sessions SIP INVITEs set up (`crate::sip::dialog`);
//! * `server` — the listener their SEND requests arrive on (IM → e-mail,
//!   SPEC S4: the IM side connects, RFC 4975 §5.4 and RFC 6135);
//! * `client` — sending a message over a session the gateway set up
//!   (e-mail → IM, SPEC S6: the gateway connects).

mod client;
mod server;
mod sessions;

pub use client::{CHUNK_BYTES, send_message};
pub use server::{MessageSink, MsrpServer};
pub use sessions::{Session, Sessions};
