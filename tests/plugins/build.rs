//! Tells the crate where the guest components of this build go: the
//! `wasm-guests` directory beside the host's profile directories, the one
//! `host/gateway/build.rs` builds the default plugins into. Nothing is
//! built here: the tests build the guests when they first ask for one.

use std::env;
use std::path::{Path, PathBuf};

fn main() {
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    // OUT_DIR = <target>/[<triple>/]<profile>/build/<pkg>-<hash>/out
    let target = out_dir
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "build"))
        .and_then(Path::parent)
        .and_then(Path::parent)
        .map(|target| target.join("wasm-guests"))
        .unwrap_or_else(|| out_dir.join("wasm-guests"));
    println!(
        "cargo:rustc-env=INTERWORK_GUEST_TARGET_DIR={}",
        target.display()
    );
    println!("cargo:rerun-if-changed=build.rs");
}
