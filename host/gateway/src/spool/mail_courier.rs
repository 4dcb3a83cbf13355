//! IM → mail through the spool: the mail an IM became, as the store keeps
//! it, and its delivery by SMTP ([`MailDelivery`]: DNS MX, per-domain
//! limits). The senders of mails given up are told by IMDN `failed`
//! (issue 10); until then those stay in the store as failed or expired.

use std::sync::Arc;

use interwork_plugin_host::bindings::types::DsnNotify;
use interwork_store::{Claimed, Correlation, Direction, NewMessage};

use super::{Courier, Outcome};
use crate::BoxFuture;
use crate::mail::OutgoingMail;
use crate::outcome::Verdict;
use crate::smtp::client::{DeliveryOutcome, MailDelivery};

/// Delivers queued mails.
pub struct MailCourier {
    delivery: Arc<dyn MailDelivery>,
}

impl MailCourier {
    /// A courier that hands mails to `delivery`.
    pub fn new(delivery: Arc<dyn MailDelivery>) -> Self {
        Self { delivery }
    }

    /// One delivery of `mail`, as a task the spool may leave running past
    /// the first-attempt budget.
    pub fn deliver(&self, mail: OutgoingMail) -> BoxFuture<'static, Outcome> {
        let delivery = self.delivery.clone();
        Box::pin(async move { outcome_of(delivery.deliver(&mail).await) })
    }
}

/// What the spool keeps of a mail: its envelope, both forms of its bytes,
/// the DSN asked for, and what ties it to its IM.
pub fn queued_mail(mail: &OutgoingMail, correlation: Correlation) -> NewMessage {
    NewMessage {
        direction: Direction::ImToMail,
        sender: mail.envelope_from.clone(),
        recipients: mail.envelope_to.clone(),
        message_id: mail.message_id.clone(),
        imdn_message_id: correlation.imdn_message_id.clone(),
        content: mail.bytes.clone(),
        alternate: mail.seven_bit.clone(),
        dsn_notify: notify_text(mail.dsn_notify),
        correlation: Some(correlation),
    }
}

/// A notice the gateway writes (a DSN): queued like any mail, with no
/// correlation of its own.
pub fn queued_notice(mail: &OutgoingMail) -> NewMessage {
    NewMessage {
        direction: Direction::ImToMail,
        sender: mail.envelope_from.clone(),
        recipients: mail.envelope_to.clone(),
        message_id: mail.message_id.clone(),
        imdn_message_id: None,
        content: mail.bytes.clone(),
        alternate: mail.seven_bit.clone(),
        dsn_notify: None,
        correlation: None,
    }
}

/// The mail of a queued message.
fn mail_of(message: Claimed) -> OutgoingMail {
    let entry = message.entry;
    OutgoingMail {
        envelope_from: entry.sender,
        envelope_to: entry.recipients,
        dsn_notify: notify_flags(entry.dsn_notify.as_deref()),
        envid: None,
        message_id: entry.message_id,
        bytes: message.content,
        seven_bit: message.alternate,
    }
}

fn outcome_of(outcome: DeliveryOutcome) -> Outcome {
    match &outcome {
        DeliveryOutcome::Delivered { server, reply, .. } => {
            Outcome::Delivered(format!("to {server}: {reply}"))
        }
        DeliveryOutcome::Permanent(_) | DeliveryOutcome::Temporary(_) => {
            let verdict = Verdict::of_mail_failure(&outcome)
                .unwrap_or_else(|| Verdict::fault("a failure without a verdict"));
            if matches!(outcome, DeliveryOutcome::Permanent(_)) {
                Outcome::Permanent(verdict)
            } else {
                Outcome::Temporary(verdict)
            }
        }
    }
}

impl Courier for MailCourier {
    fn attempt(&self, message: Claimed) -> BoxFuture<'static, Outcome> {
        self.deliver(mail_of(message))
    }

    fn notifies(&self) -> bool {
        // The IMDN `failed` of issue 10.
        false
    }

    fn notice(&self, _message: &Claimed) -> Option<NewMessage> {
        None
    }
}

/// RFC 3461 §4.1 `NOTIFY=` values of the DSN asked for; `None` for none.
fn notify_text(notify: DsnNotify) -> Option<String> {
    let values: Vec<&str> = [
        (DsnNotify::SUCCESS, "SUCCESS"),
        (DsnNotify::FAILURE, "FAILURE"),
        (DsnNotify::DELAY, "DELAY"),
    ]
    .into_iter()
    .filter(|(flag, _)| notify.contains(*flag))
    .map(|(_, name)| name)
    .collect();
    (!values.is_empty()).then(|| values.join(","))
}

fn notify_flags(text: Option<&str>) -> DsnNotify {
    let mut flags = DsnNotify::empty();
    for value in text.unwrap_or_default().split(',') {
        match value.trim() {
            "SUCCESS" => flags |= DsnNotify::SUCCESS,
            "FAILURE" => flags |= DsnNotify::FAILURE,
            "DELAY" => flags |= DsnNotify::DELAY,
            _ => {}
        }
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dsn_asked_for_is_kept_as_notify_values() {
        for flags in [
            DsnNotify::empty(),
            DsnNotify::SUCCESS,
            DsnNotify::FAILURE | DsnNotify::DELAY,
            DsnNotify::all(),
        ] {
            assert_eq!(notify_flags(notify_text(flags).as_deref()), flags);
        }
        assert_eq!(
            notify_text(DsnNotify::SUCCESS | DsnNotify::FAILURE).as_deref(),
            Some("SUCCESS,FAILURE")
        );
        assert_eq!(notify_text(DsnNotify::empty()), None);
    }
}
