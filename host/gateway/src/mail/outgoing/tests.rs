use super::*;
use interwork_plugin_host::bindings::types::Header;

fn header(name: &str, value: &str) -> Header {
    Header {
        name: name.into(),
        value: value.into(),
    }
}

fn text_part(body: &str) -> MailPart {
    MailPart {
        content_type: "text/plain; charset=utf-8".into(),
        disposition: None,
        filename: None,
        content_id: None,
        body: body.as_bytes().to_vec(),
    }
}

fn email(headers: Vec<Header>, body: Vec<MailPart>) -> EmailMessage {
    EmailMessage {
        envelope_from: "alice@im.example.test".into(),
        envelope_to: vec!["bob@mail.example.test".into()],
        dsn_notify: DsnNotify::empty(),
        date: Some(Timestamp {
            unix_seconds: 1_795_873_947,
            offset_minutes: 480,
        }),
        headers,
        body,
    }
}

const NOW: Timestamp = Timestamp {
    unix_seconds: 1_795_873_950,
    offset_minutes: 0,
};

fn head_lines(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_string();
    head.split("\r\n").map(str::to_string).collect()
}

#[test]
fn a_text_mail_has_every_header_of_s5() {
    let mail = email(
        vec![
            header("From", "alice@im.example.test"),
            header("To", "bob@mail.example.test"),
            header("Subject", "午饭 lunch?"),
            header("Disposition-Notification-To", "<alice@im.example.test>"),
        ],
        vec![text_part("你好 Bob")],
    );
    let out = build(&mail, "gw.example.test", "im.example.test", NOW).unwrap();
    let lines = head_lines(&out.bytes);
    assert!(
        lines.contains(&"Date: Sat, 28 Nov 2026 21:52:27 +0800".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&format!("Message-ID: <{}>", out.message_id)),
        "{lines:?}"
    );
    assert!(out.message_id.ends_with("@gw.example.test"));
    // Our trace field comes first (RFC 5321 §4.4): a mail that comes back
    // through a mail system counts this hop.
    let unfolded = String::from_utf8_lossy(&out.bytes).replace("\r\n ", " ");
    let trace = format!(
        "Received: from im.example.test by gw.example.test with SIP id <{}>; {}\r\n",
        out.message_id,
        rfc5322_date(&NOW, &NOW)
    );
    assert!(unfolded.starts_with(&trace), "{unfolded}");
    assert!(
        lines.contains(&"From: <alice@im.example.test>".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"To: <bob@mail.example.test>".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("Subject: =?utf-8?")),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"Disposition-Notification-To: <alice@im.example.test>".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"MIME-Version: 1.0".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l
            .to_ascii_lowercase()
            .starts_with("content-type: text/plain; charset=\"utf-8\"")
            || l.to_ascii_lowercase()
                .starts_with("content-type: text/plain; charset=utf-8")),
        "{lines:?}"
    );
    assert_eq!(out.envelope_from, "alice@im.example.test");
    assert_eq!(out.envelope_to, ["bob@mail.example.test"]);
}

#[test]
fn values_from_the_im_side_never_make_header_lines() {
    let mail = email(
        vec![
            header("From", "alice@im.example.test"),
            header("To", "bob@mail.example.test"),
            header(
                "Subject",
                "hi\r\nBcc: victim@example.test\r\n\r\nforged body",
            ),
        ],
        vec![text_part("real body")],
    );
    let out = build(&mail, "gw.example.test", "im.example.test", NOW).unwrap();
    let lines = head_lines(&out.bytes);
    assert!(!lines.iter().any(|l| l.starts_with("Bcc:")), "{lines:?}");
    let text = String::from_utf8_lossy(&out.bytes);
    assert!(!text.contains("\r\n\r\nforged body"), "{text}");
    // A bad name is refused outright.
    let bad = email(vec![header("X-Evil\r\nBcc", "x")], vec![text_part("x")]);
    assert!(matches!(
        build(&bad, "gw.example.test", "im.example.test", NOW),
        Err(MailError::HeaderName(_))
    ));
    let bad = email(vec![header("To", "not an address")], vec![text_part("x")]);
    assert!(matches!(
        build(&bad, "gw.example.test", "im.example.test", NOW),
        Err(MailError::Address { .. })
    ));
}

