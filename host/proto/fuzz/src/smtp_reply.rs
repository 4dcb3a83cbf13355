//! The SMTP client's wire format (`interwork_proto::smtp::client`) on
//! arbitrary bytes: the input is what a server sends, read reply after
//! reply (up to 64), and also a message the client sends after DATA.
//! Checks:
//! * no panic (`parse`, `Extensions::of_ehlo`, `text`, `Display`);
//! * `0 < consumed <= input.len()`; every strict prefix of a reply is
//!   `Ok(None)`, "more bytes", never an error or another reply;
//! * the bounds hold: at most `MAX_LINES` lines, none of `MAX_LINE` or more;
//! * round trip: the reply written back as lines (code, `-` or space, the
//!   enhanced code, the text, CRLF) parses to the same reply, when those
//!   lines fit in `MAX_LINE`;
//! * `write_data` then the gateway's own server session (smtp-proto's
//!   unstuffing) gives back the message byte for byte, CRLF added when it
//!   did not end in one, for any message whose CR and LF come as CRLF
//!   (what the gateway writes).

use interwork_proto::smtp::client::{Extensions, MAX_LINE, MAX_LINES, Response, parse, write_data};
use interwork_proto::smtp::{Capabilities, Output, RecipientCheck, Reply, SmtpSession};

fn written(reply: &Response) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, line) in reply.lines.iter().enumerate() {
        let sep = if i + 1 == reply.lines.len() { ' ' } else { '-' };
        out.extend_from_slice(format!("{}{sep}", reply.code).as_bytes());
        if let Some(enhanced) = reply.enhanced {
            out.extend_from_slice(format!("{enhanced} ").as_bytes());
        }
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn replies(input: &[u8]) {
    let mut rest = input;
    for _ in 0..64 {
        let Ok(Some((reply, used))) = parse(rest) else {
            return;
        };
        assert!(
            used > 0 && used <= rest.len(),
            "consumed {used} of {}",
            rest.len()
        );
        for cut in [used - 1, used / 2] {
            assert_eq!(parse(&rest[..cut]), Ok(None), "prefix of {cut} bytes");
        }
        assert!(!reply.lines.is_empty() && reply.lines.len() <= MAX_LINES);
        assert!((200..600).contains(&reply.code), "{}", reply.code);
        let _ = (Extensions::of_ehlo(&reply), reply.text(), reply.to_string());
        let again = written(&reply);
        let fits = again
            .split(|&b| b == b'\n')
            .all(|line| line.len() < MAX_LINE);
        if fits {
            assert_eq!(
                parse(&again),
                Ok(Some((reply.clone(), again.len()))),
                "{:?}",
                String::from_utf8_lossy(&again)
            );
        }
        rest = &rest[used..];
    }
}

struct Anyone;

impl RecipientCheck for Anyone {
    fn check(&self, _mail_from: &str, _: &str) -> Result<(), Reply> {
        Ok(())
    }
}

/// Whether every CR is followed by LF and every LF preceded by CR.
fn crlf_only(message: &[u8]) -> bool {
    message.iter().enumerate().all(|(i, &b)| match b {
        b'\r' => message.get(i + 1) == Some(&b'\n'),
        b'\n' => i > 0 && message[i - 1] == b'\r',
        _ => true,
    })
}

fn data(message: &[u8]) {
    let mut out = Vec::new();
    write_data(message, &mut out);
    assert!(out.ends_with(b"\r\n.\r\n") || out == b".\r\n");
    if !crlf_only(message) {
        return;
    }
    let mut session = SmtpSession::new(Capabilities {
        hostname: "mx.example.test".into(),
        max_size: message.len() + 16,
        starttls: false,
    });
    let mut input =
        b"EHLO gw.example.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n".to_vec();
    input.extend_from_slice(&out);
    let delivered: Vec<_> = session
        .feed(&input, &Anyone)
        .into_iter()
        .filter_map(|o| match o {
            Output::Deliver(tx) => Some(tx.data),
            _ => None,
        })
        .collect();
    let mut expect = message.to_vec();
    if !expect.is_empty() && !expect.ends_with(b"\r\n") {
        expect.extend_from_slice(b"\r\n");
    }
    assert_eq!(delivered, [expect], "{:?}", String::from_utf8_lossy(&out));
}

/// One fuzz input.
pub fn run(input: &[u8]) {
    replies(input);
    data(input);
}
