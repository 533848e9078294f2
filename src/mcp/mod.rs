//! MCP front ends over one handler.
//!
//! - `handler`  the rmcp `ServerHandler` (lists, tools, resources, prompts, logging)
//! - `stdio`    stdio transport with a guard that answers garbage and oversized lines
//! - `http`     streamable HTTP at `/mcp` with Host and Origin checks

pub mod handler;
pub mod http;
pub mod stdio;

pub use handler::Server;

/// Largest accepted request (one JSON-RPC message), on stdio and HTTP.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 1024 * 1024;
