//! URIs in SIP: SIP and SIPS URIs checked against RFC 3261 §25.1
//! (userinfo, hostport, parameters, headers), tel URIs against RFC 3966 §3,
//! and any other scheme (`im:`, `pres:`) against the generic syntax of
//! RFC 3986 §3 without spaces, brackets or controls. A Request-URI, a
//! From/To URI or a P-Asserted-Identity that fails here is a 400.

use super::SipError;

/// A URI that passed the checks; the parts the gateway reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uri<'a> {
    /// The scheme, lower case as written (`sip`, `sips`, `tel`, …).
    pub scheme: String,
    /// The user part of a SIP URI, still %-escaped; the number of a tel URI.
    pub user: Option<&'a str>,
    /// The host of a SIP URI.
    pub host: Option<&'a str>,
    /// The port of a SIP URI.
    pub port: Option<u16>,
    /// `;name[=value]` parameters, in order.
    pub params: Vec<(&'a str, Option<&'a str>)>,
}

fn bad(uri: &str, why: &str) -> SipError {
    SipError::Uri(format!("{uri} ({why})"))
}

const MARK: &[u8] = b"-_.!~*'()";
const USER_UNRESERVED: &[u8] = b"&=+$,;?/";
const PASSWORD_UNRESERVED: &[u8] = b"&=+$,";
const PARAM_UNRESERVED: &[u8] = b"[]/:&+$";
const HNV_UNRESERVED: &[u8] = b"[]/?:+$";

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || MARK.contains(&b)
}

/// `text` is made of `allowed` bytes and well-formed `%HH` escapes.
fn escaped_text(text: &str, allowed: impl Fn(u8) -> bool) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3);
            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                return false;
            }
            i += 3;
        } else if allowed(bytes[i]) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// The %-escapes of `text` decoded; `None` when they decode to a control
/// character (CR, LF, NUL …) or to bytes that are not UTF-8: no user part
/// of ours may carry those into a mail header.
pub fn unescape(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let text = String::from_utf8(out).ok()?;
    (!text.chars().any(char::is_control)).then_some(text)
}

fn hostname(host: &str) -> bool {
    // RFC 3261 §25.1 hostname: labels of alphanumerics and hyphens, an
    // optional final dot.
    let host = host.strip_suffix('.').unwrap_or(host);
    !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Splits `host[:port]`; the port is 1–5 digits up to 65535.
fn hostport<'a>(uri: &str, text: &'a str) -> Result<(&'a str, Option<u16>), SipError> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let close = rest
            .find(']')
            .ok_or_else(|| bad(uri, "unclosed IPv6 reference"))?;
        let address = &rest[..close];
        if address.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad(uri, "bad IPv6 reference"));
        }
        let after = &rest[close + 1..];
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => return Err(bad(uri, "text after the IPv6 reference")),
        };
        (&text[..close + 2], port)
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    if !host.starts_with('[') && !hostname(host) {
        return Err(bad(uri, "bad host"));
    }
    let port = match port {
        None => None,
        Some(p) if (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) => Some(
            p.parse::<u16>()
                .map_err(|_| bad(uri, "port out of range"))?,
        ),
        Some(_) => return Err(bad(uri, "bad port")),
    };
    Ok((host, port))
}

/// `;name[=value]` parameters; every name non-empty.
fn params<'a>(
    uri: &str,
    text: &'a str,
    allowed: impl Fn(u8) -> bool + Copy,
) -> Result<Vec<(&'a str, Option<&'a str>)>, SipError> {
    let mut out = Vec::new();
    if text.is_empty() {
        return Ok(out);
    }
    for param in text.split(';') {
        let (name, value) = match param.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (param, None),
        };
        if name.is_empty() || !escaped_text(name, allowed) {
            return Err(bad(uri, "bad parameter"));
        }
        if value.is_some_and(|v| v.is_empty() || !escaped_text(v, allowed)) {
            return Err(bad(uri, "bad parameter value"));
        }
        out.push((name, value));
    }
    Ok(out)
}

