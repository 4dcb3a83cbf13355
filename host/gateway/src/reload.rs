//! SIGHUP and `interwork reload` (issue 13): the configuration file is read
//! again and validated whole; if it is invalid, nothing changes and the
//! error says why. Otherwise what can change while serving is applied at
//! at once — plugin configuration and pins, the IM and mail domains and
//! the IM systems' next hops, the trusted SIP peers, the admission limit,
//! the plugin call time, the directory, the drain time —
//! and every other key that changed is named as needing a restart (the
//! listen addresses, the store, the limits, …) until the process restarts.
//! Each step is one line in the log, and the same lines answer `reload`.

use std::sync::Arc;

use interwork_plugin_host::{PluginWatch, Plugins, RoleChoice};
use interwork_store::Store;

use crate::admission::Admission;
use crate::config::{Config, ConfigSource};
use crate::flows::email_to_im::EmailToIm;
use crate::listen::TrustedPeers;
use crate::plugins;

/// Keys that take effect without a restart: the plugins read them through
/// their host context, or the registry through its pins. A key is live
/// when it is one of these or below one.
const LIVE_KEYS: &[&str] = &[
    "plugins.config",
    "plugins.mapping",
    "plugins.conversion",
    "directory.file",
    "gateway.mail_domains",
    "im_domains",
    "sip.trusted_peers",
    "limits.max_messages_in_flight",
    "limits.busy_retry_after_secs",
    "limits.plugin_time_ms",
    "shutdown.drain_secs",
];

/// What of the running listeners a reload may change, each swapped whole.
#[derive(Clone)]
pub struct Knobs {
    /// `sip.trusted_peers` of the SIP endpoint and the SIP TCP listener.
    pub trusted: TrustedPeers,
    /// The messages in flight (`limits.max_messages_in_flight`).
    pub messages: Arc<Admission>,
    /// The SIP requests in the works (the same limit).
    pub requests: Arc<Admission>,
    /// Mail → IM: its routes to the IM systems (`[[im_domains]]`).
    pub email_to_im: Arc<EmailToIm>,
}

impl Knobs {
    fn apply(&self, config: &Config, plugins: &Plugins) {
        self.trusted.replace(config.sip.trusted_peers.clone());
        let (limit, retry) = (
            config.limits.max_messages_in_flight,
            config.limits.busy_retry_after_secs,
        );
        self.messages.set_limits(limit, retry);
        self.requests.set_limits(limit, retry);
        self.email_to_im.set_routes(config);
        plugins
            .engine()
            .set_call_time(plugins::call_limits(&config.limits).time);
    }
}

/// The run loop's reloader.
pub struct Reloader<'a> {
    /// The configuration the process started with: what a key needing a
    /// restart still is.
    pub started: Config,
    /// The configuration last applied.
    pub applied: Config,
    /// Where it came from.
    pub source: ConfigSource,
    /// The plugins it configures.
    pub plugins: Arc<Plugins>,
    /// The store (a shared directory lives there).
    pub store: Arc<dyn Store>,
    /// The plugin directory's watcher.
    pub watch: &'a PluginWatch,
    /// The listeners' settings a reload changes.
    pub knobs: Knobs,
}

