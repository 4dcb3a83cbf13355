//! One line per message outcome (issue 13), as Postfix's maillog has one
//! per delivery: whatever happened to a message — delivered, refused at the
//! door, deferred, failed after it was accepted, spooled — is said once, on
//! the `interwork::outcome` target, with everything needed to answer "what
//! happened to the message from X to Y at 10:02" from the log alone:
//!
//! | field | what |
//! |---|---|
//! | `status` | `delivered`, `refused`, `deferred`, `failed`, `spooled` |
//! | `direction` | `im-to-mail` or `mail-to-im` |
//! | `session` | `sip:<Call-ID>`, `msrp:<session id>`, `smtp:<session id>`, or `queue` for a retry |
//! | `queue_id` | its queue entry, once it has one (every later line of it carries the same) |
//! | `imdn_message_id`, `message_id` | the IM's and the mail's ids |
//! | `from`, `to` | the sender and the recipients, as the side it came from names them |
//! | `as_from`, `as_to` | the same, as the gateway mapped them for the other side |
//! | `mode` | `pager` or `large` |
//! | `relay` | the MX host (and address) or the SIP next hop |
//! | `delay_ms` | from receipt to this outcome |
//! | `attempts` | delivery attempts so far |
//! | `answer_given` | what the sender was told (SIP status, SMTP reply) |
//! | `answer_received` | what the next hop answered |
//! | `plugins` | the mapping and conversion plugins (name, version, hash) used |
//!
//! Levels mean what they say: `delivered`, `spooled` and `refused` (the
//! gateway doing its job: an unknown user, relaying denied) are INFO;
//! `deferred`, `failed` and a refusal for now (the far side unreachable or
//! busy: the sender retries) are WARN; a line about the gateway's own fault
//! (a plugin trapped, the store failed) is ERROR. A field that does not
//! apply is `-`. Each line also counts in `interwork_messages_total`.

use std::time::Instant;

use interwork_plugin_host::PluginSet;
use interwork_store::{Direction, QueueId};

use crate::outcome::{Kind, Verdict};
use crate::telemetry;

/// How a message ended (for now).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The next hop took it.
    Delivered,
    /// Its sender was told no; nothing is kept.
    Refused,
    /// An attempt failed for now; it stays queued.
    Deferred,
    /// Given up after it was accepted; its sender gets a notice.
    Failed,
    /// Accepted into the queue; its first attempt goes on.
    Spooled,
}

impl Status {
    /// The word in the log and in the metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Refused => "refused",
            Self::Deferred => "deferred",
            Self::Failed => "failed",
            Self::Spooled => "spooled",
        }
    }
}

/// The name of a direction in the log and the metrics.
pub fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::ImToMail => "im-to-mail",
        Direction::MailToIm => "mail-to-im",
    }
}

/// The plugins a message went through, for its line:
/// `mapping=NAME@VERSION#SHA conversion=…` (the hash tells two builds of
/// one version apart).
pub fn plugins_used(set: &PluginSet) -> String {
    let label = |p: &interwork_plugin_host::LoadedPlugin| {
        let named = match &p.info {
            Some(info) => format!("{}@{}", info.name, info.version),
            None => p.id.name.to_string(),
        };
        format!("{named}#{}", &p.sha256[..12.min(p.sha256.len())])
    };
    format!(
        "mapping={} conversion={}",
        label(&set.mapping),
        label(&set.conversion)
    )
}

/// What is known of one message, filled in as it goes through a flow, and
/// said once when its outcome is known ([`Line::emit`]).
#[derive(Debug, Clone)]
pub struct Line {
    /// Which way it goes.
    pub direction: Direction,
    /// The session it came in (see the module table).
    pub session: String,
    /// Its queue entry, once it has one.
    pub queue_id: Option<QueueId>,
    /// The IM side's id.
    pub imdn_message_id: String,
    /// The mail side's id.
    pub message_id: String,
    /// The sender.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
    /// The sender, mapped for the other side.
    pub as_from: String,
    /// The recipients, mapped for the other side.
    pub as_to: Vec<String>,
    /// `pager` or `large`.
    pub mode: &'static str,
    /// The next hop.
    pub relay: String,
    /// Attempts so far.
    pub attempts: u32,
    /// What the sender was told.
    pub answer_given: String,
    /// What the next hop answered.
    pub answer_received: String,
    /// The plugins used ([`plugins_used`]).
    pub plugins: String,
    /// Why, when it did not go (a verdict's reason).
    pub reason: String,
    /// The outcome is the gateway's own fault: the line is an ERROR.
    pub fault: bool,
    /// Refused for now (the far side unreachable or busy, the sender
    /// told to retry): a refusal that is a WARN, not the gateway's policy.
    pub temporary: bool,
    /// When it was received (for `delay_ms`), or how long ago.
    pub since: Since,
}

/// Where the delay of a line counts from.
#[derive(Debug, Clone, Copy)]
pub enum Since {
    /// Received by this process at this instant.
    Received(Instant),
    /// Received (perhaps by another node) at this store time.
    Queued(interwork_store::Millis),
}

impl Line {
    /// A message just received in `session`.
    pub fn received(direction: Direction, session: impl Into<String>) -> Self {
        Self {
            direction,
            session: session.into(),
            queue_id: None,
            imdn_message_id: String::new(),
            message_id: String::new(),
            from: String::new(),
            to: Vec::new(),
            as_from: String::new(),
            as_to: Vec::new(),
            mode: "",
            relay: String::new(),
            attempts: 0,
            answer_given: String::new(),
            answer_received: String::new(),
            plugins: String::new(),
            reason: String::new(),
            fault: false,
            temporary: false,
            since: Since::Received(Instant::now()),
        }
    }

