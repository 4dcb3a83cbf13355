//! IM → e-mail end to end (SPEC S3, S5): sipp sends SIP MESSAGEs to the real
//! gateway, which finds the recipient's MX in dnsmasq and delivers to
//! aiosmtpd; every SIP answer and every byte that matters is checked.

use std::net::UdpSocket;
use std::path::PathBuf;
use std::time::Duration;

use interwork_e2e::kamailio::Kamailio;
use interwork_e2e::peers::{self, Peer};
use interwork_e2e::sipp_message::SippMessage;
use interwork_e2e::{Gateway, Scratch, raw_header};
use mail_parser::{HeaderValue, MessageParser};

struct World {
    _dns: Peer,
    smtp: Peer,
    postfix: Option<peers::Postfix>,
    gateway: Gateway,
    sip_port: u16,
    scratch: Scratch,
}

/// dnsmasq: mail.example.test → mx.mail.example.test (the sink);
/// down.example.test → an address nobody listens on; backup.example.test →
/// that first, the sink second; plain.example.test has an A record and no
/// MX (implicit MX); nullmx.example.test publishes ".".
fn world(trusted: &str) -> World {
    world_with(trusted, None)
}

/// As [`world`]; with `postfix_main_cf`, the MX of mail.example.test is a
/// Postfix with those main.cf lines that relays to the sink.
fn world_with(trusted: &str, postfix_main_cf: Option<&str>) -> World {
    let smtp = peers::smtp_sink();
    let postfix = postfix_main_cf
        .map(|extra| peers::Postfix::start_relaying(&[("mail.example.test", smtp.port)], extra));
    let dns = peers::dnsmasq(
        &[
            ("mail.example.test", "mx.mail.example.test", 10),
            ("mail.example.test", "mx2.mail.example.test", 20),
            ("nullmx.example.test", ".", 0),
            ("down.example.test", "mx.down.example.test", 10),
            ("backup.example.test", "mx.down.example.test", 10),
            ("backup.example.test", "mx.mail.example.test", 20),
        ],
        &[
            ("mx.mail.example.test", "127.0.0.1"),
            ("mx2.mail.example.test", "127.0.0.1"),
            ("plain.example.test", "127.0.0.1"),
            // Nothing listens there: connections are refused.
            ("mx.down.example.test", "127.0.0.3"),
        ],
    );
    let scratch = Scratch::new(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"));
    let smtp_port = postfix.as_ref().map_or(smtp.port, |p| p.port).to_string();
    let dns_port = dns.port.to_string();
    let (config, ports) = scratch.gateway_config(&[
        (
            "trusted_peers = [\"127.0.0.1\"]",
            &format!("trusted_peers = [\"{trusted}\"]"),
        ),
        (
            "delivery_port = 25",
            &format!("delivery_port = {smtp_port}"),
        ),
        ("delivery_deadline_secs = 20", "delivery_deadline_secs = 5"),
        (
            "# nameserver = \"127.0.0.1:5354\"",
            &format!("nameserver = \"127.0.0.1:{dns_port}\""),
        ),
    ]);
    let sip_port = ports.sip;
    let mut gateway =
        Gateway::start(scratch.command(&["run", "--config", config.to_str().unwrap()]));
    gateway.wait_for("SIP listening", Duration::from_secs(30));
    World {
        _dns: dns,
        smtp,
        postfix,
        gateway,
        sip_port,
        scratch,
    }
}

/// One MESSAGE to `to`, then the expected final answer.
fn message(to: &str, headers: &[&str], content_type: &str, body: &str, expect: u16) -> String {
    SippMessage::new(content_type, body)
        .to(to)
        .headers(headers)
        .expect(expect)
        .xml()
}

impl World {
    fn config(&self) -> String {
        self.scratch
            .path()
            .join("interwork.toml")
            .display()
            .to_string()
    }

    fn target(&self) -> String {
        format!("127.0.0.1:{}", self.sip_port)
    }

    fn send(&self, scenario: &str, transport: &str) {
        let run = peers::sipp(scenario, &self.target(), transport);
        assert!(
            run.success,
            "sipp failed:\n{}\n--- gateway log\n{}",
            run.output,
            self.gateway.log.join("\n")
        );
    }

    fn mails(&self) -> Vec<Vec<u8>> {
        self.smtp.mails()
    }
}

fn header_text<'a>(mail: &'a mail_parser::Message<'a>, name: &str) -> Option<String> {
    match mail.header(name)? {
        HeaderValue::Text(t) => Some(t.to_string()),
        HeaderValue::Address(a) => a.first().and_then(|a| a.address()).map(str::to_string),
        other => Some(format!("{other:?}")),
    }
}

