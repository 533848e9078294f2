//! The one guarded entrance in front of everything on `/mcp`: every request, whichever path
//! answers it later (the direct tool-call path of `direct.rs`, rmcp's sessions, rmcp's
//! stateless 2026-07-28 service), passes these checks first, in this order:
//!
//! 1. **DNS-rebinding protection**: the `Host` must name this server (loopback names plus the
//!    operator's `--allowed-host`s) and a browser `Origin`, when sent, must be allowed. 403.
//! 2. **Protocol version**: an `MCP-Protocol-Version` header must name a version this server
//!    implements (`handler::PROTOCOL_VERSIONS`). 400.
//! 3. **Size, time and syntax** of a POST body: read with the size bound (413) within
//!    `BODY_TIMEOUT` (408), checked to be JSON
//!    (400, parse error), and a JSON-RPC batch refused with one error per request it held,
//!    each with its request's `id` (MCP 2025-06-18 and later have no batches). 400.
//!
//! Authentication runs right after, still in front of both answering paths (`http.rs`). rmcp
//! keeps its own Host/Origin checks; they are a second lock on the same door, not the door.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};

use super::answers::Answers;
use super::handler::PROTOCOL_VERSIONS;

/// Who may knock: the Host names and browser origins accepted, and the body bound.
#[derive(Clone)]
pub struct Entrance {
    /// Host names, each optionally with `:port` (then only that port is accepted).
    pub hosts: Vec<String>,
    /// `scheme://host[:port|:*]`; an entry without a port accepts any port.
    pub origins: Vec<String>,
    pub max_request_bytes: usize,
    pub answers: Answers,
}

/// How long a POST body may take to arrive, from its headers to its last byte. An MCP message
/// is small; a client on a slow link still sends one in well under this.
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A POST's body as the entrance read it, for the direct path (rmcp reads the body itself).
#[derive(Clone)]
pub struct RawBody(pub axum::body::Bytes);

impl Entrance {
    /// The middleware: refuse what fails a check, pass the rest on.
    pub async fn guard(self: std::sync::Arc<Self>, req: Request, next: Next) -> Response {
        if let Some(refused) = self.refuse_headers(req.uri(), req.headers()) {
            return refused;
        }
        if req.method() != axum::http::Method::POST {
            return next.run(req).await;
        }
        let sending = self.answers.start();
        let (mut parts, body) = req.into_parts();
        let limit = self.max_request_bytes;
        // A body that drips in (a byte now and then) would hold its connection and task for
        // as long as the client likes; the whole body has BODY_TIMEOUT to arrive.
        let read = tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, limit)).await;
        let bytes = match read {
            Ok(Ok(b)) => b,
            Ok(Err(_)) => {
                let msg = format!("request too large: a message may be at most {limit} bytes");
                return error_response(StatusCode::PAYLOAD_TOO_LARGE, -32600, &msg, None);
            }
            Err(_) => {
                let msg = format!(
                    "the request body did not arrive within {} s",
                    BODY_TIMEOUT.as_secs()
                );
                return error_response(StatusCode::REQUEST_TIMEOUT, -32600, &msg, None);
            }
        };
        if let Some(refused) = refuse_body(&bytes) {
            return refused;
        }
        parts.extensions.insert(RawBody(bytes.clone()));
        let response = next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
        // The count ends when the body stream is dropped: sent to the end, or its connection
        // gone (shutdown waits for it, `http::serve`).
        let (parts, body) = response.into_parts();
        let stream = futures_util::StreamExt::map(body.into_data_stream(), move |chunk| {
            let _ = &sending;
            chunk
        });
        Response::from_parts(parts, Body::from_stream(stream))
    }

    /// Checks 1 and 2, on the headers alone: the refusal, if any.
    fn refuse_headers(&self, uri: &Uri, headers: &HeaderMap) -> Option<Response> {
        let forbidden = |msg: &str| {
            error_response(
                StatusCode::FORBIDDEN,
                -32600,
                &format!("Forbidden: {msg}"),
                None,
            )
        };
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string)
            .or_else(|| uri.authority().map(|a| a.to_string()));
        match host.as_deref().and_then(authority) {
            Some((name, port)) if host_allowed(&name, port, &self.hosts) => {}
            Some((name, _)) => {
                tracing::warn!(host = %name, "refused a request with a foreign Host (DNS rebinding?)");
                return Some(forbidden("the Host header is not allowed"));
            }
            None => return Some(forbidden("a valid Host header is required")),
        }
        if let Some(origin) = headers.get(axum::http::header::ORIGIN) {
            let origin = origin.to_str().ok().and_then(parse_origin);
            match origin {
                Some(o) if origin_allowed(&o, &self.origins) => {}
                _ => {
                    tracing::warn!("refused a request from a foreign browser Origin");
                    return Some(forbidden("the Origin header is not allowed"));
                }
            }
        }
        if let Some(v) = headers.get("mcp-protocol-version") {
            let v = v.to_str().unwrap_or("");
            if !PROTOCOL_VERSIONS.iter().any(|p| p.as_str() == v) {
                let supported: Vec<&str> = PROTOCOL_VERSIONS.iter().map(|p| p.as_str()).collect();
                let msg = format!(
                    "unsupported MCP-Protocol-Version `{v}`: this server speaks {}",
                    supported.join(", ")
                );
                let data = json!({"requested": v, "supported": supported});
                return Some(error_response(
                    StatusCode::BAD_REQUEST,
                    -32022,
                    &msg,
                    Some(data),
                ));
            }
        }
        None
    }
}

