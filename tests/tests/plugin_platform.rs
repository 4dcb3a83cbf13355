//! The plugin platform end to end (issue 12): plugins of contract 0.1.0
//! and 0.2.0 serving one gateway, a plugin that panics, and a new plugin
//! from `interwork plugins new` to `interwork map`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use interwork_e2e::peers::{self, Peer, SippUas};
use interwork_e2e::sipp_message::SippMessage;
use interwork_e2e::{Gateway, Ports, Scratch, guest, raw_header};

/// A gateway with both sides: mail for mail.example.test goes to an
/// aiosmtpd sink (its MX in dnsmasq), IMs for the IM domains to a sipp
/// UAS answering `ims` MESSAGEs; `plugins` are copied into its plugin
/// directory before it starts.
struct World {
    smtp: Peer,
    _dns: Peer,
    gateway: Gateway,
    ports: Ports,
    scratch: Scratch,
}

fn world(uas_port: u16, plugins: &[(&str, &str)]) -> World {
    let smtp = peers::smtp_sink();
    let dns = peers::dnsmasq(
        &[("mail.example.test", "mx.mail.example.test", 10)],
        &[("mx.mail.example.test", "127.0.0.1")],
    );
    let scratch = Scratch::new(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"));
    let dir = scratch.path().join("plugins.d");
    std::fs::create_dir_all(&dir).unwrap();
    for (fixture, name) in plugins {
        std::fs::copy(guest(fixture), dir.join(name)).unwrap();
    }
    let hop = format!("next_hop = \"127.0.0.1:{uas_port}\"");
    let smtp_port = format!("delivery_port = {}", smtp.port);
    let nameserver = format!("nameserver = \"127.0.0.1:{}\"", dns.port);
    let (config, ports) = scratch.gateway_config(&[
        ("next_hop = \"127.0.0.1:5070\"", hop.as_str()),
        ("delivery_port = 25", smtp_port.as_str()),
        ("# nameserver = \"127.0.0.1:5354\"", nameserver.as_str()),
    ]);
    let mut gateway =
        Gateway::start(scratch.command(&["run", "--config", config.to_str().unwrap()]));
    gateway.wait_for("interwork ready", Duration::from_secs(30));
    World {
        smtp,
        _dns: dns,
        gateway,
        ports,
        scratch,
    }
}

/// One MESSAGE from `from` to `to`, expecting `expect`.
fn message(from: &str, to: &str, body: &str, expect: u16) -> String {
    SippMessage::new("text/plain;charset=utf-8", body)
        .from(from)
        .to(to)
        .expect(expect)
        .xml()
}

impl World {
    fn send(&self, scenario: &str) {
        let run = peers::sipp(scenario, &format!("127.0.0.1:{}", self.ports.sip), "t1");
        assert!(
            run.success,
            "sipp failed:\n{}\n--- gateway log\n{}",
            run.output,
            self.gateway.log.join("\n")
        );
    }
}

#[test]
fn a_0_1_0_mapping_and_a_0_2_0_conversion_serve_both_directions() {
    // The company plan as operators built it for contract 0.1.0; the
    // embedded conversion is 0.2.0.
    let uas = SippUas::start(200, "OK");
    let mut w = world(uas.port, &[("fixture_contract_0_1_0", "company.wasm")]);
    w.gateway
        .wait_for("now served by company", Duration::from_secs(10));
    // IM → mail: the 0.1.0 mapping names the sender.
    w.send(&message(
        "sip:+15551234567@im.example.test",
        "sip:bob@mail.example.test",
        "the quarterly numbers",
        202,
    ));
    let mails = w.smtp.mails_when(1, Duration::from_secs(5));
    assert_eq!(mails.len(), 1);
    assert_eq!(
        raw_header(&mails[0], "From").as_deref(),
        Some("<john.smith@corp.example.test>")
    );
    assert_eq!(
        raw_header(&mails[0], "X-Envelope-From").as_deref(),
        Some("<john.smith@corp.example.test>")
    );
    // Mail → IM: the same plugin finds the IM user of a company mailbox.
    let (ok, transcript) = peers::swaks(
        w.ports.smtp,
        &[
            "--from",
            "bob@mail.example.test",
            "--to",
            "john.smith@corp.example.test",
            "--body",
            "thanks John",
        ],
    );
    assert!(ok, "{transcript}");
    assert!(
        transcript.contains("<-  250 2.0.0 Delivered as IM"),
        "{transcript}"
    );
    let (sipp_ok, log) = uas.finish();
    assert!(sipp_ok, "{log}");
    assert!(
        log.contains("MESSAGE sip:+15551234567@im.example.test SIP/2.0"),
        "{log}"
    );
    assert!(log.contains("thanks John"), "{log}");
    let list = w.scratch.run(&[
        "plugins",
        "list",
        "--config",
        w.scratch.path().join("interwork.toml").to_str().unwrap(),
    ]);
    let list = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(list.contains("contract 0.1.0"), "{list}");
    assert!(list.contains("default-conversion 0.1.0"), "{list}");
}

/// The SHA-256 `interwork plugins check` reports for a component.
fn sha256_of(scratch: &Scratch, file: &Path) -> String {
    let out = scratch.run(&["plugins", "check", file.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("sha256 "))
        .unwrap_or_else(|| panic!("no sha256 in {text}"))
        .to_string()
}

#[test]
fn a_live_swap_from_0_1_0_to_0_2_0_under_traffic_fails_no_message() {
    let uas = SippUas::start(200, "OK");
    let mut w = world(uas.port, &[("fixture_contract_0_1_0", "company.wasm")]);
    w.gateway
        .wait_for("now served by company", Duration::from_secs(10));
    let newer = guest("directory_mapping");
    let sha = sha256_of(&w.scratch, &newer);
    // 60 MESSAGEs at sipp's 10 per second; the swap lands in the middle.
    let target = format!("127.0.0.1:{}", w.ports.sip);
    let traffic = std::thread::spawn(move || {
        peers::sipp_calls(
            &message(
                "sip:+15551234567@im.example.test",
                "sip:bob@mail.example.test",
                "under way",
                202,
            ),
            &target,
            "t1",
            60,
        )
    });
    std::thread::sleep(Duration::from_secs(2));
    let dir = w.scratch.path().join("plugins.d");
    std::fs::copy(&newer, dir.join(".company.wasm.partial")).unwrap();
    std::fs::rename(dir.join(".company.wasm.partial"), dir.join("company.wasm")).unwrap();
    w.gateway.wait_for(&sha[..16], Duration::from_secs(5));
    let run = traffic.join().unwrap();
    assert!(run.success, "a MESSAGE failed:\n{}", run.output);
    let mails = w.smtp.mails_when(60, Duration::from_secs(10));
    assert_eq!(mails.len(), 60);
    for mail in &mails {
        assert_eq!(
            raw_header(mail, "From").as_deref(),
            Some("<john.smith@corp.example.test>")
        );
    }
    drop(uas);
}

#[test]
fn a_plugin_that_panics_is_logged_and_the_message_refused_for_now() {
    let uas = SippUas::start(200, "OK");
    let mut w = world(uas.port, &[("fixture_panic", "plan.wasm")]);
    w.gateway
        .wait_for("now served by plan", Duration::from_secs(10));
    // `boom` has no entry: the plugin panics; the IM sender hears 503 with
    // Retry-After (temporary), so its client tries again later.
    w.send(&message(
        "sip:alice@im.example.test",
        "sip:boom@mail.example.test",
        "hello?",
        503,
    ));
    w.gateway
        .wait_for("panicked at panic/src/lib.rs", Duration::from_secs(5));
    assert!(
        w.gateway
            .has_logged("the numbering plan has an entry for every user"),
        "the panic message is in the log"
    );
    // The host keeps serving, with the same plugin.
    w.send(&message(
        "sip:alice@im.example.test",
        "sip:bob@mail.example.test",
        "still there?",
        202,
    ));
    let mails = w.smtp.mails_when(1, Duration::from_secs(5));
    assert_eq!(mails.len(), 1);
    assert_eq!(
        raw_header(&mails[0], "To").as_deref(),
        Some("<bob@mail.example.test>")
    );
    drop(uas);
}

/// `cargo` with the environment of this test run taken out, as a plugin
/// author runs it.
fn cargo(dir: &Path, args: &[&str]) {
    let out = Command::new("cargo")
        .current_dir(dir)
        .args(args)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo {args:?}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_new_plugin_goes_from_template_to_map() {
    let s = Scratch::new(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"));
    let config = s.config(&[]);
    let config = config.to_str().unwrap();
    let out = s.run(&[
        "plugins",
        "new",
        "mapping",
        "staff-plan",
        "--dir",
        s.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root = s.path().join("staff-plan");
    // The author's rule: staff mailboxes carry a `.staff` suffix.
    let lib = root.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    assert!(source.contains("format!(\"{user}@{host}\")"));
    // The rule, and its unit test, as the author would change them.
    let source = source
        .replace(
            "format!(\"{user}@{host}\")",
            "format!(\"{user}.staff@{host}\")",
        )
        .replace(
            "assert_eq!(mapped.value, \"alice@im.example.test\");",
            "assert_eq!(mapped.value, \"alice.staff@im.example.test\");",
        )
        .replace(
            "assert_eq!(back.value, \"sip:alice@im.example.test\");",
            "assert_eq!(back.value, \"sip:alice.staff@im.example.test\");",
        );
    std::fs::write(&lib, source).unwrap();
    cargo(&root, &["test", "--quiet"]);
    cargo(&root, &["build", "--release", "--target", "wasm32-wasip2"]);
    let wasm = root.join("target/wasm32-wasip2/release/staff_plan.wasm");
    let cases = root.join("cases.toml");
    // The template's first case still expects the old rule: a mismatch.
    let test = |cases: &Path| {
        s.run(&[
            "plugins",
            "test",
            "--config",
            config,
            wasm.to_str().unwrap(),
            cases.to_str().unwrap(),
        ])
    };
    let out = test(&cases);
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{table}");
    assert!(table.contains("MISMATCH"), "{table}");
    assert!(table.contains("alice.staff@im.example.test"), "{table}");
    std::fs::write(
        &cases,
        std::fs::read_to_string(&cases).unwrap().replace(
            "expect = \"alice@im.example.test\"",
            "expect = \"alice.staff@im.example.test\"",
        ),
    )
    .unwrap();
    let out = test(&cases);
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{table}");
    assert!(table.contains("4 cases, 4 passed, 0 mismatched"), "{table}");
    // Dropped into a plugin directory, the new rule is what `map` shows.
    let dir = s.path().join("drop-in");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(&wasm, dir.join("staff_plan.wasm")).unwrap();
    let out = s.run(&[
        "map",
        "--config",
        config,
        "--plugins",
        dir.to_str().unwrap(),
        "sip:alice@im.example.test",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "alice.staff@im.example.test"
    );
}
