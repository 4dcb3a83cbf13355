//! The WebAssembly components that tests load, built on first use.
//!
//! `cargo build` of the gateway builds only the default plugins (it embeds
//! them). The tests also need the example plugin (`examples/directory-mapping`)
//! and the deliberately broken fixtures (`tests/plugins/fixtures`): [`wasm`]
//! builds all three guest workspaces once per test process, for
//! `wasm32-wasip2`, into the same `wasm-guests` target directory, so what
//! is fresh costs one `cargo` run that finds nothing to do.
//!
//! [`build_guests`] and [`guest_target_dir`] are also what
//! `host/gateway/build.rs` builds the default plugins with (a
//! build-dependency), so guests are built one way only.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The target guest components are built for.
pub const GUEST_TARGET: &str = "wasm32-wasip2";

/// The served domains and `[plugins.config]` the tests give plugins, as in
/// `examples/interwork.toml` plus a second IM domain; the example plugin's
/// company plan is in `corp.*`.
pub const IM_DOMAINS: &[&str] = &["im.example.test", "im2.example.test"];
/// The gateway's own mail domain in the tests.
pub const MAIL_DOMAINS: &[&str] = &["gw.example.test"];
/// `[plugins.config]` of the tests.
pub const PLUGIN_CONFIG: &[(&str, &str)] = &[
    ("corp.domain", "corp.example.test"),
    (
        "corp.people",
        "+15551234567=john.smith, +15557654321=jane.doe",
    ),
];

/// The guest workspaces, relative to the repository.
const WORKSPACES: &[&str] = &[
    "plugins/Cargo.toml",
    "tests/plugins/fixtures/Cargo.toml",
    "examples/directory-mapping/Cargo.toml",
];

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .expect("tests/plugins sits two levels below the repository")
}

/// The directory the built components are in (`…/wasm32-wasip2/release`).
pub fn dir() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BUILT.get_or_init(build_all) {
        Ok(dir) => dir,
        Err(e) => panic!("{e}"),
    }
}

/// A built component by its crate name with underscores, e.g.
/// `default_mapping`, `directory_mapping` or `fixture_trap`.
pub fn wasm(name: &str) -> PathBuf {
    let path = dir().join(format!("{name}.wasm"));
    assert!(path.exists(), "no guest component {}", path.display());
    path
}

/// The bytes of a built component.
pub fn wasm_bytes(name: &str) -> Vec<u8> {
    let path = wasm(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn build_all() -> Result<PathBuf, String> {
    let target_dir = guest_target_dir(Path::new(env!("OUT_DIR")));
    for manifest in WORKSPACES {
        build_guests(&repository().join(manifest), &target_dir)?;
    }
    Ok(wasm_dir(&target_dir))
}

/// Where the components of a guest target directory are.
pub fn wasm_dir(target_dir: &Path) -> PathBuf {
    target_dir.join(GUEST_TARGET).join("release")
}

/// `<target>/wasm-guests`, from a build script's `OUT_DIR` =
/// `<target>/[<triple>/]<profile>/build/<pkg>-<hash>/out`: one guest target
/// directory for every profile of the host.
pub fn guest_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "build"))
        .and_then(Path::parent)
        .and_then(Path::parent)
        .map(|target| target.join("wasm-guests"))
        .unwrap_or_else(|| out_dir.join("wasm-guests"))
}

/// Builds the guest workspace of `manifest` (release, `--locked`, for
/// `wasm32-wasip2`) into `target_dir`. The jobserver of an outer cargo
/// (`CARGO_MAKEFLAGS`) is inherited on purpose, so a nested build from a
/// build script shares the outer build's cores.
pub fn build_guests(manifest: &Path, target_dir: &Path) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(repository())
        .args([
            "build",
            "--release",
            "--locked",
            "--quiet",
            "--target",
            GUEST_TARGET,
        ])
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir);
    // Flags meant for the host build (coverage instrumentation,
    // clippy-driver, sanitizers, wrappers) must not reach the guests.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run cargo for {}: {e}", manifest.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "building the guest components of {} failed ({status}); `rustup toolchain install` \
             in the repository installs the {GUEST_TARGET} target",
            manifest.display()
        ))
    }
}
