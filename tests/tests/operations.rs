//! Operations (issue 13) end to end: a known mix of traffic through the
//! real gateway — sipp as the IM side, dnsmasq and aiosmtpd as the mail
//! side, swaks as a sending MTA — then what an operator reads: one outcome
//! line per message (text and JSON), `/metrics` parsed by a Prometheus text
//! parser (and `promtool check metrics`), `/healthz` and `/readyz`,
//! `interwork status` and `plugins list` over the control socket across a
//! live plugin swap and a pin, and `interwork reload` with a valid, an
//! invalid and a needs-restart configuration.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use interwork_e2e::peers::{self, Peer, SippUas};
use interwork_e2e::sipp_message::SippMessage;
use interwork_e2e::{Gateway, Ports, Scratch, http_get, try_http_get};

struct World {
    _dns: Peer,
    smtp: Peer,
    gateway: Gateway,
    ports: Ports,
    scratch: Scratch,
    config: PathBuf,
}

/// The gateway with mail.example.test served by the sink, down.example.test
/// by an address nobody listens on, and its IM system on `uas_port`.
fn world(uas_port: u16, extra: &[(&str, &str)]) -> World {
    let smtp = peers::smtp_sink();
    let dns = peers::dnsmasq(
        &[
            ("mail.example.test", "mx.mail.example.test", 10),
            ("down.example.test", "mx.down.example.test", 10),
        ],
        &[
            ("mx.mail.example.test", "127.0.0.1"),
            ("mx.down.example.test", "127.0.0.3"),
        ],
    );
    let scratch = Scratch::new(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"));
    let smtp_port = smtp.port.to_string();
    let dns_port = dns.port.to_string();
    let hop = format!("next_hop = \"127.0.0.1:{uas_port}\"");
    let mut lines = vec![
        (
            "delivery_port = 25".to_string(),
            format!("delivery_port = {smtp_port}"),
        ),
        (
            "delivery_deadline_secs = 20".into(),
            "delivery_deadline_secs = 5".into(),
        ),
        (
            "# nameserver = \"127.0.0.1:5354\"".into(),
            format!("nameserver = \"127.0.0.1:{dns_port}\""),
        ),
        ("next_hop = \"127.0.0.1:5070\"".into(), hop),
    ];
    lines.extend(extra.iter().map(|(a, b)| (a.to_string(), b.to_string())));
    let pairs: Vec<(&str, &str)> = lines
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let (config, ports) = scratch.gateway_config(&pairs);
    let gateway = scratch.start_gateway(&config);
    World {
        _dns: dns,
        smtp,
        gateway,
        ports,
        scratch,
        config,
    }
}

/// One MESSAGE from alice to `to`, expecting `expect`.
fn message(to: &str, expect: u16) -> String {
    SippMessage::text("hello from the operations test")
        .to(to)
        .expect(expect)
        .xml()
}

impl World {
    fn send(&self, to: &str, expect: u16) {
        let run = peers::sipp(
            &message(to, expect),
            &format!("127.0.0.1:{}", self.ports.sip),
            "u1",
        );
        assert!(
            run.success,
            "sipp: {}\n--- gateway\n{}",
            run.output,
            self.gateway.log.join("\n")
        );
    }

    /// `interwork ARGS --config CONFIG`: exit code and stdout + stderr.
    fn cli(&self, args: &[&str]) -> (i32, String) {
        let mut all: Vec<&str> = args.to_vec();
        let config = self.config.to_str().unwrap();
        all.extend(["--config", config]);
        let out = self.scratch.run(&all);
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        (out.status.code().unwrap_or(-1), text)
    }

    /// The SMTP listener in service takes a recipient (the session ends
    /// after RCPT: no IM is sent).
    fn takes_a_recipient(&self) {
        let (ok, transcript) = peers::swaks(
            self.ports.smtp,
            &[
                "--from",
                "carol@mail.example.test",
                "--to",
                "alice@im.example.test",
                "--quit-after",
                "RCPT",
            ],
        );
        assert!(ok, "{transcript}");
    }

    /// The outcome lines logged so far.
    fn outcome_lines(&mut self) -> Vec<String> {
        self.gateway.has_logged("");
        self.gateway
            .log
            .iter()
            .filter(|l| l.contains("interwork::outcome"))
            .cloned()
            .collect()
    }

    /// Waits until `n` outcome lines are logged.
    fn wait_outcomes(&mut self, n: usize) -> Vec<String> {
        let started = Instant::now();
        loop {
            let lines = self.outcome_lines();
            if lines.len() >= n || started.elapsed() > Duration::from_secs(20) {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The value of `field=` in a text log line (quoted or not).
fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=");
    let start = line.find(&key)? + key.len();
    let rest = &line[start..];
    if let Some(quoted) = rest.strip_prefix('"') {
        return quoted.find('"').map(|end| &quoted[..end]);
    }
    Some(rest.split(' ').next().unwrap_or(""))
}

/// Asserts that `name` of `line` begins with `prefix`.
fn begins(line: &str, name: &str, prefix: &str) {
    let value = field(line, name).unwrap_or_else(|| panic!("no {name} in {line}"));
    assert!(value.starts_with(prefix), "{name} not {prefix}…: {line}");
}

/// Asserts that `name` of `line` contains `part`.
fn holds(line: &str, name: &str, part: &str) {
    let value = field(line, name).unwrap_or_else(|| panic!("no {name} in {line}"));
    assert!(value.contains(part), "{name} has no {part}: {line}");
}

/// Every field an outcome line carries (message_log's table).
const FIELDS: &[&str] = &[
    "status",
    "direction",
    "session",
    "queue_id",
    "imdn_message_id",
    "message_id",
    "from",
    "to",
    "as_from",
    "as_to",
    "mode",
    "relay",
    "delay_ms",
    "attempts",
    "answer_given",
    "answer_received",
    "plugins",
    "reason",
];

/// The samples of a scrape, parsed by prometheus-parse.
fn scrape(port: u16) -> prometheus_parse::Scrape {
    let (status, body) = http_get(port, "/metrics");
    assert_eq!(status, 200, "{body}");
    let lines = body.lines().map(|l| Ok(l.to_string()));
    prometheus_parse::Scrape::parse(lines).expect("the Prometheus text format")
}

/// The value of the sample `name{labels}` (counter, gauge or untyped).
fn value(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .find(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .and_then(|s| match &s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => Some(*v),
            _ => None,
        })
}

/// The count of observations of the histogram `name{labels}`.
fn histogram_count(
    scrape: &prometheus_parse::Scrape,
    name: &str,
    labels: &[(&str, &str)],
) -> Option<f64> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .find(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .and_then(|s| match &s.value {
            prometheus_parse::Value::Histogram(buckets) => buckets
                .iter()
                .find(|b| b.less_than == f64::INFINITY)
                .map(|b| b.count),
            _ => None,
        })
        .or_else(|| value(scrape, &format!("{name}_count"), labels))
}

#[test]
fn a_traffic_mix_has_one_line_per_outcome_and_matching_metrics() {
    let uas = SippUas::start(200, "OK");
    let mut w = world(uas.port, &[]);
    // IM → mail: delivered, deferred (its only MX is down), refused (the
    // MX says 550 5.1.1 while alice waits).
    w.send("sip:bob@mail.example.test", 202);
    w.send("sip:bob@down.example.test", 202);
    w.send("sip:reject-user@mail.example.test", 404);
    // Mail → IM: delivered to the IM system, refused at RCPT TO.
    let (ok, transcript) = peers::swaks(
        w.ports.smtp,
        &[
            "--from",
            "carol@mail.example.test",
            "--to",
            "alice@im.example.test",
            "--header",
            "Message-Id: <ops-mail-1@mail.example.test>",
            "--body",
            "hello alice",
        ],
    );
    assert!(ok, "{transcript}");
    let (_, transcript) = peers::swaks(
        w.ports.smtp,
        &[
            "--from",
            "carol@mail.example.test",
            "--to",
            "nobody@elsewhere.test",
        ],
    );
    assert!(transcript.contains("550 5.7.1"), "{transcript}");
    let (uas_ok, uas_log) = uas.finish();
    assert!(uas_ok, "{uas_log}");

    let lines = w.wait_outcomes(5);
    assert_eq!(
        lines.len(),
        5,
        "one line per outcome:\n{}",
        lines.join("\n")
    );
    for line in &lines {
        for name in FIELDS {
            assert!(field(line, name).is_some(), "no {name} in {line}");
        }
    }
    let one = |needle: &str| -> &String {
        let found: Vec<&String> = lines.iter().filter(|l| l.contains(needle)).collect();
        assert_eq!(
            found.len(),
            1,
            "one line with {needle}:\n{}",
            lines.join("\n")
        );
        found[0]
    };
    let delivered = one("to=\"sip:bob@mail.example.test\"");
    begins(delivered, "session", "sip:");
    assert!(delivered.contains(" INFO "), "{delivered}");
    assert_eq!(field(delivered, "status"), Some("delivered"));
    assert_eq!(field(delivered, "direction"), Some("im-to-mail"));
    assert_eq!(field(delivered, "mode"), Some("pager"));
    assert_eq!(field(delivered, "from"), Some("sip:alice@im.example.test"));
    assert_eq!(field(delivered, "to"), Some("sip:bob@mail.example.test"));
    assert_eq!(field(delivered, "as_to"), Some("bob@mail.example.test"));
    assert_eq!(field(delivered, "answer_given"), Some("202 Accepted"));
    begins(delivered, "answer_received", "250 ");
    holds(delivered, "relay", "mx.mail.example.test");
    holds(delivered, "plugins", "mapping=default-mapping@");
    assert_ne!(field(delivered, "message_id"), Some("-"));
    // A plain-text MESSAGE has no imdn.Message-ID; the mail has its own.
    assert_eq!(field(delivered, "imdn_message_id"), Some("-"));

    let deferred = one("to=\"sip:bob@down.example.test\"");
    assert!(deferred.contains(" WARN "), "{deferred}");
    assert_eq!(field(deferred, "status"), Some("deferred"));
    assert_ne!(field(deferred, "queue_id"), Some("-"), "{deferred}");
    holds(deferred, "reason", "no mail server reachable");
    holds(deferred, "reason", "; next attempt in ");

    let refused = one("to=\"sip:reject-user@mail.example.test\"");
    assert_eq!(field(refused, "status"), Some("refused"));
    begins(refused, "answer_given", "404");
    begins(refused, "answer_received", "550");

    let mail = one("message_id=\"ops-mail-1@mail.example.test\"");
    assert_eq!(field(mail, "status"), Some("delivered"));
    assert_eq!(field(mail, "direction"), Some("mail-to-im"));
    begins(mail, "session", "smtp:");
    assert_eq!(field(mail, "from"), Some("carol@mail.example.test"));
    assert_eq!(field(mail, "as_to"), Some("sip:alice@im.example.test"));
    assert_eq!(field(mail, "answer_received"), Some("200 OK"));
    begins(mail, "answer_given", "250 2.0.0");

    let rcpt = one("to=\"nobody@elsewhere.test\"");
    assert_eq!(field(rcpt, "status"), Some("refused"));
    assert_eq!(
        field(rcpt, "answer_given"),
        Some("550 5.7.1 Relaying denied")
    );
    holds(rcpt, "plugins", "mapping=default-mapping@");

    // The metrics say the same.
    let scrape = scrape(w.ports.admin);
    let counted = |direction, mode, outcome| {
        value(
            &scrape,
            "interwork_messages_total",
            &[
                ("direction", direction),
                ("mode", mode),
                ("outcome", outcome),
            ],
        )
    };
    assert_eq!(counted("im-to-mail", "pager", "delivered"), Some(1.0));
    assert_eq!(counted("im-to-mail", "pager", "deferred"), Some(1.0));
    assert_eq!(counted("im-to-mail", "pager", "refused"), Some(1.0));
    assert_eq!(counted("mail-to-im", "pager", "delivered"), Some(1.0));
    assert_eq!(counted("mail-to-im", "none", "refused"), Some(1.0));
    for (direction, outcome) in [
        ("im-to-mail", "delivered"),
        ("im-to-mail", "deferred"),
        ("im-to-mail", "refused"),
        ("mail-to-im", "delivered"),
    ] {
        assert_eq!(
            histogram_count(
                &scrape,
                "interwork_message_delay_seconds",
                &[("direction", direction), ("outcome", outcome)]
            ),
            Some(1.0),
            "{direction} {outcome}"
        );
    }
    // One SIP transaction (the mail's IM); three SMTP transactions reached
    // a server (the delivered, the refused; the down MX never answered).
    assert_eq!(
        histogram_count(&scrape, "interwork_stage_seconds", &[("stage", "sip")]),
        Some(1.0)
    );
    assert_eq!(
        histogram_count(&scrape, "interwork_stage_seconds", &[("stage", "smtp")]),
        Some(2.0)
    );
    assert!(
        histogram_count(&scrape, "interwork_stage_seconds", &[("stage", "plugin")])
            .is_some_and(|n| n >= 8.0)
    );
    assert_eq!(
        value(
            &scrape,
            "interwork_queue_messages",
            &[("direction", "im-to-mail"), ("state", "queued")]
        ),
        Some(1.0),
        "the deferred one waits"
    );
    assert!(
        value(
            &scrape,
            "interwork_plugin_calls_total",
            &[("plugin", "default-mapping")]
        )
        .is_some_and(|n| n >= 5.0)
    );
    assert_eq!(
        value(
            &scrape,
            "interwork_plugin_serving",
            &[("interface", "mapping"), ("plugin", "default-mapping")]
        ),
        Some(1.0)
    );
    assert_eq!(value(&scrape, "interwork_build_info", &[]), Some(1.0));
    assert_eq!(w.smtp.mails_when(1, Duration::from_secs(5)).len(), 1);

    // A strict linter of the format, where Debian's prometheus package is.
    let (_, body) = http_get(w.ports.admin, "/metrics");
    if std::path::Path::new("/usr/bin/promtool").exists() {
        let (ok, said) = output_with(
            std::process::Command::new("/usr/bin/promtool").args(["check", "metrics"]),
            &body,
        );
        assert!(ok, "promtool check metrics:\n{said}\n---\n{body}");
    } else {
        eprintln!("promtool not installed (Debian package prometheus): format lint skipped");
    }
}

/// Runs `command` with `input` on its stdin: (success, stdout + stderr).
fn output_with(command: &mut std::process::Command, input: &str) -> (bool, String) {
    use std::io::Write as _;
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn json_logs_carry_the_outcome_fields() {
    let uas = SippUas::start(200, "OK");
    let mut w = world(uas.port, &[("format = \"text\"", "format = \"json\"")]);
    w.send("sip:bob@mail.example.test", 202);
    let lines = w.wait_outcomes(1);
    assert_eq!(lines.len(), 1, "{}", w.gateway.log.join("\n"));
    let object: HashMap<String, serde_json::Value> =
        serde_json::from_str(&lines[0]).expect("one JSON object per line");
    assert_eq!(object["target"], "interwork::outcome");
    assert_eq!(object["level"], "INFO");
    for name in FIELDS {
        assert!(object.contains_key(*name), "no {name} in {}", lines[0]);
    }
    assert_eq!(object["status"], "delivered");
    assert!(object["session"].as_str().unwrap().starts_with("sip:"));
    assert_eq!(object["answer_given"], "202 Accepted");
    // Every line is JSON, not only the outcomes.
    for line in &w.gateway.log {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "not JSON: {line}"
        );
    }
    drop(uas);
}

#[test]
fn health_and_readiness_follow_the_gateway() {
    let uas = SippUas::start(200, "OK");
    let w = world(uas.port, &[]);
    assert_eq!(http_get(w.ports.admin, "/healthz"), (200, "ok\n".into()));
    assert_eq!(http_get(w.ports.admin, "/readyz"), (200, "ready\n".into()));
    assert_eq!(http_get(w.ports.admin, "/nothing").0, 404);
    // Draining: not ready any more, still healthy, until it exits (a
    // request may come when it is gone already: the port is closed).
    w.gateway.signal(nix::sys::signal::Signal::SIGTERM);
    let started = Instant::now();
    let mut draining = false;
    while started.elapsed() < Duration::from_secs(2) {
        match try_http_get(w.ports.admin, "/readyz") {
            Some((503, body)) => {
                assert_eq!(body, "draining\n");
                draining = true;
                break;
            }
            Some((200, _)) => {}
            Some(other) => panic!("{other:?}"),
            None => break,
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let status = w.gateway.wait_exit(Duration::from_secs(10));
    assert!(status.success());
    eprintln!("readyz said draining before the exit: {draining}");
    drop(uas);
}

#[test]
fn status_and_plugins_list_follow_a_live_swap_and_a_pin() {
    let uas = SippUas::start(200, "OK");
    let w = world(uas.port, &[]);
    let (code, status) = w.cli(&["status"]);
    assert_eq!(code, 0, "{status}");
    assert!(status.contains(": ready, up "), "{status}");
    assert!(status.contains("mapping    default-mapping"), "{status}");
    assert!(status.contains("embedded"), "{status}");
    assert!(status.contains("queue      empty"), "{status}");
    let (code, json) = w.cli(&["status", "--json"]);
    assert_eq!(code, 0, "{json}");
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(parsed["ready"], true);
    assert_eq!(parsed["pid"], w.gateway.pid());

    // Two mapping plugins dropped in: the newest serves; the running
    // gateway says so (not what a fresh load would pick).
    let dir = w.scratch.path().join("plugins.d");
    std::fs::copy(
        interwork_e2e::guest("directory_mapping"),
        dir.join("a-directory.wasm"),
    )
    .unwrap();
    let mut gateway = w.gateway;
    gateway.wait_for("now served by a-directory", Duration::from_secs(30));
    std::fs::copy(
        interwork_e2e::guest("fixture_contract_0_1_0"),
        dir.join("b-old.wasm"),
    )
    .unwrap();
    gateway.wait_for("now served by b-old", Duration::from_secs(30));
    let w = World { gateway, ..w };
    let (code, listed) = w.cli(&["plugins", "list"]);
    assert_eq!(code, 0, "{listed}");
    assert!(listed.contains("b-old.wasm"), "{listed}");
    assert!(!listed.contains("a-directory.wasm"), "{listed}");
    // Pinned at run time: the older one serves again.
    let (code, pinned) = w.cli(&["plugins", "use", "a-directory.wasm"]);
    assert_eq!(code, 0, "{pinned}");
    assert!(
        pinned.contains("mapping now served by a-directory.wasm (pinned)"),
        "{pinned}"
    );
    let (_, listed) = w.cli(&["plugins", "list"]);
    assert!(listed.contains("a-directory.wasm"), "{listed}");
    let (_, status) = w.cli(&["status"]);
    assert!(status.contains("a-directory.wasm"), "{status}");
    // A file that is not there is refused, and nothing changes.
    let (code, refused) = w.cli(&["plugins", "use", "nothere.wasm"]);
    assert_eq!(code, 1, "{refused}");
    assert!(refused.contains("not in the plugin directory"), "{refused}");
    drop(uas);
}

#[test]
fn reload_applies_what_it_can_refuses_what_is_invalid_and_names_what_needs_a_restart() {
    let uas = SippUas::start(200, "OK");
    let uas_port = uas.port;
    let mut w = world(uas_port, &[]);
    let text = std::fs::read_to_string(&w.config).unwrap();
    // Valid, live: a plugin configuration value.
    let live = text.replace(
        "# \"mapping.tel-domain\" = \"im.example.test\"",
        "\"mapping.tel-domain\" = \"im.example.test\"",
    );
    assert_ne!(live, text);
    std::fs::write(&w.config, &live).unwrap();
    let (code, said) = w.cli(&["reload"]);
    assert_eq!(code, 0, "{said}");
    assert!(
        said.contains("plugins.config.mapping.tel-domain changed: applied"),
        "{said}"
    );
    assert!(!said.contains("needs restart"), "{said}");
    drop(uas);
    // Live too: the IM system's next hop and the trusted peers. A mail
    // goes to the new next hop; a MESSAGE from a peer no longer trusted
    // is refused.
    let moved_uas = SippUas::start(200, "OK");
    let live = live
        .replace(
            &format!("next_hop = \"127.0.0.1:{}\"", uas_port),
            &format!("next_hop = \"127.0.0.1:{}\"", moved_uas.port),
        )
        .replace(
            "trusted_peers = [\"127.0.0.1\"]",
            "trusted_peers = [\"127.0.0.2\"]",
        );
    std::fs::write(&w.config, &live).unwrap();
    let (code, said) = w.cli(&["reload"]);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("im_domains changed: applied"), "{said}");
    assert!(
        said.contains("sip.trusted_peers changed: applied"),
        "{said}"
    );
    let (ok, transcript) = peers::swaks(
        w.ports.smtp,
        &[
            "--from",
            "carol@mail.example.test",
            "--to",
            "alice@im.example.test",
        ],
    );
    assert!(
        ok && transcript.contains("250 2.0.0 Delivered as IM"),
        "{transcript}"
    );
    let (uas_ok, uas_log) = moved_uas.finish();
    assert!(uas_ok, "the mail went to the new next hop: {uas_log}");
    let refused = peers::sipp(
        &message("sip:bob@mail.example.test", 403),
        &format!("127.0.0.1:{}", w.ports.sip),
        "u1",
    );
    assert!(refused.success, "{}", refused.output);
    // Needs a restart: the SMTP listen address; the old one still serves.
    let moved = live.replace(
        &format!("listen = \"127.0.0.1:{}\"", w.ports.smtp),
        "listen = \"127.0.0.1:1\"",
    );
    std::fs::write(&w.config, &moved).unwrap();
    w.gateway.signal(nix::sys::signal::Signal::SIGHUP);
    w.gateway.wait_for(
        "smtp.listen changed: needs restart",
        Duration::from_secs(10),
    );
    w.takes_a_recipient();
    // Invalid: the one in force stays, and the reason is given once.
    std::fs::write(&w.config, moved.replace("[limits]", "[limits]\nspeed = 3")).unwrap();
    w.gateway.signal(nix::sys::signal::Signal::SIGHUP);
    w.gateway
        .wait_for("the configuration in force stays", Duration::from_secs(10));
    let line = w
        .gateway
        .log
        .iter()
        .find(|l| l.contains("the configuration in force stays"))
        .cloned()
        .unwrap();
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains("unknown field `speed`"), "{line}");
    w.takes_a_recipient();
    // The CLI reads the same file to find the socket: it says why, once.
    let (code, said) = w.cli(&["reload"]);
    assert_eq!(code, 2, "{said}");
    assert_eq!(said.matches("unknown field `speed`").count(), 1, "{said}");
}

#[test]
fn the_systemd_unit_verifies() {
    let unit = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/systemd/interwork.service");
    let Ok(analyze) = which("systemd-analyze") else {
        eprintln!("systemd-analyze not found: the unit is not verified here");
        return;
    };
    // The unit names /usr/bin/interwork; verify checks that it exists:
    // point it at the binary under test.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&unit).unwrap().replace(
        "/usr/bin/interwork",
        interwork_e2e::interwork_bin().to_str().unwrap(),
    );
    let copy = dir.path().join("interwork.service");
    std::fs::write(&copy, text).unwrap();
    let out = std::process::Command::new(analyze)
        .args(["verify", "--man=no"])
        .arg(&copy)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    // It exits 0 on unknown keys and bad values, but says them.
    assert!(out.status.success() && said.trim().is_empty(), "{said}");
}

fn which(name: &str) -> Result<PathBuf, ()> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .ok_or(())
}

#[test]
fn the_gateway_tells_systemd_ready_reloading_and_stopping() {
    use std::os::unix::net::UnixDatagram;
    let uas = SippUas::start(200, "OK");
    let scratch = Scratch::new(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"));
    let socket_path = scratch.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let hop = format!("next_hop = \"127.0.0.1:{}\"", uas.port);
    let (config, _) = scratch.gateway_config(&[("next_hop = \"127.0.0.1:5070\"", hop.as_str())]);
    let mut command = scratch.command(&["run", "--config", config.to_str().unwrap()]);
    command.env("NOTIFY_SOCKET", &socket_path);
    let mut gateway = Gateway::start(command);
    // The next datagram, or a panic that shows the gateway's log.
    let next = |gateway: &mut Gateway| {
        let mut buf = [0u8; 4096];
        match socket.recv(&mut buf) {
            Ok(n) => String::from_utf8_lossy(&buf[..n]).into_owned(),
            Err(e) => {
                gateway.has_logged("");
                panic!(
                    "no notification ({e}); gateway:\n{}",
                    gateway.log.join("\n")
                )
            }
        }
    };
    let ready = next(&mut gateway);
    assert!(ready.lines().any(|l| l == "READY=1"), "{ready}");
    gateway.wait_for("interwork ready", Duration::from_secs(5));
    gateway.signal(nix::sys::signal::Signal::SIGHUP);
    let reloading = next(&mut gateway);
    assert!(reloading.lines().any(|l| l == "RELOADING=1"), "{reloading}");
    let again = next(&mut gateway);
    assert!(again.lines().any(|l| l == "READY=1"), "{again}");
    gateway.signal(nix::sys::signal::Signal::SIGTERM);
    let stopping = next(&mut gateway);
    assert!(stopping.lines().any(|l| l == "STOPPING=1"), "{stopping}");
    assert!(gateway.wait_exit(Duration::from_secs(10)).success());
    drop(uas);
}

#[test]
fn man_pages_and_completions_come_from_the_command_line() {
    let scratch = Scratch::new(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"));
    let dir = scratch.path().join("man");
    let out = scratch.run(&["man", "--dir", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let main = std::fs::read_to_string(dir.join("interwork.1")).unwrap();
    assert!(main.contains(".TH interwork 1"), "{main}");
    for command in [
        "run",
        "status",
        "reload",
        "plugins",
        "queue",
        "check-config",
    ] {
        // roff writes a hyphen as `\-`.
        let roff = command.replace('-', "\\-");
        assert!(main.contains(&roff), "{command} not in the main page");
        let page = std::fs::read_to_string(dir.join(format!("interwork-{command}.1")))
            .unwrap_or_else(|e| panic!("interwork-{command}.1: {e}"));
        assert!(
            page.contains(&format!(
                ".TH interwork-{command} 1  \"interwork-{command} 0."
            )),
            "{page}"
        );
    }
    // Rendered by the real man, where it is installed.
    if let Ok(man) = which("man") {
        let out = std::process::Command::new(man)
            .args(["-l", "-P", "cat"])
            .arg(dir.join("interwork-status.1"))
            .env("MANWIDTH", "80")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("control socket"), "{text}");
    }
    let bash = scratch.run(&["completions", "bash"]);
    let script = String::from_utf8_lossy(&bash.stdout);
    assert!(script.contains("complete -F _interwork"), "{script}");
    assert!(script.contains("check-config"), "{script}");
    // bash reads it without a syntax error.
    let (ok, said) = output_with(std::process::Command::new("bash").args(["-n"]), &script);
    assert!(ok, "{said}");
}
