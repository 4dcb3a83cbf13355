//! Interwork: an IM ↔ e-mail interworking gateway (see `../shared/SPEC.md`
//! and the README). The host owns networking and wire formats; address
//! mapping and conversion run in WebAssembly plugins (`plugin`).

pub mod cli;
pub mod config;
pub mod cpim;
pub mod delivery;
pub mod directory;
pub mod gateway;
pub mod ids;
pub mod imdn;
pub mod mail;
pub mod msrp;
pub mod msrp_session;
pub mod pipeline;
pub mod plugin;
pub mod sdp;
pub mod sip;
pub mod sip_server;
pub mod smtp_server;
pub mod timefmt;
