//! This gateway's plugins: the defaults embedded in the binary (built by
//! `build.rs` from `plugins/`), and the plugin runtime set up from the
//! configuration's `[plugins]`, `[limits]` and directory file.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use interwork_plugin_host::{
    CallLimits, DefaultPlugins, HostContext, PluginEngine, Plugins, RoleChoice,
};

use crate::config::{self, Config};
use crate::directory::Directory;

/// `plugins/default-mapping`
pub const DEFAULT_MAPPING: &[u8] = include_bytes!(concat!(
    env!("INTERWORK_GUEST_WASM_DIR"),
    "/default_mapping.wasm"
));

/// `plugins/default-conversion`
pub const DEFAULT_CONVERSION: &[u8] = include_bytes!(concat!(
    env!("INTERWORK_GUEST_WASM_DIR"),
    "/default_conversion.wasm"
));

/// The embedded defaults: what serves an interface no file in
/// `plugins.dir` serves.
pub fn defaults() -> DefaultPlugins<'static> {
    DefaultPlugins {
        mapping: ("default-mapping", DEFAULT_MAPPING),
        conversion: ("default-conversion", DEFAULT_CONVERSION),
    }
}

/// The limits of one plugin call (`[limits]`).
pub fn call_limits(limits: &config::Limits) -> CallLimits {
    CallLimits {
        memory_bytes: usize::try_from(limits.plugin_memory_mib << 20).unwrap_or(usize::MAX),
        time: Duration::from_millis(limits.plugin_time_ms),
    }
}

/// What plugins may read: the served domains, `[plugins.config]` and the
/// directory of provisioned addresses.
pub fn host_context(config: &Config, directory: Arc<Directory>) -> HostContext {
    HostContext {
        im_domains: config.im_domain_names(),
        mail_domains: config.gateway.mail_domains.clone(),
        plugin_config: config.plugin_values(),
        directory,
    }
}

/// Reads the directory file of a configuration (empty when none is set).
pub fn load_directory(config: &Config) -> anyhow::Result<Arc<Directory>> {
    match &config.directory.file {
        Some(path) => Ok(Arc::new(Directory::load(path)?)),
        None => Ok(Arc::new(Directory::default())),
    }
}

/// The plugin engine of a configuration: its limits, compile cache and
/// context.
pub fn engine_for(config: &Config, directory: Arc<Directory>) -> anyhow::Result<Arc<PluginEngine>> {
    Ok(Arc::new(PluginEngine::new(
        call_limits(&config.limits),
        config.plugin_cache_dir(),
        host_context(config, directory),
    )?))
}

/// Which file serves which interface, from the configuration.
pub fn role_choice(config: &Config) -> RoleChoice {
    RoleChoice {
        mapping: config.plugins.mapping.clone(),
        conversion: config.plugins.conversion.clone(),
    }
}

/// The registry `interwork run` serves with, creating the plugin directory
/// when it is missing. Blocking (it compiles).
pub fn start(config: &Config) -> anyhow::Result<Arc<Plugins>> {
    if let Some(dir) = config.plugins.dir.as_ref().filter(|d| !d.exists()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create plugins.dir {}", dir.display()))?;
        tracing::info!(dir = %dir.display(), "created the plugin directory");
    }
    open(config)
}

/// The registry the way `run` would load it, without watching or creating
/// directories (the one-shot commands).
pub fn open(config: &Config) -> anyhow::Result<Arc<Plugins>> {
    let directory = load_directory(config)?;
    let engine = engine_for(config, directory)?;
    let dir = config.plugins.dir.clone().filter(|d| d.is_dir());
    Ok(Arc::new(Plugins::start(
        engine,
        defaults(),
        dir,
        role_choice(config),
    )?))
}

/// What is wrong with the pins of a configuration (`plugins.mapping`,
/// `plugins.conversion`) given the registry it loaded: a file that is not
/// there, is refused, or does not export the interface. `check-config`
/// fails on these; `run` serves the embedded default and warns.
pub fn pin_problems(config: &Config, plugins: &Plugins) -> Vec<String> {
    use interwork_plugin_host::{PluginSource, Role};
    let set = plugins.current();
    let refused = plugins.refused();
    let mut problems = Vec::new();
    for (role, key, wanted) in [
        (Role::Mapping, "plugins.mapping", &config.plugins.mapping),
        (
            Role::Conversion,
            "plugins.conversion",
            &config.plugins.conversion,
        ),
    ] {
        let Some(wanted) = wanted else { continue };
        let served = set.get(role);
        if matches!(&served.id.source, PluginSource::File(path) if path.file_name().is_some_and(|n| n == wanted.as_str()))
        {
            continue;
        }
        let dir = config.plugins.dir.clone().unwrap_or_default();
        let path = dir.join(wanted);
        let why = if !path.is_file() {
            format!("no such file in plugins.dir {}", dir.display())
        } else if let Some((_, reason)) = refused.iter().find(|(p, _)| *p == path) {
            format!("refused: {reason}")
        } else {
            format!("does not export {}", role.interface())
        };
        problems.push(format!("{key} = {wanted:?}: {why}"));
    }
    problems
}

/// Serves the directory shared in the store (`[directory] shared`);
/// returns its version.
pub async fn load_shared_directory(
    config: &Config,
    plugins: &Plugins,
    store: &dyn interwork_store::Store,
) -> anyhow::Result<i64> {
    let (version, directory) = crate::spool::shared_directory(store).await?;
    tracing::info!(
        addresses = directory.len(),
        version,
        "shared directory loaded from the store"
    );
    plugins
        .engine()
        .set_context(host_context(config, Arc::new(directory)));
    Ok(version)
}
