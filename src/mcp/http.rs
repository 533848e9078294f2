//! MCP over streamable HTTP (rmcp) mounted at `/mcp` under axum, behind authentication when
//! the settings configure it (`auth::http`). Sessions for the 2025
//! protocol versions, stateless for 2026-07-28 (rmcp decides per request). DNS-rebinding
//! protection: the Host header must name this server (loopback names plus the operator's
//! allow-list) and a browser Origin must be on the allow-list.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::SessionManager;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use super::Server;
use super::answers::Answers;
use super::direct;
use super::entrance::{Entrance, RawBody, error_response};
use super::handler::PROTOCOL_VERSIONS;
use super::live::{Live, SESSION_HEADER, Session};
use crate::auth;
use crate::auth::Principal;
use crate::auth::http::{Authenticator, METADATA_PATH};

/// What the operator can set about the HTTP listener.
#[derive(Clone)]
pub struct HttpOptions {
    pub listen: SocketAddr,
    /// Extra Host names (or host:port) accepted besides localhost, 127.0.0.1 and ::1.
    pub allowed_hosts: Vec<String>,
    /// Browser origins allowed to call (scheme://host[:port|:*]); others are rejected.
    pub allowed_origins: Vec<String>,
    pub max_request_bytes: usize,
    /// Who may call, when the settings configure API keys or JWTs; `None`: anyone.
    pub auth: Option<Arc<Authenticator>>,
    /// Serve HTTPS with this certificate chain and key (PEM files).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// On shutdown: how long calls under way may take to finish.
    pub grace: Duration,
    /// `/healthz`, `/readyz` and `/metrics`.
    pub health: Option<Arc<crate::mcp::health::Health>>,
    /// Answers being written, for the shutdown to wait for.
    pub answers: Answers,
}

pub fn router(server: Server, opts: &HttpOptions, cancel: CancellationToken) -> axum::Router {
    let mut hosts: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    hosts.extend(opts.allowed_hosts.iter().cloned());
    let mut origins: Vec<String> = vec!["http://localhost:*".into(), "http://127.0.0.1:*".into()];
    origins.extend(opts.allowed_origins.iter().cloned());
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts.clone())
        .with_allowed_origins(origins.clone())
        .enforce_origin_validation()
        .with_max_request_body_bytes(opts.max_request_bytes)
        // Stateless (2026-07-28) answers without notifications go out as one JSON body
        // instead of an SSE stream: one write instead of three.
        .with_json_response(true)
        .with_cancellation_token(cancel.clone());
    // Sessions idle out by our clock, not rmcp's: a call answered directly never reaches
    // rmcp's session worker, whose own timer would close a busy session (see `Activity`).
    let mut manager = LocalSessionManager::default();
    manager.session_config.keep_alive = None;
    let manager = Arc::new(manager);
    let activity = Activity::default();
    tokio::spawn(activity.clone().reap_every(
        SESSION_CHECK,
        manager.clone(),
        server.live(),
        cancel.clone(),
    ));
    let direct = Arc::new(DirectHttp {
        live: server.live(),
        who: server.default_principal().clone(),
        activity,
        manager: manager.clone(),
    });
    let service = StreamableHttpService::new(move || Ok(server.for_session()), manager, config);
    // Inside authentication: a direct answer serves the caller it authenticated.
    let mut mcp =
        axum::Router::new()
            .nest_service("/mcp", service)
            .layer(axum::middleware::from_fn(move |req, next| {
                direct_calls(direct.clone(), req, next)
            }));
    let mut app = match &opts.health {
        Some(h) => h.clone().router(),
        None => axum::Router::new(),
    };
    if let Some(auth) = &opts.auth {
        let check = auth.clone();
        mcp = mcp.layer(axum::middleware::from_fn(move |req, next| {
            auth::http::require(check.clone(), req, next)
        }));
        // RFC 9728: at the well-known path, and with the resource's path appended.
        for path in [METADATA_PATH.to_string(), format!("{METADATA_PATH}/mcp")] {
            let a = auth.clone();
            app = app.route(
                &path,
                axum::routing::get(move |req| auth::http::metadata(a.clone(), req)),
            );
        }
    }
    // The one entrance (`entrance.rs`) in front of everything on /mcp, authentication
    // included: no answering path can be reached without passing it.
    let entrance = Arc::new(Entrance {
        hosts,
        origins,
        max_request_bytes: opts.max_request_bytes,
        answers: opts.answers.clone(),
    });
    let mcp = mcp.layer(axum::middleware::from_fn(move |req, next| {
        entrance.clone().guard(req, next)
    }));
    app.merge(mcp)
}

