#![no_main]
//! Fuzz target `msrp_reassembly`: see `src/msrp_reassembly.rs` for what it checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| interwork_proto_fuzz::msrp_reassembly::run(data));
