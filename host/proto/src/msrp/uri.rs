//! MSRP URIs: `msrp://host:port/session-id;tcp` (RFC 4975 §6, §9).

use std::fmt;
use std::str::FromStr;

use super::error::{MsrpError, excerpt};
use super::grammar;

/// One MSRP or MSRPS URI as it appears in To-Path and From-Path.
///
/// Parsing lower-cases the scheme and transport (both case-insensitive per
/// RFC 4975 §6.1) and keeps everything else as written, so a URI in canonical
/// lower-case form displays back to exactly the text it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MsrpUri {
    /// `msrps` (TLS) rather than `msrp`.
    pub secure: bool,
    /// The optional `userinfo` before `@`; RFC 4976 relay URIs use it.
    pub user: Option<String>,
    /// Host name or IPv4 literal, or an IPv6 literal without its brackets.
    pub host: String,
    /// Explicit port, if any.
    pub port: Option<u16>,
    /// Session id; empty when the URI has none (allowed for relays, RFC 4975 §9).
    pub session_id: String,
    /// Transport, lower-case; `tcp` for the gateway.
    pub transport: String,
    /// Further `;name[=value]` URI parameters, each kept as written.
    pub params: Vec<String>,
}

impl MsrpUri {
    /// A URI over TCP with no user part and no extra parameters.
    pub fn new(
        secure: bool,
        host: impl Into<String>,
        port: Option<u16>,
        session_id: impl Into<String>,
    ) -> Self {
        Self {
            secure,
            user: None,
            host: host.into(),
            port,
            session_id: session_id.into(),
            transport: "tcp".to_owned(),
            params: Vec::new(),
        }
    }
}

impl fmt::Display for MsrpUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.secure { "msrps://" } else { "msrp://" })?;
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        // RFC 3986 §3.2.2: an IPv6 literal is written inside brackets.
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            f.write_str(&self.host)?;
        }
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        if !self.session_id.is_empty() {
            write!(f, "/{}", self.session_id)?;
        }
        write!(f, ";{}", self.transport)?;
        for param in &self.params {
            write!(f, ";{param}")?;
        }
        Ok(())
    }
}

impl FromStr for MsrpUri {
    type Err = MsrpError;

    /// Parses `msrp-scheme "://" authority ["/" session-id] ";" transport
    /// *( ";" URI-parameter)` (RFC 4975 §9).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |reason| MsrpError::BadUri {
            uri: excerpt(text.as_bytes()),
            reason,
        };
        let (scheme, rest) = text.split_once("://").ok_or(bad("missing \"://\""))?;
        let secure = if scheme.eq_ignore_ascii_case("msrp") {
            false
        } else if scheme.eq_ignore_ascii_case("msrps") {
            true
        } else {
            return Err(bad("scheme must be msrp or msrps"));
        };

        // The authority ends at the session-id slash or the transport semicolon.
        let authority_end = rest.find(['/', ';']).ok_or(bad("missing \";transport\""))?;
        let (authority, rest) = rest.split_at(authority_end);
        let (user, host_port) = match authority.split_once('@') {
            Some((user, host_port)) => {
                if !user.bytes().all(is_userinfo_char) {
                    return Err(bad("invalid character in user part"));
                }
                (Some(user.to_owned()), host_port)
            }
            None => (None, authority),
        };
        let (host, port) = parse_host_port(host_port).map_err(bad)?;

        let (session_id, rest) = match rest.strip_prefix('/') {
            Some(after_slash) => {
                let end = after_slash.find(';').ok_or(bad("missing \";transport\""))?;
                let (sid, rest) = after_slash.split_at(end);
                // session-id = 1*( unreserved / "+" / "=" / "/" ) (RFC 4975 §9)
                if sid.is_empty() || !sid.bytes().all(is_session_id_char) {
                    return Err(bad("invalid session id"));
                }
                (sid.to_owned(), rest)
            }
            None => (String::new(), rest),
        };

        let rest = rest
            .strip_prefix(';')
            .ok_or(bad("missing \";transport\""))?;
        let mut parts = rest.split(';');
        let transport = parts.next().unwrap_or_default();
        // transport = "tcp" / 1*ALPHANUM (RFC 4975 §9)
        if transport.is_empty() || !transport.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(bad("invalid transport"));
        }
        let mut params = Vec::new();
        for param in parts {
            // URI-parameter = token ["=" token] (RFC 4975 §9)
            let valid = match param.split_once('=') {
                Some((name, value)) => grammar::is_token(name) && grammar::is_token(value),
                None => grammar::is_token(param),
            };
            if !valid {
                return Err(bad("invalid URI parameter"));
            }
            params.push(param.to_owned());
        }

        Ok(Self {
            secure,
            user,
            host,
            port,
            session_id,
            transport: transport.to_ascii_lowercase(),
            params,
        })
    }
}

/// Splits `host [":" port]`, where host may be a bracketed IPv6 literal.
fn parse_host_port(text: &str) -> Result<(String, Option<u16>), &'static str> {
    let (host, port_text, bracketed) = if let Some(bracketed) = text.strip_prefix('[') {
        let (literal, after) = bracketed.split_once(']').ok_or("unclosed IPv6 bracket")?;
        // RFC 3986 §3.2.2 IP-literal; checked loosely: hex digits, colons, dots.
        let plausible = literal.contains(':')
            && literal
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if !plausible {
            return Err("invalid IPv6 literal");
        }
        let port_text = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or("junk after IPv6 literal")?),
        };
        (literal, port_text, true)
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host, Some(port), false),
            None => (text, None, false),
        }
    };
    // RFC 3986 §3.2.2 reg-name / IPv4address, restricted to what DNS names use.
    if !bracketed && (host.is_empty() || !host.bytes().all(is_host_char)) {
        return Err("invalid host");
    }
    let port = match port_text {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().map_err(|_| "port out of range")?)
        }
        Some(_) => return Err("invalid port"),
    };
    Ok((host.to_owned(), port))
}

/// RFC 3986 unreserved characters.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn is_session_id_char(b: u8) -> bool {
    is_unreserved(b) || matches!(b, b'+' | b'=' | b'/')
}

fn is_host_char(b: u8) -> bool {
    is_unreserved(b) || b == b'%'
}

/// RFC 3986 userinfo minus `;` and `/`, which end the authority in MSRP URIs.
fn is_userinfo_char(b: u8) -> bool {
    is_unreserved(b)
        || matches!(
            b,
            b'%' | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b'=' | b':'
        )
}
