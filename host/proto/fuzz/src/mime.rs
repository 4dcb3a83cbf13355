//! `interwork_proto::mime::parse` on arbitrary bytes (what SMTP DATA
//! delivered, dot-unstuffed; the size cap of `smtp.max_size` is far above
//! libFuzzer's input lengths).
//!
//! Checks: no panic; no control character in a header name or value, a
//! part's media type, disposition or file name (they go on into SIP and
//! CPIM header lines); every media type is `token/token…` (RFC 2045 §5.1)
//! in lower case;
//! the decoded parts together stay within 4 × the input plus 1 KiB (text
//! converted to UTF-8 grows at most ×3 from a single-byte charset, a
//! transfer encoding only shrinks, a nested message is copied once); the
//! same bytes always give the same mail.

use interwork_proto::mime;

fn no_controls(what: &str, text: &str) {
    assert!(
        !text.chars().any(char::is_control),
        "a control character in {what}: {text:?}"
    );
}

/// RFC 2045 §5.1 `token`.
fn token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b))
}

/// One fuzz input.
pub fn run(data: &[u8]) {
    let Ok(mail) = mime::parse(data) else {
        return;
    };
    for header in &mail.headers {
        no_controls("a header name", &header.name);
        no_controls("a header value", &header.value);
    }
    let mut total = 0;
    for part in &mail.parts {
        no_controls("a media type", &part.content_type);
        let essence = part.content_type.split(';').next().unwrap_or_default();
        let tokens = essence
            .split_once('/')
            .is_some_and(|(t, s)| token(t) && token(s));
        assert!(tokens, "not type/subtype: {:?}", part.content_type);
        assert_eq!(essence, essence.to_ascii_lowercase());
        if let Some(disposition) = &part.disposition {
            no_controls("a disposition", disposition);
        }
        if let Some(filename) = &part.filename {
            no_controls("a file name", filename);
        }
        total += part.body.len();
    }
    assert!(
        total <= 4 * data.len() + 1024,
        "{total} bytes of parts from {} bytes",
        data.len()
    );
    assert_eq!(
        mime::parse(data).as_ref(),
        Ok(&mail),
        "parse is not deterministic"
    );
}
