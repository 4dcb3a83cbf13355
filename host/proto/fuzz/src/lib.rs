//! The fuzz targets of `interwork-proto`, as plain functions: libFuzzer
//! calls them through the thin `fuzz_targets/*.rs` (`cargo fuzz run`), and
//! `tests/replay.rs` runs every committed seed and crash input through them
//! on stable Rust, as an ordinary test.

pub mod cpim;
pub mod dates;
pub mod ft_http;
pub mod imdn_xml;
pub mod mime;
pub mod mime_entity;
pub mod msrp_frame;
pub mod msrp_reassembly;
pub mod report;
pub mod sdp;
mod sip_common;
pub mod sip_datagram;
pub mod sip_stream;
pub mod smtp_reply;
pub mod smtp_session;
pub mod uri_list;

/// A fuzz target: one input in, a panic when something is wrong.
pub type Target = fn(&[u8]);

/// Every target, by the name cargo-fuzz knows it by.
pub const TARGETS: &[(&str, Target)] = &[
    ("sip_datagram", sip_datagram::run),
    ("sip_stream", sip_stream::run),
    ("msrp_frame", msrp_frame::run),
    ("msrp_reassembly", msrp_reassembly::run),
    ("cpim", cpim::run),
    ("sdp", sdp::run),
    ("imdn_xml", imdn_xml::run),
    ("dates", dates::run),
    ("smtp_session", smtp_session::run),
    ("smtp_reply", smtp_reply::run),
    ("mime", mime::run),
    ("report", report::run),
    ("uri_list", uri_list::run),
    ("ft_http", ft_http::run),
    ("mime_entity", mime_entity::run),
];
