#![no_main]
//! Fuzz target `smtp_reply`: see `src/smtp_reply.rs` for what it checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| interwork_proto_fuzz::smtp_reply::run(data));
