//! The client's wire format against the RFCs' own transcripts
//! (`testdata/smtp-reply/`, the fuzz seeds of `smtp_reply`).

use super::*;
use crate::smtp::{Notify, Ret, xtext};

/// Every reply in `bytes`, one after the other.
fn replies(bytes: &[u8]) -> Vec<Response> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (reply, used) = parse(rest).unwrap().expect("whole replies");
        out.push(reply);
        rest = &rest[used..];
    }
    out
}

fn line(command: Command<'_>) -> String {
    let mut out = Vec::new();
    write(&command, &mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn rfc5321_appendix_d1_replies_and_the_ehlo_extensions() {
    let all = replies(include_bytes!(
        "../../../../../testdata/smtp-reply/rfc5321-d1"
    ));
    let codes: Vec<u16> = all.iter().map(|r| r.code).collect();
    assert_eq!(codes, [220, 250, 250, 250, 550, 250, 354, 250, 221]);
    let ehlo = &all[1];
    assert_eq!(
        ehlo.lines,
        ["foo.com greets bar.com", "8BITMIME", "SIZE", "DSN", "HELP"]
    );
    assert_eq!(
        Extensions::of_ehlo(ehlo),
        Extensions {
            size: Some(0),
            eight_bit_mime: true,
            dsn: true,
            ..Extensions::default()
        }
    );
    assert_eq!(all[4].to_string(), "550 No such user here");
    assert!(all[4].is_permanent() && all[6].is_intermediate());
    assert_eq!(all[4].enhanced, None);
}

#[test]
fn rfc5321_4_2_1_a_multi_line_reply_whose_text_starts_with_digits() {
    let bytes = include_bytes!("../../../../../testdata/smtp-reply/rfc5321-4.2.1-multiline");
    let (reply, used) = parse(bytes).unwrap().unwrap();
    assert_eq!(used, bytes.len());
    assert_eq!(reply.code, 250);
    assert_eq!(reply.enhanced, None);
    assert_eq!(
        reply.lines,
        [
            "First line",
            "Second line",
            "234 Text beginning with numbers",
            "The last line"
        ]
    );
    // Every strict prefix is "more bytes, please".
    for n in 0..bytes.len() {
        assert_eq!(parse(&bytes[..n]), Ok(None), "{n} bytes");
    }
}

#[test]
fn rfc2034_enhanced_codes_on_every_line_are_read_once() {
    let all = replies(include_bytes!(
        "../../../../../testdata/smtp-reply/rfc2034-5-enhanced"
    ));
    assert!(Extensions::of_ehlo(&all[1]).enhanced_status_codes);
    assert_eq!(all[2].enhanced.unwrap().to_string(), "2.1.0");
    assert_eq!(all[2].lines, ["Originator <ned@ymir.claremont.edu> ok"]);
    let refused = &all[4];
    assert_eq!(
        refused.to_string(),
        "550 5.1.1 Mailbox \"nosuchuser\" does not exist"
    );
    let forwarding = &all[5];
    assert_eq!(forwarding.code, 551);
    assert_eq!(
        forwarding.enhanced,
        Some(EnhancedCode {
            class: 5,
            subject: 7,
            detail: 1
        })
    );
    assert_eq!(
        forwarding.lines,
        [
            "Forwarding to remote hosts disabled",
            "Select another host to act as your forwarder"
        ]
    );
}

#[test]
fn rfc3463_codes_and_what_is_not_one() {
    for (text, code) in [
        ("2.0.0", Some((2, 0, 0))),
        ("4.4.1", Some((4, 4, 1))),
        ("5.1.10", Some((5, 1, 10))),
        ("5.123.999", Some((5, 123, 999))),
        ("3.1.1", None),
        ("5.1", None),
        ("5.1.1.1", None),
        ("5.1234.1", None),
        ("5..1", None),
        ("5.a.1", None),
    ] {
        assert_eq!(
            EnhancedCode::parse(text).map(|e| (e.class, e.subject, e.detail)),
            code,
            "{text}"
        );
    }
    // RFC 2034 §4: the class is that of the reply; a 250 whose text
    // starts with 5.1.1 has no enhanced code.
    let (reply, _) = parse(b"250 5.1.1 looks like one\r\n").unwrap().unwrap();
    assert_eq!(reply.enhanced, None);
    assert_eq!(reply.lines, ["5.1.1 looks like one"]);
    let (reply, _) = parse(b"451 4.3.0\r\n").unwrap().unwrap();
    assert_eq!(
        (reply.enhanced.unwrap().to_string(), reply.text()),
        ("4.3.0".into(), "4.3.0".into())
    );
}

#[test]
fn the_dsn_example_of_rfc3461_6_2_written_byte_for_byte() {
    let all = replies(include_bytes!(
        "../../../../../testdata/smtp-reply/rfc3461-6.2-dsn"
    ));
    let ext = Extensions::of_ehlo(&all[1]);
    assert!(ext.dsn && ext.size == Some(0) && !ext.pipelining);
    assert_eq!(
        line(Command::Mail(MailFrom {
            reverse_path: "Alice@Example.ORG",
            ret: Some(Ret::Hdrs),
            envid: Some("QQ314159"),
            ..MailFrom::default()
        })),
        "MAIL FROM:<Alice@Example.ORG> RET=HDRS ENVID=QQ314159\r\n"
    );
    let success = Notify {
        success: true,
        ..Notify::NEVER
    };
    let failure = Notify {
        failure: true,
        ..Notify::NEVER
    };
    for (to, notify, orcpt, expect) in [
        (
            "Bob@Example.COM",
            success,
            true,
            "RCPT TO:<Bob@Example.COM> NOTIFY=SUCCESS ORCPT=rfc822;Bob@Example.COM\r\n",
        ),
        (
            "Dana@Ivory.EDU",
            Notify {
                success: true,
                failure: true,
                delay: false,
            },
            true,
            "RCPT TO:<Dana@Ivory.EDU> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Dana@Ivory.EDU\r\n",
        ),
        (
            "Eric@Bombs.AF.MIL",
            failure,
            true,
            "RCPT TO:<Eric@Bombs.AF.MIL> NOTIFY=FAILURE ORCPT=rfc822;Eric@Bombs.AF.MIL\r\n",
        ),
        (
            "Fred@Bombs.AF.MIL",
            Notify::NEVER,
            false,
            "RCPT TO:<Fred@Bombs.AF.MIL> NOTIFY=NEVER\r\n",
        ),
    ] {
        let command = Command::Rcpt(RcptTo {
            forward_path: to,
            notify: Some(notify),
            orcpt: orcpt.then_some(to),
        });
        assert_eq!(line(command), expect);
    }
    let all_three = Notify {
        success: true,
        failure: true,
        delay: true,
    };
    assert_eq!(all_three.to_string(), "SUCCESS,FAILURE,DELAY");
}

#[test]
fn xtext_of_rfc3461_4() {
    // "+" and "=" and everything outside "!".."~" as +XX, upper-case hex.
    assert_eq!(xtext("Bob@Example.COM"), "Bob@Example.COM");
    assert_eq!(xtext("George @Tax- ME .GOV"), "George+20@Tax-+20ME+20.GOV");
    assert_eq!(xtext("a+b=c"), "a+2Bb+3Dc");
    assert_eq!(xtext("é\r\n"), "+C3+A9+0D+0A");
}

#[test]
fn mail_from_with_every_parameter_and_the_null_reverse_path() {
    assert_eq!(
        line(Command::Mail(MailFrom {
            reverse_path: "alice@im.example.test",
            size: Some(1234),
            eight_bit_mime: true,
            smtputf8: true,
            ret: Some(Ret::Full),
            envid: Some("id+1=x"),
        })),
        "MAIL FROM:<alice@im.example.test> SIZE=1234 BODY=8BITMIME SMTPUTF8 RET=FULL ENVID=id+2B1+3Dx\r\n"
    );
    assert_eq!(line(Command::Mail(MailFrom::default())), "MAIL FROM:<>\r\n");
    for (command, text) in [
        (Command::Ehlo("gw.example.test"), "EHLO gw.example.test\r\n"),
        (Command::Helo("gw.example.test"), "HELO gw.example.test\r\n"),
        (Command::StartTls, "STARTTLS\r\n"),
        (Command::Data, "DATA\r\n"),
        (Command::Rset, "RSET\r\n"),
        (Command::Noop, "NOOP\r\n"),
        (Command::Quit, "QUIT\r\n"),
    ] {
        assert_eq!(line(command), text);
    }
}

#[test]
fn the_message_is_dot_stuffed_and_terminated_once() {
    let data = |message: &[u8]| {
        let mut out = Vec::new();
        write_data(message, &mut out);
        out
    };
    // RFC 5321 §4.5.2: a line starting with "." gets one more.
    assert_eq!(
        data(b".hidden\r\nb\r\n..two\r\n.\r\n"),
        b"..hidden\r\nb\r\n...two\r\n..\r\n.\r\n"
    );
    // A message that does not end in CRLF gets one before the ".".
    assert_eq!(data(b"no end"), b"no end\r\n.\r\n");
    assert_eq!(data(b""), b".\r\n");
    assert_eq!(data(b"\r\n"), b"\r\n.\r\n");
    // After a bare LF a line starts too: it cannot end the data early.
    assert_eq!(data(b"a\n.\r\n"), b"a\n..\r\n.\r\n");
    // A dot inside a line is left alone.
    assert_eq!(data(b"a.b\r\n"), b"a.b\r\n.\r\n");
}

#[test]
fn hostile_replies_are_bounded() {
    // A line without its LF is refused once it passes MAX_LINE.
    let mut long = b"250-".to_vec();
    long.resize(MAX_LINE, b'x');
    assert_eq!(parse(&long), Err(ReplyError::LineTooLong));
    assert_eq!(parse(&long[..MAX_LINE - 1]), Ok(None));
    // Endless continuation lines.
    let many = "250-x\r\n".repeat(MAX_LINES + 1);
    assert_eq!(parse(many.as_bytes()), Err(ReplyError::TooManyLines));
    let just = format!("{}250 x\r\n", "250-x\r\n".repeat(MAX_LINES - 1));
    assert_eq!(
        parse(just.as_bytes()).unwrap().unwrap().0.lines.len(),
        MAX_LINES
    );
    // Not replies at all.
    assert!(matches!(parse(b"HTTP/1.1 400"), Err(ReplyError::Syntax(_))));
    assert!(matches!(parse(b"199 x\r\n"), Err(ReplyError::Syntax(_))));
    assert!(matches!(parse(b"25"), Ok(None)));
    assert!(matches!(parse(b"250\r"), Ok(None)));
    assert!(matches!(parse(b"2500\r\n"), Err(ReplyError::Syntax(_))));
    assert!(matches!(parse(b"\r\n"), Err(ReplyError::Syntax(_))));
    assert_eq!(
        parse(b"250-a\r\n550 b\r\n"),
        Err(ReplyError::MixedCodes(250, 550))
    );
    // A code alone is a whole last line (RFC 5321 §4.2: the text is
    // optional); a bare LF ends a line.
    let (reply, used) = parse(b"250\n354 go\r\n").unwrap().unwrap();
    assert_eq!(
        (reply.code, reply.lines.clone(), used),
        (250, vec![String::new()], 4)
    );
}

#[test]
fn a_pipelined_postfix_transcript() {
    let all = replies(include_bytes!(
        "../../../../../testdata/smtp-reply/postfix-pipelined"
    ));
    let ext = Extensions::of_ehlo(&all[1]);
    assert_eq!(
        ext,
        Extensions {
            size: Some(10_240_000),
            pipelining: true,
            eight_bit_mime: true,
            smtputf8: true,
            starttls: true,
            dsn: true,
            enhanced_status_codes: true,
        }
    );
    assert_eq!(all[5].text(), "2.0.0 Ok: queued as 4F1B2C3D4E");
    assert!(all[6].is_transient());
    assert_eq!(all[7].code, 421);
}
