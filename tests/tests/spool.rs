//! The spool end to end (issue 9): an IM is answered once its mail is in
//! the store, and the mail arrives however long the MX takes to come —
//! across a `kill -9` of the gateway, through greylisting, and under the
//! queue tools. sipp sends, dnsmasq points at the MX, aiosmtpd receives.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use interwork_e2e::peers::{self, Peer};
use interwork_e2e::sipp_message::SippMessage;
use interwork_e2e::{Gateway, Scratch};

/// A gateway whose MX (mx.mail.example.test, 127.0.0.1:`mx_port`) may or
/// may not be listening, retrying after 1 s, 2 s, 2 s … and looking at the
/// queue every 100 ms.
struct World {
    _dns: Peer,
    scratch: Scratch,
    config: PathBuf,
    sip_port: u16,
    smtp_port: u16,
    mx_port: u16,
}

fn world(retry_minimum_secs: u64) -> World {
    let mx_port = peers::free_port();
    let dns = peers::dnsmasq(
        &[("mail.example.test", "mx.mail.example.test", 10)],
        &[("mx.mail.example.test", "127.0.0.1")],
    );
    let scratch = Scratch::new(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"));
    let (config, ports) = scratch.gateway_config(&[
        ("delivery_port = 25", &format!("delivery_port = {mx_port}")),
        ("delivery_deadline_secs = 20", "delivery_deadline_secs = 5"),
        (
            "# nameserver = \"127.0.0.1:5354\"",
            &format!("nameserver = \"127.0.0.1:{}\"", dns.port),
        ),
        (
            "retry_minimum_secs = 300",
            &format!("retry_minimum_secs = {retry_minimum_secs}"),
        ),
        (
            "retry_maximum_secs = 4000",
            &format!("retry_maximum_secs = {}", retry_minimum_secs.max(2)),
        ),
        ("scan_interval_ms = 1000", "scan_interval_ms = 100"),
    ]);
    World {
        _dns: dns,
        scratch,
        config,
        sip_port: ports.sip,
        smtp_port: ports.smtp,
        mx_port,
    }
}

/// IM number `[call_number]` to `to`, answered `expect`.
fn im(to: &str, expect: u16) -> String {
    SippMessage::text("spooled message [call_number]")
        .from("sip:alice@im.example.test")
        .to(to)
        .expect(expect)
        .xml()
}

impl World {
    fn start(&self) -> Gateway {
        self.scratch.start_gateway(&self.config)
    }

    fn send(&self, gateway: &Gateway, scenario: &str, calls: usize) {
        let run = peers::sipp_calls(
            scenario,
            &format!("127.0.0.1:{}", self.sip_port),
            "u1",
            calls,
        );
        assert!(
            run.success,
            "sipp failed:\n{}\n--- gateway log\n{}",
            run.output,
            gateway.log.join("\n")
        );
    }

    /// `interwork queue ARGS`: exit code and standard output.
    fn queue(&self, args: &[&str]) -> (i32, String) {
        let mut all = vec!["queue"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--config", self.config.to_str().unwrap()]);
        let out = self.scratch.run(&all);
        (
            out.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    fn store_file(&self) -> PathBuf {
        self.scratch.path().join("interwork/store.sqlite")
    }
}

fn message_id(mail: &[u8]) -> String {
    let parsed = mail_parser::MessageParser::default()
        .parse(mail)
        .expect("a mail");
    parsed.message_id().expect("a Message-ID").to_string()
}

/// The ids of `queue list`, in order.
fn listed_ids(listing: &str) -> Vec<String> {
    listing
        .lines()
        .skip(1)
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(|l| l.split_whitespace().next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn accepted_ims_survive_kill_9_while_the_mx_is_down_and_arrive_once_each() {
    const N: usize = 20;
    let w = world(1);
    let mut gateway = w.start();
    // The MX is down: every IM is answered 202 once stored.
    w.send(&gateway, &im("sip:bob@mail.example.test", 202), N);
    let (_, listing) = w.queue(&["list"]);
    assert!(
        listing.contains(&format!("-- {N} message(s): {N} queued")),
        "{listing}"
    );
    gateway.has_logged("");
    assert!(
        gateway
            .log
            .iter()
            .any(|l| l.contains("im-to-mail deferred") && l.contains("no mail server reachable")),
        "{:?}",
        gateway.log
    );
    gateway.kill();
    assert!(w.store_file().exists());
    // The MX comes back, the gateway is started again on the same store.
    let sink = peers::smtp_sink_on(w.mx_port);
    let gateway = w.start();
    let mails = sink.mails_when(N, Duration::from_secs(30));
    // A little longer: a duplicate would come now.
    std::thread::sleep(Duration::from_millis(500));
    let mails = if mails.len() == N {
        sink.mails()
    } else {
        mails
    };
    let ids: HashSet<String> = mails.iter().map(|m| message_id(m)).collect();
    assert_eq!(
        (mails.len(), ids.len()),
        (N, N),
        "{N} mails, each once; gateway log:\n{}",
        gateway.log.join("\n")
    );
    for n in 1..=N {
        let body = format!("spooled message {n}");
        assert!(
            mails
                .iter()
                .any(|m| String::from_utf8_lossy(m).contains(&body)),
            "{body} missing"
        );
    }
    let (_, listing) = w.queue(&["list"]);
    assert!(listing.contains("-- 0 message(s)"), "{listing}");
}

#[test]
fn a_greylisting_mx_gets_the_mail_on_the_retry_and_the_sender_its_202_at_once() {
    let w = world(1);
    let sink = peers::smtp_sink_on(w.mx_port);
    let gateway = w.start();
    let started = Instant::now();
    w.send(&gateway, &im("sip:greylist@mail.example.test", 202), 1);
    let answered = started.elapsed();
    assert!(
        answered < Duration::from_secs(1),
        "answered after {answered:?}"
    );
    assert!(sink.mails().is_empty(), "greylisted the first time");
    let (_, listing) = w.queue(&["list"]);
    assert!(listing.contains("4.7.1 Greylisted"), "{listing}");
    let mails = sink.mails_when(1, Duration::from_secs(15));
    assert_eq!(mails.len(), 1, "delivered on the retry");
    assert!(String::from_utf8_lossy(&mails[0]).contains("spooled message 1"));
    let (_, listing) = w.queue(&["list"]);
    assert!(listing.contains("-- 0 message(s)"), "{listing}");
}

#[test]
fn the_queue_tools_list_show_hold_release_delete_and_flush() {
    // Retries only when flushed or released (5 minutes otherwise).
    let w = world(300);
    let gateway = w.start();
    w.send(&gateway, &im("sip:bob@mail.example.test", 202), 3);
    let (code, listing) = w.queue(&["list"]);
    assert_eq!(code, 0, "{listing}");
    assert!(listing.starts_with("ID "), "{listing}");
    assert!(
        listing.contains("-- 3 message(s): 3 queued, 0 held"),
        "{listing}"
    );
    assert!(listing.contains("alice@im.example.test"), "{listing}");
    assert!(listing.contains("bob@mail.example.test"), "{listing}");
    assert!(listing.contains("no mail server reachable"), "{listing}");
    let ids = listed_ids(&listing);
    assert_eq!(ids.len(), 3, "{listing}");
    let (first, second, third) = (&ids[0], &ids[1], &ids[2]);

    let (code, shown) = w.queue(&["show", first]);
    assert_eq!(code, 0, "{shown}");
    for needle in [
        &format!("id:              {first}"),
        "state:           queued",
        "attempts:        1",
        "next attempt:",
        "last error:",
        "Message-ID: <",
        "spooled message 1",
    ] {
        assert!(shown.contains(needle), "{needle:?} in\n{shown}");
    }

    assert_eq!(w.queue(&["hold", first]), (0, format!("{first} held\n")));
    assert_eq!(
        w.queue(&["delete", second]),
        (0, format!("{second} deleted\n"))
    );
    let (code, said) = w.queue(&["delete", second]);
    assert_eq!(code, 1, "{said}");
    let (_, listing) = w.queue(&["list"]);
    assert!(
        listing.contains("-- 2 message(s): 1 queued, 1 held"),
        "{listing}"
    );
    let (code, said) = w.queue(&["show", "999999"]);
    assert_eq!(code, 1, "{said}");

    // The MX comes up; the flush makes the queued one due now (the held
    // one stays), and the running gateway delivers it.
    let sink = peers::smtp_sink_on(w.mx_port);
    assert_eq!(w.queue(&["flush"]), (0, "1 message(s) due now\n".into()));
    let mails = sink.mails_when(1, Duration::from_secs(10));
    assert_eq!(mails.len(), 1);
    assert!(String::from_utf8_lossy(&mails[0]).contains("spooled message 3"));
    let (_, listing) = w.queue(&["list"]);
    assert!(
        listing.contains("-- 1 message(s): 0 queued, 1 held"),
        "{listing}"
    );
    assert_eq!(listed_ids(&listing), [first.as_str()], "{third} went");

    // Released: due at once.
    assert_eq!(
        w.queue(&["release", first]),
        (0, format!("{first} released\n"))
    );
    let mails = sink.mails_when(2, Duration::from_secs(10));
    assert_eq!(mails.len(), 2);
    assert!(String::from_utf8_lossy(&mails[1]).contains("spooled message 1"));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sink.mails().len(), 2, "the deleted one never goes");
    let (_, listing) = w.queue(&["list"]);
    assert!(listing.contains("-- 0 message(s)"), "{listing}");
    drop(gateway);
}

#[test]
fn check_config_opens_the_store_and_refuses_one_it_cannot() {
    let w = world(300);
    let out = w
        .scratch
        .run(&["check-config", "--config", w.config.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        w.store_file().exists(),
        "created in $XDG_STATE_HOME/interwork"
    );
    // A store path that cannot be a file: a clear error, exit 2.
    let bad = w.scratch.config(&[(
        "# path = \"/var/lib/interwork/store.sqlite\"",
        "path = \"/dev/null/store.sqlite\"",
    )]);
    let out = w
        .scratch
        .run(&["check-config", "--config", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("store"), "{said}");
}

/// A gateway with `[im_delivery] spool = true` whose IM system is `uas`,
/// retrying every second and giving up after `lifetime_secs`; mail out
/// (its DSNs) goes by MX to `sink`.
fn spooled_mail_to_im(uas: &peers::SippUas, sink: &Peer, lifetime_secs: u64) -> (World, Gateway) {
    let dns = peers::dnsmasq(
        &[("mail.example.test", "mx.mail.example.test", 10)],
        &[("mx.mail.example.test", "127.0.0.1")],
    );
    let scratch = Scratch::new(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"));
    let (config, ports) = scratch.gateway_config(&[
        (
            "next_hop = \"127.0.0.1:5070\"",
            &format!("next_hop = \"127.0.0.1:{}\"", uas.port),
        ),
        (
            "delivery_port = 25",
            &format!("delivery_port = {}", sink.port),
        ),
        (
            "# nameserver = \"127.0.0.1:5354\"",
            &format!("nameserver = \"127.0.0.1:{}\"", dns.port),
        ),
        ("spool = false", "spool = true"),
        ("retry_minimum_secs = 300", "retry_minimum_secs = 1"),
        ("retry_maximum_secs = 4000", "retry_maximum_secs = 1"),
        (
            "queue_lifetime_secs = 432000",
            &format!("queue_lifetime_secs = {lifetime_secs}"),
        ),
        ("scan_interval_ms = 1000", "scan_interval_ms = 100"),
    ]);
    let w = World {
        _dns: dns,
        scratch,
        config,
        sip_port: ports.sip,
        smtp_port: ports.smtp,
        mx_port: sink.port,
    };
    let gateway = w.start();
    (w, gateway)
}

fn send_mail(w: &World) -> String {
    let (ok, transcript) = peers::swaks(
        w.smtp_port,
        &[
            "--from",
            "bob@mail.example.test",
            "--to",
            "alice@im.example.test",
            "--header",
            "Subject: are you there?",
            "--body",
            "call me when you are back",
        ],
    );
    assert!(ok, "{transcript}");
    transcript
}

fn wait_until_empty(w: &World, timeout: Duration) -> String {
    let started = Instant::now();
    loop {
        let (_, listing) = w.queue(&["list"]);
        if listing.contains("-- 0 message(s)") || started.elapsed() > timeout {
            return listing;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn spooled_mail_to_an_offline_im_user_is_250_at_once_and_arrives_when_they_are_back() {
    let uas = peers::SippUas::answering(&[(480, "Temporarily Unavailable"), (200, "OK")]);
    let sink = peers::smtp_sink();
    let (w, _gateway) = spooled_mail_to_im(&uas, &sink, 3600);
    let transcript = send_mail(&w);
    assert!(
        transcript.contains("<-  250 2.0.0 Queued as"),
        "250 once stored, the user being offline:\n{transcript}"
    );
    let listing = wait_until_empty(&w, Duration::from_secs(15));
    assert!(listing.contains("-- 0 message(s)"), "{listing}");
    let (ok, log) = uas.finish();
    assert!(ok, "{log}");
    // The same IM twice (one imdn.Message-ID), the retry a new request.
    let ids: Vec<&str> = log
        .lines()
        .filter_map(|l| l.strip_prefix("imdn.Message-ID: "))
        .collect();
    assert_eq!(ids.len(), 2, "{log}");
    assert_eq!(ids[0], ids[1], "{log}");
    assert!(log.contains("CSeq: 1 MESSAGE"), "{log}");
    assert!(log.contains("CSeq: 2 MESSAGE"), "{log}");
    assert!(log.contains("call me when you are back"), "{log}");
    assert!(sink.mails().is_empty(), "no DSN for a delivered IM");
}

#[test]
fn a_spooled_mail_that_expires_is_returned_to_its_sender_as_a_dsn() {
    let uas = peers::SippUas::answering(&[
        (480, "Temporarily Unavailable"),
        (480, "Temporarily Unavailable"),
    ]);
    let sink = peers::smtp_sink();
    let (w, gateway) = spooled_mail_to_im(&uas, &sink, 2);
    let transcript = send_mail(&w);
    assert!(
        transcript.contains("<-  250 2.0.0 Queued as"),
        "{transcript}"
    );
    let mails = sink.mails_when(1, Duration::from_secs(20));
    assert_eq!(
        mails.len(),
        1,
        "one DSN; gateway log:\n{}",
        gateway.log.join("\n")
    );
    let dsn = String::from_utf8_lossy(&mails[0]);
    for needle in [
        // From the null reverse-path, to the mail's sender (RFC 3464 §2).
        "X-Envelope-From: <>",
        "X-Envelope-To: <bob@mail.example.test>",
        "Content-Type: multipart/report; report-type=\"delivery-status\"",
        "Content-Type: message/delivery-status\r\n",
        "Final-Recipient: rfc822; alice@im.example.test",
        "Action: failed",
        "Status: 4.4.7",
        "Diagnostic-Code: smtp; 451 4.4.1",
        "Subject: are you there?",
        "Auto-Submitted: auto-replied",
    ] {
        assert!(dsn.contains(needle), "{needle:?} in\n{dsn}");
    }
    assert!(!dsn.contains("call me when you are back"), "headers only");
    let listing = wait_until_empty(&w, Duration::from_secs(10));
    assert!(listing.contains("-- 0 message(s)"), "{listing}");
    let _ = uas.finish();
}
