//! A third-party client: the official Python MCP SDK (pinned in tests/peers/requirements.txt,
//! installed by scripts/test), both of its APIs, over stdio and streamable HTTP:
//! - `mcp.Client`, its default high-level client, which negotiates 2026-07-28 and validates
//!   every result against the 2026 schema (`resultType` included);
//! - `ClientSession`, which starts with `initialize` (2025-11-25).
//!
//! Each lists and calls every demo tool (the SDK validates every `structuredContent` against the
//! tool's `outputSchema`), reads, gets the prompt; then, on a writable copy of the demo, receives
//! a resource update after the export behind `erp://items` is rewritten and a list change after
//! a mapping file is removed (`subscriptions/listen` for 2026, `resources/subscribe` and the
//! session's notifications for 2025).

use crate::support;
use crate::support::peers;

use peers::*;
use serde_json::Value;
use support::*;

fn run_python(args: &[&str]) -> Value {
    let python = std::env::var("LEGACY_MCP_PYTHON").unwrap_or_else(|_| "python3".into());
    let missing = (
        "No module named 'mcp'",
        "the Python MCP SDK is missing: run scripts/test (it installs tests/peers/requirements.txt)",
    );
    run_peer(
        &python,
        &root().join("tests/peers/python_sdk_client.py"),
        args,
        missing,
    )
}

const UPDATED_2026: &str = "ResourceUpdated";
const PROMPTS_2026: &str = "PromptsListChanged";
const UPDATED_2025: &str = "notifications/resources/updated";
const PROMPTS_2025: &str = "notifications/prompts/list_changed";

#[test]
fn python_client_2026_over_stdio() {
    let summary = walk_stdio(run_python, "client");
    check_summary(&summary, "2026-07-28");
    check_events(&summary, UPDATED_2026, PROMPTS_2026);
}

#[test]
fn python_session_2025_over_stdio() {
    let summary = walk_stdio(run_python, "session");
    check_summary(&summary, "2025-11-25");
    check_events(&summary, UPDATED_2025, PROMPTS_2025);
}

async fn over_http(api: &'static str, protocol: &str, updated: &str, prompts: &str) {
    let summary = walk_http(run_python, api).await;
    check_summary(&summary, protocol);
    check_events(&summary, updated, prompts);
}

#[tokio::test]
async fn python_client_2026_over_http() {
    over_http("client", "2026-07-28", UPDATED_2026, PROMPTS_2026).await;
}

#[tokio::test]
async fn python_session_2025_over_http() {
    over_http("session", "2025-11-25", UPDATED_2025, PROMPTS_2025).await;
}
