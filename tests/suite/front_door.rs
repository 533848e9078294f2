//! The front door on `/mcp`, attacked on every path that answers there: the direct tool-call
//! path of a session, rmcp's session path, the stateless 2026-07-28 path, GET and DELETE.
//! Each guarantee is pinned by the request that would break it: a foreign Host or Origin
//! (403), an unsupported protocol-version header (400), a batch (refused per request, with
//! each id), a session's end (200, then 404), a 2026 request without log opt-in (no log
//! notification), and the same over stdio where it applies.

use crate::support;

use std::time::Duration;

use serde_json::{Value, json};
use support::*;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;

fn post(server: &HttpServer) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(server.url())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
}

/// An initialised 2025-11-25 session's id.
async fn session(server: &HttpServer) -> String {
    support::open_session(&server.url()).await
}

/// A plain tool call: exactly what the direct path answers.
fn plain_call(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": "get_item", "arguments": {"item_no": "SCH-01000"}}})
}

/// A stateless 2026-07-28 request with the per-request metadata it must carry.
fn stateless(id: u64, method: &str, mut params: Value, extra_meta: Value) -> Value {
    let mut meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    if let Value::Object(extra) = extra_meta {
        meta.as_object_mut().unwrap().extend(extra);
    }
    params["_meta"] = meta;
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

fn stateless_post(
    server: &HttpServer,
    method: &str,
    name: Option<&str>,
) -> reqwest::RequestBuilder {
    let mut r = post(server)
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method);
    if let Some(n) = name {
        r = r.header("mcp-name", n);
    }
    r
}

async fn body(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

#[tokio::test]
async fn no_path_on_mcp_answers_a_foreign_host_or_origin() {
    let server = HttpServer::start(&demo(), &[]).await;
    let id = session(&server).await;
    let in_session = || {
        post(&server)
            .header("mcp-session-id", &id)
            .header("mcp-protocol-version", "2025-11-25")
    };
    // The direct path answers this call when the headers are fine.
    let fine = in_session().json(&plain_call(2)).send().await.unwrap();
    assert_eq!(fine.status(), 200);
    assert_eq!(body(fine).await["result"]["isError"], false);
    let list = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"});
    let get_customer = stateless(
        4,
        "tools/call",
        json!({"name": "get_customer", "arguments": {"customer_no": "C10042"}}),
        json!({}),
    );
    for (header, value) in [("host", "evil.example"), ("origin", "http://evil.example")] {
        for msg in [&plain_call(2), &list] {
            let r = in_session()
                .header(header, value)
                .json(msg)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "{header}: {value} on {msg}");
            let b = body(r).await;
            assert_eq!(b["error"]["code"], -32600, "{b}");
            assert!(b.get("result").is_none(), "{b}");
        }
        let r = stateless_post(&server, "tools/call", Some("get_customer"))
            .header(header, value)
            .json(&get_customer)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "stateless with {header}: {value}");
        let get = reqwest::Client::new()
            .get(server.url())
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &id)
            .header(header, value)
            .send()
            .await
            .unwrap();
        assert_eq!(get.status(), 403, "GET with {header}: {value}");
        let delete = reqwest::Client::new()
            .delete(server.url())
            .header("mcp-session-id", &id)
            .header(header, value)
            .send()
            .await
            .unwrap();
        assert_eq!(delete.status(), 403, "DELETE with {header}: {value}");
    }
    // The session survived the refused DELETEs.
    let still = in_session().json(&plain_call(5)).send().await.unwrap();
    assert_eq!(still.status(), 200);
}

#[tokio::test]
async fn an_unsupported_protocol_version_header_gets_400_on_every_path() {
    let server = HttpServer::start(&demo(), &[]).await;
    let id = session(&server).await;
    for version in ["2025-03-26", "2024-11-05", "1999-01-01", "garbage"] {
        let direct = post(&server)
            .header("mcp-session-id", &id)
            .header("mcp-protocol-version", version)
            .json(&plain_call(2))
            .send()
            .await
            .unwrap();
        assert_eq!(direct.status(), 400, "{version}");
        let b = body(direct).await;
        assert_eq!(b["error"]["code"], -32022, "{b}");
        assert_eq!(
            b["error"]["data"]["supported"],
            json!(["2025-06-18", "2025-11-25", "2026-07-28"])
        );
        let init = post(&server)
            .header("mcp-protocol-version", version)
            .body(INIT)
            .send()
            .await
            .unwrap();
        assert_eq!(init.status(), 400, "initialize with {version}");
    }
    for version in ["2025-06-18", "2025-11-25"] {
        let ok = post(&server)
            .header("mcp-session-id", &id)
            .header("mcp-protocol-version", version)
            .json(&plain_call(3))
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200, "{version}");
    }
}

