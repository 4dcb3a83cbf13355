//! What a plugin can import: `log`, `directory`, `config` — and nothing
//! else. The per-call store data (`CallState`) implements them.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::ResourceLimiter;

use crate::bindings::{v0_1_0, v0_2_0};

/// The provisioned addresses plugins read through the `directory` import
/// (SPEC S2). The gateway's directory file implements it; lookups are
/// exact after the normalisation the WIT describes.
pub trait DirectoryLookup: Send + Sync + std::fmt::Debug {
    /// The provisioned e-mail address of an IM identity.
    fn email_of(&self, im_uri: &str) -> Option<String>;
    /// The IM identity a provisioned e-mail address belongs to.
    fn im_of(&self, address: &str) -> Option<String>;
}

/// A directory with no addresses in it.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoDirectory;

impl DirectoryLookup for NoDirectory {
    fn email_of(&self, _im_uri: &str) -> Option<String> {
        None
    }

    fn im_of(&self, _address: &str) -> Option<String> {
        None
    }
}

/// The gateway facts that plugins may read. Replaced as a whole (directory
/// reload), never changed in place.
#[derive(Debug, Clone)]
pub struct HostContext {
    /// IM domains served, in configuration order (`config.im-domains`).
    pub im_domains: Vec<String>,
    /// The gateway's own mail domains (`config.mail-domains`).
    pub mail_domains: Vec<String>,
    /// `[plugins.config]` values as text (`config.get`).
    pub plugin_config: BTreeMap<String, String>,
    /// Provisioned addresses (`directory`).
    pub directory: Arc<dyn DirectoryLookup>,
}

impl Default for HostContext {
    fn default() -> Self {
        Self {
            im_domains: Vec::new(),
            mail_domains: Vec::new(),
            plugin_config: BTreeMap::new(),
            directory: Arc::new(NoDirectory),
        }
    }
}

/// Memory cap of one call. Growth past the cap traps (rather than failing
/// the `memory.grow`), and the attempt is remembered so the fault can say
/// what happened instead of "unreachable".
pub struct GuestLimiter {
    /// Largest linear memory a call may have, in bytes.
    pub cap: usize,
    /// The size a call asked for past the cap, if it did.
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
    /// The plugin's name, for its log lines.
    pub plugin: Arc<str>,
    /// What the call may read.
    pub context: Arc<HostContext>,
    /// The call's memory cap.
    pub limiter: GuestLimiter,
}

/// Longest log line a plugin may write; the rest is cut.
const MAX_LOG_LINE: usize = 4096;

/// A plugin's log level, whatever its contract version.
#[derive(Clone, Copy)]
enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl CallState {
    fn log(&mut self, level: Level, mut message: String) {
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
            Level::Trace => tracing::trace!(plugin, "{message}"),
            Level::Debug => tracing::debug!(plugin, "{message}"),
            Level::Info => tracing::info!(plugin, "{message}"),
            Level::Warn => tracing::warn!(plugin, "{message}"),
            Level::Error => tracing::error!(plugin, "{message}"),
        }
    }
}

/// The host imports of one contract version, all served by the same
/// functions: the versions differ in their types, not in what they import.
macro_rules! host_imports {
    ($version:ident) => {
        impl $version::interwork::plugin::log::Host for CallState {
            fn log(&mut self, level: $version::interwork::plugin::log::Level, message: String) {
                use $version::interwork::plugin::log::Level as L;
                let level = match level {
                    L::Trace => Level::Trace,
                    L::Debug => Level::Debug,
                    L::Info => Level::Info,
                    L::Warn => Level::Warn,
                    L::Error => Level::Error,
                };
                CallState::log(self, level, message);
            }
        }

        impl $version::interwork::plugin::directory::Host for CallState {
            fn email_of(&mut self, im_uri: String) -> Option<String> {
                self.context.directory.email_of(&im_uri)
            }

            fn im_of(&mut self, address: String) -> Option<String> {
                self.context.directory.im_of(&address)
            }
        }

        impl $version::interwork::plugin::config::Host for CallState {
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

        impl $version::interwork::plugin::types::Host for CallState {}
    };
}

host_imports!(v0_1_0);
host_imports!(v0_2_0);
