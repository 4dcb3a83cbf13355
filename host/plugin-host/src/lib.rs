//! Interwork's plugin runtime: it loads, sandboxes, checks, calls and
//! live-reloads the WebAssembly components that implement the
//! `interwork:plugin` contract (`wit/interwork-plugin/<version>/`).
//!
//! The layers, each using only the ones above it:
//!
//! * [`bindings`] — the contract's types, generated from the WIT folder.
//! * `host_imports` — what a plugin may import: `log`, `directory`, `config`.
//! * `cache` — compiled components kept on disk.
//! * [`PluginEngine`] (`engine`) — one wasmtime engine, per-message stores with
//!   a memory cap and per-call epoch deadlines.
//! * [`LoadedPlugin`] (`call`) — a linked plugin; [`PluginInstance`] its typed
//!   calls on the instance of one message.
//! * `loader` — the contract check a component passes before it serves.
//! * [`Plugins`] (`registry`) — which plugin serves which interface, swapped
//!   atomically; [`PluginWatch`] (`watch`) reloads it when the plugin
//!   directory changes.
//!
//! The runtime knows nothing of the gateway's configuration: the gateway
//! hands it limits, a cache directory, a [`HostContext`] and the default
//! plugins to fall back on.

pub mod bindings;
mod cache;
mod call;
mod engine;
mod error;
mod host_imports;
mod loader;
mod meters;
mod registry;
mod watch;

pub use call::{LoadedPlugin, PluginInstance, Role};
pub use engine::{CallLimits, PluginEngine, content_hash};
pub use error::{
    CallError, FaultKind, GuestError, GuestFault, LoadError, PluginId, PluginSource, RefusalKind,
};
pub use host_imports::{DirectoryLookup, HostContext, NoDirectory};
pub use loader::load_file;
pub use registry::{DefaultPlugins, PluginSet, Plugins, ReloadReport, RoleChoice, is_plugin_file};
pub use watch::{PluginWatch, SETTLE};
