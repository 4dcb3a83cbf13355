//! Parsing SIP messages from bytes: whole datagrams (UDP) and frames of a
//! byte stream (TCP, framed by Content-Length, RFC 3261 §18.3).

use super::header::{CSeq, NameAddr, Via, canonical_name};
use super::message::{Headers, Message, Method, Request, Response};

/// Why bytes are not an acceptable SIP message. The text is fit for a
/// 400 reason phrase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SipError {
    /// Neither a request line nor a status line.
    #[error("Bad start line {0:?}")]
    StartLine(String),
    /// A header line without a colon, or with a bad name.
    #[error("Malformed header line {0:?}")]
    HeaderLine(String),
    /// A header whose value does not parse (name, value).
    #[error("Invalid {0} header {1:?}")]
    Header(&'static str, String),
    /// A mandatory header is missing (RFC 3261 §8.1.1).
    #[error("Missing {0} header")]
    Missing(&'static str),
    /// Content-Length is not a number.
    #[error("Invalid Content-Length {0:?}")]
    ContentLength(String),
    /// A Request-URI or a header's URI that is not one (the text says why).
    #[error("Invalid URI {0}")]
    Uri(String),
    /// A control character in a header line (RFC 3261 §25.1 allows none
    /// but HTAB).
    #[error("Control character in header {0:?}")]
    Control(String),
    /// The datagram ends before the declared body does.
    #[error("Body is {got} bytes but Content-Length says {declared}")]
    ShortBody {
        /// Body bytes present.
        got: usize,
        /// Content-Length.
        declared: usize,
    },
    /// RFC 3261 §18.3: a stream message must say how long its body is.
    #[error("Content-Length required on a stream transport")]
    NoContentLength,
    /// Over `Limits::max_message_bytes`.
    #[error("Message larger than {0} bytes")]
    TooLarge(usize),
    /// Over `Limits::max_headers`.
    #[error("More than {0} header fields")]
    TooManyHeaders(usize),
    /// The header section is not UTF-8.
    #[error("Header section is not UTF-8")]
    Encoding,
    /// The CSeq names another method than the request line (§8.1.1.5).
    #[error("CSeq method {cseq} does not match request method {method}")]
    CSeqMethod {
        /// The CSeq's method.
        cseq: String,
        /// The request line's method.
        method: String,
    },
}

/// Bounds on what a peer can make the parser hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Whole message, header section and body.
    pub max_message_bytes: usize,
    /// Header fields per message.
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 65_536,
            max_headers: 128,
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Leading CRLFs are keep-alives between messages (RFC 5626 §4.4.1) or
/// stray line ends (RFC 3261 §7.5): skipped.
fn skip_crlf(buf: &[u8]) -> usize {
    let mut i = 0;
    while buf.get(i..i + 2) == Some(b"\r\n") {
        i += 2;
    }
    i
}

/// One message from a byte stream. `Ok(None)`: not complete yet, read more.
/// `Ok(Some((message, consumed)))`: the first `consumed` bytes were it.
pub fn parse_stream(buf: &[u8], limits: &Limits) -> Result<Option<(Message, usize)>, SipError> {
    let skipped = skip_crlf(buf);
    let rest = &buf[skipped..];
    let Some(head_end) = find(rest, b"\r\n\r\n") else {
        if rest.len() > limits.max_message_bytes {
            return Err(SipError::TooLarge(limits.max_message_bytes));
        }
        return Ok(None);
    };
    let (start, headers) = parse_head(&rest[..head_end], limits)?;
    let declared = content_length(&headers)?.ok_or(SipError::NoContentLength)?;
    let total = head_end + 4 + declared;
    if total > limits.max_message_bytes {
        return Err(SipError::TooLarge(limits.max_message_bytes));
    }
    if rest.len() < total {
        return Ok(None);
    }
    let body = rest[head_end + 4..total].to_vec();
    Ok(Some((assemble(start, headers, body)?, skipped + total)))
}

/// A message that is a whole UDP datagram. Without Content-Length the body
/// runs to the end of the datagram; bytes past Content-Length are dropped
/// (RFC 3261 §18.3).
pub fn parse_datagram(buf: &[u8], limits: &Limits) -> Result<Message, SipError> {
    if buf.len() > limits.max_message_bytes {
        return Err(SipError::TooLarge(limits.max_message_bytes));
    }
    let rest = &buf[skip_crlf(buf)..];
    let head_end = find(rest, b"\r\n\r\n").ok_or_else(|| {
        let first = rest.split(|&b| b == b'\n').next().unwrap_or_default();
        SipError::StartLine(String::from_utf8_lossy(first).trim_end().to_string())
    })?;
    let (start, headers) = parse_head(&rest[..head_end], limits)?;
    let available = &rest[head_end + 4..];
    let body = match content_length(&headers)? {
        Some(declared) if declared > available.len() => {
            return Err(SipError::ShortBody {
                got: available.len(),
                declared,
            });
        }
        Some(declared) => available[..declared].to_vec(),
        None => available.to_vec(),
    };
    assemble(start, headers, body)
}

enum StartLine {
    Request { method: Method, uri: String },
    Response { code: u16, reason: String },
}

fn is_token(text: &str) -> bool {
    // RFC 3261 §25.1 token
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
}

fn parse_start(line: &str) -> Result<StartLine, SipError> {
    let bad = || SipError::StartLine(line.to_string());
    if let Some(rest) = line.strip_prefix("SIP/2.0 ") {
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let code: u16 = code
            .parse()
            .ok()
            .filter(|c| (100..700).contains(c) && code.len() == 3)
            .ok_or_else(bad)?;
        return Ok(StartLine::Response {
            code,
            reason: reason.to_string(),
        });
    }
    let mut parts = line.split(' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    if !is_token(method) || uri.is_empty() || version != "SIP/2.0" {
        return Err(bad());
    }
    super::Uri::parse(uri)?;
    Ok(StartLine::Request {
        method: Method::parse(method),
        uri: uri.to_string(),
    })
}

fn parse_head(head: &[u8], limits: &Limits) -> Result<(StartLine, Headers), SipError> {
    let text = std::str::from_utf8(head).map_err(|_| SipError::Encoding)?;
    if let Some(line) = text
        .split("\r\n")
        .find(|line| line.chars().any(|c| c.is_control() && c != '\t'))
    {
        let name = line.split(':').next().unwrap_or_default();
        return Err(SipError::Control(name.escape_debug().to_string()));
    }
    let mut lines = text.split("\r\n");
    let start = parse_start(lines.next().unwrap_or_default())?;
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            // RFC 3261 §7.3.1: a line starting with white space continues
            // the previous header value.
            let (_, value) = headers
                .last_mut()
                .ok_or_else(|| SipError::HeaderLine(line.to_string()))?;
            // Folding is one space (§7.3.1); a blank continuation adds
            // nothing, and a value does not start with the fold.
            let more = line.trim();
            if !more.is_empty() {
                if !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(more);
            }
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| SipError::HeaderLine(line.to_string()))?;
        let name = name.trim_end();
        if !is_token(name) {
            return Err(SipError::HeaderLine(line.to_string()));
        }
        if headers.len() == limits.max_headers {
            return Err(SipError::TooManyHeaders(limits.max_headers));
        }
        headers.push((canonical_name(name), value.trim().to_string()));
    }
    Ok((start, Headers(headers)))
}

