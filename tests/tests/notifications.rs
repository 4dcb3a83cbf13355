//! Receipts across the gateway end to end (issue 10), with a real Postfix
//! as the far MTA: Postfix is the MX of the mail domains (dnsmasq), relays
//! `mail.example.test` to aiosmtpd (which refuses `reject-user@`), delivers
//! `delivered.example.test` finally (its `discard` transport, so a
//! `NOTIFY=SUCCESS` mail gets a "delivered" DSN), and sends what it has for
//! `im.example.test` — its own bounces and DSNs — back to the gateway. A
//! sipp UAS is the IM system the IMDNs go to; sipp UACs and a small SMTP
//! client play the IM and mail users.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use interwork_e2e::peers::{self, Peer, Postfix, SippUas};
use interwork_e2e::sipp_message::SippMessage;
use interwork_e2e::{Gateway, Ports, Scratch};

struct World {
    _dns: Peer,
    sink: Peer,
    postfix: Postfix,
    gateway: Gateway,
    ports: Ports,
    uas_port: u16,
    _scratch: Scratch,
}

fn world() -> World {
    let sink = peers::smtp_sink();
    let dns = peers::dnsmasq(
        &[
            ("mail.example.test", "mx.example.test", 10),
            ("delivered.example.test", "mx.example.test", 10),
        ],
        &[("mx.example.test", "127.0.0.1")],
    );
    let uas_port = peers::free_port();
    let scratch = Scratch::new(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"));
    let hop = format!("next_hop = \"127.0.0.1:{uas_port}\"");
    let nameserver = format!("nameserver = \"127.0.0.1:{}\"", dns.port);
    let (config, ports) = scratch.gateway_config(&[
        ("next_hop = \"127.0.0.1:5070\"", &hop),
        ("# nameserver = \"127.0.0.1:5354\"", &nameserver),
        ("delivery_deadline_secs = 20", "delivery_deadline_secs = 5"),
        // Given-up IMs and notices are retried within the tests' time.
        ("scan_interval_ms = 1000", "scan_interval_ms = 200"),
    ]);
    let postfix = Postfix::start_routing(
        &[
            (
                "mail.example.test",
                format!("smtp:[127.0.0.1]:{}", sink.port),
            ),
            ("delivered.example.test", "discard:delivered".to_string()),
            (
                "im.example.test",
                format!("smtp:[127.0.0.1]:{}", ports.smtp),
            ),
        ],
        "",
    );
    // The gateway's MX is that Postfix: its port is known only now.
    let text = std::fs::read_to_string(&config).expect("config");
    assert!(text.contains("delivery_port = 25"));
    let text = text.replace(
        "delivery_port = 25",
        &format!("delivery_port = {}", postfix.port),
    );
    std::fs::write(&config, text).expect("config");
    let mut gateway =
        Gateway::start(scratch.command(&["run", "--config", config.to_str().unwrap()]));
    gateway.wait_for("SMTP listening", Duration::from_secs(30));
    World {
        _dns: dns,
        sink,
        postfix,
        gateway,
        ports,
        uas_port,
        _scratch: scratch,
    }
}

/// One MESSAGE from `from` carrying CPIM, expecting `expect`.
fn message(from: &str, to: &str, headers: &[&str], cpim: &str, expect: u16) -> String {
    SippMessage::new("message/cpim", cpim)
        .from(from)
        .to(to)
        .headers(headers)
        .expect(expect)
        .xml()
}

/// CPIM around text, with an imdn.Message-ID and the IMDNs asked for.
fn im(
    from: &str,
    to: &str,
    imdn_id: &str,
    asked: &str,
    subject: Option<&str>,
    text: &str,
) -> String {
    let subject = subject
        .map(|s| format!("Subject: {s}\r\n"))
        .unwrap_or_default();
    format!(
        "From: <{from}>\r\nTo: <{to}>\r\nNS: imdn <urn:ietf:params:imdn>\r\n\
         imdn.Message-ID: {imdn_id}\r\nDateTime: 2026-12-03T09:00:00Z\r\n{subject}\
         imdn.Disposition-Notification: {asked}\r\n\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{text}"
    )
}

/// CPIM around an IMDN about `about` (RFC 5438 §7.2.1).
fn imdn(from: &str, to: &str, about: &str, notification: &str, status: &str) -> String {
    format!(
        "From: <{from}>\r\nTo: <{to}>\r\nNS: imdn <urn:ietf:params:imdn>\r\n\
         imdn.Message-ID: n-{status}-{about}\r\nDateTime: 2026-12-03T09:00:05Z\r\n\r\n\
         Content-Type: message/imdn+xml\r\nContent-Disposition: notification\r\n\r\n\
         <?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
         <imdn xmlns=\"urn:ietf:params:xml:ns:imdn\">\r\n\
         <message-id>{about}</message-id>\r\n\
         <datetime>2026-12-03T09:00:00Z</datetime>\r\n\
         <recipient-uri>{from}</recipient-uri>\r\n\
         <{notification}><status><{status}/></status></{notification}>\r\n\
         </imdn>"
    )
}

impl World {
    fn sip(&self, scenario: &str) {
        let run = peers::sipp(scenario, &format!("127.0.0.1:{}", self.ports.sip), "u1");
        assert!(
            run.success,
            "sipp failed:\n{}\n--- gateway log\n{}",
            run.output,
            self.gateway.log.join("\n")
        );
    }

    /// The gateway's log so far.
    fn log(&mut self) -> String {
        self.gateway.has_logged("");
        self.gateway.log.join("\n")
    }

    /// The sink's mails once there are `count`, as text.
    fn mails(&mut self, count: usize) -> Vec<String> {
        let mails = self.sink.mails_when(count, Duration::from_secs(30));
        assert!(
            mails.len() >= count,
            "{} mails\n--- postfix\n{}\n--- gateway\n{}",
            mails.len(),
            self.postfix.log(),
            self.log()
        );
        mails
            .iter()
            .map(|m| String::from_utf8_lossy(m).into_owned())
            .collect()
    }
}

/// A small SMTP client: one transaction with the ESMTP parameters given
/// (swaks has no DSN options); returns the reply to the end of DATA.
fn smtp(port: u16, mail_from: &str, rcpt: &str, params: (&str, &str), data: &str) -> String {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut reply = || {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("a reply");
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] == b' ' {
                return all;
            }
        }
    };
    let mut said = vec![reply()];
    let (mail_params, rcpt_params) = params;
    for command in [
        "EHLO mail.example.test".to_string(),
        format!("MAIL FROM:<{mail_from}>{mail_params}"),
        format!("RCPT TO:<{rcpt}>{rcpt_params}"),
        "DATA".to_string(),
    ] {
        writer
            .write_all(format!("{command}\r\n").as_bytes())
            .unwrap();
        said.push(reply());
    }
    assert!(said[4].starts_with("354"), "{said:?}");
    writer
        .write_all(format!("{}\r\n.\r\n", data.replace('\n', "\r\n")).as_bytes())
        .unwrap();
    let end = reply();
    writer.write_all(b"QUIT\r\n").unwrap();
    end
}

