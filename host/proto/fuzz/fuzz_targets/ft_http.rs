#![no_main]
//! Fuzz target `ft_http`: see `src/ft_http.rs` for what it checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| interwork_proto_fuzz::ft_http::run(data));
