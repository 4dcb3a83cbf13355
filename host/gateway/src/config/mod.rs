//! The gateway's configuration: TOML, every key documented in
//! `examples/interwork.toml`, which is also the embedded default.

mod validate;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use validate::ConfigError;

/// The configuration the binary carries: `examples/interwork.toml`.
pub const EMBEDDED_DEFAULT: &str = include_str!("../../../../examples/interwork.toml");

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[gateway]`
    pub gateway: GatewayConfig,
    /// `[[im_domains]]`: the IM systems served (SPEC S1).
    pub im_domains: Vec<ImDomain>,
    /// `[sip]`
    #[serde(default)]
    pub sip: SipConfig,
    /// `[msrp]`
    #[serde(default)]
    pub msrp: MsrpConfig,
    /// `[smtp]`
    #[serde(default)]
    pub smtp: SmtpConfig,
    /// `[dns]`
    #[serde(default)]
    pub dns: DnsConfig,
    /// `[directory]`
    #[serde(default)]
    pub directory: DirectoryConfig,
    /// `[plugins]`
    #[serde(default)]
    pub plugins: PluginsConfig,
    /// `[limits]`
    #[serde(default)]
    pub limits: Limits,
    /// `[store]`
    #[serde(default)]
    pub store: StoreConfig,
    /// `[im_delivery]`
    #[serde(default)]
    pub im_delivery: ImDeliveryConfig,
    /// `[notifications]`
    #[serde(default)]
    pub notifications: NotificationsConfig,
    /// `[shutdown]`
    #[serde(default)]
    pub shutdown: ShutdownConfig,
    /// `[log]`
    #[serde(default)]
    pub log: LogConfig,
    /// `[admin]`
    #[serde(default)]
    pub admin: AdminConfig,
    /// `[control]`
    #[serde(default)]
    pub control: ControlConfig,
    /// `[file_transfer]`
    #[serde(default)]
    pub file_transfer: FileTransferConfig,
}

/// `[file_transfer]`: RCS file transfer via HTTP (GSMA RCC.07 §3.2.5). The
/// gateway fetches the file an IM points at from the operator's content
/// server and attaches it to the mail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileTransferConfig {
    /// Content servers files are fetched from: `host` or `host:port`. An
    /// FT-HTTP URL elsewhere is never fetched (the mail carries the link):
    /// the URL comes from a peer. Empty: nothing is fetched.
    pub allowed_hosts: Vec<String>,
    /// The deadline of one whole fetch (redirects and body included). The
    /// IM's sender waits for it, as for the mail's first attempt.
    pub timeout_secs: u64,
    /// CA certificates (PEM) trusted for HTTPS besides the system's.
    pub ca_file: Option<PathBuf>,
    /// Files fetched at once; each is held in memory until its mail is
    /// written. Others wait for a place within `timeout_secs`.
    pub max_fetches: usize,
}

impl Default for FileTransferConfig {
    fn default() -> Self {
        Self {
            allowed_hosts: Vec::new(),
            timeout_secs: 20,
            ca_file: None,
            max_fetches: 16,
        }
    }
}

/// `[log]`: how the gateway logs (to standard error; systemd's journal
/// takes it from there).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` (one line per event, `key=value` fields) or `json` (one JSON
    /// object per line, tracing-subscriber's format).
    pub format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `[admin]`: the HTTP listener of `/metrics`, `/healthz`, `/readyz`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Whether it listens at all.
    pub enabled: bool,
    /// Where: loopback by default.
    pub listen: SocketAddr,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 9464)),
        }
    }
}

/// `[control]`: the control socket of `interwork status`, `plugins list`,
/// `reload`, `plugins use`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControlConfig {
    /// Whether the gateway opens it.
    pub enabled: bool,
    /// Its path; unset: `control.sock` in `$RUNTIME_DIRECTORY` (systemd),
    /// else in the state directory of the store.
    pub socket: Option<PathBuf>,
}

impl Default for ControlConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            socket: None,
        }
    }
}

