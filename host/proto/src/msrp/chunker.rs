//! Splitting an outgoing message into SEND chunks (RFC 4975 §5.1, §7.1.1).

use super::byte_range::ByteRange;
use super::frame::{Continuation, Method, Request};
use super::uri::MsrpUri;

/// Splits `content` into SEND requests whose bodies hold at most `max_chunk`
/// bytes (a `max_chunk` of 0 is treated as 1), made one at a time as the
/// iterator is advanced: a sender that keeps a window of chunks in flight
/// holds only those, not a copy of the whole message as requests.
///
/// Every chunk carries the same Message-ID and Content-Type, a Byte-Range
/// `start-end/total` with the total known up front, and the flag `+` except
/// the last, which has `$` (RFC 4975 §7.1). `tid` is called once per chunk for
/// a fresh transaction id (§7.1: ids must not collide). An empty message is a
/// single SEND with an empty body and `Byte-Range: 1-0/0`.
pub fn chunk<'a>(
    content: &'a [u8],
    content_type: &'a str,
    message_id: &'a str,
    max_chunk: usize,
    mut tid: impl FnMut() -> String + 'a,
    to_path: &'a [MsrpUri],
    from_path: &'a [MsrpUri],
) -> impl ExactSizeIterator<Item = Request> + 'a {
    let total = position(content.len());
    let size = max_chunk.max(1);
    let count = content.len().div_ceil(size).max(1);
    (0..count).map(move |index| {
        let offset = index * size;
        let body = &content[offset..(offset + size).min(content.len())];
        Request {
            message_id: Some(message_id.to_owned()),
            byte_range: Some(ByteRange {
                start: position(offset) + 1,
                end: Some(position(offset + body.len())),
                total: Some(total),
            }),
            content_type: Some(content_type.to_owned()),
            body: body.to_vec(),
            continuation: if index + 1 == count {
                Continuation::Complete
            } else {
                Continuation::More
            },
            ..Request::new(tid(), Method::Send, to_path.to_vec(), from_path.to_vec())
        }
    })
}

/// A byte count as a Byte-Range position; saturates on the impossible overflow.
fn position(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