#[tokio::test]
async fn batches_are_refused_per_request_with_their_ids() {
    let server = HttpServer::start(&demo(), &[]).await;
    let id = session(&server).await;
    let batch = json!([
        plain_call(7),
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": "list", "method": "tools/list"},
    ]);
    let r = post(&server)
        .header("mcp-session-id", &id)
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/json");
    let answers = body(r).await;
    let answers = answers.as_array().expect("one answer per request");
    let ids: Vec<&Value> = answers.iter().map(|a| &a["id"]).collect();
    assert_eq!(ids, [&json!(7), &json!("list")]);
    for a in answers {
        assert_eq!(a["error"]["code"], -32600);
        assert!(a["error"]["message"].as_str().unwrap().contains("batches"));
    }
    let empty = post(&server).body("[]").send().await.unwrap();
    assert_eq!(empty.status(), 400);
    assert_eq!(body(empty).await["id"], Value::Null);
}

#[tokio::test]
async fn a_session_ends_with_200_and_then_is_gone() {
    let server = HttpServer::start(&demo(), &[]).await;
    let id = session(&server).await;
    let delete = || {
        reqwest::Client::new()
            .delete(server.url())
            .header("mcp-session-id", &id)
            .header("mcp-protocol-version", "2025-11-25")
    };
    assert_eq!(delete().send().await.unwrap().status(), 200);
    let again = delete().send().await.unwrap();
    assert_eq!(again.status(), 404);
    assert_eq!(body(again).await["error"]["code"], -32600);
    let unknown = reqwest::Client::new()
        .delete(server.url())
        .header("mcp-session-id", "no-such-session")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let after = post(&server)
        .header("mcp-session-id", &id)
        .json(&plain_call(2))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 404);
}

/// The messages of one POST's answer, whether one JSON body or an SSE stream.
async fn messages(r: reqwest::Response) -> Vec<Value> {
    let text = r.text().await.unwrap();
    if let Ok(v) = serde_json::from_str::<Value>(&text) {
        return vec![v];
    }
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str(d.trim()).ok())
        .collect()
}

#[tokio::test]
async fn a_2026_request_gets_log_notifications_only_when_it_opts_in_at_its_level() {
    let server = HttpServer::start(&demo(), &[]).await;
    let bad = json!({"name": "get_customer", "arguments": {"customer_no": "nope"}});
    let call = |meta: Value| {
        let msg = stateless(9, "tools/call", bad.clone(), meta);
        stateless_post(&server, "tools/call", Some("get_customer")).json(&msg)
    };
    let logs = |msgs: &[Value]| {
        msgs.iter()
            .filter(|m| m["method"] == "notifications/message")
            .count()
    };
    for meta in [
        json!({}),
        json!({"io.modelcontextprotocol/logLevel": "error"}),
    ] {
        let msgs = messages(call(meta.clone()).send().await.unwrap()).await;
        assert_eq!(logs(&msgs), 0, "{meta}: {msgs:?}");
        let answer = msgs.iter().find(|m| m["id"] == 9).expect("an answer");
        assert_eq!(answer["result"]["isError"], true);
        assert_eq!(answer["result"]["resultType"], "complete");
    }
    let opted = json!({"io.modelcontextprotocol/logLevel": "info"});
    let msgs = messages(call(opted).send().await.unwrap()).await;
    assert_eq!(logs(&msgs), 1, "{msgs:?}");
    let log = msgs
        .iter()
        .find(|m| m["method"] == "notifications/message")
        .unwrap();
    assert_eq!(log["params"]["level"], "warning");
}

#[tokio::test]
async fn every_2026_result_says_complete_and_2025_results_do_not() {
    let server = HttpServer::start(&demo(), &[]).await;
    let requests = [
        ("tools/list", None, json!({})),
        ("resources/list", None, json!({})),
        ("resources/templates/list", None, json!({})),
        ("prompts/list", None, json!({})),
        (
            "tools/call",
            Some("get_item"),
            json!({"name": "get_item", "arguments": {"item_no": "SCH-01000"}}),
        ),
        (
            "resources/read",
            Some("erp://items/SCH-01000"),
            json!({"uri": "erp://items/SCH-01000"}),
        ),
        (
            "prompts/get",
            Some("account_summary"),
            json!({"name": "account_summary", "arguments": {"customer_no": "C10042"}}),
        ),
    ];
    let id = session(&server).await;
    for (i, (method, name, params)) in requests.iter().enumerate() {
        let msg = stateless(i as u64, method, params.clone(), json!({}));
        let r = stateless_post(&server, method, *name)
            .json(&msg)
            .send()
            .await
            .unwrap();
        let msgs = messages(r).await;
        let answer = msgs.iter().find(|m| m.get("id").is_some()).unwrap();
        assert_eq!(
            answer["result"]["resultType"], "complete",
            "{method}: {answer}"
        );
        let legacy = json!({"jsonrpc": "2.0", "id": 100 + i, "method": method, "params": params});
        let r = post(&server)
            .header("mcp-session-id", &id)
            .header("mcp-protocol-version", "2025-11-25")
            .json(&legacy)
            .send()
            .await
            .unwrap();
        let msgs = messages(r).await;
        let answer = msgs.iter().find(|m| m.get("id").is_some()).unwrap();
        assert!(answer["result"].is_object(), "{method}: {answer}");
        assert!(
            answer["result"].get("resultType").is_none(),
            "{method}: {answer}"
        );
    }
}

