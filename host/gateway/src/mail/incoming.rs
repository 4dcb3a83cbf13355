//! A received mail (SMTP DATA) as the plugin contract's `email-message`:
//! parsed with mail-parser, header values decoded (RFC 2047), parts
//! transfer-decoded and text converted to UTF-8 whatever its charset.

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};

use interwork_plugin_host::bindings::types::{
    DsnNotify, EmailMessage, Header, MailPart, Timestamp,
};

/// Why the bytes are not a mail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the message cannot be parsed as RFC 5322")]
pub struct NotAMail;

fn addresses(address: &Address<'_>) -> String {
    address
        .iter()
        .map(|a| match (&a.name, &a.address) {
            (Some(name), Some(addr)) => format!("\"{}\" <{addr}>", name.replace('"', "'")),
            (None, Some(addr)) => format!("<{addr}>"),
            (Some(name), None) => name.to_string(),
            (None, None) => String::new(),
        })
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

fn content_type_text(ct: &mail_parser::ContentType<'_>) -> String {
    let mut text = match ct.subtype() {
        Some(sub) => format!("{}/{}", ct.ctype(), sub),
        None => ct.ctype().to_string(),
    }
    .to_ascii_lowercase();
    for attr in ct.attributes().unwrap_or_default() {
        if !attr.name.eq_ignore_ascii_case("charset") {
            text.push_str(&format!(
                "; {}=\"{}\"",
                attr.name,
                attr.value.replace('"', "")
            ));
        }
    }
    text
}

/// The sender's address: the first `From` mailbox, else the reverse-path.
pub fn author(mail: &EmailMessage) -> Option<String> {
    mail.headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("From"))
        .and_then(|h| {
            let v = &h.value;
            match (v.rfind('<'), v.rfind('>')) {
                (Some(open), Some(close)) if open < close => {
                    Some(v[open + 1..close].trim().to_string())
                }
                _ => Some(v.trim().to_string()).filter(|s| s.contains('@')),
            }
        })
        .or_else(|| Some(mail.envelope_from.clone()).filter(|s| !s.is_empty()))
}

/// Parses `data` received from `mail_from` for `rcpt_to`; `now` dates a
/// mail without a usable Date.
pub fn parse(
    data: &[u8],
    mail_from: &str,
    rcpt_to: &[String],
    now: Timestamp,
) -> Result<EmailMessage, NotAMail> {
    let message = MessageParser::default().parse(data).ok_or(NotAMail)?;
    let mut headers = Vec::new();
    for header in message.headers() {
        let name = header.name.as_str().to_string();
        let value = match &header.value {
            HeaderValue::Text(text) => text.to_string(),
            HeaderValue::TextList(list) => list.join(", "),
            HeaderValue::Address(address) => addresses(address),
            HeaderValue::DateTime(date) => date.to_rfc822(),
            // Raw text for everything else (Received, Content-*, unknown).
            _ => String::from_utf8_lossy(
                data.get(header.offset_start as usize..header.offset_end as usize)
                    .unwrap_or_default(),
            )
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        };
        headers.push(Header { name, value });
    }
    let date = message.date().map(|d| {
        let offset = i16::from(d.tz_hour) * 60 + i16::from(d.tz_minute);
        Timestamp {
            unix_seconds: d.to_timestamp(),
            offset_minutes: if d.tz_before_gmt { -offset } else { offset },
        }
    });
    let mut body = Vec::new();
    for part in &message.parts {
        let content_type = part
            .content_type()
            .map(content_type_text)
            .unwrap_or_else(|| "text/plain".to_string());
        let disposition = part
            .content_disposition()
            .map(|d| d.ctype().to_ascii_lowercase());
        let filename = part.attachment_name().map(str::to_string);
        let (content_type, bytes) = match &part.body {
            PartType::Multipart(_) => continue,
            // mail-parser has decoded the charset: the text is UTF-8 now.
            PartType::Text(text) => (
                format!("{content_type}; charset=utf-8"),
                text.as_bytes().to_vec(),
            ),
            PartType::Html(html) => (
                format!("{content_type}; charset=utf-8"),
                html.as_bytes().to_vec(),
            ),
            PartType::Binary(bytes) | PartType::InlineBinary(bytes) => {
                (content_type, bytes.to_vec())
            }
            PartType::Message(inner) => {
                ("message/rfc822".to_string(), inner.raw_message().to_vec())
            }
        };
        body.push(MailPart {
            content_type,
            disposition,
            filename,
            body: bytes,
        });
    }
    Ok(EmailMessage {
        envelope_from: mail_from.to_string(),
        envelope_to: rcpt_to.to_vec(),
        dsn_notify: DsnNotify::empty(),
        date: date.or(Some(now)),
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp {
        unix_seconds: 1_795_873_950,
        offset_minutes: 0,
    };

    #[test]
    fn encoded_words_charsets_and_parts_are_decoded() {
        let mail = b"From: =?UTF-8?B?5byg5LiJ?= <zhang@mail.example.test>\r\n\
To: alice@im.example.test\r\n\
Subject: =?GBK?B?xOO6ww==?=\r\n\
Date: Sat, 28 Nov 2026 21:52:27 +0800\r\n\
Disposition-Notification-To: <zhang@mail.example.test>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain; charset=iso-8859-1\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
caf=E9\r\n\
--b1\r\n\
Content-Type: image/png\r\n\
Content-Disposition: attachment; filename=\"p.png\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
iVBORw==\r\n\
--b1--\r\n";
        let parsed = parse(
            mail,
            "zhang@mail.example.test",
            &["alice@im.example.test".into()],
            NOW,
        )
        .unwrap();
        let header = |name: &str| {
            parsed
                .headers
                .iter()
                .find(|h| h.name == name)
                .map(|h| h.value.clone())
        };
        assert_eq!(header("Subject").as_deref(), Some("你好"));
        assert_eq!(
            header("From").as_deref(),
            Some("\"张三\" <zhang@mail.example.test>")
        );
        assert_eq!(author(&parsed).as_deref(), Some("zhang@mail.example.test"));
        assert_eq!(
            parsed.date,
            Some(Timestamp {
                unix_seconds: 1_795_873_947,
                offset_minutes: 480
            })
        );
        assert_eq!(parsed.body.len(), 2);
        assert_eq!(parsed.body[0].content_type, "text/plain; charset=utf-8");
        assert_eq!(parsed.body[0].body, "café".as_bytes());
        assert_eq!(parsed.body[1].content_type, "image/png");
        assert_eq!(parsed.body[1].disposition.as_deref(), Some("attachment"));
        assert_eq!(parsed.body[1].filename.as_deref(), Some("p.png"));
        assert_eq!(parsed.body[1].body, [0x89, b'P', b'N', b'G']);
    }

    #[test]
    fn an_undated_mail_is_dated_now() {
        let parsed = parse(
            b"Subject: x\r\n\r\nhi\r\n",
            "",
            &["a@im.example.test".into()],
            NOW,
        )
        .unwrap();
        assert_eq!(parsed.date, Some(NOW));
        assert_eq!(author(&parsed), None);
    }
}
