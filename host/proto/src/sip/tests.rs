use super::*;

/// RFC 3428 §4, the MESSAGE example.
const RFC3428_MESSAGE: &[u8] = include_bytes!("../../../../testdata/sip/rfc3428-message");

fn request(message: Message) -> Request {
    match message {
        Message::Request(r) => r,
        Message::Response(r) => panic!("not a request: {r:?}"),
    }
}

#[test]
fn rfc3428_message_parses() {
    let r = request(parse_datagram(RFC3428_MESSAGE, &Limits::default()).unwrap());
    assert_eq!(r.method, Method::Message);
    assert_eq!(r.uri, "sip:user2@domain.com");
    assert_eq!(r.body, b"Watson, come here.");
    assert_eq!(r.headers.get("call-id"), Some("asd88asd77a@1.2.3.4"));
    r.validate().unwrap();
    let via = r.top_via().unwrap();
    assert_eq!(via.transport, "TCP");
    assert_eq!(via.sent_by, "user1pc.domain.com");
    assert_eq!(via.branch(), Some("z9hG4bK776sgdkse"));
    let from = NameAddr::parse(r.headers.get("From").unwrap()).unwrap();
    assert_eq!(from.uri, "sip:user1@domain.com");
    assert_eq!(from.param("tag"), Some("49583"));
    // Written back, it is the same message.
    let mut out = Vec::new();
    write(&Message::Request(r.clone()), &mut out);
    assert_eq!(out, RFC3428_MESSAGE);
}

#[test]
fn stream_framing_by_content_length() {
    let limits = Limits::default();
    let mut two = b"\r\n\r\n".to_vec();
    two.extend_from_slice(RFC3428_MESSAGE);
    two.extend_from_slice(RFC3428_MESSAGE);
    // Every strict prefix of the first message is incomplete.
    for end in 0..4 + RFC3428_MESSAGE.len() {
        assert_eq!(parse_stream(&two[..end], &limits), Ok(None), "prefix {end}");
    }
    let (first, used) = parse_stream(&two, &limits).unwrap().unwrap();
    assert_eq!(used, 4 + RFC3428_MESSAGE.len());
    let (second, used2) = parse_stream(&two[used..], &limits).unwrap().unwrap();
    assert_eq!(used2, RFC3428_MESSAGE.len());
    assert_eq!(first, second);
    // No Content-Length on a stream: cannot be framed.
    let no_length = String::from_utf8_lossy(RFC3428_MESSAGE).replace("Content-Length: 18\r\n", "");
    assert_eq!(
        parse_stream(no_length.as_bytes(), &limits),
        Err(SipError::NoContentLength)
    );
}

#[test]
fn compact_forms_folding_and_padding() {
    // sipp pads Content-Length; compact names; a folded Subject.
    let text = include_str!("../../../../testdata/sip/compact-folded");
    let r = request(parse_datagram(text.as_bytes(), &Limits::default()).unwrap());
    r.validate().unwrap();
    assert_eq!(r.headers.get("Subject"), Some("lunch at noon"));
    assert_eq!(r.headers.get("Content-Type"), Some("text/plain"));
    assert_eq!(r.headers.get("Call-ID"), Some("1-1@127.0.0.1"));
    let from = NameAddr::parse(r.headers.get("From").unwrap()).unwrap();
    assert_eq!(from.display.as_deref(), Some("Alice \"A\" Li"));
    assert_eq!(from.uri, "sip:alice@im.example.test");
    assert_eq!(r.top_via().unwrap().param("rport"), Some(""));
    assert_eq!(r.body, b"hello");
}

#[test]
fn datagram_body_rules() {
    let limits = Limits::default();
    // Bytes past Content-Length are dropped.
    let mut extra = RFC3428_MESSAGE.to_vec();
    extra.extend_from_slice(b"JUNK");
    let r = request(parse_datagram(&extra, &limits).unwrap());
    assert_eq!(r.body, b"Watson, come here.");
    // A body shorter than Content-Length is an error, not a truncation.
    let short = &RFC3428_MESSAGE[..RFC3428_MESSAGE.len() - 3];
    assert_eq!(
        parse_datagram(short, &limits),
        Err(SipError::ShortBody {
            got: 15,
            declared: 18
        })
    );
}

