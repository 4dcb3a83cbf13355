//! The default mapping plugin (SPEC S2), exercised as the real component
//! through the host's plugin engine: every rule, round trips, tel URIs and
//! bad input.

mod common;

use interwork::plugins::DEFAULT_MAPPING;
use interwork_plugin_host::bindings::mapping::{Origin, Role};
use interwork_plugin_host::{
    CallError, LoadedPlugin, PluginEngine, PluginId, PluginSource, RefusalKind,
};
use std::sync::Arc;

const DIRECTORY: &str = r#"
    [[address]]
    im = "sip:+86_13812345678@im.example.test"
    email = "zhang.san@gw.example.test"

    # An IM user whose mailbox is elsewhere (offline delivery, SPEC S7).
    [[address]]
    im = "sip:carol@im.example.test"
    email = "carol@mail.example.org"
"#;

struct Mapping {
    engine: Arc<PluginEngine>,
    plugin: LoadedPlugin,
}

fn mapping() -> Mapping {
    let engine = common::engine_with(common::limits(), common::directory(DIRECTORY));
    let id = PluginId {
        name: "default-mapping".into(),
        source: PluginSource::Embedded,
    };
    let plugin = engine
        .load(id, DEFAULT_MAPPING)
        .expect("default mapping loads");
    Mapping { engine, plugin }
}

impl Mapping {
    fn email(&self, uri: &str, role: Role) -> Result<(String, Origin), RefusalKind> {
        match self.plugin.email_of_im(&self.engine, uri, role) {
            Ok(m) => Ok((m.value, m.origin)),
            Err(CallError::Refused(e)) => Err(e.kind),
            Err(CallError::Fault(f)) => panic!("{uri}: {f}"),
        }
    }

    fn im(&self, address: &str, role: Role) -> Result<(String, Origin), RefusalKind> {
        match self.plugin.im_of_email(&self.engine, address, role) {
            Ok(m) => Ok((m.value, m.origin)),
            Err(CallError::Refused(e)) => Err(e.kind),
            Err(CallError::Fault(f)) => panic!("{address}: {f}"),
        }
    }
}

fn ok(value: &str, origin: Origin) -> Result<(String, Origin), RefusalKind> {
    Ok((value.to_string(), origin))
}

#[test]
fn sender_im_identity_to_email() {
    let m = mapping();
    let cases = [
        (
            "sip:alice@im.example.test",
            ok("alice@im.example.test", Origin::Constructed),
        ),
        (
            "SIP:alice@IM.Example.TEST",
            ok("alice@im.example.test", Origin::Constructed),
        ),
        (
            "<sip:alice@im.example.test:5060;transport=tcp>",
            ok("alice@im.example.test", Origin::Constructed),
        ),
        (
            "sips:alice@im2.example.test",
            ok("alice@im2.example.test", Origin::Constructed),
        ),
        (
            "sip:alice.o'neil@im.example.test",
            ok("alice.o'neil@im.example.test", Origin::Constructed),
        ),
        // Provisioned addresses win, whichever form the identity has.
        (
            "sip:+86_13812345678@im.example.test",
            ok("zhang.san@gw.example.test", Origin::Provisioned),
        ),
        (
            "tel:+8613812345678",
            ok("zhang.san@gw.example.test", Origin::Provisioned),
        ),
        (
            "sip:carol@im.example.test",
            ok("carol@mail.example.org", Origin::Provisioned),
        ),
        // Telephone identities (SPEC S2 example, and other country-code lengths).
        (
            "tel:+8613912345678",
            ok("+86-13912345678@im.example.test", Origin::Constructed),
        ),
        (
            "tel:+86-139-1234-5678;phone-context=ignored",
            ok("+86-13912345678@im.example.test", Origin::Constructed),
        ),
        (
            "tel:+1-555-123-4567",
            ok("+1-5551234567@im.example.test", Origin::Constructed),
        ),
        (
            "tel:+74951234567",
            ok("+7-4951234567@im.example.test", Origin::Constructed),
        ),
        (
            "tel:+442079460000",
            ok("+44-2079460000@im.example.test", Origin::Constructed),
        ),
        (
            "tel:+85223456789",
            ok("+852-23456789@im.example.test", Origin::Constructed),
        ),
        (
            "sip:+8613912345678@im.example.test;user=phone",
            ok("+86-13912345678@im.example.test", Origin::Constructed),
        ),
        // RFC 3261 §19.1.6: visual separators in a telephone user part.
        (
            "sip:+86-139-1234-5678@im.example.test;user=phone",
            ok("+86-13912345678@im.example.test", Origin::Constructed),
        ),
        (
            "sip:+86_13912345678@im2.example.test",
            ok("+86-13912345678@im2.example.test", Origin::Constructed),
        ),
        // Not ours to send as.
        ("sip:bob@mail.example.org", Err(RefusalKind::NotFound)),
        ("mailto:bob@mail.example.org", Err(RefusalKind::NotFound)),
    ];
    for (uri, expected) in cases {
        assert_eq!(m.email(uri, Role::Sender), expected, "{uri}");
    }
}

