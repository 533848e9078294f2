//! Three replicas of the real binary behind a real HAProxy, sharing a real Redis (started here
//! on its own port, so the test can kill it), in front of a SOAP backend that counts what
//! reaches it (300 ms per answer):
//! - a caller's rate budget holds across replicas (round robin would give it three budgets);
//! - a miss answered by one replica is a hit on the others;
//! - identical concurrent misses spread over the replicas make one backend call;
//! - 2025 sessions stay on their replica (a stick table on Mcp-Session-Id);
//! - one replica killed under load: no stateless call fails (HAProxy retries elsewhere), the
//!   session that lived there answers 404 and initialises again, the others do not notice;
//! - Redis killed under load: calls keep succeeding, `/readyz` says degraded; Redis back:
//!   shared again.
//!
//! Prerequisites (scripts/test installs them): `redis-server` and `haproxy`. Without them the
//! test fails and names the missing one; it never passes silently.

use crate::support;
use crate::support::soap;

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::process::{Child, Command};

fn spawn(program: &str, args: &[String]) -> Child {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| {
            panic!("`{program}` is needed for the cluster test (scripts/test installs it): {e}")
        })
}

async fn wait_port(port: u16) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing listens on 127.0.0.1:{port}");
}

/// Our own Redis: no persistence, gone with the test.
async fn redis(port: u16) -> Child {
    let child = spawn(
        "redis-server",
        &[
            "--port".into(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--save".into(),
            String::new(),
            "--appendonly".into(),
            "no".into(),
        ],
    );
    wait_port(port).await;
    child
}

fn haproxy_config(port: u16, replicas: &[String]) -> String {
    let servers: String = replicas
        .iter()
        .enumerate()
        .map(|(i, addr)| format!("  server r{i} {addr} check inter 200ms fall 1 rise 2\n"))
        .collect();
    format!(
        "global\n  maxconn 512\ndefaults\n  mode http\n  timeout connect 1s\n  timeout client 30s\n  timeout server 30s\n  retries 3\n  option redispatch 1\n  retry-on conn-failure empty-response response-timeout\n  option http-buffer-request\nfrontend mcp\n  bind 127.0.0.1:{port}\n  default_backend replicas\nbackend replicas\n  balance roundrobin\n  option httpchk GET /healthz\n  stick-table type string len 64 size 10k expire 30m\n  stick match req.hdr(mcp-session-id)\n  stick store-response res.hdr(mcp-session-id)\n{servers}"
    )
}

fn mapping(base: &str) -> String {
    format!(
        r#"version: 1
sources:
  erp: {{ kind: soap, endpoint: "{base}/counted" }}
tools:
  get_item:
    description: One item by number.
    parameters: {{ item_no: {{ type: string }} }}
    source: erp
    operation: {{ element: GetItem, namespace: "urn:x", body: {{ ItemNo: item_no }} }}
    response: {{ path: GetItemResponse/Item }}
    columns: {{ "No": {{ type: string }} }}
    result: {{ one: true }}
    cache: {{ ttl: 5m }}
"#
    )
}

/// A stateless 2026-07-28 `tools/call`; the JSON-RPC answer, or why there is none.
async fn call(http: &reqwest::Client, url: &str, item: &str) -> Result<Value, String> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
    "name": "get_item", "arguments": {"item_no": item},
    "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "cluster-test", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {},
    }}});
    let r = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "get_item")
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status();
    let v: Value = r.json().await.map_err(|e| format!("HTTP {status}: {e}"))?;
    Ok(v)
}

fn ok(v: &Result<Value, String>) -> bool {
    matches!(v, Ok(v) if v["result"]["isError"] != json!(true) && v.get("error").is_none())
}

fn limited(v: &Result<Value, String>) -> bool {
    matches!(v, Ok(v) if v.to_string().contains("rate limit"))
}

fn post(http: &reqwest::Client, url: &str) -> reqwest::RequestBuilder {
    http.post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
}

