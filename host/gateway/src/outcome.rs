//! The one verdict table. Every failure in either direction — a plugin's
//! refusal or fault, the recipient's mail system's reply, the IM system's
//! SIP response, a transfer that broke — becomes one neutral [`Verdict`],
//! and this table alone turns a verdict into the answer each protocol
//! gives: a SIP response, an SMTP reply with its enhanced status code
//! (RFC 3463), an MSRP status (RFC 4975 §10).
//!
//! | kind | SIP | SMTP | MSRP |
//! |---|---|---|---|
//! | not-found | 404 | 550 5.1.1 (5.1.2 for a domain) | 403 |
//! | invalid | 400 | 553 5.1.3 recipient, 550 5.1.7 sender, 554 5.6.0 content | 400 |
//! | refused | 403 | 550 5.7.1 | 403 |
//! | too-large | 413 | 552 5.3.4 | 413 |
//! | unsupported | 415 + Accept | 554 5.6.1 | 415 |
//! | failed | 500 | 550 5.0.0 | 403 |
//! | busy | 486 + Retry-After | 450 4.2.1 | 408 |
//! | temporary | 480 + Retry-After | 451 4.4.1 from the far side, 451 4.3.0 ours | 408 |
//! | unreachable | 503 + Retry-After | 451 4.4.1 | 408 |
//! | fault | 503 + Retry-After | 451 4.3.0 | 408 |
//!
//! The plugin contract's `error-kind` documentation
//! (`wit/interwork-plugin/0.1.0/plugin.wit`) states the same table.

use interwork_plugin_host::{CallError, RefusalKind};
use interwork_proto::msrp::Status;
use interwork_proto::sip::Response;

use crate::sip::{Answer, ClientError};
use crate::smtp::client::{DeliveryOutcome, SmtpFailure};
use crate::smtp::server::Reply;

/// How a verdict of the IM system's answer begins.
const IM_ANSWER: &str = "IM system: ";

/// What went wrong, whichever protocol it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The recipient (or its domain) does not exist.
    NotFound,
    /// The input is malformed: an address, a message, a header.
    Invalid,
    /// Policy: this will never be accepted.
    Refused,
    /// Over a size limit.
    TooLarge,
    /// Content the other side cannot carry.
    Unsupported,
    /// A permanent failure without a more precise reason.
    Failed,
    /// The recipient is busy; try again later.
    Busy,
    /// Not now; the sender should try again later.
    Temporary,
    /// The far side could not be reached, or did not answer.
    Unreachable,
    /// The gateway holds as many messages as it takes at once (admission);
    /// the sender should try again shortly.
    Overloaded,
    /// The gateway itself failed (a plugin trapped, a task died); nothing is
    /// lost because the sender is told to retry.
    Fault,
    /// The message came back to the gateway that made it (a loop).
    Looped,
    /// The message has used up its hops (Max-Forwards, `Received:` count).
    TooManyHops,
}

/// What a verdict is about: it picks the enhanced status code within a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum About {
    /// The recipient's address or identity.
    Recipient,
    /// The sender's address or identity.
    Sender,
    /// The recipient's domain (no such domain, no IM system serving it).
    Domain,
    /// The message itself.
    Content,
    /// The IM system's answer or the path to it.
    ImSystem,
    /// The recipient's mail system's answer or the path to it.
    MailSystem,
    /// The gateway (its plugins, its tasks).
    Gateway,
}

/// One failure, neutrally: its kind, what it is about, a reason a person
/// can read (it goes into `Warning`, SMTP text and logs) and how soon a
/// retry makes sense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// What went wrong.
    pub kind: Kind,
    /// What it is about.
    pub about: About,
    /// Why, for people.
    pub reason: String,
    /// Seconds after which a retry makes sense (temporary kinds only).
    pub retry_after: Option<u32>,
    /// For `unsupported`: the content the gateway takes (SIP `Accept`).
    pub accept: Option<&'static str>,
}

impl Kind {
    /// The `Retry-After` a verdict of this kind carries unless told otherwise.
    fn default_retry_after(self) -> Option<u32> {
        match self {
            Self::Temporary | Self::Unreachable => Some(60),
            Self::Busy | Self::Fault => Some(30),
            Self::Overloaded => Some(1),
            _ => None,
        }
    }
}