fn content_length(headers: &Headers) -> Result<Option<usize>, SipError> {
    // Raw values, not list items: an empty value is an error, not absent.
    let mut values = headers
        .0
        .iter()
        .filter(|(name, _)| name == "Content-Length")
        .map(|(_, value)| value.as_str());
    let Some(first) = values.next() else {
        return Ok(None);
    };
    // Two different lengths would make the framing ambiguous.
    if let Some(other) = values.find(|v| *v != first) {
        return Err(SipError::ContentLength(format!("{first}, {other}")));
    }
    // 1*DIGIT (§20.14): `+5` or ` ` would be read differently by a peer.
    if first.is_empty() || first.len() > 10 || !first.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SipError::ContentLength(first.to_string()));
    }
    first
        .parse()
        .map(Some)
        .map_err(|_| SipError::ContentLength(first.to_string()))
}

fn assemble(start: StartLine, headers: Headers, body: Vec<u8>) -> Result<Message, SipError> {
    Ok(match start {
        StartLine::Request { method, uri } => Message::Request(Request {
            method,
            uri,
            headers,
            body,
        }),
        StartLine::Response { code, reason } => Message::Response(Response {
            code,
            reason,
            headers,
            body,
        }),
    })
}

impl Request {
    /// Checks the header fields every request must have (RFC 3261 §8.1.1)
    /// and that the ones the gateway relies on parse, so that a handler can
    /// use them without further checks; the error is a 400 reason.
    pub fn validate(&self) -> Result<(), SipError> {
        let via = self.headers.get("Via").ok_or(SipError::Missing("Via"))?;
        Via::parse(via)?;
        self.headers.get("From").ok_or(SipError::Missing("From"))?;
        self.headers.get("To").ok_or(SipError::Missing("To"))?;
        // The identities the gateway turns into mail addresses: their user
        // parts must not decode to controls (`%0D%0A` would become a
        // header break in the mail).
        for name in ["From", "To", "P-Asserted-Identity"] {
            for value in self.headers.get_all(name) {
                let addr = NameAddr::parse(value)?;
                let uri = super::Uri::parse(&addr.uri)?;
                if uri.user.is_some_and(|user| super::unescape(user).is_none()) {
                    return Err(SipError::Header(name, value.to_string()));
                }
            }
        }
        if self.headers.get("Call-ID").is_none_or(str::is_empty) {
            return Err(SipError::Missing("Call-ID"));
        }
        let cseq = CSeq::parse(self.headers.get("CSeq").ok_or(SipError::Missing("CSeq"))?)?;
        // ACK and CANCEL carry the CSeq number of the INVITE with their own
        // method; any other mismatch is malformed (§8.1.1.5).
        if cseq.method != self.method.as_str() {
            return Err(SipError::CSeqMethod {
                cseq: cseq.method,
                method: self.method.to_string(),
            });
        }
        // Fields that occur once (§20): two that differ leave it open which
        // one a proxy on the path believes.
        for name in [
            "Max-Forwards",
            "Call-ID",
            "CSeq",
            "From",
            "To",
            "Content-Type",
        ] {
            let mut values = self.headers.0.iter().filter(|(n, _)| n == name);
            if let (Some(first), Some(_)) = (values.next(), values.next()) {
                return Err(SipError::Header(name, format!("{} (twice)", first.1)));
            }
        }
        if let Some(mf) = self.headers.get("Max-Forwards") {
            self.max_forwards()
                .ok_or_else(|| SipError::Header("Max-Forwards", mf.to_string()))?;
        }
        Ok(())
    }

    /// Max-Forwards (RFC 3261 §20.22: 1*DIGIT; values up to 255 are
    /// meaningful), `None` when absent or not a number.
    pub fn max_forwards(&self) -> Option<u8> {
        let value = self.headers.get("Max-Forwards")?;
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        value.parse().ok()
    }

    /// The first (topmost) Via.
    pub fn top_via(&self) -> Option<Via> {
        self.headers
            .get_all("Via")
            .first()
            .and_then(|v| Via::parse(v).ok())
    }
}
