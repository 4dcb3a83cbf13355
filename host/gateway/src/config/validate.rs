//! Checks that serde cannot express: each error names the key.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::{Config, SipTransport};

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why. In the message, not a `source`: with its
        /// chain it would be printed twice.
        error: std::io::Error,
    },
    /// Not TOML of the expected shape (unknown keys included); the text
    /// names the line, column and key.
    #[error("{0}")]
    Syntax(toml::de::Error),
    /// A value serde took but the gateway cannot use.
    #[error("{key}: {message}")]
    Invalid {
        /// The key, e.g. `limits.plugin_time_ms`.
        key: String,
        /// What is wrong with its value.
        message: String,
    },
}

impl ConfigError {
    /// The error on one line, for a log line: a TOML error's place and
    /// message without its drawn snippet.
    pub fn one_line(&self) -> String {
        let text = self.to_string();
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        match (self, lines.first(), lines.last()) {
            (Self::Syntax(_), Some(first), Some(last)) if lines.len() > 1 => {
                let place = first.strip_prefix("TOML parse error at ").unwrap_or(first);
                format!("{place}: {last}")
            }
            _ => lines.join(" "),
        }
    }
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

/// A DNS name as used for mail and SIP domains: letters, digits, hyphens,
/// dots; no empty label.
fn is_domain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

impl Config {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !is_domain(&self.gateway.hostname) {
            return Err(invalid("gateway.hostname", "must be a DNS name"));
        }
        let mut seen = BTreeSet::new();
        for (i, domain) in self.gateway.mail_domains.iter().enumerate() {
            if !is_domain(domain) {
                return Err(invalid(
                    format!("gateway.mail_domains[{i}]"),
                    format!("{domain:?} is not a domain name"),
                ));
            }
            if !seen.insert(domain.to_ascii_lowercase()) {
                return Err(invalid(
                    format!("gateway.mail_domains[{i}]"),
                    format!("{domain} is listed twice"),
                ));
            }
        }
        if self.im_domains.is_empty() {
            return Err(invalid("im_domains", "at least one IM domain is needed"));
        }
        let mut im_seen = BTreeSet::new();
        for (i, im) in self.im_domains.iter().enumerate() {
            let key = format!("im_domains[{i}].domain");
            if !is_domain(&im.domain) {
                return Err(invalid(
                    key,
                    format!("{:?} is not a domain name", im.domain),
                ));
            }
            if !im_seen.insert(im.domain.to_ascii_lowercase()) {
                return Err(invalid(key, format!("{} is listed twice", im.domain)));
            }
            if seen.contains(&im.domain.to_ascii_lowercase()) {
                return Err(invalid(
                    key,
                    format!(
                        "{} is also in gateway.mail_domains: its addresses would be both IM \
                         users and provisioned mail addresses, and mail to them would come \
                         back as IM",
                        im.domain
                    ),
                ));
            }
            let own = [
                (self.sip.udp_listen, SipTransport::Udp),
                (self.sip.tcp_listen, SipTransport::Tcp),
            ];
            let to_itself = own.iter().any(|(listen, transport)| {
                *transport == im.transport
                    && listen.port() == im.next_hop.port()
                    && (listen.ip() == im.next_hop.ip()
                        || (listen.ip().is_unspecified()
                            && (im.next_hop.ip().is_loopback()
                                || im.next_hop.ip().is_unspecified())))
            });
            if to_itself {
                return Err(invalid(
                    format!("im_domains[{i}].next_hop"),
                    format!(
                        "{} is the gateway's own SIP listener: every IM would loop back",
                        im.next_hop
                    ),
                ));
            }
        }
        if let Some(host) = &self.smtp.smarthost {
            let ok = host
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p != 0));
            if !ok {
                return Err(invalid("smtp.smarthost", "must be host:port"));
            }
        }
        if !(1..=600).contains(&self.smtp.delivery_deadline_secs) {
            return Err(invalid(
                "smtp.delivery_deadline_secs",
                "must be from 1 to 600",
            ));
        }
        if self.smtp.tls_certificate.is_some() != self.smtp.tls_private_key.is_some() {
            return Err(invalid(
                "smtp.tls_certificate",
                "tls_certificate and tls_private_key go together",
            ));
        }
        for (key, value) in [
            ("smtp.command_timeout_secs", self.smtp.command_timeout_secs),
            ("smtp.data_timeout_secs", self.smtp.data_timeout_secs),
            (
                "smtp.tls_handshake_timeout_secs",
                self.smtp.tls_handshake_timeout_secs,
            ),
            ("sip.tcp_idle_timeout_secs", self.sip.tcp_idle_timeout_secs),
        ] {
            if !(1..=3600).contains(&value) {
                return Err(invalid(key, "must be from 1 to 3600"));
            }
        }
        // The IM's sender waits for the fetch; a SIP client gives up on a
        // non-INVITE transaction after Timer F (64 × T1 = 32 s).
        if !(1..=30).contains(&self.file_transfer.timeout_secs) {
            return Err(invalid(
                "file_transfer.timeout_secs",
                "must be from 1 to 30 (the sender waits for it)",
            ));
        }
        if !(1..=1024).contains(&self.file_transfer.max_fetches) {
            return Err(invalid(
                "file_transfer.max_fetches",
                "must be from 1 to 1024",
            ));
        }
        for (i, entry) in self.file_transfer.allowed_hosts.iter().enumerate() {
            if let Err(e) = crate::file_fetch::check_allowed_host(entry) {
                return Err(invalid(
                    format!("file_transfer.allowed_hosts[{i}]"),
                    e.to_string(),
                ));
            }
        }
        for (total_key, total, each_key, each) in [
            (
                "smtp.max_sessions",
                self.smtp.max_sessions,
                "smtp.max_sessions_per_client",
                self.smtp.max_sessions_per_client,
            ),
            (
                "sip.tcp_max_connections",
                self.sip.tcp_max_connections,
                "sip.tcp_max_connections_per_source",
                self.sip.tcp_max_connections_per_source,
            ),
            (
                "msrp.max_connections",
                self.msrp.max_connections,
                "msrp.max_connections_per_source",
                self.msrp.max_connections_per_source,
            ),
        ] {
            if !(1..=100_000).contains(&total) {
                return Err(invalid(total_key, "must be from 1 to 100000"));
            }
            if !(1..=total).contains(&each) {
                return Err(invalid(each_key, format!("must be from 1 to {total_key}")));
            }
        }
        if self.smtp.delivery_port == 0 {
            return Err(invalid("smtp.delivery_port", "must not be 0"));
        }
        if self.msrp.listen.ip().is_unspecified() && self.msrp.advertise.is_none() {
            return Err(invalid(
                "msrp.advertise",
                "needed when msrp.listen is a wildcard address: peers must be told where to connect",
            ));
        }
        if !(1..=3600).contains(&self.msrp.idle_timeout_secs) {
            return Err(invalid("msrp.idle_timeout_secs", "must be from 1 to 3600"));
        }
        let limits = &self.limits;
        if !(1..=4096).contains(&limits.plugin_memory_mib) {
            return Err(invalid(
                "limits.plugin_memory_mib",
                "must be from 1 to 4096",
            ));
        }
        if !(1..=1000).contains(&limits.mail_hop_limit) {
            return Err(invalid("limits.mail_hop_limit", "must be from 1 to 1000"));
        }
        if !(1..=60_000).contains(&limits.plugin_time_ms) {
            return Err(invalid("limits.plugin_time_ms", "must be from 1 to 60000"));
        }
        if limits.max_messages_in_flight == 0 {
            return Err(invalid(
                "limits.max_messages_in_flight",
                "must be at least 1",
            ));
        }
        if !(1..=3600).contains(&limits.busy_retry_after_secs) {
            return Err(invalid(
                "limits.busy_retry_after_secs",
                "must be from 1 to 3600",
            ));
        }
        for (key, value, min) in [
            (
                "limits.sip_message_max_bytes",
                limits.sip_message_max_bytes,
                1300,
            ),
            ("limits.mail_max_bytes", limits.mail_max_bytes, 1024),
            (
                "limits.msrp_message_max_bytes",
                limits.msrp_message_max_bytes,
                1024,
            ),
        ] {
            if value < min {
                return Err(invalid(key, format!("must be at least {min}")));
            }
        }
        for (key, file) in [
            ("plugins.mapping", &self.plugins.mapping),
            ("plugins.conversion", &self.plugins.conversion),
        ] {
            if let Some(name) = file {
                if name.contains('/') || !name.ends_with(".wasm") {
                    return Err(invalid(
                        key,
                        "must be the name of a .wasm file in plugins.dir",
                    ));
                }
                if self.plugins.dir.is_none() {
                    return Err(invalid(key, "needs plugins.dir"));
                }
            }
        }
        self.validate_store()?;
        for (name, value) in &self.plugins.config {
            if matches!(value, toml::Value::Array(_) | toml::Value::Table(_)) {
                return Err(invalid(
                    format!("plugins.config.{name}"),
                    "must be a string, number or boolean",
                ));
            }
        }
        Ok(())
    }

    fn validate_store(&self) -> Result<(), ConfigError> {
        let store = &self.store;
        if self.directory.shared && self.directory.file.is_some() {
            return Err(invalid(
                "directory.shared",
                "a shared directory is in the store: import the file with \
                 `interwork directory import` instead of naming it in directory.file",
            ));
        }
        if let Some(url) = &store.url {
            if store.path.is_some() {
                return Err(invalid(
                    "store.url",
                    "store.path and store.url are two stores: give one",
                ));
            }
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(invalid(
                    "store.url",
                    "must be a postgres:// or postgresql:// URL",
                ));
            }
        }
        if let Some(name) = &store.node_name
            && (name.is_empty() || name.len() > 200 || name.chars().any(char::is_control))
        {
            return Err(invalid(
                "store.node_name",
                "must be 1 to 200 printable characters",
            ));
        }
        if !(1..=60_000).contains(&store.first_attempt_budget_ms) {
            return Err(invalid(
                "store.first_attempt_budget_ms",
                "must be from 1 to 60000",
            ));
        }
        if store.retry_minimum_secs == 0 || store.retry_minimum_secs > store.retry_maximum_secs {
            return Err(invalid(
                "store.retry_minimum_secs",
                "must be at least 1 and at most store.retry_maximum_secs",
            ));
        }
        if store.queue_lifetime_secs < store.retry_minimum_secs {
            return Err(invalid(
                "store.queue_lifetime_secs",
                "must be at least store.retry_minimum_secs",
            ));
        }
        // A lease shorter than a delivery would let a second node start
        // the same message while the first is still sending it.
        if store.lease_secs <= self.smtp.delivery_deadline_secs {
            return Err(invalid(
                "store.lease_secs",
                format!(
                    "must be longer than smtp.delivery_deadline_secs ({})",
                    self.smtp.delivery_deadline_secs
                ),
            ));
        }
        if !(10..=60_000).contains(&store.scan_interval_ms) {
            return Err(invalid(
                "store.scan_interval_ms",
                "must be from 10 to 60000",
            ));
        }
        if !(1..=10_000).contains(&store.max_retries_in_flight) {
            return Err(invalid(
                "store.max_retries_in_flight",
                "must be from 1 to 10000",
            ));
        }
        if !(1..=3650).contains(&store.correlation_lifetime_days) {
            return Err(invalid(
                "store.correlation_lifetime_days",
                "must be from 1 to 3650",
            ));
        }
        if !(1..=10_000).contains(&self.smtp.max_deliveries_per_domain) {
            return Err(invalid(
                "smtp.max_deliveries_per_domain",
                "must be from 1 to 10000",
            ));
        }
        Ok(())
    }
}
