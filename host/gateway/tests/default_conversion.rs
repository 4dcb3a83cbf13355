//! The default conversion plugin: header rules of SPEC S5 (IM → mail) and
//! S6 (mail → IM), through the real component.

mod common;

use interwork::plugins::DEFAULT_CONVERSION;
use interwork_plugin_host::bindings::types::{
    Dispositions, DsnNotify, EmailMessage, Header, ImMessage, MailPart, Timestamp,
};
use interwork_plugin_host::{LoadedPlugin, PluginEngine, PluginId, PluginSource};
use std::sync::Arc;

fn conversion() -> (Arc<PluginEngine>, LoadedPlugin) {
    let engine = common::engine();
    let id = PluginId {
        name: "default-conversion".into(),
        source: PluginSource::Embedded,
    };
    let plugin = engine.load(id, DEFAULT_CONVERSION).expect("loads");
    (engine, plugin)
}

const WHEN: Timestamp = Timestamp {
    unix_seconds: 1_764_338_400,
    offset_minutes: 480,
};

fn im(
    subject: Option<&str>,
    dispositions: Dispositions,
    content_type: &str,
    body: &[u8],
) -> ImMessage {
    ImMessage {
        sender: "sip:alice@im.example.test".into(),
        recipients: vec!["sip:bob@mail.example.org".into()],
        cc: Vec::new(),
        bcc: Vec::new(),
        date: WHEN,
        subject: subject.map(str::to_string),
        content_type: content_type.into(),
        body: body.to_vec(),
        attachments: Vec::new(),
        imdn_message_id: Some("34jk324j".into()),
        dispositions,
        extra_headers: Vec::new(),
    }
}

fn header<'a>(mail: &'a EmailMessage, name: &str) -> Option<&'a str> {
    mail.headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

#[test]
fn im_to_mail_headers_follow_s5() {
    let (engine, plugin) = conversion();
    let text = "你好, Bob";
    let mail = plugin
        .im_to_email(
            &engine,
            &im(
                Some("午饭?"),
                Dispositions::empty(),
                "text/plain",
                text.as_bytes(),
            ),
            "alice@im.example.test",
            &["bob@mail.example.org".to_string()],
        )
        .expect("converts");
    assert_eq!(mail.envelope_from, "alice@im.example.test");
    assert_eq!(mail.envelope_to, ["bob@mail.example.org"]);
    assert_eq!(header(&mail, "From"), Some("alice@im.example.test"));
    assert_eq!(header(&mail, "To"), Some("bob@mail.example.org"));
    assert_eq!(header(&mail, "Subject"), Some("午饭?"));
    assert_eq!(header(&mail, "Disposition-Notification-To"), None);
    assert_eq!(mail.date, Some(WHEN));
    assert_eq!(mail.dsn_notify, DsnNotify::empty());
    assert_eq!(mail.body.len(), 1);
    assert_eq!(mail.body[0].content_type, "text/plain; charset=utf-8");
    assert_eq!(mail.body[0].body, text.as_bytes());
}

#[test]
fn imdn_requests_become_notification_requests() {
    let (engine, plugin) = conversion();
    let cases = [
        (Dispositions::POSITIVE_DELIVERY, DsnNotify::SUCCESS),
        (Dispositions::NEGATIVE_DELIVERY, DsnNotify::FAILURE),
        (
            Dispositions::POSITIVE_DELIVERY | Dispositions::NEGATIVE_DELIVERY,
            DsnNotify::SUCCESS | DsnNotify::FAILURE,
        ),
        (Dispositions::DISPLAY, DsnNotify::empty()),
    ];
    for (asked, dsn) in cases {
        let mail = plugin
            .im_to_email(
                &engine,
                &im(None, asked, "text/plain", b"hi"),
                "alice@im.example.test",
                &["bob@mail.example.org".to_string()],
            )
            .unwrap();
        // An MDN reports display only (RFC 8098): delivery is the DSN's.
        let dnt = asked
            .contains(Dispositions::DISPLAY)
            .then_some("<alice@im.example.test>");
        assert_eq!(
            header(&mail, "Disposition-Notification-To"),
            dnt,
            "{asked:?}"
        );
        assert_eq!(mail.dsn_notify, dsn, "{asked:?}");
        assert_eq!(header(&mail, "Subject"), None);
    }
}

#[test]
fn other_content_types_are_kept_for_mime() {
    let (engine, plugin) = conversion();
    let png = [0x89, b'P', b'N', b'G', 0, 1, 2];
    let mail = plugin
        .im_to_email(
            &engine,
            &im(None, Dispositions::empty(), "image/png", &png),
            "a@im.example.test",
            &["b@x.test".to_string()],
        )
        .unwrap();
    assert_eq!(mail.body[0].content_type, "image/png");
    assert_eq!(mail.body[0].body, png);
    let mail = plugin
        .im_to_email(
            &engine,
            &im(None, Dispositions::empty(), "text/plain;charset=gbk", b"x"),
            "a@im.example.test",
            &["b@x.test".to_string()],
        )
        .unwrap();
    assert_eq!(mail.body[0].content_type, "text/plain;charset=gbk");
}

