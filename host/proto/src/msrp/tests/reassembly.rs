//! Reassembling chunked messages.

use super::support::{alice, bob};
use crate::msrp::{ByteRange, Continuation, Method, MsrpError, Progress, Reassembler, Request};

/// A SEND chunk of message `id` holding `body` at `start`, with the given
/// end/total (`None` = `*`) and flag.
fn piece(
    id: &str,
    start: u64,
    body: &[u8],
    end: Option<u64>,
    total: Option<u64>,
    flag: Continuation,
) -> Request {
    let mut request = Request::new("tid00001", Method::Send, vec![bob()], vec![alice()]);
    request.message_id = Some(id.to_owned());
    request.byte_range = Some(ByteRange { start, end, total });
    request.content_type = Some("text/plain".to_owned());
    request.body = body.to_vec();
    request.continuation = flag;
    request
}

/// A chunk with an exact end and a known total.
fn known(id: &str, start: u64, body: &[u8], total: u64, flag: Continuation) -> Request {
    piece(
        id,
        start,
        body,
        Some(start + body.len() as u64 - 1),
        Some(total),
        flag,
    )
}

use Continuation::{Aborted, Complete, More};

fn complete(id: &str, body: &[u8]) -> Progress {
    Progress::Complete {
        message_id: id.into(),
        content_type: Some("text/plain".into()),
        body: body.to_vec(),
    }
}

#[test]
fn in_order_chunks_complete_the_message() {
    let mut r = Reassembler::new(100, 4);
    assert_eq!(
        r.accept(&known("msg1", 1, b"hello ", 11, More)),
        Ok(Progress::Incomplete { received: 6 })
    );
    assert_eq!(
        r.accept(&known("msg1", 7, b"world", 11, Complete)),
        Ok(complete("msg1", b"hello world"))
    );
    assert_eq!(r.in_progress(), 0);
}

#[test]
fn out_of_order_chunks_complete_when_the_gap_is_filled() {
    let mut r = Reassembler::new(100, 4);
    assert_eq!(
        r.accept(&known("msg1", 7, b"world", 11, Complete)),
        Ok(Progress::Incomplete { received: 5 })
    );
    assert_eq!(
        r.accept(&known("msg1", 1, b"hel", 11, More)),
        Ok(Progress::Incomplete { received: 8 })
    );
    assert_eq!(
        r.accept(&known("msg1", 4, b"lo ", 11, More)),
        Ok(complete("msg1", b"hello world"))
    );
}

#[test]
fn duplicates_and_same_byte_overlaps_are_harmless() {
    let mut r = Reassembler::new(100, 4);
    let first = known("msg1", 1, b"abcd", 8, More);
    assert_eq!(r.accept(&first), Ok(Progress::Incomplete { received: 4 }));
    assert_eq!(r.accept(&first), Ok(Progress::Incomplete { received: 4 }));
    assert_eq!(
        r.accept(&known("msg1", 3, b"cdef", 8, More)),
        Ok(Progress::Incomplete { received: 6 })
    );
    assert_eq!(
        r.accept(&known("msg1", 5, b"efgh", 8, Complete)),
        Ok(complete("msg1", b"abcdefgh"))
    );
    // Once complete, a late duplicate is a sender error, not a new message.
    assert_eq!(
        r.accept(&first),
        Err(MsrpError::MessageFinished {
            message_id: "msg1".into()
        })
    );
}

#[test]
fn overlaps_with_different_bytes_are_rejected_without_damage() {
    let mut r = Reassembler::new(100, 4);
    r.accept(&known("msg1", 1, b"abcd", 8, More)).unwrap();
    assert_eq!(
        r.accept(&known("msg1", 3, b"XXef", 8, More)),
        Err(MsrpError::ConflictingChunk {
            message_id: "msg1".into()
        })
    );
    assert_eq!(
        r.accept(&known("msg1", 5, b"efgh", 8, Complete)),
        Ok(complete("msg1", b"abcdefgh"))
    );
}

