//! Operating the server as an administrator would: the real binary over HTTP and HTTPS, its
//! `/healthz`, `/readyz` and `/metrics`, hot reload of the mappings (a good edit is swapped in
//! and announced to sessions, a bad one is refused while the old mappings keep serving), and
//! graceful shutdown on SIGTERM (calls under way finish, the audit is complete).

use crate::support::soap as fixture;

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, ClientConfig, Implementation, ProtocolVersion};
use rmcp::service::NotificationContext;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A `serve --http` child whose log lines are kept for the test to read.
struct Served {
    child: Child,
    base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Served {
    async fn start(mappings: &Path, config: Option<&Path>) -> Served {
        let mut cmd = Command::new(support::bin());
        cmd.arg("serve")
            .arg("--mappings")
            .arg(mappings)
            .args(["--http", "127.0.0.1:0"]);
        if let Some(c) = config {
            cmd.arg("--config").arg(c);
        }
        let mut child = cmd
            .env("LEGACY_MCP_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn legacy-mcp serve");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let log = Arc::new(Mutex::new(Vec::new()));
        let base = tokio::time::timeout(Duration::from_secs(20), async {
            while let Ok(Some(line)) = lines.next_line().await {
                log.lock().unwrap().push(line.clone());
                if let Some((_, rest)) = line.split_once("listening on ") {
                    return rest.trim_end_matches("/mcp").to_string();
                }
            }
            panic!("server exited before listening: {:?}", log.lock().unwrap());
        })
        .await
        .expect("server did not start listening in time");
        let keep = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                keep.lock().unwrap().push(line);
            }
        });
        Served { child, base, log }
    }

    fn log_has(&self, needle: &str) -> bool {
        self.log.lock().unwrap().iter().any(|l| l.contains(needle))
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let r = reqwest::get(format!("{}{path}", self.base)).await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// An MCP session (protocol 2025-11-25) that counts `tools/list_changed` in `changed`.
    async fn client(
        &self,
        changed: Arc<AtomicUsize>,
    ) -> rmcp::service::RunningService<RoleClient, Watching> {
        Watching { changed }
            .serve(StreamableHttpClientTransport::from_uri(format!(
                "{}/mcp",
                self.base
            )))
            .await
            .unwrap()
    }

    fn sigterm(&self) {
        let pid = self.child.id().expect("still running").to_string();
        let ok = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

/// A client that counts `notifications/tools/list_changed`.
#[derive(Clone)]
struct Watching {
    changed: Arc<AtomicUsize>,
}

impl ClientHandler for Watching {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(Default::default(), Implementation::new("ops-test", "0"))
            .with_protocol_version(ProtocolVersion::V_2025_11_25)
    }

    async fn on_tool_list_changed(&self, _: NotificationContext<RoleClient>) {
        self.changed.fetch_add(1, Ordering::SeqCst);
    }
}

fn call(name: &str, args: Value) -> CallToolRequestParams {
    serde_json::from_value(json!({"name": name, "arguments": args})).unwrap()
}

/// The demo mappings in a directory of their own, pointing at the demo exports, plus a cached
/// lookup tool.
fn demo_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let exports = support::root().join("fixtures/demo-erp");
    for entry in std::fs::read_dir(support::demo()).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("../../fixtures/demo-erp", exports.to_str().unwrap());
        std::fs::write(dir.path().join(path.file_name().unwrap()), text).unwrap();
    }
    std::fs::write(
        dir.path().join("cached.yaml"),
        r#"version: 1
tools:
  get_item_cached:
    description: One item by number, answered from the cache for a minute.
    parameters:
      item_no: { type: string }
    source: exports
    table: items
    where: { item_no: item_no }
    result: { one: true }
    cache: { ttl: 1m }
"#,
    )
    .unwrap();
    dir
}

