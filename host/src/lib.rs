//! Interwork: an IM ↔ e-mail interworking gateway (see `../shared/SPEC.md`
//! and the README). The host owns networking and wire formats; address
//! mapping and conversion run in WebAssembly plugins (`plugin`).

pub mod cli;
pub mod config;
pub mod directory;
pub mod gateway;
pub mod plugin;
pub mod sip;
