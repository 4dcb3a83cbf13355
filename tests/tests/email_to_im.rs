//! E-mail → IM end to end (SPEC S6): swaks sends mail to the real gateway's
//! SMTP server, which turns it into a SIP MESSAGE (CPIM + IMDN) to a sipp
//! UAS playing the IM system; the SIP answer decides the SMTP reply.

use std::path::PathBuf;
use std::time::Duration;

use interwork_e2e::peers::{self, SippUas};
use interwork_e2e::{Gateway, Ports, Scratch};

struct World {
    _gateway: Gateway,
    _scratch: Scratch,
    ports: Ports,
}

fn world(uas_port: u16) -> World {
    let scratch = Scratch::new(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"));
    let hop = format!("next_hop = \"127.0.0.1:{uas_port}\"");
    let (config, ports) = scratch.gateway_config(&[("next_hop = \"127.0.0.1:5070\"", &hop)]);
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
        request.contains(
            "\nimdn.Disposition-Notification: positive-delivery, negative-delivery, display"
        ),
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