fn mail(headers: &[(&str, &str)], parts: Vec<MailPart>) -> EmailMessage {
    EmailMessage {
        envelope_from: "bob@mail.example.org".into(),
        envelope_to: vec!["alice@im.example.test".into()],
        dsn_notify: DsnNotify::empty(),
        date: Some(WHEN),
        headers: headers
            .iter()
            .map(|(n, v)| Header {
                name: n.to_string(),
                value: v.to_string(),
            })
            .collect(),
        body: parts,
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

#[test]
fn mail_to_im_follows_s6() {
    let (engine, plugin) = conversion();
    let m = mail(
        &[
            ("From", "Bob <bob@mail.example.org>"),
            ("subject", "  Re: 午饭? "),
            ("Disposition-Notification-To", "bob@mail.example.org"),
        ],
        vec![part("text/plain; charset=utf-8", None, "好的".as_bytes())],
    );
    let im = plugin
        .email_to_im(
            &engine,
            &m,
            "sip:bob@mail.example.org",
            "sip:alice@im.example.test",
        )
        .unwrap();
    assert_eq!(im.sender, "sip:bob@mail.example.org");
    assert_eq!(im.recipients, ["sip:alice@im.example.test"]);
    assert_eq!(im.subject.as_deref(), Some("Re: 午饭?"));
    // The MDN request asks for display; no DSN request, no delivery IMDNs.
    assert_eq!(im.dispositions, Dispositions::DISPLAY);
    assert_eq!(im.date, WHEN);
    assert_eq!(im.content_type, "text/plain;charset=utf-8");
    assert_eq!(im.body, "好的".as_bytes());
    assert_eq!(im.imdn_message_id, None, "the host assigns a fresh one");

    let plain = mail(&[("Subject", "")], vec![part("text/plain", None, b"x")]);
    let im = plugin
        .email_to_im(&engine, &plain, "sip:b@x.test", "sip:a@im.example.test")
        .unwrap();
    assert_eq!(im.subject, None);
    assert_eq!(im.dispositions, Dispositions::empty());

    // The envelope's DSN request (the host fills it in from RCPT NOTIFY)
    // asks for the delivery IMDNs that become those DSNs.
    let mut asked = mail(&[], vec![part("text/plain", None, b"x")]);
    asked.dsn_notify = DsnNotify::SUCCESS | DsnNotify::FAILURE;
    let im = plugin
        .email_to_im(&engine, &asked, "sip:b@x.test", "sip:a@im.example.test")
        .unwrap();
    assert_eq!(
        im.dispositions,
        Dispositions::POSITIVE_DELIVERY | Dispositions::NEGATIVE_DELIVERY
    );
}

#[test]
fn the_im_body_is_the_readable_part() {
    let (engine, plugin) = conversion();
    let html = b"<html><head><style>p{color:red}</style></head><body><p>Hello&nbsp;<b>Alice</b> &amp; co</p><p>line&#x21;<br>two</p><p>caf&eacute; cr&egrave;me, na&iuml;ve &euro;5 &mdash; &hellip;&#9731;&lt;&gt;</p><script>x()</script></body></html>";
    let cases: Vec<(Vec<MailPart>, &str, &[u8])> = vec![
        // multipart/alternative: the text part, not the HTML one.
        (
            vec![
                part("text/html", None, html),
                part("text/plain", None, b"plain"),
            ],
            "text/plain;charset=utf-8",
            b"plain",
        ),
        // HTML only: made readable.
        (
            vec![part("text/html; charset=utf-8", None, html)],
            "text/plain;charset=utf-8",
            "Hello Alice & co\nline!\ntwo\ncafé crème, naïve €5 — …☃<>".as_bytes(),
        ),
        // A text attachment is not the message text.
        (
            vec![
                part("text/plain", Some("attachment"), b"file"),
                part("image/png", None, b"PNG"),
            ],
            "image/png",
            b"PNG",
        ),
        (vec![], "text/plain;charset=utf-8", b""),
    ];
    for (parts, content_type, body) in cases {
        let im = plugin
            .email_to_im(
                &engine,
                &mail(&[], parts),
                "sip:b@x.test",
                "sip:a@im.example.test",
            )
            .unwrap();
        assert_eq!(im.content_type, content_type);
        assert_eq!(
            String::from_utf8_lossy(&im.body),
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn a_group_im_names_its_recipients_as_it_addressed_them() {
    let (engine, plugin) = conversion();
    let mut group = im(None, Dispositions::empty(), "text/plain", b"lunch?");
    group.recipients = vec![
        "sip:bob@mail.example.org".into(),
        "sip:carol@mail.example.org".into(),
        "sip:dave@mail.example.org".into(),
        "sip:erin@mail.example.org".into(),
    ];
    group.cc = vec!["sip:dave@mail.example.org".into()];
    group.bcc = vec!["sip:erin@mail.example.org".into()];
    let addresses: Vec<String> = ["bob", "carol", "dave", "erin"]
        .iter()
        .map(|u| format!("{u}@mail.example.org"))
        .collect();
    let mail = plugin
        .im_to_email(&engine, &group, "alice@im.example.test", &addresses)
        .expect("converts");
    assert_eq!(
        header(&mail, "To"),
        Some("bob@mail.example.org, carol@mail.example.org")
    );
    assert_eq!(header(&mail, "Cc"), Some("dave@mail.example.org"));
    assert!(
        !mail.headers.iter().any(|h| h.value.contains("erin")),
        "a blind copy is in no header"
    );
    // The envelope is the mapping's, blind copies included.
    assert_eq!(mail.envelope_to, addresses);
    assert_eq!(mail.envelope_from, "alice@im.example.test");
}
