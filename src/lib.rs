//! legacy-mcp: a standard MCP endpoint in front of an old ERP, driven by YAML mappings.
//!
//! # Layout
//! - `audit`     one JSON line per call, arguments pseudonymised, rotating file
//! - `principal` the caller: name, roles, claims (plain data, below all that read it)
//! - `auth`      who is calling: API keys, JWTs, `allow:` access
//! - `mapping`   the YAML mapping format: model, loading, parameters, masking policies, result
//!   shaping, schema
//! - `catalog`   mapping files merged and compiled into tools, resources and prompts
//! - `pipeline`  one request in named phases (bind, cache, plan, fetch, shape, respond, audit)
//! - `cache`     the read cache: per-tool ttl, single-flight, stale answers while a backend fails
//! - `limits`    per-principal rate and per-call timeout
//! - `cluster`   shared state for replicas on Redis: cache, single-flight lease, rate limits
//! - `backend`   source kinds: `flatfile` (csv, fixed width), `odbc`, `mssql` (TDS), `soap`
//! - `mcp`       the rmcp server handler, stdio framing and the streamable HTTP app
//! - `metrics`   Prometheus counters: calls, latency, cache, backend errors, reloads, pools
//! - `settings`  the operator's settings file and LEGACY_MCP__ environment overrides
//! - `logging`   the server's own log: stderr, a daily file, the Windows Event Log
//! - `trace`     OpenTelemetry spans per call and phase over OTLP, `traceparent` in and out
//! - `cli`       the `legacy-mcp` commands: serve, check, call, read, schema, service
//! - `service`   the Windows service: install, start, stop, and its entry point
//! - `value`     typed values (exact decimals, dates) and their JSON form
//! - `uri`       resource URI templates and prompt placeholders

pub mod audit;
pub mod auth;
pub mod backend;
pub mod cache;
pub mod catalog;
pub mod cli;
pub mod cluster;
pub mod confirm;
pub mod cursor;
pub mod limits;
pub mod logging;
pub mod mapping;
pub mod mcp;
pub mod metrics;
pub mod outcome;
pub mod pipeline;
pub mod principal;
pub mod service;
pub mod settings;
pub mod trace;
pub mod uri;
pub mod value;
