//! IMDNs from the IM side → reports by mail: an IMDN about an IM the
//! gateway made from a mail becomes, when the mail asked for it, a DSN
//! (RFC 3464; `delivered` for `NOTIFY=SUCCESS`, `failed` for
//! `NOTIFY=FAILURE`) or an MDN (RFC 8098; `displayed` for a mail with
//! `Disposition-Notification-To`) — at most one of each per message, to
//! the address that asked and nobody else (RFC 8098 §2.1).

use interwork_proto::imdn::{self, DeliveryStatus, DisplayStatus, Notification, NotificationKind};
use interwork_proto::{cpim, sip::NameAddr};
use interwork_store::{Correlation, CorrelationKey, Direction, Millis, Store, StoreError};

use interwork_plugin_host::bindings::conversion::NoticeKind;
use interwork_plugin_host::bindings::types::DsnNotify;

use super::NoticePolicy;
use crate::mail::{OutgoingMail, dsn, mdn};
use crate::outcome::{About, Kind, Verdict};
use crate::spool::mail_courier::notify_flags;

/// The IMDN an IM's content carries (`message/imdn+xml` inside CPIM,
/// RFC 5438 §7.2.1); `None` when the content is no notification, `Err`
/// when it is one that cannot be read.
pub fn notification_of(
    content_type: Option<&str>,
    body: &[u8],
) -> Option<Result<Notification, Verdict>> {
    let media = content_type?.split(';').next()?.trim();
    if !media.eq_ignore_ascii_case("message/cpim") {
        return None;
    }
    let message = cpim::parse(body).ok()?;
    let inner = message.content_type()?.split(';').next()?.trim();
    if !inner.eq_ignore_ascii_case(imdn::IMDN_CONTENT_TYPE) {
        return None;
    }
    Some(imdn::parse_xml(&message.body).map_err(|e| {
        Verdict::new(
            Kind::Invalid,
            About::Content,
            format!("bad {}: {e}", imdn::IMDN_CONTENT_TYPE),
        )
    }))
}

/// The URI of a name-addr or bare URI, for comparing senders.
fn uri_of(address: &str) -> String {
    NameAddr::parse(address)
        .map(|a| a.uri)
        .unwrap_or_else(|_| address.trim().trim_matches(['<', '>']).to_string())
        .to_ascii_lowercase()
}

/// Whether the mail's envelope asked for this DSN (RFC 3461 §4.1). A
/// RCPT without `NOTIFY` gets failures only, as MTAs do by default.
fn dsn_asked(record: &Correlation, flag: DsnNotify) -> bool {
    match record.notify.as_deref() {
        None => flag == DsnNotify::FAILURE,
        Some(asked) => notify_flags(Some(asked)).contains(flag),
    }
}

/// A report to send, and the key that makes it the only one of its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailNotice {
    /// The DSN or MDN.
    pub mail: OutgoingMail,
    /// `dsn:…` / `mdn:…` and the mail's id, noted in the store.
    pub key: String,
}

