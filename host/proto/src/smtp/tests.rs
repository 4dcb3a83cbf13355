//! The SMTP state machine driven in memory, one exchange per line, as
//! Stalwart's inbound tests read.

use super::*;

struct Domains;

impl RecipientCheck for Domains {
    fn check(&self, _mail_from: &str, address: &str) -> Result<(), Reply> {
        match address.rsplit_once('@') {
            Some(("nobody", "im.example.test")) => Err(Reply::new(550, "5.1.1", "User unknown")),
            Some(("broken", "im.example.test")) => Err(Reply::new(451, "4.3.0", "Try again later")),
            Some((_, "im.example.test")) => Ok(()),
            _ => Err(Reply::new(550, "5.7.1", "Relaying denied")),
        }
    }
}

struct Client {
    session: SmtpSession,
    delivered: Vec<Transaction>,
    closed: bool,
    tls_started: bool,
}

impl Client {
    fn new(max_size: usize) -> Self {
        let session = SmtpSession::new(Capabilities {
            hostname: "gw.example.test".into(),
            max_size,
            starttls: false,
        });
        assert_eq!(
            session.greeting(),
            b"220 gw.example.test ESMTP Interwork\r\n"
        );
        Self {
            session,
            delivered: Vec::new(),
            closed: false,
            tls_started: false,
        }
    }

    fn text(&mut self, outputs: Vec<Output>) -> String {
        let mut text = String::new();
        for output in outputs {
            match output {
                Output::Send(bytes) => text.push_str(&String::from_utf8(bytes).unwrap()),
                Output::Deliver(t) => self.delivered.push(t),
                Output::Close => self.closed = true,
                Output::StartTls => self.tls_started = true,
            }
        }
        text
    }

    /// Sends bytes; returns everything the server wrote.
    fn send(&mut self, bytes: &str) -> String {
        let outputs = self.session.feed(bytes.as_bytes(), &Domains);
        self.text(outputs)
    }

    /// Sends a command line; asserts the reply starts with `expect`.
    fn cmd(&mut self, line: &str, expect: &str) {
        let reply = self.send(&format!("{line}\r\n"));
        assert!(
            reply.starts_with(expect),
            "{line:?} → {reply:?}, expected {expect:?}"
        );
    }

    fn deliver_with(&mut self, reply: Reply) -> String {
        let outputs = self.session.delivered(reply, &Domains);
        self.text(outputs)
    }
}

#[test]
fn a_whole_transaction() {
    let mut c = Client::new(10_000);
    let ehlo = c.send("EHLO mail.example.org\r\n");
    assert_eq!(
        ehlo,
        "250-gw.example.test greets you\r\n250-SIZE 10000\r\n250-PIPELINING\r\n250-8BITMIME\r\n\
250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250 DSN\r\n"
    );
    c.cmd(
        "MAIL FROM:<bob@mail.example.org> SIZE=100 BODY=8BITMIME",
        "250 2.1.0",
    );
    c.cmd("RCPT TO:<alice@im.example.test>", "250 2.1.5");
    c.cmd("DATA", "354 ");
    // Dot-stuffed line, then the end of data; the DATA reply waits.
    let reply = c.send("Subject: hi\r\n\r\n..leading dot\r\nbody\r\n.\r\n");
    assert_eq!(reply, "");
    assert_eq!(c.delivered.len(), 1);
    let t = &c.delivered[0];
    assert_eq!(t.helo, "mail.example.org");
    assert_eq!(t.mail_from, "bob@mail.example.org");
    assert_eq!(t.rcpt_to, ["alice@im.example.test"]);
    assert_eq!(
        String::from_utf8_lossy(&t.data),
        "Subject: hi\r\n\r\n.leading dot\r\nbody\r\n"
    );
    assert_eq!(
        c.deliver_with(Reply::new(250, "2.0.0", "Delivered as IM")),
        "250 2.0.0 Delivered as IM\r\n"
    );
    c.cmd("QUIT", "221 2.0.0");
    assert!(c.closed);
}

