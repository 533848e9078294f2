//! The `legacy-mcp service ...` commands, below the dispatcher (`service/mod.rs`) and the
//! Windows service (`service/windows.rs`) that both read them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Subcommand;
use tokio_util::sync::CancellationToken;

/// The server the service runs: `cli::serve` hands it in, so the service manager's side never
/// reaches up into the command line. It gets the settings file, the service name, the token
/// that says "stop", and hooks for "running" and "stopping (this long)"; it brings its own
/// runtime (the service manager calls it on a thread of its own) and says whether it ended well.
pub type Serve = fn(
    config: &Path,
    name: &str,
    shutdown: CancellationToken,
    running: Box<dyn FnOnce() + Send>,
    stopping: Box<dyn FnOnce(Duration) + Send>,
) -> bool;

/// The service name unless `--name` says otherwise.
pub const DEFAULT_NAME: &str = "legacy-mcp";

#[derive(Subcommand)]
pub enum ServiceCommand {
    /// Register the service (automatic start, restart on failure, an Event Log source), after
    /// checking that the settings and mappings load. Needs an administrator.
    Install {
        /// The settings file the service runs with (stored as an absolute path).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[arg(long, default_value = DEFAULT_NAME)]
        name: String,
        /// The account to run as [default: the virtual account `NT SERVICE\<name>`]. For a
        /// domain or local user, give its password in LEGACY_MCP_SERVICE_PASSWORD.
        #[arg(long)]
        account: Option<String>,
    },
    /// Stop (if running) and remove the service and its Event Log source.
    Uninstall {
        #[arg(long, default_value = DEFAULT_NAME)]
        name: String,
    },
    /// Start the service and wait until it runs (or says why it stopped).
    Start {
        #[arg(long, default_value = DEFAULT_NAME)]
        name: String,
    },
    /// Ask the service to stop and wait until calls under way have finished.
    Stop {
        #[arg(long, default_value = DEFAULT_NAME)]
        name: String,
    },
    /// Print the service's state.
    Status {
        #[arg(long, default_value = DEFAULT_NAME)]
        name: String,
    },
    /// The service manager's entry point (registered by `install`; not for consoles).
    #[command(hide = true)]
    Run {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[arg(long, default_value = DEFAULT_NAME)]
        name: String,
    },
}
