//! `interwork_proto::smtp::SmtpSession` driven by arbitrary client bytes.
//!
//! The first two bytes choose the session (message size limit, STARTTLS
//! offered) and how the rest is cut into TCP reads; the rest is what the
//! client sends. Every `Deliver` is answered at once (250, 451 or 550,
//! chosen by the transaction). Checks:
//! * no panic;
//! * every byte the session writes is whole reply lines (RFC 5321 §4.2:
//!   three digits, space or hyphen, text without CR or LF, CRLF), and a
//!   multi-line reply keeps one code;
//! * every transaction handed over has a HELO, exactly one recipient the
//!   check accepted, and data within the size limit;
//! * nothing comes out after `Close`;
//! * the transcript does not depend on how the bytes were cut into reads
//!   (the same replies, transactions and close), unless STARTTLS started:
//!   RFC 3207 §4.2 has the bytes pipelined behind it in the same read
//!   discarded, which depends on the read boundaries by design.

use interwork_proto::smtp::{
    Capabilities, MAX_RECIPIENTS, Output, RecipientCheck, Reply, SmtpSession, Transaction,
};

struct Domain;

impl RecipientCheck for Domain {
    fn check(&self, _mail_from: &str, address: &str) -> Result<(), Reply> {
        match address.rsplit_once('@') {
            Some(("nobody", "im.example.test")) => Err(Reply::new(550, "5.1.1", "User unknown")),
            Some((_, "im.example.test")) => Ok(()),
            _ => Err(Reply::new(550, "5.7.1", "Relaying denied")),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Event {
    Sent(Vec<u8>),
    Deliver(Transaction),
    Close,
    StartTls,
}

fn answer(tx: &Transaction) -> Reply {
    match tx.data.len() % 3 {
        0 => Reply::new(250, "2.0.0", "Delivered"),
        1 => Reply::new(451, "4.4.1", "Try later"),
        _ => Reply::new(550, "5.1.1", "No such user"),
    }
}

fn check_reply_lines(bytes: &[u8]) {
    let mut code: Option<&[u8]> = None;
    let mut rest = bytes;
    while !rest.is_empty() {
        let end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .unwrap_or_else(|| {
                panic!(
                    "a reply line without CRLF: {:?}",
                    String::from_utf8_lossy(rest)
                )
            });
        let line = &rest[..end];
        assert!(
            line.len() >= 4
                && line[..3].iter().all(u8::is_ascii_digit)
                && (line[3] == b' ' || line[3] == b'-'),
            "not a reply line: {:?}",
            String::from_utf8_lossy(line)
        );
        assert!(
            !line.contains(&b'\r') && !line.contains(&b'\n'),
            "CR or LF inside a reply line: {:?}",
            String::from_utf8_lossy(line)
        );
        if let Some(code) = code {
            assert_eq!(code, &line[..3], "one code per multi-line reply");
        }
        code = (line[3] == b'-').then_some(&line[..3]);
        rest = &rest[end + 2..];
    }
    assert!(code.is_none(), "a multi-line reply without its last line");
}

/// Runs the session over `input` cut into reads of `sizes` (cycled).
fn drive(caps: &Capabilities, input: &[u8], sizes: &[usize]) -> Vec<Event> {
    let mut session = SmtpSession::new(caps.clone());
    let mut events = vec![Event::Sent(session.greeting())];
    let mut outputs = Vec::new();
    let mut rest = input;
    let mut size = sizes.iter().cycle();
    let mut closed = false;
    while !rest.is_empty() {
        let n = (*size.next().expect("cycled")).clamp(1, rest.len());
        let (read, after) = rest.split_at(n);
        rest = after;
        outputs.extend(session.feed(read, &Domain));
        while let Some(output) = (!outputs.is_empty()).then(|| outputs.remove(0)) {
            assert!(!closed, "output after Close: {output:?}");
            match output {
                Output::Send(bytes) => {
                    check_reply_lines(&bytes);
                    match events.last_mut() {
                        Some(Event::Sent(sent)) => sent.extend_from_slice(&bytes),
                        _ => events.push(Event::Sent(bytes)),
                    }
                }
                Output::Deliver(tx) => {
                    assert!(
                        (1..=MAX_RECIPIENTS).contains(&tx.rcpt_to.len()),
                        "{} recipients",
                        tx.rcpt_to.len()
                    );
                    for (i, to) in tx.rcpt_to.iter().enumerate() {
                        assert!(Domain.check(&tx.mail_from, to).is_ok(), "{:?}", tx.rcpt_to);
                        assert!(
                            !tx.rcpt_to[..i].iter().any(|t| t.eq_ignore_ascii_case(to)),
                            "a recipient named twice: {:?}",
                            tx.rcpt_to
                        );
                    }
                    assert!(tx.data.len() <= caps.max_size, "{} bytes", tx.data.len());
                    let reply = answer(&tx);
                    events.push(Event::Deliver(tx));
                    outputs.splice(0..0, session.delivered(reply, &Domain));
                }
                Output::Close => {
                    closed = true;
                    events.push(Event::Close);
                }
                Output::StartTls => events.push(Event::StartTls),
            }
        }
    }
    events
}

/// One fuzz input.
pub fn run(data: &[u8]) {
    let [shape, cut, input @ ..] = data else {
        return;
    };
    let caps = Capabilities {
        hostname: "gw.example.test".into(),
        max_size: 16 + usize::from(shape >> 1) * 8,
        starttls: shape & 1 == 1,
    };
    let whole = drive(&caps, input, &[input.len().max(1)]);
    let sizes = [usize::from(cut % 7) + 1, usize::from(cut / 7) + 1, 1, 3];
    let pieces = drive(&caps, input, &sizes);
    if !whole.contains(&Event::StartTls) && !pieces.contains(&Event::StartTls) {
        assert_eq!(whole, pieces, "the transcript depends on the reads");
    }
}