/// `[shutdown]`: how the gateway stops on SIGTERM / SIGINT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShutdownConfig {
    /// How long sessions and messages in flight may take to finish once
    /// the gateway stops taking new ones; then it exits anyway. A second
    /// signal exits at once.
    pub drain_secs: u64,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        Self { drain_secs: 30 }
    }
}

/// `[notifications]`: how receipts cross the gateway (issue 10).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationsConfig {
    /// IM → mail: answer an IM that asked for positive delivery with IMDN
    /// `delivered` when the recipient's MX took the mail with `250` but
    /// does not offer DSN (RFC 3461), so no success DSN will ever come.
    /// Off by default: a 250 says a relay took the mail, not that it
    /// reached the mailbox (RFC 3461 §5.2.2 "relayed" is not "delivered").
    pub delivered_on_250: bool,
    /// Mail → IM: turn an IMDN `displayed` from the IM side into an MDN
    /// (RFC 8098) for a mail that asked with `Disposition-Notification-To`.
    pub send_mdn: bool,
    /// Mail → IM: turn an IMDN `delivered` into a success DSN (RFC 3464)
    /// for a mail whose envelope asked with `NOTIFY=SUCCESS`.
    pub send_dsn: bool,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        Self {
            delivered_on_250: false,
            send_mdn: true,
            send_dsn: true,
        }
    }
}

/// `[im_delivery]`: how mail becomes IM.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImDeliveryConfig {
    /// Accept a mail with `250` once its IM is in the store, and retry the
    /// IM while its recipient is offline (SIP 480), instead of answering
    /// DATA with the IM system's answer (the sending MTA then retries).
    pub spool: bool,
}

/// `[gateway]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// The gateway's host name: HELO/EHLO, Message-IDs, SIP warnings.
    pub hostname: String,
    /// The gateway's own mail domains (SPEC S1, option 2).
    pub mail_domains: Vec<String>,
}

/// `[[im_domains]]`: one IM system served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImDomain {
    /// The IM domain.
    pub domain: String,
    /// Where its IM system takes SIP requests.
    pub next_hop: SocketAddr,
    /// How to reach it.
    #[serde(default)]
    pub transport: SipTransport,
}

/// Transport toward an IM system.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SipTransport {
    /// SIP over UDP.
    #[default]
    Udp,
    /// SIP over TCP.
    Tcp,
}

/// `[sip]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SipConfig {
    /// SIP over UDP.
    pub udp_listen: SocketAddr,
    /// SIP over TCP.
    pub tcp_listen: SocketAddr,
    /// The IM systems' addresses: requests from anyone else are refused
    /// 403 over UDP; their TCP connections are closed at accept.
    pub trusted_peers: Vec<std::net::IpAddr>,
    /// SIP TCP connections open at once; past this, new ones are closed.
    pub tcp_max_connections: usize,
    /// SIP TCP connections open at once from one address.
    pub tcp_max_connections_per_source: usize,
    /// A SIP TCP connection that carries nothing for this long is closed
    /// (RFC 5923 §9 leaves it to the server; CRLF keep-alives count).
    pub tcp_idle_timeout_secs: u64,
}

impl Default for SipConfig {
    fn default() -> Self {
        Self {
            udp_listen: SocketAddr::from(([0, 0, 0, 0], 5060)),
            tcp_listen: SocketAddr::from(([0, 0, 0, 0], 5060)),
            trusted_peers: vec![std::net::IpAddr::from([127, 0, 0, 1])],
            tcp_max_connections: 1000,
            tcp_max_connections_per_source: 100,
            tcp_idle_timeout_secs: 60,
        }
    }
}

/// `[msrp]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MsrpConfig {
    /// The MSRP listener.
    pub listen: SocketAddr,
    /// The address peers reach the listener at (SDP `c=` and `a=path`);
    /// the listen address when that is not a wildcard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advertise: Option<std::net::IpAddr>,
    /// An MSRP connection silent this long is closed.
    pub idle_timeout_secs: u64,
    /// MSRP connections open at once; past this, new ones are closed.
    pub max_connections: usize,
    /// MSRP connections open at once from one address.
    pub max_connections_per_source: usize,
}

