//! The example exchanges printed in RFC 4975, parsed and written back byte for byte.

use super::support::{crlf, parse_whole, wire};
use crate::msrp::{ByteRange, Continuation, Frame, Method, Reassembler, Status};

/// RFC 4975 §4: Alice's first SEND to Bob.
pub(super) const SECTION_4_SEND: &str = "MSRP a786hjs2 SEND
To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp
From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp
Message-ID: 87652491
Byte-Range: 1-25/25
Content-Type: text/plain

Hey Bob, are you there?
-------a786hjs2$
";

/// RFC 4975 §4: Bob's 200 to it.
pub(super) const SECTION_4_OK: &str = "MSRP a786hjs2 200 OK
To-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp
From-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp
-------a786hjs2$
";

/// RFC 4975 §7.1: the SEND used to explain request construction.
const SECTION_7_1_SEND: &str = "MSRP d93kswow SEND
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp
Message-ID: 12339sdqwer
Byte-Range: 1-16/16
Content-Type: text/plain

Hi, I'm Alice!
-------d93kswow$
";

/// RFC 4975 §7.1: the matching response.
const SECTION_7_1_OK: &str = "MSRP d93kswow 200 OK
To-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp
From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
-------d93kswow$
";

/// RFC 4975 §5.1: a message in two chunks, the first with an unknown end
/// (the RFC omits the paths there; they are added so the frames are valid).
pub(super) const SECTION_5_1_CHUNKS: [&str; 2] = [
    "MSRP dkei38sd SEND
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp
Message-ID: 4564dpWd
Byte-Range: 1-*/8
Content-Type: text/plain

abcd
-------dkei38sd+
",
    "MSRP dkei38ia SEND
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp
Message-ID: 4564dpWd
Byte-Range: 5-8/8
Content-Type: text/plain

EFGH
-------dkei38ia$
",
];

/// RFC 4975 §7.1.2: a success REPORT.
const SECTION_7_1_2_REPORT: &str = "MSRP dkei38sd REPORT
To-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp
From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
Message-ID: 12339sdqwer
Byte-Range: 1-106/106
Status: 000 200 OK
-------dkei38sd$
";

fn assert_round_trip(text: &str) -> Frame {
    let bytes = crlf(text);
    let frame = parse_whole(&bytes);
    assert_eq!(
        String::from_utf8_lossy(&wire(&frame)),
        String::from_utf8_lossy(&bytes),
        "writing the parsed frame must give the same bytes"
    );
    frame
}

#[test]
fn section_4_send_round_trips_and_has_the_right_fields() {
    let Frame::Request(send) = assert_round_trip(SECTION_4_SEND) else {
        panic!("expected a request");
    };
    assert_eq!(send.transaction_id, "a786hjs2");
    assert_eq!(send.method, Method::Send);
    assert_eq!(send.to_path[0].host, "biloxi.example.com");
    assert_eq!(send.to_path[0].port, Some(12763));
    assert_eq!(send.to_path[0].session_id, "kjhd37s2s20w2a");
    assert_eq!(
        send.from_path[0].to_string(),
        "msrp://atlanta.example.com:7654/jshA7weztas;tcp"
    );
    assert_eq!(send.message_id.as_deref(), Some("87652491"));
    assert_eq!(send.byte_range, Some(ByteRange::whole(25)));
    assert_eq!(send.content_type.as_deref(), Some("text/plain"));
    assert_eq!(send.body, b"Hey Bob, are you there?");
    assert_eq!(send.continuation, Continuation::Complete);
}

#[test]
fn section_4_response_round_trips() {
    let Frame::Response(ok) = assert_round_trip(SECTION_4_OK) else {
        panic!("expected a response");
    };
    assert_eq!((ok.code, ok.comment.as_deref()), (200, Some("OK")));
}

#[test]
fn section_7_1_exchange_round_trips() {
    assert_round_trip(SECTION_7_1_SEND);
    assert_round_trip(SECTION_7_1_OK);
}

#[test]
fn section_7_1_2_report_round_trips() {
    let Frame::Request(report) = assert_round_trip(SECTION_7_1_2_REPORT) else {
        panic!("expected a request");
    };
    assert_eq!(report.method, Method::Report);
    assert_eq!(report.status, Some(Status::new(200, Some("OK"))));
}

#[test]
fn section_5_1_chunks_round_trip_and_reassemble() {
    let mut reassembler = Reassembler::new(1024, 4);
    let mut last = None;
    for text in SECTION_5_1_CHUNKS {
        let Frame::Request(chunk) = assert_round_trip(text) else {
            panic!("expected a request");
        };
        last = Some(reassembler.accept(&chunk).expect("chunk accepted"));
    }
    assert_eq!(
        last,
        Some(crate::msrp::Progress::Complete {
            message_id: "4564dpWd".into(),
            content_type: Some("text/plain".into()),
            body: b"abcdEFGH".to_vec(),
        })
    );
}

#[test]
fn builders_reproduce_the_section_4_exchange() {
    let Frame::Request(send) = parse_whole(&crlf(SECTION_4_SEND)) else {
        panic!("expected a request");
    };
    let mut rebuilt = crate::msrp::Request::send(
        "a786hjs2",
        send.to_path.clone(),
        send.from_path.clone(),
        "87652491",
        "text/plain",
        b"Hey Bob, are you there?".to_vec(),
    );
    // The builder counts the 23 body bytes; the RFC's example says 25.
    assert_eq!(rebuilt.byte_range, Some(ByteRange::whole(23)));
    rebuilt.byte_range = Some(ByteRange::whole(25));
    assert_eq!(wire(&Frame::Request(rebuilt)), crlf(SECTION_4_SEND));
    let ok = crate::msrp::Response::to_request(&send, 200, Some("OK"));
    assert_eq!(wire(&Frame::Response(ok)), crlf(SECTION_4_OK));
}
