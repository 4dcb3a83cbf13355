//! `interwork_proto::msrp::parse` on arbitrary bytes, frame after frame from one
//! buffer as a TCP connection delivers them.
//!
//! Checks: no panic, with default and with tight limits; `consumed` is
//! within the input and non-zero; strict prefixes of a complete frame ask
//! for more data (`Ok(None)`); and `write` then `parse` gives back the equal
//! frame, consuming exactly the written bytes (`write`'s documented
//! guarantee for frames holding values the grammar allows, which a parsed
//! frame does).

use interwork_proto::msrp::{Frame, Limits, parse, write};

const MAX_FRAMES: usize = 16;

/// A written frame may be slightly longer than the parsed bytes
/// ("Name:v" becomes "Name: v"), so it is re-read without limits.
fn roomy() -> Limits {
    Limits {
        max_header_bytes: usize::MAX,
        max_headers: usize::MAX,
        max_body_bytes: usize::MAX,
    }
}

fn tight() -> Limits {
    Limits {
        max_header_bytes: 200,
        max_headers: 4,
        max_body_bytes: 64,
    }
}

fn check_round_trip(frame: &Frame) {
    let mut wire = Vec::new();
    write(frame, &mut wire);
    match parse(&wire, &roomy()) {
        Ok(Some((again, consumed))) => {
            assert_eq!(
                consumed,
                wire.len(),
                "re-parse did not consume the whole written frame\nwritten: {:?}",
                String::from_utf8_lossy(&wire)
            );
            assert_eq!(
                &again,
                frame,
                "parse(write(parse(x))) != parse(x)\nwritten: {:?}",
                String::from_utf8_lossy(&wire)
            );
        }
        other => panic!(
            "written frame does not parse again: {other:?}\nwritten: {:?}",
            String::from_utf8_lossy(&wire)
        ),
    }
}

/// One fuzz input.
pub fn run(data: &[u8]) {
    // Tight limits take the early-refusal paths; only absence of panics
    // and the bounds of `consumed` are checked there.
    if let Ok(Some((_, consumed))) = parse(data, &tight()) {
        assert!(consumed > 0 && consumed <= data.len());
    }

    let limits = Limits::default();
    let mut rest = data;
    for _ in 0..MAX_FRAMES {
        let (frame, consumed) = match parse(rest, &limits) {
            Ok(Some(found)) => found,
            Ok(None) | Err(_) => return,
        };
        assert!(
            consumed <= rest.len(),
            "consumed {consumed} of {} bytes",
            rest.len()
        );
        assert!(consumed > 0, "a frame of zero bytes");
        for cut in [consumed - 1, consumed / 2] {
            assert_eq!(
                parse(&rest[..cut], &limits),
                Ok(None),
                "prefix of {cut} of {consumed} bytes"
            );
        }
        let _ = frame.transaction_id();
        check_round_trip(&frame);
        rest = &rest[consumed..];
    }
}
