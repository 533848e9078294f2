//! The wire shape of what the server says, below the rmcp handler and the directly answered
//! calls (`direct.rs`) that both say it: a tool's answer or error as a `CallToolResult`, the
//! `resultType` 2026-07-28 wants, log notifications, the `initialize` instructions, and the
//! lists rendered once per catalogue.
#![allow(deprecated)]

use rmcp::RoleServer;
use rmcp::model::{ErrorData, LoggingMessageNotificationParam};
use rmcp::service::Peer;
use serde::de::DeserializeOwned;
use serde_json::{Value as Json, json};

use crate::catalog::Catalog;
use crate::pipeline::ToolOutput;

/// The `_meta` key of a result that comes with a notice (an answer from an older version of
/// the data, and why).
pub const NOTICE_META: &str = "legacy-mcp/notice";

/// The lists, rendered once per catalogue; each entry with the roles allowed to see it.
pub(crate) struct Lists {
    pub(crate) tools: Vec<Listed>,
    pub(crate) resources: Vec<Listed>,
    pub(crate) templates: Vec<Listed>,
    pub(crate) prompts: Vec<Listed>,
}

/// One list entry and the `allow:` roles it is subject to (a resource: its own and its
/// tool's); a caller sees it when every one of them permits.
pub(crate) struct Listed {
    pub(crate) json: Json,
    pub(crate) allow: Vec<Option<Vec<String>>>,
}

pub(crate) const LEVELS: [&str; 8] = [
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];

/// Index of `warning` in `LEVELS`: tool errors are logged at this level.
pub(crate) const WARNING: usize = 3;

/// Send a log notification when the client asked for this level or lower; `wanted` is the
/// lowest level it asked for, `None` when it asked for none.
pub(crate) async fn log(peer: &Peer<RoleServer>, wanted: Option<usize>, level: usize, data: Json) {
    if wanted.is_none_or(|w| level < w) {
        return;
    }
    if let Ok(param) = from_json::<LoggingMessageNotificationParam>(
        json!({"level": LEVELS[level], "logger": "legacy-mcp", "data": data}),
    ) {
        let _ = peer.notify_logging_message(param).await;
    }
}

/// A tool's answer as the JSON of an MCP `CallToolResult`.
pub(crate) fn tool_result(out: ToolOutput) -> Json {
    let mut content = vec![json!({"type": "text", "text": out.text})];
    let mut result = json!({"structuredContent": out.structured, "isError": false});
    // Said twice on purpose: agents read the text, programs read `_meta`.
    if let Some(notice) = out.notice {
        content.push(json!({"type": "text", "text": format!("Notice: {notice}")}));
        result["_meta"] = json!({ NOTICE_META: notice });
    }
    result["content"] = json!(content);
    result
}

/// A tool error (the agent can act on it) as the JSON of an MCP `CallToolResult`.
pub(crate) fn tool_error(message: &str) -> Json {
    json!({"content": [{"type": "text", "text": message}], "isError": true})
}

/// What `initialize` tells the agent about this server, worded from the catalogue: a mapping
/// with SOAP writes is not read-only.
pub(crate) fn render_instructions(cat: &Catalog) -> String {
    let access = if cat.tools.values().any(|t| t.writes) {
        "Access to ERP data: tools annotated destructive change it, and may ask the user to confirm first."
    } else {
        "Read-only access to ERP data."
    };
    format!(
        "{access} Tools validate their arguments; results with `truncated: true` continue with `cursor` set to `next_cursor`. Decimals are exact strings, dates ISO 8601."
    )
}

pub(crate) fn render_lists(cat: &Catalog) -> Lists {
    let tools = cat
        .tools
        .values()
        .map(|t| {
            let mut tool = json!({
                "name": t.name,
                "description": t.description,
                "inputSchema": t.input_schema,
                "outputSchema": t.output_schema,
                "annotations": {
                    "readOnlyHint": t.annotations.read_only,
                    "destructiveHint": t.annotations.destructive,
                    "idempotentHint": t.annotations.idempotent,
                    "openWorldHint": t.annotations.open_world,
                },
            });
            if let Some(title) = &t.title {
                tool["title"] = json!(title);
                tool["annotations"]["title"] = json!(title);
            }
            Listed {
                json: tool,
                allow: vec![t.allow.clone()],
            }
        })
        .collect();
    let entry = |r: &crate::catalog::Resource, key: &str| {
        let mut v = json!({ key: r.uri, "name": r.name, "mimeType": r.mime_type });
        if let Some(t) = &r.title {
            v["title"] = json!(t);
        }
        if let Some(d) = &r.description {
            v["description"] = json!(d);
        }
        // Listed only to callers who may also call the tool that answers it.
        let tool_allow = cat.tools.get(&r.tool).and_then(|t| t.allow.clone());
        Listed {
            json: v,
            allow: vec![r.allow.clone(), tool_allow],
        }
    };
    let resources = cat
        .resources
        .iter()
        .filter(|r| r.template.is_none())
        .map(|r| entry(r, "uri"))
        .collect();
    let templates = cat
        .resources
        .iter()
        .filter(|r| r.template.is_some())
        .map(|r| entry(r, "uriTemplate"))
        .collect();
    let prompts = cat
        .prompts
        .values()
        .map(|p| {
            let args: Vec<Json> = p
                .arguments
                .iter()
                .map(|(n, d, req)| {
                    let mut a = json!({"name": n, "required": req});
                    if let Some(d) = d {
                        a["description"] = json!(d);
                    }
                    a
                })
                .collect();
            let mut v = json!({"name": p.name, "arguments": args});
            if let Some(t) = &p.title {
                v["title"] = json!(t);
            }
            if let Some(d) = &p.description {
                v["description"] = json!(d);
            }
            Listed {
                json: v,
                allow: vec![p.allow.clone()],
            }
        })
        .collect();
    Lists {
        tools,
        resources,
        templates,
        prompts,
    }
}

/// Mark a result `resultType: "complete"`, which 2026-07-28 requires on every result. rmcp
/// strips it again for sessions that negotiated an older version, which never had the field.
pub(crate) fn complete(mut result: Json) -> Json {
    result["resultType"] = json!("complete");
    result
}

pub(crate) fn from_json<T: DeserializeOwned>(v: Json) -> Result<T, ErrorData> {
    serde_json::from_value(v)
        .map_err(|e| ErrorData::internal_error(format!("building a response: {e}"), None))
}
