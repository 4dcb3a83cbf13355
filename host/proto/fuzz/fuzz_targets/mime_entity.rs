#![no_main]
//! Fuzz target `mime_entity`: see `src/mime_entity.rs` for what it checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| interwork_proto_fuzz::mime_entity::run(data));
