//! The `legacy-mcp` binary: parse the command line, set up logging on stderr, run the command.

use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Logs go to stderr: on stdio, stdout belongs to the MCP protocol.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            // odbc-api logs every driver diagnostic, which can quote argument values; the
            // adapter reports them itself, worded and scrubbed.
            EnvFilter::try_from_env("LEGACY_MCP_LOG")
                .unwrap_or_else(|_| EnvFilter::new("warn,odbc_api=off")),
        )
        .init();
    legacy_mcp::cli::run(legacy_mcp::cli::Cli::parse()).await
}
