//! Nothing to build: this script exists so that cargo gives the crate an
//! `OUT_DIR`, from which the library finds the host's target directory and
//! the `wasm-guests` directory beside it (`guest_target_dir`).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
}