#[test]
fn pipelined_commands_are_answered_in_order() {
    let mut c = Client::new(10_000);
    c.cmd("EHLO x", "250-");
    let replies = c.send(
        "MAIL FROM:<bob@mail.example.org>\r\nRCPT TO:<alice@im.example.test>\r\nDATA\r\nhello\r\n.\r\nRSET\r\nNOOP\r\n",
    );
    assert_eq!(
        replies,
        "250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n354 Start mail input; end with <CRLF>.<CRLF>\r\n"
    );
    // RSET and NOOP wait behind the pending DATA reply.
    let after = c.deliver_with(Reply::new(451, "4.4.1", "IM system unreachable"));
    assert_eq!(
        after,
        "451 4.4.1 IM system unreachable\r\n250 2.0.0 Reset\r\n250 2.0.0 OK\r\n"
    );
}

#[test]
fn policy_relay_denial_unknown_users_and_one_recipient() {
    let mut c = Client::new(10_000);
    c.cmd("EHLO x", "250-");
    c.cmd("RCPT TO:<alice@im.example.test>", "503 5.5.1");
    c.cmd("MAIL FROM:<bob@mail.example.org>", "250 2.1.0");
    c.cmd("MAIL FROM:<bob@mail.example.org>", "503 5.5.1 Nested");
    c.cmd(
        "RCPT TO:<victim@elsewhere.example>",
        "550 5.7.1 Relaying denied",
    );
    c.cmd("RCPT TO:<nobody@im.example.test>", "550 5.1.1");
    c.cmd("RCPT TO:<broken@im.example.test>", "451 4.3.0");
    c.cmd("DATA", "554 5.5.1 No valid recipients");
    c.cmd("RCPT TO:<alice@im.example.test>", "250 2.1.5");
    c.cmd("RCPT TO:<carol@im.example.test>", "250 2.1.5");
    c.cmd(
        "RCPT TO:<Alice@im.example.test>",
        "250 2.1.5 Recipient OK (already",
    );
    for i in 2..100 {
        c.cmd(&format!("RCPT TO:<u{i}@im.example.test>"), "250 2.1.5");
    }
    c.cmd("RCPT TO:<one-too-many@im.example.test>", "452 4.5.3");
    c.cmd("RSET", "250 2.0.0");
    c.cmd("DATA", "503 5.5.1");
}

#[test]
fn bad_commands_get_clear_errors() {
    let mut c = Client::new(10_000);
    c.cmd(
        "MAIL FROM:<bob@mail.example.org>",
        "503 5.5.1 Say EHLO first",
    );
    c.cmd("HELO client.example.org", "250 gw.example.test");
    c.cmd("FROB", "500 5.5.1");
    c.cmd("MAIL FROM:bob", "501");
    c.cmd("VRFY alice", "252 2.5.2");
    c.cmd("EXPN staff", "502 5.5.1");
    c.cmd("STARTTLS", "502 5.5.1");
    c.cmd("MAIL FROM:<bob@mail.example.org> SIZE=20000", "552 5.3.4");
    let long = format!("NOOP {}", "x".repeat(5000));
    let reply = c.send(&format!("{long}\r\n"));
    assert!(reply.starts_with("500 5.5.2"), "{reply}");
    c.cmd("NOOP", "250 2.0.0");
}

#[test]
fn too_many_errors_close_the_session() {
    let mut c = Client::new(10_000);
    for _ in 0..19 {
        c.cmd("FROB", "500");
    }
    let reply = c.send("FROB\r\n");
    assert!(reply.contains("421 4.7.0"), "{reply}");
    assert!(c.closed);
}

#[test]
fn an_oversize_message_is_refused_after_data() {
    let mut c = Client::new(100);
    c.cmd("EHLO x", "250-");
    c.cmd("MAIL FROM:<bob@mail.example.org>", "250");
    c.cmd("RCPT TO:<alice@im.example.test>", "250");
    c.cmd("DATA", "354");
    let body = "y".repeat(80);
    assert_eq!(c.send(&format!("{body}\r\n{body}\r\n")), "");
    assert_eq!(c.send(".\r\n"), "552 5.3.4 Message too big for system\r\n");
    assert!(c.delivered.is_empty());
    // The session goes on.
    c.cmd("MAIL FROM:<bob@mail.example.org>", "250");
}

#[test]
fn bytes_may_arrive_in_any_pieces() {
    let script = "EHLO x\r\nMAIL FROM:<bob@mail.example.org>\r\nRCPT TO:<alice@im.example.test>\r\nDATA\r\nline one\r\n.\r\n";
    for piece in [1, 2, 3, 7, 64] {
        let mut c = Client::new(10_000);
        let mut all = String::new();
        for chunk in script.as_bytes().chunks(piece) {
            all.push_str(&c.send(std::str::from_utf8(chunk).unwrap()));
        }
        assert_eq!(c.delivered.len(), 1, "pieces of {piece}: {all}");
        assert_eq!(c.delivered[0].data, b"line one\r\n");
    }
}

