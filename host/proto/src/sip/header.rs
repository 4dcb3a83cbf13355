//! The header fields the gateway reads: names, Via, From/To, CSeq.

use super::SipError;

/// RFC 3261 §7.3.3 compact forms, and RFC 3261 §20 spellings of the long
/// names, so that lookups and output do not depend on how a peer wrote them.
const NAMES: &[(&str, &str)] = &[
    ("i", "Call-ID"),
    ("m", "Contact"),
    ("e", "Content-Encoding"),
    ("l", "Content-Length"),
    ("c", "Content-Type"),
    ("f", "From"),
    ("s", "Subject"),
    ("k", "Supported"),
    ("t", "To"),
    ("v", "Via"),
    ("o", "Event"),
    ("r", "Refer-To"),
    ("b", "Referred-By"),
    ("u", "Allow-Events"),
    ("x", "Session-Expires"),
    ("accept", "Accept"),
    ("allow", "Allow"),
    ("call-id", "Call-ID"),
    ("contact", "Contact"),
    ("content-disposition", "Content-Disposition"),
    ("content-encoding", "Content-Encoding"),
    ("content-length", "Content-Length"),
    ("content-type", "Content-Type"),
    ("cseq", "CSeq"),
    ("date", "Date"),
    ("expires", "Expires"),
    ("from", "From"),
    ("max-forwards", "Max-Forwards"),
    ("record-route", "Record-Route"),
    ("require", "Require"),
    ("retry-after", "Retry-After"),
    ("route", "Route"),
    ("server", "Server"),
    ("subject", "Subject"),
    ("supported", "Supported"),
    ("to", "To"),
    ("user-agent", "User-Agent"),
    ("via", "Via"),
    ("warning", "Warning"),
];

/// The canonical spelling of a header name.
pub fn canonical_name(name: &str) -> String {
    NAMES
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map_or_else(|| name.to_string(), |(_, v)| v.to_string())
}

fn params(text: &str) -> Vec<(String, Option<String>)> {
    text.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim().to_string())),
            None => (p.to_ascii_lowercase(), None),
        })
        .collect()
}

/// A Via header value (RFC 3261 §20.42).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// `UDP`, `TCP`, ...
    pub transport: String,
    /// host[:port] the response goes to (before `received`/`rport`).
    pub sent_by: String,
    /// `;name[=value]` parameters, in order.
    pub params: Vec<(String, Option<String>)>,
}

impl Via {
    /// Parses one Via value (not a comma-separated list).
    pub fn parse(value: &str) -> Result<Self, SipError> {
        let bad = || SipError::Header("Via", value.to_string());
        let (protocol, rest) = value
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(bad)?;
        let mut parts = protocol.split('/').map(str::trim);
        let (name, version, transport) = (parts.next(), parts.next(), parts.next());
        if name != Some("SIP") || version != Some("2.0") {
            return Err(bad());
        }
        let transport = transport.filter(|t| !t.is_empty()).ok_or_else(bad)?;
        let rest = rest.trim();
        let (sent_by, params_text) = rest.split_once(';').unwrap_or((rest, ""));
        let sent_by = sent_by.trim();
        if sent_by.is_empty() || sent_by.contains(char::is_whitespace) {
            return Err(bad());
        }
        Ok(Self {
            transport: transport.to_ascii_uppercase(),
            sent_by: sent_by.to_string(),
            params: params(params_text),
        })
    }

    /// A parameter's value (`""` for a flag such as `rport`).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_deref().unwrap_or(""))
    }

    /// The branch, if it is an RFC 3261 one (`z9hG4bK` magic cookie, §8.1.1.7).
    pub fn branch(&self) -> Option<&str> {
        self.param("branch").filter(|b| b.starts_with("z9hG4bK"))
    }
}

/// A From, To or Contact value (RFC 3261 §20.10, §20.20, §20.39):
/// `"Display" <uri>;params` or `uri;params`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name, unquoted.
    pub display: Option<String>,
    /// The URI, without angle brackets.
    pub uri: String,
    /// Header parameters (`;tag=…`), in order.
    pub params: Vec<(String, Option<String>)>,
}

impl NameAddr {
    /// Parses one name-addr or addr-spec value.
    pub fn parse(value: &str) -> Result<Self, SipError> {
        let bad = || SipError::Header("From/To", value.to_string());
        let value = value.trim();
        if let Some(open) = find_unquoted(value, '<') {
            let close = value[open..].find('>').ok_or_else(bad)? + open;
            let display = unquote(value[..open].trim());
            let uri = value[open + 1..close].trim();
            if uri.is_empty() {
                return Err(bad());
            }
            super::Uri::parse(uri)?;
            Ok(Self {
                display: (!display.is_empty()).then_some(display),
                uri: uri.to_string(),
                params: params(value[close + 1..].trim_start_matches(';')),
            })
        } else {
            // addr-spec form: parameters after ';' belong to the header,
            // not to the URI (§20.10).
            let (uri, rest) = value.split_once(';').unwrap_or((value, ""));
            let uri = uri.trim();
            if uri.is_empty() || !uri.contains(':') || uri.contains(char::is_whitespace) {
                return Err(bad());
            }
            super::Uri::parse(uri)?;
            Ok(Self {
                display: None,
                uri: uri.to_string(),
                params: params(rest),
            })
        }
    }

    /// A header parameter's value (`""` for a flag).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_deref().unwrap_or(""))
    }
}

fn find_unquoted(text: &str, wanted: char) -> Option<usize> {
    let (mut quoted, mut escaped) = (false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == wanted && !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

fn unquote(text: &str) -> String {
    let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else {
        return text.to_string();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A CSeq value (RFC 3261 §20.16).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// The sequence number.
    pub number: u32,
    /// The method it counts.
    pub method: String,
}

impl CSeq {
    /// Parses `number METHOD`.
    pub fn parse(value: &str) -> Result<Self, SipError> {
        let bad = || SipError::Header("CSeq", value.to_string());
        let mut parts = value.split_whitespace();
        let number = parts.next().and_then(|n| n.parse().ok()).ok_or_else(bad)?;
        let method = parts.next().ok_or_else(bad)?.to_string();
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(Self { number, method })
    }
}
