//! A third-party client: the official TypeScript SDK (pinned in tests/peers/ts/package-lock.json
//! with its own Node 22, installed by scripts/test), over stdio and streamable HTTP:
//! - `@modelcontextprotocol/client` pinned to 2026-07-28 (`server/discover`, stateless requests
//!   with the per-request `_meta` envelope, `subscriptions/listen`);
//! - the same client in its default, `initialize` at 2025-11-25 (`resources/subscribe`);
//! - `@modelcontextprotocol/sdk` 1.x, the package most hosts still ship (2025-11-25).
//!
//! Each lists and calls every demo tool (the SDK validates every `structuredContent` against the
//! tool's `outputSchema` and every result against its era's schema), reads, gets the prompt;
//! then, on a writable copy of the demo, receives a resource update after the export behind
//! `erp://items` is rewritten and a prompt list change after a mapping file is removed.

use crate::support;
use crate::support::peers;

use peers::*;
use serde_json::Value;
use support::*;

fn run_ts(args: &[&str]) -> Value {
    let missing = (
        "Cannot find package '@modelcontextprotocol/client'",
        "the TypeScript MCP SDK is missing: run scripts/test (it runs npm ci in tests/peers/ts)",
    );
    run_peer(
        &node(),
        &root().join("tests/peers/ts/ts_sdk_client.mjs"),
        args,
        missing,
    )
}

const UPDATED: &str = "notifications/resources/updated";
const PROMPTS: &str = "notifications/prompts/list_changed";

fn over_stdio(era: &str, protocol: &str) {
    let summary = walk_stdio(run_ts, era);
    check_summary(&summary, protocol);
    check_events(&summary, UPDATED, PROMPTS);
}

async fn over_http(era: &'static str, protocol: &str) {
    let summary = walk_http(run_ts, era).await;
    check_summary(&summary, protocol);
    check_events(&summary, UPDATED, PROMPTS);
}

#[test]
fn ts_client_2026_over_stdio() {
    over_stdio("2026", "2026-07-28");
}

#[test]
fn ts_client_2025_over_stdio() {
    over_stdio("2025", "2025-11-25");
}

#[tokio::test]
async fn ts_client_2026_over_http() {
    over_http("2026", "2026-07-28").await;
}

#[tokio::test]
async fn ts_client_2025_over_http() {
    over_http("2025", "2025-11-25").await;
}

#[test]
fn ts_sdk1_over_stdio() {
    over_stdio("sdk1", "2025-11-25");
}

#[tokio::test]
async fn ts_sdk1_over_http() {
    over_http("sdk1", "2025-11-25").await;
}
