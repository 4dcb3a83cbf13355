//! SIP message types.

use std::fmt;

/// Request methods the gateway knows; others are kept by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// RFC 3261 §13
    Invite,
    /// RFC 3261 §13.2.2.4, §17.1.1.3
    Ack,
    /// RFC 3261 §15
    Bye,
    /// RFC 3261 §9
    Cancel,
    /// RFC 3428
    Message,
    /// RFC 3261 §11
    Options,
    /// Any other method, by name.
    Other(String),
}

impl Method {
    /// The method of a request line's token.
    pub fn parse(token: &str) -> Self {
        // RFC 3261 §7.1: method names are case-sensitive.
        match token {
            "INVITE" => Self::Invite,
            "ACK" => Self::Ack,
            "BYE" => Self::Bye,
            "CANCEL" => Self::Cancel,
            "MESSAGE" => Self::Message,
            "OPTIONS" => Self::Options,
            other => Self::Other(other.to_string()),
        }
    }

    /// The method's name on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Invite => "INVITE",
            Self::Ack => "ACK",
            Self::Bye => "BYE",
            Self::Cancel => "CANCEL",
            Self::Message => "MESSAGE",
            Self::Options => "OPTIONS",
            Self::Other(name) => name,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Header fields in order, names in their canonical long form (compact
/// forms are expanded when parsing). Values are unfolded, trimmed text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<(String, String)>);

impl Headers {
    /// The first value of a header (name compared case-insensitively, any
    /// form).
    pub fn get(&self, name: &str) -> Option<&str> {
        let name = super::canonical_name(name);
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
            .map(|(_, v)| v.as_str())
    }

    /// All values of a header, in order; comma-separated values of headers
    /// that allow lists (RFC 3261 §7.3.1) are split.
    pub fn get_all(&self, name: &str) -> Vec<&str> {
        let name = super::canonical_name(name);
        self.0
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(&name))
            .flat_map(|(_, v)| split_list(v))
            .collect()
    }

    /// Appends a header.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// Replaces every value of a header with one.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.remove(name);
        self.push(name.to_string(), value);
    }

    /// Removes every value of a header.
    pub fn remove(&mut self, name: &str) {
        let name = super::canonical_name(name);
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
    }
}

/// Splits a header value at commas that are outside quotes and angle
/// brackets.
fn split_list(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut quoted, mut angle, mut escaped) = (false, false, false);
    let mut start = 0;
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                parts.push(value[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(value[start..].trim());
    parts.retain(|p| !p.is_empty());
    parts
}

/// A SIP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The Request-URI.
    pub uri: String,
    /// The header fields, in order.
    pub headers: Headers,
    /// The body (its length is the Content-Length).
    pub body: Vec<u8>,
}

/// A SIP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub code: u16,
    /// The reason phrase.
    pub reason: String,
    /// The header fields, in order.
    pub headers: Headers,
    /// The body.
    pub body: Vec<u8>,
}

/// A SIP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

impl Message {
    /// The header fields of either kind.
    pub fn headers(&self) -> &Headers {
        match self {
            Self::Request(r) => &r.headers,
            Self::Response(r) => &r.headers,
        }
    }
}

impl Response {
    /// A response to `request` (RFC 3261 §8.2.6.2): Via, From, Call-ID and
    /// CSeq copied, To copied with `to_tag` added when it has no tag yet
    /// (not on 100, §8.2.6.2).
    pub fn to(request: &Request, code: u16, reason: &str, to_tag: &str) -> Self {
        let mut headers = Headers::default();
        // RFC 3261 §12.1.1: a UAS copies the Record-Route of a request that
        // makes a dialog into its answers that make it (101–299), so that
        // the peer's ACK and BYE go through the proxies that asked to stay.
        let makes_dialog = request.method == Method::Invite && (101..300).contains(&code);
        for (name, value) in &request.headers.0 {
            match name.as_str() {
                "Via" | "From" | "Call-ID" | "CSeq" => headers.push(name.clone(), value.clone()),
                "Record-Route" if makes_dialog => headers.push(name.clone(), value.clone()),
                "To" => {
                    let has_tag =
                        super::NameAddr::parse(value).is_ok_and(|to| to.param("tag").is_some());
                    if has_tag || code == 100 {
                        headers.push(name.clone(), value.clone());
                    } else {
                        headers.push(name.clone(), format!("{value};tag={to_tag}"));
                    }
                }
                _ => {}
            }
        }
        Self {
            code,
            reason: reason.to_string(),
            headers,
            body: Vec::new(),
        }
    }
}
