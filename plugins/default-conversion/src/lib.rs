//! Interwork's default conversion: the header rules of SPEC S5 (IM → mail)
//! and S6 (mail → IM).
//!
//! IMDN ↔ mail notifications: an IM that asks for any IMDN disposition gets
//! `Disposition-Notification-To: <sender>` (RFC 8098), as the patent asks;
//! `positive-delivery` / `negative-delivery` also ask for DSN `NOTIFY=SUCCESS`
//! / `FAILURE` on the envelope (RFC 3461), which is how mail reports delivery.
//! A mail with `Disposition-Notification-To` becomes an IM asking for
//! positive and negative delivery and display notifications, since an MDN
//! requester wants to learn both that the message arrived and that it was
//! read.

mod html;

use interwork_plugin_sdk::conversion::{Guest, Notice};
use interwork_plugin_sdk::types::{
    Dispositions, DsnNotify, EmailMessage, Header, ImMessage, MailContent, MailPart, PluginError,
    Timestamp,
};
use interwork_plugin_sdk::{config, find_header, media_type};

struct DefaultConversion;

const DNT: &str = "Disposition-Notification-To";

/// `text/plain` without a charset is UTF-8 on the IM side (RFC 3428 §9 lets
/// the default be US-ASCII, but every IM system here sends UTF-8): say so.
fn with_charset(content_type: &str) -> String {
    let lower = content_type.to_ascii_lowercase();
    if lower.starts_with("text/") && !lower.contains("charset=") {
        format!("{content_type}; charset=utf-8")
    } else {
        content_type.to_string()
    }
}

