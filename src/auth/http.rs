//! Authentication on HTTP: every request to `/mcp` carries an API key or a bearer JWT, or gets
//! 401 with `WWW-Authenticate` pointing at the protected resource metadata (RFC 9728), which is
//! served at `/.well-known/oauth-protected-resource`. The authenticated principal rides in the
//! request's extensions to the MCP handler. The caller's credential goes no further: backends
//! use their own, from the mappings.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::Principal;
use super::jwt::JwtVerifier;
use crate::settings::Settings;

/// Where the protected resource metadata is served (RFC 9728 section 3).
pub const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

pub struct Authenticator {
    /// SHA-256 of each API key, and whom it names.
    keys: Vec<([u8; 32], Principal)>,
    jwt: Option<JwtVerifier>,
    /// The resource identifier (this server's public `/mcp` URL), if known.
    resource: Option<String>,
    authorization_servers: Vec<String>,
}

/// Why a request was refused.
pub enum Refusal {
    /// No credential at all.
    Missing,
    /// A credential that does not hold; the reason is safe to show.
    Invalid(String),
}

impl Authenticator {
    /// `None` when the settings configure neither API keys nor JWTs (HTTP is then open, and the
    /// default principal applies).
    pub fn from_settings(s: &Settings) -> Result<Option<Arc<Self>>, String> {
        let a = &s.auth;
        if a.api_keys.is_empty() && a.jwt.is_none() {
            return Ok(None);
        }
        let mut keys = Vec::new();
        for (i, k) in a.api_keys.iter().enumerate() {
            let text = s.secret(&k.sha256, &format!("auth.api_keys[{i}].sha256"))?;
            let hash = parse_hash(&text).ok_or_else(|| {
                format!("auth.api_keys[{i}].sha256 is not 64 hex digits; `legacy-mcp hash-key` prints one")
            })?;
            let who = Principal::new(k.principal.clone(), k.roles.clone());
            keys.push((hash, who.with_claims(k.claims.clone())));
        }
        let jwt = a.jwt.as_ref().map(|j| JwtVerifier::new(j, s)).transpose()?;
        let authorization_servers = match &a.jwt {
            Some(j) if j.authorization_servers.is_empty() => vec![j.issuer.clone()],
            Some(j) => j.authorization_servers.clone(),
            None => Vec::new(),
        };
        Ok(Some(Arc::new(Authenticator {
            keys,
            jwt,
            resource: s.http.public_url.clone(),
            authorization_servers,
        })))
    }

    /// The principal a request's credential names.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, Refusal> {
        let token = credential(headers).ok_or(Refusal::Missing)?;
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Compare every key in full, so timing says nothing about which one nearly matched.
        let mut found = None;
        for (hash, who) in &self.keys {
            if constant_time_eq(hash, &digest) {
                found = Some(who.clone());
            }
        }
        if let Some(who) = found {
            return Ok(who);
        }
        match &self.jwt {
            Some(v) if token.matches('.').count() == 2 => {
                v.verify(token).await.map_err(Refusal::Invalid)
            }
            _ => Err(Refusal::Invalid("unknown API key".into())),
        }
    }

    /// RFC 9728 metadata: what this resource is and who issues tokens for it.
    fn metadata(&self, request_host: Option<&str>) -> serde_json::Value {
        let resource = self
            .resource
            .clone()
            .unwrap_or_else(|| format!("http://{}/mcp", request_host.unwrap_or("localhost")));
        json!({
            "resource": resource,
            "authorization_servers": self.authorization_servers,
            "bearer_methods_supported": ["header"],
            "resource_name": "legacy-mcp",
        })
    }

    /// The metadata URL announced in `WWW-Authenticate`.
    fn metadata_url(&self, request_host: Option<&str>) -> String {
        match &self.resource {
            Some(r) => match r
                .find("://")
                .and_then(|i| r[i + 3..].find('/').map(|j| i + 3 + j))
            {
                Some(path_start) => format!("{}{METADATA_PATH}", &r[..path_start]),
                None => format!("{r}{METADATA_PATH}"),
            },
            None => format!(
                "http://{}{METADATA_PATH}",
                request_host.unwrap_or("localhost")
            ),
        }
    }
}

/// `Authorization: Bearer <token>`, or `X-API-Key: <key>`.
fn credential(headers: &HeaderMap) -> Option<&str> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let (scheme, token) = v.split_once(' ')?;
        return (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
            .then(|| token.trim());
    }
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

fn parse_hash(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The hex SHA-256 of an API key, as `auth.api_keys[].sha256` wants it.
pub fn hash_key(key: &str) -> String {
    crate::mapping::mask::hex(&Sha256::digest(key.trim().as_bytes()))
}

fn host(req: &Request) -> Option<String> {
    req.headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
}

/// The middleware in front of `/mcp`.
pub async fn require(auth: Arc<Authenticator>, mut req: Request, next: Next) -> Response {
    match auth.authenticate(req.headers()).await {
        Ok(who) => {
            req.extensions_mut().insert(who);
            next.run(req).await
        }
        Err(refusal) => {
            let url = auth.metadata_url(host(&req).as_deref());
            let (challenge, message) = match refusal {
                Refusal::Missing => (
                    format!("Bearer resource_metadata=\"{url}\""),
                    "authentication required: send `Authorization: Bearer <token or API key>`"
                        .to_string(),
                ),
                Refusal::Invalid(why) => (
                    format!(
                        "Bearer resource_metadata=\"{url}\", error=\"invalid_token\", error_description=\"{}\"",
                        why.replace('"', "'")
                    ),
                    format!("authentication failed: {why}"),
                ),
            };
            tracing::info!(target: "audit", outcome = "unauthenticated", reason = %message, "http request");
            let body = json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32001, "message": message}});
            let mut resp = (
                StatusCode::UNAUTHORIZED,
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
            resp
        }
    }
}

/// `GET /.well-known/oauth-protected-resource` (no authentication: clients read it to learn
/// how to get a token).
pub async fn metadata(auth: Arc<Authenticator>, req: Request) -> Response {
    let body = auth.metadata(host(&req).as_deref());
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_hashes() {
        let mut h = HeaderMap::new();
        assert!(credential(&h).is_none());
        h.insert("x-api-key", HeaderValue::from_static(" k1 "));
        assert_eq!(credential(&h), Some("k1"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(credential(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(credential(&h), None);
        let hex = hash_key("secret");
        assert_eq!(
            hex,
            "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
        );
        assert!(parse_hash(&hex).is_some());
        assert!(parse_hash("zz").is_none());
    }
}