#[test]
fn plain_text_message_over_udp_and_tcp_becomes_a_mail() {
    let w = world("127.0.0.1");
    let body = "你好 Bob, lunch at noon?";
    for (i, transport) in ["u1", "t1"].into_iter().enumerate() {
        let scenario = message(
            "sip:bob@mail.example.test",
            &["Subject: 午饭 lunch"],
            "text/plain;charset=UTF-8",
            body,
            202,
        );
        w.send(&scenario, transport);
        let mails = w.mails();
        assert_eq!(mails.len(), i + 1, "one mail per MESSAGE");
        let raw = &mails[i];
        assert_eq!(
            raw_header(raw, "X-Envelope-From").as_deref(),
            Some("<alice@im.example.test>")
        );
        assert_eq!(
            raw_header(raw, "X-Envelope-To").as_deref(),
            Some("<bob@mail.example.test>")
        );
        let mail = MessageParser::default().parse(raw).expect("a mail");
        assert_eq!(
            header_text(&mail, "From").as_deref(),
            Some("alice@im.example.test")
        );
        assert_eq!(
            header_text(&mail, "To").as_deref(),
            Some("bob@mail.example.test")
        );
        assert_eq!(mail.subject(), Some("午饭 lunch"));
        // Not ASCII: RFC 2047 encoded on the wire.
        assert!(
            raw_header(raw, "Subject").unwrap().starts_with("=?"),
            "{:?}",
            raw_header(raw, "Subject")
        );
        assert_eq!(mail.body_text(0).as_deref().map(str::trim_end), Some(body));
        // Short non-ASCII text goes as 8bit (aiosmtpd offers 8BITMIME):
        // readable as it is, not base64.
        assert_eq!(
            raw_header(raw, "Content-Transfer-Encoding").as_deref(),
            Some("8bit")
        );
        assert!(
            String::from_utf8_lossy(raw).contains(body),
            "{}",
            String::from_utf8_lossy(raw)
        );
        let ct = raw_header(raw, "Content-Type")
            .unwrap()
            .to_ascii_lowercase()
            .replace('"', "");
        assert!(
            ct.starts_with("text/plain") && ct.contains("charset=utf-8"),
            "{ct}"
        );
        assert!(
            mail.message_id().unwrap().ends_with("@gw.example.test"),
            "{:?}",
            mail.message_id()
        );
        assert!(mail.date().is_some());
        assert_eq!(raw_header(raw, "Disposition-Notification-To"), None);
    }
}

/// Pager mode behind the IM system's record-routing proxy: sipp sends to
/// Kamailio over UDP and TCP, Kamailio relays to the gateway over UDP, and
/// the 202 and the 404 go back through it.
#[test]
fn a_group_im_becomes_one_mail_to_all_its_recipients() {
    // RFC 5365: a multiple-recipient MESSAGE; its URI list says how each
    // recipient is addressed (RFC 5364 copyControl).
    let w = world("127.0.0.1");
    let body = "--rl42\n\
Content-Type: text/plain;charset=utf-8\n\
\n\
lunch at noon, all three of you?\n\
--rl42\n\
Content-Type: application/resource-lists+xml\n\
Content-Disposition: recipient-list\n\
\n\
<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\" xmlns:cp=\"urn:ietf:params:xml:ns:copycontrol\">\n\
<list>\n\
<entry uri=\"sip:bob@mail.example.test\" cp:copyControl=\"to\"/>\n\
<entry uri=\"sip:carol@mail.example.test\"/>\n\
<entry uri=\"sip:dave@mail.example.test\" cp:copyControl=\"cc\"/>\n\
</list>\n\
</resource-lists>\n\
--rl42--";
    let scenario = message(
        "sip:lunch-group@gw.example.test",
        &["Require: recipient-list-message"],
        "multipart/mixed;boundary=\"rl42\"",
        body,
        202,
    );
    w.send(&scenario, "t1");
    let mails = w.smtp.mails_when(1, Duration::from_secs(5));
    assert_eq!(mails.len(), 1, "one mail for the group");
    let raw = &mails[0];
    assert_eq!(
        raw_header(raw, "X-Envelope-To").as_deref(),
        Some("<bob@mail.example.test>, <carol@mail.example.test>, <dave@mail.example.test>")
    );
    assert_eq!(
        raw_header(raw, "To").as_deref(),
        Some("<bob@mail.example.test>, <carol@mail.example.test>")
    );
    assert_eq!(
        raw_header(raw, "Cc").as_deref(),
        Some("<dave@mail.example.test>")
    );
    let mail = MessageParser::default().parse(raw).expect("a mail");
    assert_eq!(
        mail.body_text(0).as_deref().map(str::trim_end),
        Some("lunch at noon, all three of you?")
    );
    // A list naming a recipient the mapping refuses is refused whole.
    let bad = body.replace("sip:carol@mail.example.test", "tel:not-a-number");
    let scenario = message(
        "sip:lunch-group@gw.example.test",
        &["Require: recipient-list-message"],
        "multipart/mixed;boundary=\"rl42\"",
        &bad,
        400,
    );
    w.send(&scenario, "t1");
    assert_eq!(w.mails().len(), 1, "nothing sent for the refused list");
}

