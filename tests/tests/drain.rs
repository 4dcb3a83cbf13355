//! Graceful drain (issue 13): SIGTERM while an SMTP session is in the
//! middle of DATA. The session finishes and its mail becomes an IM; new
//! sessions get `421 4.3.2`, new SIP requests `503` with Retry-After; then
//! the gateway exits 0.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

use interwork_e2e::peers::{self, SippUas};
use interwork_e2e::sipp_message::SippMessage;
use interwork_e2e::{Gateway, Scratch, UnixSignal};

/// Reads one SMTP reply (all its lines); returns its last line.
fn reply(reader: &mut impl BufRead) -> String {
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("a reply line");
        assert!(!line.is_empty(), "the server closed the connection");
        if line.as_bytes().get(3) != Some(&b'-') {
            return line.trim_end().to_string();
        }
    }
}

fn command(stream: &mut TcpStream, reader: &mut impl BufRead, line: &str, expect: &str) {
    stream.write_all(format!("{line}\r\n").as_bytes()).unwrap();
    let got = reply(reader);
    assert!(got.starts_with(expect), "{line} → {got}");
}

/// A MESSAGE during the drain: turned away.
fn message_503() -> String {
    SippMessage::text("too late")
        .from("sip:alice@im.example.test")
        .expect(503)
        .at_once()
        .xml()
}

#[test]
fn sigterm_lets_a_session_in_data_finish_and_turns_new_work_away() {
    let uas = SippUas::start(200, "OK");
    let scratch = Scratch::new(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"));
    let hop = format!("next_hop = \"127.0.0.1:{}\"", uas.port);
    let (config, ports) = scratch.gateway_config(&[
        ("next_hop = \"127.0.0.1:5070\"", hop.as_str()),
        ("drain_secs = 2", "drain_secs = 20"),
    ]);
    let mut gateway =
        Gateway::start(scratch.command(&["run", "--config", config.to_str().unwrap()]));
    gateway.wait_for("interwork ready", Duration::from_secs(30));

    // A session in the middle of DATA.
    let mut smtp = TcpStream::connect(("127.0.0.1", ports.smtp)).unwrap();
    smtp.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(smtp.try_clone().unwrap());
    assert!(reply(&mut reader).starts_with("220 "));
    command(&mut smtp, &mut reader, "EHLO client.example.test", "250 ");
    command(
        &mut smtp,
        &mut reader,
        "MAIL FROM:<bob@mail.example.test>",
        "250 ",
    );
    command(
        &mut smtp,
        &mut reader,
        "RCPT TO:<alice@im.example.test>",
        "250 ",
    );
    command(&mut smtp, &mut reader, "DATA", "354 ");
    smtp.write_all(b"From: <bob@mail.example.test>\r\nSubject: drain\r\n\r\nfirst half,\r\n")
        .unwrap();

    gateway.signal(UnixSignal::SIGTERM);
    gateway.wait_for("interwork draining", Duration::from_secs(5));

    // A new session is told at once.
    let other = TcpStream::connect(("127.0.0.1", ports.smtp)).unwrap();
    other
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let greeting = reply(&mut BufReader::new(other));
    assert!(greeting.starts_with("421 4.3.2"), "{greeting}");
    // So is a new SIP request.
    let run = peers::sipp(&message_503(), &format!("127.0.0.1:{}", ports.sip), "t1");
    assert!(run.success, "{}", run.output);
    assert!(run.output.contains("Retry-After: 5"), "{}", run.output);

    // The session in DATA finishes, and its mail is delivered as an IM.
    smtp.write_all(b"second half.\r\n.\r\n").unwrap();
    let delivered = reply(&mut reader);
    assert!(
        delivered.starts_with("250 2.0.0 Delivered as IM"),
        "{delivered}"
    );
    // Its transaction over, it hears that the gateway is going.
    let told = reply(&mut reader);
    assert!(told.starts_with("421 4.3.2"), "{told}");

    let status = gateway.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "{status}");
    let (ok, log) = uas.finish();
    assert!(ok, "{log}");
    assert!(
        log.contains("first half,") && log.contains("second half."),
        "{log}"
    );
}
