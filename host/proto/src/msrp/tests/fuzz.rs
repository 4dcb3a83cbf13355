//! Deterministic mutation fuzzing and generated round trips.

use super::support::{XorShift, wire};
use crate::msrp::{Limits, parse};

/// Limits loose enough that re-written frames (which may grow slightly,
/// e.g. "Name:v" becomes "Name: v") still fit.
fn roomy() -> Limits {
    Limits {
        max_header_bytes: 1 << 20,
        max_headers: 10_000,
        max_body_bytes: 1 << 20,
    }
}

fn tight() -> Limits {
    Limits {
        max_header_bytes: 200,
        max_headers: 4,
        max_body_bytes: 64,
    }
}

/// Bytes that matter to the grammar, to steer mutations to interesting spots.
const SPICE: &[u8] = b"\r\n-$+#: */;[]@%=0123456789MSRP\t\x00\xff";

fn mutate(rng: &mut XorShift, bytes: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(4) {
        let len = bytes.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                bytes[i] = rng.next() as u8;
            }
            1 if len > 0 => {
                let i = rng.below(len);
                bytes[i] = *rng.pick(SPICE);
            }
            2 if len > 0 => {
                let from = rng.below(len);
                let to = (from + rng.below(20)).min(len);
                bytes.drain(from..to);
            }
            3 if len > 0 => {
                let from = rng.below(len);
                let to = (from + rng.below(40)).min(len);
                let copy = bytes[from..to].to_vec();
                let at = rng.below(len + 1);
                bytes.splice(at..at, copy);
            }
            4 => {
                let at = rng.below(len + 1);
                let count = rng.below(8);
                let junk = rng.bytes(count);
                bytes.splice(at..at, junk);
            }
            5 => {
                let at = rng.below(len + 1);
                bytes.splice(at..at, b"\r\n".iter().copied());
            }
            _ => bytes.truncate(rng.below(len + 1)),
        }
    }
}

#[test]
fn mutated_frames_never_panic_and_what_parses_round_trips() {
    let mut rng = XorShift::new(0x5eed);
    let mut accepted = 0;
    for _ in 0..6000 {
        let mut bytes = wire(&rng.frame());
        mutate(&mut rng, &mut bytes);
        let _ = parse(&bytes, &tight());
        let Ok(Some((frame, used))) = parse(&bytes, &roomy()) else {
            continue;
        };
        accepted += 1;
        assert!(used <= bytes.len());
        // Whatever we accept must be writable and read back the same.
        let again = wire(&frame);
        assert_eq!(
            parse(&again, &roomy()),
            Ok(Some((frame, again.len()))),
            "input {:?}",
            String::from_utf8_lossy(&bytes)
        );
        // And its proper prefixes must ask for more data.
        for _ in 0..3 {
            let cut = rng.below(used);
            assert_eq!(parse(&bytes[..cut], &roomy()), Ok(None));
        }
    }
    assert!(
        accepted > 100,
        "mutations should leave some frames valid ({accepted})"
    );
}

#[test]
fn generated_frames_round_trip() {
    let mut rng = XorShift::new(2024);
    for _ in 0..3000 {
        let frame = rng.frame();
        let bytes = wire(&frame);
        assert_eq!(
            parse(&bytes, &Limits::default()),
            Ok(Some((frame, bytes.len()))),
            "{:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
}
