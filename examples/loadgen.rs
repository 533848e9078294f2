//! The benchmark harness's load generator and floor servers (issue 7), run by bench/run.py as
//! separate processes so that load, server and backend never share a runtime.
//!
//! - `http`         MCP `tools/call` over streamable HTTP at a concurrency, for a duration
//! - `stdio`        the same, sequentially, over a `legacy-mcp serve` child's stdio
//! - `startup`      process start to the first `tools/list` answer, and idle RSS
//! - `burst`        N identical calls at once (single-flight), backend requests counted
//! - `floor-http`   serve a fixed JSON-RPC answer (the HTTP floor: what axum alone costs)
//! - `serve`        answer each stdin line with a fixed JSON-RPC answer: the stdio floor (run
//!   by the `stdio` client with `--bin` pointing at this program)
//! - `floor-odbc`   the same prepared ODBC query in a loop (the database floor)
//! - `floor-soap`   the same SOAP request with a plain HTTP client (the SOAP floor)
//! - `soap-server`  a fixed-answer SOAP service that counts requests (optionally slow)
//! - `handover`     a message to another thread and back (what one thread hop costs here)
//!
//! Every measuring command prints one JSON object on stdout.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const PROTOCOL: &str = "2025-11-25";

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn need(args: &[String], name: &str) -> String {
    arg(args, name).unwrap_or_else(|| panic!("{name} is required"))
}

fn num(args: &[String], name: &str, default: u64) -> u64 {
    arg(args, name).map_or(default, |v| v.parse().expect("a number"))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = match args.first().map(String::as_str) {
        Some("http") => http(&args).await,
        Some("stdio") => stdio(&args).await,
        Some("startup") => startup(&args).await,
        Some("burst") => burst(&args).await,
        Some("floor-http") => return floor_http().await,
        Some("serve") => return floor_stdio(),
        Some("soap-server") => return soap_server(&args).await,
        Some("floor-soap") => floor_soap(&args).await,
        Some("floor-odbc") => floor_odbc(&args),
        Some("handover") => handover(&args),
        _ => {
            eprintln!(
                "usage: loadgen http|stdio|startup|burst|floor-http|floor-odbc|floor-soap|soap-server|serve ..."
            );
            std::process::exit(2);
        }
    };
    println!("{out}");
}

