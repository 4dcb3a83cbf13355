#!/bin/sh
# A `RUSTC` for `cargo +nightly fuzz` where the nightly toolchain has no
# wasm32-wasip2 standard library and rustup cannot download one.
#
# host/build.rs builds the guest components for wasm32-wasip2 with a nested
# cargo that inherits RUSTC. Those calls (recognised by the guest target or
# the `wasm-guests` target directory in the arguments, or by running under a
# build script, where cargo sets CARGO_CFG_TARGET_ARCH) go to the pinned
# toolchain of rust-toolchain.toml, which has the target; everything else,
# i.e. the instrumented fuzz build itself, goes to nightly.
#
# Usage (from host/): RUSTC="$PWD/fuzz/rustc-dispatch.sh" cargo +nightly fuzz run ...
# Override the compilers with FUZZ_NIGHTLY_RUSTC / FUZZ_GUEST_RUSTC.
toolchains="${RUSTUP_HOME:-$HOME/.rustup}/toolchains"
triple="$(uname -m)-unknown-linux-gnu"
nightly="${FUZZ_NIGHTLY_RUSTC:-$toolchains/nightly-$triple/bin/rustc}"
guest="${FUZZ_GUEST_RUSTC:-$toolchains/1.95.0-$triple/bin/rustc}"
if [ -n "$CARGO_CFG_TARGET_ARCH" ]; then
  exec "$guest" "$@"
fi
for arg in "$@"; do
  case "$arg" in
    *wasm32-wasip2*|*/wasm-guests/*) exec "$guest" "$@" ;;
  esac
done
exec "$nightly" "$@"
