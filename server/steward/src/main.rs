//! The `steward` binary: parse the command line and hand over to the library.

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = steward_server::cli::Cli::parse();
    steward_server::run(cli)
}
