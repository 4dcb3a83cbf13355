//! Checks that serde cannot express: each error names the key.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::Config;

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
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
        ] {
            if !(1..=3600).contains(&value) {
                return Err(invalid(key, "must be from 1 to 3600"));
            }
        }
        if !(1..=100_000).contains(&self.smtp.max_sessions) {
            return Err(invalid("smtp.max_sessions", "must be from 1 to 100000"));
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
        if !(1..=60_000).contains(&limits.plugin_time_ms) {
            return Err(invalid("limits.plugin_time_ms", "must be from 1 to 60000"));
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
}
