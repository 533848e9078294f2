//! `legacy-mcp service ...`: install, uninstall, start and stop the Windows service, and the
//! entry point the service manager runs (`service run`). The service serves exactly what
//! `legacy-mcp serve --config FILE` serves; only the way it starts and stops differs.
//!
//! On other systems the commands say so and point to systemd (docs/windows.md has a unit).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

#[cfg(windows)]
pub mod eventlog;
#[cfg(windows)]
mod windows;

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

pub fn run(cmd: ServiceCommand) -> ExitCode {
    #[cfg(windows)]
    {
        windows::run(cmd)
    }
    #[cfg(not(windows))]
    {
        let _ = cmd;
        eprintln!(
            "error: `legacy-mcp service` manages a Windows service; on this system run \
             `legacy-mcp serve --config FILE` under systemd (docs/windows.md has a unit file)"
        );
        ExitCode::FAILURE
    }
}