#[test]
fn a_message_through_a_record_routing_proxy_becomes_a_mail() {
    let w = world("127.0.0.1");
    let kamailio = Kamailio::start(&[("mail.example.test", w.sip_port)]);
    let proxy = format!("127.0.0.1:{}", kamailio.port);
    for (i, transport) in ["u1", "t1"].into_iter().enumerate() {
        let scenario = message(
            "sip:bob@mail.example.test",
            &[],
            "text/plain;charset=UTF-8",
            &format!("proxied over {transport}"),
            202,
        );
        let run = peers::sipp(&scenario, &proxy, transport);
        assert!(run.success, "{}\n{}", run.output, kamailio.log().join("\n"));
        let mails = w.mails();
        assert_eq!(mails.len(), i + 1);
        let mail = MessageParser::default().parse(&mails[i]).unwrap();
        assert_eq!(
            mail.body_text(0).as_deref().map(str::trim_end),
            Some(format!("proxied over {transport}").as_str())
        );
    }
    // A refusal crosses back too.
    let scenario = message(
        "sip:reject-user@mail.example.test",
        &[],
        "text/plain",
        "x",
        404,
    );
    let run = peers::sipp(&scenario, &proxy, "u1");
    assert!(run.success, "{}", run.output);
    let relayed = kamailio.relayed_when(|r| r.len() >= 3, Duration::from_secs(5));
    assert_eq!(relayed.len(), 3, "{relayed:#?}");
    assert!(
        relayed
            .iter()
            .all(|r| r.ends_with(&format!("-> sip:127.0.0.1:{}", w.sip_port))),
        "{relayed:#?}"
    );
    assert_eq!(w.mails().len(), 2);
}

/// An MX that does not offer 8BITMIME (Postfix with the keyword
/// discarded) gets the 7-bit copy of the same mail (RFC 6152 §3).
#[test]
fn a_server_without_8bitmime_gets_the_mail_in_7_bits() {
    let w = world_with("127.0.0.1", Some("smtpd_discard_ehlo_keywords = 8bitmime"));
    let body = "Grüße aus Zürich, 你好";
    let scenario = message(
        "sip:bob@mail.example.test",
        &[],
        "text/plain;charset=UTF-8",
        body,
        202,
    );
    w.send(&scenario, "u1");
    let postfix = w.postfix.as_ref().unwrap();
    let started = std::time::Instant::now();
    while w.mails().is_empty() && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let mails = w.mails();
    assert_eq!(mails.len(), 1, "{}", postfix.log());
    let raw = &mails[0];
    let encoding = raw_header(raw, "Content-Transfer-Encoding").unwrap_or_default();
    assert!(
        encoding == "base64" || encoding == "quoted-printable",
        "{encoding}"
    );
    let text = String::from_utf8_lossy(raw);
    let body_start = text.find("\r\n\r\n").unwrap();
    assert!(text[body_start..].is_ascii(), "{text}");
    let mail = MessageParser::default().parse(raw).expect("a mail");
    assert_eq!(mail.body_text(0).as_deref().map(str::trim_end), Some(body));
    assert!(
        postfix.log().contains("discarding EHLO keywords: 8BITMIME"),
        "{}",
        postfix.log()
    );
}

