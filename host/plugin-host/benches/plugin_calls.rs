//! Cost of plugin calls through the host: a fresh instance in a fresh store
//! with limits, the calls, and the results back in Rust types.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use interwork_plugin_host::bindings::mapping::Role;
use interwork_plugin_host::bindings::types::{Dispositions, ImMessage, Timestamp};
use interwork_plugin_host::{
    CallLimits, HostContext, NoDirectory, PluginEngine, PluginId, PluginSource,
};

/// The gateway's allocator: what a call costs there, not under glibc's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn engine() -> PluginEngine {
    let context = HostContext {
        im_domains: vec!["im.example.test".into()],
        mail_domains: vec!["gw.example.test".into()],
        plugin_config: Default::default(),
        directory: Arc::new(NoDirectory),
    };
    let limits = CallLimits {
        memory_bytes: 64 << 20,
        time: Duration::from_millis(100),
    };
    PluginEngine::new(limits, None, context).expect("engine")
}

fn embedded(name: &str) -> PluginId {
    PluginId {
        name: name.into(),
        source: PluginSource::Embedded,
    }
}

/// The example plugin's one source built for each contract version: what
/// the 0.1.0 adapter (and 0.2.0's SDK wrapper) costs a call.
fn contract_versions(c: &mut Criterion) {
    let engine = engine();
    {
        let context = HostContext {
            plugin_config: [
                ("corp.domain", "corp.example.test"),
                (
                    "corp.people",
                    "+15551234567=john.smith, +15557654321=jane.doe",
                ),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            ..(*engine.context()).clone()
        };
        engine.set_context(context);
    }
    for (label, wasm) in [
        ("0.1.0", "fixture_contract_0_1_0"),
        ("0.2.0", "directory_mapping"),
    ] {
        let plugin = engine
            .load(embedded(wasm), &interwork_test_plugins::wasm_bytes(wasm))
            .unwrap();
        assert_eq!(plugin.contract().version(), label);
        c.bench_function(
            &format!("company plan email-of-im, contract {label}"),
            |b| {
                b.iter(|| {
                    let mapped = plugin
                        .email_of_im(
                            &engine,
                            black_box("sip:+15551234567@im.example.test"),
                            Role::Sender,
                        )
                        .unwrap();
                    assert_eq!(mapped.value, "john.smith@corp.example.test");
                    mapped
                })
            },
        );
    }
}

fn plugin_calls(c: &mut Criterion) {
    let engine = engine();
    let mapping = engine
        .load(
            embedded("default-mapping"),
            &interwork_test_plugins::wasm_bytes("default_mapping"),
        )
        .unwrap();
    let conversion = engine
        .load(
            embedded("default-conversion"),
            &interwork_test_plugins::wasm_bytes("default_conversion"),
        )
        .unwrap();
    c.bench_function("mapping email-of-im (sip sender)", |b| {
        b.iter(|| {
            mapping
                .email_of_im(
                    &engine,
                    black_box("sip:alice@im.example.test"),
                    Role::Sender,
                )
                .unwrap()
        })
    });
    // The same call on an instance made once: the guest's own work and
    // the crossing of the boundary, without instantiation.
    let mut warm = mapping.instance(&engine);
    c.bench_function("mapping email-of-im on a made instance", |b| {
        b.iter(|| {
            warm.email_of_im(black_box("sip:alice@im.example.test"), Role::Sender)
                .unwrap()
        })
    });
    drop(warm);
    c.bench_function("mapping im-of-email (tel recipient)", |b| {
        b.iter(|| {
            mapping
                .im_of_email(
                    &engine,
                    black_box("+86-13812345678@im.example.test"),
                    Role::Recipient,
                )
                .unwrap()
        })
    });
    let im = ImMessage {
        sender: "sip:alice@im.example.test".into(),
        recipients: vec!["sip:bob@mail.example.org".into()],
        cc: Vec::new(),
        bcc: Vec::new(),
        date: Timestamp {
            unix_seconds: 1_764_338_400,
            offset_minutes: 0,
        },
        subject: Some("lunch?".into()),
        content_type: "text/plain;charset=utf-8".into(),
        body: "Shall we have lunch at noon? 中午一起吃饭吗？"
            .as_bytes()
            .to_vec(),
        attachments: Vec::new(),
        imdn_message_id: Some("34jk324j".into()),
        dispositions: Dispositions::POSITIVE_DELIVERY | Dispositions::DISPLAY,
        extra_headers: Vec::new(),
    };
    c.bench_function("conversion im-to-email (short text)", |b| {
        b.iter(|| {
            conversion
                .im_to_email(
                    &engine,
                    black_box(&im),
                    "alice@im.example.test",
                    &["bob@mail.example.org".to_string()],
                )
                .unwrap()
        })
    });
    c.bench_function("mapping + conversion (one IM → mail)", |b| {
        b.iter(|| {
            // As the gateway does it: one instance of each plugin for the
            // calls of the message.
            let mut mapper = mapping.instance(&engine);
            let from = mapper.email_of_im(&im.sender, Role::Sender).unwrap();
            let to = mapper
                .email_of_im(&im.recipients[0], Role::Recipient)
                .unwrap();
            conversion
                .instance(&engine)
                .im_to_email(&im, &from.value, std::slice::from_ref(&to.value))
                .unwrap()
        })
    });
    c.bench_function("mapping + conversion, both cores (one IM → mail)", |b| {
        // Two threads at once, as under load: what a reset that reaches
        // the other core (a TLB shoot-down) would cost shows here.
        b.iter_custom(|iters| {
            let started = std::time::Instant::now();
            std::thread::scope(|scope| {
                for _ in 0..2 {
                    scope.spawn(|| {
                        for _ in 0..iters.div_ceil(2) {
                            let mut mapper = mapping.instance(&engine);
                            let from = mapper.email_of_im(&im.sender, Role::Sender).unwrap();
                            let to = mapper
                                .email_of_im(&im.recipients[0], Role::Recipient)
                                .unwrap();
                            black_box(
                                conversion
                                    .instance(&engine)
                                    .im_to_email(&im, &from.value, std::slice::from_ref(&to.value))
                                    .unwrap(),
                            );
                        }
                    });
                }
            });
            // Wall time per message of the two threads together.
            started.elapsed()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = plugin_calls, contract_versions
}
criterion_main!(benches);
