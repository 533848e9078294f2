//! Confirming writes: before a tool that changes ERP data sends anything, the person behind
//! the call is asked, as the tool's `confirm` rule says. The question travels by MCP
//! elicitation (`mcp/handler.rs` asks in a session, or in the answer for stateless clients) or
//! by the terminal (`legacy-mcp call`); this module holds the rule and the words.

use futures_util::future::BoxFuture;
use indexmap::IndexMap;
use sha1::{Digest, Sha1};

use crate::audit::Outcome;
use crate::catalog::Tool;
use crate::mapping::model::ConfirmRule;
use crate::outcome::CallError;
use crate::value::Value;

/// What the user is asked, and a token that ties their answer to this very call.
pub struct Question {
    pub text: String,
    /// Derived from the tool and its bound arguments: an answer given for other arguments
    /// (a stateless client's retry that changed them) does not count.
    pub state: String,
}

pub enum Answer {
    Yes,
    /// Not confirmed: the user said no or dismissed the question, or asking failed. The text
    /// says which ("the user declined this change").
    No(String),
    /// This client cannot be asked; the text says why ("it does not support MCP elicitation").
    CannotAsk(&'static str),
    /// Ask in the call's answer; the client retries with the user's answer (MCP 2026-07-28).
    AskInAnswer,
}

/// Asks the person behind a call.
pub trait Asker: Send + Sync {
    fn ask<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Answer>;
}

/// For callers with nobody to ask (resources, library use).
pub struct NoAsker;

impl Asker for NoAsker {
    fn ask<'a>(&'a self, _: &'a Question) -> BoxFuture<'a, Answer> {
        Box::pin(async { Answer::CannotAsk("nobody can be asked on this path") })
    }
}

/// The longest argument value quoted in a question.
const MAX_QUOTED: usize = 120;

pub fn question(tool: &Tool, bound: &IndexMap<String, Value>) -> Question {
    let args: Vec<String> = bound
        .iter()
        .map(|(k, v)| {
            let mut text = v.to_json().to_string();
            if text.chars().count() > MAX_QUOTED {
                text = text.chars().take(MAX_QUOTED).collect::<String>() + "…";
            }
            format!("{k} = {text}")
        })
        .collect();
    let what = tool.title.as_deref().unwrap_or(&tool.name);
    let text = format!(
        "{what} changes data in the ERP (source `{}`). Send it with {}?",
        tool.source,
        if args.is_empty() {
            "no arguments".into()
        } else {
            args.join(", ")
        }
    );
    let mut h = Sha1::new();
    h.update(tool.name.as_bytes());
    for (k, v) in bound {
        h.update([0]);
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.to_json().to_string().as_bytes());
    }
    let state = format!("confirm-{}", hex(&h.finalize()));
    Question { text, state }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether the call may go on to its backend. A refusal says what happened and that nothing
/// was sent, so an agent neither retries blindly nor reports a change that did not happen.
pub async fn decide(
    tool: &Tool,
    bound: &IndexMap<String, Value>,
    asker: &dyn Asker,
) -> Result<(), (Outcome, CallError)> {
    if !tool.writes || tool.confirm == ConfirmRule::Never {
        return Ok(());
    }
    let q = question(tool, bound);
    match asker.ask(&q).await {
        Answer::Yes => Ok(()),
        Answer::No(why) => Err((
            Outcome::Declined,
            CallError::Caller(format!(
                "{why}; nothing was sent to the ERP. Do not retry unless the user asks for it"
            )),
        )),
        Answer::CannotAsk(why) if tool.confirm == ConfirmRule::Require => Err((
            Outcome::Declined,
            CallError::Caller(format!(
                "`{}` changes ERP data and needs the user's confirmation, but it cannot be asked ({why}); nothing was sent to the ERP",
                tool.name
            )),
        )),
        Answer::CannotAsk(_) => Ok(()),
        Answer::AskInAnswer => Err((
            Outcome::Confirming,
            CallError::Confirm {
                question: q.text,
                state: q.state,
            },
        )),
    }
}
