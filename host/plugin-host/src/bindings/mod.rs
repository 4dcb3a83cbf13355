//! Host bindings of the WIT contract, generated from its frozen folder
//! `wit/interwork-plugin/0.1.0/`.
//!
//! One `bindgen!` over the world that has both exports gives one set of Rust
//! types for the whole contract; a plugin may export either interface or
//! both, so each export is looked up on its own (`GuestIndices`) instead of
//! through the world.

#![allow(missing_docs)] // generated; the WIT's own prose documents it

wasmtime::component::bindgen!({
    path: "../../wit/interwork-plugin/0.1.0",
    world: "mapper-converter",
    additional_derives: [PartialEq],
});

pub use exports::interwork::plugin::conversion;
pub use exports::interwork::plugin::mapping;
pub use interwork::plugin::types;

/// Fully qualified names of the interfaces of this contract version.
pub mod names {
    /// The contract version this host speaks.
    pub const VERSION: &str = "0.1.0";
    /// The mapping interface.
    pub const MAPPING: &str = "interwork:plugin/mapping@0.1.0";
    /// The conversion interface.
    pub const CONVERSION: &str = "interwork:plugin/conversion@0.1.0";
    /// Imports the host provides.
    pub const HOST_IMPORTS: &[&str] = &[
        "interwork:plugin/types@0.1.0",
        "interwork:plugin/log@0.1.0",
        "interwork:plugin/directory@0.1.0",
        "interwork:plugin/config@0.1.0",
    ];
}
