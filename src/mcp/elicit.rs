//! Asking the MCP client's user to confirm a write (elicitation, form mode): in the session
//! for clients that started with `initialize`, or in the answer for stateless 2026-07-28
//! clients, which retry the call with the user's answer and the echoed request state.

use std::time::Duration;

use futures_util::future::BoxFuture;
use rmcp::RoleServer;
use rmcp::model::{
    CallToolRequestParams, ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema,
    ErrorData, InputRequiredResult, InputResponses,
};
use rmcp::service::{Peer, RequestContext};
use serde_json::json;

use crate::confirm::{Answer, Asker, Question};

/// The key of the confirmation among a call's input requests and responses.
pub const INPUT_KEY: &str = "confirm";

/// How long a session waits for the user before the write is given up (nothing sent).
const WAIT: Duration = Duration::from_secs(600);

pub struct ClientAsker {
    peer: Peer<RoleServer>,
    can_ask: bool,
    /// Ask in the answer (no server-to-client requests in 2026-07-28).
    in_answer: bool,
    responses: Option<InputResponses>,
    state: Option<String>,
}

impl ClientAsker {
    pub fn new(ctx: &RequestContext<RoleServer>, request: &CallToolRequestParams) -> Self {
        // An `elicitation` capability naming neither mode means form (2025-06-18).
        let can_ask = ctx
            .client_capabilities()
            .and_then(|c| c.elicitation)
            .is_some_and(|e| e.form.is_some() || e.url.is_none());
        ClientAsker {
            peer: ctx.peer.clone(),
            can_ask,
            in_answer: ctx.protocol_version().is_some_and(|v| !v.has_initialize()),
            responses: request.input_responses.clone(),
            state: request.request_state.clone(),
        }
    }

    /// The user's answer carried by a stateless client's retry, if it is for this call.
    fn carried(&self, q: &Question) -> Option<Answer> {
        if self.state.as_deref() != Some(q.state.as_str()) {
            return None;
        }
        let raw = self.responses.as_ref()?.get(INPUT_KEY)?;
        Some(match serde_json::from_value::<ElicitResult>(raw.clone()) {
            Ok(r) => answer(r.action),
            Err(_) => Answer::No("the client's answer to the confirmation was malformed".into()),
        })
    }
}

impl Asker for ClientAsker {
    fn ask<'a>(&'a self, q: &'a Question) -> BoxFuture<'a, Answer> {
        Box::pin(async move {
            if !self.can_ask {
                return Answer::CannotAsk("the client does not support MCP elicitation");
            }
            if self.in_answer {
                return self.carried(q).unwrap_or(Answer::AskInAnswer);
            }
            let params = ElicitRequestParams::FormElicitationParams {
                meta: None,
                message: q.text.clone(),
                requested_schema: ElicitationSchema::new(Default::default()),
            };
            match tokio::time::timeout(WAIT, self.peer.create_elicitation(params)).await {
                Ok(Ok(r)) => answer(r.action),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "asking the user to confirm a write failed");
                    Answer::No(format!("asking the user to confirm failed ({e})"))
                }
                Err(_) => Answer::No(format!(
                    "the user did not confirm within {} minutes",
                    WAIT.as_secs() / 60
                )),
            }
        })
    }
}

fn answer(action: ElicitationAction) -> Answer {
    match action {
        ElicitationAction::Accept => Answer::Yes,
        ElicitationAction::Decline => Answer::No("the user declined this change".into()),
        ElicitationAction::Cancel => Answer::No("the user dismissed the confirmation".into()),
        // A future action is not a yes.
        _ => Answer::No("the client answered the confirmation with an unknown action".into()),
    }
}

/// The answer that asks a stateless client to confirm with its user and call again.
pub fn input_required(question: &str, state: &str) -> Result<InputRequiredResult, ErrorData> {
    let request = json!({
        "method": "elicitation/create",
        "params": {
            "mode": "form",
            "message": question,
            "requestedSchema": {"type": "object", "properties": {}}
        }
    });
    serde_json::from_value(json!({
        "resultType": "input_required",
        "inputRequests": { INPUT_KEY: request },
        "requestState": state
    }))
    .map_err(|e| ErrorData::internal_error(format!("building the confirmation request: {e}"), None))
}
