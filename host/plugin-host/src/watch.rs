//! Live reload: the plugin directory is watched, and a change reloads the
//! registry on a thread of its own, after the burst of events settles.
//!
//! Acted on: a file closed after writing (`cp`, a compiler's output), a
//! file renamed into or out of the directory (the atomic `mv` an installer
//! should use), and a removal. A file being created is not acted on: it is
//! still empty, and its close-after-write follows.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};

use crate::registry::{Plugins, is_plugin_file};

/// Quiet time after the last event before a reload: a copy of a large file
/// raises several events, and one reload should see the finished file.
pub const SETTLE: Duration = Duration::from_millis(50);

/// Why the reload thread should wake up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Something changed in the plugin directory.
    Changed,
    /// SIGHUP or an explicit request.
    Requested,
    /// The gateway is stopping.
    Stop,
}

/// The running watcher. Dropping it stops the watch and the thread.
pub struct PluginWatch {
    triggers: Sender<Trigger>,
    _watcher: Option<RecommendedWatcher>,
    thread: Option<JoinHandle<()>>,
}

impl PluginWatch {
    /// Watches the plugins' directory (if they have one) and reloads on
    /// change; `after_reload` runs after each reload on the reload thread.
    pub fn start(
        plugins: Arc<Plugins>,
        after_reload: impl Fn(&Plugins) + Send + 'static,
    ) -> anyhow::Result<Self> {
        let (triggers, events) = mpsc::channel();
        let watcher = match plugins.dir() {
            Some(dir) => Some(watch_dir(dir, triggers.clone())?),
            None => None,
        };
        let thread = std::thread::Builder::new()
            .name("plugin-reload".into())
            .spawn(move || {
                while let Ok(trigger) = events.recv() {
                    if trigger == Trigger::Stop {
                        break;
                    }
                    // Let the burst settle: keep draining until quiet.
                    let mut stop = false;
                    loop {
                        match events.recv_timeout(SETTLE) {
                            Ok(Trigger::Stop) => {
                                stop = true;
                                break;
                            }
                            Ok(_) => continue,
                            Err(RecvTimeoutError::Timeout) => break,
                            Err(RecvTimeoutError::Disconnected) => {
                                stop = true;
                                break;
                            }
                        }
                    }
                    if stop {
                        break;
                    }
                    plugins.reload();
                    after_reload(&plugins);
                }
            })?;
        Ok(Self {
            triggers,
            _watcher: watcher,
            thread: Some(thread),
        })
    }

    /// Asks for a reload (SIGHUP).
    pub fn request_reload(&self) {
        let _ = self.triggers.send(Trigger::Requested);
    }
}

impl Drop for PluginWatch {
    fn drop(&mut self) {
        let _ = self.triggers.send(Trigger::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Whether a file-system event may change which plugins serve.
fn is_relevant(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Access(AccessKind::Close(AccessMode::Write))
            | EventKind::Modify(ModifyKind::Name(_))
            | EventKind::Remove(_)
    )
}

fn watch_dir(dir: &Path, triggers: Sender<Trigger>) -> anyhow::Result<RecommendedWatcher> {
    let mut watcher =
        notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
            Ok(event) => {
                let ours = event.paths.iter().any(|p: &PathBuf| is_plugin_file(p));
                if ours && is_relevant(&event.kind) {
                    let _ = triggers.send(Trigger::Changed);
                }
            }
            Err(e) => tracing::warn!("plugin directory watch: {e}"),
        })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;
    Ok(watcher)
}
