#![no_main]
//! Fuzz target `sdp`: see `src/sdp.rs` for what it checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| interwork_proto_fuzz::sdp::run(data));
