//! IM → mail through the spool: the mail an IM became, as the store keeps
//! it, and its delivery by SMTP ([`MailDelivery`]: DNS MX, per-domain
//! limits). The sender of a mail given up is told by IMDN `failed` when
//! the IM asked for negative delivery notification (RFC 5438 §7.2.1.1).

use std::sync::Arc;

use interwork_plugin_host::bindings::conversion::NoticeKind;
use interwork_plugin_host::{PluginSource, Plugins};

use interwork_plugin_host::bindings::types::DsnNotify;
use interwork_proto::imdn::{DeliveryStatus, NotificationKind};
use interwork_store::{
    Claimed, Correlation, CorrelationKey, Direction, Millis, NewMessage, Schedule, Store, after,
};

use super::{Courier, Hop, Outcome, QueuePolicy, millis_now};
use crate::BoxFuture;
use crate::mail::OutgoingMail;
use crate::notify::imdn_out;
use crate::outcome::Verdict;
use crate::smtp::client::{DeliveryOutcome, MailDelivery};

/// Delivers queued mails.
pub struct MailCourier {
    delivery: Arc<dyn MailDelivery>,
    imdns: Arc<Imdns>,
}

/// What the courier needs to tell IM senders about their mails.
struct Imdns {
    /// Where the IMs' correlation records are (who to tell, and how).
    store: Arc<dyn Store>,
    /// The gateway's host name (Call-IDs of IMDNs).
    hostname: String,
    /// The queue's lifetimes (of IMDNs, of notice keys).
    policy: QueuePolicy,
    /// `[notifications] delivered_on_250`.
    delivered_on_250: bool,
    /// The plugins whose `send-notice` may decide otherwise.
    plugins: Option<Arc<Plugins>>,
}

impl Imdns {
    /// Whether a 250 without DSN may count as delivered: the operator says
    /// so, or a conversion plugin from the plugin directory may (the
    /// embedded default answers what the operator says, so with it the
    /// store is not read for every such mail).
    fn may_count_250(&self) -> bool {
        self.delivered_on_250
            || self
                .plugins
                .as_ref()
                .is_some_and(|p| matches!(p.current().conversion.id.source, PluginSource::File(_)))
    }
}

impl MailCourier {
    /// A courier that hands mails to `delivery` and tells the senders of
    /// mails given up, through the records in `store`.
    pub fn new(
        delivery: Arc<dyn MailDelivery>,
        store: Arc<dyn Store>,
        hostname: String,
        policy: QueuePolicy,
    ) -> Self {
        Self {
            delivery,
            imdns: Arc::new(Imdns {
                store,
                hostname,
                policy,
                delivered_on_250: false,
                plugins: None,
            }),
        }
    }

    /// The courier with the operator's "a 250 counts as delivered" choice,
    /// and the plugins whose `send-notice` has the last word.
    pub fn with_delivered_on_250(
        self,
        delivered_on_250: bool,
        plugins: Option<Arc<Plugins>>,
    ) -> Self {
        let imdns = Imdns {
            store: self.imdns.store.clone(),
            hostname: self.imdns.hostname.clone(),
            policy: self.imdns.policy.clone(),
            delivered_on_250,
            plugins,
        };
        Self {
            imdns: Arc::new(imdns),
            ..self
        }
    }

    /// One delivery of `mail`, as a task the spool may leave running past
    /// the first-attempt budget. A `250` from a server that took no DSN
    /// request tells the IM sender "delivered" when the operator counts it
    /// so; otherwise the success DSN that comes back does (`notify`).
    pub fn deliver(&self, mail: OutgoingMail) -> BoxFuture<'static, Outcome> {
        let delivery = self.delivery.clone();
        let imdns = self.imdns.clone();
        Box::pin(async move {
            let outcome = delivery.deliver(&mail).await;
            if imdns.may_count_250()
                && matches!(outcome, DeliveryOutcome::Delivered { dsn: false, .. })
            {
                imdns.delivered(&mail.message_id).await;
            }
            outcome_of(outcome)
        })
    }
}

