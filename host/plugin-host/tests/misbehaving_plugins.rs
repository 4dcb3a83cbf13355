//! Deliberately broken plugins (tests/plugins/fixtures): each is stopped or
//! refused with an error that says what happened, and the host keeps
//! serving with its other plugins.

mod common;

use std::time::{Duration, Instant};

use interwork_plugin_host::bindings::mapping::Role;
use interwork_plugin_host::{
    CallError, CallLimits, FaultKind, LoadError, LoadedPlugin, PluginEngine, PluginId,
    PluginSource, load_file,
};

fn load_unchecked(engine: &PluginEngine, name: &str) -> LoadedPlugin {
    let path = common::guest(name);
    let bytes = std::fs::read(&path).expect("fixture built by interwork-test-plugins");
    let id = PluginId {
        name: name.into(),
        source: PluginSource::File(path),
    };
    engine.load(id, &bytes).expect("fixture links")
}

fn default_mapping(engine: &PluginEngine) -> LoadedPlugin {
    let id = PluginId {
        name: "default-mapping".into(),
        source: PluginSource::Embedded,
    };
    engine
        .load(id, common::guest_bytes("default_mapping"))
        .expect("default loads")
}

/// The host still serves: a healthy plugin answers on the same engine.
fn assert_still_serving(engine: &PluginEngine, healthy: &LoadedPlugin) {
    let mapped = healthy
        .email_of_im(engine, "sip:alice@im.example.test", Role::Sender)
        .expect("healthy plugin answers");
    assert_eq!(mapped.value, "alice@im.example.test");
}

fn fault_of(
    result: Result<interwork_plugin_host::bindings::mapping::Mapped, CallError>,
) -> (FaultKind, String) {
    match result {
        Err(CallError::Fault(fault)) => {
            let text = fault.to_string();
            (fault.kind, text)
        }
        other => panic!("expected a fault, got {other:?}"),
    }
}

#[test]
fn a_trap_is_a_fault_naming_the_plugin_and_its_file() {
    let engine = common::engine();
    let healthy = default_mapping(&engine);
    let trap = load_unchecked(&engine, "fixture_trap");
    let (kind, text) = fault_of(trap.email_of_im(&engine, "sip:a@im.example.test", Role::Sender));
    assert!(
        matches!(&kind, FaultKind::Trap(t) if t.contains("unreachable")),
        "{kind:?}"
    );
    assert!(text.contains("fixture_trap"), "{text}");
    assert!(text.contains("fixture_trap.wasm"), "{text}");
    assert_still_serving(&engine, &healthy);
    // Its other functions still answer: a fault costs only its own call.
    assert!(trap.is_served_domain(&engine, "x.test").unwrap());
}

#[test]
fn an_endless_loop_is_stopped_at_the_deadline() {
    for limit_ms in [20u64, 100, 250] {
        let limit = Duration::from_millis(limit_ms);
        let engine = common::engine_with(CallLimits {
            memory_bytes: 64 << 20,
            time: limit,
        });
        let healthy = default_mapping(&engine);
        let spin = load_unchecked(&engine, "fixture_spin");
        let started = Instant::now();
        let (kind, text) =
            fault_of(spin.email_of_im(&engine, "sip:a@im.example.test", Role::Sender));
        let took = started.elapsed();
        assert_eq!(kind, FaultKind::Deadline(limit), "{text}");
        // Honoured: not before the limit, and after it at most the epoch
        // tick (10 ms) plus scheduling delay, which a loaded 2-core CI
        // machine stretches (26 ms seen with a parallel release build).
        assert!(
            took >= limit,
            "stopped after {took:?}, before its limit {limit:?}"
        );
        assert!(
            took < limit + Duration::from_millis(100),
            "stopped after {took:?}, limit {limit:?}"
        );
        eprintln!("limit {limit:?}: stopped after {took:?}");
        assert_still_serving(&engine, &healthy);
    }
}

#[test]
fn a_memory_hog_is_stopped_at_the_cap() {
    let engine = common::engine_with(CallLimits {
        memory_bytes: 16 << 20,
        time: Duration::from_secs(5),
    });
    let healthy = default_mapping(&engine);
    let hog = load_unchecked(&engine, "fixture_hog");
    let (kind, text) = fault_of(hog.email_of_im(&engine, "sip:a@im.example.test", Role::Sender));
    match kind {
        FaultKind::MemoryLimit { asked, cap } => {
            assert_eq!(cap, 16 << 20);
            assert!(asked >= 1 << 30, "asked {asked}");
        }
        other => panic!("expected the memory cap, got {other:?} ({text})"),
    }
    assert!(text.contains("cap 16 MiB"), "{text}");
    assert_still_serving(&engine, &healthy);
}

