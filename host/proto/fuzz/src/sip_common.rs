//! Shared by the SIP fuzz targets.

use interwork_proto::sip::{Limits, Message};

/// The written message may be longer than the input (compact names are
/// expanded, "Name:v" becomes "Name: v", Content-Length is added), so the
/// second parse must not trip over the first one's limits.
pub fn roomy() -> Limits {
    Limits {
        max_message_bytes: usize::MAX,
        max_headers: usize::MAX,
    }
}

/// `message` as `write` then `parse` give it back, per `write`'s documented
/// rules: every Content-Length is dropped and one computed from the body is
/// appended last; CR and LF inside a header value become spaces.
pub fn normalised(message: &Message) -> Message {
    let mut message = message.clone();
    let (headers, body_len) = match &mut message {
        Message::Request(r) => (&mut r.headers, r.body.len()),
        Message::Response(r) => (&mut r.headers, r.body.len()),
    };
    headers
        .0
        .retain(|(name, _)| !name.eq_ignore_ascii_case("Content-Length"));
    for (_, value) in &mut headers.0 {
        *value = value.replace(['\r', '\n'], " ");
    }
    headers
        .0
        .push(("Content-Length".to_owned(), body_len.to_string()));
    message
}

/// "Accepted ⇒ re-serialises to an equivalent message": a request the
/// gateway would serve (it parses and validates) is served the same way
/// once written and parsed again: it validates again. A parser that let
/// through what its own writer turns into something else (`Content-Length:
/// +5`, a NUL, a bad URI) would answer 202 to a message the next hop reads
/// differently.
pub(crate) fn still_accepted(first: &Message, second: &Message, wire: &[u8]) {
    if let (Message::Request(first), Message::Request(second)) = (first, second)
        && first.validate().is_ok()
        && let Err(e) = second.validate()
    {
        panic!(
            "accepted, written, and then refused: {e}\nwritten: {:?}",
            String::from_utf8_lossy(wire)
        );
    }
}
