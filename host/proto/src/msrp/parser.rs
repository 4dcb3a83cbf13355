//! Incremental frame parser (RFC 4975 §7.1, §9).

use super::error::MsrpError;
use super::frame::{Continuation, Frame, Method, Request, Response};
use super::header_fields::HeaderFields;
use super::limits::Limits;
use super::start_line::{MAGIC, StartLine, check_partial_start_line, parse_start_line};

const CRLF: &[u8] = b"\r\n";
/// The seven hyphens that open every end-line (RFC 4975 §7.1).
const DASHES: &[u8] = b"-------";
/// RFC 4975 §7.1: non-SEND requests are not interruptible, so their bodies
/// must not exceed 10240 octets.
const NON_SEND_MAX_BODY: usize = 10240;

/// Parses the frame at the start of `buf`.
///
/// Returns `Ok(None)` while `buf` holds only a prefix of a frame (read more
/// and call again with the grown buffer), and `Ok(Some((frame, consumed)))`
/// once a whole frame is there; `consumed` bytes belong to it and the next
/// frame starts right after. Malformed input, or input that outgrows
/// `limits` before its end-line arrives, is an error. The parser keeps no
/// state between calls, so each call rescans the buffer; the limits bound
/// that work.
pub fn parse(buf: &[u8], limits: &Limits) -> Result<Option<(Frame, usize)>, MsrpError> {
    // Fail fast on anything that cannot become "MSRP ".
    let seen = buf.len().min(MAGIC.len());
    if buf.get(..seen) != MAGIC.get(..seen) {
        return Err(MsrpError::NotMsrp);
    }
    let header_too_large = MsrpError::HeaderTooLarge {
        limit: limits.max_header_bytes,
    };

    let start_window = buf.len().min(limits.max_header_bytes);
    let Some(start_end) = find(buf, 0, start_window, CRLF) else {
        if buf.len() >= limits.max_header_bytes {
            return Err(header_too_large);
        }
        check_partial_start_line(buf)?;
        return Ok(None);
    };
    let start = parse_start_line(buf.get(..start_end).unwrap_or_default())?;
    let tid = start.tid().as_bytes();
    // CRLF "-------" tid flag CRLF
    let end_line_len = CRLF.len() + DASHES.len() + tid.len() + 1 + CRLF.len();
    // The end-line of a body-less frame sits right after the headers, so the
    // header scan may look that much further than the header limit.
    let header_scan_cap = limits.max_header_bytes.saturating_add(end_line_len);
    let is_request = matches!(start, StartLine::Request { .. });

    let mut fields = HeaderFields::default();
    let mut header_count = 0usize;
    let mut pos = start_end + CRLF.len();
    let body_start = loop {
        let scan_end = buf.len().min(header_scan_cap);
        let Some(line_end) = find(buf, pos, scan_end, CRLF) else {
            if buf.len() >= header_scan_cap {
                return Err(header_too_large);
            }
            return Ok(None);
        };
        let line = buf.get(pos..line_end).unwrap_or_default();
        let next = line_end + CRLF.len();
        // RFC 4975 §7.1: without a body the end-line follows the headers directly.
        if let Some(continuation) = end_line_flag(line, tid) {
            if pos > limits.max_header_bytes {
                return Err(header_too_large);
            }
            return finish(start, fields, None, continuation).map(|frame| Some((frame, next)));
        }
        if next > limits.max_header_bytes {
            return Err(header_too_large);
        }
        if line.is_empty() {
            break next;
        }
        header_count += 1;
        if header_count > limits.max_headers {
            return Err(MsrpError::TooManyHeaders {
                limit: limits.max_headers,
            });
        }
        fields.add_line(line, is_request)?;
        pos = next;
    };

    let max_body = match &start {
        // RFC 4975 §9: msrp-response = resp-start headers end-line, no body.
        StartLine::Response { .. } => return Err(MsrpError::ResponseWithBody),
        StartLine::Request {
            method: Method::Send,
            ..
        } => limits.max_body_bytes,
        StartLine::Request { .. } => limits.max_body_bytes.min(NON_SEND_MAX_BODY),
    };
    match find_end_line(buf, body_start, max_body, tid)? {
        Some((body_end, continuation, consumed)) => {
            let body = buf.get(body_start..body_end).unwrap_or_default();
            finish(start, fields, Some(body), continuation).map(|frame| Some((frame, consumed)))
        }
        None => Ok(None),
    }
}