#[test]
fn malformed_messages_are_refused_with_a_reason() {
    let limits = Limits::default();
    let base = String::from_utf8_lossy(RFC3428_MESSAGE).into_owned();
    let cases: Vec<(String, &str)> = vec![
        (
            base.replace(
                "MESSAGE sip:user2@domain.com SIP/2.0",
                "MESSAGE sip:user2@domain.com SIP/3.0",
            ),
            "Bad start line",
        ),
        (
            base.replace("MESSAGE sip:user2@domain.com SIP/2.0", "MESSAGE  SIP/2.0"),
            "Bad start line",
        ),
        (
            base.replace("Max-Forwards: 70", "Max-Forwards 70"),
            "Malformed header line",
        ),
        (
            base.replace("Content-Length: 18", "Content-Length: eighteen"),
            "Invalid Content-Length",
        ),
        (
            base.replace("Content-Length: 18", "Content-Length: 18\r\nl: 19"),
            "Invalid Content-Length",
        ),
        ("garbage\r\n\r\n".to_string(), "Bad start line"),
        ("\r\n".to_string(), "Bad start line"),
        (base.replace("\r\n\r\n", "\r\n"), "Bad start line"),
    ];
    for (text, expected) in cases {
        let err = parse_datagram(text.as_bytes(), &limits).unwrap_err();
        assert!(err.to_string().starts_with(expected), "{err} for {text:?}");
    }
    let invalid: Vec<(String, &str)> = vec![
        (
            base.replace(
                "Via: SIP/2.0/TCP user1pc.domain.com;branch=z9hG4bK776sgdkse\r\n",
                "",
            ),
            "Missing Via header",
        ),
        (
            base.replace("Call-ID: asd88asd77a@1.2.3.4\r\n", ""),
            "Missing Call-ID header",
        ),
        (
            base.replace("From: sip:user1@domain.com;tag=49583\r\n", ""),
            "Missing From header",
        ),
        (
            base.replace("CSeq: 1 MESSAGE", "CSeq: 1 INVITE"),
            "CSeq method INVITE",
        ),
        (
            base.replace("CSeq: 1 MESSAGE", "CSeq: one MESSAGE"),
            "Invalid CSeq",
        ),
        (
            base.replace("To: sip:user2@domain.com", "To: <>"),
            "Invalid From/To",
        ),
        (
            base.replace("Via: SIP/2.0/TCP", "Via: HTTP/1.1/TCP"),
            "Invalid Via",
        ),
        (
            base.replace("Max-Forwards: 70", "Max-Forwards: many"),
            "Invalid Max-Forwards",
        ),
    ];
    for (text, expected) in invalid {
        let r = request(parse_datagram(text.as_bytes(), &limits).unwrap());
        let err = r.validate().unwrap_err();
        assert!(err.to_string().starts_with(expected), "{err}");
    }
    // Not UTF-8 in the head.
    let mut bytes = RFC3428_MESSAGE.to_vec();
    bytes[60] = 0xff;
    assert_eq!(parse_datagram(&bytes, &limits), Err(SipError::Encoding));
}

#[test]
fn limits_bound_what_a_peer_can_make_us_hold() {
    let limits = Limits {
        max_message_bytes: 1000,
        max_headers: 5,
    };
    assert_eq!(
        parse_datagram(RFC3428_MESSAGE, &limits),
        Err(SipError::TooManyHeaders(5))
    );
    let limits = Limits {
        max_message_bytes: 200,
        max_headers: 50,
    };
    let endless = vec![b'a'; 300];
    assert_eq!(
        parse_stream(&endless, &limits),
        Err(SipError::TooLarge(200))
    );
    let big = String::from_utf8_lossy(RFC3428_MESSAGE)
        .replace("Content-Length: 18", "Content-Length: 100000");
    assert_eq!(
        parse_stream(big.as_bytes(), &limits),
        Err(SipError::TooLarge(200))
    );
}

#[test]
fn responses_copy_the_dialog_headers() {
    let r = request(parse_datagram(RFC3428_MESSAGE, &Limits::default()).unwrap());
    let resp = Response::to(&r, 202, "Accepted", "gw1");
    let mut out = Vec::new();
    write(&Message::Response(resp), &mut out);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "SIP/2.0 202 Accepted\r\n\
Via: SIP/2.0/TCP user1pc.domain.com;branch=z9hG4bK776sgdkse\r\n\
From: sip:user1@domain.com;tag=49583\r\n\
To: sip:user2@domain.com;tag=gw1\r\n\
Call-ID: asd88asd77a@1.2.3.4\r\n\
CSeq: 1 MESSAGE\r\n\
Content-Length: 0\r\n\r\n"
    );
    let parsed = parse_stream(
        b"SIP/2.0 404 Not Found Here\r\nContent-Length: 0\r\n\r\n",
        &Limits::default(),
    )
    .unwrap()
    .unwrap()
    .0;
    match parsed {
        Message::Response(resp) => {
            assert_eq!(resp.code, 404);
            assert_eq!(resp.reason, "Not Found Here");
        }
        Message::Request(_) => panic!("a response"),
    }
}

