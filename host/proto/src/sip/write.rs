//! Writing SIP messages.

use super::message::Message;

/// Writes a message; Content-Length is always written, from the body.
pub fn write(message: &Message, out: &mut Vec<u8>) {
    let (headers, body) = match message {
        Message::Request(r) => {
            out.extend_from_slice(format!("{} {} SIP/2.0\r\n", r.method, r.uri).as_bytes());
            (&r.headers, &r.body)
        }
        Message::Response(r) => {
            out.extend_from_slice(format!("SIP/2.0 {} {}\r\n", r.code, r.reason).as_bytes());
            (&r.headers, &r.body)
        }
    };
    for (name, value) in &headers.0 {
        if name.eq_ignore_ascii_case("Content-Length") {
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        // A value never spans lines here: CR and LF would start a new
        // header (or end the head), so they become spaces.
        out.extend(
            value
                .bytes()
                .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
}
