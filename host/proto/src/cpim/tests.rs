use super::*;
use crate::dates::{Timestamp, format_rfc3339, parse_rfc3339};

const IMDN_URN: &str = "urn:ietf:params:imdn";

/// RFC 3862 §6: the `message/cpim` body of the example (the part after the
/// outer MIME headers), with CRLF line ends.
const RFC3862_EXAMPLE: &str = include_str!("../../../../testdata/cpim/rfc3862-s6-example");

/// RFC 5438 §7.1.1: an IM requesting positive and negative delivery
/// notifications. The RFC prints it without the blank line that RFC 3862 §2
/// requires between message and content headers; this is the corrected
/// form. (Its `Content-length: 12` does not match the 11-octet body either;
/// the length is not checked, see [`parse`].)
const RFC5438_EXAMPLE: &str = include_str!("../../../../testdata/cpim/rfc5438-s7.1.1-request");

/// The RFC 5438 §7.1.1 example exactly as printed: no blank line after the
/// message headers.
const RFC5438_AS_PRINTED: &str = "From: Alice <im:alice@example.com>\r\n\
To: Bob <im:bob@example.com>\r\n\
NS: imdn <urn:ietf:params:imdn>\r\n\
imdn.Message-ID: 34jk324j\r\n\
DateTime: 2006-04-04T12:16:49-05:00\r\n\
imdn.Disposition-Notification: positive-delivery, negative-delivery\r\n\
Content-type: text/plain\r\n\
Content-length: 12\r\n\
\r\n\
Hello World\r\n";

fn written(message: &CpimMessage) -> Vec<u8> {
    let mut out = Vec::new();
    write(message, &mut out).unwrap();
    out
}

#[test]
fn rfc3862_example_round_trips_byte_exact() {
    let message = parse(RFC3862_EXAMPLE.as_bytes()).unwrap();
    assert_eq!(message.headers.len(), 9);
    assert_eq!(message.content_headers.len(), 2);
    assert_eq!(
        message.body,
        b"<body>\r\nHere is the text of my message.\r\n</body>\r\n"
    );
    assert_eq!(written(&message), RFC3862_EXAMPLE.as_bytes());
}

#[test]
fn rfc3862_example_typed_accessors() {
    let message = parse(RFC3862_EXAMPLE.as_bytes()).unwrap();
    assert_eq!(
        message.from(),
        Some((
            Some("MR SANDERS".to_owned()),
            "im:piglet@100akerwood.com".to_owned()
        ))
    );
    assert_eq!(
        message.to(),
        vec![(
            Some("Depressed Donkey".to_owned()),
            "im:eeyore@100akerwood.com".to_owned()
        )]
    );
    assert!(message.cc().is_empty());
    assert_eq!(
        message.date_time(),
        Some(parse_rfc3339("2000-12-13T13:40:00-08:00").unwrap())
    );
    assert_eq!(
        message.subject().as_deref(),
        Some("the weather will be fine today")
    );
    let subjects = message.get_all_ns(CPIM_HEADERS_URN, "Subject");
    assert_eq!(subjects.len(), 2);
    assert_eq!(subjects[1].lang(), Some("fr"));
    assert_eq!(subjects[1].params.as_deref(), Some(";lang=fr"));
    assert_eq!(subjects[1].value, "beau temps prevu pour aujourd'hui");
    assert_eq!(message.content_type(), Some("text/xml; charset=utf-8"));
    assert_eq!(
        message.content_header("content-id"),
        Some("<1234567890@foo.com>")
    );
}

#[test]
fn rfc3862_example_namespaced_headers_by_urn() {
    let message = parse(RFC3862_EXAMPLE.as_bytes()).unwrap();
    let features = "mid:MessageFeatures@id.foo.com";
    let vital = message.get_ns(features, "VitalMessageOption").unwrap();
    assert_eq!(vital.prefix.as_deref(), Some("MyFeatures"));
    assert_eq!(vital.value, "Confirmation-requested");
    assert_eq!(
        message
            .get_ns(features, "WackyMessageOption")
            .unwrap()
            .value,
        "Use-silly-font"
    );
    assert!(message.get("VitalMessageOption").is_none());
    assert_eq!(
        message.get("Require").unwrap().value,
        "MyFeatures.VitalMessageOption"
    );
}