impl Default for MsrpConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 2855)),
            advertise: None,
            idle_timeout_secs: 60,
            max_connections: 1000,
            max_connections_per_source: 32,
        }
    }
}

impl MsrpConfig {
    /// The address to put in SDP and MSRP URIs.
    pub fn advertised_address(&self) -> std::net::IpAddr {
        match self.advertise {
            Some(ip) => ip,
            None if !self.listen.ip().is_unspecified() => self.listen.ip(),
            // Validation refuses this case; loopback keeps it harmless.
            None => std::net::IpAddr::from([127, 0, 0, 1]),
        }
    }
}

/// `[smtp]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// The SMTP listener (the MX of the gateway's domains).
    pub listen: SocketAddr,
    /// The port mail is delivered to on the recipient's MX.
    pub delivery_port: u16,
    /// `host:port` to send all mail through instead of DNS MX.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smarthost: Option<String>,
    /// How long one delivery may take before the IM side is told to retry.
    pub delivery_deadline_secs: u64,
    /// SMTP sessions at once; past this, `421`.
    pub max_sessions: usize,
    /// Deliveries at once to one recipient domain (Postfix's
    /// `default_destination_concurrency_limit`); more wait their turn.
    pub max_deliveries_per_domain: usize,
    /// SMTP sessions at once from one client address (Postfix's
    /// `smtpd_client_connection_count_limit`); past this, `421`.
    pub max_sessions_per_client: usize,
    /// How long a client that asked for STARTTLS has to finish the TLS
    /// handshake.
    pub tls_handshake_timeout_secs: u64,
    /// RFC 5321 §4.5.3.2.7: how long the server waits for a command.
    pub command_timeout_secs: u64,
    /// RFC 5321 §4.5.3.2.6: how long it waits for the next data block.
    pub data_timeout_secs: u64,
    /// PEM certificate chain for STARTTLS; with `tls_private_key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_certificate: Option<PathBuf>,
    /// PEM private key for STARTTLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_private_key: Option<PathBuf>,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 25)),
            delivery_port: 25,
            smarthost: None,
            delivery_deadline_secs: 20,
            max_sessions: 100,
            max_deliveries_per_domain: 100,
            max_sessions_per_client: 50,
            tls_handshake_timeout_secs: 10,
            command_timeout_secs: 300,
            data_timeout_secs: 600,
            tls_certificate: None,
            tls_private_key: None,
        }
    }
}

/// `[dns]`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsConfig {
    /// The DNS server (ip:port) for MX lookups; the system's when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nameserver: Option<SocketAddr>,
}

/// `[directory]`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectoryConfig {
    /// The directory of provisioned addresses (TOML), reloaded on SIGHUP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// The directory is the store's, shared by every node of it (written
    /// with `interwork directory import`); nodes reload it when it changes.
    pub shared: bool,
}

/// `[plugins]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginsConfig {
    /// The watched plugin directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// Where compiled plugins are kept (default `$XDG_CACHE_HOME/interwork`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_dir: Option<PathBuf>,
    /// The file in `dir` that serves `mapping` when several could.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapping: Option<String>,
    /// The file in `dir` that serves `conversion` when several could.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversion: Option<String>,
    /// Values plugins read with `config.get`.
    pub config: BTreeMap<String, toml::Value>,
}

impl Default for PluginsConfig {
    fn default() -> Self {
        Self {
            dir: Some(PathBuf::from("plugins.d")),
            cache_dir: None,
            mapping: None,
            conversion: None,
            config: BTreeMap::new(),
        }
    }
}

