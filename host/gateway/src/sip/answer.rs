//! The gateway's answer to the IM side: a SIP status with its extra
//! headers and, for an INVITE, a body (the SDP answer). Answers to
//! failures that crossed the gateway come from the verdict table
//! (`crate::outcome`); this is only their shape.

use interwork_proto::sip::{Request, Response};

/// A SIP answer: code, reason phrase, extra headers (`Accept`,
/// `Retry-After`, `Warning`, `Contact`) and a body with its content type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Status code (RFC 3261 §21).
    pub code: u16,
    /// Reason phrase.
    pub reason: String,
    /// Extra header fields, in order.
    pub headers: Vec<(String, String)>,
    /// Content type and body, if any.
    pub body: Option<(String, Vec<u8>)>,
}

impl Answer {
    /// An answer without headers or body.
    pub fn new(code: u16, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// Its status line's code and reason, `202 Accepted` (what the log
    /// says was answered).
    pub fn status(&self) -> String {
        format!("{} {}", self.code, self.reason)
    }

    /// The answer with one more header field.
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// The answer as a response to `request`.
    pub fn into_response(self, request: &Request) -> Response {
        let mut response = Response::to(request, self.code, &self.reason, &crate::ids::token());
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
}