#[test]
fn host_owned_headers_are_the_hosts() {
    let mail = email(
        vec![
            header("From", "alice@im.example.test"),
            header("Message-ID", "<forged@x>"),
            header("Content-Type", "text/html"),
            header("Date", "yesterday"),
        ],
        vec![text_part("x")],
    );
    let out = build(&mail, "gw.example.test", "im.example.test", NOW).unwrap();
    let lines = head_lines(&out.bytes);
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("Message-ID:"))
            .count(),
        1
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("forged") || l.contains("yesterday") || l.contains("text/html"))
    );
}

#[test]
fn other_content_becomes_a_mime_part() {
    let png = vec![0x89, b'P', b'N', b'G', 0, 1, 2, 255];
    let mail = email(
        vec![header("From", "alice@im.example.test")],
        vec![MailPart {
            content_type: "image/png".into(),
            disposition: None,
            filename: None,
            content_id: Some("png1@im.example.test".into()),
            body: png.clone(),
        }],
    );
    let out = build(&mail, "gw.example.test", "im.example.test", NOW).unwrap();
    let text = String::from_utf8_lossy(&out.bytes).to_ascii_lowercase();
    assert!(text.contains("content-type: image/png"), "{text}");
    assert!(text.contains("content-transfer-encoding: base64"), "{text}");
    assert!(
        text.contains("content-id: <png1@im.example.test>"),
        "{text}"
    );
    // Without a date of its own, the mail is dated now.
    let mut undated = mail.clone();
    undated.date = None;
    let out = build(&undated, "gw.example.test", "im.example.test", NOW).unwrap();
    let lines = head_lines(&out.bytes);
    assert!(
        lines.contains(&"Date: Sat, 28 Nov 2026 13:52:30 +0000".to_string()),
        "{lines:?}"
    );
}

/// The body of a one-part mail: its transfer encoding and its bytes.
fn body_of(bytes: &[u8]) -> (String, String) {
    let text = String::from_utf8(bytes.to_vec()).expect("UTF-8 mail");
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let encoding = head
        .split("\r\n")
        .find_map(|l| l.strip_prefix("Content-Transfer-Encoding: "))
        .unwrap_or("7bit")
        .to_string();
    (encoding, body.to_string())
}

#[test]
fn short_non_ascii_text_goes_as_8bit_with_a_7bit_copy() {
    let mail = email(
        vec![header("From", "alice@im.example.test")],
        vec![text_part("你好 Bob,\nlunch at noon? café")],
    );
    let out = build(&mail, "gw.example.test", "im.example.test", NOW).unwrap();
    let (encoding, body) = body_of(&out.bytes);
    assert_eq!(encoding, "8bit");
    assert_eq!(body, "你好 Bob,\r\nlunch at noon? café");
    // For a server without 8BITMIME: the same mail in 7 bits, decodable
    // to the same text.
    let seven = out.seven_bit.expect("a 7-bit copy");
    assert!(seven.is_ascii());
    let parsed = interwork_proto::mime::parse(&seven).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&parsed.parts[0].body),
        "你好 Bob,\nlunch at noon? café"
    );
    assert_eq!(
        head_lines(&out.bytes).len(),
        head_lines(&seven).len(),
        "the same headers"
    );
}

#[test]
fn ascii_long_line_or_nul_text_keeps_a_7bit_encoding() {
    // ASCII needs no encoding; a line over 998 octets, a NUL or text over
    // 64 KiB cannot or need not go as 8bit: mail-builder's QP or base64.
    let cases = [
        "plain ascii".to_string(),
        format!("é{}", "x".repeat(1000)),
        "é\0".to_string(),
        "é".repeat(EIGHT_BIT_MAX),
    ];
    for text in cases {
        let mail = email(vec![], vec![text_part(&text)]);
        let out = build(&mail, "gw.example.test", "im.example.test", NOW).unwrap();
        let start: String = text.chars().take(8).collect();
        assert!(out.bytes.is_ascii(), "{start}");
        assert_eq!(out.seven_bit, None);
        let (encoding, _) = body_of(&out.bytes);
        let expected: &[&str] = if text.is_ascii() {
            &["7bit"]
        } else {
            &["quoted-printable", "base64"]
        };
        assert!(expected.contains(&encoding.as_str()), "{start}: {encoding}");
    }
}