/// The value of the first metrics line starting with `series`.
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(15);
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn health_readiness_and_metrics_count_what_happened() {
    let dir = demo_copy();
    let server = Served::start(dir.path(), None).await;
    let (code, body) = server.get("/healthz").await;
    assert_eq!((code, body.as_str()), (200, r#"{"status":"alive"}"#));

    let (code, body) = server.get("/readyz").await;
    assert_eq!(code, 200, "{body}");
    let ready: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["sources"]["exports"]["kind"], "flatfile");
    assert_eq!(ready["sources"]["exports"]["reachable"], true);
    assert_eq!(ready["mappings"]["tools"], 8);

    let client = server.client(Default::default()).await;
    for _ in 0..3 {
        support::call_ok(&client, "get_item_cached", json!({"item_no": "SCH-01000"})).await;
    }
    let bad = client
        .call_tool(call("get_item", json!({"item_no": 5})))
        .await
        .unwrap();
    assert_eq!(bad.is_error, Some(true));
    assert!(
        client
            .call_tool(call("no_such_tool", json!({})))
            .await
            .is_err()
    );

    let r = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = r.text().await.unwrap();
    let m = |s: &str| metric(&text, s);
    assert_eq!(
        m(r#"legacy_mcp_calls_total{tool="get_item_cached",outcome="ok"}"#),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        m(r#"legacy_mcp_calls_total{tool="get_item",outcome="tool_error"}"#),
        Some(1.0)
    );
    // Invented names are counted under one label, so callers cannot grow the series.
    assert_eq!(
        m(r#"legacy_mcp_calls_total{tool="(unknown)",outcome="rejected"}"#),
        Some(1.0)
    );
    assert!(!text.contains("no_such_tool"));
    assert_eq!(
        m(r#"legacy_mcp_cache_total{tool="get_item_cached",result="miss"}"#),
        Some(1.0)
    );
    assert_eq!(
        m(r#"legacy_mcp_cache_total{tool="get_item_cached",result="hit"}"#),
        Some(2.0)
    );
    assert_eq!(
        m(r#"legacy_mcp_call_duration_seconds_count{tool="get_item_cached"}"#),
        Some(3.0)
    );
    assert_eq!(m("legacy_mcp_calls_in_flight"), Some(0.0));
    assert_eq!(m("legacy_mcp_tools"), Some(8.0));
    assert!(text.trim_end().ends_with("# EOF"));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn readiness_names_the_source_that_cannot_be_reached() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("erp.yaml"),
        format!(
            r#"version: 1
sources:
  erp: {{ kind: soap, endpoint: "http://127.0.0.1:{port}/erp", connect_timeout: 2s }}
tools:
{}"#,
            soap_tool("get_item", "One item.", "erp")
        ),
    )
    .unwrap();
    let server = Served::start(dir.path(), None).await;
    let (code, body) = server.get("/readyz").await;
    assert_eq!(code, 503, "{body}");
    let ready: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["status"], "unready");
    assert_eq!(ready["sources"]["erp"]["reachable"], false);
    let error = ready["sources"]["erp"]["error"].as_str().unwrap();
    assert!(error.contains(&format!("127.0.0.1:{port}")), "{error}");
    // Alive all the same: the process answers, the ERP does not.
    assert_eq!(server.get("/healthz").await.0, 200);
}

#[tokio::test]
async fn a_good_edit_is_swapped_in_and_announced_a_bad_one_is_refused() {
    let dir = demo_copy();
    let server = Served::start(dir.path(), None).await;
    let changed = Arc::new(AtomicUsize::new(0));
    let client = server.client(changed.clone()).await;
    assert_eq!(client.list_all_tools().await.unwrap().len(), 8);

    // A new file with one more tool.
    std::fs::write(
        dir.path().join("more.yaml"),
        r#"version: 1
tools:
  count_items:
    description: Items whose number starts with a prefix.
    parameters: { prefix: { type: string } }
    source: exports
    table: items
    where: { item_no: { starts_with: prefix } }
"#,
    )
    .unwrap();
    wait_until("tools/list_changed", || changed.load(Ordering::SeqCst) > 0).await;
    let names = support::tool_names(&client).await;
    assert!(names.contains(&"count_items".to_string()), "{names:?}");
    support::call_ok(&client, "count_items", json!({"prefix": "SCH"})).await;

    // A bad edit: refused with file:line:col, the previous mappings keep serving.
    let before = changed.load(Ordering::SeqCst);
    std::fs::write(
        dir.path().join("broken.yaml"),
        "version: 1\ntools:\n  oops:\n    description: No source.\n    tabel: items\n",
    )
    .unwrap();
    wait_until("the reload to be refused", || {
        server.log_has("reload refused")
    })
    .await;
    assert!(
        server.log_has("broken.yaml:5:5"),
        "{:?}",
        server.log.lock().unwrap()
    );
    assert_eq!(changed.load(Ordering::SeqCst), before);
    assert_eq!(client.list_all_tools().await.unwrap().len(), 9);
    support::call_ok(&client, "count_items", json!({"prefix": "SCH"})).await;
    let ready: Value = serde_json::from_str(&server.get("/readyz").await.1).unwrap();
    let refused = ready["mappings"]["last_reload_refused"].to_string();
    assert!(refused.contains("broken.yaml:5:5"), "{ready}");
    let metrics = server.get("/metrics").await.1;
    assert_eq!(
        metric(&metrics, r#"legacy_mcp_reloads_total{result="ok"}"#),
        Some(1.0)
    );
    assert_eq!(
        metric(&metrics, r#"legacy_mcp_reloads_total{result="rejected"}"#),
        Some(1.0)
    );

    // Fixing the file brings the reload through.
    std::fs::remove_file(dir.path().join("broken.yaml")).unwrap();
    wait_until("the repaired reload", || {
        changed.load(Ordering::SeqCst) > before
    })
    .await;
    client.cancel().await.unwrap();
}

/// A test CA and a server certificate for `localhost` it signed, written as PEM next to a
/// settings file that names the server's files with paths relative to itself.
fn https_settings(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("tls")).unwrap();
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl (scripts/test installs it)");
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-days",
                "2",
                "-subj",
                "/CN=Test CA",
                "-keyout",
                "tls/ca.key",
                "-out",
                "tls/ca.pem",
            ],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"][..],
            &ec,
            &[
                "-subj",
                "/CN=localhost",
                "-keyout",
                "tls/key.pem",
                "-out",
                "tls/server.csr",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("tls/ext.cnf"),
        "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "tls/server.csr",
        "-CA",
        "tls/ca.pem",
        "-CAkey",
        "tls/ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "tls/ext.cnf",
        "-out",
        "tls/cert.pem",
    ]);
    let settings = dir.join("settings.toml");
    std::fs::write(
        &settings,
        "[http]\ntls_certificate = \"tls/cert.pem\"\ntls_key = \"tls/key.pem\"\n",
    )
    .unwrap();
    settings
}

#[tokio::test]
async fn https_serves_mcp_with_the_configured_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let settings = https_settings(dir.path());
    // From another working directory: the paths resolve against the settings file.
    let server = Served::start(&support::demo(), Some(&settings)).await;
    assert!(
        server.base.starts_with("https://127.0.0.1:"),
        "{}",
        server.base
    );
    let port = server.base.rsplit(':').next().unwrap();
    let pem = std::fs::read(dir.path().join("tls/ca.pem")).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let base = format!("https://localhost:{port}");
    let ok = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(ok.status(), 200);

    let config = StreamableHttpClientTransportConfig::with_uri(format!("{base}/mcp"));
    let client = Watching {
        changed: Default::default(),
    }
    .serve(StreamableHttpClientTransport::with_client(http, config))
    .await
    .unwrap();
    assert_eq!(client.list_all_tools().await.unwrap().len(), 7);
    support::call_ok(&client, "get_item", json!({"item_no": "SCH-01000"})).await;
    client.cancel().await.unwrap();

    // Plain HTTP to the HTTPS port gets no MCP answer.
    let plain = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
}

#[tokio::test]
async fn tls_settings_with_a_bad_key_fail_at_start_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let settings = https_settings(dir.path());
    std::fs::write(dir.path().join("tls/key.pem"), "not a key").unwrap();
    let out = std::process::Command::new(support::bin())
        .args(["serve", "--http", "127.0.0.1:0", "--config"])
        .arg(&settings)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("http.tls_key") && err.contains("key.pem"),
        "{err}"
    );
}

