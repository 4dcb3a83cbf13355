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

use interwork_plugin_sdk::conversion::Guest;
use interwork_plugin_sdk::types::{
    Dispositions, DsnNotify, EmailMessage, Header, ImMessage, MailPart, PluginError, Timestamp,
};
use interwork_plugin_sdk::{find_header, media_type};

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
        recipient_address: String,
    ) -> Result<EmailMessage, PluginError> {
        let mut headers = vec![
            Header::new("From", sender_address.clone()),
            Header::new("To", recipient_address.clone()),
        ];
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
        Ok(EmailMessage {
            envelope_from: sender_address,
            envelope_to: vec![recipient_address],
            dsn_notify,
            date: Some(im.date),
            headers,
            body: vec![MailPart {
                content_type: with_charset(&im.content_type),
                disposition: None,
                filename: None,
                body: im.body,
            }],
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
        let (content_type, body) = pick_content(mail.body);
        Ok(ImMessage {
            sender: sender_im,
            recipients: vec![recipient_im],
            // The host always dates an incoming mail (its reception time
            // when the mail had no Date); the epoch is only a last resort.
            date: mail.date.unwrap_or(Timestamp {
                unix_seconds: 0,
                offset_minutes: 0,
            }),
            subject,
            content_type,
            body,
            imdn_message_id: None,
            dispositions,
            extra_headers: Vec::new(),
        })
    }
}

/// The IM content of a mail: its first plain-text part; else its first HTML
/// part made readable as text; else its first part that is not an
/// attachment (else its first part) as it is.
fn pick_content(parts: Vec<MailPart>) -> (String, Vec<u8>) {
    let is = |part: &MailPart, ty: &str| {
        media_type(&part.content_type) == ty && part.disposition.as_deref() != Some("attachment")
    };
    if let Some(part) = parts.iter().find(|p| is(p, "text/plain")) {
        return ("text/plain;charset=utf-8".into(), part.body.clone());
    }
    if let Some(part) = parts.iter().find(|p| is(p, "text/html")) {
        let text = html::to_text(&String::from_utf8_lossy(&part.body));
        return ("text/plain;charset=utf-8".into(), text.into_bytes());
    }
    let inline = parts
        .iter()
        .position(|p| p.disposition.as_deref() != Some("attachment"))
        .unwrap_or(0);
    match parts.into_iter().nth(inline) {
        Some(part) => (part.content_type, part.body),
        None => ("text/plain;charset=utf-8".into(), Vec::new()),
    }
}

interwork_plugin_sdk::export!(DefaultConversion: conversion);