#[test]
fn recipient_im_identity_to_email() {
    let m = mapping();
    let cases = [
        // "The IM recipient already is an e-mail address" (SPEC S2).
        (
            "sip:bob@mail.example.org",
            ok("bob@mail.example.org", Origin::Foreign),
        ),
        (
            "sip:Bob.Smith@Mail.Example.ORG;transport=udp",
            ok("Bob.Smith@mail.example.org", Origin::Foreign),
        ),
        (
            "mailto:bob@mail.example.org",
            ok("bob@mail.example.org", Origin::Foreign),
        ),
        (
            "mailto:bob@mail.example.org?subject=hi",
            ok("bob@mail.example.org", Origin::Foreign),
        ),
        (
            "sip:a%25b@mail.example.org",
            ok("a%b@mail.example.org", Origin::Foreign),
        ),
        // Otherwise the directory decides.
        (
            "sip:carol@im.example.test",
            ok("carol@mail.example.org", Origin::Provisioned),
        ),
        (
            "tel:+8613812345678",
            ok("zhang.san@gw.example.test", Origin::Provisioned),
        ),
        // An IM user with no mailbox: mail to its constructed address
        // would come back to this gateway.
        ("sip:alice@im.example.test", Err(RefusalKind::NotFound)),
        ("sip:someone@gw.example.test", Err(RefusalKind::NotFound)),
    ];
    for (uri, expected) in cases {
        assert_eq!(m.email(uri, Role::Recipient), expected, "{uri}");
    }
}

#[test]
fn email_recipient_to_im_identity() {
    let m = mapping();
    let cases = [
        (
            "alice@im.example.test",
            ok("sip:alice@im.example.test", Origin::Constructed),
        ),
        (
            "<alice@IM.EXAMPLE.TEST>",
            ok("sip:alice@im.example.test", Origin::Constructed),
        ),
        (
            "+86-13912345678@im.example.test",
            ok("sip:+86_13912345678@im.example.test", Origin::Constructed),
        ),
        // The same number without the country-code mark is an alias.
        (
            "+8613912345678@im.example.test",
            ok("sip:+86_13912345678@im.example.test", Origin::Constructed),
        ),
        (
            "zhang.san@gw.example.test",
            ok("sip:+86_13812345678@im.example.test", Origin::Provisioned),
        ),
        (
            "ZHANG.SAN@GW.example.test",
            ok("sip:+86_13812345678@im.example.test", Origin::Provisioned),
        ),
        ("nobody@gw.example.test", Err(RefusalKind::NotFound)),
        ("bob@mail.example.org", Err(RefusalKind::Permanent)),
        // The country code does not end where this says.
        ("+8-613912345678@im.example.test", Err(RefusalKind::Invalid)),
    ];
    for (address, expected) in cases {
        assert_eq!(m.im(address, Role::Recipient), expected, "{address}");
    }
}