impl Verdict {
    /// A verdict with the kind's usual retry time.
    pub fn new(kind: Kind, about: About, reason: impl Into<String>) -> Self {
        Self {
            kind,
            about,
            reason: reason.into(),
            retry_after: kind.default_retry_after(),
            accept: None,
        }
    }

    /// Content the gateway cannot take; `accept` lists what it takes.
    pub fn unsupported(accept: &'static str, reason: impl Into<String>) -> Self {
        Self {
            accept: Some(accept),
            ..Self::new(Kind::Unsupported, About::Content, reason)
        }
    }

    /// The gateway failed; `what` goes to the log, not to the sender.
    pub fn fault(what: &str) -> Self {
        Self::internal("temporary failure, try again later", what)
    }

    fn internal(public: &str, detail: &str) -> Self {
        tracing::error!("{detail}");
        Self::new(Kind::Fault, About::Gateway, public)
    }

    /// A plugin's refusal or fault. `about` is what the plugin was asked
    /// about: a recipient that is not found is not found; a sender that is
    /// not found may not send through this gateway.
    pub fn of_plugin(error: CallError, about: About) -> Self {
        match error {
            CallError::Refused(e) => {
                let kind = match e.kind {
                    RefusalKind::NotFound if about == About::Recipient => Kind::NotFound,
                    RefusalKind::NotFound | RefusalKind::Permanent => Kind::Refused,
                    RefusalKind::Invalid => Kind::Invalid,
                    RefusalKind::Temporary => Kind::Temporary,
                };
                let about = if kind == Kind::Temporary {
                    About::Gateway
                } else {
                    about
                };
                Self::new(kind, about, e.reason)
            }
            CallError::Fault(fault) => Self::internal("plugin failure", &fault.to_string()),
        }
    }

    /// A mail the recipient's mail system did not take (S3 step 5).
    pub fn of_mail_failure(outcome: &DeliveryOutcome) -> Option<Self> {
        match outcome {
            DeliveryOutcome::Delivered { .. } => None,
            DeliveryOutcome::Permanent(f) => {
                Some(Self::new(permanent_kind(f), About::MailSystem, &f.text))
            }
            // A server said "later" (4xx) or none could be talked to.
            DeliveryOutcome::Temporary(f) if f.code.is_some() => {
                Some(Self::new(Kind::Temporary, About::MailSystem, &f.text))
            }
            DeliveryOutcome::Temporary(f) => {
                Some(Self::new(Kind::Unreachable, About::MailSystem, &f.text))
            }
        }
    }

    /// The IM system's final response (or its silence), S6 answer: the
    /// 2xx on success, else the verdict.
    pub fn of_im_response(response: &Result<Response, ClientError>) -> Result<&Response, Self> {
        let response = match response {
            Ok(response) => response,
            Err(e) => {
                return Err(Self::new(
                    Kind::Unreachable,
                    About::ImSystem,
                    format!("IM system did not answer: {e}"),
                ));
            }
        };
        let kind = match response.code {
            200..=299 => return Ok(response),
            404 | 604 => Kind::NotFound,
            403 | 603 => Kind::Refused,
            413 | 513 => Kind::TooLarge,
            415 | 488 => Kind::Unsupported,
            486 | 600 => Kind::Busy,
            482 => Kind::Looped,
            483 => Kind::TooManyHops,
            408 | 480 | 500..=599 => Kind::Temporary,
            400..=499 | 606 => Kind::Failed,
            _ => Kind::Temporary,
        };
        let about = match kind {
            Kind::NotFound => About::Recipient,
            _ => About::ImSystem,
        };
        Err(Self::new(
            kind,
            about,
            format!("{IM_ANSWER}{} {}", response.code, response.reason),
        ))
    }

    /// The IM system's answer a verdict of [`Verdict::of_im_response`]
    /// quotes (`480 Temporarily Unavailable`), if it quotes one.
    pub fn im_answer(&self) -> Option<&str> {
        self.reason.strip_prefix(IM_ANSWER)
    }