/// Check 3 on a body within the bound: not JSON, or a batch.
fn refuse_body(bytes: &[u8]) -> Option<Response> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'[') {
        // Checked without building a tree: rmcp parses the message again.
        return serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
            .err()
            .map(|e| {
                error_response(
                    StatusCode::BAD_REQUEST,
                    -32700,
                    &format!("parse error: {e}"),
                    None,
                )
            });
    }
    let batch: Vec<Json> = match serde_json::from_slice(bytes) {
        Ok(b) => b,
        Err(e) => {
            let msg = format!("parse error: {e}");
            return Some(error_response(StatusCode::BAD_REQUEST, -32700, &msg, None));
        }
    };
    let body = batch_refusal(&batch);
    Some(
        (
            StatusCode::BAD_REQUEST,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response(),
    )
}

/// What a refused JSON-RPC batch is answered with: JSON-RPC 2.0 §6, one error per request
/// (by its `id`), none for notifications; an empty or all-notification batch gets one error.
pub fn batch_refusal(batch: &[Json]) -> Json {
    const WHY: &str = "JSON-RPC batches are not part of MCP (since 2025-06-18): send each request as its own message";
    let errors: Vec<Json> = batch
        .iter()
        .filter_map(|m| {
            m.get("id")
                .filter(|id| !id.is_null() && m.get("method").is_some())
        })
        .map(|id| json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32600, "message": WHY}}))
        .collect();
    if errors.is_empty() {
        json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": WHY}})
    } else {
        Json::Array(errors)
    }
}