#[test]
fn interleaved_messages_are_kept_apart() {
    let mut r = Reassembler::new(100, 4);
    r.accept(&known("msgA", 1, b"aa", 4, More)).unwrap();
    r.accept(&known("msgB", 1, b"bbb", 6, More)).unwrap();
    assert_eq!(r.in_progress(), 2);
    assert_eq!(
        r.accept(&known("msgB", 4, b"BBB", 6, Complete)),
        Ok(complete("msgB", b"bbbBBB"))
    );
    assert_eq!(
        r.accept(&known("msgA", 3, b"AA", 4, Complete)),
        Ok(complete("msgA", b"aaAA"))
    );
    assert_eq!(r.in_progress(), 0);
}

#[test]
fn star_totals_are_learned_from_the_last_chunk() {
    let mut r = Reassembler::new(100, 4);
    assert_eq!(
        r.accept(&piece("msg1", 1, b"abc", None, None, More)),
        Ok(Progress::Incomplete { received: 3 })
    );
    assert_eq!(
        r.accept(&piece("msg1", 4, b"def", Some(6), None, More)),
        Ok(Progress::Incomplete { received: 6 })
    );
    assert_eq!(
        r.accept(&piece("msg1", 7, b"g", None, None, Complete)),
        Ok(complete("msg1", b"abcdefg"))
    );
}

#[test]
fn the_last_chunk_arriving_first_waits_for_the_gap() {
    let mut r = Reassembler::new(100, 4);
    assert_eq!(
        r.accept(&piece("msg1", 4, b"def", None, None, Complete)),
        Ok(Progress::Incomplete { received: 3 })
    );
    assert_eq!(
        r.accept(&piece("msg1", 1, b"abc", None, None, More)),
        Ok(complete("msg1", b"abcdef"))
    );
}

#[test]
fn a_missing_byte_range_means_the_whole_message_from_byte_one() {
    let mut r = Reassembler::new(100, 4);
    let mut request = known("msg1", 1, b"hi", 2, Complete);
    request.byte_range = None;
    assert_eq!(r.accept(&request), Ok(complete("msg1", b"hi")));
}

#[test]
fn abort_discards_the_message() {
    let mut r = Reassembler::new(100, 4);
    r.accept(&known("msg1", 1, b"abcd", 8, More)).unwrap();
    assert_eq!(
        r.accept(&piece("msg1", 5, b"e", None, Some(8), Aborted)),
        Ok(Progress::Aborted {
            message_id: "msg1".into()
        })
    );
    assert_eq!(r.in_progress(), 0);
    assert!(matches!(
        r.accept(&known("msg1", 5, b"efgh", 8, Complete)),
        Err(MsrpError::MessageFinished { .. })
    ));
}

#[test]
fn oversized_messages_are_refused_early_and_stay_refused() {
    let mut r = Reassembler::new(10, 4);
    let too_large = Progress::TooLarge {
        message_id: "msg1".into(),
    };
    // The declared total is enough to refuse the first chunk.
    assert_eq!(
        r.accept(&known("msg1", 1, b"abc", 11, More)),
        Ok(too_large.clone())
    );
    assert_eq!(r.accept(&known("msg1", 4, b"def", 11, More)), Ok(too_large));
    assert_eq!(r.in_progress(), 0);

    // With "*" totals, the message is refused once it grows past the limit.
    assert_eq!(
        r.accept(&piece("msg2", 1, b"abcdefgh", None, None, More)),
        Ok(Progress::Incomplete { received: 8 })
    );
    assert_eq!(
        r.accept(&piece("msg2", 9, b"ijk", None, None, More)),
        Ok(Progress::TooLarge {
            message_id: "msg2".into()
        })
    );
    assert_eq!(r.in_progress(), 0);
    // Exactly at the limit is fine.
    assert_eq!(
        r.accept(&known("msg3", 1, b"0123456789", 10, Complete)),
        Ok(complete("msg3", b"0123456789"))
    );
}

#[test]
fn the_number_of_messages_in_progress_is_bounded() {
    let mut r = Reassembler::new(100, 2);
    r.accept(&known("msgA", 1, b"a", 2, More)).unwrap();
    r.accept(&known("msgB", 1, b"b", 2, More)).unwrap();
    assert_eq!(
        r.accept(&known("msgC", 1, b"c", 2, More)),
        Err(MsrpError::TooManyMessagesInProgress { limit: 2 })
    );
    // Known messages still progress, and a finished one frees its slot.
    assert!(matches!(
        r.accept(&known("msgA", 2, b"a", 2, Complete)),
        Ok(Progress::Complete { .. })
    ));
    assert!(r.accept(&known("msgC", 1, b"c", 2, More)).is_ok());
    r.discard("msgB");
    assert_eq!(r.in_progress(), 1);
}

