//! Raw bytes on stdio (what no well-behaved client sends): garbage and oversized lines get a
//! JSON-RPC error with `id: null`, and the server keeps answering. Plain tool calls, which the
//! guard answers itself, answer exactly as rmcp does.

use crate::support;

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use support::*;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

type Lines = tokio::io::Lines<BufReader<tokio::process::ChildStdout>>;

/// `serve` on the demo with raw pipes: the child, its stdin and its stdout's lines.
fn serve(extra: &[&str]) -> (tokio::process::Child, tokio::process::ChildStdin, Lines) {
    let mut child = Command::new(bin())
        .arg("serve")
        .args(extra)
        .arg("--mappings")
        .arg(demo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, stdin, lines)
}

#[tokio::test]
async fn garbage_and_oversized_lines_get_errors_and_serving_goes_on() {
    let (mut child, mut stdin, mut lines) = serve(&["--max-request-bytes", "2048"]);
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;
    let mut input = String::new();
    input.push_str(init);
    input.push('\n');
    input.push_str("this is not json\n");
    input.push_str(&format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\",\"params\":{{\"pad\":\"{}\"}}}}\n",
        "x".repeat(5000)
    ));
    input.push_str("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n");
    input.push_str("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n");
    stdin.write_all(input.as_bytes()).await.unwrap();
    stdin.flush().await.unwrap();

    let mut seen = Vec::new();
    while seen.len() < 4 {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push(serde_json::from_str::<Value>(&line).unwrap());
    }
    let errors: Vec<i64> = seen
        .iter()
        .filter(|m| m["id"].is_null())
        .map(|m| m["error"]["code"].as_i64().unwrap())
        .collect();
    assert_eq!(errors.len(), 2, "{seen:?}");
    assert!(
        errors.contains(&-32700) && errors.contains(&-32600),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|m| m["id"] == 1 && m["result"]["protocolVersion"] == "2025-06-18")
    );
    assert!(seen.iter().any(|m| m["id"] == 2 && m["result"].is_object()));
    assert!(
        !seen.iter().any(|m| m["id"] == 9),
        "the oversized request must not be served"
    );
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "closing stdin ends the server cleanly");
}

/// A plain `tools/call` is answered by the stdio guard (`mcp/direct.rs`); one whose `_meta`
/// carries more goes through rmcp. Both answer alike: a result, a tool error, an unknown tool.
#[tokio::test]
async fn plain_tool_calls_answer_as_rmcp_does() {
    let (_child, mut stdin, mut lines) = serve(&[]);
    let mut input = String::from(
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#,
    );
    input.push_str("\n{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n");
    let cases = [
        serde_json::json!({"name": "get_item", "arguments": {"item_no": "SCH-01000"}}),
        serde_json::json!({"name": "get_customer", "arguments": {"customer_no": 7}}),
        serde_json::json!({"name": "nope"}),
    ];
    for (i, params) in cases.iter().enumerate() {
        let mut routed = params.clone();
        routed["_meta"] = serde_json::json!({"trace": "x"});
        for (id, p) in [(10 + i, params.clone()), (20 + i, routed)] {
            let call = serde_json::json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": p});
            input.push_str(&format!("{call}\n"));
        }
    }
    stdin.write_all(input.as_bytes()).await.unwrap();
    stdin.flush().await.unwrap();
    let mut answers = std::collections::HashMap::new();
    let mut logged = 0;
    while answers.len() < 1 + 2 * cases.len() || logged < 2 {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let m: Value = serde_json::from_str(&line).unwrap();
        // Tool errors also come as log notifications (no id); both paths send one.
        if let Some(id) = m["id"].as_u64() {
            answers.insert(id, m);
        } else {
            assert_eq!(m["method"], "notifications/message", "{m}");
            assert_eq!(m["params"]["data"]["tool"], "get_customer", "{m}");
            logged += 1;
        }
    }
    for i in 0..cases.len() as u64 {
        let (mut direct, mut routed) = (answers[&(10 + i)].clone(), answers[&(20 + i)].clone());
        direct["id"] = Value::Null;
        routed["id"] = Value::Null;
        assert_eq!(direct, routed, "{}", cases[i as usize]);
    }
    assert_eq!(answers[&10]["result"]["isError"], false);
    assert_eq!(answers[&11]["result"]["isError"], true);
    assert_eq!(answers[&12]["error"]["code"], -32602);
}
