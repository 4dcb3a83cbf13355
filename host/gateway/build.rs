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

use interwork_test_plugins::GUEST_TARGET;

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let repo = manifest_dir
        .parent()
        .and_then(Path::parent)
        .expect("host/gateway sits two levels below the repository");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let guest_target_dir = interwork_test_plugins::guest_target_dir(&out_dir);

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
    if let Err(e) =
        interwork_test_plugins::build_guests(&repo.join("plugins/Cargo.toml"), &guest_target_dir)
    {
        panic!("{e}");
    }

    let wasm_dir = interwork_test_plugins::wasm_dir(&guest_target_dir);
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
