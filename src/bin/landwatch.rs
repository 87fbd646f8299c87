//! The `landwatch` command: `landwatch enforce`, `landwatch index`, `landwatch change`
//! (`landwatch --help`). The code is [`landwatch::cli`].

fn main() -> std::process::ExitCode {
    landwatch::cli::main()
}
