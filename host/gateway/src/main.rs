//! `interwork`: the gateway and its tools (`interwork --help`).

/// mimalloc instead of glibc's malloc: measured under load, glibc's
/// allocator (its free lists and consolidation) was a sixth of the
/// gateway's CPU, spread over every message's many small allocations.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    interwork::cli::main()
}
