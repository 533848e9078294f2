//! What a tool call gives back: a result (`ToolOutput`) or a decided failure (`CallError`).
//! Below the phases that share them (the pipeline, the cache, write confirmation), so none of
//! those needs another to name an answer.

use serde_json::Value as Json;

/// How a call failed, decided in the type: the caller can fix it (a tool result with
/// `isError: true`), or the request cannot be routed (a JSON-RPC error).
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// Bad argument, not found, backend said no: the message is for the agent.
    Caller(String),
    /// Unknown tool, resource or prompt; malformed request.
    Unroutable(String),
    /// A write waits for the user's confirmation, asked in the answer (`confirm.rs`).
    Confirm { question: String, state: String },
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Caller(m) | CallError::Unroutable(m) => f.write_str(m),
            CallError::Confirm { question, .. } => {
                write!(f, "waiting for the user's confirmation: {question}")
            }
        }
    }
}

/// A successful call's result.
#[derive(Debug, Clone)]
pub struct ToolOutput {
    /// Always a JSON object (MCP's `structuredContent`).
    pub structured: Json,
    /// The same content as JSON text, for clients that read only text.
    pub text: String,
    /// Said beside the result: it comes from an older version of the data, and why.
    pub notice: Option<String>,
    /// The version of the data it was made from (a flat file's size and mtime; empty for SQL).
    pub version: String,
}
