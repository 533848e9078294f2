//! The operator's endpoints on the HTTP listener, outside `/mcp` and its authentication:
//!
//! - `/healthz`  the process is alive and answering (always 200 while it serves)
//! - `/readyz`   mappings are loaded and every source is reachable: 200, else 503; the JSON
//!   body names each source with its kind, whether it answered, and why not
//! - `/metrics`  Prometheus (OpenMetrics) text, see `metrics.rs`
//!
//! Readiness probes touch the backends, so their result is kept for a few seconds: a
//! monitoring system polling every second does not become load on the ERP.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value as Json, json};

use crate::mcp::live::Live;
use crate::mcp::reload::Reloader;
use crate::metrics;

/// How long one readiness answer is reused.
const READY_TTL: Duration = Duration::from_secs(5);
/// The longest one source's probe may take (its own connect timeout may be shorter).
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// What the endpoints read.
pub struct Health {
    live: Arc<Live>,
    reloader: Option<Arc<Reloader>>,
    last: Mutex<Option<(Instant, StatusCode, Json)>>,
}

impl Health {
    pub fn new(live: Arc<Live>, reloader: Option<Arc<Reloader>>) -> Arc<Health> {
        Arc::new(Health {
            live,
            reloader,
            last: Mutex::new(None),
        })
    }

    /// The three routes.
    pub fn router(self: Arc<Self>) -> axum::Router {
        let (r, m) = (self.clone(), self);
        axum::Router::new()
            .route(
                "/healthz",
                axum::routing::get(|| async {
                    json_response(StatusCode::OK, &json!({"status": "alive"}))
                }),
            )
            .route(
                "/readyz",
                axum::routing::get(move || {
                    let h = r.clone();
                    async move { h.ready().await }
                }),
            )
            .route(
                "/metrics",
                axum::routing::get(move || {
                    let h = m.clone();
                    async move { h.metrics() }
                }),
            )
    }

    fn metrics(&self) -> Response {
        let state = self.live.current();
        let text = state.pipeline.metrics().render(state.pipeline.catalog());
        ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response()
    }

    async fn ready(&self) -> Response {
        let last = self.last.lock().expect("ready lock").clone();
        if let Some((_, code, body)) = last.filter(|(at, ..)| at.elapsed() < READY_TTL) {
            return json_response(code, &body);
        }
        let (code, body) = self.probe_all().await;
        *self.last.lock().expect("ready lock") = Some((Instant::now(), code, body.clone()));
        json_response(code, &body)
    }

    /// Probe every source at once; 503 when any cannot be reached.
    async fn probe_all(&self) -> (StatusCode, Json) {
        let state = self.live.current();
        let catalog = state.pipeline.catalog();
        let probes = catalog.sources.iter().map(|(name, source)| async move {
            let result = match tokio::time::timeout(PROBE_TIMEOUT, source.probe()).await {
                Ok(r) => r,
                Err(_) => Err(format!("no answer within {}s", PROBE_TIMEOUT.as_secs())),
            };
            (name.clone(), source.kind(), result)
        });
        let mut sources = Map::new();
        let mut all_up = true;
        for (name, kind, result) in futures_util::future::join_all(probes).await {
            let mut entry = json!({"kind": kind, "reachable": result.is_ok()});
            if let Err(e) = result {
                all_up = false;
                entry["error"] = json!(e);
            }
            sources.insert(name, entry);
        }
        let mut mappings = json!({
            "tools": catalog.tools.len(),
            "resources": catalog.resources.len(),
            "prompts": catalog.prompts.len(),
        });
        if let Some(r) = &self.reloader {
            let s = r.status();
            mappings["reloads"] = json!(s.generation);
            if !s.last_problems.is_empty() {
                mappings["last_reload_refused"] = json!(s.last_problems);
            }
        }
        let cluster = match state.pipeline.cluster() {
            Some(c) => Some(cluster_state(c, &catalog.digest).await),
            None => None,
        };
        // A replica working alone still serves every call: degraded, not unready.
        let alone = cluster.as_ref().is_some_and(|c| c["redis"] != "shared");
        let status = match (all_up, alone) {
            (false, _) => "unready",
            (true, true) => "degraded",
            (true, false) => "ready",
        };
        let code = if all_up {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        let mut body = json!({"status": status, "mappings": mappings, "sources": sources});
        if let Some(c) = cluster {
            body["cluster"] = c;
        }
        (code, body)
    }
}

/// The cluster as this replica sees it: Redis shared or not (and why), and whether the other
/// replicas serve the same mappings (a reload that reached only some of them).
async fn cluster_state(c: &Arc<crate::cluster::Cluster>, digest: &str) -> Json {
    let state = c.state();
    if !state.shared {
        return json!({
            "redis": "alone",
            "why": state.why.unwrap_or_default(),
            "effect": "this replica uses its own cache, single-flight and rate limits until Redis answers again",
        });
    }
    let mut out = json!({"redis": "shared", "replica": c.instance});
    if let Some(all) = c.mapping_digests(digest).await {
        let differ: Vec<&String> = all
            .iter()
            .filter(|(_, d)| d != digest)
            .map(|(who, _)| who)
            .collect();
        out["replicas"] = json!(all.len());
        out["mappings"] = if differ.is_empty() {
            json!("the same on every replica")
        } else {
            json!(format!(
                "differ from replica(s) {}: a reload has not reached every replica",
                differ
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        };
    }
    out
}

fn json_response(code: StatusCode, body: &Json) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
