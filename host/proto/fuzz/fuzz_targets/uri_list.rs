#![no_main]
//! Fuzz target `uri_list`: see `src/uri_list.rs` for what it checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| interwork_proto_fuzz::uri_list::run(data));