    /// A message claimed from the queue for a retry.
    pub fn queued(entry: &interwork_store::Entry) -> Self {
        let mut line = Self {
            queue_id: Some(entry.id),
            imdn_message_id: entry.imdn_message_id.clone().unwrap_or_default(),
            message_id: entry.message_id.clone(),
            attempts: entry.attempts,
            since: Since::Queued(entry.created_at),
            ..Self::received(entry.direction, "queue")
        };
        // The queue keeps the envelope it delivers with: the mapped mail
        // addresses of an IM, the mail's own envelope of a mail.
        match entry.direction {
            Direction::ImToMail => {
                line.as_from = entry.sender.clone();
                line.as_to = entry.recipients.clone();
            }
            Direction::MailToIm => {
                line.from = entry.sender.clone();
                line.to = entry.recipients.clone();
            }
        }
        line
    }

    /// Writes what the correlation record of a mail's IM says of it: the
    /// ids and the IM addresses the mail was mapped to.
    pub fn describe_im(&mut self, correlation: &interwork_store::Correlation) {
        self.message_id = correlation.message_id.clone().unwrap_or_default();
        self.imdn_message_id = correlation.imdn_message_id.clone().unwrap_or_default();
        self.as_from = correlation.im_sender.clone();
        self.as_to = vec![correlation.im_recipient.clone()];
    }

    /// Takes what `verdict` says: its reason, whether it is the gateway's
    /// own fault, whether it is for now only.
    pub fn judge(&mut self, verdict: &Verdict) {
        self.reason = verdict.reason.clone();
        self.fault = verdict.kind == Kind::Fault;
        self.temporary = matches!(
            verdict.kind,
            Kind::Temporary | Kind::Unreachable | Kind::Busy | Kind::Overloaded
        );
    }

    /// Milliseconds from receipt to now.
    pub fn delay_ms(&self) -> u64 {
        match self.since {
            Since::Received(at) => at.elapsed().as_millis() as u64,
            Since::Queued(at) => (crate::clock::millis_now() - at).max(0) as u64,
        }
    }

    /// Says the line, once: consumed, so that a message has one line per
    /// outcome. Counts it in the metrics too.
    pub fn emit(self, status: Status) {
        fn or_dash(s: &str) -> &str {
            if s.is_empty() { "-" } else { s }
        }
        let delay_ms = self.delay_ms();
        telemetry::message_outcome(
            direction_name(self.direction),
            self.mode,
            status.as_str(),
            delay_ms,
        );
        let to = self.to.join(",");
        let as_to = self.as_to.join(",");
        let queue_id = self
            .queue_id
            .map_or_else(|| "-".to_string(), |id| id.to_string());
        macro_rules! line {
            ($level:expr) => {
                tracing::event!(
                    target: "interwork::outcome",
                    $level,
                    status = status.as_str(),
                    direction = direction_name(self.direction),
                    session = or_dash(&self.session),
                    queue_id = %queue_id,
                    imdn_message_id = or_dash(&self.imdn_message_id),
                    message_id = or_dash(&self.message_id),
                    from = or_dash(&self.from),
                    to = or_dash(&to),
                    as_from = or_dash(&self.as_from),
                    as_to = or_dash(&as_to),
                    mode = or_dash(self.mode),
                    relay = or_dash(&self.relay),
                    delay_ms,
                    attempts = self.attempts,
                    answer_given = or_dash(&self.answer_given),
                    answer_received = or_dash(&self.answer_received),
                    plugins = or_dash(&self.plugins),
                    reason = or_dash(&self.reason),
                    "{} {}",
                    direction_name(self.direction),
                    status.as_str()
                )
            };
        }
        match self.level(status) {
            tracing::Level::ERROR => line!(tracing::Level::ERROR),
            tracing::Level::WARN => line!(tracing::Level::WARN),
            _ => line!(tracing::Level::INFO),
        }
    }

    /// The level of its line with `status` (see the module's text).
    pub fn level(&self, status: Status) -> tracing::Level {
        match status {
            _ if self.fault => tracing::Level::ERROR,
            Status::Refused if self.temporary => tracing::Level::WARN,
            Status::Delivered | Status::Spooled | Status::Refused => tracing::Level::INFO,
            Status::Deferred | Status::Failed => tracing::Level::WARN,
        }
    }
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::*;
    use crate::outcome::About;

    #[test]
    fn levels_say_what_happened() {
        let mut line = Line::received(Direction::MailToIm, "smtp:test");
        assert_eq!(line.level(Status::Delivered), Level::INFO);
        assert_eq!(line.level(Status::Deferred), Level::WARN);
        line.judge(&Verdict::new(
            Kind::NotFound,
            About::Recipient,
            "no such user",
        ));
        assert_eq!(line.level(Status::Refused), Level::INFO, "policy");
        line.judge(&Verdict::new(
            Kind::Unreachable,
            About::ImSystem,
            "no answer",
        ));
        assert_eq!(line.level(Status::Refused), Level::WARN, "for now");
        assert_eq!(line.reason, "no answer");
        line.judge(&Verdict::new(Kind::Fault, About::Gateway, "plugin trapped"));
        assert_eq!(line.level(Status::Refused), Level::ERROR);
        assert_eq!(line.level(Status::Delivered), Level::ERROR);
    }
}
