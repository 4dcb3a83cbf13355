#![no_main]
//! Fuzz target `sip_stream`: see `src/sip_stream.rs` for what it checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| interwork_proto_fuzz::sip_stream::run(data));
