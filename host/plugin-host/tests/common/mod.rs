//! Shared by the plugin runtime's integration tests: engines over the real
//! guest components that `interwork-test-plugins` builds.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use interwork_test_plugins::{IM_DOMAINS, MAIL_DOMAINS, PLUGIN_CONFIG};

use interwork_plugin_host::{CallLimits, DefaultPlugins, HostContext, NoDirectory, PluginEngine};

/// A built guest component, e.g. `fixture_trap`.
pub fn guest(name: &str) -> PathBuf {
    interwork_test_plugins::wasm(name)
}

/// The bytes of a built guest component, kept for the whole test process.
pub fn guest_bytes(name: &'static str) -> &'static [u8] {
    static MAPPING: OnceLock<Vec<u8>> = OnceLock::new();
    static CONVERSION: OnceLock<Vec<u8>> = OnceLock::new();
    let cell = match name {
        "default_mapping" => &MAPPING,
        "default_conversion" => &CONVERSION,
        other => panic!("no kept bytes for {other}"),
    };
    cell.get_or_init(|| interwork_test_plugins::wasm_bytes(name))
}

/// The default plugins, as the gateway embeds them.
pub fn defaults() -> DefaultPlugins<'static> {
    DefaultPlugins {
        mapping: ("default-mapping", guest_bytes("default_mapping")),
        conversion: ("default-conversion", guest_bytes("default_conversion")),
    }
}

/// The compile cache shared by the tests of one build.
pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plugin-cache")
}

/// Served domains as in `examples/interwork.toml`.
pub fn context() -> HostContext {
    HostContext {
        im_domains: IM_DOMAINS.iter().map(|d| d.to_string()).collect(),
        mail_domains: MAIL_DOMAINS.iter().map(|d| d.to_string()).collect(),
        plugin_config: PLUGIN_CONFIG
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        directory: Arc::new(NoDirectory),
    }
}

pub fn limits() -> CallLimits {
    CallLimits {
        memory_bytes: 64 << 20,
        time: Duration::from_millis(100),
    }
}

pub fn engine_with(limits: CallLimits) -> Arc<PluginEngine> {
    Arc::new(PluginEngine::new(limits, Some(cache_dir()), context()).expect("engine"))
}

pub fn engine() -> Arc<PluginEngine> {
    engine_with(limits())
}
