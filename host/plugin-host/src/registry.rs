//! Which plugin serves which interface, and the live swap.
//!
//! The serving set (`PluginSet`) is an immutable snapshot behind an
//! `ArcSwap`: a call takes the current snapshot and runs on it to the end,
//! however many swaps happen meanwhile. A reload scans the plugin directory,
//! compiles and checks what is new off the hot path, decides the new set and
//! swaps it in with one atomic store.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use crate::bindings::Contract;
use crate::call::{LoadedPlugin, Role};
use crate::engine::{PluginEngine, content_hash};
use crate::error::{PluginId, PluginSource};

/// The plugins serving now.
#[derive(Debug, Clone)]
pub struct PluginSet {
    /// What serves `mapping`.
    pub mapping: Arc<LoadedPlugin>,
    /// What serves `conversion`.
    pub conversion: Arc<LoadedPlugin>,
}

impl PluginSet {
    /// The plugin serving `role`.
    pub fn get(&self, role: Role) -> &Arc<LoadedPlugin> {
        match role {
            Role::Mapping => &self.mapping,
            Role::Conversion => &self.conversion,
        }
    }

    fn get_mut(&mut self, role: Role) -> &mut Arc<LoadedPlugin> {
        match role {
            Role::Mapping => &mut self.mapping,
            Role::Conversion => &mut self.conversion,
        }
    }
}

/// Which file should serve each interface when several could
/// (`plugins.mapping`, `plugins.conversion`).
#[derive(Debug, Clone, Default)]
pub struct RoleChoice {
    /// File name (in the plugin directory) that serves `mapping`.
    pub mapping: Option<String>,
    /// File name that serves `conversion`.
    pub conversion: Option<String>,
}

impl RoleChoice {
    fn get(&self, role: Role) -> Option<&str> {
        match role {
            Role::Mapping => self.mapping.as_deref(),
            Role::Conversion => self.conversion.as_deref(),
        }
    }
}

/// What one file of the plugin directory is, as far as the last scan knows.
struct FileState {
    /// SHA-256 of the bytes last read.
    sha256: String,
    /// When the file was dropped in: its status-change time (written,
    /// copied, or renamed into the directory), in nanoseconds since the
    /// epoch. The newest of several files exporting one interface serves.
    dropped_in: i128,
    /// The newest version of this file that passed its checks (possibly an
    /// older one than on disk, when the new one was refused).
    good: Option<Arc<LoadedPlugin>>,
    /// Why the bytes on disk were refused, if they were.
    refused: Option<String>,
}

/// What a reload did.
#[derive(Debug, Default)]
pub struct ReloadReport {
    /// Interfaces whose plugin changed: (interface, new plugin).
    pub swapped: Vec<(Role, PluginId)>,
    /// Files refused, with the reason.
    pub refused: Vec<(PathBuf, String)>,
}

/// The plugins that serve an interface when the plugin directory has none
/// for it (the gateway embeds its defaults): a name and the component.
#[derive(Debug, Clone, Copy)]
pub struct DefaultPlugins<'a> {
    /// The default `mapping` plugin: its name and bytes.
    pub mapping: (&'a str, &'a [u8]),
    /// The default `conversion` plugin: its name and bytes.
    pub conversion: (&'a str, &'a [u8]),
}

/// The plugin registry of a running gateway.
pub struct Plugins {
    engine: Arc<PluginEngine>,
    defaults: PluginSet,
    dir: Option<PathBuf>,
    /// Which file serves an interface, when pinned (config, or
    /// [`Plugins::pin`] at run time).
    choice: Mutex<RoleChoice>,
    current: ArcSwap<PluginSet>,
    files: Mutex<BTreeMap<PathBuf, FileState>>,
}

fn embedded_plugin(
    engine: &PluginEngine,
    name: &str,
    bytes: &[u8],
) -> anyhow::Result<Arc<LoadedPlugin>> {
    let id = PluginId {
        name: name.into(),
        source: PluginSource::Embedded,
    };
    let plugin = engine.load(id, bytes)?;
    plugin.check(engine)?;
    Ok(Arc::new(plugin))
}

/// Whether a directory entry is a plugin candidate: `*.wasm`, not hidden
/// (editors and `rsync` write hidden temporary files before renaming).
pub fn is_plugin_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "wasm")
        && !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

impl Plugins {
    /// The defaults, then whatever the plugin directory holds.
    pub fn start(
        engine: Arc<PluginEngine>,
        defaults: DefaultPlugins<'_>,
        dir: Option<PathBuf>,
        choice: RoleChoice,
    ) -> anyhow::Result<Self> {
        let defaults = PluginSet {
            mapping: embedded_plugin(&engine, defaults.mapping.0, defaults.mapping.1)?,
            conversion: embedded_plugin(&engine, defaults.conversion.0, defaults.conversion.1)?,
        };
        let plugins = Self {
            engine,
            current: ArcSwap::from_pointee(defaults.clone()),
            defaults,
            dir,
            choice: Mutex::new(choice),
            files: Mutex::new(BTreeMap::new()),
        };
        plugins.reload();
        Ok(plugins)
    }