#[tokio::test]
async fn stdio_answers_a_batch_per_request_with_their_ids() {
    let mut child = tokio::process::Command::new(bin())
        .args(["serve", "--mappings"])
        .arg(demo())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let batch = json!([plain_call(7), {"jsonrpc": "2.0", "id": 8, "method": "ping"}]);
    stdin
        .write_all(format!("{batch}\n").as_bytes())
        .await
        .unwrap();
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let answer: Value = serde_json::from_str(&line).unwrap();
    let ids: Vec<&Value> = answer
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["id"])
        .collect();
    assert_eq!(ids, [&json!(7), &json!(8)]);
    // The server keeps serving.
    stdin
        .write_all(format!("{INIT}\n").as_bytes())
        .await
        .unwrap();
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let init: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(init["id"], 1);
    assert!(
        init["result"]["capabilities"]["resources"]["subscribe"] == true,
        "{init}"
    );
}

/// A plain stateless 2026-07-28 `tools/call` is answered by the direct path (no rmcp service
/// per request); its answers must be rmcp's, byte for byte in JSON: a result, a tool error, an
/// unknown tool. The same request with an extra `Mcp-Param-*` header goes to rmcp (the direct
/// path leaves those to it), which gives the answer to compare with. A request that opts in to
/// logs goes to rmcp too, and gets its log notification (tested above).
#[tokio::test]
async fn stateless_calls_answered_directly_agree_with_rmcp() {
    let server = HttpServer::start(&demo(), &[]).await;
    let calls = [
        json!({"name": "get_item", "arguments": {"item_no": "SCH-01000"}}),
        json!({"name": "get_customer", "arguments": {"customer_no": "nope"}}),
        json!({"name": "no_such_tool", "arguments": {}}),
        json!({"name": "find_customers", "arguments": {"name_prefix": "Müller B", "country": "DE"}}),
    ];
    for (i, params) in calls.iter().enumerate() {
        let name = params["name"].as_str().unwrap();
        let msg = stateless(i as u64, "tools/call", params.clone(), json!({}));
        let direct = stateless_post(&server, "tools/call", Some(name))
            .json(&msg)
            .send()
            .await
            .unwrap();
        let direct_status = direct.status();
        let direct_type = direct.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        let direct = messages(direct).await;
        let via_rmcp = stateless_post(&server, "tools/call", Some(name))
            .header("mcp-param-unused", "x")
            .json(&msg)
            .send()
            .await
            .unwrap();
        assert_eq!(direct_status, via_rmcp.status(), "{name}");
        let via_rmcp = messages(via_rmcp).await;
        assert_eq!(direct, via_rmcp, "{name}");
        assert_eq!(direct.len(), 1, "{name}: one answer, no notification");
        assert!(direct_type.starts_with("application/json"), "{name}");
    }
    // The header must name the called tool; a mismatch is rmcp's to refuse.
    let msg = stateless(9, "tools/call", calls[0].clone(), json!({}));
    let wrong = stateless_post(&server, "tools/call", Some("get_customer"))
        .json(&msg)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
}

/// A client that drips its request (headers, or a body a byte at a time) holds a connection
/// only for a bounded time: the body gets 408 after `BODY_TIMEOUT` (10 s), headers that never
/// finish get the connection closed after 10 s. Meanwhile the server answers everyone else.
#[tokio::test]
async fn slow_clients_are_cut_off_and_others_are_served() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = HttpServer::start(&demo(), &[]).await;
    let started = std::time::Instant::now();
    // A body promised at 200 bytes that sends 10.
    let mut body_dripper = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: {}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ncontent-length: 200\r\n\r\n{{\"jsonrpc\"",
        server.addr
    );
    body_dripper.write_all(head.as_bytes()).await.unwrap();
    // Headers that never end.
    let mut header_dripper = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
    header_dripper
        .write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nx-slow: ")
        .await
        .unwrap();
    // Others are served meanwhile.
    let id = session(&server).await;
    let fine = post(&server)
        .header("mcp-session-id", &id)
        .header("mcp-protocol-version", "2025-11-25")
        .json(&plain_call(2))
        .send()
        .await
        .unwrap();
    assert_eq!(fine.status(), 200);
    let mut answer = String::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        body_dripper.read_to_string(&mut answer),
    )
    .await;
    assert!(read.is_ok(), "the body dripper was not cut off");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        header_dripper.read_to_end(&mut rest),
    )
    .await;
    assert!(closed.is_ok(), "the header dripper was not cut off");
    assert!(started.elapsed() < std::time::Duration::from_secs(25));
}
