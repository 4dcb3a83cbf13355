//! Malformed input must give an error, never a panic or a frame.

use super::support::{XorShift, crlf};
use crate::msrp::{Limits, MsrpError, parse};

fn parse_text(text: &str) -> Result<(), MsrpError> {
    parse(&crlf(text), &Limits::default()).map(|_| ())
}

#[test]
fn random_bytes_are_rejected() {
    let mut rng = XorShift::new(0xdead_beef);
    for _ in 0..2000 {
        let len = 1 + rng.below(300);
        let mut bytes = rng.bytes(len);
        if bytes[0] == b'M' {
            bytes[0] = b'X';
        }
        assert_eq!(parse(&bytes, &Limits::default()), Err(MsrpError::NotMsrp));
    }
}

#[test]
fn random_bytes_after_the_magic_never_make_a_frame() {
    let mut rng = XorShift::new(42);
    for _ in 0..2000 {
        let mut bytes = b"MSRP ".to_vec();
        let len = rng.below(300);
        bytes.extend(rng.bytes(len));
        assert!(!matches!(parse(&bytes, &Limits::default()), Ok(Some(_))));
    }
}

#[test]
fn broken_start_lines_are_rejected() {
    for line in [
        "MSRP\n",
        "MSRP \n",
        "MSRP abcd\n",
        "MSRP abcd \n",
        "MSRP abcd send\n",
        "MSRP abcd SEND extra\n",
        "MSRP abcd 2000 OK\n",
        "MSRP abcd 20 OK\n",
        "msrp abcd SEND\n",
        "MSRP  abcd SEND\n",
        "HTTP/1.1 200 OK\n",
    ] {
        let error = parse_text(line).expect_err(line);
        assert!(!error.to_string().is_empty());
    }
}

#[test]
fn bad_transaction_ids_are_rejected_even_before_the_line_ends() {
    let too_long = format!("MSRP {} SEND\n", "a".repeat(33));
    for line in [
        "MSRP abc SEND\n",
        "MSRP -abc SEND\n",
        "MSRP ab*d SEND\n",
        too_long.as_str(),
    ] {
        assert!(
            matches!(parse_text(line), Err(MsrpError::BadTransactionId(_))),
            "{line}"
        );
    }
    // Unterminated, yet no continuation could make these valid.
    for partial in ["MSRP ab\u{1}", "MSRP abc ", "MSRP _"] {
        assert!(
            parse(partial.as_bytes(), &Limits::default()).is_err(),
            "{partial}"
        );
    }
    let long_partial = format!("MSRP {}", "a".repeat(33));
    assert!(parse(long_partial.as_bytes(), &Limits::default()).is_err());
}

#[test]
fn missing_paths_are_rejected() {
    let no_to = "MSRP abcd SEND\nFrom-Path: msrp://a.example/s;tcp\n-------abcd$\n";
    assert_eq!(parse_text(no_to), Err(MsrpError::MissingHeader("To-Path")));
    let no_from = "MSRP abcd 200 OK\nTo-Path: msrp://a.example/s;tcp\n-------abcd$\n";
    assert_eq!(
        parse_text(no_from),
        Err(MsrpError::MissingHeader("From-Path"))
    );
}

const PATHS: &str = "To-Path: msrp://a.example/s;tcp\nFrom-Path: msrp://b.example/t;tcp\n";

