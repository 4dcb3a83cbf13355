//! The default plugins compiled into the binary (built by `host/build.rs`).

/// Where `build.rs` put the guest components of this build: the default
/// plugins, the example plugin and the test fixtures. For tests and
/// benchmarks; the binary itself needs only the embedded bytes below.
#[doc(hidden)]
pub const GUEST_WASM_DIR: &str = env!("INTERWORK_GUEST_WASM_DIR");

/// `plugins/default-mapping`
pub const DEFAULT_MAPPING: &[u8] = include_bytes!(concat!(
    env!("INTERWORK_GUEST_WASM_DIR"),
    "/default_mapping.wasm"
));

/// `plugins/default-conversion`
pub const DEFAULT_CONVERSION: &[u8] = include_bytes!(concat!(
    env!("INTERWORK_GUEST_WASM_DIR"),
    "/default_conversion.wasm"
));
