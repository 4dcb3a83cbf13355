//! IM URIs and e-mail addresses as the mapping sees them: parsed,
//! checked, normalised (scheme and host in lower case).

use std::fmt;

/// The scheme of an IM identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriScheme {
    /// `sip:` (RFC 3261)
    Sip,
    /// `sips:` (RFC 3261 §19.1)
    Sips,
    /// `tel:` (RFC 3966)
    Tel,
    /// `mailto:` (RFC 6068)
    Mailto,
}

/// An IM identity, parsed: `sip:`/`sips:` with user and host, `tel:` with
/// its number, `mailto:` with its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImUri {
    /// `sip:user@host` or `sips:…`: the user part unescaped, the host in
    /// lower case without port; `user_is_phone` for `;user=phone`.
    Sip {
        /// `sip` or `sips`.
        scheme: UriScheme,
        /// The user part, percent-decoded.
        user: String,
        /// The host, lower case, without port.
        host: String,
        /// Whether the URI said `;user=phone` (RFC 3261 §19.1.1).
        user_is_phone: bool,
    },
    /// `tel:+number`: the number as written, without parameters.
    Tel(String),
    /// `mailto:address`.
    Mailto(EmailAddress),
}

impl ImUri {
    /// Parses a `sip:`, `sips:`, `tel:` or `mailto:` URI, with or without
    /// angle brackets.
    pub fn parse(uri: &str) -> Result<Self, String> {
        let uri = uri.trim().trim_start_matches('<').trim_end_matches('>');
        let (scheme, rest) = uri
            .split_once(':')
            .ok_or_else(|| format!("{uri:?} is not a URI (no scheme)"))?;
        match scheme.to_ascii_lowercase().as_str() {
            "sip" => parse_sip(UriScheme::Sip, rest),
            "sips" => parse_sip(UriScheme::Sips, rest),
            // RFC 3966: parameters follow the number after ';'.
            "tel" => Ok(Self::Tel(
                rest.split(';').next().unwrap_or_default().to_string(),
            )),
            "mailto" => {
                // RFC 6068: one address, hfields after '?'.
                let address = rest.split('?').next().unwrap_or_default();
                Ok(Self::Mailto(EmailAddress::parse(&percent_decode(
                    address,
                )?)?))
            }
            other => Err(format!("unsupported URI scheme {other:?} in {uri:?}")),
        }
    }

    /// The scheme.
    pub fn scheme(&self) -> UriScheme {
        match self {
            Self::Sip { scheme, .. } => *scheme,
            Self::Tel(_) => UriScheme::Tel,
            Self::Mailto(_) => UriScheme::Mailto,
        }
    }

    /// The host of a `sip:`/`sips:` URI, the domain of a `mailto:` one.
    pub fn domain(&self) -> Option<&str> {
        match self {
            Self::Sip { host, .. } => Some(host),
            Self::Tel(_) => None,
            Self::Mailto(mail) => Some(&mail.domain),
        }
    }
}

fn parse_sip(scheme: UriScheme, rest: &str) -> Result<ImUri, String> {
    // RFC 3261 §19.1.1: sip:user:password@host:port;uri-parameters?headers
    let without_headers = rest.split('?').next().unwrap_or_default();
    let mut params = without_headers.split(';');
    let userinfo_host = params.next().unwrap_or_default();
    let user_is_phone = params.any(|p| p.eq_ignore_ascii_case("user=phone"));
    let (userinfo, hostport) = userinfo_host
        .rsplit_once('@')
        .ok_or_else(|| format!("sip:{rest} has no user part"))?;
    let user = percent_decode(userinfo.split(':').next().unwrap_or_default())?;
    if user.is_empty() {
        return Err(format!("sip:{rest} has an empty user part"));
    }
    let host = strip_port(hostport);
    if host.is_empty() {
        return Err(format!("sip:{rest} has no host"));
    }
    Ok(ImUri::Sip {
        scheme,
        user,
        host: host.to_ascii_lowercase(),
        user_is_phone,
    })
}

fn strip_port(hostport: &str) -> &str {
    if hostport.starts_with('[') {
        // IPv6 reference: [::1]:5060
        return hostport
            .split(']')
            .next()
            .map_or(hostport, |h| &hostport[..h.len() + 1]);
    }
    hostport.split(':').next().unwrap_or_default()
}

/// An e-mail address (RFC 5321 mailbox), domain in lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress {
    /// The local part, as written.
    pub local: String,
    /// The domain, lower case.
    pub domain: String,
}

impl EmailAddress {
    /// Parses `local@domain`, with or without angle brackets.
    pub fn parse(address: &str) -> Result<Self, String> {
        let address = address.trim().trim_start_matches('<').trim_end_matches('>');
        let (local, domain) = address
            .rsplit_once('@')
            .ok_or_else(|| format!("{address:?} is not an e-mail address (no @)"))?;
        Self::new(local, domain)
    }

    /// The e-mail address of a foreign SIP identity `sip:user@host`.
    pub fn from_sip_user(user: &str, host: &str) -> Result<Self, String> {
        Self::new(user, host)
    }

    fn new(local: &str, domain: &str) -> Result<Self, String> {
        check_local_part(local)?;
        check_domain(domain)?;
        Ok(Self {
            local: local.to_string(),
            domain: domain.to_ascii_lowercase(),
        })
    }

    /// The address as an IM identity, `sip:local@domain`.
    pub fn to_sip_uri(&self) -> String {
        sip_uri(&self.local, &self.domain)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

/// RFC 5321 §4.5.3.1.1: at most 64 octets; RFC 5322 §3.4.1 dot-atom text
/// (quoted local parts are not accepted: nobody provisions them, and they
/// cannot be written as SIP user parts without loss). RFC 6531 allows UTF-8.
fn check_local_part(local: &str) -> Result<(), String> {
    if local.is_empty() {
        return Err("the local part is empty".into());
    }
    if local.len() > 64 {
        return Err(format!("local part {local:?} is longer than 64 octets"));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(format!("local part {local:?} has a misplaced dot"));
    }
    let atext =
        |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c) || !c.is_ascii();
    match local.chars().find(|&c| !atext(c)) {
        Some(c) => Err(format!("local part {local:?} holds {c:?}")),
        None => Ok(()),
    }
}

/// RFC 5321 §4.1.2 domain: dot-separated labels of letters, digits and
/// hyphens (UTF-8 labels allowed, RFC 6531), at most 255 octets.
fn check_domain(domain: &str) -> Result<(), String> {
    if domain.is_empty() || domain.len() > 255 {
        return Err(format!("domain {domain:?} is empty or too long"));
    }
    for label in domain.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii());
        if !ok {
            return Err(format!("domain {domain:?} has an invalid label {label:?}"));
        }
    }
    Ok(())
}

/// Undoes `%XX` escapes (RFC 3986 §2.1); the result must be UTF-8.
pub fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent escape in {text:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{text:?} is not UTF-8 once unescaped"))
}

/// `sip:user@host`, the user part escaped.
pub fn sip_uri(user: &str, host: &str) -> String {
    format!("sip:{}@{host}", escape_sip_user(user))
}

/// RFC 3261 §25.1 `user`: unreserved / escaped / user-unreserved.
fn escape_sip_user(user: &str) -> String {
    let mut out = String::with_capacity(user.len());
    for b in user.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-_.!~*'()&=+$,;?/".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
