//! Reports that come back by mail → IMDNs: a DSN (RFC 3464) or MDN
//! (RFC 8098) about a mail the gateway made from an IM is matched to that
//! IM through the store's correlation records, and says which IMDN its
//! sender gets (RFC 5438 §7.2.1).

use interwork_proto::imdn::{DeliveryStatus, DisplayStatus, NotificationKind};
use interwork_proto::report::{Action, Disposition, Report};
use interwork_store::{Correlated, CorrelationKey, Direction, Millis, Store, StoreError};

use interwork_store::Correlation;

/// One IM a report speaks about, and what its sender is to be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Told {
    /// The IM's correlation record.
    pub record: Correlation,
    /// The IMDN.
    pub kind: NotificationKind,
}

/// The IMDN a DSN recipient block's action stands for; `None` for what
/// IMDN cannot say (`delayed`: no IMDN for "still trying", RFC 5438 §7.2.1.1
/// knows only final states). `relayed` (RFC 3461 §6.2: handed to a system
/// that gives no DSN) is "delivered" only when the operator counts a 250
/// as delivered.
fn of_action(action: &Action, relayed_is_delivered: bool) -> Option<NotificationKind> {
    match action {
        Action::Delivered | Action::Expanded => {
            Some(NotificationKind::Delivery(DeliveryStatus::Delivered))
        }
        Action::Relayed if relayed_is_delivered => {
            Some(NotificationKind::Delivery(DeliveryStatus::Delivered))
        }
        Action::Failed => Some(NotificationKind::Delivery(DeliveryStatus::Failed)),
        _ => None,
    }
}

/// The IMDN an MDN disposition stands for: `displayed` as displayed,
/// `denied` (RFC 3798, still sent by some agents) as `forbidden`; IMDN has
/// nothing for deleted, dispatched or processed (RFC 5438 §7.2.1.2).
fn of_disposition(disposition: &Disposition) -> Option<NotificationKind> {
    match disposition {
        Disposition::Displayed => Some(NotificationKind::Display(DisplayStatus::Displayed)),
        Disposition::Other(other) if other == "denied" => {
            Some(NotificationKind::Display(DisplayStatus::Forbidden))
        }
        _ => None,
    }
}

/// The IM → mail records a report's ids find, the first id that finds any:
/// for a DSN the ENVID it echoes (ours), then the returned Message-ID.
async fn records_of(
    store: &dyn Store,
    keys: Vec<CorrelationKey>,
    now: Millis,
) -> Result<Vec<Correlated>, StoreError> {
    for key in keys {
        let found: Vec<Correlated> = store
            .find(key, now)
            .await?
            .into_iter()
            .filter(|c| c.record.direction == Direction::ImToMail)
            .collect();
        if !found.is_empty() {
            return Ok(found);
        }
    }
    Ok(Vec::new())
}

/// What `report` tells the IM side: one entry per IM it is about (a DSN
/// may report several recipients of one mail; the gateway sends one
/// recipient per mail, so one). Empty when it is about nothing the store
/// knows, or says nothing an IMDN can carry; each such case is logged.
pub async fn read(
    store: &dyn Store,
    report: &Report,
    relayed_is_delivered: bool,
    now: Millis,
) -> Result<Vec<Told>, StoreError> {
    let (keys, kinds, what) = match report {
        Report::Delivery(dsn) => {
            let keys = [
                dsn.original_envelope_id.clone().map(CorrelationKey::Envid),
                dsn.original_message_id
                    .clone()
                    .map(CorrelationKey::MessageId),
            ];
            let kinds: Vec<(Option<String>, Option<NotificationKind>)> = dsn
                .recipients
                .iter()
                .map(|r| {
                    (
                        r.original_recipient.clone().or(r.final_recipient.clone()),
                        of_action(&r.action, relayed_is_delivered),
                    )
                })
                .collect();
            (keys, kinds, "DSN")
        }
        Report::Disposition(mdn) => (
            [
                mdn.original_message_id
                    .clone()
                    .map(CorrelationKey::MessageId),
                None,
            ],
            vec![(
                mdn.final_recipient.clone(),
                of_disposition(&mdn.disposition),
            )],
            "MDN",
        ),
    };
    let records = records_of(store, keys.into_iter().flatten().collect(), now).await?;
    if records.is_empty() {
        tracing::info!(
            ?report,
            "{what} about a message the store does not know (or no longer keeps): dropped"
        );
        return Ok(Vec::new());
    }
    let mut told = Vec::new();
    for found in records {
        let record = found.record;
        // The block about this record's recipient, else the only one.
        let block = kinds
            .iter()
            .find(|(to, _)| {
                to.as_deref()
                    .is_some_and(|to| to.eq_ignore_ascii_case(&record.mail_to))
            })
            .or(kinds.first().filter(|_| kinds.len() == 1));
        match block {
            Some((_, Some(kind))) => told.push(Told {
                record,
                kind: *kind,
            }),
            Some((_, None)) => tracing::info!(
                message_id = record.message_id.as_deref().unwrap_or_default(),
                "{what} says what no IMDN says (delayed, deleted, …): nothing to tell"
            ),
            None => tracing::info!(
                message_id = record.message_id.as_deref().unwrap_or_default(),
                "{what} has no block for {}: nothing to tell",
                record.mail_to
            ),
        }
    }
    Ok(told)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsn_actions_and_mdn_dispositions_map_to_imdns() {
        let delivered = Some(NotificationKind::Delivery(DeliveryStatus::Delivered));
        assert_eq!(of_action(&Action::Delivered, false), delivered);
        assert_eq!(of_action(&Action::Relayed, false), None);
        assert_eq!(of_action(&Action::Relayed, true), delivered);
        assert_eq!(of_action(&Action::Delayed, true), None);
        assert_eq!(
            of_action(&Action::Failed, false),
            Some(NotificationKind::Delivery(DeliveryStatus::Failed))
        );
        assert_eq!(
            of_disposition(&Disposition::Displayed),
            Some(NotificationKind::Display(DisplayStatus::Displayed))
        );
        assert_eq!(
            of_disposition(&Disposition::Other("denied".into())),
            Some(NotificationKind::Display(DisplayStatus::Forbidden))
        );
        assert_eq!(of_disposition(&Disposition::Deleted), None);
    }
}