/// A GetItem tool on a SOAP source, as the fixture server answers it.
fn soap_tool(name: &str, description: &str, source: &str) -> String {
    format!(
        r#"  {name}:
    description: {description}
    parameters: {{ item_no: {{ type: string }} }}
    source: {source}
    operation: {{ element: GetItem, namespace: "urn:x", body: {{ ItemNo: item_no }} }}
    response: {{ path: GetItemResponse/Item }}
    columns: {{ "No": {{ type: string }} }}
    result: {{ one: true }}
"#
    )
}

/// A SOAP tool on the fixture server's `slow` path (1.5 s per answer), auditing to a file.
fn slow_soap(base: &str, dir: &Path, grace: &str) -> PathBuf {
    std::fs::write(
        dir.join("erp.yaml"),
        format!(
            r#"version: 1
sources:
  erp: {{ kind: soap, endpoint: "{base}/slow", request_timeout: 10s }}
  stuck: {{ kind: soap, endpoint: "{base}/hang", request_timeout: 60s }}
tools:
{}{}"#,
            soap_tool("get_item", "One item, slowly.", "erp"),
            soap_tool(
                "get_stuck",
                "One item from a server that does not answer.",
                "stuck"
            )
        ),
    )
    .unwrap();
    let settings = dir.join("settings.toml");
    std::fs::write(
        &settings,
        format!("shutdown_grace = \"{grace}\"\n[audit]\nfile = \"audit.jsonl\"\n"),
    )
    .unwrap();
    settings
}

