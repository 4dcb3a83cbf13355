//! Splitting an outgoing message into SEND chunks (RFC 4975 §5.1, §7.1.1).

use super::byte_range::ByteRange;
use super::frame::{Continuation, Method, Request};
use super::uri::MsrpUri;

/// Splits `content` into SEND requests whose bodies hold at most `max_chunk`
/// bytes (a `max_chunk` of 0 is treated as 1).
///
/// Every chunk carries the same Message-ID and Content-Type, a Byte-Range
/// `start-end/total` with the total known up front, and the flag `+` except
/// the last, which has `$` (RFC 4975 §7.1). `tid` is called once per chunk for
/// a fresh transaction id (§7.1: ids must not collide). An empty message is a
/// single SEND with an empty body and `Byte-Range: 1-0/0`.
pub fn chunk(
    content: &[u8],
    content_type: &str,
    message_id: &str,
    max_chunk: usize,
    mut tid: impl FnMut() -> String,
    to_path: &[MsrpUri],
    from_path: &[MsrpUri],
) -> Vec<Request> {
    let total = position(content.len());
    let make = |transaction_id: String, offset: usize, body: &[u8], last: bool| Request {
        message_id: Some(message_id.to_owned()),
        byte_range: Some(ByteRange {
            start: position(offset) + 1,
            end: Some(position(offset + body.len())),
            total: Some(total),
        }),
        content_type: Some(content_type.to_owned()),
        body: body.to_vec(),
        continuation: if last {
            Continuation::Complete
        } else {
            Continuation::More
        },
        ..Request::new(
            transaction_id,
            Method::Send,
            to_path.to_vec(),
            from_path.to_vec(),
        )
    };
    if content.is_empty() {
        return vec![make(tid(), 0, &[], true)];
    }
    let pieces = content.chunks(max_chunk.max(1));
    let count = pieces.len();
    pieces
        .enumerate()
        .map(|(index, body)| {
            let offset = index * max_chunk.max(1);
            make(tid(), offset, body, index + 1 == count)
        })
        .collect()
}

/// A byte count as a Byte-Range position; saturates on the impossible overflow.
fn position(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
