#![no_main]
//! Fuzz target `imdn_xml`: see `src/imdn_xml.rs` for what it checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| interwork_proto_fuzz::imdn_xml::run(data));
