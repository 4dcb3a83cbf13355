//! WebAssembly plugins: the runtime that loads, sandboxes, checks, calls and
//! live-reloads the mapping and conversion components (`wit/plugin.wit`).

pub mod bindings;
mod cache;
pub mod embedded;
mod engine;
mod error;
mod host_api;
mod loaded;
mod registry;
mod watch;

pub use engine::{CallLimits, PluginEngine, content_hash};
pub use error::{
    CallError, FaultKind, GuestError, GuestFault, LoadError, PluginId, PluginSource, RefusalKind,
};
pub use host_api::HostContext;
pub use loaded::{LoadedPlugin, Role};
pub use registry::{PluginSet, Plugins, ReloadReport, RoleChoice, is_plugin_file, load_file};
pub use watch::{PluginWatch, SETTLE};

use std::sync::Arc;

use crate::config::Config;
use crate::directory::Directory;

/// The engine of a configuration: its limits, compile cache and context.
pub fn engine_for(config: &Config, directory: Arc<Directory>) -> anyhow::Result<Arc<PluginEngine>> {
    Ok(Arc::new(PluginEngine::new(
        CallLimits::from_config(&config.limits),
        config.plugin_cache_dir(),
        HostContext::new(config, directory),
    )?))
}

/// Which file serves which interface, from the configuration.
pub fn role_choice(config: &Config) -> RoleChoice {
    RoleChoice {
        mapping: config.plugins.mapping.clone(),
        conversion: config.plugins.conversion.clone(),
    }
}
