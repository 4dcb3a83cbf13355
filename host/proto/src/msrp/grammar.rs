//! Character classes of the RFC 4975 §9 grammar, shared by the parsers.

/// `ident-char = ALPHANUM / "." / "-" / "+" / "%" / "="` (RFC 4975 §9).
fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'%' | b'=')
}

/// Longest `ident`: one ALPHANUM plus up to 31 ident-chars (RFC 4975 §9).
pub(crate) const IDENT_MAX: usize = 32;
/// Shortest `ident`: one ALPHANUM plus at least 3 ident-chars (RFC 4975 §9).
pub(crate) const IDENT_MIN: usize = 4;

/// `ident = ALPHANUM 3*31ident-char`; used by transaction ids and Message-IDs.
pub(crate) fn is_ident(s: &str) -> bool {
    let b = s.as_bytes();
    (IDENT_MIN..=IDENT_MAX).contains(&b.len()) && is_ident_prefix(b)
}

/// True when `b` could still grow into an `ident` (used on partial input).
pub(crate) fn is_ident_prefix(b: &[u8]) -> bool {
    b.len() <= IDENT_MAX
        && b.first().is_none_or(u8::is_ascii_alphanumeric)
        && b.iter().all(|&c| is_ident_char(c))
}

/// `token` characters as RFC 4975 §9 borrows them from SIP (RFC 3261 §25.1).
pub(crate) fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

/// A non-empty run of token characters.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_char)
}

/// `hname = ALPHA *token` (RFC 4975 §9).
pub(crate) fn is_header_name(s: &str) -> bool {
    let b = s.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphabetic) && b.iter().all(|&c| is_token_char(c))
}

/// `utf8text = *(HTAB / %x20-7E / UTF8-NONASCII)` (RFC 4975 §9): no control
/// characters other than tab, so no bare CR or LF can hide inside a line.
pub(crate) fn is_utf8text(s: &str) -> bool {
    s.chars().all(|c| c == '\t' || (c >= ' ' && c != '\x7f'))
}

/// `1*UPALPHA`, the shape of a method name (RFC 4975 §9).
pub(crate) fn is_method_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// Exactly three ASCII digits, the shape of status codes and namespaces.
pub(crate) fn parse_three_digits(s: &str) -> Option<u16> {
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}
