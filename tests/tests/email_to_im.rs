//! E-mail → IM end to end (SPEC S6): swaks sends mail to the real gateway's
//! SMTP server, which turns it into a SIP MESSAGE (CPIM + IMDN) to a sipp
//! UAS playing the IM system; the SIP answer decides the SMTP reply.

use std::path::PathBuf;
use std::time::Duration;

use interwork_e2e::kamailio::Kamailio;
use interwork_e2e::peers::{self, SippUas};
use interwork_e2e::sipp_message::SippMessage;
use interwork_e2e::{Gateway, Ports, Scratch};

struct World {
    _gateway: Gateway,
    _scratch: Scratch,
    ports: Ports,
}

fn world(uas_port: u16) -> World {
    world_with(uas_port, &[], |_| {})
}

/// A gateway whose IM system is the sipp UAS on `uas_port`; `extra`
/// replaces configuration lines, `prepare` puts files in its directory.
fn world_with(
    uas_port: u16,
    extra: &[(&str, &str)],
    prepare: impl FnOnce(&std::path::Path),
) -> World {
    let scratch = Scratch::new(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"));
    prepare(scratch.path());
    let hop = format!("next_hop = \"127.0.0.1:{uas_port}\"");
    let mut lines = vec![("next_hop = \"127.0.0.1:5070\"", hop.as_str())];
    lines.extend_from_slice(extra);
    let (config, ports) = scratch.gateway_config(&lines);
    let mut gateway =
        Gateway::start(scratch.command(&["run", "--config", config.to_str().unwrap()]));
    gateway.wait_for("SMTP listening", Duration::from_secs(30));
    World {
        _gateway: gateway,
        _scratch: scratch,
        ports,
    }
}

/// The request line and headers of the first request in a sipp log.
fn received_request(log: &str) -> String {
    let start = log.find("MESSAGE sip:").expect("a MESSAGE in the sipp log");
    log[start..].to_string()
}

#[test]
fn a_mail_becomes_a_cpim_message_and_250() {
    let uas = SippUas::start(200, "OK");
    let w = world(uas.port);
    let (ok, transcript) = peers::swaks(
        w.ports.smtp,
        &[
            "--from",
            "bob@mail.example.test",
            "--to",
            "alice@im.example.test",
            "--header",
            "Subject: =?UTF-8?B?5Y2I6aWt?=",
            "--add-header",
            "Disposition-Notification-To: <bob@mail.example.test>",
            "--body",
            "好的, see you at noon",
        ],
    );
    assert!(ok, "{transcript}");
    assert!(
        transcript.contains("<-  250 2.0.0 Delivered as IM"),
        "{transcript}"
    );
    let (sipp_ok, log) = uas.finish();
    assert!(sipp_ok, "{log}");
    let request = received_request(&log);
    assert!(
        request.starts_with("MESSAGE sip:alice@im.example.test SIP/2.0"),
        "{request}"
    );
    assert!(
        request.contains("From: <sip:bob@mail.example.test>;tag="),
        "{request}"
    );
    assert!(
        request.contains("To: <sip:alice@im.example.test>"),
        "{request}"
    );
    assert!(request.contains("Content-Type: message/cpim"), "{request}");
    // CPIM (RFC 3862) with the IMDN request (RFC 5438 §7.1.1).
    assert!(
        request.contains("\nFrom: <sip:bob@mail.example.test>"),
        "{request}"
    );
    assert!(
        request.contains("\nTo: <sip:alice@im.example.test>"),
        "{request}"
    );
    assert!(
        request.contains("\nNS: imdn <urn:ietf:params:imdn>"),
        "{request}"
    );
    assert!(request.contains("\nimdn.Message-ID: "), "{request}");
    assert!(request.contains("\nDateTime: "), "{request}");
    assert!(
        request.contains("\nimdn.Disposition-Notification: negative-delivery, display"),
        "{request}"
    );
    assert!(request.contains("\nSubject: 午饭"), "{request}");
    assert!(
        request.contains("\nContent-Type: text/plain;charset=utf-8"),
        "{request}"
    );
    assert!(request.contains("好的, see you at noon"), "{request}");
}

#[test]
fn a_mail_to_two_im_users_becomes_two_ims() {
    let uas = SippUas::calls_on(peers::free_port(), 2, 200, "OK");
    let w = world(uas.port);
    let (ok, transcript) = peers::swaks(
        w.ports.smtp,
        &[
            "--from",
            "bob@mail.example.test",
            "--to",
            "alice@im.example.test,carol@im.example.test",
            "--body",
            "to both of you",
        ],
    );
    assert!(ok, "{transcript}");
    assert!(
        transcript.contains("<-  250 2.0.0 Taken for 2 of 2 IM recipients"),
        "{transcript}"
    );
    let (sipp_ok, log) = uas.finish();
    assert!(sipp_ok, "{log}");
    for user in ["alice", "carol"] {
        assert_eq!(
            log.matches(&format!("MESSAGE sip:{user}@im.example.test SIP/2.0"))
                .count(),
            1,
            "one IM for {user}: {log}"
        );
    }
    assert_eq!(log.matches("to both of you").count(), 2, "{log}");
}

#[test]
fn sip_failures_become_smtp_replies() {
    for (code, reason, expect) in [
        (404, "Not Found", "550 5.1.1"),
        (403, "Forbidden", "550 5.7.1"),
        (486, "Busy Here", "450 4.2.1"),
        (480, "Temporarily Unavailable", "451 4.4.1"),
        (415, "Unsupported Media Type", "554 5.6.1"),
    ] {
        let uas = SippUas::start(code, reason);
        let w = world(uas.port);
        let (ok, transcript) = peers::swaks(
            w.ports.smtp,
            &[
                "--from",
                "bob@mail.example.test",
                "--to",
                "alice@im.example.test",
                "--body",
                "hi",
            ],
        );
        assert!(!ok, "{code}: {transcript}");
        assert!(
            transcript.contains(&format!("<** {expect}")),
            "{code}: {transcript}"
        );
        let (sipp_ok, log) = uas.finish();
        assert!(sipp_ok, "{log}");
    }
}

#[test]
fn relaying_and_unknown_users_are_refused_at_rcpt() {
    let uas = SippUas::start(200, "OK");
    let w = world(uas.port);
    for (to, expect) in [
        ("bob@elsewhere.example.test", "550 5.7.1"),
        ("nobody@gw.example.test", "550 5.1.1"),
    ] {
        let (ok, transcript) = peers::swaks(
            w.ports.smtp,
            &["--from", "bob@mail.example.test", "--to", to],
        );
        assert!(!ok, "{to}: {transcript}");
        assert!(
            transcript.contains(&format!("<** {expect}")),
            "{to}: {transcript}"
        );
    }
}

/// The MSRP receiver's thread: it returns the message and its chunk sizes.
type MsrpReceived = std::thread::JoinHandle<(Vec<u8>, Vec<usize>)>;

/// The IM side's MSRP receiver: accepts the gateway's connection, answers
/// each SEND with 200 (written by hand from RFC 4975 §7.2), and returns the
/// reassembled message and the chunk sizes.
fn msrp_receiver(listener: std::net::TcpListener) -> MsrpReceived {
    use std::io::{BufRead, BufReader, Read, Write};
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("the gateway connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        let (mut message, mut sizes) = (Vec::new(), Vec::new());
        loop {
            let mut start = String::new();
            reader.read_line(&mut start).unwrap();
            let mut parts = start.split_whitespace();
            assert_eq!(parts.next(), Some("MSRP"), "{start}");
            let tid = parts.next().unwrap().to_string();
            assert_eq!(parts.next(), Some("SEND"), "{start}");
            let (mut to, mut from, mut range) = (String::new(), String::new(), String::new());
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end().to_string();
                if line.is_empty() {
                    break;
                }
                if let Some(v) = line.strip_prefix("To-Path: ") {
                    to = v.to_string();
                } else if let Some(v) = line.strip_prefix("From-Path: ") {
                    from = v.to_string();
                } else if let Some(v) = line.strip_prefix("Byte-Range: ") {
                    range = v.to_string();
                }
            }
            // Byte-Range start-end/total gives the body length.
            let (span, _) = range.split_once('/').unwrap();
            let (first, last) = span.split_once('-').unwrap();
            let len = last.parse::<usize>().unwrap() - first.parse::<usize>().unwrap() + 1;
            let mut body = vec![0u8; len];
            reader.read_exact(&mut body).unwrap();
            let mut end = String::new();
            reader.read_line(&mut end).unwrap(); // CRLF before the end-line
            end.clear();
            reader.read_line(&mut end).unwrap();
            assert!(end.starts_with(&format!("-------{tid}")), "{end:?}");
            message.extend_from_slice(&body);
            sizes.push(len);
            let response = format!(
                "MSRP {tid} 200 OK\r\nTo-Path: {from}\r\nFrom-Path: {to}\r\n-------{tid}$\r\n"
            );
            writer.write_all(response.as_bytes()).unwrap();
            if end.trim_end().ends_with('$') {
                return (message, sizes);
            }
        }
    })
}