#[tokio::test]
async fn sigterm_lets_calls_under_way_finish_then_exits_cleanly() {
    let erp = fixture::start().await;
    let dir = tempfile::tempdir().unwrap();
    let settings = slow_soap(&erp.base, dir.path(), "10s");
    let mut server = Served::start(dir.path(), Some(&settings)).await;
    let client = server.client(Default::default()).await;
    let started = Instant::now();
    let under_way = tokio::spawn(async move {
        let r = client
            .call_tool(call("get_item", json!({"item_no": "1000"})))
            .await;
        (r, client)
    });
    wait_until("the call to reach the ERP", || !erp.seen().is_empty()).await;
    server.sigterm();
    // No new connections once shutdown has begun.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        reqwest::get(format!("{}/healthz", server.base))
            .await
            .is_err()
    );

    let (answer, _client) = tokio::time::timeout(Duration::from_secs(20), under_way)
        .await
        .expect("the call under way is answered before the server goes")
        .unwrap();
    let answer = answer.expect("the call under way gets its answer");
    assert_eq!(answer.is_error, Some(false), "{answer:?}");
    assert!(started.elapsed() >= Duration::from_millis(1400));
    let status = tokio::time::timeout(Duration::from_secs(10), server.child.wait())
        .await
        .expect("the server exits after the call")
        .unwrap();
    assert!(status.success(), "{status:?}");
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let record: Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(record["tool"], "get_item");
    assert_eq!(record["outcome"], "ok");
}

#[tokio::test]
async fn a_call_that_outlives_the_grace_period_does_not_hold_the_shutdown() {
    let erp = fixture::start().await;
    let dir = tempfile::tempdir().unwrap();
    let settings = slow_soap(&erp.base, dir.path(), "1s");
    let mut server = Served::start(dir.path(), Some(&settings)).await;
    let client = server.client(Default::default()).await;
    let _stuck = tokio::spawn(async move {
        let _ = client
            .call_tool(call("get_stuck", json!({"item_no": "1000"})))
            .await;
        client
    });
    wait_until("the call to reach the ERP", || !erp.seen().is_empty()).await;
    let stopping = Instant::now();
    server.sigterm();
    let status = tokio::time::timeout(Duration::from_secs(10), server.child.wait())
        .await
        .expect("the server exits once the grace period is over")
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert!(stopping.elapsed() < Duration::from_secs(5));
    assert!(server.log_has("grace period over"));
}