#[test]
fn an_over_long_line_in_pieces_is_refused_once() {
    let mut c = Client::new(10_000);
    c.cmd("EHLO x", "250-");
    let long = format!("NOOP {}\r\n", "x".repeat(5000));
    let mut replies = String::new();
    for chunk in long.as_bytes().chunks(100) {
        replies.push_str(&c.send(std::str::from_utf8(chunk).unwrap()));
    }
    assert_eq!(replies, "500 5.5.2 Line too long\r\n");
    c.cmd("NOOP", "250 2.0.0");
}

#[test]
fn starttls_is_offered_with_a_certificate_and_resets_the_session() {
    let mut c = Client::new(10_000);
    c.session = SmtpSession::new(Capabilities {
        hostname: "gw.example.test".into(),
        max_size: 10_000,
        starttls: true,
    });
    let ehlo = c.send("EHLO x\r\n");
    assert!(ehlo.ends_with("250-DSN\r\n250 STARTTLS\r\n"), "{ehlo}");
    // Anything pipelined behind STARTTLS is discarded (RFC 3207 §4.2).
    let reply = c.send("STARTTLS\r\nMAIL FROM:<evil@x>\r\n");
    assert_eq!(reply, "220 2.0.0 Ready to start TLS\r\n");
    assert!(c.tls_started);
    // Over TLS: EHLO again, no STARTTLS offered, a second one refused.
    c.cmd(
        "MAIL FROM:<bob@mail.example.org>",
        "503 5.5.1 Say EHLO first",
    );
    let ehlo = c.send("EHLO x\r\n");
    assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
    c.cmd("STARTTLS", "503 5.5.1");
}

#[test]
fn the_first_command_over_tls_is_answered() {
    let mut c = Client::new(10_000);
    c.session = SmtpSession::new(Capabilities {
        hostname: "gw.example.test".into(),
        max_size: 10_000,
        starttls: true,
    });
    c.cmd("EHLO x", "250-");
    // STARTTLS alone in its read, as real clients send it.
    c.cmd("STARTTLS", "220 2.0.0");
    c.cmd("EHLO x", "250-gw.example.test");
}

#[test]
fn a_command_line_cut_into_reads_gets_the_same_reply() {
    // Found by the smtp_session fuzz target
    // (fuzz/crashes/smtp_session/rcpt-to-byte-by-byte): smtp-proto's
    // incremental receiver answered 500 for these bytes one at a time.
    let lines =
        "RCPT TO\n\nEHLO a.example\r\nMAIL FROM:<b@x.test>\r\nRCPT TO:<a@im.example.test>\r\n";
    let mut whole = Client::new(1_000);
    let at_once = whole.send(lines);
    let mut pieces = Client::new(1_000);
    let mut byte_by_byte = String::new();
    for c in lines.chars() {
        byte_by_byte.push_str(&pieces.send(&c.to_string()));
    }
    assert!(at_once.starts_with("501 5.5.4 "), "{at_once}");
    assert_eq!(byte_by_byte, at_once);
    assert!(at_once.ends_with("250 2.1.5 Recipient OK\r\n"), "{at_once}");
}

#[test]
fn a_message_of_exactly_the_limit_is_taken_wherever_the_reads_end() {
    // Found by the smtp_session fuzz target
    // (fuzz/crashes/smtp_session/data-at-the-limit): a read ending in
    // "CRLF . CR" briefly holds one byte more than the message.
    let data = format!("{}\r\n", "x".repeat(98));
    for cut in 0..6 {
        let mut c = Client::new(100);
        c.send("EHLO a\r\nMAIL FROM:<b@x.test>\r\nRCPT TO:<a@im.example.test>\r\nDATA\r\n");
        let end = format!("{data}.\r\n");
        let (first, second) = end.split_at(end.len() - cut);
        assert_eq!(c.send(first) + &c.send(second), "", "cut {cut}");
        assert_eq!(c.delivered.len(), 1, "cut {cut}");
        assert_eq!(c.delivered[0].data.len(), 100);
    }
}

