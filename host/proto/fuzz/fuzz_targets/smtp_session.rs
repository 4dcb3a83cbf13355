#![no_main]
//! Fuzz target `smtp_session`: see `src/smtp_session.rs` for what it checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| interwork_proto_fuzz::smtp_session::run(data));