#[test]
fn a_request_over_1300_bytes_is_taken_over_tcp() {
    let w = world("127.0.0.1");
    let body = "长".repeat(1000);
    let scenario = message(
        "sip:bob@mail.example.test",
        &[],
        "text/plain;charset=utf-8",
        &body,
        202,
    );
    assert!(scenario.len() > 3000);
    w.send(&scenario, "t1");
    let mails = w.mails();
    assert_eq!(mails.len(), 1);
    let mail = MessageParser::default().parse(&mails[0]).unwrap();
    assert_eq!(
        mail.body_text(0).as_deref().map(str::trim_end),
        Some(body.as_str())
    );
}

#[test]
fn convert_prints_the_mail_without_network() {
    let w = world("127.0.0.1");
    let file = w.scratch.path().join("message.sip");
    std::fs::write(
        &file,
        "MESSAGE sip:bob@mail.example.test SIP/2.0\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1\n\
From: <sip:alice@im.example.test>;tag=1\n\
To: <sip:bob@mail.example.test>\n\
Call-ID: convert-1\n\
CSeq: 1 MESSAGE\n\
Subject: hi\n\
Content-Type: text/plain\n\
Content-Length: 5\n\
\n\
hello",
    )
    .unwrap();
    let out = w
        .scratch
        .run(&["convert", "im-to-email", file.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.starts_with("MAIL FROM:<alice@im.example.test>\nRCPT TO:<bob@mail.example.test>\n\n"),
        "{text}"
    );
    assert!(text.contains("\r\nSubject: hi\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\nhello"), "{text}");
    assert!(w.mails().is_empty(), "convert sends nothing");
}

#[test]
fn cpim_with_imdn_sets_date_subject_and_notification_request() {
    let w = world("127.0.0.1");
    let cpim = "From: <sip:alice@im.example.test>\r
To: <sip:bob@mail.example.test>\r
NS: imdn <urn:ietf:params:imdn>\r
imdn.Message-ID: 34jk324j\r
DateTime: 2026-11-28T21:52:27+08:00\r
Subject: 周末计划\r
imdn.Disposition-Notification: positive-delivery, display\r
\r
Content-Type: text/plain; charset=utf-8\r
\r
周末去爬山吗？";
    let scenario = message("sip:bob@mail.example.test", &[], "message/cpim", cpim, 202);
    w.send(&scenario, "u1");
    let mails = w.mails();
    assert_eq!(mails.len(), 1);
    let raw = &mails[0];
    let mail = MessageParser::default().parse(raw).unwrap();
    assert_eq!(mail.subject(), Some("周末计划"));
    assert_eq!(
        mail.body_text(0).as_deref().map(str::trim_end),
        Some("周末去爬山吗？")
    );
    assert_eq!(
        raw_header(raw, "Date").as_deref(),
        Some("Sat, 28 Nov 2026 21:52:27 +0800")
    );
    assert_eq!(
        raw_header(raw, "Disposition-Notification-To").as_deref(),
        Some("<alice@im.example.test>")
    );
}

#[test]
fn failures_map_to_sip_answers() {
    let w = world("127.0.0.1");
    for (to, expect) in [
        // The mapping plugin has no mailbox for an IM user of ours.
        ("sip:carol@im.example.test", 404),
        // The receiving MTA refuses or defers.
        ("sip:reject-user@mail.example.test", 404),
        ("sip:policy-block@mail.example.test", 403),
        ("sip:too-big@mail.example.test", 413),
        // "Later" from the MTA: accepted and queued for a retry (the
        // sender's UA would not retry a 480 itself).
        ("sip:defer@mail.example.test", 202),
        // No such domain; a domain that takes no mail.
        ("sip:bob@nowhere.example.test", 404),
        ("sip:bob@nullmx.example.test", 404),
        // The only MX is down: queued too.
        ("sip:bob@down.example.test", 202),
    ] {
        let scenario = message(to, &[], "text/plain", "hello", expect);
        w.send(&scenario, "u1");
    }
    // A domain without MX but with an address: the implicit MX takes it.
    w.send(
        &message(
            "sip:bob@plain.example.test",
            &[],
            "text/plain",
            "hello",
            202,
        ),
        "u1",
    );
    // The preferred MX is down: the next one takes it.
    w.send(
        &message(
            "sip:bob@backup.example.test",
            &[],
            "text/plain",
            "hello",
            202,
        ),
        "u1",
    );
    // Unsupported content: 415 with Accept (a signed multipart's meaning
    // cannot cross into a mail).
    w.send(
        &message(
            "sip:bob@mail.example.test",
            &[],
            "multipart/signed;boundary=x",
            "--x--",
            415,
        ),
        "u1",
    );
    assert_eq!(
        w.mails().len(),
        2,
        "only the implicit-MX and backup-MX mails were delivered"
    );
    let queue = w.scratch.run(&["queue", "list", "--config", &w.config()]);
    let listed = String::from_utf8_lossy(&queue.stdout);
    assert!(
        listed.contains("-- 2 message(s): 2 queued"),
        "the deferred and the unreachable one wait in the queue:\n{listed}"
    );
    assert!(listed.contains("4.3.0 Try again later"), "{listed}");
    assert!(listed.contains("no mail server reachable"), "{listed}");
}

#[test]
fn a_retransmitted_message_makes_one_mail() {
    let w = world("127.0.0.1");
    // The same request twice (same branch): the second is a retransmission.
    let scenario = r#"<?xml version="1.0" encoding="UTF-8" ?>
<scenario name="retransmission">
<send><![CDATA[
MESSAGE sip:bob@mail.example.test SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-retx-[call_number]
From: <sip:alice@im.example.test>;tag=[call_number]
To: <sip:bob@mail.example.test>
Call-ID: [call_id]
CSeq: 1 MESSAGE
Max-Forwards: 70
Content-Type: text/plain
Content-Length: [len]

once
]]></send>
<recv response="202"/>
<send><![CDATA[
MESSAGE sip:bob@mail.example.test SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-retx-[call_number]
From: <sip:alice@im.example.test>;tag=[call_number]
To: <sip:bob@mail.example.test>
Call-ID: [call_id]
CSeq: 1 MESSAGE
Max-Forwards: 70
Content-Type: text/plain
Content-Length: [len]

once
]]></send>
<pause milliseconds="1000"/>
</scenario>
"#;
    // sipp takes the second 202 for a retransmission of the first and
    // does not pass it to the scenario: count it in its message log.
    let run = peers::sipp(scenario, &w.target(), "u1");
    assert!(run.success, "{}", run.output);
    let answers = run.output.matches("UDP message received").count();
    let accepted = run.output.matches("SIP/2.0 202 Accepted").count();
    assert!(
        answers >= 2 && accepted >= 2,
        "the retransmission was not answered:\n{}",
        run.output
    );
    assert_eq!(w.mails().len(), 1);
}

#[test]
fn malformed_and_untrusted_requests_are_refused() {
    let w = world("127.0.0.2");
    // Untrusted source: sipp sends from 127.0.0.1, the gateway trusts .2.
    w.send(
        &message("sip:bob@mail.example.test", &[], "text/plain", "hi", 403),
        "u1",
    );
    // Malformed: a header line without a colon, answered 400 with a reason.
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let bad = "MESSAGE sip:bob@mail.example.test SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-bad\r\n\
From: <sip:alice@im.example.test>;tag=1\r\n\
To: <sip:bob@mail.example.test>\r\n\
Call-ID: bad-1\r\n\
CSeq: 1 MESSAGE\r\n\
This line is not a header\r\n\
Content-Length: 0\r\n\r\n";
    socket.send_to(bad.as_bytes(), w.target()).unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = socket
        .recv_from(&mut buf)
        .expect("an answer to the malformed request");
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(
        answer.starts_with("SIP/2.0 400 Bad Request (Malformed header line"),
        "{answer}"
    );
    assert!(answer.contains("Call-ID: bad-1"), "{answer}");
    assert!(w.mails().is_empty());
}

#[test]
fn a_smarthost_takes_all_mail_without_dns() {
    // Postfix's relayhost: every mail goes to the smarthost, even for a
    // domain that is in no DNS at all (no nameserver is configured here).
    let smtp = peers::smtp_sink();
    let scratch = Scratch::new(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"));
    let smarthost = format!("smarthost = \"127.0.0.1:{}\"", smtp.port);
    let (config, ports) =
        scratch.gateway_config(&[("# smarthost = \"127.0.0.1:2526\"", &smarthost)]);
    let mut gateway =
        Gateway::start(scratch.command(&["run", "--config", config.to_str().unwrap()]));
    gateway.wait_for("SIP listening", Duration::from_secs(30));
    let scenario = message(
        "sip:bob@nowhere.invalid",
        &[],
        "text/plain",
        "via smarthost",
        202,
    );
    let run = peers::sipp(&scenario, &format!("127.0.0.1:{}", ports.sip), "u1");
    assert!(run.success, "{}", run.output);
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(
        raw_header(&mails[0], "X-Envelope-To").as_deref(),
        Some("<bob@nowhere.invalid>")
    );
}
