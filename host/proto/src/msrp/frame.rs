//! The frame types: requests and responses (RFC 4975 §5.1, §7).

use std::fmt;

use super::byte_range::ByteRange;
use super::status::Status;
use super::uri::MsrpUri;

/// One MSRP frame as it travels on the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A SEND, REPORT or extension request.
    Request(Request),
    /// A transaction response.
    Response(Response),
}

impl Frame {
    /// The transaction id from the start line.
    pub fn transaction_id(&self) -> &str {
        match self {
            Frame::Request(request) => &request.transaction_id,
            Frame::Response(response) => &response.transaction_id,
        }
    }
}

/// The request method (RFC 4975 §9 `method`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// `SEND`: carries (a chunk of) a message.
    Send,
    /// `REPORT`: reports delivery status of a message.
    Report,
    /// Any other upper-case method, e.g. `AUTH` from RFC 4976.
    Other(String),
}

impl Method {
    /// The method as written on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Send => "SEND",
            Method::Report => "REPORT",
            Method::Other(name) => name,
        }
    }

    /// Maps a method token to a method; the caller has checked it is `1*UPALPHA`.
    pub(crate) fn from_token(token: &str) -> Self {
        match token {
            "SEND" => Method::Send,
            "REPORT" => Method::Report,
            other => Method::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The end-line flag saying whether more of the message follows (RFC 4975 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Continuation {
    /// `$`: this chunk ends the message.
    Complete,
    /// `+`: more chunks of the message follow.
    More,
    /// `#`: the sender abandons the message.
    Aborted,
}

impl Continuation {
    /// The flag byte written after the transaction id in the end-line.
    pub fn flag(self) -> u8 {
        match self {
            Continuation::Complete => b'$',
            Continuation::More => b'+',
            Continuation::Aborted => b'#',
        }
    }

    /// The continuation for a flag byte, if it is one.
    pub fn from_flag(flag: u8) -> Option<Self> {
        match flag {
            b'$' => Some(Continuation::Complete),
            b'+' => Some(Continuation::More),
            b'#' => Some(Continuation::Aborted),
            _ => None,
        }
    }
}

/// The Failure-Report header value (RFC 4975 §7.1.1, §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureReport {
    /// `yes`: report failures with responses and REPORTs (the default).
    Yes,
    /// `no`: send no failure indication at all.
    No,
    /// `partial`: report failures, but send no 200 responses.
    Partial,
}

impl FailureReport {
    /// The value as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReport::Yes => "yes",
            FailureReport::No => "no",
            FailureReport::Partial => "partial",
        }
    }
}

/// An MSRP request.
///
/// A request has a body section exactly when `content_type` is set or `body`
/// is non-empty; RFC 4975 §7.1 requires a Content-Type whenever it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Transaction id, an `ident` of 4–32 characters (RFC 4975 §9).
    pub transaction_id: String,
    /// The method.
    pub method: Method,
    /// To-Path: the hops still to visit, leftmost first.
    pub to_path: Vec<MsrpUri>,
    /// From-Path: the route back to the sender, leftmost first.
    pub from_path: Vec<MsrpUri>,
    /// Message-ID, shared by all chunks of one message.
    pub message_id: Option<String>,
    /// Byte-Range of this chunk within the message.
    pub byte_range: Option<ByteRange>,
    /// Content-Type of the message body.
    pub content_type: Option<String>,
    /// Success-Report: `yes` is `Some(true)`, `no` is `Some(false)`.
    pub success_report: Option<bool>,
    /// Failure-Report.
    pub failure_report: Option<FailureReport>,
    /// Status, carried by REPORT requests.
    pub status: Option<Status>,
    /// Every other header field as (name, value), in order of appearance.
    ///
    /// Names must not be those of the fields above, or the frame would not
    /// read back the same.
    pub other_headers: Vec<(String, String)>,
    /// The body bytes of this chunk.
    pub body: Vec<u8>,
    /// The end-line flag.
    pub continuation: Continuation,
}

/// An MSRP transaction response. It never has a body (RFC 4975 §9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Transaction id of the request answered.
    pub transaction_id: String,
    /// Three-digit status code (RFC 4975 §10).
    pub code: u16,
    /// Free text after the code, if any.
    pub comment: Option<String>,
    /// To-Path: the previous hop of the request.
    pub to_path: Vec<MsrpUri>,
    /// From-Path: the responder.
    pub from_path: Vec<MsrpUri>,
    /// Every header field other than the two paths, in order of appearance.
    pub other_headers: Vec<(String, String)>,
    /// The end-line flag; `$` in practice.
    pub continuation: Continuation,
}