    /// The SIP status code and reason phrase of the kind (RFC 3261 §21).
    fn sip_status(&self) -> (u16, &'static str) {
        match self.kind {
            Kind::NotFound => (404, "Not Found"),
            Kind::Invalid => (400, "Bad Request"),
            Kind::Refused => (403, "Forbidden"),
            Kind::TooLarge => (413, "Request Entity Too Large"),
            Kind::Unsupported => (415, "Unsupported Media Type"),
            Kind::Failed => (500, "Server Internal Error"),
            Kind::Busy => (486, "Busy Here"),
            Kind::Temporary => (480, "Temporarily Unavailable"),
            Kind::Unreachable | Kind::Fault | Kind::Overloaded => (503, "Service Unavailable"),
            Kind::Looped => (482, "Loop Detected"),
            Kind::TooManyHops => (483, "Too Many Hops"),
        }
    }

    /// The SIP answer (RFC 3261 §21), with a `Warning` from `agent`
    /// carrying the reason.
    pub fn sip_answer(&self, agent: &str) -> Answer {
        let (code, phrase) = self.sip_status();
        let mut answer = match self.retry_after {
            Some(secs) => Answer::temporary(code, phrase, secs),
            None => Answer::new(code, phrase),
        };
        if let Some(accept) = self.accept {
            answer = crate::sip::inspection::with_accepted(answer, accept);
        }
        if self.reason.is_empty() {
            answer
        } else {
            answer.warning(agent, &self.reason)
        }
    }

    /// The SMTP reply (RFC 5321 §4.2) with its enhanced code (RFC 3463).
    pub fn smtp_reply(&self) -> Reply {
        let (code, enhanced) = match (self.kind, self.about) {
            (Kind::NotFound, About::Domain) => (550, "5.1.2"),
            (Kind::NotFound, _) => (550, "5.1.1"),
            (Kind::Invalid, About::Recipient) => (553, "5.1.3"),
            (Kind::Invalid, About::Sender) => (550, "5.1.7"),
            (Kind::Invalid, _) => (554, "5.6.0"),
            (Kind::Refused, _) => (550, "5.7.1"),
            (Kind::TooLarge, _) => (552, "5.3.4"),
            (Kind::Unsupported, _) => (554, "5.6.1"),
            (Kind::Failed, _) => (550, "5.0.0"),
            (Kind::Busy, _) => (450, "4.2.1"),
            (Kind::Temporary, About::ImSystem | About::MailSystem) => (451, "4.4.1"),
            (Kind::Temporary, _) => (451, "4.3.0"),
            (Kind::Unreachable, _) => (451, "4.4.1"),
            (Kind::Fault, _) => (451, "4.3.0"),
            // RFC 3463: X.3.2 system not accepting network messages.
            (Kind::Overloaded, _) => (451, "4.3.2"),
            // RFC 3463: X.4.6 routing loop detected.
            (Kind::Looped | Kind::TooManyHops, _) => (554, "5.4.6"),
        };
        Reply::new(code, enhanced, self.reason.clone())
    }

    /// The status of an MSRP REPORT (RFC 4975 §7.1.2, §10): MSRP's few
    /// codes, with the SIP answer in the comment.
    pub fn msrp_status(&self) -> Status {
        let code = match self.kind {
            Kind::Invalid => 400,
            Kind::TooLarge => 413,
            Kind::Unsupported => 415,
            Kind::Busy | Kind::Temporary | Kind::Unreachable | Kind::Fault | Kind::Overloaded => {
                408
            }
            Kind::NotFound | Kind::Refused | Kind::Failed | Kind::Looped | Kind::TooManyHops => 403,
        };
        let (sip_code, sip_phrase) = self.sip_status();
        Status::new(code, Some(&format!("{sip_code} {sip_phrase}")))
    }
}

/// The kind of a permanent SMTP failure, by its enhanced code (RFC 3463).
fn permanent_kind(failure: &SmtpFailure) -> Kind {
    let enhanced = failure.enhanced.as_deref().unwrap_or_default();
    if enhanced.starts_with("5.1.") {
        Kind::NotFound
    } else if enhanced.starts_with("5.7.") {
        Kind::Refused
    } else if enhanced == "5.3.4" || failure.code == Some(552) {
        Kind::TooLarge
    } else {
        Kind::Failed
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} ({:?}): {}", self.kind, self.about, self.reason)
    }
}

#[cfg(test)]
mod tests;
