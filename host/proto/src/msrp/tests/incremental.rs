//! Feeding the parser a byte stream piece by piece.

use super::rfc_examples::{SECTION_4_OK, SECTION_4_SEND, SECTION_5_1_CHUNKS};
use super::support::{XorShift, crlf, parse_whole, wire};
use crate::msrp::{Frame, Limits, parse};

#[test]
fn every_proper_prefix_is_incomplete_and_the_whole_frame_parses() {
    let mut rng = XorShift::new(7);
    let mut samples: Vec<Vec<u8>> = [SECTION_4_SEND, SECTION_4_OK, SECTION_5_1_CHUNKS[0]]
        .into_iter()
        .map(crlf)
        .collect();
    samples.extend((0..40).map(|_| wire(&rng.frame())));
    for bytes in samples {
        for cut in 0..bytes.len() {
            assert_eq!(
                parse(&bytes[..cut], &Limits::default()),
                Ok(None),
                "prefix of {cut} bytes of {:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
        parse_whole(&bytes);
    }
}

#[test]
fn two_frames_in_one_buffer_are_read_one_after_the_other() {
    let first = crlf(SECTION_4_SEND);
    let second = crlf(SECTION_4_OK);
    let mut buf = [first.clone(), second.clone()].concat();
    buf.extend_from_slice(b"MSRP abcd"); // the start of a third frame

    let (frame1, used1) = parse(&buf, &Limits::default()).unwrap().unwrap();
    assert_eq!(used1, first.len());
    assert!(matches!(frame1, Frame::Request(_)));
    let (frame2, used2) = parse(&buf[used1..], &Limits::default()).unwrap().unwrap();
    assert_eq!(used2, second.len());
    assert!(matches!(frame2, Frame::Response(_)));
    assert_eq!(parse(&buf[used1 + used2..], &Limits::default()), Ok(None));
}

#[test]
fn body_that_mimics_an_end_line_does_not_end_the_frame() {
    // Lines that look like end-lines but have the wrong id or no flag are body.
    let text = "MSRP abcd1234 SEND
To-Path: msrp://a.example/s;tcp
From-Path: msrp://b.example/t;tcp
Content-Type: text/plain

line
-------abcd1234
-------abcd1234x
-------other99$
-------abcd1234$
";
    let Frame::Request(request) = parse_whole(&crlf(text)) else {
        panic!("expected a request");
    };
    assert_eq!(
        request.body,
        crlf("line\n-------abcd1234\n-------abcd1234x\n-------other99$")
    );
}

#[test]
fn a_stream_read_in_random_pieces_yields_the_same_frames() {
    let mut rng = XorShift::new(99);
    let frames: Vec<Frame> = (0..30).map(|_| rng.frame()).collect();
    let stream: Vec<u8> = frames.iter().flat_map(wire).collect();

    let mut buffer = Vec::new();
    let mut fed = 0;
    let mut got = Vec::new();
    while fed < stream.len() || !buffer.is_empty() {
        let take = (1 + rng.below(700)).min(stream.len() - fed);
        buffer.extend_from_slice(&stream[fed..fed + take]);
        fed += take;
        while let Some((frame, used)) = parse(&buffer, &Limits::default()).unwrap() {
            got.push(frame);
            buffer.drain(..used);
        }
        if fed == stream.len() {
            assert!(buffer.is_empty(), "leftover bytes at end of stream");
        }
    }
    assert_eq!(got, frames);
}
