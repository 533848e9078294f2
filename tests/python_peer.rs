//! A third-party client: the official Python MCP SDK (pinned in tests/peers/requirements.txt,
//! installed by scripts/test) lists and calls every demo tool over stdio and streamable HTTP.
//! The SDK validates every `structuredContent` against the tool's `outputSchema`.

mod support;

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
    assert!(out.status.success(), "python peer failed:\n{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    serde_json::from_str(stdout.lines().last().unwrap()).unwrap()
}

fn check_summary(summary: &Value) {
    assert_eq!(summary["tools"], 7);
    assert_eq!(summary["resources"], 1);
    assert_eq!(summary["templates"], 3);
    assert_eq!(summary["prompt_messages"], 4);
    assert_eq!(summary["rows"]["list_items"], 2000);
}

#[test]
fn python_sdk_over_stdio() {
    let demo = demo();
    let summary = run_peer(&["stdio", bin(), demo.to_str().unwrap()]);
    check_summary(&summary);
}

#[tokio::test]
async fn python_sdk_over_http() {
    let server = HttpServer::start(&demo(), &[]).await;
    let url = server.url();
    let summary = tokio::task::spawn_blocking(move || run_peer(&["http", &url]))
        .await
        .unwrap();
    check_summary(&summary);
}
