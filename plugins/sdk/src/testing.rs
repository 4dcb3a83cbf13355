//! A fake host for unit tests of plugin logic with plain `cargo test`:
//! the domains, `[plugins.config]` and directory a test sets are what
//! [`config`](crate::config) and [`directory`](crate::directory) answer,
//! and what the plugin logs is kept for the test to read.
//!
//! ```ignore
//! use interwork_plugin_sdk::testing::Host;
//! use interwork_plugin_sdk::mapping::{Guest, Role};
//!
//! #[test]
//! fn a_provisioned_address_wins() {
//!     let _host = Host::new()
//!         .im_domain("im.example.test")
//!         .provision("sip:alice@im.example.test", "alice.smith@corp.example.test")
//!         .install();
//!     let mapped = MyMapping::email_of_im("sip:alice@im.example.test".into(), Role::Sender);
//!     assert_eq!(mapped.unwrap().value, "alice.smith@corp.example.test");
//! }
//! ```
//!
//! Each test thread has a host of its own (tests run in parallel), in force
//! until the value `install` returned is dropped. Built for `wasm32` the
//! real host answers and this module only keeps its types.

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::log::Level;

/// What the fake host answers.
#[derive(Debug, Clone, Default)]
pub struct Host {
    /// `config.im-domains`
    pub im_domains: Vec<String>,
    /// `config.mail-domains`
    pub mail_domains: Vec<String>,
    /// `config.get`: the `[plugins.config]` table.
    pub config: BTreeMap<String, String>,
    /// `directory`: pairs of an IM identity and its provisioned address.
    pub directory: Vec<(String, String)>,
}

impl Host {
    /// A host that serves no domain and knows no address.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an IM domain the gateway serves.
    pub fn im_domain(mut self, domain: &str) -> Self {
        self.im_domains.push(domain.to_string());
        self
    }

    /// Adds one of the gateway's own mail domains.
    pub fn mail_domain(mut self, domain: &str) -> Self {
        self.mail_domains.push(domain.to_string());
        self
    }

    /// Sets a `[plugins.config]` value.
    pub fn config(mut self, key: &str, value: &str) -> Self {
        self.config.insert(key.to_string(), value.to_string());
        self
    }

    /// Provisions an address for an IM identity in the directory.
    pub fn provision(mut self, im_uri: &str, address: &str) -> Self {
        self.directory
            .push((im_uri.to_string(), address.to_string()));
        self
    }

    /// Makes this the host of the calling thread until the guard is
    /// dropped; the log starts empty.
    pub fn install(self) -> Installed {
        HOST.with(|h| *h.borrow_mut() = Some(self));
        LOG.with(|l| l.borrow_mut().clear());
        Installed(())
    }
}

/// The fake host is in force while this lives.
#[must_use = "the fake host is removed when this is dropped"]
#[derive(Debug)]
pub struct Installed(());

impl Drop for Installed {
    fn drop(&mut self) {
        HOST.with(|h| *h.borrow_mut() = None);
    }
}

/// One line the plugin logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Its level.
    pub level: Level,
    /// Its text.
    pub message: String,
}

/// What the plugin logged on this thread since its host was installed.
pub fn logs() -> Vec<LogLine> {
    LOG.with(|l| l.borrow().clone())
}

thread_local! {
    static HOST: RefCell<Option<Host>> = const { RefCell::new(None) };
    static LOG: RefCell<Vec<LogLine>> = const { RefCell::new(Vec::new()) };
}

#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) fn with_host<R>(read: impl FnOnce(&Host) -> R) -> R {
    HOST.with(|h| match &*h.borrow() {
        Some(host) => read(host),
        None => panic!(
            "the plugin called a host import outside a test host: install one with \
             interwork_plugin_sdk::testing::Host::new()….install()"
        ),
    })
}

#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) fn record_log(level: Level, message: &str) {
    LOG.with(|l| {
        l.borrow_mut().push(LogLine {
            level,
            message: message.to_string(),
        });
    });
}
