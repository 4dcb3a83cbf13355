//! Write Interwork plugins in Rust.
//!
//! This crate carries the bindings of the plugin contract
//! (`wit/interwork-plugin/0.2.0`, the `interwork:plugin@0.2.0` package), so a
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
//!
//! Plugin logic is tested with plain `cargo test` on the build machine:
//! [`testing::Host`] fakes the host imports (IM and mail domains,
//! `[plugins.config]`, the directory) and records the log, and the
//! implementation's `Guest` functions are called as ordinary functions.

/// The generated bindings, one module per part of a world (`info-part`,
/// `mapping-part`, `conversion-part`): their exports do not overlap, so
/// [`export!`] puts together whichever world a plugin serves. The parts
/// share one set of types and host imports (those of `mapper`), so a plugin
/// that serves both interfaces uses the same `PluginError`, `ImMessage`, …
/// everywhere.
///
/// Each part's export macro writes the component-type section that names
/// the part's exports into the plugin's own crate (wit-bindgen's
/// `pub_export_macro`), so linking this crate adds no export a plugin did
/// not ask for.
#[doc(hidden)]
#[allow(missing_docs)]
pub mod bindings {
    /// The `mapping-part` world: the host imports, the shared types,
    /// `mapping`.
    pub mod mapper {
        wit_bindgen::generate!({
            path: "wit/0.2.0",
            world: "mapping-part",
            pub_export_macro: true,
            export_macro_name: "export_mapper",
            default_bindings_module: "interwork_plugin_sdk::bindings::mapper",
        });
    }

    /// The `conversion-part` world, its imports taken from `mapper`.
    pub mod converter {
        wit_bindgen::generate!({
            path: "wit/0.2.0",
            world: "conversion-part",
            with: {
                "interwork:plugin/types@0.2.0": super::mapper::interwork::plugin::types,
                "interwork:plugin/log@0.2.0": super::mapper::interwork::plugin::log,
                "interwork:plugin/directory@0.2.0": super::mapper::interwork::plugin::directory,
                "interwork:plugin/config@0.2.0": super::mapper::interwork::plugin::config,
            },
            pub_export_macro: true,
            export_macro_name: "export_converter",
            default_bindings_module: "interwork_plugin_sdk::bindings::converter",
        });
    }

    /// The `info-part` world: `plugin-info`, which every plugin exports.
    pub mod info {
        wit_bindgen::generate!({
            path: "wit/0.2.0",
            world: "info-part",
            pub_export_macro: true,
            export_macro_name: "export_info",
            default_bindings_module: "interwork_plugin_sdk::bindings::info",
        });
    }
}

pub use bindings::mapper::interwork::plugin::types;

/// The `mapping` interface a plugin implements (SPEC S2): its `Guest` trait
/// and its types.
pub mod mapping {
    pub use crate::bindings::mapper::exports::interwork::plugin::mapping::*;
}

/// The `conversion` interface a plugin implements (SPEC S5, S6): its
/// `Guest` trait and its types.
pub mod conversion {
    pub use crate::bindings::converter::exports::interwork::plugin::conversion::*;
}

/// The `plugin-info` interface, which [`export!`] implements from the
/// plugin crate's `Cargo.toml` (name, version, description).
pub mod plugin_info {
    pub use crate::bindings::info::exports::interwork::plugin::plugin_info::*;
}

mod helpers;
mod host;
#[doc(hidden)]
pub mod panic;
pub mod testing;

pub use helpers::{
    EmailAddress, ImUri, UriScheme, find_header, media_type, media_type_is, parameter,
    percent_decode, sip_uri,
};
pub use host::{config, directory, log};

/// Makes a type the plugin's implementation of the interfaces named:
/// `export!(T: mapping)`, `export!(T: conversion)` or
/// `export!(T: mapping, conversion)`. Use it once per plugin.
///
/// Besides the interfaces named, the component exports `plugin-info`,
/// answered from the crate's `Cargo.toml` (`name`, `version`,
/// `description`), and every call first installs a panic hook that sends
/// the panic's message and place through `log` before the plugin traps, so
/// the gateway's log says why.
#[macro_export]
macro_rules! export {
    ($ty:ident: $($part:ident),+ $(,)?) => {
        #[doc(hidden)]
        pub struct __InterworkPlugin;

        impl $crate::plugin_info::Guest for __InterworkPlugin {
            fn describe() -> $crate::plugin_info::Info {
                $crate::plugin_info::Info {
                    name: env!("CARGO_PKG_NAME").to_string(),
                    version: env!("CARGO_PKG_VERSION").to_string(),
                    description: env!("CARGO_PKG_DESCRIPTION").to_string(),
                }
            }
        }

        $crate::bindings::info::export_info!(__InterworkPlugin with_types_in $crate::bindings::info);
        $( $crate::__export_part!($ty: $part); )+
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_part {
    ($ty:ident: mapping) => {
        impl $crate::mapping::Guest for __InterworkPlugin {
            fn email_of_im(
                im_uri: String,
                role: $crate::mapping::Role,
            ) -> Result<$crate::mapping::Mapped, $crate::types::PluginError> {
                $crate::panic::install();
                <$ty as $crate::mapping::Guest>::email_of_im(im_uri, role)
            }

            fn im_of_email(
                address: String,
                role: $crate::mapping::Role,
            ) -> Result<$crate::mapping::Mapped, $crate::types::PluginError> {
                $crate::panic::install();
                <$ty as $crate::mapping::Guest>::im_of_email(address, role)
            }

            fn is_served_domain(domain: String) -> bool {
                $crate::panic::install();
                <$ty as $crate::mapping::Guest>::is_served_domain(domain)
            }
        }

        $crate::bindings::mapper::export_mapper!(__InterworkPlugin with_types_in $crate::bindings::mapper);
    };
    ($ty:ident: conversion) => {
        impl $crate::conversion::Guest for __InterworkPlugin {
            fn im_to_email(
                im: $crate::types::ImMessage,
                sender_address: String,
                recipient_addresses: Vec<String>,
            ) -> Result<$crate::types::MailContent, $crate::types::PluginError> {
                $crate::panic::install();
                <$ty as $crate::conversion::Guest>::im_to_email(im, sender_address, recipient_addresses)
            }

            fn email_to_im(
                mail: $crate::types::EmailMessage,
                sender_im: String,
                recipient_im: String,
            ) -> Result<$crate::types::ImMessage, $crate::types::PluginError> {
                $crate::panic::install();
                <$ty as $crate::conversion::Guest>::email_to_im(mail, sender_im, recipient_im)
            }

            fn send_notice(notice: $crate::conversion::Notice) -> bool {
                $crate::panic::install();
                <$ty as $crate::conversion::Guest>::send_notice(notice)
            }
        }

        $crate::bindings::converter::export_converter!(__InterworkPlugin with_types_in $crate::bindings::converter);
    };
}