/// How long an HTTP session may go without a request before it is closed: rmcp's default.
const SESSION_IDLE: Duration = Duration::from_secs(300);
/// How often idle sessions are looked for.
const SESSION_CHECK: Duration = Duration::from_secs(30);

/// What `direct_calls` needs: the sessions and catalogue, and the caller when authentication
/// names none.
struct DirectHttp {
    live: Arc<Live>,
    who: Principal,
    activity: Activity,
    /// rmcp's sessions: a session it closed is not answered for.
    manager: Arc<LocalSessionManager>,
}

/// Answer a plain `tools/call` of an initialised session directly (`direct.rs`); pass
/// everything else to rmcp. Every request naming a session counts as its activity.
async fn direct_calls(d: Arc<DirectHttp>, req: Request, next: Next) -> Response {
    if req.method() == axum::http::Method::DELETE {
        return end_session(&d, req, next).await;
    }
    if req.headers().get(SESSION_HEADER).is_none() {
        return stateless_call(&d, req, next).await;
    }
    let Some((call, session)) = direct_call(&d, &req) else {
        return next.run(req).await;
    };
    let state = d.live.current();
    let open = d.manager.has_session(&session.id).await.unwrap_or(false);
    if !open || !call.answerable(&state) {
        return next.run(req).await;
    }
    let who = req.extensions().get::<Principal>().unwrap_or(&d.who);
    let traced = crate::trace::traced(
        who,
        req.headers()
            .get("traceparent")
            .and_then(|v| v.to_str().ok()),
    );
    let who = traced.as_ref().unwrap_or(who);
    let body = call.answer(&state, who, &session).await;
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// A plain stateless 2026-07-28 `tools/call` (`direct::parse_stateless`), answered directly
/// like a session's; anything else goes to rmcp, which validates and answers it.
async fn stateless_call(d: &DirectHttp, req: Request, next: Next) -> Response {
    let call = (req.method() == axum::http::Method::POST && stateless_post(req.headers()))
        .then(|| req.extensions().get::<RawBody>())
        .flatten()
        .and_then(|body| direct::parse_stateless(&body.0))
        .filter(|call| named_in_headers(req.headers(), call));
    let state = d.live.current();
    let Some(call) = call.filter(|c| c.answerable(&state)) else {
        return next.run(req).await;
    };
    let who = req.extensions().get::<Principal>().unwrap_or(&d.who);
    let traced = crate::trace::traced(
        who,
        req.headers()
            .get("traceparent")
            .and_then(|v| v.to_str().ok()),
    );
    let who = traced.as_ref().unwrap_or(who);
    let body = call.answer_stateless(&state, who).await;
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// The headers of a stateless 2026-07-28 POST rmcp accepts without a question: a JSON body,
/// both answer types accepted, the version header, `Mcp-Method: tools/call`, and no
/// `Mcp-Param-*` header (those rmcp checks against the tool's schema).
fn stateless_post(h: &axum::http::HeaderMap) -> bool {
    let text = |name: &str| h.get(name).and_then(|v| v.to_str().ok());
    let accept = text("accept").unwrap_or("");
    text("content-type").is_some_and(|c| c.starts_with("application/json"))
        && accept.contains("application/json")
        && accept.contains("text/event-stream")
        && text("mcp-protocol-version") == Some(direct::STATELESS_VERSION)
        && h.get_all("mcp-method").iter().count() == 1
        && text("mcp-method") == Some("tools/call")
        && !h.keys().any(|k| k.as_str().starts_with("mcp-param-"))
}

/// `Mcp-Name` is there once and names the called tool as it is (an encoded name goes to rmcp,
/// which decodes it).
fn named_in_headers(h: &axum::http::HeaderMap, call: &direct::Call) -> bool {
    let mut names = h.get_all("mcp-name").iter();
    let (Some(name), None) = (names.next(), names.next()) else {
        return false;
    };
    name.to_str().is_ok_and(|n| n == call.name())
}

/// DELETE of a session: 200 when it was open and is now closed (rmcp says 202, which the
/// clients log as a failure: the spec's answer to a completed termination is 200), 404 when
/// no such session is open. Without a session id rmcp answers.
async fn end_session(d: &DirectHttp, req: Request, next: Next) -> Response {
    let Some(id) = req
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(std::sync::Arc::<str>::from)
    else {
        return next.run(req).await;
    };
    if !d.manager.has_session(&id).await.unwrap_or(false) {
        let msg = "no such session: it has ended or never existed; initialize a new one";
        return error_response(StatusCode::NOT_FOUND, -32600, msg, None);
    }
    let mut response = next.run(req).await;
    if response.status().is_success() {
        d.live.forget(&id);
        *response.status_mut() = StatusCode::OK;
    }
    response
}

/// The call and its session, when `req` is a POST rmcp would accept and the body is a plain
/// tool call.
fn direct_call(d: &DirectHttp, req: &Request) -> Option<(direct::Call, Arc<Session>)> {
    let id = req.headers().get(SESSION_HEADER)?.to_str().ok()?;
    // Only a session that exists is touched: a request naming an unknown id (8,000 of them,
    // 30 KB each, raised RSS by 175 MB) leaves nothing behind.
    let session = d.live.session(id)?;
    d.activity.touch(id);
    if req.method() != axum::http::Method::POST || !plain_post(req.headers()) {
        return None;
    }
    let call = direct::parse(&req.extensions().get::<RawBody>()?.0)?;
    Some((call, session))
}

/// The headers rmcp would accept for a session's POST without a question: a JSON body, both
/// answer types accepted, and a 2025 protocol version (2026 requests carry more to check).
fn plain_post(h: &axum::http::HeaderMap) -> bool {
    let text = |name: &str| h.get(name).and_then(|v| v.to_str().ok());
    let accept = text("accept").unwrap_or("");
    let version_ok = text("mcp-protocol-version").is_none_or(|v| {
        PROTOCOL_VERSIONS
            .iter()
            .any(|p| p.has_initialize() && p.as_str() == v)
    });
    text("content-type").is_some_and(|c| c.starts_with("application/json"))
        && accept.contains("application/json")
        && accept.contains("text/event-stream")
        && version_ok
}

/// When each HTTP session last had a request. rmcp would close a session after five idle
/// minutes, but it does not see the calls answered directly; this clock sees every request.
#[derive(Clone, Default)]
struct Activity(Arc<Mutex<HashMap<String, Instant>>>);

impl Activity {
    fn touch(&self, id: &str) {
        let now = Instant::now();
        let mut seen = self.0.lock().expect("activity lock");
        match seen.get_mut(id) {
            Some(t) => *t = now,
            None => {
                seen.insert(id.to_string(), now);
            }
        }
    }

    /// Close the sessions idle longer than `SESSION_IDLE`, every `every`, until `stop`.
    async fn reap_every(
        self,
        every: Duration,
        manager: Arc<LocalSessionManager>,
        live: Arc<Live>,
        stop: CancellationToken,
    ) {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            let open: Vec<_> = manager.sessions.read().await.keys().cloned().collect();
            let idle = self.idle(&open, SESSION_IDLE);
            for id in idle {
                let _ = manager.close_session(&id).await;
                live.forget(&id);
            }
        }
    }

    /// Of the `open` sessions, those idle longer than `limit`; forgets closed ones. A session
    /// not seen yet (its `initialize` carried no id) starts its clock now.
    fn idle<K: AsRef<str> + Clone>(&self, open: &[K], limit: Duration) -> Vec<K> {
        let now = Instant::now();
        let mut seen = self.0.lock().expect("activity lock");
        seen.retain(|id, _| open.iter().any(|o| o.as_ref() == id.as_str()));
        let mut idle = Vec::new();
        for id in open {
            let last = *seen.entry(id.as_ref().to_string()).or_insert(now);
            if now.duration_since(last) > limit {
                seen.remove(id.as_ref());
                idle.push(id.clone());
            }
        }
        idle
    }
}

/// How long a request's headers may take to arrive.
const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Bind and serve until `shutdown` fires, then shut down gracefully: stop accepting, let calls
/// under way finish within the grace period, close the MCP sessions, and return. Prints the
/// address actually bound (port 0 picks one).
pub async fn serve(
    server: Server,
    opts: HttpOptions,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let tls = match &opts.tls {
        Some((cert, key)) => Some(tls_config(cert, key)?),
        None => None,
    };
    // The sessions' token: cancelled after the calls under way have finished.
    let sessions = CancellationToken::new();
    let metrics = server.live().current().pipeline.metrics().clone();
    let app = router(server, &opts, sessions.clone());
    let handle = axum_server::Handle::new();
    let (grace, on_stop) = (opts.grace, handle.clone());
    let closing = sessions.clone();
    let answers = opts.answers.clone();
    tokio::spawn(async move {
        shutdown.cancelled().await;
        tracing::info!(
            "shutting down: no new connections; waiting up to {grace:?} for calls under way"
        );
        // Connections still open after the grace period (and a second to write the last
        // answers) are closed.
        on_stop.graceful_shutdown(Some(grace + Duration::from_secs(1)));
        let until = tokio::time::Instant::now() + grace;
        // First the calls, then their answers: a result leaves the pipeline a moment before
        // its HTTP body is written.
        if !(metrics.drained(grace).await && answers.sent(until).await) {
            tracing::warn!(
                in_flight = metrics.in_flight(),
                answers = answers.pending(),
                "grace period over; calls still under way are abandoned"
            );
        }
        closing.cancel();
    });
    let listening = handle.clone();
    let scheme = if tls.is_some() { "https" } else { "http" };
    tokio::spawn(async move {
        if let Some(addr) = listening.listening().await {
            tracing::info!(%addr, "serving MCP over streamable HTTP at {scheme}://{addr}/mcp");
            eprintln!("legacy-mcp: listening on {scheme}://{addr}/mcp");
        }
    });
    let service = app.into_make_service();
    // Without TCP_NODELAY, an answer streamed in several writes (SSE) waits on the client's
    // delayed ACK: about 40 ms per call (measured: bench/run.py, docs/performance.md).
    let nodelay = axum_server::accept::NoDelayAcceptor::new();
    // Headers that drip in hold a connection as long as the client likes: hyper closes one
    // whose headers have not all arrived within HEADER_TIMEOUT (the body has its own bound,
    // `entrance::BODY_TIMEOUT`).
    let limit_headers =
        |b: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>| {
            b.http1()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT);
        };
    match tls {
        Some(config) => {
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(config).acceptor(nodelay);
            let mut server = axum_server::bind(opts.listen)
                .acceptor(acceptor)
                .handle(handle);
            limit_headers(server.http_builder());
            server.serve(service).await?
        }
        None => {
            let mut server = axum_server::bind(opts.listen)
                .acceptor(nodelay)
                .handle(handle);
            limit_headers(server.http_builder());
            server.serve(service).await?
        }
    }
    sessions.cancel();
    Ok(())
}