/// `[limits]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Memory of one plugin call, in MiB.
    pub plugin_memory_mib: u64,
    /// Time of one plugin call, in milliseconds.
    pub plugin_time_ms: u64,
    /// Largest SIP message taken.
    pub sip_message_max_bytes: usize,
    /// Largest mail taken (SMTP SIZE).
    pub mail_max_bytes: usize,
    /// Largest message reassembled from MSRP chunks.
    pub msrp_message_max_bytes: usize,
    /// Most `Received:` fields a mail may carry (RFC 5321 §6.3); past it,
    /// `554 5.4.6` (a mail loop).
    pub mail_hop_limit: usize,
    /// Messages the node holds at once (answered or not, first attempt
    /// not over); past it, new ones get SIP `503` / SMTP `451 4.3.2` at
    /// once (`crate::admission`).
    pub max_messages_in_flight: usize,
    /// The `Retry-After` of that `503`, in seconds.
    pub busy_retry_after_secs: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            plugin_memory_mib: 64,
            plugin_time_ms: 100,
            sip_message_max_bytes: 65536,
            mail_max_bytes: 25 * 1024 * 1024,
            msrp_message_max_bytes: 25 * 1024 * 1024,
            mail_hop_limit: 25,
            max_messages_in_flight: 512,
            busy_retry_after_secs: 1,
        }
    }
}

/// `[store]`: the durable store of accepted messages (the spool) and of
/// correlation records, with the retry schedule of RFC 5321 §4.5.4.1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// The SQLite file; default `store.sqlite` in the state directory
    /// (`$STATE_DIRECTORY`, `$XDG_STATE_HOME/interwork` or
    /// `~/.local/state/interwork`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// A PostgreSQL database shared by several gateway nodes instead
    /// (`postgres://user:password@host:port/db`); `path` is then unused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The name of this node in leases (who is delivering a message);
    /// `gateway.hostname` when unset. The process id is added to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    /// How long the IM sender waits for the first delivery attempt before
    /// it is answered `202` with the message queued.
    pub first_attempt_budget_ms: u64,
    /// Wait before the first retry (Postfix `minimal_backoff_time`).
    pub retry_minimum_secs: u64,
    /// Longest wait between retries (Postfix `maximal_backoff_time`).
    pub retry_maximum_secs: u64,
    /// How long a message is retried before it expires (Postfix
    /// `maximal_queue_lifetime`; RFC 5321 §4.5.4.1 says 4–5 days).
    pub queue_lifetime_secs: u64,
    /// How long a node's claim on a message it is delivering lasts; when
    /// the node dies, another takes the message after this.
    pub lease_secs: u64,
    /// How often the queue is looked at for messages due.
    pub scan_interval_ms: u64,
    /// Deliveries from the queue at once.
    pub max_retries_in_flight: usize,
    /// How long correlation records (which IM became which mail) are kept.
    pub correlation_lifetime_days: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            path: None,
            url: None,
            node_name: None,
            first_attempt_budget_ms: 2000,
            retry_minimum_secs: 300,
            retry_maximum_secs: 4000,
            queue_lifetime_secs: 5 * 24 * 3600,
            lease_secs: 60,
            scan_interval_ms: 1000,
            max_retries_in_flight: 64,
            correlation_lifetime_days: 30,
        }
    }
}

/// A database URL as it may be shown: the password of
/// `scheme://user:password@host/…` replaced by `***`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_string(),
    }
}

/// Where a configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// The configuration compiled into the binary.
    Embedded,
    /// A file.
    File(PathBuf),
}

impl std::fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Embedded => f.write_str("embedded default configuration"),
            Self::File(path) => write!(f, "{}", path.display()),
        }
    }
}

