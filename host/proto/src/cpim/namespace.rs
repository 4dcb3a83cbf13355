//! Header namespaces (RFC 3862 §3.4): `NS: imdn <urn:ietf:params:imdn>`
//! binds the prefix `imdn` to a URN, and a header is identified by that
//! URN plus its name, never by the literal prefix, which each sender picks.

use super::CpimHeader;
use std::collections::HashMap;

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

/// The prefix (if any) and URN an `NS` header declares.
fn declaration(header: &CpimHeader) -> Option<(Option<&str>, &str)> {
    if header.is_unprefixed("NS") {
        parse_ns_value(&header.value).ok()
    } else {
        None
    }
}

/// The namespace URN of every header, in one pass (a peer may send many
/// headers; a lookup per header would be quadratic).
///
/// A prefix is bound by the nearest `NS` header before it. If none comes
/// before, the first one after it is used: RFC 3862 §3.4 wants the
/// declaration first, but some clients emit `NS` after the headers that use
/// it and the meaning is still unambiguous. Prefixes compare ASCII
/// case-insensitively. An unbound prefix has no namespace (`None`).
pub(crate) fn namespaces(headers: &[CpimHeader]) -> Vec<Option<&str>> {
    let mut first_binding: HashMap<String, &str> = HashMap::new();
    for (prefix, uri) in headers.iter().filter_map(declaration) {
        if let Some(prefix) = prefix {
            first_binding
                .entry(prefix.to_ascii_lowercase())
                .or_insert(uri);
        }
    }
    let mut current_binding: HashMap<String, &str> = HashMap::new();
    let mut default_namespace = CPIM_HEADERS_URN;
    let mut result = Vec::with_capacity(headers.len());
    for header in headers {
        result.push(match &header.prefix {
            None => Some(default_namespace),
            Some(prefix) => {
                let key = prefix.to_ascii_lowercase();
                current_binding
                    .get(&key)
                    .or_else(|| first_binding.get(&key))
                    .copied()
            }
        });
        // A declaration takes effect for the headers after it.
        match declaration(header) {
            Some((None, uri)) => default_namespace = uri,
            Some((Some(prefix), uri)) => {
                current_binding.insert(prefix.to_ascii_lowercase(), uri);
            }
            None => {}
        }
    }
    result
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
        assert_eq!(
            namespaces(&headers),
            [
                Some("urn:first"),
                Some(CPIM_HEADERS_URN),
                Some("urn:first"),
                Some(CPIM_HEADERS_URN),
                Some("urn:second"),
                None,
                Some(CPIM_HEADERS_URN),
            ]
        );
    }
}
