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

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::*;

fn python() -> String {
    std::env::var("LEGACY_MCP_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn run_peer(args: &[&str]) -> Value {
    let out = Command::new(python())
        .arg(root().join("tests/peers/python_sdk_client.py"))
        .args(args)
        .output()
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("No module named 'mcp'"),
        "the Python MCP SDK is missing: run scripts/test (it installs tests/peers/requirements.txt)"
    );
    assert!(
        out.status.success(),
        "python peer {args:?} failed:\n{stderr}"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    serde_json::from_str(stdout.lines().last().unwrap()).unwrap()
}

fn check_summary(summary: &Value, protocol: &str) {
    assert_eq!(summary["protocol"], protocol);
    assert_eq!(summary["tools"], 7);
    assert_eq!(summary["resources"], 1);
    assert_eq!(summary["templates"], 3);
    assert_eq!(summary["prompt_messages"], 4);
    assert_eq!(summary["rows"]["list_items"], 2000);
}

/// The events a live walk must have seen: the export's update and the prompt list's change.
fn check_events(summary: &Value, updated: &str, prompts_changed: &str) {
    let events: Vec<&str> = summary["events"]
        .as_array()
        .expect("the walk watched")
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(events.contains(&updated), "{events:?}");
    assert!(events.contains(&prompts_changed), "{events:?}");
}

/// A writable copy of the demo mappings and of the exports they read.
struct LiveDemo {
    _dir: tempfile::TempDir,
    mappings: String,
    exports: String,
}

fn live_demo() -> LiveDemo {
    let dir = tempfile::tempdir().unwrap();
    let (mappings, exports) = (dir.path().join("mappings"), dir.path().join("exports"));
    std::fs::create_dir_all(&mappings).unwrap();
    std::fs::create_dir_all(&exports).unwrap();
    for entry in std::fs::read_dir(root().join("fixtures/demo-erp")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, exports.join(path.file_name().unwrap())).unwrap();
    }
    for entry in std::fs::read_dir(demo()).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replace("../../fixtures/demo-erp", exports.to_str().unwrap());
        std::fs::write(mappings.join(path.file_name().unwrap()), text).unwrap();
    }
    LiveDemo {
        mappings: mappings.to_str().unwrap().to_string(),
        exports: exports.to_str().unwrap().to_string(),
        _dir: dir,
    }
}

const UPDATED_2026: &str = "ResourceUpdated";
const PROMPTS_2026: &str = "PromptsListChanged";
const UPDATED_2025: &str = "notifications/resources/updated";
const PROMPTS_2025: &str = "notifications/prompts/list_changed";

#[test]
fn python_client_2026_over_stdio() {
    let live = live_demo();
    let summary = run_peer(&["client", "stdio", bin(), &live.mappings, &live.exports]);
    check_summary(&summary, "2026-07-28");
    check_events(&summary, UPDATED_2026, PROMPTS_2026);
}

#[test]
fn python_session_2025_over_stdio() {
    let live = live_demo();
    let summary = run_peer(&["session", "stdio", bin(), &live.mappings, &live.exports]);
    check_summary(&summary, "2025-11-25");
    check_events(&summary, UPDATED_2025, PROMPTS_2025);
}

async fn over_http(api: &'static str, protocol: &str, updated: &str, prompts: &str) {
    let live = live_demo();
    let server = HttpServer::start(Path::new(&live.mappings), &[]).await;
    let url = server.url();
    let (m, e) = (live.mappings.clone(), live.exports.clone());
    let summary = tokio::task::spawn_blocking(move || run_peer(&[api, "http", &url, &m, &e]))
        .await
        .unwrap();
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