/// Latencies (µs) to a summary; `cpu` is the server's CPU seconds over the run, if known.
fn summary(mut lat: Vec<u64>, took: Duration, cpu: Option<f64>, rss_kb: Option<u64>) -> Value {
    lat.sort_unstable();
    let n = lat.len().max(1);
    let pct = |p: f64| {
        lat.get(((n as f64 * p) as usize).min(n - 1))
            .copied()
            .unwrap_or(0)
    };
    json!({
        "calls": lat.len(),
        "seconds": took.as_secs_f64(),
        "calls_per_s": lat.len() as f64 / took.as_secs_f64(),
        "p50_us": pct(0.50),
        "p99_us": pct(0.99),
        "cpu_us_per_call": cpu.map(|c| c * 1e6 / n as f64),
        "rss_mb": rss_kb.map(|k| k as f64 / 1024.0),
    })
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at ") ".
    let rest = stat.rsplit_once(") ")?.1;
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn status_kb(pid: u32, key: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

// ---------------------------------------------------------------------------------------------
// MCP over streamable HTTP, spoken by hand so the client costs as little as possible.

struct Session {
    http: reqwest::Client,
    url: String,
    id: Option<String>,
    /// 2026-07-28 without a session: no `initialize`, every request carries the protocol
    /// version, client info and capabilities in its `_meta` and the `Mcp-Method`/`Mcp-Name`
    /// headers, as the official 2026 clients send them.
    stateless: bool,
}

/// The JSON-RPC answer in a response body: plain JSON, or the `data:` line of an SSE event.
fn answer_of(body: &str) -> Option<Value> {
    if body.trim_start().starts_with('{') {
        return serde_json::from_str(body).ok();
    }
    body.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .find(|v| v.get("id").is_some())
}

impl Session {
    async fn open(http: reqwest::Client, url: &str) -> Session {
        let mut s = Session {
            http,
            url: url.to_string(),
            id: None,
            stateless: false,
        };
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": PROTOCOL, "capabilities": {},
            "clientInfo": {"name": "loadgen", "version": "0"}}});
        let r = s.post(&init).await;
        s.id = r
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let _ = r.text().await;
        let done = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let _ = s.post(&done).await.text().await;
        s
    }

    fn stateless(http: reqwest::Client, url: &str) -> Session {
        Session {
            http,
            url: url.to_string(),
            id: None,
            stateless: true,
        }
    }

    async fn post(&self, body: &Value) -> reqwest::Response {
        let version = if self.stateless {
            "2026-07-28"
        } else {
            PROTOCOL
        };
        let mut req = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", version);
        if self.stateless {
            req = req.header("mcp-method", body["method"].as_str().unwrap_or_default());
            if let Some(name) = body["params"]["name"].as_str() {
                req = req.header("mcp-name", name);
            }
        }
        let mut req = req.body(body.to_string());
        if let Some(id) = &self.id {
            req = req.header("mcp-session-id", id);
        }
        req.send().await.expect("POST to the server")
    }

    /// One tools/call; panics on anything but a successful result (a benchmark of errors
    /// would measure the wrong thing).
    async fn call(&self, id: u64, tool: &str, args: &Value) {
        let mut body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": tool, "arguments": args}});
        if self.stateless {
            body["params"]["_meta"] = json!({
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientInfo": {"name": "loadgen", "version": "0"},
                "io.modelcontextprotocol/clientCapabilities": {},
            });
        }
        let text = self.post(&body).await.text().await.expect("answer body");
        let answer = answer_of(&text).unwrap_or_else(|| panic!("no JSON-RPC answer in {text}"));
        if answer["result"]["isError"] == json!(true) || answer.get("error").is_some() {
            panic!("{tool} failed: {answer}");
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .build()
        .unwrap()
}

/// `http --url U --tool T --args JSON --concurrency C --seconds S [--pid P] [--stateless]`
async fn http(args: &[String]) -> Value {
    let url = need(args, "--url");
    let tool = Arc::new(need(args, "--tool"));
    let call_args: Arc<Value> = Arc::new(serde_json::from_str(&need(args, "--args")).unwrap());
    let c = num(args, "--concurrency", 1) as usize;
    let run_for = Duration::from_millis((num(args, "--seconds", 3) * 1000).max(200));
    let pid = arg(args, "--pid").map(|p| p.parse::<u32>().unwrap());
    let http = client();
    let stateless = args.iter().any(|a| a == "--stateless");
    let mut sessions = Vec::new();
    for _ in 0..c {
        let s = if stateless {
            Session::stateless(http.clone(), &url)
        } else {
            Session::open(http.clone(), &url).await
        };
        // Warm up: connections, the index of a flat file, the cache entry.
        for i in 0..20 {
            s.call(i, &tool, &call_args).await;
        }
        sessions.push(s);
    }
    let cpu0 = pid.and_then(cpu_seconds);
    let started = Instant::now();
    let until = started + run_for;
    let mut tasks = Vec::new();
    for s in sessions {
        let (tool, call_args) = (tool.clone(), call_args.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(100_000);
            let mut id = 100;
            while Instant::now() < until {
                let t = Instant::now();
                s.call(id, &tool, &call_args).await;
                lat.push(t.elapsed().as_micros() as u64);
                id += 1;
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    let took = started.elapsed();
    let cpu = match (cpu0, pid.and_then(cpu_seconds)) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    summary(lat, took, cpu, pid.and_then(|p| status_kb(p, "VmRSS:")))
}

/// `burst --url U --tool T --args JSON --n N --count-url C`: N sessions call at once.
async fn burst(args: &[String]) -> Value {
    let url = need(args, "--url");
    let tool = need(args, "--tool");
    let call_args: Value = serde_json::from_str(&need(args, "--args")).unwrap();
    let n = num(args, "--n", 100) as usize;
    let count_url = need(args, "--count-url");
    let http = client();
    let count = |http: reqwest::Client, u: String| async move {
        http.get(u)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .trim()
            .parse::<u64>()
            .unwrap()
    };
    let before = count(http.clone(), count_url.clone()).await;
    let mut sessions = Vec::new();
    for _ in 0..n {
        sessions.push(Session::open(http.clone(), &url).await);
    }
    let gate = Arc::new(tokio::sync::Barrier::new(n));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, s) in sessions.into_iter().enumerate() {
        let (gate, tool, a) = (gate.clone(), tool.clone(), call_args.clone());
        tasks.push(tokio::spawn(async move {
            gate.wait().await;
            let t = Instant::now();
            s.call(i as u64 + 10, &tool, &a).await;
            t.elapsed().as_micros() as u64
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.push(t.await.unwrap());
    }
    let took = started.elapsed();
    let backend = count(http, count_url).await - before;
    let mut out = summary(lat, took, None, None);
    out["backend_calls"] = json!(backend);
    out
}

// ---------------------------------------------------------------------------------------------
// stdio

struct Child {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl Child {
    fn spawn(bin: &str, mappings: &str, config: Option<&str>) -> Child {
        let mut cmd = tokio::process::Command::new(bin);
        cmd.args(["serve", "--mappings", mappings]);
        if let Some(c) = config {
            cmd.args(["--config", c]);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start legacy-mcp");
        let stdin = child.stdin.take().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Child {
            child,
            stdin,
            lines,
        }
    }

    async fn send(&mut self, v: &Value) {
        let mut line = v.to_string();
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await.unwrap();
    }

    /// The answer with this id (notifications in between are skipped).
    async fn answer(&mut self, id: u64) -> Value {
        loop {
            let line = self
                .lines
                .next_line()
                .await
                .unwrap()
                .expect("server closed stdout");
            let v: Value = serde_json::from_str(&line).unwrap();
            if v["id"] == json!(id) {
                return v;
            }
        }
    }

    async fn initialize(&mut self) {
        self.send(
            &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": PROTOCOL, "capabilities": {},
            "clientInfo": {"name": "loadgen", "version": "0"}}}),
        )
        .await;
        self.answer(0).await;
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
    }
}

/// `stdio --bin B --mappings M [--config F] --tool T --args JSON --calls N`
async fn stdio(args: &[String]) -> Value {
    let mut c = Child::spawn(
        &need(args, "--bin"),
        &need(args, "--mappings"),
        arg(args, "--config").as_deref(),
    );
    c.initialize().await;
    let tool = need(args, "--tool");
    let a: Value = serde_json::from_str(&need(args, "--args")).unwrap();
    let n = num(args, "--calls", 2000);
    let call = |id: u64| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": a}})
    };
    for id in 1..=20 {
        c.send(&call(id)).await;
        c.answer(id).await;
    }
    let pid = c.child.id().unwrap();
    let cpu0 = cpu_seconds(pid);
    let started = Instant::now();
    let mut lat = Vec::with_capacity(n as usize);
    for id in 100..100 + n {
        let t = Instant::now();
        c.send(&call(id)).await;
        let v = c.answer(id).await;
        assert!(v["result"]["isError"] != json!(true), "{v}");
        lat.push(t.elapsed().as_micros() as u64);
    }
    let took = started.elapsed();
    let cpu = cpu0.zip(cpu_seconds(pid)).map(|(a, b)| b - a);
    summary(lat, took, cpu, status_kb(pid, "VmRSS:"))
}

/// `startup --bin B --mappings M --runs N`: process start to the `tools/list` answer.
async fn startup(args: &[String]) -> Value {
    let runs = num(args, "--runs", 5);
    let (bin, mappings) = (need(args, "--bin"), need(args, "--mappings"));
    let mut times = Vec::new();
    let mut rss = Vec::new();
    let mut tools = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let mut c = Child::spawn(&bin, &mappings, None);
        c.initialize().await;
        c.send(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}))
            .await;
        let v = c.answer(1).await;
        times.push(t.elapsed().as_micros() as u64);
        tools = v["result"]["tools"].as_array().map_or(0, |t| t.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
        rss.push(status_kb(c.child.id().unwrap(), "VmRSS:").unwrap_or(0));
        let _ = c.child.kill().await;
    }
    times.sort_unstable();
    rss.sort_unstable();
    json!({"runs": runs, "median_ms": times[times.len() / 2] as f64 / 1000.0,
        "min_ms": times[0] as f64 / 1000.0, "first_page_tools": tools,
        "idle_rss_mb": rss[rss.len() / 2] as f64 / 1024.0})
}

// ---------------------------------------------------------------------------------------------
// Floors and the SOAP peer.

/// Print the bound port, then serve until killed.
async fn serve_on(app: axum::Router) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("port {}", listener.local_addr().unwrap().port());
    use std::io::Write;
    let _ = std::io::stdout().flush();
    axum::serve(listener, app).await.unwrap();
}

/// A fixed JSON-RPC answer for every POST, in the same SSE framing rmcp uses: the least an
/// HTTP MCP server can do.
async fn floor_http() {
    use axum::http::header;
    let app = axum::Router::new().route(
        "/mcp",
        axum::routing::post(move || async move {
            (
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (header::HeaderName::from_static("mcp-session-id"), "floor"),
                ],
                FIXED_ANSWER,
            )
        }),
    );
    serve_on(app).await;
}

