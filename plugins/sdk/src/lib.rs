//! Write Interwork plugins in Rust.
//!
//! This crate carries the bindings of the plugin contract
//! (`wit/interwork-plugin/0.1.0`, the `interwork:plugin@0.1.0` package), so a
//! plugin needs no WIT file and no `wit_bindgen::generate!` of its own:
//!
//! ```ignore
//! use interwork_plugin_sdk::mapping::{Guest, Mapped, Origin, Role};
//! use interwork_plugin_sdk::types::PluginError;
//!
//! struct MyMapping;
//!
//! impl Guest for MyMapping {
//!     fn email_of_im(im_uri: String, role: Role) -> Result<Mapped, PluginError> { … }
//!     fn im_of_email(address: String, role: Role) -> Result<Mapped, PluginError> { … }
//!     fn is_served_domain(domain: String) -> bool { … }
//! }
//!
//! interwork_plugin_sdk::export!(MyMapping: mapping);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2` as a
//! `cdylib`. `export!(T: mapping)` makes a component of the `mapper` world,
//! `export!(T: conversion)` one of the `converter` world, and
//! `export!(T: mapping, conversion)` one that serves both.
//!
//! The host imports are [`log`], [`directory`] and [`config`]; there is no
//! filesystem, network, clock or randomness (see the contract's preamble).

/// The generated bindings, one module per world. Both worlds share one set
/// of types and host imports (those of `mapper`), so a plugin that serves
/// both interfaces uses the same `PluginError`, `ImMessage`, … everywhere.
///
/// Each world's export macro writes the component-type section that names
/// the world's exports into the plugin's own crate (wit-bindgen's
/// `pub_export_macro`), so linking this crate adds no export a plugin did
/// not ask for.
#[doc(hidden)]
#[allow(missing_docs)]
pub mod bindings {
    /// The `mapper` world: the host imports, the shared types, `mapping`.
    pub mod mapper {
        wit_bindgen::generate!({
            path: "../../wit/interwork-plugin/0.1.0",
            world: "mapper",
            pub_export_macro: true,
            export_macro_name: "export_mapper",
            default_bindings_module: "interwork_plugin_sdk::bindings::mapper",
        });
    }

    /// The `converter` world, its imports taken from `mapper`.
    pub mod converter {
        wit_bindgen::generate!({
            path: "../../wit/interwork-plugin/0.1.0",
            world: "converter",
            with: {
                "interwork:plugin/types@0.1.0": super::mapper::interwork::plugin::types,
                "interwork:plugin/log@0.1.0": super::mapper::interwork::plugin::log,
                "interwork:plugin/directory@0.1.0": super::mapper::interwork::plugin::directory,
                "interwork:plugin/config@0.1.0": super::mapper::interwork::plugin::config,
            },
            pub_export_macro: true,
            export_macro_name: "export_converter",
            default_bindings_module: "interwork_plugin_sdk::bindings::converter",
        });
    }
}

pub use bindings::mapper::interwork::plugin::{config, directory, log, types};

/// The `mapping` interface a plugin implements (SPEC S2): its `Guest` trait
/// and its types.
pub mod mapping {
    pub use crate::bindings::mapper::exports::interwork::plugin::mapping::*;
}

/// The `conversion` interface a plugin implements (SPEC S5, S6).
pub mod conversion {
    pub use crate::bindings::converter::exports::interwork::plugin::conversion::*;
}

/// Makes a type the plugin's implementation of the interfaces named:
/// `export!(T: mapping)`, `export!(T: conversion)` or
/// `export!(T: mapping, conversion)`. Use it once per plugin.
#[macro_export]
macro_rules! export {
    ($ty:ident: mapping) => {
        $crate::bindings::mapper::export_mapper!($ty with_types_in $crate::bindings::mapper);
    };
    ($ty:ident: conversion) => {
        $crate::bindings::converter::export_converter!($ty with_types_in $crate::bindings::converter);
    };
    ($ty:ident: mapping, conversion) => {
        $crate::export!($ty: mapping);
        $crate::export!($ty: conversion);
    };
}

mod helpers;
pub use helpers::{find_header, media_type};
