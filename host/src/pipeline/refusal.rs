//! A message the gateway will not take, and how the sender is told.

use crate::plugin::{CallError, RefusalKind};

/// A refusal as a SIP answer: code, reason phrase, and extra headers
/// (`Accept`, `Retry-After`, `Warning`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
}

impl Refusal {
    pub fn new(code: u16, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
            headers: Vec::new(),
        }
    }

    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// RFC 3261 §20.43 warning text: quoted, one line.
    pub fn warning(self, agent: &str, text: &str) -> Self {
        let text: String = text
            .chars()
            .map(|c| match c {
                '"' => '\'',
                '\r' | '\n' => ' ',
                c => c,
            })
            .take(200)
            .collect();
        self.with("Warning", format!("399 {agent} \"{text}\""))
    }

    /// A temporary failure: the sender should try again (RFC 3261 §20.33).
    pub fn temporary(code: u16, reason: &str, retry_after_secs: u32) -> Self {
        Self::new(code, reason).with("Retry-After", retry_after_secs.to_string())
    }

    /// A plugin's answer about the recipient.
    pub fn from_recipient_mapping(error: CallError, agent: &str) -> Self {
        match error {
            CallError::Refused(e) => match e.kind {
                RefusalKind::NotFound | RefusalKind::Invalid => Self::new(404, "Not Found"),
                RefusalKind::Permanent => Self::new(403, "Forbidden"),
                RefusalKind::Temporary => Self::temporary(480, "Temporarily Unavailable", 60),
            }
            .warning(agent, &e.reason),
            CallError::Fault(fault) => Self::plugin_fault(&fault.to_string(), agent),
        }
    }

    /// A plugin's answer about the sender or the content.
    pub fn from_plugin(error: CallError, agent: &str) -> Self {
        match error {
            CallError::Refused(e) => match e.kind {
                RefusalKind::NotFound | RefusalKind::Permanent => Self::new(403, "Forbidden"),
                RefusalKind::Invalid => Self::new(400, "Bad Request"),
                RefusalKind::Temporary => Self::temporary(480, "Temporarily Unavailable", 60),
            }
            .warning(agent, &e.reason),
            CallError::Fault(fault) => Self::plugin_fault(&fault.to_string(), agent),
        }
    }

    /// A plugin failed: a temporary error, so that the sender retries and
    /// nothing is lost while the operator fixes the plugin.
    pub fn plugin_fault(what: &str, agent: &str) -> Self {
        tracing::error!("{what}");
        Self::temporary(503, "Service Unavailable", 30).warning(agent, "plugin failure")
    }
}
