//! Errors of plugins. A plugin's own refusal (`GuestError`, the WIT
//! `plugin-error`) is a decision about the message; a fault (`GuestFault`:
//! trap, deadline, memory cap) is the plugin failing. Both name the plugin
//! and its file, because an operator may run several.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where a plugin came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginSource {
    /// Compiled into the binary.
    Embedded,
    /// A file of the plugin directory (or given on the command line).
    File(PathBuf),
}

/// A plugin's name and where it came from, e.g.
/// `default-mapping (embedded)` or `directory_mapping (/etc/…/x.wasm)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginId {
    /// The file stem, or the default's name.
    pub name: Arc<str>,
    /// Where it came from.
    pub source: PluginSource,
}

impl fmt::Display for PluginId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            PluginSource::Embedded => write!(f, "{} (embedded)", self.name),
            PluginSource::File(path) => write!(f, "{} ({})", self.name, path.display()),
        }
    }
}

/// The kind of a plugin's refusal (WIT `error-kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// `not-found`: the address or identity is unknown.
    NotFound,
    /// `invalid`: the input is malformed.
    Invalid,
    /// `temporary`: cannot be decided now.
    Temporary,
    /// `permanent`: will never be accepted.
    Permanent,
}

impl fmt::Display for RefusalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotFound => "not found",
            Self::Invalid => "invalid",
            Self::Temporary => "temporary",
            Self::Permanent => "permanent",
        })
    }
}

/// A plugin returned `err(plugin-error)`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("plugin {plugin} refused ({kind}): {reason}")]
pub struct GuestError {
    /// Which plugin refused.
    pub plugin: PluginId,
    /// Its `error-kind`.
    pub kind: RefusalKind,
    /// Its reason.
    pub reason: String,
}

/// How a plugin failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// It ran past its time limit and was interrupted.
    Deadline(Duration),
    /// It tried to grow its memory past the cap (bytes asked, cap).
    MemoryLimit {
        /// Bytes asked for.
        asked: usize,
        /// The cap in bytes.
        cap: usize,
    },
    /// It trapped (`unreachable`, out-of-bounds access, a WASI call, …).
    Trap(String),
    /// It could not even be instantiated.
    Instantiate(String),
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Deadline(limit) => write!(f, "stopped after its time limit of {limit:?}"),
            Self::MemoryLimit { asked, cap } => write!(
                f,
                "stopped asking for {} MiB of memory (cap {} MiB)",
                asked.div_ceil(1 << 20),
                cap >> 20
            ),
            Self::Trap(what) => write!(f, "trapped: {what}"),
            Self::Instantiate(what) => write!(f, "could not be instantiated: {what}"),
        }
    }
}

/// A plugin failed while serving a call.
#[derive(Debug, Clone, thiserror::Error)]
#[error("plugin {plugin} {kind}")]
pub struct GuestFault {
    /// Which plugin failed.
    pub plugin: PluginId,
    /// How.
    pub kind: FaultKind,
}

/// Why a plugin call did not return a result.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// The plugin answered `err(plugin-error)`: a decision.
    #[error(transparent)]
    Refused(#[from] GuestError),
    /// The plugin failed: a fault.
    #[error(transparent)]
    Fault(#[from] GuestFault),
}

/// Why a plugin file was not taken into service.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file cannot be read.
    #[error("{path}: cannot read: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why. In the message, not a `source`: with its
        /// chain it would be printed twice.
        error: std::io::Error,
    },
    /// Not a component wasmtime can compile.
    #[error("{plugin}: not a valid WebAssembly component: {reason}")]
    Compile {
        /// The plugin.
        plugin: PluginId,
        /// What wasmtime said.
        reason: String,
    },
    /// A component, but not one of this contract (world, version, imports).
    #[error("{plugin}: {reason}")]
    Contract {
        /// The plugin.
        plugin: PluginId,
        /// What does not fit.
        reason: String,
    },
    /// It faulted on a sample call.
    #[error("{fault} (failed its check call {call})")]
    Check {
        /// The call and its arguments, as the WIT names them, e.g.
        /// `mapping.email-of-im("sip:interwork-check@im.example.test", sender)`.
        call: String,
        /// How it faulted.
        fault: GuestFault,
    },
}
