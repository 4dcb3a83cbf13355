#![no_main]
//! Fuzz target `msrp_frame`: see `src/msrp_frame.rs` for what it checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| interwork_proto_fuzz::msrp_frame::run(data));
