//! `interwork_proto::sip::parse_datagram` on arbitrary bytes.
//!
//! Checks: no panic (parser, `Request::validate`, header accessors); and
//! whatever parses survives `write` and a second parse. `write` normalises
//! on purpose, so the second parse is compared with the first one put in
//! the writer's normal form (see `normalised`), never byte for byte; a
//! request that validated validates again (`still_accepted`).

use interwork_proto::sip::{Limits, Message, canonical_name, parse_datagram, write};

use crate::sip_common::{normalised, roomy, still_accepted};

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
        let _ = interwork_proto::sip::Response::to(request, 200, "OK", "fuzz");
    }
}

/// One fuzz input.
pub fn run(data: &[u8]) {
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
    still_accepted(&first, &second, &wire);
}
