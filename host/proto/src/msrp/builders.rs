//! Constructors for the requests and responses the gateway originates.

use super::byte_range::ByteRange;
use super::error::MsrpError;
use super::frame::{Continuation, FailureReport, Method, Request, Response};
use super::status::Status;
use super::uri::MsrpUri;

impl Request {
    /// A request with the given start line and paths and nothing else:
    /// no optional headers, no body, end-line flag `$`.
    pub fn new(
        transaction_id: impl Into<String>,
        method: Method,
        to_path: Vec<MsrpUri>,
        from_path: Vec<MsrpUri>,
    ) -> Self {
        Self {
            transaction_id: transaction_id.into(),
            method,
            to_path,
            from_path,
            message_id: None,
            byte_range: None,
            content_type: None,
            success_report: None,
            failure_report: None,
            status: None,
            other_headers: Vec::new(),
            body: Vec::new(),
            continuation: Continuation::Complete,
        }
    }

    /// A SEND carrying a whole message in one chunk, `Byte-Range: 1-n/n`.
    ///
    /// RFC 4975 §7.1.1: every SEND has a Message-ID, and the byte range lets
    /// the receiver know the message is complete. Use [`chunk`](super::chunk)
    /// for messages that must be split.
    pub fn send(
        transaction_id: impl Into<String>,
        to_path: Vec<MsrpUri>,
        from_path: Vec<MsrpUri>,
        message_id: impl Into<String>,
        content_type: impl Into<String>,
        body: Vec<u8>,
    ) -> Self {
        let len = u64::try_from(body.len()).unwrap_or(u64::MAX);
        Self {
            message_id: Some(message_id.into()),
            byte_range: Some(ByteRange::whole(len)),
            content_type: Some(content_type.into()),
            body,
            ..Self::new(transaction_id, Method::Send, to_path, from_path)
        }
    }

    /// A REPORT about `byte_range` of message `message_id` (RFC 4975 §7.1.2):
    /// it carries the Message-ID, Byte-Range and Status, and no body.
    pub fn report(
        transaction_id: impl Into<String>,
        to_path: Vec<MsrpUri>,
        from_path: Vec<MsrpUri>,
        message_id: impl Into<String>,
        byte_range: ByteRange,
        status: Status,
    ) -> Self {
        Self {
            message_id: Some(message_id.into()),
            byte_range: Some(byte_range),
            status: Some(status),
            ..Self::new(transaction_id, Method::Report, to_path, from_path)
        }
    }

    /// A REPORT answering the SEND `send` (RFC 4975 §7.1.2, §7.1.3).
    ///
    /// The REPORT travels back along the SEND's whole From-Path, and comes
    /// from the SEND's final destination, the last URI of its To-Path.
    pub fn report_for(
        send: &Request,
        transaction_id: impl Into<String>,
        byte_range: ByteRange,
        status: Status,
    ) -> Result<Self, MsrpError> {
        let message_id = send
            .message_id
            .clone()
            .ok_or(MsrpError::MissingHeader("Message-ID"))?;
        let reporter = send.to_path.last().cloned().into_iter().collect();
        Ok(Self::report(
            transaction_id,
            send.from_path.clone(),
            reporter,
            message_id,
            byte_range,
            status,
        ))
    }

    /// Whether a transaction response with `code` should be sent for this request.
    ///
    /// RFC 4975 §7.1.2: REPORT requests are never answered. §7.1.1/§7.2:
    /// `Failure-Report: no` asks for no response at all, and `partial` for
    /// error responses only.
    pub fn expects_response(&self, code: u16) -> bool {
        if self.method == Method::Report {
            return false;
        }
        match self.failure_report {
            Some(FailureReport::No) => false,
            Some(FailureReport::Partial) => code != 200,
            Some(FailureReport::Yes) | None => true,
        }
    }
}

impl Response {
    /// The transaction response to `request` (RFC 4975 §7.2).
    ///
    /// Responses go back one hop only: the To-Path is just the first URI of
    /// the request's From-Path (the previous hop), and the From-Path is just
    /// the responder, the first URI of the request's To-Path.
    pub fn to_request(request: &Request, code: u16, comment: Option<&str>) -> Self {
        Self {
            transaction_id: request.transaction_id.clone(),
            code,
            comment: comment.map(str::to_owned),
            to_path: request.from_path.first().cloned().into_iter().collect(),
            from_path: request.to_path.first().cloned().into_iter().collect(),
            other_headers: Vec::new(),
            continuation: Continuation::Complete,
        }
    }
}