#[test]
fn dsn_parameters_of_rfc3461_6_2_are_kept_on_the_transaction() {
    let mut c = Client::new(10_000);
    c.cmd("EHLO mail.example.org", "250-");
    c.cmd(
        "MAIL FROM:<Alice@Example.ORG> RET=HDRS ENVID=QQ314159+2Bx",
        "250 2.1.0",
    );
    c.cmd(
        "RCPT TO:<dana@im.example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Dana+20@Ivory.EDU",
        "250 2.1.5",
    );
    c.cmd("DATA", "354 ");
    c.send("Subject: hi\r\n\r\nbody\r\n.\r\n");
    let t = &c.delivered[0];
    assert_eq!(
        t.dsn,
        Dsn {
            // xtext decoded: "+2B" is "+".
            envid: Some("QQ314159+x".into()),
            ret: Some(Ret::Hdrs),
            recipients: vec![RecipientDsn {
                notify: Some(Notify {
                    success: true,
                    failure: true,
                    delay: false
                }),
                orcpt: Some("Dana @Ivory.EDU".into()),
            }],
        }
    );
    c.deliver_with(Reply::new(250, "2.0.0", "Delivered as IM"));

    // Without DSN parameters: nothing asked, one entry per recipient.
    c.cmd("MAIL FROM:<bob@mail.example.org> RET=FULL", "250 2.1.0");
    c.cmd("RCPT TO:<alice@im.example.test> NOTIFY=NEVER", "250 2.1.5");
    c.cmd("DATA", "354 ");
    c.send("x\r\n.\r\n");
    let t = &c.delivered[1];
    assert_eq!(t.dsn.envid, None);
    assert_eq!(t.dsn.ret, Some(Ret::Full));
    assert_eq!(t.dsn.recipients[0].notify, Some(Notify::NEVER));
    c.deliver_with(Reply::new(250, "2.0.0", "Delivered as IM"));
    c.cmd("MAIL FROM:<bob@mail.example.org>", "250 2.1.0");
    c.cmd("RCPT TO:<alice@im.example.test>", "250 2.1.5");
    c.cmd("DATA", "354 ");
    c.send("x\r\n.\r\n");
    assert_eq!(
        c.delivered[2].dsn,
        Dsn {
            recipients: vec![RecipientDsn::default()],
            ..Dsn::default()
        }
    );
}

#[test]
fn notify_never_with_another_value_is_a_syntax_error() {
    // RFC 3461 §4.1, in either order.
    let mut c = Client::new(10_000);
    c.cmd("EHLO mail.example.org", "250-");
    c.cmd("MAIL FROM:<bob@mail.example.org>", "250 2.1.0");
    for rcpt in [
        "RCPT TO:<alice@im.example.test> NOTIFY=NEVER,SUCCESS",
        "RCPT TO:<alice@im.example.test> NOTIFY=DELAY,NEVER",
        "RCPT TO:<alice@im.example.test> NOTIFY=SOMETIMES",
        "RCPT TO:<alice@im.example.test> ORCPT=x400;whatever",
    ] {
        c.cmd(rcpt, "501 5.5.4");
    }
    c.cmd(
        "RCPT TO:<alice@im.example.test> NOTIFY=delay,failure",
        "250 2.1.5",
    );
}

#[test]
fn the_first_line_of_the_message_is_a_line_start_too() {
    // Found by the smtp_reply fuzz target (crashes/smtp_reply/empty-message):
    // "." right after 354 is the empty message, and a first line "..x" is
    // unstuffed like any other (RFC 5321 §4.5.2).
    let mut c = Client::new(10_000);
    c.cmd("EHLO mail.example.org", "250-");
    for (sent, kept) in [(".\r\n", ""), ("..x\r\n.\r\n", ".x\r\n")] {
        c.cmd("MAIL FROM:<bob@mail.example.org>", "250 2.1.0");
        c.cmd("RCPT TO:<alice@im.example.test>", "250 2.1.5");
        c.cmd("DATA", "354 ");
        assert_eq!(c.send(sent), "");
        assert_eq!(
            c.delivered.last().map(|t| t.data.as_slice()),
            Some(kept.as_bytes())
        );
        c.deliver_with(Reply::new(250, "2.0.0", "Delivered as IM"));
    }
    assert_eq!(c.delivered.len(), 2);
}
