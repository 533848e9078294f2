//! MCP over streamable HTTP (rmcp) mounted at `/mcp` under axum, behind authentication when
//! the settings configure it (`auth::http`). Sessions for the 2025
//! protocol versions, stateless for 2026-07-28 (rmcp decides per request). DNS-rebinding
//! protection: the Host header must name this server (loopback names plus the operator's
//! allow-list) and a browser Origin must be on the allow-list.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use super::Server;
use crate::auth;
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
}

pub fn router(server: Server, opts: &HttpOptions, cancel: CancellationToken) -> axum::Router {
    let mut hosts: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    hosts.extend(opts.allowed_hosts.iter().cloned());
    let mut origins: Vec<String> = vec!["http://localhost:*".into(), "http://127.0.0.1:*".into()];
    origins.extend(opts.allowed_origins.iter().cloned());
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_allowed_origins(origins)
        .enforce_origin_validation()
        .with_max_request_body_bytes(opts.max_request_bytes)
        .with_cancellation_token(cancel);
    let service = StreamableHttpService::new(
        move || Ok(server.for_session()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let limit = opts.max_request_bytes;
    let mut mcp = axum::Router::new().nest_service("/mcp", service);
    let mut app = axum::Router::new();
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
    // The size and JSON guard runs first, so an unauthenticated caller cannot make the
    // server read an unbounded body either.
    app.merge(mcp)
        .layer(axum::middleware::from_fn(move |req, next| {
            json_rpc_guard(req, next, limit)
        }))
}

/// rmcp answers an unparsable or oversized POST with plain text; a JSON-RPC client should get
/// a JSON-RPC error it can read. Bodies are read with the size bound, checked, and passed on.
async fn json_rpc_guard(req: Request, next: Next, limit: usize) -> Response {
    if req.method() != axum::http::Method::POST {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            let msg = format!("request too large: a message may be at most {limit} bytes");
            return json_rpc_error(StatusCode::PAYLOAD_TOO_LARGE, -32600, &msg);
        }
    };
    if let Err(e) = serde_json::from_slice::<serde_json::Value>(&bytes) {
        return json_rpc_error(
            StatusCode::BAD_REQUEST,
            -32700,
            &format!("parse error: {e}"),
        );
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn json_rpc_error(status: StatusCode, code: i64, message: &str) -> Response {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}});
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Bind and serve until `cancel` fires. Prints the address actually bound (port 0 picks one).
pub async fn serve(
    server: Server,
    opts: HttpOptions,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(opts.listen).await?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "serving MCP over streamable HTTP at http://{addr}/mcp");
    eprintln!("legacy-mcp: listening on http://{addr}/mcp");
    let app = router(server, &opts, cancel.clone());
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { cancel.cancelled().await })
        .await?;
    Ok(())
}
