//! MCP front ends over one handler.
//!
//! - `handler`  the rmcp `ServerHandler` (lists, tools, resources, prompts, logging)
//! - `stdio`    stdio transport with a guard that answers garbage and oversized lines
//! - `http`     streamable HTTP at `/mcp` with Host and Origin checks, health and metrics
//! - `answers`  HTTP answers still being written (a graceful shutdown waits for them)
//! - `direct`   plain tool calls answered by the transports without rmcp's session machinery
//! - `elicit`   asking the client's user to confirm a write (MCP elicitation)
//! - `live`     the served catalogue, swapped by a reload under running sessions
//! - `state`    one generation of it: the pipeline and the lists rendered from it
//! - `render`   the wire shape of results, errors, log notifications and lists
//! - `watch`    resource subscriptions and the watches that notify them
//! - `reload`   hot reload of the mappings: watch, validate completely, swap or keep
//! - `health`   /healthz, /readyz (per-source reachability) and /metrics

pub mod answers;
pub mod direct;
pub mod elicit;
pub mod entrance;
pub mod handler;
pub mod health;
pub mod http;
pub mod live;
pub mod reload;
pub mod render;
pub mod state;
pub mod stdio;
pub mod watch;

pub use handler::Server;

/// Largest accepted request (one JSON-RPC message), on stdio and HTTP.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 1024 * 1024;
