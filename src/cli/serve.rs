//! `serve`: the long-running server, the same in a console and under the Windows service
//! manager. It loads settings and mappings, starts the transport (stdio, or HTTP/HTTPS with
//! the health and metrics endpoints), watches the mappings for hot reload, and shuts down
//! gracefully when `shutdown` fires: no new work, calls under way finish within the grace
//! period, the audit log is complete (it is written and flushed line by line).

use std::net::SocketAddr;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::run::Run;
use crate::auth::http::Authenticator;
use crate::mcp::health::Health;
use crate::mcp::http::HttpOptions;
use crate::mcp::reload::Reloader;
use crate::mcp::{self, Server};

/// How long calls under way may take to finish at shutdown unless the settings say otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// The transport and its options, from the command line (the settings fill the gaps).
#[derive(Clone)]
pub struct Transport {
    /// Serve HTTP on this address instead of stdio.
    pub http: Option<SocketAddr>,
    pub allowed_hosts: Vec<String>,
    pub allowed_origins: Vec<String>,
    pub page_size: usize,
    pub max_request_bytes: Option<usize>,
}

/// What a service manager is told along the way (nothing, in a console).
#[derive(Default)]
pub struct Hooks {
    /// The mappings are loaded and the transport starts.
    pub running: Option<Box<dyn FnOnce() + Send>>,
    /// Shutdown began; it takes at most this long.
    pub stopping: Option<Box<dyn FnOnce(Duration) + Send>>,
}

impl Default for Transport {
    /// What the settings alone decide (the Windows service has no command-line flags).
    fn default() -> Self {
        Transport {
            http: None,
            allowed_hosts: vec![],
            allowed_origins: vec![],
            page_size: mcp::handler::DEFAULT_PAGE_SIZE,
            max_request_bytes: None,
        }
    }
}

/// Serve until the transport ends (stdin closed) or `shutdown` fires; false after a failure
/// (already reported).
pub(super) async fn serve(
    run: &Run,
    t: Transport,
    shutdown: CancellationToken,
    hooks: Hooks,
) -> bool {
    let s = &run.settings;
    let max_request_bytes = t
        .max_request_bytes
        .or(s.http.max_request_size.map(|m| m.0 as usize))
        .unwrap_or(mcp::DEFAULT_MAX_REQUEST_BYTES);
    let grace = s.shutdown_grace.map_or(DEFAULT_GRACE, |g| g.0);
    let Some(pipeline) = run.pipeline(true) else {
        return false;
    };
    let metrics = pipeline.metrics().clone();
    let server = Server::new(pipeline, t.page_size).with_principal(run.principal.clone());
    let reloader = Reloader::new(server.live(), run.mappings.clone(), metrics.clone());
    if s.watch_mappings.unwrap_or(true) {
        reloader.clone().spawn(shutdown.child_token());
    }
    if let Some(running) = hooks.running {
        running();
    }
    if let Some(stopping) = hooks.stopping {
        let told = shutdown.clone();
        tokio::spawn(async move {
            told.cancelled().await;
            stopping(grace);
        });
    }
    let result = match t.http.or(s.http.listen) {
        None => {
            tokio::select! {
                r = mcp::stdio::serve(server, max_request_bytes) => r,
                _ = shutdown.cancelled() => {
                    if !metrics.drained(grace).await {
                        tracing::warn!("grace period over; calls still under way are abandoned");
                    }
                    Ok(())
                }
            }
        }
        Some(listen) => {
            let auth = match Authenticator::from_settings(s) {
                Ok(a) => a,
                Err(e) => return fail(&e),
            };
            if auth.is_none() && !listen.ip().is_loopback() {
                tracing::warn!(%listen, "serving HTTP beyond this machine without authentication; configure auth.api_keys or auth.jwt");
            }
            let tls = match (&s.http.tls_certificate, &s.http.tls_key) {
                (Some(c), Some(k)) => Some((s.path(c), s.path(k))),
                (None, None) => None,
                _ => {
                    return fail(
                        "settings: http.tls_certificate and http.tls_key go together (HTTPS needs both)",
                    );
                }
            };
            let opts = HttpOptions {
                listen,
                allowed_hosts: [t.allowed_hosts, s.http.allowed_hosts.clone()].concat(),
                allowed_origins: [t.allowed_origins, s.http.allowed_origins.clone()].concat(),
                max_request_bytes,
                auth,
                tls,
                grace,
                health: Some(Health::new(server.live(), Some(reloader))),
                answers: Default::default(),
            };
            mcp::http::serve(server, opts, shutdown).await
        }
    };
    // Spans still batched reach the collector before the process ends.
    crate::trace::flush();
    match result {
        Ok(()) => {
            tracing::info!("stopped");
            true
        }
        Err(e) => fail(&format!("{e:#}")),
    }
}

