//! `interwork_proto::sip::parse_stream` on arbitrary bytes, as a TCP connection
//! would deliver them: message after message from one buffer.
//!
//! Checks: no panic; `consumed` is within the input and non-zero; every
//! strict prefix of a complete message asks for more data (`Ok(None)`),
//! since the parser is incremental; and each message survives `write` and
//! a second parse (compared in the writer's normal form, see
//! `normalised`), the re-parse consuming exactly the written bytes.

use interwork_proto::sip::{Limits, Message, parse_stream, write};

use crate::sip_common::{normalised, roomy, still_accepted};

/// At most this many messages per input, to keep each run short.
const MAX_MESSAGES: usize = 16;

fn check_round_trip(first: &Message) {
    let mut wire = Vec::new();
    write(first, &mut wire);
    match parse_stream(&wire, &roomy()) {
        Ok(Some((second, consumed))) => {
            assert_eq!(
                consumed,
                wire.len(),
                "re-parse did not consume the whole written message\nwritten: {:?}",
                String::from_utf8_lossy(&wire)
            );
            assert_eq!(
                second,
                normalised(first),
                "parse(write(parse(x))) differs from parse(x)\nwritten: {:?}",
                String::from_utf8_lossy(&wire)
            );
            still_accepted(first, &second, &wire);
        }
        other => panic!(
            "written message does not parse again: {other:?}\nwritten: {:?}",
            String::from_utf8_lossy(&wire)
        ),
    }
}

/// One fuzz input.
pub fn run(data: &[u8]) {
    let limits = Limits::default();
    let mut rest = data;
    for _ in 0..MAX_MESSAGES {
        let (message, consumed) = match parse_stream(rest, &limits) {
            Ok(Some(found)) => found,
            Ok(None) | Err(_) => return,
        };
        assert!(
            consumed <= rest.len(),
            "consumed {consumed} of {} bytes",
            rest.len()
        );
        assert!(consumed > 0, "a message of zero bytes");

        // Incremental: a strict prefix of a complete message is not complete.
        for cut in [consumed - 1, consumed / 2] {
            assert_eq!(
                parse_stream(&rest[..cut], &limits),
                Ok(None),
                "prefix of {cut} of {consumed} bytes"
            );
        }

        if let Message::Request(request) = &message {
            let _ = request.validate();
            let _ = request.top_via();
        }
        check_round_trip(&message);
        rest = &rest[consumed..];
    }
}