/// The report `record`'s mail sender is owed for `kind`, if the mail
/// asked for one and the operator lets it go (`[notifications]`).
fn owed(
    record: &Correlation,
    kind: NotificationKind,
    policy: &NoticePolicy<'_>,
    hostname: &str,
) -> Option<MailNotice> {
    let id = record
        .message_id
        .clone()
        .or(record.imdn_message_id.clone())?;
    let now = crate::clock::now();
    let reader = &record.im_recipient;
    match kind {
        NotificationKind::Delivery(DeliveryStatus::Delivered)
            if dsn_asked(record, DsnNotify::SUCCESS)
                && policy.decide(
                    NoticeKind::DsnDelivered,
                    reader,
                    &record.mail_from,
                    policy.config.send_dsn,
                ) =>
        {
            let mail = dsn::success_report(
                &dsn::Success {
                    sender: &record.mail_from,
                    recipient: &record.mail_to,
                    envid: record.envid.as_deref(),
                    message_id: record.message_id.as_deref(),
                    diagnostic: &format!("IMDN delivered from {reader}"),
                },
                hostname,
                now,
            )?;
            Some(MailNotice {
                mail,
                key: format!("dsn:{id}"),
            })
        }
        NotificationKind::Delivery(status)
            if status != DeliveryStatus::Delivered
                && policy.config.send_dsn
                && dsn_asked(record, DsnNotify::FAILURE) =>
        {
            let recipients = [record.mail_to.clone()];
            let diagnostic = format!("IMDN {status:?} from {reader}").to_ascii_lowercase();
            let mail = dsn::failure_report(
                &dsn::Failure {
                    sender: &record.mail_from,
                    recipients: &recipients,
                    arrival: now,
                    original: b"",
                    status: "5.0.0",
                    diagnostic: &diagnostic,
                },
                hostname,
                now,
            )?;
            Some(MailNotice {
                mail,
                key: format!("dsn:{id}"),
            })
        }
        NotificationKind::Display(DisplayStatus::Displayed)
            if record.notify_to.is_some()
                && policy.decide(
                    NoticeKind::MdnDisplayed,
                    reader,
                    record.notify_to.as_deref().unwrap_or_default(),
                    policy.config.send_mdn,
                ) =>
        {
            let to = record.notify_to.as_deref()?;
            let mail = mdn::displayed(
                &mdn::Displayed {
                    to,
                    recipient: &record.mail_to,
                    message_id: record.message_id.as_deref(),
                    subject: record.subject.as_deref(),
                    reader,
                },
                hostname,
                now,
            )?;
            Some(MailNotice {
                mail,
                key: format!("mdn:{id}"),
            })
        }
        _ => None,
    }
}