#[test]
fn rfc5438_example_round_trips_byte_exact() {
    let message = parse(RFC5438_EXAMPLE.as_bytes()).unwrap();
    assert_eq!(written(&message), RFC5438_EXAMPLE.as_bytes());
    assert_eq!(
        message.get_ns(IMDN_URN, "Message-ID").unwrap().value,
        "34jk324j"
    );
    assert_eq!(
        message
            .get_ns(IMDN_URN, "Disposition-Notification")
            .unwrap()
            .value,
        "positive-delivery, negative-delivery"
    );
    assert_eq!(message.content_type(), Some("text/plain"));
    assert_eq!(message.body, b"Hello World");
}

#[test]
fn rfc5438_example_as_printed_is_rejected() {
    assert_eq!(
        parse(RFC5438_AS_PRINTED.as_bytes()),
        Err(CpimError::HeaderWithoutColon { line: 10 })
    );
    let without_final_newline = RFC5438_AS_PRINTED.trim_end();
    assert_eq!(
        parse(without_final_newline.as_bytes()),
        Err(CpimError::MissingBlankLine {
            section: "content headers"
        })
    );
}

#[test]
fn namespaced_lookup_uses_urn_not_literal_prefix() {
    let wire = "NS: foo <urn:ietf:params:imdn>\r\n\
NS: imdn <urn:example:other>\r\n\
foo.Message-ID: right\r\n\
imdn.Message-ID: wrong\r\n\
\r\n\
Content-Type: text/plain\r\n\
\r\n\
x";
    let message = parse(wire.as_bytes()).unwrap();
    assert_eq!(
        message.get_ns(IMDN_URN, "message-id").unwrap().value,
        "right"
    );
    assert_eq!(
        message
            .get_ns("urn:example:other", "Message-ID")
            .unwrap()
            .value,
        "wrong"
    );
    assert_eq!(message.namespace_of(2), Some(IMDN_URN));
}

#[test]
fn chinese_subject_and_body_round_trip() {
    let mut message = CpimMessage::new();
    message
        .push_header(CpimHeader::new(
            "From",
            format_address(Some("张三"), "sip:zhangsan@example.cn").unwrap(),
        ))
        .push_header(CpimHeader::new("To", "李四 <sip:lisi@example.cn>"))
        .push_header(CpimHeader::text("Subject", "你好，世界"))
        .set_content(
            "text/plain;charset=UTF-8",
            "这是一条测试消息。\r\n第二行".as_bytes(),
        );
    let wire = written(&message);
    let text = String::from_utf8(wire.clone()).unwrap();
    assert!(text.contains("Subject: 你好，世界\r\n"), "{text}");
    assert!(text.contains("From: \"张三\" <sip:zhangsan@example.cn>\r\n"));
    let parsed = parse(&wire).unwrap();
    assert_eq!(parsed, message);
    assert_eq!(parsed.subject().as_deref(), Some("你好，世界"));
    assert_eq!(parsed.from().unwrap().0.as_deref(), Some("张三"));
    assert_eq!(parsed.to()[0].0.as_deref(), Some("李四"));
    assert_eq!(parsed.body, "这是一条测试消息。\r\n第二行".as_bytes());
}

#[test]
fn missing_blank_lines_are_errors() {
    assert_eq!(
        parse(b""),
        Err(CpimError::MissingBlankLine {
            section: "message headers"
        })
    );
    assert_eq!(
        parse(b"From: <im:a@example.com>\r\n"),
        Err(CpimError::MissingBlankLine {
            section: "message headers"
        })
    );
    assert_eq!(
        parse(b"From: <im:a@example.com>\r\n\r\nContent-Type: text/plain\r\n"),
        Err(CpimError::MissingBlankLine {
            section: "content headers"
        })
    );
    // Body glued straight after the message headers.
    assert_eq!(
        parse(b"From: <im:a@example.com>\r\n\r\nHello\r\n\r\n"),
        Err(CpimError::HeaderWithoutColon { line: 3 })
    );
}

#[test]
fn header_without_colon_is_an_error() {
    let error = parse(b"Hello World\r\n\r\nContent-Type: text/plain\r\n\r\n").unwrap_err();
    assert_eq!(error, CpimError::HeaderWithoutColon { line: 1 });
    assert!(error.to_string().contains("line 1"), "{error}");
}