/// The floors' answer: what a cached `flat_item` call returns, give or take.
const FIXED_ANSWER: &str = r#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"{\"item_no\":\"SCH-01000\"}"}],"structuredContent":{"item_no":"SCH-01000"},"isError":false}}"#;

/// `serve ...` (as the stdio client starts a server): the stdio floor. Each request line is
/// parsed for its id and answered with a fixed result, on blocking stdin and stdout.
fn floor_stdio() {
    use std::io::{BufRead, Write};
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    let fixed: Value = serde_json::from_str(FIXED_ANSWER).unwrap();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let Ok(msg) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let Some(id) = msg.get("id") else { continue };
        let mut answer = fixed.clone();
        answer["id"] = id.clone();
        if msg["method"] == "initialize" {
            answer["result"] = json!({"protocolVersion": msg["params"]["protocolVersion"],
                "capabilities": {"tools": {}}, "serverInfo": {"name": "floor", "version": "0"}});
        }
        let text = answer.to_string();
        if writeln!(out, "{text}").and_then(|_| out.flush()).is_err() {
            break;
        }
    }
}

const SOAP_ANSWER: &str = r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:GetItemResponse xmlns:m="urn:bench"><m:Item><m:No>SCH-01000</m:No><m:Description>Schraube M8x40</m:Description><m:Price>0.42</m:Price></m:Item></m:GetItemResponse></s:Body></s:Envelope>"#;

