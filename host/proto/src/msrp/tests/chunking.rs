//! Splitting outgoing messages into chunks.

use super::support::{alice, bob, parse_whole, wire};
use crate::msrp::{ByteRange, Continuation, Frame, Progress, Reassembler, chunk};

fn counter() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("tid{n:05}")
    }
}

#[test]
fn a_message_is_split_into_2048_byte_chunks() {
    let content: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    let chunks = chunk(
        &content,
        "image/png",
        "msg00001",
        2048,
        counter(),
        &[bob()],
        &[alice()],
    )
    .collect::<Vec<_>>();
    let ranges: Vec<_> = chunks
        .iter()
        .map(|c| c.byte_range.unwrap().to_string())
        .collect();
    assert_eq!(ranges, ["1-2048/5000", "2049-4096/5000", "4097-5000/5000"]);
    let flags: Vec<_> = chunks.iter().map(|c| c.continuation).collect();
    assert_eq!(
        flags,
        [
            Continuation::More,
            Continuation::More,
            Continuation::Complete
        ]
    );
    let tids: Vec<_> = chunks.iter().map(|c| c.transaction_id.as_str()).collect();
    assert_eq!(tids, ["tid00001", "tid00002", "tid00003"]);

    let mut reassembler = Reassembler::new(10_000, 2);
    let mut outcome = None;
    for request in &chunks {
        assert!(request.body.len() <= 2048);
        assert_eq!(request.content_type.as_deref(), Some("image/png"));
        // Every chunk survives the wire.
        let Frame::Request(received) = parse_whole(&wire(&Frame::Request(request.clone()))) else {
            panic!("expected a request");
        };
        assert_eq!(&received, request);
        outcome = Some(reassembler.accept(&received).unwrap());
    }
    assert_eq!(
        outcome,
        Some(Progress::Complete {
            message_id: "msg00001".into(),
            content_type: Some("image/png".into()),
            body: content,
        })
    );
}

#[test]
fn an_exact_multiple_has_no_empty_tail_chunk() {
    let chunks = chunk(
        &[7; 4096],
        "text/plain",
        "msg00001",
        2048,
        counter(),
        &[bob()],
        &[alice()],
    )
    .collect::<Vec<_>>();
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[1].byte_range.unwrap().to_string(), "2049-4096/4096");
}

#[test]
fn an_empty_message_is_one_empty_send() {
    let chunks = chunk(
        b"",
        "text/plain",
        "msg00001",
        2048,
        counter(),
        &[bob()],
        &[alice()],
    )
    .collect::<Vec<_>>();
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].byte_range, Some(ByteRange::whole(0)));
    assert_eq!(chunks[0].continuation, Continuation::Complete);
    assert!(chunks[0].body.is_empty());
    let frame = Frame::Request(chunks[0].clone());
    assert_eq!(parse_whole(&wire(&frame)), frame);
    let mut reassembler = Reassembler::new(10, 1);
    assert!(matches!(
        reassembler.accept(&chunks[0]),
        Ok(Progress::Complete { body, .. }) if body.is_empty()
    ));
}

#[test]
fn a_zero_chunk_size_still_makes_progress() {
    let chunks = chunk(
        b"abc",
        "text/plain",
        "msg00001",
        0,
        counter(),
        &[bob()],
        &[alice()],
    )
    .collect::<Vec<_>>();
    assert_eq!(chunks.len(), 3);
    assert_eq!(chunks[2].byte_range.unwrap().to_string(), "3-3/3");
}