    /// The engine the plugins run in.
    pub fn engine(&self) -> &PluginEngine {
        &self.engine
    }

    /// The watched directory, if any.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The serving snapshot. Hold it for the whole of one message, so that
    /// a message sees one version of each plugin.
    pub fn current(&self) -> Arc<PluginSet> {
        self.current.load_full()
    }

    /// The pins in force.
    pub fn choice(&self) -> RoleChoice {
        self.choice
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the pins (a reloaded configuration) and rescans. Blocking,
    /// as [`Plugins::reload`].
    pub fn set_choice(&self, choice: RoleChoice) -> ReloadReport {
        *self.choice.lock().unwrap_or_else(|e| e.into_inner()) = choice;
        self.reload()
    }

    /// Pins the checked plugin file `file_name` of the plugin directory to
    /// every interface it exports (`interwork plugins use`), and swaps it
    /// in; the interfaces pinned. Blocking, as [`Plugins::reload`]. Until
    /// the configuration is reloaded or the process restarts.
    pub fn pin(&self, file_name: &str) -> Result<Vec<Role>, String> {
        // Read the directory first: the file may have just been copied in.
        self.reload();
        let plugin = {
            let files = self.files.lock().unwrap_or_else(|e| e.into_inner());
            let found = files
                .iter()
                .find(|(path, _)| path.file_name().is_some_and(|n| n == file_name));
            match found {
                None => {
                    return Err(match &self.dir {
                        Some(dir) => format!(
                            "{file_name} is not in the plugin directory {}; copy it there first",
                            dir.display()
                        ),
                        None => "no plugin directory is configured (plugins.dir)".to_string(),
                    });
                }
                Some((_, state)) => match (&state.good, &state.refused) {
                    (_, Some(why)) => return Err(format!("{file_name} is refused: {why}")),
                    (Some(good), None) => good.clone(),
                    (None, None) => return Err(format!("{file_name} is not checked yet")),
                },
            }
        };
        let roles: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| plugin.serves(*r))
            .collect();
        {
            let mut choice = self.choice.lock().unwrap_or_else(|e| e.into_inner());
            for role in &roles {
                match role {
                    Role::Mapping => choice.mapping = Some(file_name.to_string()),
                    Role::Conversion => choice.conversion = Some(file_name.to_string()),
                }
            }
        }
        self.reload();
        Ok(roles)
    }

    /// Files of the plugin directory that are refused now, with reasons.
    pub fn refused(&self) -> Vec<(PathBuf, String)> {
        let files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        files
            .iter()
            .filter_map(|(p, s)| s.refused.clone().map(|r| (p.clone(), r)))
            .collect()
    }

    /// Rescans the plugin directory and swaps in what changed. Blocking
    /// (it compiles): call it from a thread of its own, not from a task.
    pub fn reload(&self) -> ReloadReport {
        let mut report = ReloadReport::default();
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        let paths = match &self.dir {
            Some(dir) => match list_plugin_files(dir) {
                Ok(paths) => paths,
                Err(e) => {
                    tracing::error!(dir = %dir.display(), "cannot read plugin directory: {e}");
                    return report;
                }
            },
            None => Vec::new(),
        };
        let mut scanned = BTreeMap::new();
        for path in paths {
            let old = files.remove(&path);
            let state = self.scan_file(&path, old);
            if let Some(reason) = &state.refused {
                report.refused.push((path.clone(), reason.clone()));
            }
            scanned.insert(path, state);
        }
        *files = scanned;

        let current = self.current.load_full();
        let mut next = (*current).clone();
        for role in Role::ALL {
            // Some plugin always serves: a file, or the embedded default.
            let chosen = self.choose(role, &files);
            if !Arc::ptr_eq(next.get(role), &chosen) {
                metrics::counter!("interwork_plugin_swaps_total", "interface" => role.name())
                    .increment(1);
                report.swapped.push((role, chosen.id.clone()));
                *next.get_mut(role) = chosen;
            }
        }
        if !report.swapped.is_empty() {
            for (role, id) in &report.swapped {
                let sha = &next.get(*role).sha256;
                tracing::info!(
                    interface = role.name(),
                    sha256 = &sha[..16],
                    "now served by {id}"
                );
            }
            self.current.store(Arc::new(next));
        }
        report
    }

