//! `interwork_proto::uri_list::parse` on arbitrary bytes: the first line is
//! the request's `Content-Type`, the rest its body.
//!
//! Checks: no panic; a list that parses has between one and
//! `MAX_RECIPIENTS` entries, and its message part is bytes of the body.

use interwork_proto::uri_list::{self, MAX_RECIPIENTS};

/// One fuzz input.
pub fn run(data: &[u8]) {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let Ok(content_type) = std::str::from_utf8(&data[..split]) else {
        return;
    };
    let body = data.get(split + 1..).unwrap_or_default();
    let Ok(list) = uri_list::parse(content_type.trim_end_matches('\r'), body) else {
        return;
    };
    assert!(!list.recipients.is_empty(), "a list without recipients");
    assert!(
        list.recipients.len() <= MAX_RECIPIENTS,
        "too many recipients"
    );
    assert!(
        list.body.is_empty() || memchr_find(body, &list.body),
        "the message part is not bytes of the body"
    );
}

fn memchr_find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
