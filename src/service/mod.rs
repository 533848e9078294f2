//! `legacy-mcp service ...`: install, uninstall, start and stop the Windows service, and the
//! entry point the service manager runs (`service run`). The service serves exactly what
//! `legacy-mcp serve --config FILE` serves; only the way it starts and stops differs.
//!
//! On other systems the commands say so and point to systemd (docs/windows.md has a unit).

use std::process::ExitCode;

mod command;
#[cfg(windows)]
pub mod eventlog;
#[cfg(windows)]
mod windows;

// The commands live below this file and the Windows service that both use them.
pub use command::{DEFAULT_NAME, Serve, ServiceCommand};

/// Run a service command; `serve` is what `service run` serves.
pub fn run(cmd: ServiceCommand, serve: Serve) -> ExitCode {
    #[cfg(windows)]
    {
        windows::run(cmd, serve)
    }
    #[cfg(not(windows))]
    {
        let _ = (cmd, serve);
        eprintln!(
            "error: `legacy-mcp service` manages a Windows service; on this system run \
             `legacy-mcp serve --config FILE` under systemd (docs/windows.md has a unit file)"
        );
        ExitCode::FAILURE
    }
}