/// The IM side's MSRP receiver on a free loopback port: the port, the
/// `a=path` URI of `session` on it, and the thread that returns what came.
fn msrp_peer(session: &str) -> (u16, String, MsrpReceived) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let path = format!("msrp://127.0.0.1:{port}/{session};tcp");
    (port, path, msrp_receiver(listener))
}

/// swaks's `--body` argument for `body`, written to a file in the
/// gateway's scratch directory.
fn body_file_arg(w: &World, body: &str) -> String {
    let file = w._scratch.path().join("body.txt");
    std::fs::write(&file, body).unwrap();
    format!("@{}", file.display())
}

#[test]
fn large_mails_go_as_invite_and_msrp_chunks() {
    for size in [3000usize, 1_000_000] {
        let (msrp_port, path, receiver) = msrp_peer(&format!("imside{size}"));
        let uas = SippUas::start_msrp(&path, msrp_port);
        let w = world(uas.port);
        let line = "0123456789 abcdefghijklmnopqrstuvwxyz 你好\n";
        let body = line.repeat(size / line.len() + 1);
        let body_arg = body_file_arg(&w, &body);
        let (ok, transcript) = peers::swaks(
            w.ports.smtp,
            &[
                "--from",
                "bob@mail.example.test",
                "--to",
                "alice@im.example.test",
                "--header",
                "Subject: big",
                "--add-header",
                "Content-Type: text/plain; charset=utf-8",
                "--body",
                &body_arg,
            ],
        );
        assert!(ok, "{size}: {transcript}");
        assert!(
            transcript.contains("<-  250 2.0.0 Delivered as IM (MSRP)"),
            "{transcript}"
        );
        let (message, sizes) = receiver.join().unwrap();
        assert!(sizes.iter().all(|&s| s <= 2048), "{sizes:?}");
        assert_eq!(sizes.len(), message.len().div_ceil(2048));
        let text = String::from_utf8(message).unwrap();
        assert!(
            text.starts_with(
                "From: <sip:bob@mail.example.test>\r\nTo: <sip:alice@im.example.test>\r\n"
            ),
            "{}",
            &text[..200]
        );
        assert!(text.contains("\r\nSubject: big\r\n"));
        // The content after the CPIM headers is the mail body (swaks ends
        // lines with CRLF), byte for byte.
        let content = text
            .split_once("\r\n\r\n")
            .unwrap()
            .1
            .split_once("\r\n\r\n")
            .unwrap()
            .1;
        assert_eq!(
            content.replace("\r\n", "\n").trim_end(),
            body.trim_end(),
            "{size}"
        );
        let (sipp_ok, log) = uas.finish();
        assert!(sipp_ok, "{log}");
        assert!(
            log.contains("INVITE sip:alice@im.example.test SIP/2.0"),
            "{log}"
        );
        assert!(log.contains("a=setup:active"), "{log}");
        assert!(log.contains("BYE sip:im@127.0.0.1"), "{log}");
    }
}

