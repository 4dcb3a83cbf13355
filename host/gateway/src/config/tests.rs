use std::path::Path;

use super::*;

#[test]
fn embedded_default_is_the_documented_example() {
    let config = Config::parse(EMBEDDED_DEFAULT, Path::new("/srv")).expect("example parses");
    assert_eq!(config.gateway.hostname, "gw.example.test");
    assert_eq!(config.im_domain_names(), ["im.example.test"]);
    assert_eq!(config.limits, Limits::default());
    assert_eq!(config.sip, SipConfig::default());
    assert_eq!(config.smtp, SmtpConfig::default());
    assert_eq!(config.msrp.listen, MsrpConfig::default().listen);
    assert_eq!(
        config.msrp.advertised_address(),
        std::net::IpAddr::from([127, 0, 0, 1])
    );
    assert_eq!(
        config.plugins.dir.as_deref(),
        Some(Path::new("/srv/plugins.d"))
    );
}

#[test]
fn effective_config_prints_and_parses_back() {
    let config = Config::parse(EMBEDDED_DEFAULT, Path::new("/srv")).unwrap();
    let again = Config::parse(&config.to_toml(), Path::new("/elsewhere")).unwrap();
    assert_eq!(config, again);
}

#[test]
fn unknown_key_is_named() {
    let text = format!("{EMBEDDED_DEFAULT}\n[limits2]\nx = 1\n");
    let err = Config::parse(&text, Path::new("."))
        .unwrap_err()
        .to_string();
    assert!(err.contains("limits2"), "{err}");
    let text = EMBEDDED_DEFAULT.replace("plugin_time_ms = 100", "plugin_time = 100");
    let err = Config::parse(&text, Path::new("."))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field `plugin_time`"), "{err}");
}

#[test]
fn bad_values_name_their_key() {
    for (from, to, key) in [
        (
            "plugin_time_ms = 100",
            "plugin_time_ms = 0",
            "limits.plugin_time_ms",
        ),
        (
            "plugin_memory_mib = 64",
            "plugin_memory_mib = 100000",
            "limits.plugin_memory_mib",
        ),
        (
            "max_messages_in_flight = 512",
            "max_messages_in_flight = 0",
            "limits.max_messages_in_flight",
        ),
        (
            "hostname = \"gw.example.test\"",
            "hostname = \"gw example\"",
            "gateway.hostname",
        ),
        (
            "domain = \"im.example.test\"",
            "domain = \"\"",
            "im_domains[0].domain",
        ),
        (
            "# smarthost = \"127.0.0.1:2526\"",
            "smarthost = \"nohost\"",
            "smtp.smarthost",
        ),
        (
            "\"corp.domain\" = \"corp.example.test\"",
            "\"corp.domain\" = [1]",
            "plugins.config.corp.domain",
        ),
        (
            "# mapping = \"directory_mapping.wasm\"",
            "mapping = \"../x.wasm\"",
            "plugins.mapping",
        ),
        // Loops that a configuration alone makes (issue 8).
        (
            "next_hop = \"127.0.0.1:5070\"",
            "next_hop = \"127.0.0.1:5060\"",
            "im_domains[0].next_hop",
        ),
        (
            "mail_domains = [\"gw.example.test\"]",
            "mail_domains = [\"gw.example.test\", \"IM.example.test\"]",
            "im_domains[0].domain",
        ),
        (
            "max_sessions_per_client = 50",
            "max_sessions_per_client = 500",
            "smtp.max_sessions_per_client",
        ),
        (
            "tcp_max_connections_per_source = 100",
            "tcp_max_connections_per_source = 0",
            "sip.tcp_max_connections_per_source",
        ),
        (
            "tls_handshake_timeout_secs = 10",
            "tls_handshake_timeout_secs = 0",
            "smtp.tls_handshake_timeout_secs",
        ),
        ("lease_secs = 60", "lease_secs = 20", "store.lease_secs"),
        (
            "retry_minimum_secs = 300",
            "retry_minimum_secs = 5000",
            "store.retry_minimum_secs",
        ),
        (
            "# url = \"postgres://interwork:secret@127.0.0.1:5432/interwork\"",
            "url = \"mysql://x\"",
            "store.url",
        ),
        (
            "# path = \"/var/lib/interwork/store.sqlite\"",
            "path = \"/x.sqlite\"\nurl = \"postgres://db/x\"",
            "store.url",
        ),
        (
            "mail_hop_limit = 25",
            "mail_hop_limit = 0",
            "limits.mail_hop_limit",
        ),
    ] {
        assert!(EMBEDDED_DEFAULT.contains(from), "{from}");
        let text = EMBEDDED_DEFAULT.replace(from, to);
        let err = Config::parse(&text, Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(key), "{key}: {err}");
    }
}

#[test]
fn minimal_config_takes_defaults() {
    let text = r#"
        [gateway]
        hostname = "gw.example.net"
        mail_domains = []
        [[im_domains]]
        domain = "im.example.net"
        next_hop = "192.0.2.1:5060"
        [msrp]
        advertise = "192.0.2.10"
    "#;
    let config = Config::parse(text, Path::new("/etc/interwork")).unwrap();
    assert_eq!(config.im_domains[0].transport, SipTransport::Udp);
    assert_eq!(config.limits, Limits::default());
    assert_eq!(
        config.plugins.dir.as_deref(),
        Some(Path::new("/etc/interwork/plugins.d"))
    );
    assert_eq!(
        config.msrp.advertised_address(),
        std::net::IpAddr::from([192, 0, 2, 10])
    );
    // A wildcard MSRP listener must say where peers connect.
    let without = text.replace("[msrp]\n        advertise = \"192.0.2.10\"", "");
    let err = Config::parse(&without, Path::new("."))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("msrp.advertise"), "{err}");
}

#[test]
fn plugin_values_are_text() {
    let text = EMBEDDED_DEFAULT.replace("[limits]", "\"n\" = 3\n\"flag\" = true\n[limits]");
    let config = Config::parse(&text, Path::new(".")).unwrap();
    let values = config.plugin_values();
    assert_eq!(values["n"], "3");
    assert_eq!(values["flag"], "true");
    assert_eq!(values["corp.domain"], "corp.example.test");
}

#[test]
fn the_database_password_is_not_printed() {
    let text = EMBEDDED_DEFAULT.replace(
        "# url = \"postgres://interwork:secret@127.0.0.1:5432/interwork\"",
        "url = \"postgres://interwork:secret@127.0.0.1:5432/interwork\"",
    );
    let config = Config::parse(&text, Path::new("/srv")).unwrap();
    let shown = config.to_toml();
    assert!(
        shown.contains("url = \"postgres://interwork:***@127.0.0.1:5432/interwork\""),
        "{shown}"
    );
    assert!(!shown.contains("secret"), "{shown}");
}

#[test]
fn an_error_fits_on_one_line() {
    let text = EMBEDDED_DEFAULT.replace("[limits]", "[limits]\nspeed = 3");
    let e = Config::parse(&text, Path::new("/")).unwrap_err();
    let line = e.one_line();
    assert!(!line.contains('\n'), "{line}");
    assert!(line.starts_with("line "), "{line}");
    assert!(line.contains("unknown field `speed`"), "{line}");
}
