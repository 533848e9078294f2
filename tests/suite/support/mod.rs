//! Helpers shared by the integration tests: start the real binary, connect rmcp's client to it
//! over stdio or streamable HTTP, compare with golden JSON.
#![allow(dead_code)]

pub mod peers;
pub mod soap;
pub mod tds;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use rmcp::model::{ClientConfig, Implementation, ProtocolVersion};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RunningService};
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub type Client = RunningService<RoleClient, ClientConfig>;

/// A free port on 127.0.0.1 (bound and released: a short race, fine for a test).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An initialised 2025-11-25 session at `url` (raw HTTP, as any client sends it): its id.
pub async fn open_session(url: &str) -> String {
    const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    let post = || {
        reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
    };
    let init = post().body(INIT).send().await.unwrap();
    assert_eq!(init.status(), 200);
    let id = init.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_string();
    let done = post()
        .header("mcp-session-id", &id)
        .header("mcp-protocol-version", "2025-11-25")
        .body(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 202);
    id
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_legacy-mcp")
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn demo() -> PathBuf {
    root().join("mappings/demo")
}

fn client_config(version: ProtocolVersion) -> ClientConfig {
    ClientConfig::new(
        Default::default(),
        Implementation::new("legacy-mcp-tests", "0"),
    )
    .with_protocol_version(version)
}

/// The demo server over stdio, spoken to by rmcp's client.
pub async fn stdio_client(mappings: &Path, extra: &[&str]) -> Client {
    stdio_client_with_env(mappings, extra, &[]).await
}

/// `stdio_client` with environment variables set for the server (secrets, DSNs).
pub async fn stdio_client_with_env(
    mappings: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Client {
    let mut cmd = Command::new(bin());
    cmd.arg("serve").arg("--mappings").arg(mappings).args(extra);
    cmd.envs(env.iter().copied());
    let transport = TokioChildProcess::builder(cmd)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn legacy-mcp")
        .0;
    client_config(ProtocolVersion::V_2025_11_25)
        .serve(transport)
        .await
        .expect("initialize over stdio")
}

/// A `legacy-mcp serve --http` child on a free port; killed when dropped.
pub struct HttpServer {
    pub child: Child,
    pub addr: String,
}

impl HttpServer {
    pub async fn start(mappings: &Path, extra: &[&str]) -> HttpServer {
        Self::start_with_env(mappings, extra, &[]).await
    }

    pub async fn start_with_env(
        mappings: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> HttpServer {
        let mut child = Command::new(bin())
            .arg("serve")
            .arg("--mappings")
            .arg(mappings)
            .args(["--http", "127.0.0.1:0"])
            .args(extra)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn legacy-mcp --http");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = tokio::time::timeout(Duration::from_secs(20), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    return rest.trim_end_matches("/mcp").to_string();
                }
            }
            panic!("server exited before listening");
        })
        .await
        .expect("server did not start listening in time");
        // Keep draining stderr so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        HttpServer { child, addr }
    }

    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    /// A client (protocol 2025-11-25) sending `Authorization: Bearer <token>`.
    pub async fn client_with_token(&self, token: &str) -> Result<Client, String> {
        use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
        let config = StreamableHttpClientTransportConfig::with_uri(self.url()).auth_header(token);
        let transport = StreamableHttpClientTransport::from_config(config);
        client_config(ProtocolVersion::V_2025_11_25)
            .serve(transport)
            .await
            .map_err(|e| e.to_string())
    }

    /// A client speaking `version`: the 2025 versions start with `initialize` (sessions);
    /// 2026-07-28 starts with `server/discover` and sends per-request metadata (stateless).
    pub async fn client(&self, version: ProtocolVersion) -> Client {
        let transport = StreamableHttpClientTransport::from_uri(self.url());
        if version.has_initialize() {
            return client_config(version)
                .serve(transport)
                .await
                .expect("initialize over HTTP");
        }
        let lifecycle = ClientLifecycleMode::Discover {
            preferred_versions: vec![version.clone()],
        };
        client_config(version)
            .serve_with_lifecycle(transport, lifecycle)
            .await
            .expect("discover over HTTP")
    }
}

/// Compare `actual` with tests/golden/NAME.json; `UPDATE_GOLDEN=1` rewrites the file instead.
pub fn golden(name: &str, actual: &Value) {
    let path = root().join("tests/golden").join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(actual).unwrap() + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing golden file {}; run with UPDATE_GOLDEN=1",
            path.display()
        )
    });
    assert_eq!(
        text,
        expected,
        "output differs from {} (UPDATE_GOLDEN=1 rewrites it)",
        path.display()
    );
}

pub fn args(v: Value) -> serde_json::Map<String, Value> {
    v.as_object().cloned().expect("arguments are an object")
}

