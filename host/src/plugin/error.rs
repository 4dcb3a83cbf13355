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
    pub name: Arc<str>,
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
    NotFound,
    Invalid,
    Temporary,
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
    pub plugin: PluginId,
    pub kind: RefusalKind,
    pub reason: String,
}

/// How a plugin failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// It ran past its time limit and was interrupted.
    Deadline(Duration),
    /// It tried to grow its memory past the cap (bytes asked, cap).
    MemoryLimit { asked: usize, cap: usize },
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
    pub plugin: PluginId,
    pub kind: FaultKind,
}

/// Why a plugin call did not return a result.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    #[error(transparent)]
    Refused(#[from] GuestError),
    #[error(transparent)]
    Fault(#[from] GuestFault),
}

/// Why a plugin file was not taken into service.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{plugin}: not a valid WebAssembly component: {reason}")]
    Compile { plugin: PluginId, reason: String },
    #[error("{plugin}: {reason}")]
    Contract { plugin: PluginId, reason: String },
    #[error("{0} (failed its check call)")]
    Check(GuestFault),
}