impl Reloader<'_> {
    /// Reloads; what happened, a line each (each also logged).
    pub async fn reload(&mut self) -> Vec<String> {
        let mut said = Vec::new();
        let mut say = |level: tracing::Level, line: String| {
            match level {
                tracing::Level::ERROR => tracing::error!("{line}"),
                tracing::Level::WARN => tracing::warn!("{line}"),
                _ => tracing::info!("{line}"),
            }
            said.push(line);
        };
        let next = match &self.source {
            ConfigSource::Embedded => None,
            ConfigSource::File(path) => match Config::load(Some(path)) {
                Ok((next, _)) => Some(next),
                Err(e) => {
                    say(
                        tracing::Level::ERROR,
                        format!(
                            "{}: {}; the configuration in force stays, nothing was reloaded",
                            path.display(),
                            e.one_line()
                        ),
                    );
                    return said;
                }
            },
        };
        if let Some(next) = next {
            let changed = changed_keys(&self.applied, &next);
            let restart: Vec<String> = changed_keys(&self.started, &next)
                .into_iter()
                .filter(|key| !is_live(key))
                .collect();
            for key in changed.iter().filter(|key| is_live(key)) {
                say(tracing::Level::INFO, format!("{key} changed: applied"));
            }
            for key in &restart {
                say(
                    tracing::Level::WARN,
                    format!("{key} changed: needs restart (the value in force stays)"),
                );
            }
            // The live keys of the new file over the rest of the old one.
            let mut applied = self.started.clone();
            applied.plugins.config = next.plugins.config.clone();
            applied.plugins.mapping = next.plugins.mapping.clone();
            applied.plugins.conversion = next.plugins.conversion.clone();
            applied.directory.file = next.directory.file.clone();
            applied.gateway.mail_domains = next.gateway.mail_domains.clone();
            applied.im_domains = next.im_domains.clone();
            applied.sip.trusted_peers = next.sip.trusted_peers.clone();
            applied.limits.max_messages_in_flight = next.limits.max_messages_in_flight;
            applied.limits.busy_retry_after_secs = next.limits.busy_retry_after_secs;
            applied.limits.plugin_time_ms = next.limits.plugin_time_ms;
            applied.shutdown = next.shutdown.clone();
            self.knobs.apply(&applied, &self.plugins);
            self.applied = applied;
        }
        let config = self.applied.clone();
        if config.directory.shared {
            if let Err(e) =
                plugins::load_shared_directory(&config, &self.plugins, self.store.as_ref()).await
            {
                say(
                    tracing::Level::ERROR,
                    format!("{e:#}; the previous directory stays"),
                );
            }
        } else {
            match plugins::load_directory(&config) {
                Ok(directory) => {
                    say(
                        tracing::Level::INFO,
                        format!("directory loaded: {} addresses", directory.len()),
                    );
                    self.plugins
                        .engine()
                        .set_context(plugins::host_context(&config, directory));
                }
                Err(e) => say(
                    tracing::Level::ERROR,
                    format!("{e:#}; the previous directory stays"),
                ),
            }
        }
        let choice = RoleChoice {
            mapping: config.plugins.mapping.clone(),
            conversion: config.plugins.conversion.clone(),
        };
        let plugins = self.plugins.clone();
        let report = tokio::task::spawn_blocking(move || plugins.set_choice(choice)).await;
        match report {
            Ok(report) => {
                for (role, id) in report.swapped {
                    say(
                        tracing::Level::INFO,
                        format!("{} now served by {id}", role.name()),
                    );
                }
                for (path, why) in report.refused {
                    say(
                        tracing::Level::WARN,
                        format!("{} refused: {why}", path.display()),
                    );
                }
            }
            Err(e) => say(
                tracing::Level::ERROR,
                format!("the plugin rescan failed: {e}"),
            ),
        }
        self.watch.request_reload();
        said
    }
}

fn is_live(key: &str) -> bool {
    LIVE_KEYS
        .iter()
        .any(|live| key == *live || key.starts_with(&format!("{live}.")))
}

/// The dotted keys whose values differ between two configurations, in
/// order; a table that appears or goes is one key, an array is compared
/// whole.
pub fn changed_keys(old: &Config, new: &Config) -> Vec<String> {
    let table = |config: &Config| {
        toml::Value::try_from(config)
            .ok()
            .and_then(|v| v.as_table().cloned())
            .unwrap_or_default()
    };
    let mut changed = Vec::new();
    diff("", &table(old), &table(new), &mut changed);
    changed
}

fn diff(prefix: &str, old: &toml::Table, new: &toml::Table, changed: &mut Vec<String>) {
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for key in keys {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match (old.get(key), new.get(key)) {
            (Some(toml::Value::Table(a)), Some(toml::Value::Table(b))) => {
                diff(&path, a, b, changed)
            }
            (a, b) if a != b => changed.push(path),
            _ => {}
        }
    }
}

/// For tests: the configuration of `text`.
#[cfg(test)]
fn parsed(text: &str) -> Config {
    Config::parse(text, std::path::Path::new("/")).expect("valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_keys_name_each_difference_once() {
        let old = parsed(crate::config::EMBEDDED_DEFAULT);
        let new = parsed(
            &crate::config::EMBEDDED_DEFAULT
                .replace(
                    "max_messages_in_flight = 512",
                    "max_messages_in_flight = 64",
                )
                .replace("drain_secs = 30", "drain_secs = 5")
                .replace("command_timeout_secs = 300", "command_timeout_secs = 60"),
        );
        let keys = changed_keys(&old, &new);
        assert_eq!(
            keys,
            [
                "limits.max_messages_in_flight",
                "shutdown.drain_secs",
                "smtp.command_timeout_secs"
            ]
        );
        assert!(changed_keys(&old, &old).is_empty());
        assert!(is_live("plugins.config.greeting"));
        assert!(is_live("plugins.mapping"));
        assert!(!is_live("plugins.dir"));
        assert!(!is_live("sip.udp_listen"));
        assert!(is_live("shutdown.drain_secs"));
        assert!(is_live("limits.max_messages_in_flight"));
        assert!(!is_live("limits.mail_max_bytes"));
        assert!(is_live("im_domains"));
    }
}
