//! The command line contract, against the real binary.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use interwork_e2e::{Gateway, Scratch, UnixSignal, guest};

fn scratch() -> Scratch {
    Scratch::new(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"))
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn map_prints_the_other_side() {
    let s = scratch();
    for (input, expected) in [
        ("sip:alice@im.example.test", "alice@im.example.test\n"),
        ("tel:+8613812345678", "+86-13812345678@im.example.test\n"),
        (
            "+86-13812345678@im.example.test",
            "sip:+86_13812345678@im.example.test\n",
        ),
        ("alice@im.example.test", "sip:alice@im.example.test\n"),
    ] {
        let out = s.run(&["map", input]);
        assert!(out.status.success(), "{input}: {}", stderr(&out));
        assert_eq!(stdout(&out), expected, "{input}");
    }
    let out = s.run(&["map", "--as", "recipient", "sip:bob@mail.example.org"]);
    assert_eq!(stdout(&out), "bob@mail.example.org\n");
    let out = s.run(&["map", "--as", "sender", "bob@mail.example.org"]);
    assert_eq!(stdout(&out), "sip:bob@mail.example.org\n");
}

#[test]
fn map_exits_1_with_the_reason() {
    let s = scratch();
    let out = s.run(&["map", "nobody@gw.example.test"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("not a provisioned address"),
        "{}",
        stderr(&out)
    );
    let out = s.run(&["map", "sip:alice"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no user part"), "{}", stderr(&out));
}

#[test]
fn map_uses_the_directory_and_the_plugin_directory() {
    let s = scratch();
    std::fs::write(
        s.path().join("directory.toml"),
        "[[address]]\nim = \"sip:alice@im.example.test\"\nemail = \"alice.w@gw.example.test\"\n",
    )
    .unwrap();
    let config = s.config(&[("# file = \"directory.toml\"", "file = \"directory.toml\"")]);
    let config = config.to_str().unwrap();
    let out = s.run(&["map", "--config", config, "sip:alice@im.example.test"]);
    assert_eq!(
        stdout(&out),
        "alice.w@gw.example.test\n",
        "{}",
        stderr(&out)
    );
    let out = s.run(&["map", "--config", config, "alice.w@gw.example.test"]);
    assert_eq!(stdout(&out), "sip:alice@im.example.test\n");

    let plugins = s.path().join("mine");
    std::fs::create_dir(&plugins).unwrap();
    std::fs::copy(guest("directory_mapping"), plugins.join("company.wasm")).unwrap();
    let out = s.run(&[
        "map",
        "--plugins",
        plugins.to_str().unwrap(),
        "sip:+15551234567@im.example.test",
    ]);
    assert_eq!(
        stdout(&out),
        "john.smith@corp.example.test\n",
        "{}",
        stderr(&out)
    );
}

#[test]
fn check_config_prints_the_effective_config() {
    let s = scratch();
    let out = s.run(&["check-config"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("# effective configuration from embedded default configuration"));
    assert!(text.contains("plugin_time_ms = 100"), "{text}");
    // Relative paths of the embedded configuration are the working directory's.
    let plugins_dir = format!("dir = \"{}\"", s.path().join("plugins.d").display());
    assert!(text.contains(&plugins_dir), "{plugins_dir} not in {text}");

    let config = s.config(&[("plugin_time_ms = 100", "plugin_time_ms = 0")]);
    let out = s.run(&["check-config", "--config", config.to_str().unwrap()]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("limits.plugin_time_ms"),
        "{}",
        stderr(&out)
    );

    let config = s.config(&[("[limits]", "[limits]\nspeed = 3")]);
    let out = s.run(&["check-config", "--config", config.to_str().unwrap()]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("speed"), "{}", stderr(&out));

    let out = s.run(&["check-config", "--config", "/nonexistent/interwork.toml"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("/nonexistent/interwork.toml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn check_config_refuses_a_pin_to_a_plugin_that_cannot_serve_and_says_each_error_once() {
    let s = scratch();
    let dir = s.path().join("plugins.d");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(guest("directory_mapping"), dir.join("company.wasm")).unwrap();
    std::fs::copy(guest("fixture_trap"), dir.join("broken.wasm")).unwrap();
    for (pin, why) in [
        (
            "mapping = \"nothere.wasm\"",
            "plugins.mapping = \"nothere.wasm\": no such file",
        ),
        (
            "mapping = \"broken.wasm\"",
            "plugins.mapping = \"broken.wasm\": refused",
        ),
        (
            "mapping = \"company.wasm\"\nconversion = \"company.wasm\"",
            "plugins.conversion = \"company.wasm\": does not export interwork:plugin/conversion",
        ),
    ] {
        let config = s.config(&[("# mapping = \"directory_mapping.wasm\"", pin)]);
        let out = s.run(&["check-config", "--config", config.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{pin}: {}", stderr(&out));
        assert_eq!(
            stderr(&out).matches(why).count(),
            1,
            "{pin}: {}",
            stderr(&out)
        );
        // The broken file has one line: the error when pinned, else a
        // warning.
        assert_eq!(
            stderr(&out)
                .lines()
                .filter(|l| l.contains("broken.wasm"))
                .count(),
            1,
            "{pin}: {}",
            stderr(&out)
        );
    }
    let config = s.config(&[(
        "# mapping = \"directory_mapping.wasm\"",
        "mapping = \"company.wasm\"",
    )]);
    let out = s.run(&["check-config", "--config", config.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A directory file that is not there: said once, with the reason once.
    let config = s.config(&[("# file = \"directory.toml\"", "file = \"nothere.toml\"")]);
    let out = s.run(&["check-config", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let said = stderr(&out);
    assert_eq!(
        said.matches("No such file or directory").count(),
        1,
        "{said}"
    );
    assert!(said.contains("nothere.toml"), "{said}");
}

#[test]
fn plugins_check_reports_world_and_version_or_the_reason() {
    let s = scratch();
    let example = guest("directory_mapping");
    let out = s.run(&["plugins", "check", example.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("exports interwork:plugin/mapping@0.2.0"),
        "{text}"
    );
    // plugin-info, from the example's Cargo.toml.
    assert!(
        text.contains("plugin directory-mapping 0.1.0: Example Interwork mapping plugin"),
        "{text}"
    );
    assert!(text.contains("\n  contract 0.2.0\n"), "{text}");
    // The same source built for the frozen contract.
    let old = s.run(&[
        "plugins",
        "check",
        guest("fixture_contract_0_1_0").to_str().unwrap(),
    ]);
    assert!(old.status.success(), "{}", stderr(&old));
    let text = stdout(&old);
    assert!(
        text.contains("exports interwork:plugin/mapping@0.1.0"),
        "{text}"
    );
    assert!(
        text.contains("contract 0.1.0, served through its adapter (newest: 0.2.0"),
        "{text}"
    );
    for (name, reason) in [
        ("fixture_trap", "unreachable"),
        ("fixture_spin", "time limit"),
        ("fixture_hog", "memory"),
        ("fixture_wrong_world", "exports neither"),
    ] {
        let out = s.run(&["plugins", "check", guest(name).to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert!(stderr(&out).contains(reason), "{name}: {}", stderr(&out));
    }
}

#[test]
fn plugins_list_files_says_what_would_serve_from_where() {
    let s = scratch();
    let config = s.config(&[]);
    // No gateway runs: asking it fails, and says why.
    let out = s.run(&["plugins", "list", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot reach the running gateway"),
        "{}",
        stderr(&out)
    );
    let out = s.run(&[
        "plugins",
        "list",
        "--files",
        "--config",
        config.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert!(text.contains("default-mapping (embedded)"), "{text}");
    assert!(text.contains("default-conversion (embedded)"), "{text}");
    std::fs::create_dir(s.path().join("plugins.d")).unwrap();
    std::fs::copy(
        guest("directory_mapping"),
        s.path().join("plugins.d/company.wasm"),
    )
    .unwrap();
    std::fs::copy(
        guest("fixture_trap"),
        s.path().join("plugins.d/broken.wasm"),
    )
    .unwrap();
    let out = s.run(&[
        "plugins",
        "list",
        "--files",
        "--config",
        config.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert!(
        text.starts_with("what a gateway started now would serve"),
        "{text}"
    );
    assert!(
        text.contains("mapping    directory-mapping 0.1.0  company ("),
        "{text}"
    );
    assert!(text.contains("contract 0.2.0"), "{text}");
    assert!(
        text.contains("refused") && text.contains("broken.wasm"),
        "{text}"
    );
}

#[test]
fn a_running_gateway_swaps_in_a_dropped_plugin() {
    let s = scratch();
    let (config, _) = s.gateway_config(&[]);
    let mut gateway = Gateway::start(s.command(&["run", "--config", config.to_str().unwrap()]));
    gateway.wait_for("interwork ready", Duration::from_secs(30));
    let plugins = s.path().join("plugins.d");
    assert!(plugins.is_dir(), "run creates the plugin directory");

    let dropped = Instant::now();
    std::fs::copy(
        guest("directory_mapping"),
        plugins.join("directory_mapping.wasm"),
    )
    .unwrap();
    gateway.wait_for("now served by directory_mapping", Duration::from_secs(10));
    eprintln!("dropped plugin served after {:?}", dropped.elapsed());

    gateway.signal(UnixSignal::SIGHUP);
    gateway.wait_for("SIGHUP: reloading", Duration::from_secs(10));
    std::fs::remove_file(plugins.join("directory_mapping.wasm")).unwrap();
    gateway.wait_for(
        "now served by default-mapping (embedded)",
        Duration::from_secs(10),
    );

    let status = gateway.stop();
    assert!(status.success(), "{status}");
}

#[test]
fn convert_takes_a_plugin_directory() {
    let s = scratch();
    let plugins = s.path().join("mine");
    std::fs::create_dir(&plugins).unwrap();
    std::fs::copy(guest("directory_mapping"), plugins.join("company.wasm")).unwrap();
    let message = s.path().join("message.sip");
    std::fs::write(
        &message,
        "MESSAGE sip:bob@mail.example.test SIP/2.0\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1\n\
From: <sip:+15551234567@im.example.test>;tag=1\n\
To: <sip:bob@mail.example.test>\n\
Call-ID: convert-plugins\n\
CSeq: 1 MESSAGE\n\
Content-Type: text/plain\n\
Content-Length: 5\n\
\n\
hello",
    )
    .unwrap();
    let convert = |plugins: Option<&str>| {
        let mut args = vec!["convert", "im-to-email"];
        if let Some(dir) = plugins {
            args.extend(["--plugins", dir]);
        }
        args.push(message.to_str().unwrap());
        let out = s.run(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    // The default mapping keeps the number; the company's names its owner.
    let default = convert(None);
    assert!(
        default.starts_with("MAIL FROM:<+1-5551234567@im.example.test>\n"),
        "{default}"
    );
    let theirs = convert(Some(plugins.to_str().unwrap()));
    assert!(
        theirs.starts_with("MAIL FROM:<john.smith@corp.example.test>\n"),
        "{theirs}"
    );
}

#[test]
fn convert_gives_the_answers_a_running_gateway_gives() {
    let s = scratch();
    let convert = |name: &str, extra: &str, content_type: &str, body: &str| {
        let file = s.path().join(name);
        std::fs::write(
            &file,
            format!(
                "MESSAGE sip:bob@mail.example.test SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1\r\n\
From: <sip:alice@im.example.test>;tag=1\r\n\
To: <sip:bob@mail.example.test>\r\n\
Call-ID: convert-{name}\r\n\
CSeq: 1 MESSAGE\r\n\
{extra}Content-Type: {content_type}\r\n\
Content-Length: {}\r\n\
\r\n\
{body}",
                body.len()
            ),
        )
        .unwrap();
        s.run(&["convert", "im-to-email", file.to_str().unwrap()])
    };
    // RFC 3261 §8.2.2.3, as the gateway answers it.
    let out = convert("require", "Require: foo\r\n", "text/plain", "hi");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("would answer 420 Bad Extension"), "{err}");
    assert!(err.contains("Unsupported: foo"), "{err}");
    // A typing indication makes no mail.
    let out = convert(
        "typing",
        "",
        "application/im-iscomposing+xml",
        "<isComposing/>",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    assert!(
        stderr(&out).contains("200 OK and make no mail"),
        "{}",
        stderr(&out)
    );
    // A multipart message: the same parts in the mail.
    let body = "--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: image/png\r\n\
Content-Disposition: attachment; filename=\"x.png\"\r\n\r\nPNG\r\n--b--\r\n";
    let out = convert("mixed", "", "multipart/mixed; boundary=b", body);
    assert!(out.status.success(), "{}", stderr(&out));
    let mail = stdout(&out);
    assert!(mail.contains("Content-Type: multipart/mixed"), "{mail}");
    assert!(mail.contains("filename=\"x.png\""), "{mail}");
}

#[test]
fn convert_email_to_im_prints_the_sip_request() {
    let s = scratch();
    let mail = s.path().join("mail.eml");
    std::fs::write(
        &mail,
        "From: Bob <bob@mail.example.test>\r\nTo: alice@im.example.test\r\nSubject: =?UTF-8?B?5Y2I6aWt?=\r\n\r\nhello there\r\n",
    )
    .unwrap();
    let args = |to: &'static str| {
        vec![
            "convert".to_string(),
            "email-to-im".into(),
            "--mail-from".into(),
            "bob@mail.example.test".into(),
            "--rcpt-to".into(),
            to.into(),
            mail.to_str().unwrap().into(),
        ]
    };
    let run = |to| {
        let a = args(to);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        s.run(&refs)
    };
    let out = run("alice@im.example.test");
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        text.starts_with("# SIP MESSAGE (pager mode), to 127.0.0.1:5070 over Udp\n"),
        "{text}"
    );
    assert!(
        text.contains("MESSAGE sip:alice@im.example.test SIP/2.0\r\n"),
        "{text}"
    );
    assert!(text.contains("\r\nSubject: 午饭\r\n"), "{text}");
    assert!(text.contains("\r\n\r\nhello there"), "{text}");
    // Bigger than 1300 bytes: INVITE and MSRP chunks.
    let mut big = std::fs::read(&mail).unwrap();
    big.extend(std::iter::repeat_n(b'x', 3000));
    std::fs::write(&mail, big).unwrap();
    let text = stdout(&run("alice@im.example.test"));
    assert!(
        text.starts_with("# SIP INVITE (large-message mode)"),
        "{text}"
    );
    assert!(text.contains("# MSRP SEND chunk 2 of 2"), "{text}");
    // Relaying is refused as the SMTP server would.
    let out = run("bob@elsewhere.example.test");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("550 5.7.1"), "{}", stderr(&out));
}
