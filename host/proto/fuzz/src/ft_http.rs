//! `interwork_proto::ft_http::parse` on arbitrary bytes (the IMDN module's
//! element tree, then the RCC.07 §3.2.5 document rules).
//!
//! Checks: no panic; what a parse returns holds what `ft_http` documents
//! (a `type/subtype` content type, no control character in the name, type
//! or URL, no white space in the URL); parsing twice gives the same
//! transfer. There is no writer to round-trip through: the gateway only
//! reads these documents.

use interwork_proto::ft_http::{self, FileInfo};

/// One fuzz input.
pub fn run(data: &[u8]) {
    let Ok(first) = ft_http::parse(data) else {
        return;
    };
    check(&first.file);
    if let Some(thumbnail) = &first.thumbnail {
        check(thumbnail);
    }
    assert_eq!(
        ft_http::parse(data),
        Ok(first),
        "parsing twice gave two transfers"
    );
}

fn check(info: &FileInfo) {
    let (kind, subtype) = info
        .content_type
        .split(';')
        .next()
        .and_then(|essence| essence.trim().split_once('/'))
        .expect("content type without '/'");
    assert!(
        !kind.is_empty() && !subtype.is_empty(),
        "empty type or subtype"
    );
    assert!(!info.content_type.chars().any(char::is_control));
    assert!(!info.url.is_empty(), "empty URL");
    assert!(
        !info
            .url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control()),
        "white space in the URL"
    );
    if let Some(name) = &info.name {
        assert!(!name.is_empty(), "empty file name");
        assert!(!name.chars().any(char::is_control), "control in the name");
    }
}
