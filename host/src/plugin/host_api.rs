//! What a plugin can import: `log`, `directory`, `config` — and nothing
//! else. The per-call store data (`CallState`) implements them.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::ResourceLimiter;

use super::bindings::interwork::plugin::{config, directory, log, types};
use crate::directory::Directory;

/// The gateway facts that plugins may read. Replaced as a whole (directory
/// reload), never changed in place.
#[derive(Debug, Default, Clone)]
pub struct HostContext {
    pub im_domains: Vec<String>,
    pub mail_domains: Vec<String>,
    pub plugin_config: BTreeMap<String, String>,
    pub directory: Arc<Directory>,
}

impl HostContext {
    /// The context of a configuration and its directory.
    pub fn new(config: &crate::config::Config, directory: Arc<Directory>) -> Self {
        Self {
            im_domains: config.im_domain_names(),
            mail_domains: config.gateway.mail_domains.clone(),
            plugin_config: config.plugin_values(),
            directory,
        }
    }
}

/// Memory cap of one call. Growth past the cap traps (rather than failing
/// the `memory.grow`), and the attempt is remembered so the fault can say
/// what happened instead of "unreachable".
pub struct GuestLimiter {
    pub cap: usize,
    pub exceeded: Option<usize>,
}

impl ResourceLimiter for GuestLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.cap {
            self.exceeded = Some(desired);
            wasmtime::bail!("memory cap of {} bytes exceeded", self.cap);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Tables hold function references; a plugin needs a few thousand.
        Ok(desired <= 100_000)
    }
}

/// Store data of one plugin call.
pub struct CallState {
    pub plugin: Arc<str>,
    pub context: Arc<HostContext>,
    pub limiter: GuestLimiter,
}

/// Longest log line a plugin may write; the rest is cut.
const MAX_LOG_LINE: usize = 4096;

impl log::Host for CallState {
    fn log(&mut self, level: log::Level, message: String) {
        let mut message = message;
        if message.len() > MAX_LOG_LINE {
            let mut cut = MAX_LOG_LINE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        let plugin = &*self.plugin;
        match level {
            log::Level::Trace => tracing::trace!(plugin, "{message}"),
            log::Level::Debug => tracing::debug!(plugin, "{message}"),
            log::Level::Info => tracing::info!(plugin, "{message}"),
            log::Level::Warn => tracing::warn!(plugin, "{message}"),
            log::Level::Error => tracing::error!(plugin, "{message}"),
        }
    }
}

impl directory::Host for CallState {
    fn email_of(&mut self, im_uri: String) -> Option<String> {
        self.context.directory.email_of(&im_uri).map(str::to_string)
    }

    fn im_of(&mut self, address: String) -> Option<String> {
        self.context.directory.im_of(&address).map(str::to_string)
    }
}

impl config::Host for CallState {
    fn im_domains(&mut self) -> Vec<String> {
        self.context.im_domains.clone()
    }

    fn mail_domains(&mut self) -> Vec<String> {
        self.context.mail_domains.clone()
    }

    fn get(&mut self, key: String) -> Option<String> {
        self.context.plugin_config.get(&key).cloned()
    }
}

impl types::Host for CallState {}
