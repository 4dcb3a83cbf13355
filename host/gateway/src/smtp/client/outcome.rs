//! What a delivery attempt came to.

use std::fmt;

/// An SMTP failure: the reply, when a server gave one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpFailure {
    /// Basic reply code (RFC 5321 §4.2), e.g. 550.
    pub code: Option<u16>,
    /// Enhanced status code (RFC 3463), e.g. `5.1.1`.
    pub enhanced: Option<String>,
    /// What the server or the network said.
    pub text: String,
    /// The server that answered, `name (ip:port)`; `None` when none did.
    pub server: Option<String>,
}

impl fmt::Display for SmtpFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl SmtpFailure {
    /// A failure with no SMTP reply (DNS, connection, time-out).
    pub fn local(text: impl Into<String>) -> Self {
        Self {
            code: None,
            enhanced: None,
            text: text.into(),
            server: None,
        }
    }

    /// A failure from an SMTP reply text such as
    /// `permanent error (550): 5.1.1 <x@y>: Recipient address rejected`.
    pub fn from_reply(code: Option<u16>, text: &str) -> Self {
        Self {
            code,
            enhanced: enhanced_code(text),
            text: text.trim().to_string(),
            server: None,
        }
    }

    /// The failure, as answered by `server` (`name (ip:port)`).
    pub fn from_server(self, server: &str) -> Self {
        Self {
            server: Some(server.to_string()),
            ..self
        }
    }
}

/// The first `class.subject.detail` token of a reply (RFC 3463 §2).
fn enhanced_code(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || c == ':' || c == '(' || c == ')')
        .find(|token| {
            let parts: Vec<&str> = token.split('.').collect();
            parts.len() == 3
                && matches!(parts[0], "2" | "4" | "5")
                && parts[1..]
                    .iter()
                    .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(str::to_string)
}

/// The outcome of handing one mail to the recipient's mail system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// A server answered 250 to the end of DATA.
    Delivered {
        /// Which server: `name (ip:port)`.
        server: String,
        /// Its reply text, from the enhanced code on: `2.0.0 Ok: queued`.
        reply: String,
        /// Whether the server took a DSN request (RFC 3461 NOTIFY=, RET,
        /// ENVID): true when the mail asked for DSNs, the server offered
        /// DSN, and the parameters were sent with the transaction it
        /// accepted. Then the far side reports delivery itself; when false,
        /// this 250 is the last word on the mail.
        dsn: bool,
    },
    /// Will not be delivered (5xx, null MX, no such domain).
    Permanent(SmtpFailure),
    /// Not now (4xx, no server reachable, time-out): the sender may retry.
    Temporary(SmtpFailure),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enhanced_codes_are_found_in_reply_text() {
        let f = SmtpFailure::from_reply(
            Some(550),
            "permanent error (550): 5.1.1 <nobody@x.test>: Recipient address rejected",
        );
        assert_eq!(f.enhanced.as_deref(), Some("5.1.1"));
        let f = SmtpFailure::from_reply(Some(451), "451 4.3.0 try later");
        assert_eq!(f.enhanced.as_deref(), Some("4.3.0"));
        let f = SmtpFailure::from_reply(Some(550), "550 version 1.2.3 of nothing");
        assert_eq!(f.enhanced, None);
        assert_eq!(
            SmtpFailure::from_reply(Some(554), "5.7.1: no")
                .enhanced
                .as_deref(),
            Some("5.7.1")
        );
    }
}
