//! IM → mail through the spool: the mail an IM became, as the store keeps
//! it, and its delivery by SMTP ([`MailDelivery`]: DNS MX, per-domain
//! limits). The sender of a mail given up is told by IMDN `failed` when
//! the IM asked for negative delivery notification (RFC 5438 §7.2.1.1).

use std::sync::Arc;

use std::time::Duration;

use interwork_plugin_host::bindings::types::DsnNotify;
use interwork_proto::imdn::{DeliveryStatus, NotificationKind};
use interwork_store::{Claimed, Correlation, CorrelationKey, Direction, NewMessage, Store, after};

use super::{Courier, Outcome, millis_now};
use crate::BoxFuture;
use crate::mail::OutgoingMail;
use crate::notify::imdn_out;
use crate::outcome::Verdict;
use crate::smtp::client::{DeliveryOutcome, MailDelivery};

/// Delivers queued mails.
pub struct MailCourier {
    delivery: Arc<dyn MailDelivery>,
    /// Where the IMs' correlation records are (who to tell, and how).
    store: Arc<dyn Store>,
    /// The gateway's host name (Call-IDs of IMDNs).
    hostname: String,
    /// How long a notice key is kept (the correlation lifetime).
    notice_lifetime: Duration,
}

impl MailCourier {
    /// A courier that hands mails to `delivery` and tells the senders of
    /// mails given up, through the records in `store`.
    pub fn new(
        delivery: Arc<dyn MailDelivery>,
        store: Arc<dyn Store>,
        hostname: String,
        notice_lifetime: Duration,
    ) -> Self {
        Self {
            delivery,
            store,
            hostname,
            notice_lifetime,
        }
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
        true
    }

    fn notice(&self, message: &Claimed) -> BoxFuture<'static, Option<NewMessage>> {
        let store = self.store.clone();
        let hostname = self.hostname.clone();
        let lifetime = self.notice_lifetime;
        let entry = message.entry.clone();
        Box::pin(async move {
            let kind = NotificationKind::Delivery(DeliveryStatus::Failed);
            let now = millis_now();
            let key = CorrelationKey::ImdnMessageId(entry.imdn_message_id.clone()?);
            let found = match store.find(key, now).await {
                Ok(found) => found,
                Err(e) => {
                    tracing::error!(queue_id = entry.id, "cannot read the IM's record: {e}");
                    return None;
                }
            };
            let record = found.into_iter().map(|c| c.record).find(|r| {
                r.direction == Direction::ImToMail
                    && r.message_id.as_deref() == Some(entry.message_id.as_str())
            })?;
            if !imdn_out::asked(&record, kind) {
                return None;
            }
            imdn_out::first_of_its_kind(store.as_ref(), &record, kind, after(now, lifetime))
                .await
                .then_some(())?;
            let request = imdn_out::imdn_request(&record, kind, &hostname, &imdn_out::now())?;
            Some(imdn_out::queued_imdn(&request, &record))
        })
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