#[test]
fn each_broken_plugin_is_refused_by_the_check() {
    let engine = common::engine();
    for (name, expected) in [
        ("fixture_trap", "unreachable"),
        ("fixture_spin", "time limit of 100ms"),
        ("fixture_hog", "cap 64 MiB"),
        (
            "fixture_wrong_world",
            "exports neither interwork:plugin/mapping nor interwork:plugin/conversion",
        ),
    ] {
        let err = load_file(&engine, &common::guest(name)).expect_err(name);
        let text = err.to_string();
        assert!(text.contains(expected), "{name}: {text}");
        assert!(text.contains(&format!("{name}.wasm")), "{name}: {text}");
        if name == "fixture_wrong_world" {
            assert!(matches!(err, LoadError::Contract { .. }), "{err:?}");
        } else {
            assert!(matches!(err, LoadError::Check { .. }), "{err:?}");
            // The call that faulted is named, with its arguments.
            assert!(
                text.contains("failed its check call mapping.email-of-im(\"sip:"),
                "{name}: {text}"
            );
        }
    }
}

#[test]
fn bytes_that_are_not_a_component_are_refused() {
    let engine = common::engine();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.wasm");
    std::fs::write(&path, b"\0asm\x01\0\0\0 not really").unwrap();
    let err = load_file(&engine, &path).expect_err("garbage");
    assert!(matches!(err, LoadError::Compile { .. }), "{err:?}");
    assert!(err.to_string().contains("garbage.wasm"), "{err}");
}

#[test]
fn a_message_has_one_instance_and_the_next_message_a_fresh_one() {
    let engine = common::engine();
    let counter = load_unchecked(&engine, "fixture_counter");
    let mut message = counter.instance(&engine);
    let first = message.email_of_im("sip:a@im.example.test", Role::Sender);
    let second = message.im_of_email("a@x.test", Role::Recipient);
    assert_eq!(first.unwrap().value, "call-1@count.test");
    assert_eq!(second.unwrap().value, "call-2@count.test");
    drop(message);
    // Its pool slot is reused, its memory reset: the count starts again.
    for _ in 0..3 {
        let mapped = counter
            .instance(&engine)
            .email_of_im("sip:a@im.example.test", Role::Sender)
            .unwrap();
        assert_eq!(mapped.value, "call-1@count.test");
    }
}

#[test]
fn after_a_fault_a_message_gets_a_fresh_instance() {
    let engine = common::engine();
    let trap = load_unchecked(&engine, "fixture_trap");
    let mut message = trap.instance(&engine);
    let (kind, _) = fault_of(message.email_of_im("sip:a@im.example.test", Role::Sender));
    assert!(matches!(kind, FaultKind::Trap(_)), "{kind:?}");
    // The trapped instance is never entered again; the next call runs on a
    // new one and answers.
    assert!(message.is_served_domain("x.test").unwrap());
}

/// The sandbox under load: two threads run messages on healthy plugins as
/// fast as they can while a third keeps calling the broken ones. Every
/// healthy message answers with fresh state, every broken call is stopped
/// with its own fault, and nothing else is disturbed.
#[test]
fn the_sandbox_holds_under_load() {
    let engine = common::engine_with(CallLimits {
        memory_bytes: 16 << 20,
        time: Duration::from_millis(50),
    });
    let healthy = default_mapping(&engine);
    let counter = load_unchecked(&engine, "fixture_counter");
    let broken: Vec<LoadedPlugin> = ["fixture_trap", "fixture_spin", "fixture_hog"]
        .iter()
        .map(|name| load_unchecked(&engine, name))
        .collect();
    let done = std::sync::atomic::AtomicBool::new(false);
    let (healthy_messages, faults) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let mut messages = 0u32;
                    while !done.load(std::sync::atomic::Ordering::Relaxed) {
                        let mut m = counter.instance(&engine);
                        assert_eq!(
                            m.email_of_im("sip:a@im.example.test", Role::Sender)
                                .unwrap()
                                .value,
                            "call-1@count.test"
                        );
                        assert_eq!(
                            m.email_of_im("sip:b@im.example.test", Role::Recipient)
                                .unwrap()
                                .value,
                            "call-2@count.test"
                        );
                        assert_still_serving(&engine, &healthy);
                        messages += 1;
                    }
                    messages
                })
            })
            .collect();
        let mut faults = Vec::new();
        for round in 0..4 {
            for plugin in &broken {
                let (kind, text) = fault_of(plugin.email_of_im(
                    &engine,
                    &format!("sip:{round}@im.example.test"),
                    Role::Sender,
                ));
                faults.push((plugin.id.name.to_string(), kind, text));
            }
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        let messages: u32 = workers.into_iter().map(|w| w.join().unwrap()).sum();
        (messages, faults)
    });
    assert!(healthy_messages > 20, "{healthy_messages} healthy messages");
    assert_eq!(faults.len(), 12);
    for (name, kind, text) in faults {
        let expected = match name.as_str() {
            "fixture_trap" => matches!(kind, FaultKind::Trap(_)),
            "fixture_spin" => kind == FaultKind::Deadline(Duration::from_millis(50)),
            "fixture_hog" => matches!(kind, FaultKind::MemoryLimit { .. }),
            _ => false,
        };
        assert!(expected, "{name}: {kind:?} ({text})");
    }
    eprintln!("{healthy_messages} healthy messages beside 12 broken calls");
}