#[test]
fn a_large_mail_dialog_goes_through_a_record_routing_proxy() {
    let (msrp_port, path, receiver) = msrp_peer("proxied");
    let uas = SippUas::start_msrp_behind_proxy(&path, msrp_port);
    let kamailio = Kamailio::start(&[("im.example.test", uas.port)]);
    let w = world(kamailio.port);
    let body_arg = body_file_arg(&w, &"through the proxy\n".repeat(200));
    let (ok, transcript) = peers::swaks(
        w.ports.smtp,
        &[
            "--from",
            "bob@mail.example.test",
            "--to",
            "alice@im.example.test",
            "--body",
            &body_arg,
        ],
    );
    assert!(ok, "{transcript}");
    assert!(
        transcript.contains("Delivered as IM (MSRP)"),
        "{transcript}"
    );
    let (message, _) = receiver.join().unwrap();
    assert!(String::from_utf8_lossy(&message).contains("through the proxy"));
    let contact = format!("sip:im@127.0.0.1:{}", uas.port);
    let (sipp_ok, log) = uas.finish();
    assert!(sipp_ok, "the IM side never got its BYE:\n{log}");
    // ACK and BYE went through the proxy, loose-routed (RFC 3261 §12.2.1.1),
    // to the UAS's Contact; Kamailio found a route for each.
    let relayed = kamailio.relayed_when(
        |r| {
            ["INVITE", "ACK", "BYE"]
                .iter()
                .all(|m| r.iter().any(|l| l.starts_with(m)))
        },
        Duration::from_secs(5),
    );
    for method in ["INVITE", "ACK", "BYE"] {
        assert!(
            relayed.iter().any(|r| r.starts_with(method)),
            "{method} did not cross the proxy: {relayed:#?}"
        );
    }
    assert!(
        relayed
            .iter()
            .any(|r| r.starts_with(&format!("BYE {contact}"))),
        "{relayed:#?}"
    );
    let noroute = kamailio.noroute();
    assert!(noroute.is_empty(), "{noroute:#?}");
    assert!(log.contains("Route: <sip:127.0.0.1:"), "{log}");
}

