//! The real binary over streamable HTTP: every protocol version it supports (sessions for
//! 2025-06-18 and 2025-11-25, stateless 2026-07-28), DNS-rebinding protection, garbage bodies.

use crate::support;

use rmcp::model::{CallToolRequestParams, ProtocolVersion, ReadResourceRequestParams};
use serde_json::{Value, json};
use support::*;

fn call(name: &str, args: Value) -> CallToolRequestParams {
    serde_json::from_value(json!({"name": name, "arguments": args})).unwrap()
}

#[tokio::test]
async fn every_protocol_version_lists_and_calls_every_demo_tool() {
    let server = HttpServer::start(&demo(), &["--page-size", "3"]).await;
    for version in [
        ProtocolVersion::V_2025_06_18,
        ProtocolVersion::V_2025_11_25,
        ProtocolVersion::V_2026_07_28,
    ] {
        let client = server.client(version.clone()).await;
        let negotiated = client.peer_info().map(|i| i.protocol_version.clone());
        assert_eq!(negotiated, Some(version.clone()));
        if version.has_initialize() {
            let intro = instructions(&client);
            assert!(intro.starts_with("Read-only access"), "{intro}");
        }
        let tools = client.list_all_tools().await.unwrap();
        assert_eq!(tools.len(), 7, "{version:?}");
        for (golden_name, tool, a) in demo_calls() {
            let r = client.call_tool(call(tool, a)).await.unwrap();
            assert_eq!(r.is_error, Some(false), "{version:?} {tool}");
            golden(golden_name, &r.structured_content.unwrap());
        }
        let read: ReadResourceRequestParams =
            serde_json::from_value(json!({"uri": "erp://customers/C10042"})).unwrap();
        let res = serde_json::to_value(client.read_resource(read).await.unwrap()).unwrap();
        let body: Value =
            serde_json::from_str(res["contents"][0]["text"].as_str().unwrap()).unwrap();
        golden("resource_customer", &body);
        let bad = client
            .call_tool(call("get_customer", json!({"customer_no": 7})))
            .await
            .unwrap();
        assert_eq!(bad.is_error, Some(true));
        assert!(client.call_tool(call("nope", json!({}))).await.is_err());
        client.cancel().await.unwrap();
    }
}

fn post(server: &HttpServer) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(server.url())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
}

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;

#[tokio::test]
async fn foreign_host_and_origin_are_rejected() {
    let server = HttpServer::start(
        &demo(),
        &["--allowed-origin", "https://tools.example.test:443"],
    )
    .await;
    let host = post(&server)
        .header("host", "evil.example")
        .body(INIT)
        .send()
        .await
        .unwrap();
    assert_eq!(host.status(), 403);
    let origin = post(&server)
        .header("origin", "http://evil.example")
        .body(INIT)
        .send()
        .await
        .unwrap();
    assert_eq!(origin.status(), 403);
    let allowed = post(&server)
        .header("origin", "https://tools.example.test")
        .body(INIT)
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    let local = post(&server).body(INIT).send().await.unwrap();
    assert_eq!(local.status(), 200);
}

#[tokio::test]
async fn extra_allowed_host_is_accepted() {
    let server = HttpServer::start(&demo(), &["--allowed-host", "erp-gateway.corp.test"]).await;
    let r = post(&server)
        .header("host", "erp-gateway.corp.test")
        .body(INIT)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn garbage_and_oversized_bodies_get_json_rpc_errors_and_the_server_keeps_serving() {
    let server = HttpServer::start(&demo(), &["--max-request-bytes", "4096"]).await;
    let garbage = post(&server).body("{not json").send().await.unwrap();
    assert_eq!(garbage.status(), 400);
    let body: Value = garbage.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32700);
    assert_eq!(body["id"], Value::Null);
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"x":"{}"}}}}"#,
        "a".repeat(10_000)
    );
    let too_big = post(&server).body(big).send().await.unwrap();
    assert_eq!(too_big.status(), 413);
    let body: Value = too_big.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32600);
    let client = server.client(ProtocolVersion::V_2025_11_25).await;
    let r = client
        .call_tool(call("get_item", json!({"item_no": "SCH-01000"})))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(false));
    client.cancel().await.unwrap();
}

/// One POST's JSON-RPC answer, whether it came as one JSON body or as an SSE stream.
async fn answer_of(r: reqwest::Response) -> (String, Value) {
    let kind = r.headers()["content-type"].to_str().unwrap().to_string();
    let text = r.text().await.unwrap();
    let body = if kind.starts_with("application/json") {
        serde_json::from_str(&text).unwrap()
    } else {
        text.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
            .find(|v| v.get("id").is_some())
            .unwrap_or_else(|| panic!("no answer in the stream: {text}"))
    };
    (kind, body)
}

/// A session's plain tool call is answered directly (one JSON body, without rmcp's session
/// worker); a call with more in its `_meta` goes through rmcp (an SSE stream). Both give the
/// same answer, for a result, a tool error and an unknown tool; a closed session gets 404.
#[tokio::test]
async fn session_calls_answer_the_same_directly_and_through_rmcp() {
    let server = HttpServer::start(&demo(), &[]).await;
    let init = post(&server).body(INIT).send().await.unwrap();
    let session = init.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_string();
    let in_session = || post(&server).header("mcp-session-id", session.as_str());
    let done = in_session()
        .body(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 202);
    let cases = [
        json!({"name": "get_item", "arguments": {"item_no": "SCH-01000"}}),
        json!({"name": "get_customer", "arguments": {"customer_no": 7}}),
        json!({"name": "nope", "arguments": {}}),
    ];
    for (i, params) in cases.iter().enumerate() {
        let direct =
            json!({"jsonrpc": "2.0", "id": 10 + i, "method": "tools/call", "params": params});
        let (kind, direct) = answer_of(in_session().json(&direct).send().await.unwrap()).await;
        assert_eq!(kind, "application/json", "{params}");
        let mut via_rmcp = params.clone();
        via_rmcp["_meta"] = json!({"trace": "x"});
        let routed =
            json!({"jsonrpc": "2.0", "id": 10 + i, "method": "tools/call", "params": via_rmcp});
        let (kind, routed) = answer_of(in_session().json(&routed).send().await.unwrap()).await;
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        assert_eq!(direct, routed, "{params}");
    }
    let closed = reqwest::Client::new()
        .delete(server.url())
        .header("mcp-session-id", session.as_str())
        .send()
        .await
        .unwrap();
    assert!(closed.status().is_success(), "{}", closed.status());
    let after = in_session()
        .json(&json!({"jsonrpc": "2.0", "id": 99, "method": "tools/call", "params": cases[0]}))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 404);
}