#[test]
fn semantic_header_errors_are_rejected() {
    let cases = [
        (
            "body without Content-Type",
            format!("MSRP abcd SEND\n{PATHS}\nhi\n-------abcd$\n"),
        ),
        (
            "response with body",
            format!("MSRP abcd 200 OK\n{PATHS}\nhi\n-------abcd$\n"),
        ),
        (
            "duplicate To-Path",
            format!("MSRP abcd SEND\n{PATHS}{PATHS}-------abcd$\n"),
        ),
        (
            "bad URI",
            "MSRP abcd SEND\nTo-Path: http://x/;tcp\n-------abcd$\n".to_owned(),
        ),
        (
            "empty path",
            "MSRP abcd SEND\nTo-Path: \n-------abcd$\n".to_owned(),
        ),
        (
            "bad Byte-Range",
            format!("MSRP abcd SEND\n{PATHS}Byte-Range: 0-1/1\n-------abcd$\n"),
        ),
        (
            "bad Status",
            format!("MSRP abcd REPORT\n{PATHS}Status: 0 200\n-------abcd$\n"),
        ),
        (
            "bad Message-ID",
            format!("MSRP abcd SEND\n{PATHS}Message-ID: a\n-------abcd$\n"),
        ),
        (
            "bad report",
            format!("MSRP abcd SEND\n{PATHS}Success-Report: maybe\n-------abcd$\n"),
        ),
        (
            "bad type",
            format!("MSRP abcd SEND\n{PATHS}Content-Type: text\n-------abcd$\n"),
        ),
        (
            "no colon",
            format!("MSRP abcd SEND\n{PATHS}Garbage\n-------abcd$\n"),
        ),
        (
            "bad name",
            format!("MSRP abcd SEND\n{PATHS}X Y: z\n-------abcd$\n"),
        ),
        (
            "end-line of another tid",
            format!("MSRP abcd SEND\n{PATHS}-------efgh$\n"),
        ),
        (
            "bare LF in value",
            format!("MSRP abcd SEND\n{PATHS}X-A: b\rc\n-------abcd$\n"),
        ),
    ];
    for (what, text) in cases {
        assert!(parse_text(&text).is_err(), "{what} should be rejected");
    }
    let latin1 = [b"MSRP abcd SEND\r\nX-A: \xe9\r\n".as_slice()].concat();
    assert_eq!(
        parse(&latin1, &Limits::default()),
        Err(MsrpError::NotUtf8("header line"))
    );
}

#[test]
fn a_header_line_without_end_is_refused_at_the_limit() {
    let limits = Limits::default();
    let mut bytes = b"MSRP abcd SEND\r\nX-Foo: ".to_vec();
    bytes.resize(limits.max_header_bytes - 1, b'a');
    assert_eq!(parse(&bytes, &limits), Ok(None));
    bytes.resize(limits.max_header_bytes + 100, b'a');
    assert_eq!(
        parse(&bytes, &limits),
        Err(MsrpError::HeaderTooLarge {
            limit: limits.max_header_bytes
        })
    );
    let endless_start_line = vec![b'M'; 1]
        .into_iter()
        .chain(b"SRP abcd SEND".iter().copied());
    let mut start: Vec<u8> = endless_start_line.collect();
    start.resize(limits.max_header_bytes, b'X');
    assert!(parse(&start, &limits).is_err());
}

#[test]
fn too_many_headers_are_refused() {
    let limits = Limits::default();
    let mut text = format!("MSRP abcd SEND\n{PATHS}");
    for i in 0..limits.max_headers {
        text.push_str(&format!("X-H{i}: v\n"));
    }
    assert_eq!(
        parse_text(&text),
        Err(MsrpError::TooManyHeaders {
            limit: limits.max_headers
        })
    );
}

#[test]
fn a_body_without_end_line_is_refused_once_it_passes_the_limit() {
    let limits = Limits {
        max_body_bytes: 100,
        ..Limits::default()
    };
    let head = crlf(&format!(
        "MSRP abcd SEND\n{PATHS}Content-Type: text/plain\n\n"
    ));
    let mut bytes = head.clone();
    bytes.resize(head.len() + 100, b'x');
    assert_eq!(
        parse(&bytes, &limits),
        Ok(None),
        "still room for the end-line"
    );
    bytes.resize(head.len() + 200, b'x');
    assert_eq!(
        parse(&bytes, &limits),
        Err(MsrpError::BodyTooLarge { limit: 100 })
    );

    // Exactly at the limit is fine.
    let mut exact = head.clone();
    exact.resize(head.len() + 100, b'x');
    exact.extend_from_slice(b"\r\n-------abcd$\r\n");
    assert!(matches!(parse(&exact, &limits), Ok(Some(_))));
    // One byte over is not.
    let mut over = head;
    over.resize(over.len() + 101, b'x');
    over.extend_from_slice(b"\r\n-------abcd$\r\n");
    assert_eq!(
        parse(&over, &limits),
        Err(MsrpError::BodyTooLarge { limit: 100 })
    );
}

#[test]
fn non_send_bodies_are_capped_at_10240_bytes() {
    // RFC 4975 §7.1.
    let head = crlf(&format!(
        "MSRP abcd REPORT\n{PATHS}Content-Type: text/plain\n\n"
    ));
    let mut bytes = head.clone();
    bytes.resize(head.len() + 10241, b'x');
    bytes.extend_from_slice(b"\r\n-------abcd$\r\n");
    assert_eq!(
        parse(&bytes, &Limits::default()),
        Err(MsrpError::BodyTooLarge { limit: 10240 })
    );
}