/// Pager mode behind the IM system's record-routing proxy: the MESSAGE
/// crosses Kamailio (which record-routes it, a Record-Route nobody needs
/// for a MESSAGE) and its 200 comes back through it to the gateway.
#[test]
fn a_mail_becomes_an_im_through_a_record_routing_proxy() {
    let uas = SippUas::start(200, "OK");
    let kamailio = Kamailio::start(&[("im.example.test", uas.port)]);
    let w = world(kamailio.port);
    let uas_port = uas.port;
    let (ok, transcript) = peers::swaks(
        w.ports.smtp,
        &[
            "--from",
            "bob@mail.example.test",
            "--to",
            "alice@im.example.test",
            "--body",
            "through the proxy, in pager mode",
        ],
    );
    assert!(ok, "{transcript}");
    assert!(
        transcript.contains("<-  250 2.0.0 Delivered as IM"),
        "{transcript}"
    );
    let (sipp_ok, log) = uas.finish();
    assert!(sipp_ok, "{log}");
    let request = received_request(&log);
    assert!(
        request.contains("through the proxy, in pager mode"),
        "{request}"
    );
    assert!(
        request.contains("Record-Route: <sip:127.0.0.1:"),
        "{request}"
    );
    let relayed = kamailio.relayed_when(|r| !r.is_empty(), Duration::from_secs(5));
    assert_eq!(
        relayed,
        [format!(
            "MESSAGE sip:alice@im.example.test -> sip:127.0.0.1:{uas_port}"
        )],
        "one MESSAGE crossed the proxy"
    );
}