    fn scan_file(&self, path: &Path, old: Option<FileState>) -> FileState {
        let dropped_in = dropped_in(path);
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                // Gone between listing and reading, or unreadable: keep
                // what we had; the next event will tell.
                let reason = format!("cannot read: {e}");
                tracing::warn!(path = %path.display(), "{reason}");
                return FileState {
                    sha256: old.as_ref().map(|o| o.sha256.clone()).unwrap_or_default(),
                    dropped_in,
                    good: old.and_then(|o| o.good),
                    refused: Some(reason),
                };
            }
        };
        let sha256 = content_hash(&bytes);
        let state = match old {
            Some(old) if old.sha256 == sha256 => old,
            Some(old) => self.check_new_bytes(path, &bytes, sha256, old.good),
            None => self.check_new_bytes(path, &bytes, sha256, None),
        };
        FileState {
            dropped_in,
            ..state
        }
    }

    fn check_new_bytes(
        &self,
        path: &Path,
        bytes: &[u8],
        sha256: String,
        previous: Option<Arc<LoadedPlugin>>,
    ) -> FileState {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let id = PluginId {
            name: name.into(),
            source: PluginSource::File(path.to_path_buf()),
        };
        let loaded = self
            .engine
            .load(id, bytes)
            .and_then(|p| p.check(&self.engine).map(|()| p));
        match loaded {
            Ok(plugin) => {
                tracing::info!(
                    path = %path.display(),
                    sha256 = &sha256[..16],
                    exports = %plugin.exports().join(", "),
                    plugin = %plugin.describe(),
                    "plugin checked"
                );
                if plugin.contract() != Contract::NEWEST {
                    // README "Contract versions": served, through its
                    // adapter, until the deprecation rule retires it.
                    tracing::info!(
                        path = %path.display(),
                        "contract {} is served through its adapter; the newest is {} \
                         (rebuild with the current SDK to use what it adds)",
                        plugin.contract(),
                        Contract::NEWEST
                    );
                }
                FileState {
                    sha256,
                    dropped_in: 0,
                    good: Some(Arc::new(plugin)),
                    refused: None,
                }
            }
            Err(e) => {
                let reason = e.to_string();
                match &previous {
                    Some(prev) => tracing::error!(
                        path = %path.display(),
                        "plugin refused: {reason}; the version checked earlier (sha256 {}) keeps serving",
                        &prev.sha256[..16]
                    ),
                    None => tracing::error!(path = %path.display(), "plugin refused: {reason}"),
                }
                FileState {
                    sha256,
                    dropped_in: 0,
                    good: previous,
                    refused: Some(reason),
                }
            }
        }
    }

    /// The plugin that should serve `role` given the scanned files.
    fn choose(&self, role: Role, files: &BTreeMap<PathBuf, FileState>) -> Arc<LoadedPlugin> {
        let serving: Vec<(&PathBuf, &Arc<LoadedPlugin>, i128)> = files
            .iter()
            .filter_map(|(path, state)| state.good.as_ref().map(|g| (path, g, state.dropped_in)))
            .filter(|(_, plugin, _)| plugin.serves(role))
            .collect();
        let choice = self
            .choice
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(wanted) = choice.get(role) {
            let found = serving
                .iter()
                .find(|(path, _, _)| path.file_name().is_some_and(|n| n == wanted));
            return match found {
                Some((_, plugin, _)) => Arc::clone(plugin),
                None => {
                    tracing::warn!(
                        interface = role.name(),
                        "plugins.{} = {wanted:?} is not a checked plugin exporting {}; \
                         the embedded default serves",
                        role.name(),
                        role.interface()
                    );
                    self.defaults.get(role).clone()
                }
            };
        }
        // Several: the newest dropped in serves (the operator's latest
        // intent); ties go to the last name, so the choice is stable.
        let newest = serving.iter().max_by(|a, b| (a.2, a.0).cmp(&(b.2, b.0)));
        match newest {
            None => self.defaults.get(role).clone(),
            Some((path, plugin, _)) => {
                if serving.len() > 1 {
                    let others: Vec<String> = serving
                        .iter()
                        .filter(|(p, _, _)| p != path)
                        .map(|(p, _, _)| p.display().to_string())
                        .collect();
                    tracing::info!(
                        interface = role.name(),
                        "{} plugins export {}: the newest, {}, serves ({} do not; set \
                         plugins.{} to pin one)",
                        serving.len(),
                        role.interface(),
                        path.display(),
                        others.join(", "),
                        role.name()
                    );
                }
                Arc::clone(plugin)
            }
        }
    }
}

/// A file's status-change time in nanoseconds since the epoch (0 when it
/// cannot be read): when it was written or renamed into the directory.
fn dropped_in(path: &Path) -> i128 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .map(|m| i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()))
        .unwrap_or(0)
}

fn list_plugin_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if is_plugin_file(&path) && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}