/// What the mail side is sent for `notification`, which IM user `from`
/// sent: `None` (logged) when the store does not know the IM, when
/// someone other than its recipient sends it, when the mail did not ask,
/// or when that report was sent already.
pub async fn answer(
    store: &dyn Store,
    notification: &Notification,
    from: &str,
    policy: &NoticePolicy<'_>,
    hostname: &str,
    now: Millis,
    keep_until: Millis,
) -> Result<Option<MailNotice>, StoreError> {
    let key = CorrelationKey::ImdnMessageId(notification.message_id.clone());
    let Some(found) = store
        .find(key, now)
        .await?
        .into_iter()
        .find(|c| c.record.direction == Direction::MailToIm)
    else {
        tracing::info!(
            imdn_message_id = %notification.message_id,
            kind = ?notification.kind,
            "IMDN about an IM the store does not know (or no longer keeps): dropped"
        );
        return Ok(None);
    };
    let record = found.record;
    if uri_of(from) != uri_of(&record.im_recipient) {
        tracing::warn!(
            imdn_message_id = %notification.message_id,
            from,
            recipient = %record.im_recipient,
            "IMDN from someone the IM was not sent to: dropped"
        );
        return Ok(None);
    }
    let Some(notice) = owed(&record, notification.kind, policy, hostname) else {
        tracing::info!(
            imdn_message_id = %notification.message_id,
            kind = ?notification.kind,
            message_id = record.message_id.as_deref().unwrap_or_default(),
            "IMDN for a mail that asked for no such report: nothing to send"
        );
        return Ok(None);
    };
    if !store.first_notice(notice.key.clone(), keep_until).await? {
        tracing::info!(
            key = %notice.key,
            "IMDN repeats one already reported to the mail's sender: nothing to send"
        );
        return Ok(None);
    }
    Ok(Some(notice))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::NotificationsConfig;

    fn record() -> Correlation {
        Correlation {
            direction: Direction::MailToIm,
            imdn_message_id: Some("imdn-1".into()),
            message_id: Some("m1@mail.example.test".into()),
            envid: Some("env-1".into()),
            conversation_id: None,
            contribution_id: None,
            im_sender: "sip:carol=mail.example.test@gw.example.test".into(),
            im_recipient: "sip:bob@im.example.test".into(),
            mail_from: "carol@mail.example.test".into(),
            mail_to: "bob@gw.example.test".into(),
            notify: Some("SUCCESS,FAILURE".into()),
            notify_to: Some("carol@mail.example.test".into()),
            im_date: None,
            subject: Some("lunch?".into()),
            expires_at: 0,
        }
    }

    const DELIVERED: NotificationKind = NotificationKind::Delivery(DeliveryStatus::Delivered);
    const DISPLAYED: NotificationKind = NotificationKind::Display(DisplayStatus::Displayed);

    #[test]
    fn reports_go_only_where_the_mail_asked() {
        let policy = NotificationsConfig::default();
        let dsn = owed(
            &record(),
            DELIVERED,
            &NoticePolicy {
                config: &policy,
                plugins: None,
            },
            "gw.example.test",
        )
        .expect("a DSN");
        assert_eq!(dsn.key, "dsn:m1@mail.example.test");
        assert_eq!(dsn.mail.envelope_to, ["carol@mail.example.test"]);
        assert!(String::from_utf8_lossy(&dsn.mail.bytes).contains("Original-Envelope-Id: env-1"));
        let mdn = owed(
            &record(),
            DISPLAYED,
            &NoticePolicy {
                config: &policy,
                plugins: None,
            },
            "gw.example.test",
        )
        .expect("an MDN");
        assert_eq!(mdn.key, "mdn:m1@mail.example.test");
        // No Disposition-Notification-To: no MDN, whatever the IM side says.
        let no_dnt = Correlation {
            notify_to: None,
            ..record()
        };
        assert_eq!(
            owed(
                &no_dnt,
                DISPLAYED,
                &NoticePolicy {
                    config: &policy,
                    plugins: None
                },
                "gw.example.test"
            ),
            None
        );
        // NOTIFY=FAILURE only, or no NOTIFY: no success DSN.
        for notify in [Some("FAILURE".to_string()), None] {
            let r = Correlation { notify, ..record() };
            assert_eq!(
                owed(
                    &r,
                    DELIVERED,
                    &NoticePolicy {
                        config: &policy,
                        plugins: None
                    },
                    "gw.example.test"
                ),
                None
            );
        }
        // Null reverse-path: nobody to send a DSN to.
        let bounce = Correlation {
            mail_from: String::new(),
            ..record()
        };
        assert_eq!(
            owed(
                &bounce,
                DELIVERED,
                &NoticePolicy {
                    config: &policy,
                    plugins: None
                },
                "gw.example.test"
            ),
            None
        );
        let off = NotificationsConfig {
            send_mdn: false,
            ..policy
        };
        assert_eq!(
            owed(
                &record(),
                DISPLAYED,
                &NoticePolicy {
                    config: &off,
                    plugins: None
                },
                "gw.example.test"
            ),
            None
        );
    }

    #[test]
    fn an_imdn_is_found_inside_cpim_only() {
        let body = b"From: <sip:bob@im.example.test>\r\nTo: <sip:carol@gw.example.test>\r\n\
            NS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: n1\r\n\
            DateTime: 2026-12-03T08:00:00Z\r\n\r\n\
            Content-Type: message/imdn+xml\r\nContent-Disposition: notification\r\n\r\n\
            <?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
            <imdn xmlns=\"urn:ietf:params:xml:ns:imdn\"><message-id>imdn-1</message-id>\
            <datetime>2026-12-03T07:59:00Z</datetime><display-notification><status>\
            <displayed/></status></display-notification></imdn>\r\n";
        let found = notification_of(Some("message/cpim"), body)
            .expect("a notification")
            .expect("readable");
        assert_eq!(found.message_id, "imdn-1");
        assert_eq!(found.kind, DISPLAYED);
        assert!(notification_of(Some("text/plain"), b"hello").is_none());
    }
}