#[test]
fn line_breaks_in_values_are_refused_on_write() {
    let attacks = [
        CpimHeader::new("Subject", "hi\r\nTo: <im:evil@example.com>"),
        CpimHeader::new("Subject", "hi\nTo: <im:evil@example.com>"),
        CpimHeader::new("Subject", "hi\rTo: <im:evil@example.com>"),
        CpimHeader::with_prefix("imdn", "Message-ID", "x\r\n\r\nbody"),
    ];
    for header in attacks {
        let mut message = CpimMessage::new();
        message.push_header(header).set_content("text/plain", "x");
        let mut out = b"untouched".to_vec();
        let error = write(&message, &mut out).unwrap_err();
        assert!(
            matches!(error, CpimError::LineBreakInValue { .. }),
            "{error}"
        );
        assert_eq!(out, b"untouched");
    }

    let mut message = CpimMessage::new();
    message
        .set_content("text/plain", "x")
        .push_content_header("Content-Disposition", "inline\r\nX-Evil: 1");
    assert!(matches!(
        write(&message, &mut Vec::new()),
        Err(CpimError::LineBreakInValue { .. })
    ));

    let bad_names = [
        CpimHeader::new("Sub\r\nject", "x"),
        CpimHeader::new("Subject", "x").with_params(";lang=fr\r\nX: y"),
        CpimHeader::with_prefix("im dn", "Message-ID", "x"),
        CpimHeader::new("", "x"),
    ];
    for header in bad_names {
        let mut message = CpimMessage::new();
        message.push_header(header);
        assert!(matches!(
            write(&message, &mut Vec::new()),
            Err(CpimError::InvalidHeader { .. })
        ));
    }
}

#[test]
fn escaped_text_cannot_inject_and_reads_back() {
    let hostile = "hi\r\nTo: <im:evil@example.com>";
    let mut message = CpimMessage::new();
    message
        .push_header(CpimHeader::text("Subject", hostile))
        .set_content("text/plain", "x");
    let wire = written(&message);
    let text = String::from_utf8(wire.clone()).unwrap();
    assert!(
        text.starts_with("Subject: hi\\r\\nTo: <im:evil@example.com>\r\n\r\n"),
        "{text}"
    );
    let parsed = parse(&wire).unwrap();
    assert!(parsed.to().is_empty());
    assert_eq!(parsed.subject().as_deref(), Some(hostile));
}

#[test]
fn built_message_writes_exact_wire_form_and_parses_back() {
    let sent = Timestamp {
        unix_seconds: 1_795_873_947,
        offset_minutes: 480,
    };
    let mut message = CpimMessage::new();
    message
        .push_header(CpimHeader::new(
            "From",
            format_address(Some("Alice"), "im:alice@example.com").unwrap(),
        ))
        .push_header(CpimHeader::new("To", "<im:bob@example.com>"))
        .push_header(CpimHeader::new("DateTime", format_rfc3339(&sent).unwrap()))
        .push_header(CpimHeader::text("Subject", "lunch?").with_params(";lang=en"))
        .set_content("text/plain; charset=utf-8", "Hi Bob");
    let expected = "From: \"Alice\" <im:alice@example.com>\r\n\
To: <im:bob@example.com>\r\n\
DateTime: 2026-11-28T21:52:27+08:00\r\n\
Subject:;lang=en lunch?\r\n\
\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Hi Bob";
    let wire = written(&message);
    assert_eq!(String::from_utf8(wire.clone()).unwrap(), expected);
    let parsed = parse(&wire).unwrap();
    assert_eq!(parsed, message);
    assert_eq!(parsed.date_time(), Some(sent));
    assert_eq!(parsed.get("Subject").unwrap().lang(), Some("en"));
}

#[test]
fn set_content_replaces_the_content_type() {
    let mut message = parse(RFC5438_EXAMPLE.as_bytes()).unwrap();
    message.set_content("text/html", "<p>hi</p>");
    assert_eq!(message.content_type(), Some("text/html"));
    assert_eq!(message.content_headers.len(), 2);
    assert_eq!(message.body, b"<p>hi</p>");
}

#[test]
fn lf_only_input_is_accepted() {
    let lf_only = RFC3862_EXAMPLE.replace("\r\n", "\n");
    let message = parse(lf_only.as_bytes()).unwrap();
    let crlf = parse(RFC3862_EXAMPLE.as_bytes()).unwrap();
    assert_eq!(message.headers, crlf.headers);
    assert_eq!(message.content_headers, crlf.content_headers);
    assert_eq!(
        message.body,
        b"<body>\nHere is the text of my message.\n</body>\n"
    );
}