#[test]
fn the_im_user_can_reply_to_the_mail_sender() {
    // The IM system (sipp UAS), and bob's mail system (dnsmasq MX → aiosmtpd).
    let uas = SippUas::start(200, "OK");
    let smtp = peers::smtp_sink();
    let dns = peers::dnsmasq(
        &[("mail.example.test", "mx.mail.example.test", 10)],
        &[("mx.mail.example.test", "127.0.0.1")],
    );
    let delivery = format!("delivery_port = {}", smtp.port);
    let nameserver = format!("nameserver = \"127.0.0.1:{}\"", dns.port);
    let w = world_with(
        uas.port,
        &[
            ("delivery_port = 25", &delivery),
            ("# nameserver = \"127.0.0.1:5354\"", &nameserver),
        ],
        |_| {},
    );
    let ports = w.ports;

    // 1. bob mails alice: the IM arrives from bob's own address as identity.
    let (ok, transcript) = peers::swaks(
        ports.smtp,
        &[
            "--from",
            "bob@mail.example.test",
            "--to",
            "alice@im.example.test",
            "--body",
            "lunch?",
        ],
    );
    assert!(ok, "{transcript}");
    let (sipp_ok, log) = uas.finish();
    assert!(sipp_ok, "{log}");
    let request = received_request(&log);
    let from_line = request.lines().find(|l| l.starts_with("From: ")).unwrap();
    let sender = from_line
        .trim_start_matches("From: <")
        .split('>')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(sender, "sip:bob@mail.example.test");

    // 2. alice answers that identity: the reply is a mail to bob.
    let scenario = SippMessage::text("yes, noon")
        .from("sip:alice@im.example.test")
        .to(&sender)
        .xml();
    let run = peers::sipp(&scenario, &format!("127.0.0.1:{}", ports.sip), "u1");
    assert!(run.success, "{}", run.output);
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    let text = String::from_utf8_lossy(&mails[0]);
    assert!(
        text.contains("X-Envelope-To: <bob@mail.example.test>"),
        "{text}"
    );
    assert!(
        text.contains("X-Envelope-From: <alice@im.example.test>"),
        "{text}"
    );
    assert!(text.contains("yes, noon"), "{text}");
}

#[test]
fn postfix_defers_on_480_retries_and_bounces_on_404() {
    let ims_port = peers::free_port();
    let first = SippUas::start_on(ims_port, 480, "Temporarily Unavailable");
    let w = world(ims_port);
    let postfix = peers::Postfix::start(w.ports.smtp);
    let submit = |to: &str| {
        let (ok, transcript) = peers::swaks(
            postfix.port,
            &[
                "--from",
                "bob@mail.example.test",
                "--to",
                to,
                "--body",
                "via postfix",
            ],
        );
        assert!(ok, "{transcript}");
    };
    // 480 from the IM system: the gateway says 451, Postfix keeps the mail.
    submit("alice@im.example.test");
    postfix.wait_for(
        &["to=<alice@im.example.test>", "status=deferred", "451 4.4.1"],
        Duration::from_secs(60),
    );
    let (ok, log) = first.finish();
    assert!(ok, "{log}");
    // The IM system is back: the retry goes through, nothing was lost.
    let second = SippUas::start_on(ims_port, 200, "OK");
    postfix.flush();
    postfix.wait_for(
        &["to=<alice@im.example.test>", "status=sent", "250 2.0.0"],
        Duration::from_secs(60),
    );
    let (ok, log) = second.finish();
    assert!(ok, "{log}");
    assert!(received_request(&log).contains("via postfix"), "{log}");
    // 404: a permanent failure, Postfix bounces.
    let third = SippUas::start_on(ims_port, 404, "Not Found");
    submit("carol@im.example.test");
    postfix.wait_for(
        &["to=<carol@im.example.test>", "status=bounced", "550 5.1.1"],
        Duration::from_secs(60),
    );
    let (ok, log) = third.finish();
    assert!(ok, "{log}");
}

