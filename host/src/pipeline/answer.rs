//! The gateway's answer to the IM side: a SIP status with its extra
//! headers and, for an INVITE, a body (the SDP answer).

use crate::plugin::{CallError, RefusalKind};

/// A SIP answer: code, reason phrase, extra headers (`Accept`,
/// `Retry-After`, `Warning`, `Contact`) and a body with its content type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub code: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<(String, Vec<u8>)>,
}

impl Answer {
    pub fn new(code: u16, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// The answer as a response to `request`.
    pub fn into_response(self, request: &crate::sip::Request) -> crate::sip::Response {
        let mut response =
            crate::sip::Response::to(request, self.code, &self.reason, &crate::ids::token());
        for (name, value) in self.headers {
            response.headers.push(name, value);
        }
        if let Some((content_type, body)) = self.body {
            response.headers.push("Content-Type", content_type);
            response.body = body;
        }
        response
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