impl Imdns {
    /// The IM → mail record of the mail `message_id`.
    async fn record(&self, message_id: &str, now: Millis) -> Option<Correlation> {
        let key = CorrelationKey::MessageId(message_id.to_string());
        match self.store.find(key, now).await {
            Ok(found) => found
                .into_iter()
                .map(|c| c.record)
                .find(|r| r.direction == Direction::ImToMail),
            Err(e) => {
                tracing::error!(%message_id, "cannot read the IM's record: {e}");
                None
            }
        }
    }

    /// The IMDN `kind` for the IM of `record`, queued, when it asked for
    /// one and was not told yet.
    async fn imdn(
        &self,
        record: &Correlation,
        kind: NotificationKind,
        now: Millis,
    ) -> Option<NewMessage> {
        let keep_until = after(now, self.policy.correlation_lifetime);
        let request = imdn_out::owed(
            self.store.as_ref(),
            record,
            kind,
            &self.hostname,
            keep_until,
        )
        .await?;
        Some(imdn_out::queued_imdn(&request, record))
    }

    /// "Delivered" for the mail `message_id`, queued for the retry worker.
    async fn delivered(&self, message_id: &str) {
        let now = millis_now();
        let kind = NotificationKind::Delivery(DeliveryStatus::Delivered);
        let Some(record) = self.record(message_id, now).await else {
            return;
        };
        let counted = crate::notify::decide(
            self.plugins.as_deref(),
            NoticeKind::DeliveredOnRelay,
            &record.im_sender,
            &record.mail_to,
            self.delivered_on_250,
        );
        if !counted {
            return;
        }
        let Some(imdn) = self.imdn(&record, kind, now).await else {
            return;
        };
        let schedule = Schedule {
            now,
            expires_at: self.policy.backoff.expiry(now),
            lease: None,
        };
        match self.store.enqueue(imdn, schedule).await {
            Ok(id) => {
                tracing::info!(queue_id = id, %message_id, "250 counted as delivered: IMDN queued")
            }
            Err(e) => tracing::error!(%message_id, "cannot queue the IMDN: {e}"),
        }
    }
}

/// The DSN envelope id of a mail (RFC 3461 §4.4): its Message-ID, unique
/// already, kept by the queue, and found again in the DSN that echoes it.
pub fn envid_of(mail: &OutgoingMail) -> Option<String> {
    (mail.dsn_notify != DsnNotify::empty()).then(|| mail.message_id.clone())
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
    let mut mail = OutgoingMail {
        envelope_from: entry.sender,
        envelope_to: entry.recipients,
        dsn_notify: notify_flags(entry.dsn_notify.as_deref()),
        envid: None,
        message_id: entry.message_id,
        bytes: message.content,
        seven_bit: message.alternate,
    };
    mail.envid = envid_of(&mail);
    mail
}

fn outcome_of(outcome: DeliveryOutcome) -> Outcome {
    match &outcome {
        DeliveryOutcome::Delivered { server, reply, .. } => Outcome::Delivered(Hop {
            relay: server.clone(),
            reply: format!("250 {reply}"),
            mode: "",
        }),
        DeliveryOutcome::Permanent(failure) | DeliveryOutcome::Temporary(failure) => {
            let verdict = Verdict::of_mail_failure(&outcome)
                .unwrap_or_else(|| Verdict::fault("a failure without a verdict"));
            // A server's reply is what was received; a failure of our own
            // (DNS, connection) is only the reason.
            let hop = Hop {
                relay: failure.server.clone().unwrap_or_default(),
                reply: if failure.code.is_some() {
                    failure.text.clone()
                } else {
                    String::new()
                },
                mode: "",
            };
            if matches!(outcome, DeliveryOutcome::Permanent(_)) {
                Outcome::Permanent(verdict, hop)
            } else {
                Outcome::Temporary(verdict, hop)
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
        let imdns = self.imdns.clone();
        let message_id = message.entry.message_id.clone();
        Box::pin(async move {
            let now = millis_now();
            let record = imdns.record(&message_id, now).await?;
            let kind = NotificationKind::Delivery(DeliveryStatus::Failed);
            imdns.imdn(&record, kind, now).await
        })
    }
}

/// RFC 3461 §4.1 `NOTIFY=` values of the DSN asked for; `None` for none.
pub fn notify_text(notify: DsnNotify) -> Option<String> {
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

/// The flags of `NOTIFY=` values as [`notify_text`] writes them.
pub fn notify_flags(text: Option<&str>) -> DsnNotify {
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
