//! The `steward` binary: parse the command line and hand over to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = steward_server::cli::Cli::parse();
    steward_server::run(cli)
}
