//! `interwork:plugin@0.1.0`, frozen: its bindings and the adapter between
//! its types and the host's (0.2.0's).
//!
//! What 0.1.0 cannot say, the adapter decides as the README's "Contract
//! versions" says: a 0.1.0 conversion plugin sees the first recipient of a
//! group IM (the host writes the others into `To` and the envelope), the
//! envelope it returns is replaced by the mapping's, attachments are not
//! shown to it, and receipts follow the operator's configuration.

wasmtime::component::bindgen!({
    path: "../../wit/interwork-plugin/0.1.0",
    world: "mapper-converter",
    additional_derives: [PartialEq],
});

/// Conversions between 0.1.0's types and the host's.
pub mod adapt {
    use super::exports::interwork::plugin::mapping as old_mapping;
    use super::interwork::plugin::types as old;
    use crate::bindings::{mapping, types as new};

    pub fn role(role: mapping::Role) -> old_mapping::Role {
        match role {
            mapping::Role::Sender => old_mapping::Role::Sender,
            mapping::Role::Recipient => old_mapping::Role::Recipient,
        }
    }

    pub fn mapped(mapped: old_mapping::Mapped) -> mapping::Mapped {
        mapping::Mapped {
            value: mapped.value,
            origin: match mapped.origin {
                old_mapping::Origin::Constructed => mapping::Origin::Constructed,
                old_mapping::Origin::Provisioned => mapping::Origin::Provisioned,
                old_mapping::Origin::Foreign => mapping::Origin::Foreign,
            },
        }
    }

    pub fn error(error: old::PluginError) -> new::PluginError {
        new::PluginError {
            kind: match error.kind {
                old::ErrorKind::NotFound => new::ErrorKind::NotFound,
                old::ErrorKind::Invalid => new::ErrorKind::Invalid,
                old::ErrorKind::Temporary => new::ErrorKind::Temporary,
                old::ErrorKind::Permanent => new::ErrorKind::Permanent,
            },
            reason: error.reason,
        }
    }

    fn header_to(h: &new::Header) -> old::Header {
        old::Header {
            name: h.name.clone(),
            value: h.value.clone(),
        }
    }

    fn header_from(h: old::Header) -> new::Header {
        new::Header {
            name: h.name,
            value: h.value,
        }
    }

    fn timestamp_to(t: new::Timestamp) -> old::Timestamp {
        old::Timestamp {
            unix_seconds: t.unix_seconds,
            offset_minutes: t.offset_minutes,
        }
    }

    fn timestamp_from(t: old::Timestamp) -> new::Timestamp {
        new::Timestamp {
            unix_seconds: t.unix_seconds,
            offset_minutes: t.offset_minutes,
        }
    }

    fn dispositions_to(d: new::Dispositions) -> old::Dispositions {
        let mut out = old::Dispositions::empty();
        for (n, o) in [
            (
                new::Dispositions::POSITIVE_DELIVERY,
                old::Dispositions::POSITIVE_DELIVERY,
            ),
            (
                new::Dispositions::NEGATIVE_DELIVERY,
                old::Dispositions::NEGATIVE_DELIVERY,
            ),
            (new::Dispositions::DISPLAY, old::Dispositions::DISPLAY),
        ] {
            if d.contains(n) {
                out |= o;
            }
        }
        out
    }

    fn dispositions_from(d: old::Dispositions) -> new::Dispositions {
        let mut out = new::Dispositions::empty();
        for (o, n) in [
            (
                old::Dispositions::POSITIVE_DELIVERY,
                new::Dispositions::POSITIVE_DELIVERY,
            ),
            (
                old::Dispositions::NEGATIVE_DELIVERY,
                new::Dispositions::NEGATIVE_DELIVERY,
            ),
            (old::Dispositions::DISPLAY, new::Dispositions::DISPLAY),
        ] {
            if d.contains(o) {
                out |= n;
            }
        }
        out
    }

    fn dsn_to(d: new::DsnNotify) -> old::DsnNotify {
        let mut out = old::DsnNotify::empty();
        for (n, o) in [
            (new::DsnNotify::SUCCESS, old::DsnNotify::SUCCESS),
            (new::DsnNotify::FAILURE, old::DsnNotify::FAILURE),
            (new::DsnNotify::DELAY, old::DsnNotify::DELAY),
        ] {
            if d.contains(n) {
                out |= o;
            }
        }
        out
    }

