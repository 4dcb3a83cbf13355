//! Header namespaces (RFC 3862 §3.4): `NS: imdn <urn:ietf:params:imdn>`
//! binds the prefix `imdn` to a URN, and a header is identified by that
//! URN plus its name, never by the literal prefix, which each sender picks.

use super::CpimHeader;
use super::value::is_name;

/// The namespace of unprefixed headers unless an `NS` header without a
/// prefix rebinds it (RFC 3862 §3.4).
pub const CPIM_HEADERS_URN: &str = "urn:ietf:params:cpim-headers:";

/// Reads an `NS` value: `[ Name-prefix SP ] "<" URI ">"` (RFC 3862 §4.6).
pub(crate) fn parse_ns_value(value: &str) -> Result<(Option<&str>, &str), &'static str> {
    let value = value.trim_end_matches([' ', '\t']);
    let (prefix, bracketed) = match value.find('<') {
        Some(0) => (None, value),
        Some(open) => {
            // Some clients omit the SP ("NS: imdn<urn:...>"); accept that.
            let prefix = value[..open].trim_end_matches([' ', '\t']);
            if !is_name(prefix) {
                return Err("NS prefix is not an RFC 3862 Name");
            }
            (Some(prefix), &value[open..])
        }
        None => return Err("NS value must contain '<URI>'"),
    };
    let uri = bracketed
        .strip_prefix('<')
        .and_then(|rest| rest.strip_suffix('>'))
        .ok_or("NS URI must be the last thing, in '<' '>'")?;
    if uri.is_empty() || uri.contains(['<', '>', ' ', '\t']) {
        return Err("NS URI is empty or contains '<', '>' or whitespace");
    }
    Ok((prefix, uri))
}

/// The namespace URN of `headers[index]`.
///
/// A prefix is bound by the nearest `NS` header before it. If none comes
/// before, the first one after it is used: RFC 3862 §3.4 wants the
/// declaration first, but some clients emit `NS` after the headers that use
/// it and the meaning is still unambiguous.
pub(crate) fn namespace_of(headers: &[CpimHeader], index: usize) -> Option<&str> {
    let header = headers.get(index)?;
    let declarations = headers
        .iter()
        .enumerate()
        .filter(|(_, h)| h.is_unprefixed("NS"))
        .filter_map(|(position, h)| {
            let (prefix, uri) = parse_ns_value(&h.value).ok()?;
            Some((position, prefix, uri))
        });
    match header.prefix.as_deref() {
        None => Some(
            declarations
                .filter(|(position, prefix, _)| *position < index && prefix.is_none())
                .last()
                .map_or(CPIM_HEADERS_URN, |(_, _, uri)| uri),
        ),
        Some(wanted) => {
            let mut before = None;
            let mut after = None;
            for (position, prefix, uri) in declarations {
                if !prefix.is_some_and(|p| p.eq_ignore_ascii_case(wanted)) {
                    continue;
                }
                if position < index {
                    before = Some(uri);
                } else if after.is_none() {
                    after = Some(uri);
                }
            }
            before.or(after)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ns_values() {
        assert_eq!(
            parse_ns_value("imdn <urn:ietf:params:imdn>"),
            Ok((Some("imdn"), "urn:ietf:params:imdn"))
        );
        assert_eq!(
            parse_ns_value("imdn<urn:ietf:params:imdn>"),
            Ok((Some("imdn"), "urn:ietf:params:imdn"))
        );
        assert_eq!(parse_ns_value("<urn:x>"), Ok((None, "urn:x")));
        assert!(parse_ns_value("imdn urn:ietf:params:imdn").is_err());
        assert!(parse_ns_value("im dn <urn:x>").is_err());
        assert!(parse_ns_value("imdn <urn:x> trailing").is_err());
        assert!(parse_ns_value("imdn <>").is_err());
    }

    #[test]
    fn resolves_prefix_by_nearest_declaration() {
        let headers = vec![
            CpimHeader::with_prefix("x", "Early", "1"),
            CpimHeader::new("NS", "x <urn:first>"),
            CpimHeader::with_prefix("x", "Middle", "2"),
            CpimHeader::new("NS", "x <urn:second>"),
            CpimHeader::with_prefix("X", "Late", "3"),
            CpimHeader::with_prefix("unbound", "Name", "4"),
            CpimHeader::new("From", "<im:a@b>"),
        ];
        assert_eq!(namespace_of(&headers, 0), Some("urn:first"));
        assert_eq!(namespace_of(&headers, 2), Some("urn:first"));
        assert_eq!(namespace_of(&headers, 4), Some("urn:second"));
        assert_eq!(namespace_of(&headers, 5), None);
        assert_eq!(namespace_of(&headers, 6), Some(CPIM_HEADERS_URN));
        assert_eq!(namespace_of(&headers, 99), None);
    }
}
