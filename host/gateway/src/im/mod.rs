//! The IM side's messages, both ways, mirroring `crate::mail`:
//!
//! * `incoming` — a SIP MESSAGE body or a complete MSRP message (CPIM
//!   unwrapped, RFC 3862; IMDN requests, RFC 5438) as the plugin contract's
//!   `im-message`;
//! * `outgoing` — the `im-message` a conversion plugin made from a mail as
//!   the SIP request that carries it (CPIM, IMDN), routed to the IM system
//!   that serves the recipient and sent in pager or large-message mode.

pub mod incoming;
pub mod outgoing;
