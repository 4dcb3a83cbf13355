//! IMDNs the gateway sends: the SIP MESSAGE carrying a `message/imdn+xml`
//! notification in CPIM (RFC 5438 §7.2.1) to the sender of an IM that
//! became a mail, from the IM address of that mail's recipient.

use interwork_proto::dates::{self, Timestamp};
use interwork_proto::imdn::{self, DeliveryStatus, Dispositions, Notification, NotificationKind};
use interwork_proto::sip::{Headers, Method, Request};
use interwork_store::{Correlation, Direction, Millis, NewMessage, Store};

/// Whether the IM's sender asked for this kind of notification (its
/// `imdn.Disposition-Notification`, kept in the correlation record):
/// RFC 5438 §7 — a recipient sends only what was asked for.
pub fn asked(record: &Correlation, kind: NotificationKind) -> bool {
    let asked = Dispositions::parse(record.notify.as_deref().unwrap_or_default());
    let needed = match kind {
        NotificationKind::Delivery(DeliveryStatus::Delivered) => Dispositions::POSITIVE_DELIVERY,
        NotificationKind::Delivery(_) => Dispositions::NEGATIVE_DELIVERY,
        NotificationKind::Display(_) => Dispositions::DISPLAY,
        _ => return false,
    };
    asked.contains(needed)
}

/// Now, as the IMDN writer dates things.
pub fn now() -> Timestamp {
    let now = crate::clock::now();
    Timestamp {
        unix_seconds: now.unix_seconds,
        offset_minutes: now.offset_minutes,
    }
}

/// The IMDN `kind` that `record`'s IM sender is owed, sent at `now`:
/// `None` (logged) when the IM asked for no such IMDN or was told one of
/// that kind already. Notes it as told.
pub async fn owed(
    store: &dyn Store,
    record: &Correlation,
    kind: NotificationKind,
    hostname: &str,
    keep_until: Millis,
) -> Option<Request> {
    let imdn_message_id = record.imdn_message_id.as_deref().unwrap_or_default();
    if !asked(record, kind) {
        tracing::info!(%imdn_message_id, ?kind, "the IM asked for no such IMDN: nothing to tell");
        return None;
    }
    if !first_of_its_kind(store, record, kind, keep_until).await {
        tracing::info!(%imdn_message_id, ?kind, "its sender was told already");
        return None;
    }
    imdn_request(record, kind, hostname, &now())
}

/// Whether this is the first IMDN of its kind (delivery, display) about
/// `record`'s IM: a bounce after the spool gave the mail up, or a DSN
/// repeated by a second relay, says nothing new. On a store error it
/// says yes — a repeated notification beats a lost one.
async fn first_of_its_kind(
    store: &dyn Store,
    record: &Correlation,
    kind: NotificationKind,
    keep_until: Millis,
) -> bool {
    let Some(id) = &record.imdn_message_id else {
        return true;
    };
    let class = match kind {
        NotificationKind::Display(_) => "display",
        _ => "delivery",
    };
    match store
        .first_notice(format!("imdn-{class}:{id}"), keep_until)
        .await
    {
        Ok(first) => first,
        Err(e) => {
            tracing::error!(imdn_message_id = %id, "cannot note the IMDN sent: {e}");
            true
        }
    }
}

/// The MESSAGE that tells `record`'s IM sender `kind` about its IM, sent
/// at `now`; `None` when the IM has no `imdn.Message-ID` to refer to or
/// its addresses cannot be written.
pub fn imdn_request(
    record: &Correlation,
    kind: NotificationKind,
    hostname: &str,
    now: &Timestamp,
) -> Option<Request> {
    let message_id = record.imdn_message_id.clone()?;
    let own_id = crate::ids::token();
    // §7.2.1.1: the `<datetime>` of the IM notified about, as it was sent.
    let datetime = record
        .im_date
        .as_deref()
        .and_then(|d| dates::parse_rfc3339(d).ok())
        .unwrap_or(*now);
    let notification = Notification {
        message_id,
        datetime,
        recipient_uri: Some(record.im_recipient.clone()),
        original_recipient_uri: Some(record.im_recipient.clone()),
        kind,
    };
    let cpim = imdn::notification_message(
        &record.im_recipient,
        &record.im_sender,
        &own_id,
        now,
        &notification,
    )
    .ok()?;
    let mut body = Vec::new();
    interwork_proto::cpim::write(&cpim, &mut body).ok()?;
    let mut headers = Headers::default();
    headers.push("Max-Forwards", "70");
    headers.push(
        "From",
        format!("<{}>;tag={}", record.im_recipient, crate::ids::token()),
    );
    headers.push("To", format!("<{}>", record.im_sender));
    headers.push("Call-ID", format!("{}@{hostname}", crate::ids::token()));
    headers.push("CSeq", "1 MESSAGE");
    headers.push("Content-Type", "message/cpim");
    Some(Request {
        method: Method::Message,
        uri: record.im_sender.clone(),
        headers,
        body,
    })
}

