//! Tool calls the transports answer themselves, without rmcp's session machinery.
//!
//! rmcp carries each request of a session through its session worker, the service loop and a
//! task of its own, and the answer back the same way: a handful of task wake-ups that, on the
//! project machine, cost about half of a cached call's CPU (docs/performance.md). A plain
//! `tools/call` in an initialised session needs none of it: no confirmation to ask (a write
//! with `confirm: ask` or `require` still goes through rmcp, which can elicit), no progress to
//! report, no per-request protocol metadata. Such a call is answered here, by the same
//! pipeline and in the same result shape as `handler.rs`; every other message, and every
//! call that does not parse as exactly such a call, goes to rmcp as before.

use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

use super::live::Session;
use super::render::{WARNING, complete, log, tool_error, tool_result};
use super::state::State;
use crate::auth::Principal;
use crate::mapping::model::ConfirmRule;
use crate::pipeline::CallError;

/// A `tools/call` request this module can answer.
pub struct Call {
    id: Json,
    name: String,
    args: Map<String, Json>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Message {
    jsonrpc: String,
    id: Json,
    method: String,
    params: Params,
}

/// Unknown fields (a 2026 retry's `inputResponses`, a task request) send the call to rmcp.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    name: String,
    #[serde(default)]
    arguments: Option<Map<String, Json>>,
    #[serde(default, rename = "_meta")]
    meta: Option<Map<String, Json>>,
}

/// The call in `body`, when it is one JSON-RPC `tools/call` request with nothing in it that
/// needs the session: its `_meta` may carry a progress token (no progress is ever sent), and
/// nothing else.
pub fn parse(body: &[u8]) -> Option<Call> {
    parse_with(body, |meta| {
        meta.is_none_or(|m| m.keys().all(|k| k == PROGRESS))
    })
}

const PROGRESS: &str = "progressToken";
const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const META_CLIENT: &str = "io.modelcontextprotocol/clientInfo";
const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";

/// The call in `body`, when it is one stateless 2026-07-28 `tools/call` with nothing in it
/// that needs rmcp: its `_meta` names version 2026-07-28 and carries the client's capabilities
/// (what rmcp requires to route it statelessly), perhaps its info and a progress token, and
/// nothing else; no log opt-in (`io.modelcontextprotocol/logLevel`: a tool error is then also
/// a log notification, which only rmcp's answer stream carries).
pub fn parse_stateless(body: &[u8]) -> Option<Call> {
    parse_with(body, |meta| {
        meta.is_some_and(|m| {
            m.get(META_VERSION).and_then(Json::as_str) == Some(STATELESS_VERSION)
                && m.get(META_CAPABILITIES).is_some_and(Json::is_object)
                && m.get(META_CLIENT).is_none_or(Json::is_object)
                && m.keys().all(|k| {
                    [PROGRESS, META_VERSION, META_CLIENT, META_CAPABILITIES].contains(&k.as_str())
                })
        })
    })
}

/// The one version answered without a session.
pub const STATELESS_VERSION: &str = "2026-07-28";

fn parse_with(body: &[u8], meta_ok: impl Fn(Option<&Map<String, Json>>) -> bool) -> Option<Call> {
    let m: Message = serde_json::from_slice(body).ok()?;
    let id_ok = m.id.is_string() || m.id.is_i64() || m.id.is_u64();
    let ok =
        m.jsonrpc == "2.0" && m.method == "tools/call" && id_ok && meta_ok(m.params.meta.as_ref());
    ok.then(|| Call {
        id: m.id,
        name: m.params.name,
        args: m.params.arguments.unwrap_or_default(),
    })
}

impl Call {
    /// The called tool's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the answer needs nothing from rmcp: the tool never asks the user.
    pub fn answerable(&self, state: &State) -> bool {
        let tool = state.pipeline.catalog().tools.get(&self.name);
        tool.is_none_or(|t| !t.writes || t.confirm == ConfirmRule::Never)
    }

    /// Run a session's call and return the JSON-RPC answer, as rmcp would have written it. A
    /// tool error is also sent to the session as a log notification, as `handler.rs` does.
    pub async fn answer(self, state: &State, who: &Principal, session: &Session) -> Vec<u8> {
        self.answer_as(state, who, Some(session)).await
    }

    /// Run a stateless 2026-07-28 call: every result `resultType: "complete"`, and no log
    /// notification (the request did not opt in, `parse_stateless`).
    pub async fn answer_stateless(self, state: &State, who: &Principal) -> Vec<u8> {
        self.answer_as(state, who, None).await
    }

    async fn answer_as(self, state: &State, who: &Principal, session: Option<&Session>) -> Vec<u8> {
        let Call { id, name, args } = self;
        // 2025 session results carry no `resultType`; 2026 ones must.
        let shaped = |result: Json| {
            if session.is_some() {
                result
            } else {
                complete(result)
            }
        };
        let answer = match state.pipeline.call_tool(who, &name, args).await {
            Ok(out) => json!({"jsonrpc": "2.0", "id": id, "result": shaped(tool_result(out))}),
            Err(CallError::Caller(message)) => {
                if let Some(session) = session {
                    let data = json!({"tool": name, "error": message});
                    let wanted = session.log_level.load(std::sync::atomic::Ordering::Relaxed);
                    log(&session.peer, Some(wanted as usize), WARNING, data).await;
                }
                json!({"jsonrpc": "2.0", "id": id, "result": shaped(tool_error(&message))})
            }
            Err(CallError::Unroutable(message)) => {
                json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32602, "message": message}})
            }
            // Nobody is asked here (`answerable`), so no question can come back.
            Err(CallError::Confirm { .. }) => json!({"jsonrpc": "2.0", "id": id,
                "error": {"code": -32603, "message": "the call needs a confirmation this transport cannot ask for"}}),
        };
        serde_json::to_vec(&answer).expect("JSON values serialise")
    }
}
