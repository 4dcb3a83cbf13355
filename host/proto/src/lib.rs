//! Interwork's wire formats, sans-IO: every module turns bytes into values
//! (`parse(&[u8])`) and values into bytes (`write(&T, &mut Vec<u8>)`), and
//! nothing else. Sockets, timers and tasks live in the `interwork` crate;
//! the fuzz targets beside this crate (`fuzz/`) link nothing but this.
//!
//! * [`sip`] — SIP messages (RFC 3261, RFC 3428), datagram and stream framing.
//! * [`sdp`] — session descriptions as MSRP uses them (RFC 8866, RFC 4975 §8).
//! * [`msrp`] — MSRP frames, chunking and reassembly (RFC 4975).
//! * [`cpim`] — `message/cpim` (RFC 3862).
//! * [`imdn`] — IMDN requests and notifications (RFC 5438).
//! * [`ft_http`] — RCS file transfer via HTTP documents (GSMA RCC.07 §3.2.5).
//! * [`mime`] — received mails (RFC 5322, MIME), decoded for the plugins.
//! * [`report`] — DSNs and MDNs that come back by mail (RFC 3464, RFC 8098).
//! * [`smtp`] — the SMTP server session (RFC 5321, RFC 3207, RFC 6531).
//! * [`dates`] — RFC 3339 and RFC 5322 date-times.

pub mod cpim;
pub mod dates;
pub mod ft_http;
pub mod imdn;
pub mod mime;
pub mod msrp;
pub mod report;
pub mod sdp;
pub mod sip;
pub mod smtp;
pub mod uri_list;