impl<'a> Uri<'a> {
    /// Checks `text` as a URI of a SIP message.
    pub fn parse(text: &'a str) -> Result<Self, SipError> {
        let (scheme, rest) = text.split_once(':').ok_or_else(|| bad(text, "no scheme"))?;
        let scheme_ok = scheme
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
        if !scheme_ok || rest.is_empty() {
            return Err(bad(text, "bad scheme"));
        }
        let lower = scheme.to_ascii_lowercase();
        match lower.as_str() {
            "sip" | "sips" => Self::sip(text, lower, rest),
            "tel" => Self::tel(text, lower, rest),
            _ => {
                // RFC 3986 characters only: no space, no quote, no angle
                // bracket, no control, nothing outside ASCII.
                let ok = escaped_text(rest, |b| {
                    unreserved(b) || b":/?#[]@!$&'()*+,;=".contains(&b)
                });
                if !ok {
                    return Err(bad(text, "characters outside RFC 3986"));
                }
                Ok(Self {
                    scheme: lower,
                    user: None,
                    host: None,
                    port: None,
                    params: Vec::new(),
                })
            }
        }
    }

    fn sip(text: &'a str, scheme: String, rest: &'a str) -> Result<Self, SipError> {
        // `@` ends the userinfo and appears nowhere else unescaped; the
        // user part may hold `;` and `?` (user-unreserved), so it is cut
        // off first.
        let (userinfo, rest) = match rest.split_once('@') {
            Some((u, r)) => (Some(u), r),
            None => (None, rest),
        };
        let (rest, headers) = rest.split_once('?').unwrap_or((rest, ""));
        let user = match userinfo {
            None => None,
            Some(info) => {
                let (user, password) = info.split_once(':').unwrap_or((info, ""));
                let user_ok = escaped_text(user, |b| unreserved(b) || USER_UNRESERVED.contains(&b));
                let password_ok = escaped_text(password, |b| {
                    unreserved(b) || PASSWORD_UNRESERVED.contains(&b)
                });
                if user.is_empty() || !user_ok || !password_ok {
                    return Err(bad(text, "bad user part"));
                }
                Some(user)
            }
        };
        let (hostport_text, param_text) = rest.split_once(';').unwrap_or((rest, ""));
        let (host, port) = hostport(text, hostport_text)?;
        let params = params(text, param_text, |b| {
            unreserved(b) || PARAM_UNRESERVED.contains(&b)
        })?;
        if !headers.is_empty() {
            for header in headers.split('&') {
                let ok = header.split_once('=').is_some_and(|(n, v)| {
                    let allowed = |b| unreserved(b) || HNV_UNRESERVED.contains(&b);
                    !n.is_empty() && escaped_text(n, allowed) && escaped_text(v, allowed)
                });
                if !ok {
                    return Err(bad(text, "bad header"));
                }
            }
        }
        Ok(Self {
            scheme,
            user,
            host: Some(host),
            port,
            params,
        })
    }

    fn tel(text: &'a str, scheme: String, rest: &'a str) -> Result<Self, SipError> {
        // RFC 3966 §3: a global number (+ digits) or a local one (hex
        // digits, * and #), visual separators -.() anywhere, then params.
        let (number, param_text) = rest.split_once(';').unwrap_or((rest, ""));
        let digits = number.strip_prefix('+').unwrap_or(number);
        let ok = digits
            .bytes()
            .any(|b| b.is_ascii_hexdigit() || b"*#".contains(&b))
            && digits
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b"*#-.()".contains(&b));
        if !ok {
            return Err(bad(text, "bad telephone number"));
        }
        let params = params(text, param_text, |b| {
            unreserved(b) || PARAM_UNRESERVED.contains(&b)
        })?;
        Ok(Self {
            scheme,
            user: Some(number),
            host: None,
            port: None,
            params,
        })
    }
}