/// The HTTPS configuration from PEM files, with errors that name the file and the problem.
fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> anyhow::Result<axum_server::tls_rustls::RustlsConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|i| i.collect::<Result<_, _>>())
        .map_err(|e| anyhow::anyhow!("http.tls_certificate {}: {e}", cert.display()))?;
    if certs.is_empty() {
        anyhow::bail!(
            "http.tls_certificate {}: no CERTIFICATE block in the file",
            cert.display()
        );
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        anyhow::anyhow!(
            "http.tls_key {}: {e} (a PEM private key is expected: PKCS#8, PKCS#1 or SEC1)",
            key.display()
        )
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| anyhow::anyhow!("HTTPS certificate and key: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(axum_server::tls_rustls::RustlsConfig::from_config(
        Arc::new(config),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_idle_by_their_last_request_and_closed_ones_are_forgotten() {
        let a = Activity::default();
        a.touch("busy");
        a.touch("quiet");
        a.touch("gone");
        std::thread::sleep(Duration::from_millis(30));
        a.touch("busy");
        let open = ["busy", "quiet", "new"];
        assert_eq!(a.idle(&open, Duration::from_millis(20)), vec!["quiet"]);
        let seen: Vec<String> = {
            let mut k: Vec<String> = a.0.lock().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        // `gone` is no longer open; `quiet` was closed; `new` starts its clock.
        assert_eq!(seen, ["busy", "new"]);
        assert!(a.idle(&open, Duration::from_secs(60)).is_empty());
    }
}
