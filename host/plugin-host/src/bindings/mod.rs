//! Host bindings of the WIT contract, one module per version, each
//! generated from its frozen folder `wit/interwork-plugin/<version>/`.
//!
//! The host serves every version at once (Zed's `since_vX` pattern): the
//! newest version's types are the host's own ([`types`], [`mapping`],
//! [`conversion`]), and each older version has one adapter into them
//! (`v0_1_0::adapt`). A plugin is linked with the host imports of the
//! version it was built for.
//!
//! Each `bindgen!` runs over the world that has both exports, so a version
//! has one set of Rust types; a plugin may export either interface or both,
//! so each export is looked up on its own (`GuestIndices`).

#![allow(missing_docs)] // generated; the WIT's own prose documents it

pub mod v0_1_0;
pub mod v0_2_0;

pub use v0_2_0::exports::interwork::plugin::{conversion, mapping, plugin_info};
pub use v0_2_0::interwork::plugin::types;

/// A contract version the host serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Contract {
    /// `interwork:plugin@0.1.0`, frozen; served through an adapter.
    V0_1_0,
    /// `interwork:plugin@0.2.0`, the newest.
    V0_2_0,
}

impl Contract {
    /// Every version served, newest first.
    pub const ALL: [Contract; 2] = [Contract::V0_2_0, Contract::V0_1_0];
    /// The version `plugins new` writes and the SDK builds.
    pub const NEWEST: Contract = Contract::V0_2_0;

    /// The version as the WIT package spells it.
    pub fn version(self) -> &'static str {
        match self {
            Self::V0_1_0 => "0.1.0",
            Self::V0_2_0 => "0.2.0",
        }
    }

    /// The qualified name of one of the contract's interfaces.
    pub fn interface(self, name: &str) -> String {
        format!("interwork:plugin/{name}@{}", self.version())
    }

    /// Imports the host provides to plugins of this version.
    pub fn host_imports(self) -> [String; 4] {
        ["types", "log", "directory", "config"].map(|n| self.interface(n))
    }

    /// The version whose interface `name` is, if the host serves it.
    pub fn of_interface(name: &str) -> Option<Contract> {
        let (_, version) = name.strip_prefix("interwork:plugin/")?.split_once('@')?;
        Self::ALL.into_iter().find(|c| c.version() == version)
    }
}

impl std::fmt::Display for Contract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.version())
    }
}