/// A JSON-RPC error (no request id: it is answered before any message is read) as an HTTP
/// answer.
pub fn error_response(
    status: StatusCode,
    code: i64,
    message: &str,
    data: Option<Json>,
) -> Response {
    let mut error = json!({"code": code, "message": message});
    if let Some(d) = data {
        error["data"] = d;
    }
    let body = json!({"jsonrpc": "2.0", "id": null, "error": error});
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// `host[:port]` as a lower-case name without IPv6 brackets, and the port.
fn authority(text: &str) -> Option<(String, Option<u16>)> {
    let a = axum::http::uri::Authority::try_from(text.trim()).ok()?;
    if a.as_str().contains('@') {
        return None;
    }
    Some((normalize(a.host()), a.port_u16()))
}

fn normalize(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

fn host_allowed(name: &str, port: Option<u16>, allowed: &[String]) -> bool {
    // A bare IPv6 address (`::1`) is no authority; it is a host name without a port.
    let entry = |a: &String| authority(a).unwrap_or_else(|| (normalize(a.trim()), None));
    allowed
        .iter()
        .map(entry)
        .any(|(n, p)| n == name && p.is_none_or(|p| port == Some(p)))
}

/// An origin: scheme, host, port (the scheme's default when none is written).
#[derive(Debug, PartialEq)]
struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

fn parse_origin(text: &str) -> Option<Origin> {
    let uri: Uri = text.trim().parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let a = uri.authority()?;
    let port = a.port_u16().or(match scheme.as_str() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    });
    Some(Origin {
        scheme,
        host: normalize(a.host()),
        port,
    })
}

/// An allowed entry `scheme://host[:port|:*]`; without a port (or with `*`) any port matches.
fn origin_allowed(origin: &Origin, allowed: &[String]) -> bool {
    allowed.iter().any(|entry| {
        let (base, any_port) = match entry.strip_suffix(":*") {
            Some(b) => (b, true),
            None => (entry.as_str(), false),
        };
        let Ok(uri) = base.trim().parse::<Uri>() else {
            return false;
        };
        let (Some(scheme), Some(a)) = (uri.scheme_str(), uri.authority()) else {
            return false;
        };
        let port_ok = any_port || a.port_u16().is_none() || a.port_u16() == origin.port;
        scheme.eq_ignore_ascii_case(&origin.scheme) && normalize(a.host()) == origin.host && port_ok
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> Vec<String> {
        ["localhost", "127.0.0.1", "::1", "erp-mcp.corp:8443"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn hosts_are_matched_by_name_and_by_port_when_the_entry_names_one() {
        let ok = |h: &str| authority(h).is_some_and(|(n, p)| host_allowed(&n, p, &hosts()));
        assert!(ok("localhost:8080"));
        assert!(ok("LOCALHOST"));
        assert!(ok("[::1]:9000"));
        assert!(ok("erp-mcp.corp:8443"));
        assert!(!ok("erp-mcp.corp:8080"));
        assert!(!ok("erp-mcp.corp"));
        assert!(!ok("evil.example"));
        assert!(!ok("localhost.evil.example"));
        assert!(!ok("user@localhost"));
        assert!(!ok(""));
    }

    #[test]
    fn origins_are_matched_by_scheme_host_and_port() {
        let allowed = [
            "http://localhost:*",
            "https://app.corp",
            "https://ui.corp:8443",
        ]
        .map(String::from)
        .to_vec();
        let ok = |o: &str| parse_origin(o).is_some_and(|o| origin_allowed(&o, &allowed));
        assert!(ok("http://localhost:5173"));
        assert!(ok("http://localhost"));
        assert!(ok("https://app.corp:1234"));
        assert!(ok("https://ui.corp:8443"));
        assert!(!ok("https://ui.corp"));
        assert!(!ok("https://localhost:5173"));
        assert!(!ok("http://evil.example"));
        assert!(!ok("null"));
        assert!(!ok("not an origin"));
    }

    #[test]
    fn a_batch_is_refused_per_request_with_each_id() {
        let batch: Vec<Json> = serde_json::from_str(
            r#"[{"jsonrpc":"2.0","id":7,"method":"tools/list"},
                {"jsonrpc":"2.0","method":"notifications/initialized"},
                {"jsonrpc":"2.0","id":"b","method":"ping"}]"#,
        )
        .unwrap();
        let answer = batch_refusal(&batch);
        let ids: Vec<&Json> = answer
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["id"])
            .collect();
        assert_eq!(ids, [&json!(7), &json!("b")]);
        assert_eq!(answer[0]["error"]["code"], -32600);
        assert_eq!(batch_refusal(&[])["id"], Json::Null);
    }
}