impl Config {
    /// Parses and validates a configuration; relative paths are resolved
    /// against `base_dir`.
    pub fn parse(text: &str, base_dir: &Path) -> Result<Self, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(ConfigError::Syntax)?;
        config.resolve_paths(base_dir);
        config.validate()?;
        Ok(config)
    }

    /// Loads the file at `path`, or the embedded default when `None`.
    pub fn load(path: Option<&Path>) -> Result<(Self, ConfigSource), ConfigError> {
        match path {
            None => {
                let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
                Ok((Self::parse(EMBEDDED_DEFAULT, &cwd)?, ConfigSource::Embedded))
            }
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
                    path: path.to_path_buf(),
                    error,
                })?;
                let base = path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                let base = std::path::absolute(base).unwrap_or_else(|_| base.to_path_buf());
                let config = Self::parse(&text, &base)?;
                Ok((config, ConfigSource::File(path.to_path_buf())))
            }
        }
    }

    fn resolve_paths(&mut self, base: &Path) {
        let resolve = |p: &mut Option<PathBuf>| {
            if let Some(path) = p.as_mut().filter(|p| p.is_relative()) {
                *path = base.join(&*path);
            }
        };
        resolve(&mut self.directory.file);
        resolve(&mut self.smtp.tls_certificate);
        resolve(&mut self.smtp.tls_private_key);
        resolve(&mut self.plugins.dir);
        resolve(&mut self.plugins.cache_dir);
        resolve(&mut self.store.path);
        resolve(&mut self.control.socket);
    }

    /// The effective configuration as TOML, for `check-config`.
    pub fn to_toml(&self) -> String {
        let mut shown = self.clone();
        shown.store.url = shown.store.url.as_deref().map(without_password);
        toml::to_string_pretty(&shown).unwrap_or_else(|e| format!("# cannot print: {e}\n"))
    }

    /// Plugin config values as text: strings as written, numbers and
    /// booleans in their TOML form.
    pub fn plugin_values(&self) -> BTreeMap<String, String> {
        self.plugins
            .config
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), text)
            })
            .collect()
    }

    /// Where compiled plugins are cached.
    pub fn plugin_cache_dir(&self) -> Option<PathBuf> {
        if let Some(dir) = &self.plugins.cache_dir {
            return Some(dir.clone());
        }
        // systemd's CacheDirectory= is the service's own already.
        if let Some(dir) = std::env::var_os("CACHE_DIRECTORY")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
        {
            return Some(dir);
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("interwork"))
    }

    /// The store's file: `store.path`, else `store.sqlite` in the state
    /// directory (systemd's `$STATE_DIRECTORY`, then the XDG base
    /// directory specification's `$XDG_STATE_HOME`, then
    /// `~/.local/state`), else the working directory.
    pub fn store_path(&self) -> PathBuf {
        if let Some(path) = &self.store.path {
            return path.clone();
        }
        state_dir().join("store.sqlite")
    }

    /// The control socket's path (`[control] socket`): unset, in
    /// `$RUNTIME_DIRECTORY`, else the systemd service's when it exists,
    /// else in the state directory.
    pub fn control_socket(&self) -> PathBuf {
        if let Some(path) = &self.control.socket {
            return path.clone();
        }
        if let Some(dir) = std::env::var_os("RUNTIME_DIRECTORY")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
        {
            return dir.join("control.sock");
        }
        // The service's (examples/systemd): what `interwork status` run in
        // an operator's shell, outside the unit, finds.
        let service = PathBuf::from(SERVICE_SOCKET);
        if service.exists() {
            return service;
        }
        state_dir().join("control.sock")
    }

    /// The served IM domains, in order.
    pub fn im_domain_names(&self) -> Vec<String> {
        self.im_domains.iter().map(|d| d.domain.clone()).collect()
    }
}

/// Where the systemd unit's gateway has its control socket
/// (`RuntimeDirectory=interwork`).
const SERVICE_SOCKET: &str = "/run/interwork/control.sock";

/// The state directory: systemd's `$STATE_DIRECTORY`, then
/// `$XDG_STATE_HOME/interwork`, then `~/.local/state/interwork`, else the
/// working directory.
fn state_dir() -> PathBuf {
    let absolute = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    absolute("STATE_DIRECTORY")
        .or_else(|| absolute("XDG_STATE_HOME").map(|d| d.join("interwork")))
        .or_else(|| absolute("HOME").map(|h| h.join(".local/state/interwork")))
        .unwrap_or_else(|| PathBuf::from("."))
}

#[cfg(test)]
mod tests;
