//! `interwork_proto::dates`: both parsers on arbitrary text, both formatters on
//! arbitrary timestamps.
//!
//! Checks: no panic (overflow checks are on in fuzz builds, so arithmetic
//! overflow in the calendar code counts as a crash); a date that parses and
//! formats again (in either format) parses back to the same `Timestamp`.
//! Formatting may fail, as documented (local year outside 0000..=9999 for
//! RFC 3339, 1900..=9999 for RFC 5322, offset beyond ±23:59, overflow).

use interwork_proto::dates::{
    Timestamp, format_rfc3339, format_rfc5322, parse_rfc3339, parse_rfc5322,
};

/// Formats `timestamp` both ways; whatever is written must read back equal.
fn check_formats(timestamp: &Timestamp) {
    if let Ok(text) = format_rfc3339(timestamp) {
        assert_eq!(
            parse_rfc3339(&text).as_ref(),
            Ok(timestamp),
            "RFC 3339 {text:?} does not read back"
        );
    }
    if let Ok(text) = format_rfc5322(timestamp) {
        assert_eq!(
            parse_rfc5322(&text).as_ref(),
            Ok(timestamp),
            "RFC 5322 {text:?} does not read back"
        );
    }
}

/// One fuzz input.
pub fn run(data: &[u8]) {
    // The input as text, for the parsers.
    let text = String::from_utf8_lossy(data);
    if let Ok(timestamp) = parse_rfc3339(&text) {
        check_formats(&timestamp);
    }
    if let Ok(timestamp) = parse_rfc5322(&text) {
        check_formats(&timestamp);
    }

    // The first 10 bytes as a raw timestamp, for the formatters.
    if let Some(raw) = data.get(..10) {
        let timestamp = Timestamp {
            unix_seconds: i64::from_le_bytes(raw[..8].try_into().expect("8 bytes")),
            offset_minutes: i16::from_le_bytes([raw[8], raw[9]]),
        };
        check_formats(&timestamp);
    }
}
