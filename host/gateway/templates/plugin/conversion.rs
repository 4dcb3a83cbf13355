//! {description}
//!
//! IM → mail: `From`, `To` / `Cc` as the IM addressed its recipients, the
//! subject, the content and its attachments. Mail → IM: the first text
//! part, the subject. Receipts: as the gateway's configuration says.

use interwork_plugin_sdk::conversion::{Guest, Notice};
use interwork_plugin_sdk::types::{
    Dispositions, DsnNotify, EmailMessage, Header, ImMessage, MailContent, MailPart, PluginError,
    Timestamp,
};
use interwork_plugin_sdk::{find_header, media_type_is};

struct Plugin;

impl Guest for Plugin {
    fn im_to_email(
        im: ImMessage,
        sender_address: String,
        recipient_addresses: Vec<String>,
    ) -> Result<MailContent, PluginError> {
        let (mut to, mut cc) = (Vec::new(), Vec::new());
        for (uri, address) in im.recipients.iter().zip(&recipient_addresses) {
            if im.bcc.contains(uri) {
                continue;
            }
            if im.cc.contains(uri) { &mut cc } else { &mut to }.push(address.clone());
        }
        let mut headers = vec![Header::new("From", sender_address)];
        if !to.is_empty() {
            headers.push(Header::new("To", to.join(", ")));
        }
        if !cc.is_empty() {
            headers.push(Header::new("Cc", cc.join(", ")));
        }
        if let Some(subject) = im.subject {
            headers.push(Header::new("Subject", subject));
        }
        let mut body = vec![MailPart {
            content_type: im.content_type,
            disposition: None,
            filename: None,
            content_id: None,
            body: im.body,
        }];
        body.extend(im.attachments);
        Ok(MailContent {
            dsn_notify: DsnNotify::empty(),
            date: Some(im.date),
            headers,
            body,
        })
    }

    fn email_to_im(
        mail: EmailMessage,
        sender_im: String,
        recipient_im: String,
    ) -> Result<ImMessage, PluginError> {
        let text = mail
            .body
            .iter()
            .find(|p| media_type_is(&p.content_type, "text/plain"))
            .ok_or_else(|| PluginError::invalid("the mail has no text/plain part"))?;
        Ok(ImMessage {
            sender: sender_im,
            recipients: vec![recipient_im],
            cc: Vec::new(),
            bcc: Vec::new(),
            date: mail.date.unwrap_or(Timestamp {
                unix_seconds: 0,
                offset_minutes: 0,
            }),
            subject: find_header(&mail.headers, "Subject").map(str::to_string),
            content_type: "text/plain;charset=utf-8".into(),
            body: text.body.clone(),
            attachments: Vec::new(),
            imdn_message_id: None,
            dispositions: Dispositions::empty(),
            extra_headers: Vec::new(),
        })
    }

    fn send_notice(notice: Notice) -> bool {
        notice.configured
    }
}

interwork_plugin_sdk::export!(Plugin: conversion);

#[cfg(test)]
mod tests {
    use super::*;
    use interwork_plugin_sdk::testing::Host;

    fn im(recipients: &[&str]) -> ImMessage {
        ImMessage {
            sender: "sip:alice@im.example.test".into(),
            recipients: recipients.iter().map(|r| r.to_string()).collect(),
            cc: Vec::new(),
            bcc: Vec::new(),
            date: Timestamp {
                unix_seconds: 1_764_000_000,
                offset_minutes: 60,
            },
            subject: Some("lunch?".into()),
            content_type: "text/plain;charset=utf-8".into(),
            body: b"at noon?".to_vec(),
            attachments: Vec::new(),
            imdn_message_id: None,
            dispositions: Dispositions::empty(),
            extra_headers: Vec::new(),
        }
    }

    #[test]
    fn a_group_im_has_to_and_cc_and_no_blind_copy() {
        let _host = Host::new().im_domain("im.example.test").install();
        let mut group = im(&["sip:b@x.test", "sip:c@x.test", "sip:d@x.test"]);
        group.cc = vec!["sip:c@x.test".into()];
        group.bcc = vec!["sip:d@x.test".into()];
        let addresses = ["b@x.test", "c@x.test", "d@x.test"].map(String::from).to_vec();
        let mail = Plugin::im_to_email(group, "alice@im.example.test".into(), addresses).unwrap();
        assert_eq!(find_header(&mail.headers, "To"), Some("b@x.test"));
        assert_eq!(find_header(&mail.headers, "Cc"), Some("c@x.test"));
        assert!(!mail.headers.iter().any(|h| h.value.contains("d@x.test")));
        assert_eq!(mail.body[0].body, b"at noon?");
    }

    #[test]
    fn a_mail_without_text_is_refused() {
        let _host = Host::new().install();
        let mail = EmailMessage {
            envelope_from: "bob@mail.example.org".into(),
            envelope_to: vec!["alice@im.example.test".into()],
            dsn_notify: DsnNotify::empty(),
            date: None,
            headers: Vec::new(),
            body: vec![MailPart {
                content_type: "image/png".into(),
                disposition: Some("attachment".into()),
                filename: Some("x.png".into()),
                content_id: None,
                body: vec![0x89, b'P'],
            }],
        };
        let refused = Plugin::email_to_im(mail, "sip:bob@mail.example.org".into(), "sip:alice@im.example.test".into());
        assert!(refused.is_err());
    }
}