#[test]
fn body_is_kept_byte_for_byte() {
    let mut wire =
        b"From: <im:a@example.com>\r\n\r\nContent-Type: application/octet-stream\r\n\r\n".to_vec();
    let body = [0u8, 0xff, b'\r', b'\n', b'\r', b'\n', 0xc3, b'\r'];
    wire.extend_from_slice(&body);
    let message = parse(&wire).unwrap();
    assert_eq!(message.body, body);
    assert_eq!(written(&message), wire);
}

#[test]
fn bad_lines_are_rejected_with_their_number() {
    assert_eq!(
        parse(b"From: <im:a@example.com>\r\nSubject: caf\xe9\r\n\r\n\r\n"),
        Err(CpimError::NotUtf8 { line: 2 })
    );
    assert_eq!(
        parse(b"Subject: a\rb\r\n\r\n\r\n"),
        Err(CpimError::BareCarriageReturn { line: 1 })
    );
    for (wire, line) in [
        (&b"Subject: a\r\n  folded\r\n\r\n\r\n"[..], 2),
        (b"Subject: a\x00b\r\n\r\n\r\n", 1),
        (b"Bad Name: x\r\n\r\n\r\n", 1),
        (b"a.b.c: x\r\n\r\n\r\n", 1),
        (b".x: y\r\n\r\n\r\n", 1),
        (b"DateTime: yesterday\r\n\r\n\r\n", 1),
        (b"From: alice@example.com\r\n\r\n\r\n", 1),
        (b"To: <im:a@example.com> trailing\r\n\r\n\r\n", 1),
        (b"NS: imdn urn:ietf:params:imdn\r\n\r\n\r\n", 1),
        (b"Subject:;lang x\r\n\r\n\r\n", 1),
        (b"X: y\r\n\r\nBad Name: z\r\n\r\n", 3),
        (b"X: y\r\n\r\n continuation first\r\n\r\n", 3),
    ] {
        match parse(wire) {
            Err(CpimError::MalformedHeader { line: found, .. }) => assert_eq!(found, line),
            other => panic!("{:?} gave {other:?}", String::from_utf8_lossy(wire)),
        }
    }
}

#[test]
fn folded_content_header_is_unfolded() {
    let wire =
        b"From: <im:a@example.com>\r\n\r\nContent-Type: text/plain;\r\n charset=utf-8\r\n\r\nx";
    let message = parse(wire).unwrap();
    assert_eq!(message.content_type(), Some("text/plain; charset=utf-8"));
    assert_eq!(parse(&written(&message)).unwrap(), message);
}

#[test]
fn missing_space_after_colon_is_tolerated() {
    let message = parse(b"DateTime:2026-11-28T13:52:27Z\r\n\r\n\r\n").unwrap();
    assert_eq!(
        message.get("DateTime").unwrap().value,
        "2026-11-28T13:52:27Z"
    );
    let rewritten = written(&message);
    assert!(rewritten.starts_with(b"DateTime: 2026"));
    assert_eq!(parse(&rewritten).unwrap(), message);
}

#[test]
fn never_panics_on_damaged_input() {
    let sample = RFC3862_EXAMPLE.as_bytes();
    for end in 0..=sample.len() {
        let _ = parse(&sample[..end]);
    }
    for index in 0..sample.len() {
        for replacement in [b'\r', b'\n', b':', b'"', b'\\', b';', b'<', 0xff, 0] {
            let mut damaged = sample.to_vec();
            damaged[index] = replacement;
            if let Ok(message) = parse(&damaged) {
                let mut out = Vec::new();
                write(&message, &mut out).unwrap();
                assert_eq!(parse(&out).unwrap(), message);
            }
        }
    }
}

#[test]
fn many_headers_are_handled_in_linear_time() {
    let mut wire = String::from("NS: imdn <urn:ietf:params:imdn>\r\n");
    for index in 0..50_000 {
        wire.push_str(&format!("imdn.X-{index}: v\r\n"));
    }
    wire.push_str("imdn.Message-ID: last\r\n\r\n\r\n");
    let message = parse(wire.as_bytes()).unwrap();
    assert_eq!(
        message.get_ns(IMDN_URN, "Message-ID").unwrap().value,
        "last"
    );
    assert!(message.to().is_empty());
}