impl Guest for DefaultConversion {
    fn im_to_email(
        im: ImMessage,
        sender_address: String,
        recipient_addresses: Vec<String>,
    ) -> Result<MailContent, PluginError> {
        // A group IM: its recipients in `To` and `Cc` as it said; blind
        // copies in no header (the envelope has them).
        let (mut to, mut cc) = (Vec::new(), Vec::new());
        for (uri, address) in im.recipients.iter().zip(&recipient_addresses) {
            let list = if im.bcc.contains(uri) {
                continue;
            } else if im.cc.contains(uri) {
                &mut cc
            } else {
                &mut to
            };
            if !list.contains(address) {
                list.push(address.clone());
            }
        }
        let mut headers = vec![Header::new("From", sender_address.clone())];
        if !to.is_empty() {
            headers.push(Header::new("To", to.join(", ")));
        }
        if !cc.is_empty() {
            headers.push(Header::new("Cc", cc.join(", ")));
        }
        if let Some(subject) = im.subject.filter(|s| !s.trim().is_empty()) {
            headers.push(Header::new("Subject", subject));
        }
        // RFC 8098 §2.1: an MDN reports display; delivery is the DSN's
        // (below), so only a display request asks for one.
        if im.dispositions.contains(Dispositions::DISPLAY) {
            headers.push(Header::new(DNT, format!("<{sender_address}>")));
        }
        let mut dsn_notify = DsnNotify::empty();
        if im.dispositions.contains(Dispositions::POSITIVE_DELIVERY) {
            dsn_notify |= DsnNotify::SUCCESS;
        }
        if im.dispositions.contains(Dispositions::NEGATIVE_DELIVERY) {
            dsn_notify |= DsnNotify::FAILURE;
        }
        let mut body = vec![MailPart {
            content_type: with_charset(&im.content_type),
            disposition: None,
            filename: None,
            content_id: None,
            body: im.body,
        }];
        body.extend(im.attachments);
        Ok(MailContent {
            dsn_notify,
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
        let subject = find_header(&mail.headers, "Subject")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        // What the mail's sender will be told of: display when it asked
        // for an MDN, delivery when its envelope asked for DSNs (RFC 3461
        // NOTIFY, which the host fills in); the IMDNs that come back become
        // those reports.
        let mut dispositions = Dispositions::empty();
        if find_header(&mail.headers, DNT).is_some() {
            dispositions |= Dispositions::DISPLAY;
        }
        if mail.dsn_notify.contains(DsnNotify::SUCCESS) {
            dispositions |= Dispositions::POSITIVE_DELIVERY;
        }
        if mail.dsn_notify.contains(DsnNotify::FAILURE) {
            dispositions |= Dispositions::NEGATIVE_DELIVERY;
        }
        let (content_type, body, rest) = pick_content(mail.body);
        // `conversion.attachments = "carry"`: the mail's other parts go
        // with the IM (multipart/mixed in CPIM); by default only the
        // content does, which every IM client can show.
        let attachments = match config::get("conversion.attachments").as_deref() {
            // The other text forms of the content (multipart/alternative)
            // are not attachments.
            Some("carry") => rest
                .into_iter()
                .filter(|p| {
                    p.disposition.as_deref() == Some("attachment")
                        || !matches!(
                            media_type(&p.content_type).as_str(),
                            "text/plain" | "text/html"
                        )
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok(ImMessage {
            sender: sender_im,
            recipients: vec![recipient_im],
            cc: Vec::new(),
            bcc: Vec::new(),
            // The host always dates an incoming mail (its reception time
            // when the mail had no Date); the epoch is only a last resort.
            date: mail.date.unwrap_or(Timestamp {
                unix_seconds: 0,
                offset_minutes: 0,
            }),
            subject,
            content_type,
            body,
            attachments,
            imdn_message_id: None,
            dispositions,
            extra_headers: Vec::new(),
        })
    }

    /// The operator's `[notifications]` decide.
    fn send_notice(notice: Notice) -> bool {
        notice.configured
    }
}

/// The IM content of a mail: its first plain-text part; else its first HTML
/// part made readable as text; else its first part that is not an
/// attachment (else its first part) as it is. Also the parts left over.
fn pick_content(mut parts: Vec<MailPart>) -> (String, Vec<u8>, Vec<MailPart>) {
    let is = |part: &MailPart, ty: &str| {
        media_type(&part.content_type) == ty && part.disposition.as_deref() != Some("attachment")
    };
    if let Some(i) = parts.iter().position(|p| is(p, "text/plain")) {
        let part = parts.remove(i);
        return ("text/plain;charset=utf-8".into(), part.body, parts);
    }
    if let Some(i) = parts.iter().position(|p| is(p, "text/html")) {
        let part = parts.remove(i);
        let text = html::to_text(&String::from_utf8_lossy(&part.body));
        return ("text/plain;charset=utf-8".into(), text.into_bytes(), parts);
    }
    let inline = parts
        .iter()
        .position(|p| p.disposition.as_deref() != Some("attachment"))
        .unwrap_or(0);
    if inline < parts.len() {
        let part = parts.remove(inline);
        return (part.content_type, part.body, parts);
    }
    ("text/plain;charset=utf-8".into(), Vec::new(), parts)
}

interwork_plugin_sdk::export!(DefaultConversion: conversion);

#[cfg(test)]
mod tests {
    use super::*;
    use interwork_plugin_sdk::testing::Host;

    fn im() -> ImMessage {
        ImMessage {
            sender: "sip:alice@im.example.test".into(),
            recipients: vec!["sip:bob@mail.example.org".into()],
            cc: Vec::new(),
            bcc: Vec::new(),
            date: Timestamp {
                unix_seconds: 1_764_000_000,
                offset_minutes: 480,
            },
            subject: Some("lunch?".into()),
            content_type: "text/plain".into(),
            body: b"noon?".to_vec(),
            attachments: Vec::new(),
            imdn_message_id: None,
            dispositions: Dispositions::POSITIVE_DELIVERY | Dispositions::DISPLAY,
            extra_headers: Vec::new(),
        }
    }

    fn part(content_type: &str, disposition: Option<&str>, body: &[u8]) -> MailPart {
        MailPart {
            content_type: content_type.into(),
            disposition: disposition.map(str::to_string),
            filename: None,
            content_id: None,
            body: body.to_vec(),
        }
    }

    fn mail(body: Vec<MailPart>) -> EmailMessage {
        EmailMessage {
            envelope_from: "bob@mail.example.org".into(),
            envelope_to: vec!["alice@im.example.test".into()],
            dsn_notify: DsnNotify::SUCCESS | DsnNotify::FAILURE,
            date: None,
            headers: vec![
                Header::new("Subject", "  re: lunch  "),
                Header::new(DNT, "<bob@mail.example.org>"),
            ],
            body,
        }
    }

    #[test]
    fn an_im_asks_for_the_reports_mail_has() {
        let _host = Host::new().install();
        let mail = DefaultConversion::im_to_email(
            im(),
            "alice@im.example.test".into(),
            vec!["bob@mail.example.org".into()],
        )
        .unwrap();
        assert_eq!(
            find_header(&mail.headers, "To"),
            Some("bob@mail.example.org")
        );
        assert_eq!(
            find_header(&mail.headers, DNT),
            Some("<alice@im.example.test>")
        );
        assert_eq!(mail.dsn_notify, DsnNotify::SUCCESS);
        assert_eq!(mail.body[0].content_type, "text/plain; charset=utf-8");
    }

    #[test]
    fn a_mail_becomes_its_text_and_keeps_attachments_only_when_asked() {
        let parts = || {
            vec![
                part("text/html; charset=utf-8", None, b"<p>yes</p>"),
                part("text/plain; charset=utf-8", None, b"yes"),
                part("image/png", Some("attachment"), b"\x89PNG"),
            ]
        };
        let _host = Host::new().install();
        let im = DefaultConversion::email_to_im(
            mail(parts()),
            "sip:bob@mail.example.org".into(),
            "sip:alice@im.example.test".into(),
        )
        .unwrap();
        assert_eq!(im.body, b"yes");
        assert_eq!(im.subject.as_deref(), Some("re: lunch"));
        assert!(im.dispositions.contains(Dispositions::DISPLAY));
        assert!(im.dispositions.contains(Dispositions::POSITIVE_DELIVERY));
        assert!(im.attachments.is_empty());
        let _host = Host::new()
            .config("conversion.attachments", "carry")
            .install();
        let im = DefaultConversion::email_to_im(
            mail(parts()),
            "sip:bob@mail.example.org".into(),
            "sip:alice@im.example.test".into(),
        )
        .unwrap();
        // The picture travels; the HTML form of the text does not.
        assert_eq!(im.attachments.len(), 1);
        assert_eq!(im.attachments[0].content_type, "image/png");
    }

    #[test]
    fn html_only_mail_is_made_readable() {
        let _host = Host::new().install();
        let im = DefaultConversion::email_to_im(
            mail(vec![part("text/html", None, b"<p>Hello <b>there</b></p>")]),
            "sip:bob@mail.example.org".into(),
            "sip:alice@im.example.test".into(),
        )
        .unwrap();
        assert_eq!(String::from_utf8_lossy(&im.body).trim(), "Hello there");
    }
}
