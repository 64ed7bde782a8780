fn main() -> std::process::ExitCode {
    convene::daemon::cli::main()
}