#[test]
fn attachments_travel_as_multipart_mixed_in_cpim_when_the_plugin_asks() {
    // `conversion.attachments = "carry"`: the default conversion hands the
    // mail's picture on; the host writes multipart/mixed inside CPIM.
    let uas = SippUas::start(200, "OK");
    let w = world_with(
        uas.port,
        &[(
            "\"corp.domain\" = \"corp.example.test\"",
            "\"corp.domain\" = \"corp.example.test\"\n\"conversion.attachments\" = \"carry\"",
        )],
        |_| {},
    );
    let png = w._scratch.path().join("p.png");
    std::fs::write(&png, [0x89, b'P', b'N', b'G', 13, 10, 26, 10]).unwrap();
    let attach = format!("@{}", png.display());
    let (ok, transcript) = peers::swaks(
        w.ports.smtp,
        &[
            "--from",
            "bob@mail.example.test",
            "--to",
            "alice@im.example.test",
            "--body",
            "the photo",
            "--attach-type",
            "image/png",
            "--attach-name",
            "p.png",
            "--attach",
            &attach,
        ],
    );
    assert!(ok, "{transcript}");
    let (sipp_ok, log) = uas.finish();
    assert!(sipp_ok, "{log}");
    assert!(log.contains("MESSAGE sip:"), "{transcript}\n---\n{log}");
    let request = received_request(&log);
    assert!(request.contains("Content-Type: message/cpim"), "{request}");
    assert!(
        request.contains("\nContent-Type: multipart/mixed; boundary=\"=_interwork_"),
        "{request}"
    );
    assert!(request.contains("the photo"), "{request}");
    assert!(request.contains("Content-Type: image/png"), "{request}");
    assert!(
        request.contains("Content-Disposition: attachment; filename=\"p.png\""),
        "{request}"
    );
    assert!(request.contains("PNG"), "{request}");
}

#[test]
fn quoted_printable_attachments_and_html_become_readable_text() {
    // Quoted-printable UTF-8 with an attachment and In-Reply-To: the IM
    // carries the text part.
    let uas = SippUas::start(200, "OK");
    let w = world(uas.port);
    let png = w._scratch.path().join("p.png");
    std::fs::write(&png, [0x89, b'P', b'N', b'G', 13, 10, 26, 10]).unwrap();
    let attach = format!("@{}", png.display());
    let (ok, transcript) = peers::swaks(
        w.ports.smtp,
        &[
            "--from",
            "bob@mail.example.test",
            "--to",
            "alice@im.example.test",
            "--add-header",
            "In-Reply-To: <abc@gw.example.test>",
            "--body",
            "caf\u{e9} cr\u{e8}me",
            "--attach-type",
            "image/png",
            "--attach-name",
            "p.png",
            "--attach",
            &attach,
        ],
    );
    assert!(ok, "{transcript}");
    let (sipp_ok, log) = uas.finish();
    assert!(sipp_ok, "{log}");
    let request = received_request(&log);
    assert!(request.contains("café crème"), "{request}");
    assert!(
        !request.contains("PNG"),
        "the attachment is not the IM text: {request}"
    );

    // An HTML-only mail becomes readable text.
    let uas = SippUas::start(200, "OK");
    let w = world(uas.port);
    let (ok, transcript) = peers::swaks(
        w.ports.smtp,
        &[
            "--from",
            "bob@mail.example.test",
            "--to",
            "alice@im.example.test",
            "--add-header",
            "Content-Type: text/html; charset=utf-8",
            "--add-header",
            "Content-Transfer-Encoding: quoted-printable",
            "--body",
            "<html><body><p>Hello <b>Alice</b> =E4=BD=A0=E5=A5=BD</p></body></html>",
        ],
    );
    assert!(ok, "{transcript}");
    let (sipp_ok, log) = uas.finish();
    assert!(sipp_ok, "{log}");
    let request = received_request(&log);
    assert!(
        request.contains("Content-Type: text/plain;charset=utf-8"),
        "{request}"
    );
    assert!(request.contains("Hello Alice 你好"), "{request}");
    assert!(!request.contains("<b>"), "{request}");
}