/// The demo tool calls every front end must answer the same way: (golden name, tool, args).
pub fn demo_calls() -> Vec<(&'static str, &'static str, Value)> {
    use serde_json::json;
    vec![
        (
            "get_customer",
            "get_customer",
            json!({"customer_no": "C10042"}),
        ),
        (
            "find_customers",
            "find_customers",
            json!({"name_prefix": "Müller B", "country": "DE"}),
        ),
        ("get_item", "get_item", json!({"item_no": "TUE-01001"})),
        (
            "search_items",
            "search_items",
            json!({"prefix": "KSS", "max_price": 15}),
        ),
        ("list_items", "list_items", json!({})),
        (
            "customer_invoices",
            "customer_invoices",
            json!({"customer_no": "C10100", "from": "2026-04-01", "to": "2026-10-31"}),
        ),
        (
            "overdue_invoices",
            "overdue_invoices",
            json!({"as_of": "2025-11-01"}),
        ),
    ]
}

/// The mappings in `dir` compiled into a pipeline, or a panic listing every problem.
pub fn pipeline(dir: &Path) -> legacy_mcp::pipeline::Pipeline {
    let catalog = legacy_mcp::catalog::load(dir).unwrap_or_else(|p| {
        panic!(
            "{}",
            p.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    legacy_mcp::pipeline::Pipeline::new(std::sync::Arc::new(catalog))
}

/// One tool call through the pipeline as the local principal (no roles), its whole output.
pub async fn call_output(
    p: &legacy_mcp::pipeline::Pipeline,
    tool: &str,
    args: Value,
) -> Result<legacy_mcp::pipeline::ToolOutput, legacy_mcp::pipeline::CallError> {
    p.call_tool(
        &legacy_mcp::auth::Principal::local(),
        tool,
        self::args(args),
    )
    .await
}

/// One tool call through the pipeline, its structured result.
pub async fn call(
    p: &legacy_mcp::pipeline::Pipeline,
    tool: &str,
    args: Value,
) -> Result<Value, legacy_mcp::pipeline::CallError> {
    call_output(p, tool, args).await.map(|o| o.structured)
}

/// A finished command's stdout, after checking it succeeded (its stderr is the failure text).
pub fn succeeded(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The names of the tools a session lists, sorted.
pub async fn tool_names<H: rmcp::ClientHandler>(
    client: &RunningService<RoleClient, H>,
) -> Vec<String> {
    let mut names: Vec<String> = client
        .list_all_tools()
        .await
        .expect("tools/list answered")
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    names.sort();
    names
}

/// Call a tool over an MCP client session and insist that it succeeded; the result.
pub async fn call_ok<H: rmcp::ClientHandler>(
    client: &RunningService<RoleClient, H>,
    tool: &str,
    args: Value,
) -> rmcp::model::CallToolResult {
    let params = serde_json::from_value(serde_json::json!({"name": tool, "arguments": args}))
        .expect("call parameters");
    let r = client.call_tool(params).await.expect("tools/call answered");
    assert_eq!(r.is_error, Some(false), "{tool}: {r:?}");
    r
}

/// The server's `instructions`, as the client received them at `initialize`.
pub fn instructions<H: rmcp::ClientHandler>(client: &RunningService<RoleClient, H>) -> String {
    client
        .peer_info()
        .and_then(|i| i.instructions.clone())
        .unwrap_or_default()
}

/// The CPU time (user + system, seconds) process `pid` has used so far (Linux `/proc`).
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after `state`.
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// `legacy-mcp serve` over stdio on `dir`, initialised: the child, its stdin and its answers.
pub fn stdio_server(
    dir: &std::path::Path,
) -> (
    std::process::Child,
    std::process::ChildStdin,
    std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
) {
    use std::io::{BufRead, BufReader, Write};
    let mut child = std::process::Command::new(bin())
        .args(["serve", "--mappings"])
        .arg(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    writeln!(stdin, "{init}").unwrap();
    lines.next().unwrap().unwrap();
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#
    )
    .unwrap();
    (child, stdin, lines)
}

/// The peak RSS of process `pid` so far (`VmHWM`), in kB.
pub fn peak_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap()
}

/// Call `tool` (no arguments) `times` times, one after the other, through `legacy-mcp serve`
/// over stdio on `dir`: the server's peak RSS in kB, and the last answer.
pub fn calls_through_binary(
    dir: &std::path::Path,
    tool: &str,
    times: u32,
) -> (u64, serde_json::Value) {
    use std::io::Write;
    let (mut child, mut stdin, mut lines) = stdio_server(dir);
    let mut last = serde_json::Value::Null;
    for id in 2..2 + times {
        writeln!(
            stdin,
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{tool}","arguments":{{}}}}}}"#
        )
        .unwrap();
        last = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    }
    let peak = peak_kb(child.id());
    drop(stdin);
    let _ = child.wait();
    (peak, last)
}

/// The last answer of `calls_through_binary` on a wide-row tool: all 50 rows (the 50th's `a`
/// 50 characters long), the first row's 5,000-character `c` whole, and the server's peak RSS
/// under 80 MB. The rows, for checks of the caller's own.
pub fn fifty_wide_rows(last: &serde_json::Value, peak_kb: u64) -> Vec<serde_json::Value> {
    let rows = last["result"]["structuredContent"]["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("{last}"))
        .clone();
    assert_eq!(rows.len(), 50, "{last}");
    assert_eq!(rows[49]["a"].as_str().unwrap().len(), 50);
    assert_eq!(
        rows[0]["c"].as_str().unwrap().len(),
        5000,
        "a long value whole"
    );
    assert!(peak_kb < 80_000, "peak RSS {peak_kb} kB");
    rows
}
