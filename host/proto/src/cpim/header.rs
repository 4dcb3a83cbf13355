//! One CPIM message header (RFC 3862 §3.6):
//! `[ Name-prefix "." ] Name ":" Header-parameters SP Header-value CRLF`.

use super::CpimError;
use super::namespace::parse_ns_value;
use super::value::{decode_escapes, escape_text, is_name, parse_address, scan_parameters};
use crate::dates::parse_rfc3339;

/// A CPIM message header as it stands on the wire.
///
/// `value` is the raw wire text (escapes not decoded) so that a parsed
/// message is written back byte for byte; typed accessors such as
/// [`CpimHeader::decoded_value`] decode it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpimHeader {
    /// Namespace prefix before the dot (`imdn` in `imdn.Message-ID`); it is
    /// bound to a URN by an `NS` header (RFC 3862 §3.4).
    pub prefix: Option<String>,
    /// Header name without prefix.
    pub name: String,
    /// Raw `Header-parameters`, starting with `;`, e.g. `;lang=fr`.
    pub params: Option<String>,
    /// Raw header value.
    pub value: String,
}

impl CpimHeader {
    /// A header in the default namespace whose value is already wire text.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            prefix: None,
            name: name.into(),
            params: None,
            value: value.into(),
        }
    }

    /// A namespaced header such as `imdn.Message-ID`.
    pub fn with_prefix(
        prefix: impl Into<String>,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        Self {
            prefix: Some(prefix.into()),
            ..Self::new(name, value)
        }
    }

    /// A header whose value is free text from outside (a subject, say):
    /// the text is escaped per RFC 3862 §2.3, so CR/LF become `\r`/`\n`
    /// and cannot start a new header line.
    pub fn text(name: impl Into<String>, text: &str) -> Self {
        Self::new(name, escape_text(text))
    }

    /// Adds raw parameters, e.g. `";lang=fr"`.
    pub fn with_params(mut self, params: impl Into<String>) -> Self {
        self.params = Some(params.into());
        self
    }

    /// The name as written on the wire, prefix included.
    pub fn full_name(&self) -> String {
        match &self.prefix {
            Some(prefix) => format!("{prefix}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// The value with RFC 3862 §2.3 escapes decoded.
    pub fn decoded_value(&self) -> String {
        decode_escapes(&self.value)
    }

    /// The `lang` parameter (RFC 3862 §3.3), if any.
    pub fn lang(&self) -> Option<&str> {
        let (_, parameters) = scan_parameters(self.params.as_deref()?).ok()?;
        parameters
            .into_iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("lang"))
            .map(|(_, value)| value)
    }

    /// True for a header in the default namespace with this name.
    pub(crate) fn is_unprefixed(&self, name: &str) -> bool {
        self.prefix.is_none() && self.name.eq_ignore_ascii_case(name)
    }
}

/// Reads one header line (without its line end).
pub(crate) fn parse_header_line(line: &str, line_number: usize) -> Result<CpimHeader, CpimError> {
    let malformed = |reason: &str| CpimError::MalformedHeader {
        line: line_number,
        reason: reason.to_owned(),
    };
    if line.starts_with([' ', '\t']) {
        // RFC 3862 §3.6 has no folding: a header is exactly one line.
        return Err(malformed(
            "CPIM headers cannot be folded onto a second line",
        ));
    }
    let (full_name, after_colon) = line
        .split_once(':')
        .ok_or(CpimError::HeaderWithoutColon { line: line_number })?;
    let (prefix, name) = split_name(full_name).map_err(malformed)?;
    let (params_length, _) = scan_parameters(after_colon).map_err(malformed)?;
    let params = (params_length > 0).then(|| after_colon[..params_length].to_owned());
    let after_params = &after_colon[params_length..];
    // RFC 3862 §3.6 requires one SP before the value; a missing one (seen
    // in the wild as "DateTime:2026-...") is tolerated.
    let value = after_params.strip_prefix(' ').unwrap_or(after_params);
    if value.chars().any(is_forbidden_in_value) {
        return Err(malformed("header value contains a control character"));
    }
    let header = CpimHeader {
        prefix: prefix.map(str::to_owned),
        name: name.to_owned(),
        params,
        value: value.to_owned(),
    };
    check_standard_value(&header).map_err(malformed)?;
    Ok(header)
}

/// Checks a header before it is written, with the same rules the parser
/// applies, so that whatever is written parses back to the same header.
pub(crate) fn check_header(header: &CpimHeader) -> Result<(), CpimError> {
    let invalid = |reason: &str| CpimError::InvalidHeader {
        header: header.full_name(),
        reason: reason.to_owned(),
    };
    if header
        .prefix
        .as_deref()
        .is_some_and(|prefix| !is_name(prefix))
    {
        return Err(invalid("prefix is not an RFC 3862 Name"));
    }
    if !is_name(&header.name) {
        return Err(invalid("name is not an RFC 3862 Name"));
    }
    if let Some(params) = &header.params {
        match scan_parameters(params) {
            Ok((length, _)) if length == params.len() && length > 0 => {}
            _ => return Err(invalid("parameters are not ';name=value' pairs")),
        }
    }
    if header.value.contains(['\r', '\n']) {
        return Err(CpimError::LineBreakInValue {
            header: header.full_name(),
        });
    }
    if header.value.chars().any(is_forbidden_in_value) {
        return Err(invalid("value contains a control character"));
    }
    check_standard_value(header).map_err(invalid)
}

/// RFC 3862 §3.6 `HEADERCHAR` excludes control characters; a TAB is
/// tolerated because it cannot break a line and real clients send it.
fn is_forbidden_in_value(character: char) -> bool {
    character.is_control() && character != '\t'
}

fn split_name(full_name: &str) -> Result<(Option<&str>, &str), &'static str> {
    let (prefix, name) = match full_name.split_once('.') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, full_name),
    };
    if prefix.is_some_and(|p| !is_name(p)) || !is_name(name) {
        return Err("header name is not [prefix \".\"] Name (RFC 3862 §3.1)");
    }
    Ok((prefix, name))
}

/// Structure checks for the headers RFC 3862 §4 defines, so a message that
/// parses always answers its typed accessors.
fn check_standard_value(header: &CpimHeader) -> Result<(), &'static str> {
    if header.prefix.is_some() {
        return Ok(());
    }
    let name = header.name.as_str();
    if ["From", "To", "cc"]
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name))
    {
        parse_address(&header.value)?;
    } else if name.eq_ignore_ascii_case("DateTime") {
        parse_rfc3339(&header.value).map_err(|_| "DateTime is not an RFC 3339 date-time")?;
    } else if name.eq_ignore_ascii_case("NS") {
        parse_ns_value(&header.value)?;
    }
    Ok(())
}
