#![no_main]
//! Fuzz target `cpim`: see `src/cpim.rs` for what it checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| interwork_proto_fuzz::cpim::run(data));
