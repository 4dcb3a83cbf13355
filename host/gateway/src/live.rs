//! What the running gateway is, for those who ask it (issue 13): the admin
//! listener's `/metrics` and `/readyz`, and the control socket's
//! `status` and `plugins list`. One [`Live`] per process, filled by `run`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use interwork_plugin_host::{Plugins, Role};
use interwork_store::{QueueSummary, Store};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::admission::Admission;
use crate::listen;
use crate::message_log::direction_name;
use crate::msrp::Sessions;

/// A request to the run loop, from the control socket.
#[derive(Debug)]
pub enum Request {
    /// Reload as SIGHUP does; the answer says what happened.
    Reload(tokio::sync::oneshot::Sender<Vec<String>>),
}

/// The running gateway.
pub struct Live {
    /// When it started.
    pub started: Instant,
    /// The plugins it serves.
    pub plugins: Arc<Plugins>,
    /// Its store.
    pub store: Arc<dyn Store>,
    /// Which store: `sqlite PATH` or `postgresql`.
    pub store_backend: String,
    /// Where it listens: (what, address).
    pub listeners: Vec<(&'static str, SocketAddr)>,
    /// The connections of each listener: (protocol, its admission).
    pub connections: Vec<(&'static str, Arc<listen::Admission>)>,
    /// The MSRP sessions set up.
    pub sessions: Arc<Sessions>,
    /// The messages in flight.
    pub messages: Arc<Admission>,
    /// Listeners bound, plugins loaded, store open.
    pub ready: AtomicBool,
    /// Draining: no new work.
    pub draining: AtomicBool,
    /// The run loop, for `reload`.
    pub requests: mpsc::Sender<Request>,
}

/// One plugin in service, as `status` and `plugins list` show it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct ServingPlugin {
    /// `mapping` or `conversion`.
    pub interface: String,
    /// What it calls itself.
    pub name: String,
    /// Its version (or contract, for 0.1.0 plugins).
    pub version: String,
    /// Its file, or `embedded`.
    pub source: String,
    /// The contract it was built for.
    pub contract: String,
    /// SHA-256 of the component.
    pub sha256: String,
}

/// A queue line of `status`.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct QueueLine {
    /// `im-to-mail` or `mail-to-im`.
    pub direction: String,
    /// `queued`, `held`, `failed`, `expired`.
    pub state: String,
    /// How many.
    pub count: u64,
    /// Seconds since the oldest was accepted.
    pub oldest_age_secs: u64,
}

/// What `interwork status` prints.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Status {
    /// This build.
    pub version: String,
    /// Its process.
    pub pid: u32,
    /// Seconds since start.
    pub uptime_secs: u64,
    /// Ready for traffic.
    pub ready: bool,
    /// Draining for a stop.
    pub draining: bool,
    /// (what, address) of each listener.
    pub listeners: Vec<(String, String)>,
    /// (protocol, connections open) of each listener.
    pub connections: Vec<(String, usize)>,
    /// MSRP sessions set up.
    pub msrp_sessions: usize,
    /// Messages in flight.
    pub messages_in_flight: usize,
    /// The plugins in service.
    pub plugins: Vec<ServingPlugin>,
    /// Files of the plugin directory refused, with why.
    pub refused_plugins: Vec<(String, String)>,
    /// `sqlite PATH` or `postgresql`.
    pub store: String,
    /// The queue by direction and state; `None` when the store did not answer.
    pub queue: Option<Vec<QueueLine>>,
}

impl Live {
    /// The plugins in service now.
    pub fn serving(&self) -> Vec<ServingPlugin> {
        serving(&self.plugins)
    }

    /// The connections open on each listener.
    pub fn connections_open(&self) -> Vec<(&'static str, usize)> {
        self.connections
            .iter()
            .map(|(name, admission)| (*name, admission.total()))
            .collect()
    }

    /// The queue summary, or `None` with the error logged.
    pub async fn queue(&self) -> Option<Vec<QueueSummary>> {
        match self.store.summary().await {
            Ok(summary) => Some(summary),
            Err(e) => {
                tracing::warn!("cannot read the queue summary: {e}");
                None
            }
        }
    }

    /// Everything `status` says.
    pub async fn status(&self) -> Status {
        let now = crate::spool::millis_now();
        let queue = self.queue().await.map(|summary| {
            summary
                .into_iter()
                .map(|s| QueueLine {
                    direction: direction_name(s.direction).to_string(),
                    state: s.state.as_str().to_string(),
                    count: s.count,
                    oldest_age_secs: ((now - s.oldest_created_at).max(0) / 1000) as u64,
                })
                .collect()
        });
        Status {
            version: env!("CARGO_PKG_VERSION").to_string(),
            pid: std::process::id(),
            uptime_secs: self.started.elapsed().as_secs(),
            ready: self.ready.load(Ordering::Acquire),
            draining: self.draining.load(Ordering::Acquire),
            listeners: self
                .listeners
                .iter()
                .map(|(what, address)| (what.to_string(), address.to_string()))
                .collect(),
            connections: self
                .connections_open()
                .into_iter()
                .map(|(name, open)| (name.to_string(), open))
                .collect(),
            msrp_sessions: self.sessions.len(),
            messages_in_flight: self.messages.in_flight(),
            plugins: self.serving(),
            refused_plugins: self
                .plugins
                .refused()
                .into_iter()
                .map(|(path, why)| (path.display().to_string(), why))
                .collect(),
            store: self.store_backend.clone(),
            queue,
        }
    }
}

/// The plugins `plugins` serves now.
pub fn serving(plugins: &Plugins) -> Vec<ServingPlugin> {
    let set = plugins.current();
    Role::ALL
        .into_iter()
        .map(|role| {
            let p = set.get(role);
            ServingPlugin {
                interface: role.name().to_string(),
                name: p.name().to_string(),
                version: p.version(),
                source: match &p.id.source {
                    interwork_plugin_host::PluginSource::Embedded => "embedded".to_string(),
                    interwork_plugin_host::PluginSource::File(path) => path.display().to_string(),
                },
                contract: p.contract().to_string(),
                sha256: p.sha256.clone(),
            }
        })
        .collect()
}
