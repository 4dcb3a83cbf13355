//! `interwork`: the gateway and its tools (`interwork --help`).

fn main() -> std::process::ExitCode {
    interwork::cli::main()
}
