#![no_main]
//! Fuzz target `mime`: see `src/mime.rs` for what it checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| interwork_proto_fuzz::mime::run(data));