#[test]
fn starttls_is_offered_when_a_certificate_is_configured() {
    let uas = SippUas::start(200, "OK");
    // A self-signed certificate made with openssl in the gateway's directory.
    let make_certificate = |dir: &std::path::Path| {
        let status = std::process::Command::new("openssl")
            .current_dir(dir)
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args([
                "-subj",
                "/CN=gw.example.test",
                "-keyout",
                "smtp.key",
                "-out",
                "smtp.crt",
            ])
            .output()
            .expect("openssl runs");
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
    };
    let w = world_with(
        uas.port,
        &[
            (
                "# tls_certificate = \"smtp.crt\"",
                "tls_certificate = \"smtp.crt\"",
            ),
            (
                "# tls_private_key = \"smtp.key\"",
                "tls_private_key = \"smtp.key\"",
            ),
        ],
        make_certificate,
    );
    let ports = w.ports;
    let (ok, transcript) = peers::swaks(
        ports.smtp,
        &[
            "--tls",
            "--from",
            "bob@mail.example.test",
            "--to",
            "alice@im.example.test",
            "--body",
            "secret lunch",
        ],
    );
    assert!(ok, "{transcript}");
    assert!(
        transcript.contains("<-  250-STARTTLS") || transcript.contains("<-  250 STARTTLS"),
        "{transcript}"
    );
    assert!(
        transcript.contains("<-  220 2.0.0 Ready to start TLS"),
        "{transcript}"
    );
    assert!(transcript.contains("TLS started"), "{transcript}");
    assert!(
        transcript.contains("<~  250 2.0.0 Delivered as IM"),
        "{transcript}"
    );
    let (sipp_ok, log) = uas.finish();
    assert!(sipp_ok, "{log}");
    assert!(received_request(&log).contains("secret lunch"));
}

#[test]
fn an_idle_client_is_told_421_and_disconnected() {
    use std::io::{BufRead, BufReader, Write};
    let uas = SippUas::start(200, "OK");
    let w = world_with(
        uas.port,
        &[
            ("command_timeout_secs = 300", "command_timeout_secs = 1"),
            ("data_timeout_secs = 600", "data_timeout_secs = 2"),
        ],
        |_| {},
    );
    let ports = w.ports;
    let read_all = |stream: std::net::TcpStream, say: &[&str]| {
        let mut writer = stream.try_clone().unwrap();
        for line in say {
            writer.write_all(format!("{line}\r\n").as_bytes()).unwrap();
        }
        let started = std::time::Instant::now();
        let lines: Vec<String> = BufReader::new(stream)
            .lines()
            .map_while(Result::ok)
            .collect();
        (lines, started.elapsed())
    };
    // Silent after the greeting: 421 after the command timeout, then close.
    let stream = std::net::TcpStream::connect(("127.0.0.1", ports.smtp)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (lines, took) = read_all(stream, &[]);
    assert_eq!(
        lines.last().map(String::as_str),
        Some("421 4.4.2 Timeout, closing connection"),
        "{lines:?}"
    );
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(5),
        "{took:?}"
    );
    // Stalled inside DATA: the data timeout applies.
    let stream = std::net::TcpStream::connect(("127.0.0.1", ports.smtp)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (lines, took) = read_all(
        stream,
        &[
            "EHLO x",
            "MAIL FROM:<bob@mail.example.test>",
            "RCPT TO:<alice@im.example.test>",
            "DATA",
            "half a line",
        ],
    );
    assert_eq!(
        lines.last().map(String::as_str),
        Some("421 4.4.2 Timeout, closing connection"),
        "{lines:?}"
    );
    assert!(took >= Duration::from_secs(2), "{took:?}");
    drop(uas);
}
