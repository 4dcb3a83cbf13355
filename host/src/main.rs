fn main() -> std::process::ExitCode {
    interwork::cli::main()
}
