#![no_main]
//! Fuzz target `sip_datagram`: see `src/sip_datagram.rs` for what it checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| interwork_proto_fuzz::sip_datagram::run(data));