#[test]
fn header_values_cannot_inject_lines() {
    let mut r = request(parse_datagram(RFC3428_MESSAGE, &Limits::default()).unwrap());
    r.headers.push("Subject", "hi\r\nX-Injected: yes");
    let mut out = Vec::new();
    write(&Message::Request(r), &mut out);
    let again = request(parse_datagram(&out, &Limits::default()).unwrap());
    assert_eq!(again.headers.get("X-Injected"), None);
    assert_eq!(again.headers.get("Subject"), Some("hi  X-Injected: yes"));
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let limits = Limits::default();
    for _ in 0..20_000 {
        let mut bytes = RFC3428_MESSAGE.to_vec();
        for _ in 0..(next() % 8) {
            let i = (next() as usize) % bytes.len();
            match next() % 3 {
                0 => bytes[i] = next() as u8,
                1 => {
                    bytes.remove(i);
                }
                _ => bytes.insert(i, [b'\r', b'\n', b':', b' ', b';'][(next() % 5) as usize]),
            }
        }
        if let Ok(Message::Request(r)) = parse_datagram(&bytes, &limits) {
            let _ = r.validate();
        }
        let _ = parse_stream(&bytes, &limits);
    }
}

/// Inputs the fuzzer found (host/fuzz/crashes): folding onto an empty
/// value, and a blank continuation line, parsed differently once written.
#[test]
fn folding_round_trips() {
    let limits = Limits::default();
    for input in [
        &b"SIP/2.0 202 \r\nc:\r\n x\r\n\r\n"[..],
        b"SIP/2.0 202 \r\no:\r\n\t\r\n\r\n",
        b"M : SIP/2.0\r\nv:\r\n \r\nl:5\r\n\r\nllllo",
    ] {
        let Ok(first) = parse_datagram(input, &limits) else {
            continue;
        };
        let mut out = Vec::new();
        write(&first, &mut out);
        let again = parse_datagram(&out, &limits).expect("what we write parses");
        // write() always adds Content-Length; compare the rest.
        let without_length = |m: Message| match m {
            Message::Request(mut r) => {
                r.headers.remove("Content-Length");
                Message::Request(r)
            }
            Message::Response(mut r) => {
                r.headers.remove("Content-Length");
                Message::Response(r)
            }
        };
        assert_eq!(
            without_length(first),
            without_length(again),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

/// A MESSAGE to `uri` with `line` among its headers (and a Content-Length
/// of 11 unless `line` has one).
fn malformed(uri: &str, line: &str) -> Vec<u8> {
    let line = if line.contains("Content-Length") {
        line.to_string()
    } else {
        format!("{line}\r\nContent-Length: 11")
    };
    format!(
        "MESSAGE {uri} SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKm1\r\n\
         From: <sip:alice@im.example.test>;tag=a1\r\n\
         To: <sip:bob@mail.example.test>\r\n\
         Call-ID: m1@192.0.2.1\r\n\
         CSeq: 1 MESSAGE\r\n\
         Content-Type: text/plain\r\n\
         {line}\r\n\
         \r\n\
         hello world"
    )
    .into_bytes()
}

/// Parses as a datagram and as a stream frame, then validates: the error,
/// if any of the steps refuses it.
fn refusal(bytes: &[u8]) -> Option<SipError> {
    let limits = Limits::default();
    let datagram = parse_datagram(bytes, &limits).and_then(|m| match m {
        Message::Request(r) => r.validate(),
        Message::Response(_) => Ok(()),
    });
    let stream = match parse_stream(bytes, &limits) {
        Ok(Some((Message::Request(r), _))) => r.validate(),
        Ok(_) => Ok(()),
        Err(e) => Err(e),
    };
    datagram.err().or(stream.err())
}

#[test]
fn what_was_accepted_before_is_a_400_now() {
    const URI: &str = "sip:bob@mail.example.test";
    for (uri, line, wanted) in [
        // The body would be cut to 5 bytes here and read whole elsewhere.
        (URI, "Content-Length: +5", "Content-Length"),
        (URI, "Content-Length: ", "Content-Length"),
        (URI, "Content-Length: 0x5", "Content-Length"),
        (
            URI,
            "Content-Length: 5\r\nContent-Length: 11",
            "Content-Length",
        ),
        (URI, "Max-Forwards: -1", "Max-Forwards"),
        (URI, "Max-Forwards: abc", "Max-Forwards"),
        (URI, "Max-Forwards: +7", "Max-Forwards"),
        (URI, "Max-Forwards: 256", "Max-Forwards"),
        (URI, "Max-Forwards: 70\r\nMax-Forwards: 1", "Max-Forwards"),
        (URI, "Subject: a\0b", "Control"),
        (URI, "Subject: bell\x07", "Control"),
        ("<sip:bob@mail.example.test>", "Content-Length: 11", "URI"),
        (
            "sip:bob@mail.example.test:99999",
            "Content-Length: 11",
            "port",
        ),
        (
            "sip:bob@mail.example.test:0x50",
            "Content-Length: 11",
            "port",
        ),
        (
            "sip:bob@mail.example.test;;;==;",
            "Content-Length: 11",
            "parameter",
        ),
        (
            "sip:bob@mail.example.test;=x",
            "Content-Length: 11",
            "parameter",
        ),
        ("sip:@mail.example.test", "Content-Length: 11", "user"),
        ("sip:bob@", "Content-Length: 11", "host"),
        (
            "sip:bob@exa mple.test",
            "Content-Length: 11",
            "Bad start line",
        ),
        ("sip:bob@ex_ample.test", "Content-Length: 11", "host"),
        ("sip:bob@[::1", "Content-Length: 11", "IPv6"),
        ("sip:b%zzob@mail.example.test", "Content-Length: 11", "user"),
        ("sip:bob\"@mail.example.test", "Content-Length: 11", "user"),
        ("tel:xyz", "Content-Length: 11", "telephone"),
        ("tel:+1234;;", "Content-Length: 11", "parameter"),
        ("im:bob<@x", "Content-Length: 11", "RFC 3986"),
        (
            URI,
            "Content-Length: 11\r\nP-Asserted-Identity: <sip:x@im.example.test:70000>",
            "port",
        ),
        (
            URI,
            "Content-Length: 11\r\nP-Asserted-Identity: <sip:x%0D%0ABcc:%20y@im.example.test>",
            "P-Asserted-Identity",
        ),
    ] {
        let bytes = malformed(uri, line);
        let Some(error) = refusal(&bytes) else {
            panic!("accepted: {uri} / {line:?}");
        };
        let text = error.to_string();
        assert!(text.contains(wanted), "{uri} / {line:?}: {text}");
    }
}

#[test]
fn uris_as_peers_write_them_pass() {
    for uri in [
        "sip:bob@mail.example.test",
        "sip:bob@mail.example.test:5060;transport=tcp;lr",
        "sips:alice:secret@im.example.test",
        "sip:+8613812345678;phone-context=+86@im.example.test;user=phone",
        "sip:%61lice@im.example.test",
        "sip:127.0.0.1:24070;lr;ftag=abc;r2=on",
        "sip:[2001:db8::1]:5060",
        "sip:[::1]",
        "sip:interwork@127.0.0.1",
        "sip:bob@mail.example.test?subject=hi&priority=urgent",
        "sip:user;par=u%40example.net@example.com",
        "tel:+1-201-555-0123",
        "tel:7042;phone-context=example.com",
        "im:alice@im.example.test",
        "sip:gw.example.test.",
    ] {
        Uri::parse(uri).unwrap_or_else(|e| panic!("{uri}: {e}"));
    }
    let uri = Uri::parse("sip:Bob@Mail.Example.test:5070;lr").unwrap();
    assert_eq!(
        (uri.user, uri.host, uri.port),
        (Some("Bob"), Some("Mail.Example.test"), Some(5070))
    );
    assert_eq!(uri.params, vec![("lr", None)]);
}

#[test]
fn escapes_that_decode_to_controls_are_refused() {
    assert_eq!(unescape("al%69ce").as_deref(), Some("alice"));
    assert_eq!(unescape("%E4%BD%A0").as_deref(), Some("你"));
    assert_eq!(unescape("bob%0D%0ABcc:%20x"), None);
    assert_eq!(unescape("nul%00"), None);
    assert_eq!(unescape("half%E4"), None);
    assert_eq!(unescape("bad%zz"), None);
}
