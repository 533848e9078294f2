//! OAuth 2.1 bearer tokens validated locally: a JWT signed by one of the issuer's keys (a JWKS
//! from a file or URL), with this server's issuer and audience, not expired (within a bounded
//! leeway). Only asymmetric algorithms are accepted, and a token's `alg` must be its key's, so
//! a token cannot pick a weaker check than the key was published for.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::{Map, Value as Json};
use tokio::sync::{Mutex, RwLock};

use super::Principal;
use crate::settings::{JwtSettings, Settings};

/// The longest accepted `leeway`: tokens are short-lived, clocks are not that wrong.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);
/// A JWKS URL is fetched again for an unknown key at most this often.
const REFETCH_EVERY: Duration = Duration::from_secs(60);

pub struct JwtVerifier {
    issuer: String,
    audience: String,
    leeway: u64,
    roles_claim: String,
    principal_claim: String,
    keys: RwLock<JwkSet>,
    url: Option<String>,
    fetched: Mutex<Option<Instant>>,
    client: reqwest::Client,
}

impl JwtVerifier {
    /// Build from settings; a JWKS file is read now, a URL on first use.
    pub fn new(j: &JwtSettings, s: &Settings) -> Result<Self, String> {
        let audience = j
            .audience
            .clone()
            .or_else(|| s.http.public_url.clone())
            .ok_or(
                "auth.jwt needs `audience` (or http.public_url): the URL tokens are issued for",
            )?;
        let leeway = j.leeway.map_or(Duration::from_secs(60), |l| l.0);
        if leeway > MAX_LEEWAY {
            return Err(format!(
                "auth.jwt.leeway is at most {}s",
                MAX_LEEWAY.as_secs()
            ));
        }
        let keys = match (&j.jwks_file, &j.jwks_url) {
            (Some(f), None) => {
                let path = s.path(f);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("auth.jwt.jwks_file {}: {e}", path.display()))?;
                serde_json::from_str(&text).map_err(|e| {
                    format!("auth.jwt.jwks_file {}: not a JWKS: {e}", path.display())
                })?
            }
            (None, Some(_)) => JwkSet { keys: Vec::new() },
            _ => return Err("auth.jwt needs exactly one of `jwks_file` and `jwks_url`".into()),
        };
        Ok(JwtVerifier {
            issuer: j.issuer.clone(),
            audience,
            leeway: leeway.as_secs(),
            roles_claim: j.roles_claim.clone().unwrap_or_else(|| "roles".into()),
            principal_claim: j.principal_claim.clone().unwrap_or_else(|| "sub".into()),
            keys: RwLock::new(keys),
            url: j.jwks_url.clone(),
            fetched: Mutex::new(None),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .map_err(|e| format!("auth.jwt: {e}"))?,
        })
    }

    /// The principal a valid token names, or why the token is refused (safe to tell the
    /// caller: it says nothing about the keys).
    pub async fn verify(&self, token: &str) -> Result<Principal, String> {
        let header = decode_header(token).map_err(|_| "the token is not a JWT".to_string())?;
        let jwk = self.key_for(header.kid.as_deref()).await?;
        let alg = key_algorithm(&jwk)?;
        if header.alg != alg {
            return Err(format!(
                "the token is signed with {:?}, its key is for {alg:?}",
                header.alg
            ));
        }
        let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("unusable key: {e}"))?;
        let mut v = Validation::new(alg);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        v.leeway = self.leeway;
        v.validate_nbf = true;
        let claims = decode::<Map<String, Json>>(token, &key, &v)
            .map_err(|e| refusal(e.kind()))?
            .claims;
        let name = match claims.get(&self.principal_claim) {
            Some(Json::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(format!("the token has no `{}` claim", self.principal_claim)),
        };
        let roles = roles(claims.get(&self.roles_claim));
        Ok(Principal::new(name, roles).with_claims(claims))
    }

    async fn key_for(&self, kid: Option<&str>) -> Result<Jwk, String> {
        if let Some(k) = find(&*self.keys.read().await, kid) {
            return Ok(k);
        }
        // A key not seen yet: the issuer may have rotated; fetch again, not too often.
        if let Some(url) = &self.url {
            let mut fetched = self.fetched.lock().await;
            if fetched.is_none_or(|t| t.elapsed() >= REFETCH_EVERY) {
                *fetched = Some(Instant::now());
                match self.fetch(url).await {
                    Ok(set) => *self.keys.write().await = set,
                    Err(e) => tracing::warn!(%url, "fetching the JWKS failed: {e}"),
                }
            }
        }
        find(&*self.keys.read().await, kid)
            .ok_or_else(|| "the token is not signed by a key of the trusted issuer".to_string())
    }

    async fn fetch(&self, url: &str) -> Result<JwkSet, String> {
        let resp = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("HTTP {}", resp.status()));
        }
        resp.json().await.map_err(|e| format!("not a JWKS: {e}"))
    }
}

/// The key a token names; a token without `kid` may use the only key.
fn find(set: &JwkSet, kid: Option<&str>) -> Option<Jwk> {
    match kid {
        Some(k) => set.find(k).cloned(),
        None if set.keys.len() == 1 => set.keys.first().cloned(),
        None => None,
    }
}

/// The algorithm a key is for: its `alg`, or the one its curve implies. Symmetric keys are
/// refused (anyone holding them could mint tokens).
fn key_algorithm(jwk: &Jwk) -> Result<Algorithm, String> {
    use jsonwebtoken::jwk::EllipticCurve;
    if let Some(a) = jwk.common.key_algorithm {
        let alg: Algorithm = a
            .to_string()
            .parse()
            .map_err(|_| format!("the key's algorithm {a} cannot verify tokens"))?;
        if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
            return Err("symmetric (HS*) keys are not accepted".into());
        }
        return Ok(alg);
    }
    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Ok(Algorithm::RS256),
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => Ok(Algorithm::ES256),
            EllipticCurve::P384 => Ok(Algorithm::ES384),
            _ => Err("unsupported curve".into()),
        },
        AlgorithmParameters::OctetKeyPair(_) => Ok(Algorithm::EdDSA),
        _ => Err("symmetric (HS*) keys are not accepted".into()),
    }
}

/// What the caller is told about a refused token.
fn refusal(kind: &jsonwebtoken::errors::ErrorKind) -> String {
    use jsonwebtoken::errors::ErrorKind::*;
    match kind {
        ExpiredSignature => "the token has expired".into(),
        ImmatureSignature => "the token is not valid yet".into(),
        InvalidAudience => "the token was issued for another audience, not this server".into(),
        InvalidIssuer => "the token comes from an issuer this server does not trust".into(),
        InvalidSignature => "the token's signature does not verify".into(),
        MissingRequiredClaim(c) => format!("the token has no `{c}` claim"),
        _ => "the token is not valid".into(),
    }
}

/// Roles from a claim: an array of strings, or one space-separated string (`scope` style).
fn roles(claim: Option<&Json>) -> Vec<String> {
    match claim {
        Some(Json::Array(a)) => a
            .iter()
            .filter_map(|r| r.as_str().map(str::to_string))
            .collect(),
        Some(Json::String(s)) => s.split_whitespace().map(str::to_string).collect(),
        _ => Vec::new(),
    }
}
