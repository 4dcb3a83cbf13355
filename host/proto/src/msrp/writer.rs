//! Serialising frames (RFC 4975 §7.1, §9).

use super::frame::{Continuation, Frame, Request, Response};
use super::uri::MsrpUri;

const CRLF: &[u8] = b"\r\n";

/// Appends the wire form of `frame` to `out`.
///
/// To-Path comes first and From-Path second as RFC 4975 §9 lays out, then
/// the other fields, and Content-Type last as §7.1 requires. A request gets
/// a body section (blank line, body, CRLF) when it has a Content-Type or a
/// non-empty body; [`parse`](super::parse) reads the result back to an equal
/// frame as long as the frame holds values the grammar allows.
pub fn write(frame: &Frame, out: &mut Vec<u8>) {
    match frame {
        Frame::Request(request) => write_request(request, out),
        Frame::Response(response) => write_response(response, out),
    }
}

fn write_request(request: &Request, out: &mut Vec<u8>) {
    start_line(out, &request.transaction_id, request.method.as_str());
    paths(out, &request.to_path, &request.from_path);
    if let Some(id) = &request.message_id {
        header(out, "Message-ID", id);
    }
    if let Some(range) = &request.byte_range {
        header(out, "Byte-Range", &range.to_string());
    }
    if let Some(yes) = request.success_report {
        header(out, "Success-Report", if yes { "yes" } else { "no" });
    }
    if let Some(report) = request.failure_report {
        header(out, "Failure-Report", report.as_str());
    }
    if let Some(status) = &request.status {
        header(out, "Status", &status.to_string());
    }
    for (name, value) in &request.other_headers {
        header(out, name, value);
    }
    // RFC 4975 §7.1: Content-Type is the last header field.
    if let Some(content_type) = &request.content_type {
        header(out, "Content-Type", content_type);
    }
    // RFC 4975 §7.1: the body is set off by a blank line and followed by a
    // CRLF that is not part of it; without a body the end-line comes at once.
    if request.content_type.is_some() || !request.body.is_empty() {
        out.extend_from_slice(CRLF);
        out.extend_from_slice(&request.body);
        out.extend_from_slice(CRLF);
    }
    end_line(out, &request.transaction_id, request.continuation);
}

fn write_response(response: &Response, out: &mut Vec<u8>) {
    // RFC 4975 §9: status-code is three digits.
    let mut status = format!("{:03}", response.code);
    if let Some(comment) = &response.comment {
        status.push(' ');
        status.push_str(comment);
    }
    start_line(out, &response.transaction_id, &status);
    paths(out, &response.to_path, &response.from_path);
    for (name, value) in &response.other_headers {
        header(out, name, value);
    }
    end_line(out, &response.transaction_id, response.continuation);
}

fn start_line(out: &mut Vec<u8>, tid: &str, rest: &str) {
    out.extend_from_slice(b"MSRP ");
    out.extend_from_slice(tid.as_bytes());
    out.push(b' ');
    out.extend_from_slice(rest.as_bytes());
    out.extend_from_slice(CRLF);
}

fn paths(out: &mut Vec<u8>, to_path: &[MsrpUri], from_path: &[MsrpUri]) {
    header(out, "To-Path", &join(to_path));
    header(out, "From-Path", &join(from_path));
}

fn join(uris: &[MsrpUri]) -> String {
    uris.iter()
        .map(MsrpUri::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

fn header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(CRLF);
}

fn end_line(out: &mut Vec<u8>, tid: &str, continuation: Continuation) {
    out.extend_from_slice(b"-------");
    out.extend_from_slice(tid.as_bytes());
    out.push(continuation.flag());
    out.extend_from_slice(CRLF);
}