#[test]
fn email_sender_becomes_im_identity_itself() {
    let m = mapping();
    let cases = [
        (
            "bob@mail.example.org",
            ok("sip:bob@mail.example.org", Origin::Foreign),
        ),
        (
            "Bob@Mail.Example.Org",
            ok("sip:Bob@mail.example.org", Origin::Foreign),
        ),
        (
            "o'brien+tag@mail.example.org",
            ok("sip:o'brien+tag@mail.example.org", Origin::Foreign),
        ),
        (
            "a%b@mail.example.org",
            ok("sip:a%25b@mail.example.org", Origin::Foreign),
        ),
        // One of our own users writing by mail keeps its IM identity.
        (
            "alice@im.example.test",
            ok("sip:alice@im.example.test", Origin::Constructed),
        ),
        (
            "zhang.san@gw.example.test",
            ok("sip:+86_13812345678@im.example.test", Origin::Provisioned),
        ),
    ];
    for (address, expected) in cases {
        assert_eq!(m.im(address, Role::Sender), expected, "{address}");
    }
}

#[test]
fn round_trips_are_exact() {
    let m = mapping();
    // IM user → its e-mail address → mail to that address reaches the user.
    for uri in [
        "sip:alice@im.example.test",
        "sip:+86_13912345678@im.example.test",
        "sip:+1_5551234567@im2.example.test",
        "sip:+852_23456789@im.example.test",
        "sip:+86_13812345678@im.example.test",
    ] {
        let (email, _) = m.email(uri, Role::Sender).unwrap();
        let (back, _) = m.im(&email, Role::Recipient).unwrap();
        assert_eq!(back, uri, "{uri} → {email} → {back}");
    }
    // tel: → SIP form → e-mail → SIP form again.
    let (email, _) = m.email("tel:+8613912345678", Role::Sender).unwrap();
    assert_eq!(email, "+86-13912345678@im.example.test");
    let (sip, _) = m.im(&email, Role::Recipient).unwrap();
    assert_eq!(sip, "sip:+86_13912345678@im.example.test");
    assert_eq!(m.email(&sip, Role::Sender).unwrap().0, email);
    // E-mail sender → IM identity → the IM user's reply reaches the sender.
    for address in [
        "bob@mail.example.org",
        "a%b@mail.example.org",
        "o'brien+tag@mail.example.org",
    ] {
        let (uri, _) = m.im(address, Role::Sender).unwrap();
        let (back, _) = m.email(&uri, Role::Recipient).unwrap();
        assert_eq!(back, address, "{address} → {uri} → {back}");
    }
}

#[test]
fn bad_input_is_invalid() {
    let m = mapping();
    for uri in [
        "alice",
        "http://im.example.test/alice",
        "sip:im.example.test",
        "sip:@im.example.test",
        "sip:alice@",
        "tel:8613812345678",
        "tel:+0123456",
        "tel:+1234567890123456",
        "tel:+86",
        "tel:+86abc",
        "sip:+86_1381234x5678@im.example.test",
        "sip:a%zzb@mail.example.org",
        "mailto:not-an-address",
    ] {
        for role in [Role::Sender, Role::Recipient] {
            assert_eq!(
                m.email(uri, role),
                Err(RefusalKind::Invalid),
                "{uri} as {role:?}"
            );
        }
    }
    for uri in [
        "sip:a b@mail.example.org",
        "sip:a..b@mail.example.org",
        "sip:bob@mail..example.org",
    ] {
        assert_eq!(
            m.email(uri, Role::Recipient),
            Err(RefusalKind::Invalid),
            "{uri}"
        );
    }
    for address in [
        "",
        "alice",
        "@im.example.test",
        "alice@",
        "a b@im.example.test",
        ".a@im.example.test",
    ] {
        for role in [Role::Sender, Role::Recipient] {
            assert_eq!(
                m.im(address, role),
                Err(RefusalKind::Invalid),
                "{address:?} as {role:?}"
            );
        }
    }
    let long_local = format!("{}@mail.example.org", "x".repeat(65));
    assert_eq!(m.im(&long_local, Role::Sender), Err(RefusalKind::Invalid));
}

#[test]
fn served_domains() {
    let m = mapping();
    for (domain, served) in [
        ("im.example.test", true),
        ("IM2.Example.Test", true),
        ("gw.example.test", true),
        ("mail.example.org", false),
        ("example.test", false),
    ] {
        assert_eq!(
            m.plugin.is_served_domain(&m.engine, domain).unwrap(),
            served,
            "{domain}"
        );
    }
}
