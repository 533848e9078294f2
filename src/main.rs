//! The `legacy-mcp` binary: parse the command line and run the command (which sets up the
//! log from the settings).

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    legacy_mcp::cli::run(legacy_mcp::cli::Cli::parse()).await
}