/// Report a failure to the log and to stderr (a console's operator reads the one, a service's
/// the other).
fn fail(message: &str) -> bool {
    tracing::error!("{message}");
    eprintln!("legacy-mcp: {message}");
    false
}

/// What `service run` serves (`service::Serve`): the Windows service's server on a runtime of
/// its own, since the service manager calls it on its own thread. Elsewhere there is no
/// service manager to call it, and it says so by failing.
pub fn as_service(
    config: &std::path::Path,
    name: &str,
    shutdown: CancellationToken,
    running: Box<dyn FnOnce() + Send>,
    stopping: Box<dyn FnOnce(Duration) + Send>,
) -> bool {
    #[cfg(windows)]
    {
        match tokio::runtime::Runtime::new() {
            Ok(rt) => rt.block_on(serve_service(config, name, shutdown, running, stopping)),
            Err(_) => false,
        }
    }
    #[cfg(not(windows))]
    {
        let _ = (config, name, shutdown, running, stopping);
        false
    }
}

/// The Windows service's server: `serve --config FILE` over the settings' transport, with the
/// log also going to the Event Log and, unless the settings say where, to `logs\` beside the
/// settings file (a service has no console).
#[cfg(windows)]
async fn serve_service(
    config: &std::path::Path,
    name: &str,
    shutdown: CancellationToken,
    running: Box<dyn FnOnce() + Send>,
    stopping: Box<dyn FnOnce(Duration) + Send>,
) -> bool {
    // Services start in System32; relative paths mean the settings file's directory.
    if let Some(dir) = config.parent() {
        let _ = std::env::set_current_dir(dir);
    }
    let sinks = crate::logging::Sinks {
        event_source: Some(name.to_string()),
        service: true,
    };
    let config = super::args::ConfigArg {
        config: Some(config.to_path_buf()),
    };
    let mappings = super::args::MappingsArg { mappings: None };
    let caller = super::args::CallerArg {
        principal: None,
        roles: vec![],
    };
    let events = crate::service::eventlog::Source::open(name).ok();
    let run = match Run::load(&config, &mappings, &caller, sinks) {
        Ok(run) => run,
        Err(problem) => {
            if let Some(e) = &events {
                e.error(&format!("legacy-mcp did not start: {problem}"));
            }
            return false;
        }
    };
    if let Some(e) = &events {
        e.info(&format!(
            "legacy-mcp {} starting with the mappings in {}",
            env!("CARGO_PKG_VERSION"),
            run.mappings.display()
        ));
    }
    let hooks = Hooks {
        running: Some(running),
        stopping: Some(stopping),
    };
    let ok = serve(&run, Transport::default(), shutdown, hooks).await;
    match (&events, ok) {
        (Some(e), true) => e.info("legacy-mcp stopped"),
        (Some(e), false) => e.error("legacy-mcp stopped after an error (see the log file)"),
        (None, _) => {}
    }
    ok
}

/// A token fired by Ctrl-C and, on unix, SIGTERM: what stops a server run from a console, a
/// container or systemd.
pub fn on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let fire = token.clone();
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                },
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        fire.cancel();
    });
    token
}
