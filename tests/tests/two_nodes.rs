//! Two gateway nodes sharing one PostgreSQL store behind Kamailio's
//! dispatcher (issue 9 §6, README "Scaling out"): the IM system's proxy
//! sends IMs to the nodes in turn, mail reaches either node, both map
//! addresses from the one directory in the store, and when a node dies
//! with deliveries under way (`kill -9`), the other delivers its messages
//! once their leases run out — each mail once.

use std::collections::HashSet;
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use interwork_e2e::kamailio::Kamailio;
use interwork_e2e::peers::{self, SippUas};
use interwork_e2e::postgres::Postgres;
use interwork_e2e::sipp_message::SippMessage;
use interwork_e2e::{Gateway, Ports, Scratch};

/// Seconds a node's claim on a message lasts in this test.
const LEASE_SECS: u64 = 8;

struct Node {
    scratch: Scratch,
    config: PathBuf,
    ports: Ports,
}

impl Node {
    fn new(name: &str, kamailio: u16, mx: u16, dns: u16, url: &str) -> Self {
        let scratch = Scratch::new(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"));
        let (config, ports) = scratch.gateway_config(&[
            (
                "next_hop = \"127.0.0.1:5070\"",
                &format!("next_hop = \"127.0.0.1:{kamailio}\""),
            ),
            ("delivery_port = 25", &format!("delivery_port = {mx}")),
            ("delivery_deadline_secs = 20", "delivery_deadline_secs = 5"),
            (
                "# nameserver = \"127.0.0.1:5354\"",
                &format!("nameserver = \"127.0.0.1:{dns}\""),
            ),
            (
                "# url = \"postgres://interwork:secret@127.0.0.1:5432/interwork\"",
                &format!("url = \"{url}\""),
            ),
            ("# node_name = \"gw1\"", &format!("node_name = \"{name}\"")),
            ("shared = false", "shared = true"),
            ("retry_minimum_secs = 300", "retry_minimum_secs = 1"),
            ("retry_maximum_secs = 4000", "retry_maximum_secs = 2"),
            ("lease_secs = 60", &format!("lease_secs = {LEASE_SECS}")),
            ("scan_interval_ms = 1000", "scan_interval_ms = 100"),
        ]);
        Self {
            scratch,
            config,
            ports,
        }
    }

    fn start(&self) -> Gateway {
        self.scratch.start_gateway(&self.config)
    }

    fn cli(&self, args: &[&str]) -> String {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--config", self.config.to_str().unwrap()]);
        let out = self.scratch.run(&all);
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// IM number `[call_number]` from the IM side to a mail user.
fn im(tag: &str) -> String {
    SippMessage::text(&format!("{tag} [call_number]"))
        .from("sip:+8613812345678@im.example.test")
        .within(Duration::from_secs(20))
        .xml()
}

fn bodies(mails: &[Vec<u8>], tag: &str) -> Vec<String> {
    mails
        .iter()
        .filter_map(|m| {
            let text = String::from_utf8_lossy(m);
            let at = text.find(tag)?;
            Some(text[at..].lines().next()?.trim().to_string())
        })
        .collect()
}

fn message_ids(mails: &[Vec<u8>]) -> HashSet<String> {
    mails
        .iter()
        .filter_map(|m| {
            mail_parser::MessageParser::default()
                .parse(m)?
                .message_id()
                .map(str::to_string)
        })
        .collect()
}

#[test]
fn two_nodes_share_one_postgresql_store_and_one_takes_over_the_other() {
    let cluster = Postgres::start().expect("a PostgreSQL cluster");
    let url = cluster.create_database("two_nodes").unwrap();
    let mx_port = peers::free_port();
    let dns = peers::dnsmasq(
        &[("mail.example.test", "mx.mail.example.test", 10)],
        &[("mx.mail.example.test", "127.0.0.1")],
    );
    let kamailio_port = peers::free_port();
    let a = Node::new("node-a", kamailio_port, mx_port, dns.port, &url);
    let b = Node::new("node-b", kamailio_port, mx_port, dns.port, &url);
    // The IM user's phone: two IMs made from mails, one per node.
    let phone = SippUas::calls_on(peers::free_port(), 2, 200, "OK");
    let kamailio = Kamailio::start_with(
        kamailio_port,
        &[("im.example.test", phone.port)],
        Some((&["mail.example.test"], &[a.ports.sip, b.ports.sip])),
    );

    // One directory for both, in the store.
    let file = a.scratch.path().join("people.toml");
    std::fs::write(
        &file,
        "[[address]]\nim = \"sip:+8613812345678@im.example.test\"\n\
         email = \"zhang.san@gw.example.test\"\n",
    )
    .unwrap();
    let said = a.cli(&["directory", "import", file.to_str().unwrap()]);
    assert!(said.starts_with("1 address(es)"), "{said}");
    let node_a = a.start();
    let mut node_b = b.start();
    assert!(node_b.has_logged("shared directory loaded from the store addresses=1"));

    // Normal traffic through both: 20 IMs, round robin, each mail once.
    let sink = peers::smtp_sink_on(mx_port);
    let run = peers::sipp_calls(
        &im("normal"),
        &format!("127.0.0.1:{kamailio_port}"),
        "u1",
        20,
    );
    assert!(run.success, "{}", run.output);
    let mails = sink.mails_when(20, Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(500));
    let mails = if mails.len() == 20 {
        sink.mails()
    } else {
        mails
    };
    assert_eq!(mails.len(), 20, "20 IMs, 20 mails");
    assert_eq!(message_ids(&mails).len(), 20, "no mail twice");
    let relayed = kamailio.relayed();
    for port in [a.ports.sip, b.ports.sip] {
        let to_node = relayed
            .iter()
            .filter(|r| r.starts_with("MESSAGE ") && r.ends_with(&format!(":{port}")))
            .count();
        assert_eq!(to_node, 10, "round robin: {relayed:#?}");
    }
    // The provisioned address, as the From of the mails, on both nodes.
    assert!(
        mails
            .iter()
            .all(|m| String::from_utf8_lossy(m).contains("From: <zhang.san@gw.example.test>")),
        "mapped by the shared directory"
    );

    // Mail → IM through either node, mapped by the same directory.
    for node in [&a, &b] {
        let (ok, transcript) = peers::swaks(
            node.ports.smtp,
            &[
                "--from",
                "bob@mail.example.test",
                "--to",
                "zhang.san@gw.example.test",
                "--body",
                "reply by mail",
            ],
        );
        assert!(ok, "{transcript}");
        assert!(
            transcript.contains("<-  250 2.0.0 Delivered as IM"),
            "{transcript}"
        );
    }
    let (ok, log) = phone.finish();
    assert!(ok, "{log}");
    assert_eq!(
        log.matches("MESSAGE sip:+8613812345678@im.example.test SIP/2.0")
            .count(),
        2,
        "{log}"
    );

    // Takeover: the MX accepts connections and never answers, so first
    // attempts outlast the 2 s budget (answered 202) and stay under way;
    // node A dies with its deliveries leased.
    drop(sink);
    let tarpit = TcpListener::bind(("127.0.0.1", mx_port)).expect("the MX port again");
    let run = peers::sipp_calls(
        &im("takeover"),
        &format!("127.0.0.1:{kamailio_port}"),
        "u1",
        10,
    );
    assert!(run.success, "{}", run.output);
    let listing = a.cli(&["queue", "list"]);
    let leased_by_a = listing.matches("sending").count();
    node_a.kill();
    let killed = Instant::now();
    // B's own attempts time out (5 s) and are deferred; then the MX works.
    node_b.wait_for("im-to-mail deferred", Duration::from_secs(15));
    drop(tarpit);
    let sink = peers::smtp_sink_on(mx_port);
    let mails = sink.mails_when(10, Duration::from_secs(30));
    let takeover = killed.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    let mails = if mails.len() == 10 {
        sink.mails()
    } else {
        mails
    };
    let mut got = bodies(&mails, "takeover");
    got.sort();
    let mut want: Vec<String> = (1..=10).map(|n| format!("takeover {n}")).collect();
    want.sort();
    assert_eq!(
        got,
        want,
        "every IM once; node B log:\n{}",
        node_b.log.join("\n")
    );
    assert_eq!(message_ids(&mails).len(), 10);
    // Read B's log up to now. Its own five were attempted, deferred when
    // the MX timed out or was reset, and delivered on their second attempt; A's five
    // were delivered by B once A's leases ran out, their second attempt
    // too (A's first counted), with no deferral by B.
    node_b.has_logged("");
    let count = |needle: &str| {
        node_b
            .log
            .iter()
            .filter(|l| l.contains(needle) && l.contains("attempts=2"))
            .count()
    };
    let delivered_by_b = count("im-to-mail delivered");
    let deferred_by_b = node_b
        .log
        .iter()
        .filter(|l| l.contains("im-to-mail deferred") && l.contains("attempts=1"))
        .count();
    eprintln!(
        "takeover: {leased_by_a} messages under way (both nodes) at the kill, all 10 delivered {:.1} s \
         after it (lease {LEASE_SECS} s): {delivered_by_b} by node B on a second attempt, \
         {deferred_by_b} of them its own",
        takeover.as_secs_f64()
    );
    assert_eq!(delivered_by_b, 10, "node B log:\n{}", node_b.log.join("\n"));
    assert_eq!(deferred_by_b, 5, "node B log:\n{}", node_b.log.join("\n"));
    let listing = b.cli(&["queue", "list"]);
    assert!(listing.contains("-- 0 message(s)"), "{listing}");
    drop(node_b);
    drop(kamailio);
}
