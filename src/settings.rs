//! The operator's settings (not the integrator's mappings): one TOML or YAML file given with
//! `--config`, overridden by `LEGACY_MCP__SECTION__KEY` environment variables (e.g.
//! `LEGACY_MCP__AUTH__DEFAULT_ACCESS=deny`), read with the `config` crate. Paths in the file
//! resolve against the file's directory, because a Windows service starts in System32.
//! Secrets are written `${env:NAME}` or `${file:PATH}` as in mappings.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::mapping::interpolate::interpolate;
use crate::mapping::units::{DurationText, SizeText};

/// The environment prefix of overrides: `LEGACY_MCP__HTTP__LISTEN=0.0.0.0:8443`.
pub const ENV_PREFIX: &str = "LEGACY_MCP";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The mapping directory (or file).
    #[serde(default)]
    pub mappings: Option<PathBuf>,
    #[serde(default)]
    pub http: HttpSettings,
    #[serde(default)]
    pub auth: AuthSettings,
    #[serde(default)]
    pub audit: AuditSettings,
    #[serde(default)]
    pub limits: LimitSettings,
    #[serde(default)]
    pub cache: CacheSettings,
    #[serde(default)]
    pub log: LogSettings,
    /// Shared state for several replicas behind a load balancer (docs/scale-out.md).
    #[serde(default)]
    pub cluster: ClusterSettings,
    /// OpenTelemetry traces over OTLP.
    #[serde(default)]
    pub tracing: TracingSettings,
    /// Watch the mapping directory and reload on changes (default true; SIGHUP reloads too).
    #[serde(default)]
    pub watch_mappings: Option<bool>,
    /// On Ctrl-C, SIGTERM or a service stop: how long calls under way may take to finish
    /// (default 10s).
    #[serde(default)]
    pub shutdown_grace: Option<DurationText>,
    /// The key paging cursors are sealed with (`${env:...}`, at least 16 bytes): the same on
    /// every instance behind a load balancer, so any of them continues a cursor another issued.
    /// Without it each process draws a random key and cursors do not survive a restart.
    #[serde(default)]
    pub cursor_key: Option<String>,
    /// The settings file's directory; relative paths resolve against it.
    #[serde(skip)]
    pub base: PathBuf,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct TracingSettings {
    /// The OTLP/HTTP collector (`http://otel-collector:4318`); spans go to `/v1/traces` as
    /// JSON. Without it no span is made for export.
    #[serde(default)]
    pub otlp_endpoint: Option<String>,
    /// The share of traces kept when the caller did not decide (0.0 to 1.0, default 1.0); a
    /// caller's sampled `traceparent` is always followed.
    #[serde(default)]
    pub sampling: Option<f64>,
    /// `service.name` of the spans (default `legacy-mcp`).
    #[serde(default)]
    pub service_name: Option<String>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ClusterSettings {
    /// `redis://[:password@]host:port[/db]` or `rediss://...` (TLS): the read cache, its
    /// single-flight and the rate limits are shared through it. Without it each replica keeps
    /// its own (as a single process always does).
    #[serde(default)]
    pub redis: Option<String>,
    /// Put before every key, so several deployments can share one Redis (default `legacy-mcp`).
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// Encrypt cached answers in Redis with a key derived from this secret (`${env:...}`, at
    /// least 16 bytes; the same on every replica). The cache holds ERP data.
    #[serde(default)]
    pub encryption_key: Option<String>,
    /// The longest one Redis command may take before the replica works alone (default 250ms).
    #[serde(default)]
    pub timeout: Option<DurationText>,
    /// How long a replica calling the backend for a shared miss holds the others off
    /// (default 30s, the call timeout's default); a replica that dies holding it blocks
    /// the rest no longer than this.
    #[serde(default)]
    pub lease: Option<DurationText>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// Serve streamable HTTP on this address (`serve` without `--http` then serves HTTP).
    #[serde(default)]
    pub listen: Option<std::net::SocketAddr>,
    /// The URL clients use to reach `/mcp` (`https://erp-mcp.example.com/mcp`): the resource
    /// that tokens must be issued for, and the base of the protected resource metadata.
    #[serde(default)]
    pub public_url: Option<String>,
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub max_request_size: Option<SizeText>,
    /// Serve HTTPS with this certificate chain (PEM) ...
    #[serde(default)]
    pub tls_certificate: Option<PathBuf>,
    /// ... and this private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `error`, `warn`, `info`, `debug`, `trace`, or a filter such as `info,legacy_mcp=debug`
    /// (default `warn`; `LEGACY_MCP_LOG` wins).
    #[serde(default)]
    pub level: Option<String>,
    #[serde(default)]
    pub format: LogFormat,
    /// Also write the log to this file, a new one each day (`FILE.YYYY-MM-DD`).
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// Daily files kept (default 14).
    #[serde(default)]
    pub keep_files: Option<usize>,
    /// Also write warnings and errors to the Windows Event Log (default true when running as
    /// a Windows service; ignored elsewhere).
    #[serde(default)]
    pub event_log: Option<bool>,
}

#[derive(Debug, Default, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DefaultAccess {
    /// Entries without `allow:` are open to every authenticated caller.
    #[default]
    Allow,
    /// Entries without `allow:` are refused to everyone.
    Deny,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    #[serde(default)]
    pub default_access: DefaultAccess,
    /// The principal of stdio sessions and of `call`/`read` (default `local`).
    #[serde(default)]
    pub principal: Option<String>,
    /// Its roles.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Its claims, for parameters bound with `from: principal.claims.NAME`.
    #[serde(default)]
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// Static API keys, stored as SHA-256 hashes (`legacy-mcp hash-key` prints one).
    #[serde(default)]
    pub api_keys: Vec<ApiKeySettings>,
    /// OAuth 2.1 bearer tokens (JWTs) validated locally.
    #[serde(default)]
    pub jwt: Option<JwtSettings>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ApiKeySettings {
    pub principal: String,
    #[serde(default)]
    pub roles: Vec<String>,
    /// What this key's caller is, for parameters bound with `from: principal.claims.NAME`
    /// (`claims = { territory = "north" }`).
    #[serde(default)]
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// Hex SHA-256 of the key.
    pub sha256: String,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct JwtSettings {
    /// The `iss` every token must carry.
    pub issuer: String,
    /// The `aud` every token must carry: this server (default `http.public_url`).
    #[serde(default)]
    pub audience: Option<String>,
    /// The issuer's signing keys as a JWKS file ...
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    /// ... or URL (fetched at start and again when a token names an unknown key).
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// The claim holding the roles: an array, or a space-separated string (default `roles`).
    #[serde(default)]
    pub roles_claim: Option<String>,
    /// The claim naming the principal (default `sub`).
    #[serde(default)]
    pub principal_claim: Option<String>,
    /// Accepted clock difference for `exp` and `nbf` (default 60s, at most 5m).
    #[serde(default)]
    pub leeway: Option<DurationText>,
    /// Authorization servers announced in the protected resource metadata (default: issuer).
    #[serde(default)]
    pub authorization_servers: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    /// One JSON line per call on stderr (default: true for `serve`, false for `call`/`read`).
    #[serde(default)]
    pub stderr: Option<bool>,
    /// And/or to this file, rotated by size.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// Rotate the file when it reaches this size (default 10MB).
    #[serde(default)]
    pub max_file_size: Option<SizeText>,
    /// Rotated files kept (default 5).
    #[serde(default)]
    pub keep_files: Option<u32>,
    /// The HMAC key pseudonymising argument values (`${env:...}`); without it a random key per
    /// process is used, so pseudonyms only match within one run.
    #[serde(default)]
    pub key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    /// The longest a tool call may take, backend included (default 30s).
    #[serde(default)]
    pub call_timeout: Option<DurationText>,
    /// Calls per minute per principal (default: unlimited).
    #[serde(default)]
    pub rate_per_minute: Option<u32>,
    /// Calls a principal may make at once above the steady rate (default: rate_per_minute / 6).
    #[serde(default)]
    pub burst: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// Most answers kept (default 10000).
    #[serde(default)]
    pub max_entries: Option<u64>,
    /// Most bytes kept (default 64MiB).
    #[serde(default)]
    pub max_size: Option<SizeText>,
}

impl Settings {
    /// Read the file (if any) and the environment overrides.
    pub fn load(file: Option<&Path>) -> Result<Settings, String> {
        let mut builder = config::Config::builder();
        if let Some(f) = file {
            if !f.is_file() {
                return Err(format!("settings file {} does not exist", f.display()));
            }
            builder = builder.add_source(config::File::from(f));
        }
        builder = builder.add_source(
            config::Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("__")
                .separator("__")
                .list_separator(",")
                .with_list_parse_key("auth.roles")
                .with_list_parse_key("http.allowed_hosts")
                .with_list_parse_key("http.allowed_origins")
                .try_parsing(true),
        );
        let where_ = file.map_or("the environment".to_string(), |f| f.display().to_string());
        let mut s: Settings = builder
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| format!("settings ({where_}): {e}"))?;
        s.base = file
            .and_then(|f| f.parent())
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Ok(s)
    }

    /// A path from the settings, relative to the settings file.
    pub fn path(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        }
    }

    /// A secret from the settings (`${env:...}`, `${file:...}` resolved).
    pub fn secret(&self, text: &str, what: &str) -> Result<String, String> {
        interpolate(text, &self.base).map_err(|m| format!("settings {what}: {m}"))
    }
}
