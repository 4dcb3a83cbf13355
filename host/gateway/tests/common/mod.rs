//! Shared by the gateway's integration tests of its default plugins: the
//! embedded components in the real plugin engine, with the real directory.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use interwork_test_plugins::{IM_DOMAINS, MAIL_DOMAINS, PLUGIN_CONFIG};

use interwork::directory::Directory;
use interwork_plugin_host::{CallLimits, HostContext, PluginEngine};

/// The compile cache shared by the tests of one build.
pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plugin-cache")
}

/// Served domains as in `examples/interwork.toml`.
pub fn context(directory: Directory) -> HostContext {
    HostContext {
        im_domains: IM_DOMAINS.iter().map(|d| d.to_string()).collect(),
        mail_domains: MAIL_DOMAINS.iter().map(|d| d.to_string()).collect(),
        plugin_config: PLUGIN_CONFIG
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        directory: Arc::new(directory),
    }
}

pub fn limits() -> CallLimits {
    CallLimits {
        memory_bytes: 64 << 20,
        time: Duration::from_millis(100),
    }
}

pub fn engine_with(limits: CallLimits, directory: Directory) -> Arc<PluginEngine> {
    Arc::new(PluginEngine::new(limits, Some(cache_dir()), context(directory)).expect("engine"))
}

pub fn engine() -> Arc<PluginEngine> {
    engine_with(limits(), Directory::default())
}

/// A directory with provisioned addresses, from TOML text.
pub fn directory(toml: &str) -> Directory {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), toml).expect("write");
    Directory::load(file.path()).expect("directory parses")
}
