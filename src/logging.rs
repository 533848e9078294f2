//! The server's own log (not the audit log): to stderr, and as the settings say to a file
//! rolled daily and, under the Windows service manager, to the Windows Event Log.
//!
//! Stdout is never used: on stdio it belongs to the MCP protocol. The level comes from
//! `LEGACY_MCP_LOG`, else the settings' `log.level`, else `warn`. odbc-api's own diagnostics
//! are always off: they can quote argument values, and the adapter reports driver errors
//! itself, worded and scrubbed.

use std::path::Path;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::settings::{LogFormat, LogSettings, TracingSettings};

/// Daily log files kept unless the settings say otherwise.
pub const DEFAULT_KEEP_FILES: usize = 14;

type Boxed = Box<dyn Layer<Registry> + Send + Sync>;

/// Where the log goes besides stderr.
#[derive(Default)]
pub struct Sinks {
    /// The Windows Event Log source to report to (the service's name), when running as a
    /// service.
    pub event_source: Option<String>,
    /// Running as a service: the log and the audit go to files by default.
    pub service: bool,
}

/// Install the process's log. Call once, before anything logs.
pub fn init(
    log: &LogSettings,
    tracing: &TracingSettings,
    base: &Path,
    sinks: Sinks,
) -> Result<(), String> {
    let filter = EnvFilter::try_from_env("LEGACY_MCP_LOG")
        .or_else(|_| EnvFilter::try_new(log.level.as_deref().unwrap_or("warn")))
        .map(|f| f.add_directive("odbc_api=off".parse().expect("static directive")))
        // rmcp logs every error answer at WARN with its message, and every result at DEBUG:
        // both quote arguments and data (a resource URI, a prompt argument, rows). Whatever
        // the level, only its own failures reach our log.
        .map(|f| f.add_directive("rmcp::service=error".parse().expect("static directive")))
        .map_err(|e| format!("settings log.level: {e}"))?;
    // Colours only for a person at a terminal, never into a pipe or a file.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut layers: Vec<Boxed> = vec![format(log.format, std::io::stderr, colour)];
    if let Some(file) = &log.file {
        let path = if file.is_absolute() {
            file.clone()
        } else {
            base.join(file)
        };
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        let name = path
            .file_name()
            .ok_or_else(|| format!("settings log.file {} names no file", path.display()))?;
        let appender = tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix(name.to_string_lossy())
            .max_log_files(log.keep_files.unwrap_or(DEFAULT_KEEP_FILES).max(1))
            .build(dir.unwrap_or(Path::new(".")))
            .map_err(|e| format!("settings log.file {}: {e}", path.display()))?;
        layers.push(format(log.format, appender, false));
    }
    if let Some(source) = sinks.event_source.filter(|_| log.event_log.unwrap_or(true)) {
        #[cfg(windows)]
        layers.push(Box::new(crate::service::eventlog::Layer::new(&source)?));
        #[cfg(not(windows))]
        let _ = source;
    }
    // Spans for OpenTelemetry have their own filter: the log level does not decide them.
    let spans = crate::trace::layer(tracing)?;
    tracing_subscriber::registry()
        .with(layers.with_filter(filter))
        .with(spans)
        .try_init()
        .map_err(|e| format!("logging was already set up: {e}"))
}

/// One fmt layer in the chosen format.
fn format<W>(format: LogFormat, writer: W, ansi: bool) -> Boxed
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(ansi && std::env::var_os("NO_COLOR").is_none());
    match format {
        LogFormat::Text => Box::new(layer),
        LogFormat::Json => Box::new(layer.json().flatten_event(true)),
    }
}