/// A tool call in a session: the HTTP status (404 once the session's replica is gone).
async fn session_call(http: &reqwest::Client, url: &str, id: &str) -> u16 {
    let body = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_item","arguments":{"item_no":"SESSION"}}}"#;
    let r = post(http, url)
        .header("mcp-session-id", id)
        .header("mcp-protocol-version", "2025-11-25")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    if status == 200 {
        assert!(text.contains("\"result\""), "{text}");
    }
    status
}

async fn readyz(http: &reqwest::Client, addr: &str) -> Value {
    http.get(format!("http://{addr}/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Poll `/readyz` (it is kept 5 s) until `want` holds, at most 15 s.
async fn readyz_until(http: &reqwest::Client, addr: &str, want: impl Fn(&Value) -> bool) -> Value {
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let r = readyz(http, addr).await;
        if want(&r) || Instant::now() > until {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_behind_haproxy_share_cache_single_flight_and_rate_through_redis() {
    let soap = soap::start().await;
    let asked = || soap.seen().iter().filter(|s| s.path == "counted").count();
    let redis_port = support::free_port();
    let mut redis_server = redis(redis_port).await;
    let maps = tempfile::tempdir().unwrap();
    std::fs::write(maps.path().join("erp.yaml"), mapping(&soap.base)).unwrap();
    let redis_url = format!("redis://127.0.0.1:{redis_port}");
    let env = [
        ("LEGACY_MCP__CLUSTER__REDIS", redis_url.as_str()),
        (
            "LEGACY_MCP__CLUSTER__ENCRYPTION_KEY",
            "0123456789abcdef0123456789abcdef",
        ),
        ("LEGACY_MCP__LIMITS__RATE_PER_MINUTE", "600"),
        ("LEGACY_MCP__LIMITS__BURST", "40"),
    ];
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(support::HttpServer::start_with_env(maps.path(), &[], &env).await);
    }
    let http = reqwest::Client::new();
    // Every replica has found Redis before the test leans on it.
    for r in &replicas {
        let ready = readyz_until(&http, &r.addr, |v| v["cluster"]["redis"] == "shared").await;
        assert_eq!(ready["cluster"]["redis"], "shared", "{ready}");
    }
    let lb_port = support::free_port();
    let cfg = maps.path().join("haproxy.cfg");
    let addrs: Vec<String> = replicas.iter().map(|r| r.addr.clone()).collect();
    std::fs::write(&cfg, haproxy_config(lb_port, &addrs)).unwrap();
    // Debian puts it in /usr/sbin, which a non-login PATH may lack.
    let haproxy = ["/usr/sbin/haproxy", "haproxy"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or("haproxy");
    let _haproxy = spawn(haproxy, &["-f".into(), cfg.display().to_string()]);
    wait_port(lb_port).await;
    let lb = format!("http://127.0.0.1:{lb_port}/mcp");

    // 1. One caller's budget (40 at once, 10 a second) holds across the three replicas:
    // round robin over three own buckets would let 100 quick calls through.
    let started = Instant::now();
    let mut passed = 0;
    let mut refused = 0;
    for _ in 0..100 {
        let r = call(&http, &lb, "RATE").await;
        if limited(&r) {
            refused += 1;
        } else {
            assert!(ok(&r), "{r:?}");
            passed += 1;
        }
    }
    let refill = (started.elapsed().as_secs_f64() * 10.0).ceil() as i32;
    assert!(
        passed >= 40 && passed <= 40 + refill + 1,
        "{passed} calls passed, {refused} refused, in {:?}",
        started.elapsed()
    );
    assert_eq!(asked(), 1, "every other call was a hit");
    // Let the budget refill before the rest.
    tokio::time::sleep(Duration::from_secs(4)).await;

    // 2. A miss answered by replica 1 is a hit on replicas 2 and 3.
    let before = asked();
    for r in &replicas {
        let v = call(&http, &r.url(), "SHARED").await;
        assert!(ok(&v), "{v:?}");
    }
    assert_eq!(asked() - before, 1, "one backend call for three replicas");
    // What Redis holds gives nothing away: key names are HMACs (no argument value), values
    // are sealed (no answer text).
    let client = redis::Client::open(redis_url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("legacy-mcp:cache:*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(keys.len() >= 2, "{keys:?}");
    for k in &keys {
        assert!(!k.contains("SHARED") && !k.contains("get_item"), "{k}");
        let v: Vec<u8> = redis::cmd("GET")
            .arg(k)
            .query_async(&mut conn)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&v);
        assert!(
            !text.contains("1000") && !text.contains("\"No\""),
            "{k}: {text}"
        );
    }

    // 3. Thirty identical concurrent misses, round robin over the replicas: one backend call.
    let before = asked();
    let calls: Vec<_> = (0..30)
        .map(|_| {
            let (http, lb) = (http.clone(), lb.clone());
            tokio::spawn(async move { call(&http, &lb, "FLIGHT").await })
        })
        .collect();
    for c in calls {
        let v = c.await.unwrap();
        assert!(ok(&v), "{v:?}");
    }
    assert_eq!(asked() - before, 1, "single-flight across replicas");

    // 2025 sessions live in one replica: HAProxy keeps each on its replica (a stick table
    // learned from the Mcp-Session-Id response header). Three sessions, one per replica.
    let mut sessions = Vec::new();
    for _ in 0..3 {
        let id = support::open_session(&lb).await;
        for _ in 0..3 {
            assert_eq!(
                session_call(&http, &lb, &id).await,
                200,
                "sticky session {id}"
            );
        }
        sessions.push(id);
    }

    // 4. A replica killed while calls run: no stateless call fails.
    let load = {
        let (http, lb) = (http.clone(), lb.clone());
        tokio::spawn(async move {
            let mut failed = Vec::new();
            for i in 0..40 {
                let v = call(&http, &lb, &format!("KILL{}", i % 4)).await;
                if !ok(&v) {
                    failed.push(v);
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            failed
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    replicas[1].child.kill().await.unwrap();
    let failed = load.await.unwrap();
    assert!(
        failed.is_empty(),
        "calls failed when a replica died: {failed:?}"
    );
    // The session on the dead replica is gone (404, as the spec says: the client initialises
    // again); the other two sessions do not notice.
    let mut statuses = Vec::new();
    for id in &sessions {
        statuses.push(session_call(&http, &lb, id).await);
    }
    statuses.sort();
    assert_eq!(statuses, [200, 200, 404], "sessions after one replica died");
    let again = support::open_session(&lb).await;
    assert_eq!(session_call(&http, &lb, &again).await, 200);

    // 5. Redis killed under load: calls keep succeeding (each replica alone), readyz says so.
    redis_server.kill().await.unwrap();
    for i in 0..20 {
        let v = call(&http, &lb, &format!("ALONE{}", i % 3)).await;
        assert!(ok(&v), "with Redis gone: {v:?}");
    }
    let alone = readyz_until(&http, &replicas[0].addr, |v| v["status"] == "degraded").await;
    assert_eq!(alone["status"], "degraded", "{alone}");
    assert_eq!(alone["cluster"]["redis"], "alone", "{alone}");
    // Redis back: the replicas find it again and share.
    let _redis_again = redis(redis_port).await;
    for r in [&replicas[0], &replicas[2]] {
        let back = readyz_until(&http, &r.addr, |v| v["cluster"]["redis"] == "shared").await;
        assert_eq!(back["status"], "ready", "{back}");
        assert_eq!(
            back["cluster"]["mappings"], "the same on every replica",
            "{back}"
        );
    }
    let before = asked();
    for r in [&replicas[0], &replicas[2]] {
        let v = call(&http, &r.url(), "AGAIN").await;
        assert!(ok(&v), "{v:?}");
    }
    assert_eq!(asked() - before, 1, "shared again after Redis came back");
}

/// Every span an OTLP/HTTP JSON export carried: (trace id, span id, parent span id, name).
fn spans(bodies: &[Value]) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for b in bodies {
        for rs in b["resourceSpans"].as_array().into_iter().flatten() {
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                for s in ss["spans"].as_array().into_iter().flatten() {
                    let text = |k: &str| s[k].as_str().unwrap_or("").to_lowercase();
                    out.push((
                        text("traceId"),
                        text("spanId"),
                        text("parentSpanId"),
                        text("name"),
                    ));
                }
            }
        }
    }
    out
}

/// With `[tracing] otlp_endpoint`, one call's spans (the call and each phase) reach an OTLP
/// receiver started here, as children of the caller's `traceparent`; the SOAP backend receives
/// the call's trace in its own `traceparent` header; no argument value appears in any span.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_is_traced_from_the_agent_to_the_soap_backend() {
    use axum::routing::post as route_post;
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let keep = received.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        route_post(move |body: axum::body::Bytes| {
            let keep = keep.clone();
            async move {
                keep.lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
                "{}"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });

    let soap = soap::start().await;
    let maps = tempfile::tempdir().unwrap();
    std::fs::write(maps.path().join("erp.yaml"), mapping(&soap.base)).unwrap();
    let server = support::HttpServer::start_with_env(
        maps.path(),
        &[],
        &[("LEGACY_MCP__TRACING__OTLP_ENDPOINT", collector.as_str())],
    )
    .await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent = "00f067aa0ba902b7";
    let canary = "CANARY-ARG-7731";
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
    "name": "get_item", "arguments": {"item_no": canary},
    "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "trace-test", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {},
    }}});
    let r = reqwest::Client::new()
        .post(server.url())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "get_item")
        .header("traceparent", format!("00-{trace_id}-{parent}-01"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert!(answer["result"]["isError"] != json!(true), "{answer}");

    let wanted = [
        "tools/call get_item",
        "authorize",
        "bind",
        "cache",
        "plan",
        "fetch",
        "shape",
        "audit",
    ];
    let until = Instant::now() + Duration::from_secs(10);
    let got = loop {
        let got = spans(&received.lock().unwrap());
        let names: Vec<&str> = got.iter().map(|s| s.3.as_str()).collect();
        if wanted.iter().all(|w| names.contains(w)) || Instant::now() > until {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let names: Vec<&str> = got.iter().map(|s| s.3.as_str()).collect();
    for w in wanted {
        assert!(names.contains(&w), "no `{w}` span in {names:?}");
    }
    let got: Vec<_> = got.into_iter().filter(|s| s.0 == trace_id).collect();
    assert_eq!(
        got.len(),
        spans(&received.lock().unwrap()).len(),
        "one trace"
    );
    let call = got.iter().find(|s| s.3 == "tools/call get_item").unwrap();
    assert_eq!(call.2, parent, "the call's parent is the caller's span");
    for phase in got
        .iter()
        .filter(|s| s.3 != "tools/call get_item" && s.3 != "fetch")
    {
        assert!(
            phase.2 == call.1 || got.iter().any(|p| p.1 == phase.2),
            "{phase:?} hangs off the tree"
        );
    }
    // The backend got the trace, as a child of one of the call's spans.
    let seen = soap.seen();
    let tp = seen
        .iter()
        .find_map(|s| s.headers.get("traceparent"))
        .and_then(|v| v.to_str().ok())
        .expect("the SOAP request carries a traceparent");
    assert!(tp.starts_with(&format!("00-{trace_id}-")), "{tp}");
    let span_id = tp.split('-').nth(2).unwrap();
    assert!(
        got.iter().any(|s| s.1 == span_id),
        "{tp} names a span of the call"
    );
    // In a session the trace can come in the MCP request itself (`_meta.traceparent`, read
    // on rmcp's path).
    let meta_trace = "0af7651916cd43dd8448eb211c80319c";
    let http = reqwest::Client::new();
    let id = support::open_session(&server.url()).await;
    let call = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
        "name": "get_item", "arguments": {"item_no": "META"},
        "_meta": {"traceparent": format!("00-{meta_trace}-b7ad6b7169203331-01")}}});
    let r = post(&http, &server.url())
        .header("mcp-session-id", &id)
        .header("mcp-protocol-version", "2025-11-25")
        .json(&call)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let until = Instant::now() + Duration::from_secs(10);
    while !spans(&received.lock().unwrap())
        .iter()
        .any(|s| s.0 == meta_trace && s.3 == "tools/call get_item")
    {
        assert!(Instant::now() < until, "no span of the _meta trace arrived");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // No argument value in anything exported.
    let exported = received
        .lock()
        .unwrap()
        .iter()
        .map(|b| b.to_string())
        .collect::<String>();
    assert!(!exported.contains(canary), "an argument value was exported");
}