/// The IMDN as the spool queues it: an IM with no sender to tell when it
/// cannot be delivered (a notification about a notification is never
/// sent), retried like any IM while its recipient is away.
pub fn queued_imdn(request: &Request, record: &Correlation) -> NewMessage {
    let mut content = Vec::new();
    interwork_proto::sip::write(
        &interwork_proto::sip::Message::Request(request.clone()),
        &mut content,
    );
    NewMessage {
        direction: Direction::MailToIm,
        sender: String::new(),
        recipients: vec![record.im_sender.clone()],
        message_id: record.message_id.clone().unwrap_or_default(),
        imdn_message_id: record.imdn_message_id.clone(),
        content,
        alternate: None,
        dsn_notify: None,
        correlation: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(notify: &str) -> Correlation {
        Correlation {
            direction: Direction::ImToMail,
            imdn_message_id: Some("Msg-7".into()),
            message_id: Some("m7@gw.example.test".into()),
            envid: Some("Msg-7".into()),
            conversation_id: None,
            contribution_id: None,
            im_sender: "sip:alice@im.example.test".into(),
            im_recipient: "sip:bob=mail.example.test@gw.example.test".into(),
            mail_from: "alice@im.example.test".into(),
            mail_to: "bob@mail.example.test".into(),
            notify: Some(notify.into()),
            notify_to: None,
            im_date: Some("2026-12-03T08:00:00Z".into()),
            subject: None,
            expires_at: 0,
        }
    }

    #[test]
    fn only_what_was_asked_for_is_sent() {
        let delivered = NotificationKind::Delivery(DeliveryStatus::Delivered);
        let failed = NotificationKind::Delivery(DeliveryStatus::Failed);
        let displayed = NotificationKind::Display(imdn::DisplayStatus::Displayed);
        let r = record("positive-delivery");
        assert!(asked(&r, delivered) && !asked(&r, failed) && !asked(&r, displayed));
        let r = record("negative-delivery, display");
        assert!(!asked(&r, delivered) && asked(&r, failed) && asked(&r, displayed));
        assert!(!asked(&Correlation { notify: None, ..r }, failed));
    }

    #[test]
    fn the_imdn_names_the_im_and_echoes_its_datetime() {
        let now = Timestamp {
            unix_seconds: 1_796_284_800,
            offset_minutes: 0,
        };
        let kind = NotificationKind::Delivery(DeliveryStatus::Failed);
        let request = imdn_request(&record("negative-delivery"), kind, "gw.example.test", &now)
            .expect("a request");
        assert_eq!(request.uri, "sip:alice@im.example.test");
        assert!(
            request
                .headers
                .get("From")
                .unwrap()
                .starts_with("<sip:bob=mail.example.test@gw.example.test>;tag=")
        );
        let cpim = interwork_proto::cpim::parse(&request.body).unwrap();
        assert_eq!(cpim.content_type(), Some(imdn::IMDN_CONTENT_TYPE));
        // Never a request for a notification of the notification.
        assert!(
            cpim.get_ns(imdn::IMDN_URN, "Disposition-Notification")
                .is_none()
        );
        let notification = imdn::parse_xml(&cpim.body).unwrap();
        assert_eq!(notification.message_id, "Msg-7");
        assert_eq!(notification.kind, kind);
        assert_eq!(
            dates::format_rfc3339(&notification.datetime).unwrap(),
            "2026-12-03T08:00:00Z"
        );
        let queued = queued_imdn(&request, &record("negative-delivery"));
        assert_eq!(queued.sender, "", "nobody is told if the IMDN fails");
        assert_eq!(queued.recipients, ["sip:alice@im.example.test"]);
    }
}
