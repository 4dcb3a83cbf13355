//! Builds the default plugins (the guest workspace `plugins/`: the SDK,
//! `default-mapping`, `default-conversion`) for `wasm32-wasip2` and tells
//! the crate where they are, so that the binary embeds them and carries no
//! files of its own. The example plugin and the test fixtures are built by
//! the tests (`tests/plugins`), not here.
//!
//! The guests build in a target directory of their own beside the host's
//! (`target/wasm-guests`), shared by every profile, so `cargo build`,
//! `cargo test` and `cargo clippy` compile them once.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const GUEST_TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let repo = manifest_dir
        .parent()
        .and_then(Path::parent)
        .expect("host/gateway sits two levels below the repository");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let guest_target_dir = guest_target_dir(&out_dir);

    for watched in [
        "wit",
        "plugins/Cargo.toml",
        "plugins/Cargo.lock",
        "plugins/sdk",
        "plugins/default-mapping",
        "plugins/default-conversion",
    ] {
        println!("cargo:rerun-if-changed={}", repo.join(watched).display());
    }

    ensure_guest_target();
    build_guests(&repo.join("plugins/Cargo.toml"), &guest_target_dir);

    let wasm_dir = guest_target_dir.join(GUEST_TARGET).join("release");
    println!(
        "cargo:rustc-env=INTERWORK_GUEST_WASM_DIR={}",
        wasm_dir.display()
    );
}

/// Installs the guest target when the toolchain lacks it. rustup installs
/// the toolchain that `rust-toolchain.toml` names but not its targets, and
/// the README promises that `cargo run` works on a fresh machine.
fn ensure_guest_target() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let Some(sysroot) = sysroot else { return };
    if sysroot.join("lib/rustlib").join(GUEST_TARGET).exists() {
        return;
    }
    println!(
        "cargo:warning=the {GUEST_TARGET} target is missing; running `rustup target add {GUEST_TARGET}`"
    );
    // RUSTUP_TOOLCHAIN, set by rustup's cargo proxy, picks the same toolchain.
    let added = Command::new("rustup")
        .args(["target", "add", GUEST_TARGET])
        .status()
        .is_ok_and(|s| s.success());
    if !added {
        println!(
            "cargo:warning=could not add {GUEST_TARGET}: run `rustup toolchain install` in the repository"
        );
    }
}

/// `<target>/wasm-guests`, found from `OUT_DIR` =
/// `<target>/[<triple>/]<profile>/build/<pkg>-<hash>/out`.
fn guest_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "build"))
        .and_then(Path::parent)
        .and_then(Path::parent)
        .map(|target| target.join("wasm-guests"))
        .unwrap_or_else(|| out_dir.join("wasm-guests"))
}

fn build_guests(manifest: &Path, target_dir: &Path) {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build")
        .arg("--release")
        .arg("--locked")
        .arg("--target")
        .arg(GUEST_TARGET)
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir);
    // The host build's flags and wrappers are for the host target (coverage
    // instrumentation, clippy-driver, sanitizers): keep them away from the
    // guests. The jobserver (CARGO_MAKEFLAGS) is inherited on purpose, so the
    // nested build shares the outer build's cores.
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
        .unwrap_or_else(|e| panic!("could not run cargo for {}: {e}", manifest.display()));
    assert!(
        status.success(),
        "building the guest components of {} failed ({status}); is the {GUEST_TARGET} target \
         installed? `rustup toolchain install` in the repository installs it",
        manifest.display()
    );
}
