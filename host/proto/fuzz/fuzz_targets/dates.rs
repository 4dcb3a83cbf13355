#![no_main]
//! Fuzz target `dates`: see `src/dates.rs` for what it checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| interwork_proto_fuzz::dates::run(data));
