//! Loops between the two networks stop within one hop (SPEC S7's
//! offline-delivery case), through a real Kamailio playing the IM system
//! that routes the gateway's IM straight back to it.

use std::path::PathBuf;
use std::time::Duration;

use interwork_e2e::kamailio::Kamailio;
use interwork_e2e::peers;
use interwork_e2e::{Gateway, Ports, Scratch};

/// A gateway whose IM system (Kamailio) sends IMs for its users back to
/// the gateway, and whose mail goes to its own SMTP server: every mail to
/// a provisioned address can come round again.
fn looping_world() -> (Gateway, Kamailio, Ports, Scratch) {
    let s = Scratch::new(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"));
    std::fs::write(
        s.path().join("directory.toml"),
        "[[address]]\nim = \"sip:+8613812345678@im.example.test\"\nemail = \"zhang.san@gw.example.test\"\n",
    )
    .unwrap();
    // The ports first, then the routes that depend on them.
    let (config, ports) = s.gateway_config(&[]);
    let kamailio = Kamailio::start(&[("im.example.test", ports.sip)]);
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text
        .replace(
            "next_hop = \"127.0.0.1:5070\"",
            &format!("next_hop = \"127.0.0.1:{}\"", kamailio.port),
        )
        .replace("# file = \"directory.toml\"", "file = \"directory.toml\"")
        .replace(
            "# smarthost = \"127.0.0.1:2526\"",
            &format!("smarthost = \"127.0.0.1:{}\"", ports.smtp),
        );
    std::fs::write(&config, text).unwrap();
    let mut gateway = Gateway::start(s.command(&["run", "--config", config.to_str().unwrap()]));
    gateway.wait_for("interwork ready", Duration::from_secs(60));
    (gateway, kamailio, ports, s)
}

#[test]
fn a_mail_whose_im_comes_back_makes_one_im_and_a_554() {
    let (mut gateway, kamailio, ports, _s) = looping_world();
    let (ok, transcript) = peers::swaks(
        ports.smtp,
        &[
            "--from",
            "alice@im.example.test",
            "--to",
            "zhang.san@gw.example.test",
            "--body",
            "are you there?",
        ],
    );
    assert!(!ok, "the looping mail was accepted:\n{transcript}");
    assert!(
        transcript.contains("<** 554 5.4.6 "),
        "not refused as a loop:\n{transcript}"
    );
    gateway.wait_for("made by this gateway from a mail", Duration::from_secs(5));
    // Anything still going round would show within a second.
    std::thread::sleep(Duration::from_secs(1));
    let messages: Vec<String> = kamailio
        .relayed()
        .into_iter()
        .filter(|r| r.starts_with("MESSAGE "))
        .collect();
    eprintln!("IMs made by one looping mail: {}", messages.len());
    assert_eq!(messages.len(), 1, "{messages:#?}");
    // Neither delivered nor queued: no mail was made of the IM.
    assert!(
        !gateway.has_logged("im-to-mail delivered"),
        "a mail was made"
    );
    assert!(
        !gateway
            .log
            .iter()
            .any(|l| l.contains("queue_id=") && !l.contains("queue_id=-")),
        "a mail was queued"
    );
}

#[test]
fn a_mail_with_too_many_received_fields_is_554_5_4_6() {
    let (_gateway, kamailio, ports, _s) = looping_world();
    let mut args = vec![
        "--from".to_string(),
        "bob@mail.example.test".to_string(),
        "--to".to_string(),
        "zhang.san@gw.example.test".to_string(),
    ];
    for hop in 0..26 {
        args.push("--add-header".into());
        args.push(format!(
            "Received: from relay{hop}.example.test by relay{}.example.test; Wed, 2 Dec 2026 10:00:00 +0000",
            hop + 1
        ));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, transcript) = peers::swaks(ports.smtp, &args);
    assert!(!ok, "{transcript}");
    assert!(
        transcript.contains("<** 554 5.4.6 Too many hops"),
        "{transcript}"
    );
    assert!(kamailio.relayed().is_empty(), "an IM was made");
}

#[test]
fn a_bounce_is_not_turned_into_a_chat_message() {
    let (_gateway, kamailio, ports, _s) = looping_world();
    let (ok, transcript) = peers::swaks(
        ports.smtp,
        &[
            "--from",
            "<>",
            "--header",
            "From: Mail Delivery System <MAILER-DAEMON@mail.example.test>",
            "--to",
            "zhang.san@gw.example.test",
            "--body",
            "Your message could not be delivered.",
        ],
    );
    assert!(!ok, "{transcript}");
    assert!(
        transcript.contains("<** 550 5.7.1 Automatic mail"),
        "{transcript}"
    );
    assert!(kamailio.relayed().is_empty(), "an IM was made");
}
