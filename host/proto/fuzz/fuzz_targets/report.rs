#![no_main]
//! Fuzz target `report`: see `src/report.rs` for what it checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| interwork_proto_fuzz::report::run(data));