/// The value of a header in a mail or SIP message text, unfolded.
fn header(text: &str, name: &str) -> Option<String> {
    let head = text.split("\r\n\r\n").next().unwrap_or(text);
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded
        .split("\r\n")
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with(&format!("{}:", name.to_ascii_lowercase()))
        })
        .map(|l| {
            l[name.len() + 1..]
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
}

#[test]
fn a_postfix_bounce_becomes_imdn_failed_for_the_im_sender() {
    let w = world();
    let uas = SippUas::calls_on(w.uas_port, 1, 200, "OK");
    w.sip(&message(
        "sip:alice@im.example.test",
        "sip:reject-user@mail.example.test",
        &[],
        &im(
            "sip:alice@im.example.test",
            "sip:reject-user@mail.example.test",
            "bounce-1",
            "positive-delivery, negative-delivery",
            None,
            "hello?",
        ),
        202,
    ));
    let (ok, log) = uas.finish();
    assert!(ok, "{log}\n--- postfix\n{}", w.postfix.log());
    // Postfix refused nothing itself: aiosmtpd did, and Postfix bounced.
    assert!(
        w.postfix.log().contains("status=bounced"),
        "{}",
        w.postfix.log()
    );
    let request = &log[log
        .find("MESSAGE sip:alice@im.example.test")
        .expect("an IMDN")..];
    assert!(
        request.contains("From: <sip:reject-user@mail.example.test>;tag="),
        "{request}"
    );
    assert!(
        request.contains("Content-Type: message/imdn+xml"),
        "{request}"
    );
    assert!(
        request.contains("Content-Disposition: notification"),
        "{request}"
    );
    assert!(
        request.contains("<message-id>bounce-1</message-id>"),
        "{request}"
    );
    assert!(request.contains("<failed/>"), "{request}");
    // RFC 5438 §7.2.1.1: the IM's own DateTime, echoed.
    assert!(
        request.contains("<datetime>2026-12-03T09:00:00Z</datetime>"),
        "{request}"
    );
    // Never a chat from MAILER-DAEMON.
    assert!(!request.contains("MAILER-DAEMON"), "{request}");
}

#[test]
fn a_success_dsn_becomes_imdn_delivered() {
    let mut w = world();
    let uas = SippUas::calls_on(w.uas_port, 1, 200, "OK");
    w.sip(&message(
        "sip:alice@im.example.test",
        "sip:carol@delivered.example.test",
        &[],
        &im(
            "sip:alice@im.example.test",
            "sip:carol@delivered.example.test",
            "delivered-1",
            "positive-delivery",
            None,
            "are you there?",
        ),
        202,
    ));
    let (ok, log) = uas.finish();
    let gateway_log = w.log();
    assert!(
        ok,
        "{log}\n--- postfix\n{}\n--- gateway\n{gateway_log}",
        w.postfix.log()
    );
    // The gateway asked Postfix for the DSN on the envelope (RFC 3461).
    assert!(
        w.postfix.log().contains("status=sent"),
        "{}",
        w.postfix.log()
    );
    let request = &log[log
        .find("MESSAGE sip:alice@im.example.test")
        .expect("an IMDN")..];
    assert!(
        request.contains("<message-id>delivered-1</message-id>"),
        "{request}"
    );
    assert!(request.contains("<delivered/>"), "{request}");
}

#[test]
fn an_mdn_displayed_becomes_imdn_displayed() {
    let mut w = world();
    let uas = SippUas::calls_on(w.uas_port, 1, 200, "OK");
    w.sip(&message(
        "sip:alice@im.example.test",
        "sip:bob@mail.example.test",
        &[],
        &im(
            "sip:alice@im.example.test",
            "sip:bob@mail.example.test",
            "read-1",
            "display",
            Some("plans"),
            "dinner at eight?",
        ),
        202,
    ));
    let mails = w.mails(1);
    let mail = &mails[0];
    assert_eq!(
        header(mail, "Disposition-Notification-To").as_deref(),
        Some("<alice@im.example.test>")
    );
    let message_id = header(mail, "Message-ID").expect("a Message-ID");
    // Bob's mail client (Thunderbird's shape) sends the MDN back.
    let mdn = format!(
        "From: Bob <bob@mail.example.test>\n\
         To: alice@im.example.test\n\
         Subject: Return Receipt (displayed) - plans\n\
         Message-ID: <mdn-1@mail.example.test>\n\
         MIME-Version: 1.0\n\
         Content-Type: multipart/report; report-type=disposition-notification;\n \
         boundary=\"------------B1\"\n\
         \n\
         This is a multi-part message in MIME format.\n\
         --------------B1\n\
         Content-Type: text/plain; charset=UTF-8\n\
         \n\
         This is a Return Receipt for the mail that you sent to bob@mail.example.test.\n\
         --------------B1\n\
         Content-Type: message/disposition-notification; name=\"MDNPart2.txt\"\n\
         Content-Disposition: inline\n\
         \n\
         Reporting-UA: mail.example.test; Thunderbird 128.5.0\n\
         Final-Recipient: rfc822;bob@mail.example.test\n\
         Original-Message-ID: {message_id}\n\
         Disposition: manual-action/MDN-sent-manually; displayed\n\
         \n\
         --------------B1--"
    );
    let reply = smtp(w.ports.smtp, "", "alice@im.example.test", ("", ""), &mdn);
    assert!(reply.starts_with("250"), "{reply}");
    let (ok, log) = uas.finish();
    let gateway_log = w.log();
    assert!(ok, "{log}\n--- gateway\n{gateway_log}");
    let request = &log[log
        .find("MESSAGE sip:alice@im.example.test")
        .expect("an IMDN")..];
    assert!(
        request.contains("<message-id>read-1</message-id>"),
        "{request}"
    );
    assert!(request.contains("<display-notification>"), "{request}");
    assert!(request.contains("<displayed/>"), "{request}");
}

/// The imdn.Message-ID of the IM in a sipp UAS log.
fn imdn_id_in(log: &str) -> String {
    let start = log.find("imdn.Message-ID: ").expect("an imdn.Message-ID") + 17;
    log[start..].lines().next().unwrap().trim().to_string()
}

#[test]
fn imdns_from_the_im_side_become_one_mdn_and_one_success_dsn() {
    let mut w = world();
    let uas = SippUas::calls_on(w.uas_port, 1, 200, "OK");
    let mail = "From: Bob <bob@mail.example.test>\nTo: alice@im.example.test\n\
                Subject: plans\nMessage-ID: <plans-1@mail.example.test>\n\
                Disposition-Notification-To: Bob <bob@mail.example.test>\n\n\
                dinner at eight?";
    let reply = smtp(
        w.ports.smtp,
        "bob@mail.example.test",
        "alice@im.example.test",
        (" RET=HDRS ENVID=bob+2Dplans", " NOTIFY=SUCCESS,FAILURE"),
        mail,
    );
    assert!(reply.starts_with("250"), "{reply}");
    let (ok, log) = uas.finish();
    assert!(ok, "{log}");
    let id = imdn_id_in(&log);
    let displayed = imdn(
        "sip:alice@im.example.test",
        "sip:bob@mail.example.test",
        &id,
        "display-notification",
        "displayed",
    );
    let scenario = message(
        "sip:alice@im.example.test",
        "sip:bob@mail.example.test",
        &[],
        &displayed,
        200,
    );
    w.sip(&scenario);
    let mails = w.mails(1);
    let mdn = &mails[0];
    assert!(
        mdn.contains("X-Envelope-From: <>"),
        "null reverse-path:\n{mdn}"
    );
    assert!(
        mdn.contains("X-Envelope-To: <bob@mail.example.test>"),
        "{mdn}"
    );
    for needle in [
        "Original-Message-ID: <plans-1@mail.example.test>",
        "Disposition: manual-action/MDN-sent-manually; displayed",
        "MDN-Gateway: dns; gw.example.test",
        "Final-Recipient: rfc822; alice@im.example.test",
        "Auto-Submitted: auto-replied",
    ] {
        assert!(mdn.contains(needle), "{needle:?} in\n{mdn}");
    }
    // The IM side says "delivered" too: the envelope asked for it.
    w.sip(&message(
        "sip:alice@im.example.test",
        "sip:bob@mail.example.test",
        &[],
        &imdn(
            "sip:alice@im.example.test",
            "sip:bob@mail.example.test",
            &id,
            "delivery-notification",
            "delivered",
        ),
        200,
    ));
    let mails = w.mails(2);
    let dsn = &mails[1];
    for needle in [
        "report-type=delivery-status",
        "Original-Envelope-Id: bob-plans",
        "Action: delivered",
        "Status: 2.0.0",
    ] {
        assert!(
            dsn.replace('"', "").contains(needle),
            "{needle:?} in\n{dsn}"
        );
    }
    // A second "displayed" (a client re-reading) sends no second MDN
    // (RFC 8098 §2.1).
    w.sip(&scenario);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        assert_eq!(w.sink.mails().len(), 2, "no second MDN");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_conversation_threads_both_ways() {
    let mut w = world();
    // 1. An IM that opens a conversation becomes a mail.
    w.sip(&message(
        "sip:alice@im.example.test",
        "sip:bob@mail.example.test",
        &["Conversation-ID: conv-T", "Contribution-ID: contrib-1"],
        &im(
            "sip:alice@im.example.test",
            "sip:bob@mail.example.test",
            "t-1",
            "display",
            Some("plans"),
            "dinner?",
        ),
        202,
    ));
    let first = w.mails(1).remove(0);
    let m1 = header(&first, "Message-ID").expect("Message-ID");
    // 2. The mail reply becomes an IM in that conversation.
    let uas = SippUas::calls_on(w.uas_port, 1, 200, "OK");
    let reply_mail = format!(
        "From: Bob <bob@mail.example.test>\nTo: alice@im.example.test\n\
         Subject: Re: plans\nMessage-ID: <reply-2@mail.example.test>\n\
         In-Reply-To: {m1}\nReferences: {m1}\n\nyes, at eight"
    );
    let reply = smtp(
        w.ports.smtp,
        "bob@mail.example.test",
        "alice@im.example.test",
        ("", ""),
        &reply_mail,
    );
    assert!(reply.starts_with("250"), "{reply}");
    let (ok, log) = uas.finish();
    assert!(ok, "{log}");
    let request = &log[log
        .find("MESSAGE sip:alice@im.example.test")
        .expect("an IM")..];
    let request = request.replace('\n', "\r\n").replace("\r\r\n", "\r\n");
    assert_eq!(
        header(&request, "Conversation-ID").as_deref(),
        Some("conv-T")
    );
    assert_eq!(
        header(&request, "InReplyTo-Contribution-ID").as_deref(),
        Some("contrib-1")
    );
    let contribution = header(&request, "Contribution-ID").expect("its own Contribution-ID");
    assert_ne!(contribution, "contrib-1");
    // 3. Alice answers that IM: the mail answers the reply and references
    // the whole thread; its subject continues without a second "Re:".
    w.sip(&message(
        "sip:alice@im.example.test",
        "sip:bob@mail.example.test",
        &[
            "Conversation-ID: conv-T",
            "Contribution-ID: contrib-3",
            &format!("InReplyTo-Contribution-ID: {contribution}"),
        ],
        &im(
            "sip:alice@im.example.test",
            "sip:bob@mail.example.test",
            "t-3",
            "display",
            None,
            "great",
        ),
        202,
    ));
    let third = w.mails(2).remove(1);
    assert_eq!(
        header(&third, "In-Reply-To").as_deref(),
        Some("<reply-2@mail.example.test>")
    );
    assert_eq!(
        header(&third, "References").as_deref(),
        Some(format!("{m1} <reply-2@mail.example.test>").as_str())
    );
    assert_eq!(header(&third, "Subject").as_deref(), Some("Re: plans"));
}

#[test]
fn a_report_about_an_unknown_message_is_dropped() {
    let mut w = world();
    let dsn = "From: Mail Delivery System <MAILER-DAEMON@mta.example.test>\n\
               To: alice@im.example.test\nSubject: Undelivered Mail Returned to Sender\n\
               MIME-Version: 1.0\n\
               Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n\
               --B\nContent-Type: text/plain\n\nI'm sorry.\n\
               --B\nContent-Type: message/delivery-status\n\n\
               Reporting-MTA: dns; mta.example.test\nOriginal-Envelope-Id: nothing-we-sent\n\n\
               Final-Recipient: rfc822; someone@mail.example.test\nAction: failed\n\
               Status: 5.1.1\n\n\
               --B\nContent-Type: text/rfc822-headers\n\n\
               Message-ID: <never-sent@gw.example.test>\nSubject: hi\n\n--B--";
    let reply = smtp(w.ports.smtp, "", "alice@im.example.test", ("", ""), dsn);
    assert!(reply.starts_with("250"), "{reply}");
    assert!(reply.contains("nothing to tell"), "{reply}");
    w.gateway.wait_for("does not know", Duration::from_secs(5));
    // Not a chat: the gateway sent no IM anywhere (the UAS port is closed,
    // so an attempt would be logged as a failure).
    std::thread::sleep(Duration::from_millis(500));
    assert!(!w.gateway.has_logged("MAILER-DAEMON"), "{}", w.log());
    // Its one outcome line says so; no IMDN line (one names its IM sender).
    assert!(w.gateway.has_logged("mode=\"report\""), "{}", w.log());
    assert!(!w.gateway.has_logged("as_to=\"sip:"), "{}", w.log());
}