/// `soap-server [--delay-ms D]`: GetItem's fixed answer; GET /count tells the requests seen.
async fn soap_server(args: &[String]) {
    let delay = Duration::from_millis(num(args, "--delay-ms", 0));
    let seen = Arc::new(AtomicU64::new(0));
    let counter = seen.clone();
    let app = axum::Router::new()
        .route(
            "/soap",
            axum::routing::post(move || {
                let seen = seen.clone();
                async move {
                    seen.fetch_add(1, Ordering::Relaxed);
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    (
                        [(axum::http::header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                        SOAP_ANSWER,
                    )
                }
            }),
        )
        .route(
            "/count",
            axum::routing::get(move || {
                let n = counter.load(Ordering::Relaxed);
                async move { n.to_string() }
            }),
        );
    serve_on(app).await;
}

/// `floor-soap --url U --concurrency C --seconds S`: the request legacy-mcp would send.
async fn floor_soap(args: &[String]) -> Value {
    let url = need(args, "--url");
    let c = num(args, "--concurrency", 1) as usize;
    let run_for = Duration::from_secs(num(args, "--seconds", 3));
    let envelope = r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetItem xmlns="urn:bench"><ItemNo>SCH-01000</ItemNo></GetItem></soap:Body></soap:Envelope>"#;
    let http = client();
    let started = Instant::now();
    let until = started + run_for;
    let mut tasks = Vec::new();
    for _ in 0..c {
        let (http, url) = (http.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < until {
                let t = Instant::now();
                let r = http
                    .post(&url)
                    .header("content-type", "text/xml; charset=utf-8")
                    .header("soapaction", "\"urn:bench/GetItem\"")
                    .body(envelope)
                    .send()
                    .await
                    .unwrap();
                let text = r.text().await.unwrap();
                assert!(text.contains("SCH-01000"));
                lat.push(t.elapsed().as_micros() as u64);
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    summary(lat, started.elapsed(), None, None)
}

/// `floor-odbc --connection C --sql S --param V --calls N`: one prepared statement, executed
/// and its row fetched as text, in a loop on one connection.
/// `handover --calls N`: round trips to a thread blocked on a channel and back, the way a call
/// reaches an ODBC worker thread and returns. The p50 is the price of two thread wake-ups.
fn handover(args: &[String]) -> Value {
    let n = num(args, "--calls", 20000);
    let (to_worker, jobs) = std::sync::mpsc::channel::<u64>();
    let (to_caller, answers) = std::sync::mpsc::channel::<u64>();
    std::thread::spawn(move || {
        for j in jobs {
            if to_caller.send(j).is_err() {
                break;
            }
        }
    });
    let mut lat = Vec::with_capacity(n as usize);
    let started = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        to_worker.send(i).unwrap();
        answers.recv().unwrap();
        lat.push(t.elapsed().as_micros() as u64);
    }
    summary(lat, started.elapsed(), None, None)
}

fn floor_odbc(args: &[String]) -> Value {
    use odbc_api::{ConnectionOptions, Cursor, Environment, IntoParameter};
    let env = Environment::new().unwrap();
    // The driver's library is found the way the adapter finds it (Debian's multiarch paths).
    let text = legacy_mcp::backend::odbc::driver::resolve(&need(args, "--connection")) + ";";
    let conn = env
        .connect_with_connection_string(&text, ConnectionOptions::default())
        .expect("connect");
    let mut stmt = conn.prepare(&need(args, "--sql")).expect("prepare");
    let param = need(args, "--param");
    let n = num(args, "--calls", 5000);
    let mut once = || {
        let mut cursor = stmt
            .execute(&param.as_str().into_parameter())
            .unwrap()
            .expect("a result set");
        let mut rows = 0;
        while let Some(mut row) = cursor.next_row().unwrap() {
            let mut buf = Vec::new();
            for col in 1..=3 {
                row.get_text(col, &mut buf).unwrap();
            }
            rows += 1;
        }
        assert_eq!(rows, 1);
    };
    for _ in 0..50 {
        once();
    }
    let started = Instant::now();
    let mut lat = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let t = Instant::now();
        once();
        lat.push(t.elapsed().as_micros() as u64);
    }
    summary(lat, started.elapsed(), None, None)
}
