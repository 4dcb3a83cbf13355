//! `interwork::sip::parse_datagram` on arbitrary bytes.
//!
//! Checks: no panic (parser, `Request::validate`, header accessors); and
//! whatever parses survives `write` and a second parse. `write` normalises
//! on purpose, so the second parse is compared with the first one put in
//! the writer's normal form (see `normalised`), never byte for byte.

#![no_main]

use interwork::sip::{Limits, Message, canonical_name, parse_datagram, write};
use libfuzzer_sys::fuzz_target;

/// The written message may be longer than the input (compact names are
/// expanded, "Name:v" becomes "Name: v", Content-Length is added), so the
/// second parse must not trip over the first one's limits.
fn roomy() -> Limits {
    Limits {
        max_message_bytes: usize::MAX,
        max_headers: usize::MAX,
    }
}

/// `message` as `write` then `parse` give it back, per `write`'s documented
/// rules: every Content-Length is dropped and one computed from the body is
/// appended last; CR and LF inside a header value become spaces.
fn normalised(message: &Message) -> Message {
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

/// Exercises the read-only API a handler uses on a parsed message.
fn poke(message: &Message) {
    let headers = message.headers();
    for (name, _) in &headers.0 {
        let _ = canonical_name(name);
        let _ = headers.get_all(name);
    }
    if let Message::Request(request) = message {
        let _ = request.validate();
        let _ = request.top_via();
        let _ = interwork::sip::Response::to(request, 200, "OK", "fuzz");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(first) = parse_datagram(data, &Limits::default()) else {
        return;
    };
    poke(&first);

    let mut wire = Vec::new();
    write(&first, &mut wire);
    let second = match parse_datagram(&wire, &roomy()) {
        Ok(second) => second,
        Err(error) => panic!(
            "written message does not parse again: {error}\nwritten: {:?}",
            String::from_utf8_lossy(&wire)
        ),
    };
    assert_eq!(
        second,
        normalised(&first),
        "parse(write(parse(x))) differs from parse(x)\nwritten: {:?}",
        String::from_utf8_lossy(&wire)
    );
});
