//! The per-message receipt policy (`conversion.send-notice`, contract
//! 0.2.0) through the real runtime: a conversion plugin's answer decides,
//! given what the configuration says; the embedded default answers what
//! the configuration says.

mod common;

use interwork::notify::decide;
use interwork::plugins;
use interwork_plugin_host::bindings::conversion::NoticeKind;
use interwork_plugin_host::{Plugins, RoleChoice};

fn plugins_with(dir: Option<&std::path::Path>) -> Plugins {
    Plugins::start(
        common::engine(),
        plugins::defaults(),
        dir.map(std::path::Path::to_path_buf),
        RoleChoice::default(),
    )
    .expect("plugins start")
}

#[test]
fn the_conversion_plugin_decides_each_receipt() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        interwork_test_plugins::wasm("fixture_quiet_receipts"),
        dir.path().join("quiet.wasm"),
    )
    .unwrap();
    let quiet = plugins_with(Some(dir.path()));
    assert_eq!(&*quiet.current().conversion.id.name, "quiet");
    let alice = "sip:alice@im.example.test";
    // Its rule: no read receipts to private.example, whatever is configured.
    assert!(!decide(
        Some(&quiet),
        NoticeKind::MdnDisplayed,
        alice,
        "bob@private.example",
        true
    ));
    assert!(decide(
        Some(&quiet),
        NoticeKind::MdnDisplayed,
        alice,
        "bob@mail.example.org",
        true
    ));
    assert!(!decide(
        Some(&quiet),
        NoticeKind::MdnDisplayed,
        alice,
        "bob@mail.example.org",
        false
    ));
    // And a 250 without DSN counts as delivered, though not configured.
    assert!(decide(
        Some(&quiet),
        NoticeKind::DeliveredOnRelay,
        alice,
        "bob@mail.example.org",
        false
    ));

    // The embedded default leaves every receipt to the configuration.
    let default = plugins_with(None);
    for kind in [
        NoticeKind::MdnDisplayed,
        NoticeKind::DsnDelivered,
        NoticeKind::DeliveredOnRelay,
    ] {
        for configured in [true, false] {
            assert_eq!(
                decide(
                    Some(&default),
                    kind,
                    alice,
                    "bob@private.example",
                    configured
                ),
                configured
            );
        }
    }
}
