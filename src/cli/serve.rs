//! `serve`: the long-running server, the same in a console and under the Windows service
//! manager. It loads settings and mappings, starts the transport (stdio, or HTTP/HTTPS with
//! the health and metrics endpoints), watches the mappings for hot reload, and shuts down
//! gracefully when `shutdown` fires: no new work, calls under way finish within the grace
//! period, the audit log is complete (it is written and flushed line by line).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Run;
use crate::auth::http::Authenticator;
use crate::health::Health;
use crate::mcp::http::HttpOptions;
use crate::mcp::{self, Server};
use crate::reload::Reloader;

/// How long calls under way may take to finish at shutdown unless the settings say otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// The transport and its options, from the command line (the settings fill the gaps).
#[derive(Clone, Default)]
pub struct Transport {
    /// Serve HTTP on this address instead of stdio.
    pub http: Option<SocketAddr>,
    pub allowed_hosts: Vec<String>,
    pub allowed_origins: Vec<String>,
    pub page_size: usize,
    pub max_request_bytes: Option<usize>,
}

/// Serve until the transport ends (stdin closed) or `shutdown` fires.
pub async fn serve(run: &Run, t: Transport, shutdown: CancellationToken) -> ExitCode {
    let s = &run.settings;
    let max_request_bytes = t
        .max_request_bytes
        .or(s.http.max_request_size.map(|m| m.0 as usize))
        .unwrap_or(mcp::DEFAULT_MAX_REQUEST_BYTES);
    let grace = s.shutdown_grace.map_or(DEFAULT_GRACE, |g| g.0);
    let Some(pipeline) = run.pipeline(true) else {
        return ExitCode::FAILURE;
    };
    let metrics = pipeline.metrics().clone();
    let server = Server::new(pipeline, t.page_size).with_principal(run.principal.clone());
    let reloader = Reloader::new(server.live(), run.mappings.clone(), metrics.clone());
    if s.watch_mappings.unwrap_or(true) {
        reloader.clone().spawn(shutdown.child_token());
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
                Err(e) => return super::fail(&e),
            };
            if auth.is_none() && !listen.ip().is_loopback() {
                tracing::warn!(%listen, "serving HTTP beyond this machine without authentication; configure auth.api_keys or auth.jwt");
            }
            let tls = match (&s.http.tls_certificate, &s.http.tls_key) {
                (Some(c), Some(k)) => Some((s.path(c), s.path(k))),
                (None, None) => None,
                _ => {
                    return super::fail(
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
            };
            mcp::http::serve(server, opts, shutdown).await
        }
    };
    match result {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("legacy-mcp: {e:#}");
            ExitCode::FAILURE
        }
    }
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