    fn dsn_from(d: old::DsnNotify) -> new::DsnNotify {
        let mut out = new::DsnNotify::empty();
        for (o, n) in [
            (old::DsnNotify::SUCCESS, new::DsnNotify::SUCCESS),
            (old::DsnNotify::FAILURE, new::DsnNotify::FAILURE),
            (old::DsnNotify::DELAY, new::DsnNotify::DELAY),
        ] {
            if d.contains(o) {
                out |= n;
            }
        }
        out
    }

    fn part_to(p: &new::MailPart) -> old::MailPart {
        old::MailPart {
            content_type: p.content_type.clone(),
            disposition: p.disposition.clone(),
            filename: p.filename.clone(),
            body: p.body.clone(),
        }
    }

    fn part_from(p: old::MailPart) -> new::MailPart {
        new::MailPart {
            content_type: p.content_type,
            disposition: p.disposition,
            filename: p.filename,
            content_id: None,
            body: p.body,
        }
    }

    /// The IM as a 0.1.0 plugin sees it: one recipient, no attachments.
    pub fn im_to(im: &new::ImMessage) -> old::ImMessage {
        old::ImMessage {
            sender: im.sender.clone(),
            recipients: im.recipients.iter().take(1).cloned().collect(),
            date: timestamp_to(im.date),
            subject: im.subject.clone(),
            content_type: im.content_type.clone(),
            body: im.body.clone(),
            imdn_message_id: im.imdn_message_id.clone(),
            dispositions: dispositions_to(im.dispositions),
            extra_headers: im.extra_headers.iter().map(header_to).collect(),
        }
    }

    pub fn im_from(im: old::ImMessage) -> new::ImMessage {
        new::ImMessage {
            sender: im.sender,
            recipients: im.recipients,
            cc: Vec::new(),
            bcc: Vec::new(),
            date: timestamp_from(im.date),
            subject: im.subject,
            content_type: im.content_type,
            body: im.body,
            attachments: Vec::new(),
            imdn_message_id: im.imdn_message_id,
            dispositions: dispositions_from(im.dispositions),
            extra_headers: im.extra_headers.into_iter().map(header_from).collect(),
        }
    }

    pub fn email_to(mail: &new::EmailMessage) -> old::EmailMessage {
        old::EmailMessage {
            envelope_from: mail.envelope_from.clone(),
            envelope_to: mail.envelope_to.clone(),
            dsn_notify: dsn_to(mail.dsn_notify),
            date: mail.date.map(timestamp_to),
            headers: mail.headers.iter().map(header_to).collect(),
            body: mail.body.iter().map(part_to).collect(),
        }
    }

    /// The content of the mail a 0.1.0 plugin made for the first
    /// recipient, without its envelope: where the mail goes is the
    /// mapping's to say. `others` are the other recipients' addresses a
    /// header may show (not the blind copies): they join `To`. Returns the
    /// content and whether the plugin's envelope said something else.
    pub fn content_from(
        mail: old::EmailMessage,
        sender: &str,
        first: &str,
        others: &[&str],
    ) -> (new::MailContent, bool) {
        let rerouted = mail.envelope_from != sender || mail.envelope_to != [first];
        let mut headers: Vec<new::Header> = mail.headers.into_iter().map(header_from).collect();
        if !others.is_empty() {
            match headers
                .iter_mut()
                .find(|h| h.name.eq_ignore_ascii_case("To"))
            {
                Some(to) => {
                    for address in others {
                        if !to.value.contains(address) {
                            to.value.push_str(", ");
                            to.value.push_str(address);
                        }
                    }
                }
                None => headers.push(new::Header {
                    name: "To".into(),
                    value: std::iter::once(first)
                        .chain(others.iter().copied())
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
            }
        }
        let content = new::MailContent {
            dsn_notify: dsn_from(mail.dsn_notify),
            date: mail.date.map(timestamp_from),
            headers,
            body: mail.body.into_iter().map(part_from).collect(),
        };
        (content, rerouted)
    }
}
