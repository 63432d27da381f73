use std::process::ExitCode;

fn main() -> ExitCode {
    buzon::cli::main()
}