#[test]
fn content_type_comes_from_the_first_chunk_that_has_one() {
    let mut r = Reassembler::new(100, 2);
    let mut first = known("msg1", 1, b"ab", 4, More);
    first.content_type = None;
    r.accept(&first).unwrap();
    let mut second = known("msg1", 3, b"cd", 4, Complete);
    second.content_type = Some("message/cpim".into());
    assert_eq!(
        r.accept(&second),
        Ok(Progress::Complete {
            message_id: "msg1".into(),
            content_type: Some("message/cpim".into()),
            body: b"abcd".to_vec(),
        })
    );
}

#[test]
fn inconsistent_chunks_are_rejected() {
    let mut r = Reassembler::new(100, 4);
    // Body longer than the declared range.
    assert!(matches!(
        r.accept(&piece("msg1", 1, b"abcdef", Some(3), Some(6), More)),
        Err(MsrpError::ChunkMismatch { .. })
    ));
    // A totals disagreement between chunks.
    r.accept(&known("msg2", 1, b"ab", 4, More)).unwrap();
    assert!(matches!(
        r.accept(&known("msg2", 3, b"cd", 5, More)),
        Err(MsrpError::ChunkMismatch { .. })
    ));
    // A chunk beyond the total.
    assert!(matches!(
        r.accept(&piece("msg2", 4, b"xyz", None, None, More)),
        Err(MsrpError::ChunkMismatch { .. })
    ));
    // Not a SEND, no Message-ID, bad Message-ID.
    let mut report = known("msg3", 1, b"a", 1, Complete);
    report.method = Method::Report;
    assert!(matches!(r.accept(&report), Err(MsrpError::NotASend(_))));
    let mut anonymous = known("msg3", 1, b"a", 1, Complete);
    anonymous.message_id = None;
    assert_eq!(
        r.accept(&anonymous),
        Err(MsrpError::MissingHeader("Message-ID"))
    );
    assert!(matches!(
        r.accept(&known("m", 1, b"a", 1, Complete)),
        Err(MsrpError::BadMessageId(_))
    ));
    // Positions that would overflow.
    assert!(
        r.accept(&piece("msg4", u64::MAX, b"ab", None, None, More))
            .is_err()
    );
    // The failures left msg2 intact.
    assert_eq!(
        r.accept(&known("msg2", 3, b"cd", 4, Complete)),
        Ok(complete("msg2", b"abcd"))
    );
}

#[test]
fn an_interrupted_chunk_may_end_before_its_declared_end() {
    let mut r = Reassembler::new(100, 4);
    // The sender declared 1-6 but interrupted after 3 bytes with "+".
    assert_eq!(
        r.accept(&piece("msg1", 1, b"abc", Some(6), Some(6), More)),
        Ok(Progress::Incomplete { received: 3 })
    );
    assert_eq!(
        r.accept(&known("msg1", 4, b"def", 6, Complete)),
        Ok(complete("msg1", b"abcdef"))
    );
}

#[test]
fn an_empty_interrupted_chunk_over_received_bytes_changes_nothing() {
    // Found by the msrp_reassembly fuzz target
    // (fuzz/crashes/msrp_reassembly/empty-interrupted-chunk-overlap): bytes
    // 5-8 arrived, then a "+" chunk `8-8/8` that was cut before its byte.
    // Its empty range was taken to overlap byte 8, and the overlap check
    // subtracted past zero.
    let mut r = Reassembler::new(100, 4);
    assert_eq!(
        r.accept(&known("msg1", 5, b"EFGH", 8, More)),
        Ok(Progress::Incomplete { received: 4 })
    );
    assert_eq!(
        r.accept(&piece("msg1", 8, b"", Some(8), Some(8), More)),
        Ok(Progress::Incomplete { received: 4 })
    );
    assert_eq!(
        r.accept(&known("msg1", 1, b"ABCD", 8, Complete)),
        Ok(complete("msg1", b"ABCDEFGH"))
    );
}