/// Searches for `CRLF "-------" tid flag CRLF` after the body start
/// (RFC 4975 §7.1: the end-line is preceded by a CRLF that is not part of
/// the body). Returns the body end, the flag and the frame length.
fn find_end_line(
    buf: &[u8],
    body_start: usize,
    max_body: usize,
    tid: &[u8],
) -> Result<Option<(usize, Continuation, usize)>, MsrpError> {
    let needle = [CRLF, DASHES, tid].concat();
    let tail_len = 1 + CRLF.len();
    // Past this point the body would be over the limit, so stop waiting.
    let limit_end = body_start
        .saturating_add(max_body)
        .saturating_add(needle.len() + tail_len);
    let scan_end = buf.len().min(limit_end);
    let mut from = body_start;
    while let Some(at) = find(buf, from, scan_end, &needle) {
        let flag_at = at + needle.len();
        if flag_at + tail_len > scan_end {
            // The candidate is cut off by the end of the data; wait for more.
            break;
        }
        if let Some(&[flag, b'\r', b'\n']) = buf.get(flag_at..flag_at + tail_len)
            && let Some(continuation) = Continuation::from_flag(flag)
        {
            return Ok(Some((at, continuation, flag_at + tail_len)));
        }
        // Body bytes that merely look like the start of an end-line.
        from = at + 1;
    }
    if buf.len() >= limit_end {
        return Err(MsrpError::BodyTooLarge { limit: max_body });
    }
    Ok(None)
}

/// The flag of `line` if it is `"-------" tid flag` for this transaction.
fn end_line_flag(line: &[u8], tid: &[u8]) -> Option<Continuation> {
    let rest = line.strip_prefix(DASHES)?.strip_prefix(tid)?;
    match rest {
        [flag] => Continuation::from_flag(*flag),
        _ => None,
    }
}

/// Builds the frame and checks what only the whole frame can show.
fn finish(
    start: StartLine,
    fields: HeaderFields,
    body: Option<&[u8]>,
    continuation: Continuation,
) -> Result<Frame, MsrpError> {
    // RFC 4975 §9: every request and response starts with To-Path and From-Path.
    let to_path = fields.to_path.ok_or(MsrpError::MissingHeader("To-Path"))?;
    let from_path = fields
        .from_path
        .ok_or(MsrpError::MissingHeader("From-Path"))?;
    match start {
        StartLine::Response { tid, code, comment } => Ok(Frame::Response(Response {
            transaction_id: tid,
            code,
            comment,
            to_path,
            from_path,
            other_headers: fields.other,
            continuation,
        })),
        StartLine::Request { tid, method } => {
            // RFC 4975 §7.1: a request with a body must have a Content-Type.
            if body.is_some() && fields.content_type.is_none() {
                return Err(MsrpError::MissingContentType);
            }
            Ok(Frame::Request(Request {
                transaction_id: tid,
                method,
                to_path,
                from_path,
                message_id: fields.message_id,
                byte_range: fields.byte_range,
                content_type: fields.content_type,
                success_report: fields.success_report,
                failure_report: fields.failure_report,
                status: fields.status,
                other_headers: fields.other,
                body: body.map(<[u8]>::to_vec).unwrap_or_default(),
                continuation,
            }))
        }
    }
}

/// Position of the first `needle` inside `buf[from..to]`, as an index into `buf`.
fn find(buf: &[u8], from: usize, to: usize, needle: &[u8]) -> Option<usize> {
    let haystack = buf.get(from..to)?;
    if needle.is_empty() {
        return Some(from);
    }
    // Two-way/SIMD search: the body of a 64 KiB chunk is scanned at memory
    // speed, not compared window by window.
    memchr::memmem::find(haystack, needle).map(|offset| from + offset)
}
