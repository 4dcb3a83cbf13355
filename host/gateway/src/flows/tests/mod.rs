//! Both directions in memory: the real flows with the real default plugins,
//! the recipient's mail system and the IM system played by fakes behind the
//! trait seams (`MailDelivery`, `SipSender`), no socket but the in-process
//! MSRP receiver of large-message mode and no external program. The
//! end-to-end tests with real peers are in `tests/`.

mod email_to_im;
mod im_to_email;

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use interwork_plugin_host::{PluginEngine, Plugins, RoleChoice};

use interwork_store::SqliteStore;

use crate::config::{Config, EMBEDDED_DEFAULT};
use crate::directory::Directory;
use crate::plugins;
use crate::spool::{QueuePolicy, Spool};

/// The embedded example configuration.
fn config() -> Config {
    Config::parse(EMBEDDED_DEFAULT, Path::new("/nonexistent")).expect("example parses")
}

/// The embedded default plugins, compiled once per test process (no
/// plugin directory, no compile cache on disk).
fn default_plugins() -> Arc<Plugins> {
    static PLUGINS: OnceLock<Arc<Plugins>> = OnceLock::new();
    PLUGINS
        .get_or_init(|| {
            let config = config();
            let engine = PluginEngine::new(
                plugins::call_limits(&config.limits),
                None,
                plugins::host_context(&config, Arc::new(Directory::default())),
            )
            .expect("engine");
            Arc::new(
                Plugins::start(
                    Arc::new(engine),
                    plugins::defaults(),
                    None,
                    RoleChoice::default(),
                )
                .expect("defaults load"),
            )
        })
        .clone()
}

/// A spool on a fresh SQLite store in a temporary directory (kept alive by
/// the returned guard), with the embedded configuration's policy.
fn spool(config: &Config) -> (Arc<Spool>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = SqliteStore::open(&dir.path().join("store.sqlite")).expect("store");
    let spool = Spool::new(
        Arc::new(store),
        "test-node/1".into(),
        QueuePolicy::of(config),
    );
    (Arc::new(spool), dir)
}

/// What a fake recorded, in order.
struct Recorded<T>(Mutex<Vec<T>>);

impl<T> Default for Recorded<T> {
    fn default() -> Self {
        Self(Mutex::new(Vec::new()))
    }
}

impl<T: Clone> Recorded<T> {
    fn push(&self, item: T) {
        self.0.lock().unwrap().push(item);
    }

    fn all(&self) -> Vec<T> {
        self.0.lock().unwrap().clone()
    }
}
