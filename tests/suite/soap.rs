//! `kind: soap` end to end.
//!
//! Two peers: a real SOAP stack (spyne, tests/peers/erp_soap.py, started on 127.0.0.1) serving
//! an ERP-like document/literal service, called through mappings/examples/soap-erp by the real
//! binary over MCP; and a fixture server (tests/suite/support/soap.rs) for what a real stack will not
//! produce on demand: HTML pages, bare statuses, broken, hostile and hanging answers, SOAP 1.2
//! faults, multiRef answers, embedded documents, WS-Security digests.

use crate::support::soap as fixture;

use crate::support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use legacy_mcp::pipeline::{CallError, Pipeline};
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};
use support::*;

// ---------------------------------------------------------------------------------------------
// The fixture server, one source and tool per behaviour.

/// `get_<behaviour>`: the GetItem operation against the fixture path `behaviour`.
fn fixture_mapping(base: &str) -> tempfile::TempDir {
    let plain = [
        "ok",
        "html",
        "unauthorized",
        "forbidden",
        "missing",
        "method",
        "empty",
        "truncated",
        "not_soap",
        "bomb",
        "xxe",
        "deep",
        "fault11",
        "fault11_200",
    ];
    let mut sources = String::new();
    let mut tools = String::new();
    let item_tool = |name: &str, source: &str| {
        format!(
            r#"
  get_{name}:
    description: One item through the fixture path {name}.
    parameters:
      item_no: {{ type: string }}
    source: {source}
    operation:
      element: GetItem
      namespace: "urn:x"
      action: "urn:x/GetItem"
      body:
        ItemNo: item_no
    response:
      path: GetItemResponse/Item
    columns:
      "No": {{ type: string }}
    result: {{ one: true }}
"#
        )
    };
    for b in plain {
        sources.push_str(&format!(
            "  {b}: {{ kind: soap, endpoint: \"{base}/{b}\", request_timeout: 5s }}\n"
        ));
        tools.push_str(&item_tool(b, b));
    }
    let special = format!(
        r#"
  v12: {{ kind: soap, endpoint: "{base}/ok12", soap_version: "1.2" }}
  fault12: {{ kind: soap, endpoint: "{base}/fault12", soap_version: "1.2" }}
  hang: {{ kind: soap, endpoint: "{base}/hang", request_timeout: 1s }}
  big: {{ kind: soap, endpoint: "{base}/big", max_response_size: 100KB }}
  wssec:
    kind: soap
    endpoint: "{base}/wssec"
    auth: {{ ws_security: {{ user: mcp, password: "${{env:FIXTURE_PASSWORD}}", password_type: digest }} }}
  echo_wssec:
    kind: soap
    endpoint: "{base}/echo_credentials"
    auth: {{ ws_security: {{ user: mcp, password: "${{env:FIXTURE_PASSWORD}}" }} }}
  echo_basic:
    kind: soap
    endpoint: "{base}/echo_credentials"
    auth: {{ basic: {{ user: mcp, password: "${{env:FIXTURE_PASSWORD}}" }} }}
  wssec_wrong:
    kind: soap
    endpoint: "{base}/wssec"
    auth: {{ ws_security: {{ user: mcp, password: wrong, password_type: digest }} }}
  basic:
    kind: soap
    endpoint: "{base}/basic"
    auth: {{ basic: {{ user: mcp, password: "${{env:FIXTURE_PASSWORD}}" }} }}
  basic_wrong:
    kind: soap
    endpoint: "{base}/basic"
    auth: {{ basic: {{ user: mcp, password: nope }} }}
  bearer:
    kind: soap
    endpoint: "{base}/bearer"
    auth: {{ bearer: {{ token: tok-123 }} }}
    soap_headers:
      - element: CAdxCallContext
        namespace: "http://www.adonix.com/WSS"
        children:
          codeLang: {{ value: ENG }}
          poolAlias: {{ value: "SEED" }}
  multiref: {{ kind: soap, endpoint: "{base}/multiref" }}
  href_bomb: {{ kind: soap, endpoint: "{base}/href_bomb", max_response_size: 10MB }}
  slow_project: {{ kind: soap, endpoint: "{base}/slow_project", max_response_size: 10MB }}
  tiny_flood: {{ kind: soap, endpoint: "{base}/tiny_flood", max_response_size: 10MB }}
  nav_order: {{ kind: soap, endpoint: "{base}/nav_order" }}
  embedded: {{ kind: soap, endpoint: "{base}/embedded" }}
  embedded_json: {{ kind: soap, endpoint: "{base}/embedded_json" }}
  bad_value: {{ kind: soap, endpoint: "{base}/bad_value" }}
  echo: {{ kind: soap, endpoint: "{base}/echo" }}
"#
    );
    sources.push_str(&special);
    for (name, src) in [
        ("v12", "v12"),
        ("fault12", "fault12"),
        ("hang", "hang"),
        ("big", "big"),
        ("wssec", "wssec"),
        ("wssec_wrong", "wssec_wrong"),
        ("echo_wssec", "echo_wssec"),
        ("echo_basic", "echo_basic"),
        ("basic", "basic"),
        ("basic_wrong", "basic_wrong"),
        ("bearer", "bearer"),
    ] {
        tools.push_str(&item_tool(name, src));
    }
    tools.push_str(
        r#"
  get_multiref:
    description: rpc/encoded items with multiRef.
    source: multiref
    operation: { element: getItems, namespace: "urn:x", qualified: false }
    response: { path: getItemsResponse/getItemsReturn/item }
    columns:
      "No": { type: string }
      Price: { type: decimal }
  get_slow_project:
    description: An answer that is slow to read but within every budget.
    source: slow_project
    operation: { element: getItems, namespace: "urn:x", qualified: false }
    response: { path: getItemsResponse/getItemsReturn/item }
    columns:
      "No": { type: string }
  get_tiny_flood:
    description: Two million empty elements.
    source: tiny_flood
    operation: { element: getItems, namespace: "urn:x", qualified: false }
    response: { path: getItemsResponse/getItemsReturn/a }
    columns:
      "No": { type: string }
  get_nav_order:
    description: A NAV sales order with its lines.
    source: nav_order
    operation: { element: Read, namespace: "urn:microsoft-dynamics-schemas/page/salesorder" }
    response: { path: Read_Result/SalesOrder }
    columns:
      "No": { type: string }
      Customer: { path: Sell_to_Customer_Name }
      Lines:
        path: SalesLines/Sales_Order_Line
        description: The order's lines.
        fields:
          Line_No: { type: integer }
          "No": { type: string }
          Description: { type: string }
          Quantity: { type: decimal }
      Descriptions: { path: SalesLines/Sales_Order_Line/Description, repeated: true }
    result: { one: true }
  get_href_bomb:
    description: A hostile rpc/encoded answer whose references multiply the work.
    source: href_bomb
    operation: { element: getItems, namespace: "urn:x", qualified: false }
    response: { path: getItemsResponse/getItemsReturn/item }
    columns:
      "No": { type: string }
  get_embedded:
    description: Sage X3-style resultXml.
    source: embedded
    operation:
      element: run
      namespace: "http://www.adonix.com/WSS"
      body:
        publicName: { value: ITM }
    response:
      path: runResponse/runReturn/resultXml
      embedded: { format: xml, path: TAB/LIN }
    columns:
      line: { type: integer, path: "@NUM" }
      item: { type: string, path: FLD }
  get_embedded_json:
    description: JSON text in an element.
    source: embedded_json
    operation: { element: getJson, namespace: "urn:x" }
    response:
      path: getJsonResponse/return
      embedded: { format: json, path: items }
    columns:
      "no": { type: string }
      qty: { type: integer }
  get_bad_value:
    description: A price that is not a number, and a masked secret that is not one either.
    source: bad_value
    operation: { element: GetItem, namespace: "urn:x" }
    response: { path: GetItemResponse/Item }
    columns:
      "No": { type: string }
      Price: { type: string }
    result:
      one: true
      fields:
        "no": "No"
        price: { from: Price, type: decimal }
  get_bad_secret:
    description: A masked secret that is not a number.
    source: bad_value
    operation: { element: GetItem, namespace: "urn:x" }
    response: { path: GetItemResponse/Item }
    columns:
      Secret: { type: integer, mask: hidden }
    result: { one: true }
  echo:
    description: Echo a text.
    parameters:
      text: { type: string }
    source: echo
    operation:
      element: Echo
      namespace: "urn:x"
      body:
        text: text
    response: { path: EchoResponse }
    columns:
      text: { type: string }
    result: { one: true }
"#,
    );
    let doc =
        format!("masking:\n  hidden: {{ strategy: redact }}\nsources:\n{sources}\ntools:{tools}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fixture.yaml"), doc).unwrap();
    dir
}

async fn fixture_pipeline() -> (fixture::Running, Pipeline, tempfile::TempDir) {
    let running = fixture::start().await;
    // SAFETY: every test in this file sets the same value.
    unsafe { std::env::set_var("FIXTURE_PASSWORD", fixture::PASSWORD) };
    let dir = fixture_mapping(&running.base);
    let p = pipeline(dir.path());
    (running, p, dir)
}

async fn fails(p: &Pipeline, tool: &str) -> String {
    match call(p, tool, json!({"item_no": "1000"})).await {
        Err(CallError::Caller(m)) => m,
        other => panic!("{tool}: expected a tool error, got {other:?}"),
    }
}

/// The tool error of a call without arguments.
async fn refused(p: &Pipeline, tool: &str) -> String {
    match call(p, tool, json!({})).await {
        Err(CallError::Caller(m)) => m,
        other => panic!("{tool}: expected a tool error, got {other:?}"),
    }
}

async fn works(p: &Pipeline, tool: &str) -> Value {
    call(p, tool, json!({"item_no": "1000"}))
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

#[tokio::test]
async fn answers_that_are_not_soap_cost_one_clear_error() {
    let (_f, p, _dir) = fixture_pipeline().await;
    let cases = [
        (
            "get_html",
            "answered with an HTML page, not SOAP (HTTP 200): \"Sign in to Contoso ERP\"",
        ),
        (
            "get_unauthorized",
            "refused the credentials (HTTP 401 Unauthorized)",
        ),
        (
            "get_forbidden",
            "denied access (HTTP 403 Forbidden); the account lacks a permission for this operation: \"Access denied for CORP\\mcp\"",
        ),
        (
            "get_missing",
            "no service at the endpoint (HTTP 404 Not Found); check the source's `endpoint`: \"404 Not Found\"",
        ),
        (
            "get_method",
            "does not accept POST (HTTP 405 Method Not Allowed)",
        ),
        (
            "get_empty",
            "answered HTTP 200 with an empty body, not a SOAP envelope",
        ),
        ("get_truncated", "the document ends inside"),
        (
            "get_not_soap",
            "is not a SOAP envelope (root element <status>)",
        ),
    ];
    for (tool, expected) in cases {
        let m = fails(&p, tool).await;
        assert!(m.contains(expected), "{tool}: {m}");
        assert!(
            m.contains(&format!("source `{}`", &tool[4..])),
            "{tool} names its source: {m}"
        );
        // The server keeps serving after every one of them.
        assert_eq!(works(&p, "get_ok").await, json!({"No": "1000"}));
    }
}

#[tokio::test]
async fn hostile_xml_is_harmless() {
    let (_f, p, _dir) = fixture_pipeline().await;
    for tool in ["get_bomb", "get_xxe"] {
        let m = fails(&p, tool).await;
        assert!(
            m.contains("document type declaration (<!DOCTYPE>), which is refused"),
            "{m}"
        );
        assert!(!m.contains("root:"), "nothing of /etc/passwd: {m}");
    }
    let m = fails(&p, "get_deep").await;
    assert!(m.contains("nests elements deeper than 64 levels"), "{m}");
    let m = fails(&p, "get_big").await;
    assert!(
        m.contains("larger than 100000 bytes (max_response_size)"),
        "{m}"
    );
    assert_eq!(works(&p, "get_ok").await, json!({"No": "1000"}));
}

/// An answer whose references multiply the work (every row points at one element with 20,000
/// children, none of them the column): the projection's visit budget refuses it with a clear
/// error instead of reading 40 million elements (the issue's 2.4 MB answer took 40 s).
#[tokio::test]
async fn an_answer_whose_references_multiply_the_work_is_refused() {
    let (_f, p, _dir) = fixture_pipeline().await;
    let m = refused(&p, "get_href_bomb").await;
    assert!(m.contains("too costly to read"), "{m}");
    // The ordinary multiRef answer is read as before.
    let fine = call(&p, "get_multiref", json!({})).await.unwrap();
    assert_eq!(fine["rows"].as_array().unwrap().len(), 2);
}

/// Repeated child records (issue 23): a NAV sales order whose second line omits its
/// Description comes back as an array of line objects, each built from its own element, the
/// missing Description null, never line 3's. (`repeated: true` on a path through the lines
/// still gives every element it reaches, which is why records need `fields:`.) The output
/// schema says so.
#[tokio::test]
async fn repeated_child_records_keep_each_line_whole() {
    let (_f, p, _dir) = fixture_pipeline().await;
    let order = call(&p, "get_nav_order", json!({})).await.unwrap();
    assert_eq!(
        order["Lines"],
        json!([
            {"Line_No": 10000, "No": "1896-S", "Description": "ATHENS Desk", "Quantity": "2"},
            {"Line_No": 20000, "No": "1900-S", "Description": null, "Quantity": "1"},
            {"Line_No": 30000, "No": "1908-S", "Description": "LONDON Swivel Chair", "Quantity": "5.5"}
        ])
    );
    assert_eq!(order["Customer"], "Contoso");
    assert_eq!(
        order["Descriptions"],
        json!(["ATHENS Desk", "LONDON Swivel Chair"])
    );
    let schema =
        serde_json::Value::Object(p.catalog().tools["get_nav_order"].output_schema.clone());
    let lines = &schema["properties"]["Lines"];
    assert_eq!(lines["type"], "array", "{schema}");
    assert_eq!(lines["description"], "The order's lines.", "{schema}");
    assert_eq!(lines["items"]["type"], "object", "{schema}");
    assert_eq!(
        lines["items"]["properties"]["Line_No"]["type"],
        json!(["integer", "null"]),
        "{schema}"
    );
}

/// 2 million empty elements in 8 MB (which cost 350 MB as a tree): refused as a flood once the
/// answer holds more than one element per 16 bytes of `max_response_size`, with the knob named.
#[tokio::test]
async fn a_flood_of_tiny_elements_is_refused_with_the_knob_named() {
    let (_f, p, _dir) = fixture_pipeline().await;
    let m = refused(&p, "get_tiny_flood").await;
    assert!(m.contains("the XML holds more than 625000 elements"), "{m}");
    assert!(m.contains("raise max_response_size"), "{m}");
    assert!(m.contains("source `tiny_flood`"), "{m}");
}

/// Answers that take seconds to read, with `call_timeout: 1s`, three at once on the release
/// binary's two-worker runtime: each call answers its timeout in time, `/healthz` answers at
/// once meanwhile, and the reading stops with the call (the process goes idle), instead of
/// running on for 40 s on the async runtime as the issue measured.
#[tokio::test]
async fn reading_an_answer_stops_with_its_call_and_never_stalls_the_server() {
    let running = fixture::start().await;
    let dir = fixture_mapping(&running.base);
    let server = HttpServer::start_with_env(
        dir.path(),
        &[],
        &[
            ("FIXTURE_PASSWORD", fixture::PASSWORD),
            ("LEGACY_MCP__LIMITS__CALL_TIMEOUT", "1s"),
        ],
    )
    .await;
    let pid = server.child.id().unwrap();
    let client = server
        .client(rmcp::model::ProtocolVersion::V_2025_11_25)
        .await;
    let started = std::time::Instant::now();
    let calls: Vec<_> = (0..3)
        .map(|_| {
            let peer = client.peer().clone();
            tokio::spawn(async move {
                let params = CallToolRequestParams::new("get_slow_project");
                let r = peer.call_tool(params).await.expect("an answer");
                (r.is_error, serde_json::to_string(&r.content).unwrap())
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let health = std::time::Instant::now();
    let status = reqwest::get(format!("http://{}/healthz", server.addr))
        .await
        .unwrap()
        .status();
    assert!(status.is_success());
    assert!(
        health.elapsed() < std::time::Duration::from_secs(1),
        "/healthz took {:?} while answers were being read",
        health.elapsed()
    );
    for c in calls {
        let (is_error, text) = c.await.unwrap();
        assert_eq!(is_error, Some(true), "{text}");
        assert!(text.contains("call_timeout"), "{text}");
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "the timeouts were answered after {:?}",
        started.elapsed()
    );
    // The abandoned readings stop: the process is idle within a moment.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let before = support::cpu_seconds(pid);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let spent = support::cpu_seconds(pid) - before;
    assert!(
        spent < 0.3,
        "the server spent {spent:.2} s of CPU in the 1.5 s after every call was abandoned"
    );
}

/// A service whose fault repeats the credentials it was sent: the agent's error (and so the
/// audit line, which records that message) shows neither the password nor the basic-auth
/// header value, and still says what the service said.
#[tokio::test]
async fn a_fault_that_echoes_the_sources_credentials_is_scrubbed() {
    use base64::Engine;
    let (f, p, _dir) = fixture_pipeline().await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        fixture::USER,
        fixture::PASSWORD
    ));
    for tool in ["get_echo_wssec", "get_echo_basic"] {
        let m = fails(&p, tool).await;
        assert!(
            m.contains("Login failed for mcp with password"),
            "{tool}: {m}"
        );
        assert!(!m.contains(fixture::PASSWORD), "{tool}: {m}");
        assert!(!m.contains("s3cret"), "{tool}: {m}");
        assert!(!m.contains(&basic), "{tool}: {m}");
    }
    // The fixture did echo them: the request carried what the fault repeated.
    let seen = f.seen();
    let sent = seen.iter().find(|s| s.path == "echo_credentials").unwrap();
    assert!(sent.body.contains("s3cret") || sent.headers.contains_key("authorization"));
}

#[tokio::test]
async fn faults_read_like_the_erps_own_message() {
    let (f, p, _dir) = fixture_pipeline().await;
    assert_eq!(
        fails(&p, "get_fault11").await,
        "the service answered with a SOAP fault: Item 9999 does not exist (code Client.NotFound)"
    );
    // A fault delivered with HTTP 200 (some stacks do) is still a fault.
    let m = fails(&p, "get_fault11_200").await;
    assert!(m.starts_with("the service answered with a SOAP fault: Posting date is not within your range of allowed posting dates. (code Server)"), "{m}");
    assert_eq!(
        fails(&p, "get_fault12").await,
        "the service answered with a SOAP fault: Item 1000 is blocked for sales (code Sender/ItemBlocked); detail: Blocked since 2026-10-01"
    );
    assert_eq!(works(&p, "get_v12").await, json!({"No": "1000"}));
    // What went over the wire: 1.1 with a quoted SOAPAction, 1.2 with the action parameter.
    let seen = f.seen();
    let v11 = seen.iter().find(|s| s.path == "fault11").unwrap();
    assert_eq!(v11.headers["content-type"], "text/xml; charset=utf-8");
    assert_eq!(v11.headers["soapaction"], "\"urn:x/GetItem\"");
    assert!(v11.body.contains(fixture::ENV11));
    let v12 = seen.iter().find(|s| s.path == "ok12").unwrap();
    assert_eq!(
        v12.headers["content-type"],
        "application/soap+xml; charset=utf-8; action=\"urn:x/GetItem\""
    );
    assert!(v12.headers.get("soapaction").is_none());
    assert!(v12.body.contains(fixture::ENV12));
}

#[tokio::test]
async fn basic_bearer_and_ws_security() {
    let (f, p, _dir) = fixture_pipeline().await;
    for tool in ["get_basic", "get_bearer", "get_wssec"] {
        assert_eq!(works(&p, tool).await, json!({"No": "1000"}), "{tool}");
    }
    let m = fails(&p, "get_basic_wrong").await;
    assert!(m.contains("HTTP 401"), "{m}");
    let m = fails(&p, "get_wssec_wrong").await;
    assert!(
        m.contains("The security token could not be authenticated (code Client.Authentication)"),
        "{m}"
    );
    let seen = f.seen();
    let wssec = seen.iter().find(|s| s.path == "wssec").unwrap();
    assert!(
        !wssec.body.contains(fixture::PASSWORD),
        "a digest never carries the password"
    );
    // Extra SOAP headers travel as declared.
    let bearer = seen.iter().find(|s| s.path == "bearer").unwrap();
    assert!(
        bearer.body.contains(r#"<soap:Header><CAdxCallContext xmlns="http://www.adonix.com/WSS"><codeLang>ENG</codeLang><poolAlias>SEED</poolAlias></CAdxCallContext></soap:Header>"#),
        "{}",
        bearer.body
    );
}

#[tokio::test]
async fn a_hanging_service_costs_one_timeout() {
    let (_f, p, _dir) = fixture_pipeline().await;
    let started = std::time::Instant::now();
    let m = fails(&p, "get_hang").await;
    assert!(
        m.contains("did not answer within 1 s (request_timeout)"),
        "{m}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(works(&p, "get_ok").await, json!({"No": "1000"}));
}

#[tokio::test]
async fn multiref_and_embedded_documents() {
    let (_f, p, _dir) = fixture_pipeline().await;
    let r = call(&p, "get_multiref", json!({})).await.unwrap();
    assert_eq!(
        r["rows"],
        json!([{"No": "1000", "Price": "4000.00"}, {"No": "1001", "Price": "4500.00"}])
    );
    let r = call(&p, "get_embedded", json!({})).await.unwrap();
    assert_eq!(
        r["rows"],
        json!([{"line": 1, "item": "BMS001"}, {"line": 2, "item": "BMS002"}])
    );
    let r = call(&p, "get_embedded_json", json!({})).await.unwrap();
    assert_eq!(
        r["rows"],
        json!([{"no": "A1", "qty": 3}, {"no": "A2", "qty": 5}])
    );
}

#[tokio::test]
async fn bad_values_are_named_and_masked_ones_not_quoted() {
    let (_f, p, _dir) = fixture_pipeline().await;
    let m = match call(&p, "get_bad_value", json!({})).await {
        Err(CallError::Caller(m)) => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(m, "field `price`: cannot convert `twelve` to decimal");
    let m = match call(&p, "get_bad_secret", json!({})).await {
        Err(CallError::Caller(m)) => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        m,
        "source `bad_value`: row 1: column `Secret`: the value is not a valid integer (not quoted: the column is masked)"
    );
}

#[tokio::test]
async fn values_travel_escaped_and_intact() {
    let (f, p, _dir) = fixture_pipeline().await;
    let evil = "</text><admin>1</admin><![CDATA[x]]>&amp; \"' ü";
    let r = call(&p, "echo", json!({"text": evil})).await.unwrap();
    assert_eq!(r, json!({"text": evil}));
    let sent = &f
        .seen()
        .iter()
        .find(|s| s.path == "echo")
        .unwrap()
        .body
        .clone();
    assert!(!sent.contains("<admin>"), "{sent}");
}

#[test]
fn check_guards_writes_and_names_soap_mistakes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(
        &file,
        r#"sources:
  erp: { kind: soap, endpoint: "ftp://erp/x", directory: x }
tools:
  create_order:
    description: Creates an order.
    parameters:
      customer: { type: string }
      unused: { type: string }
    source: erp
    operation:
      element: CreateOrder
      body:
        Customer: customr
        "bad name": { value: x }
    response: { path: CreateOrderResponse }
    columns:
      no: { type: string, path: "@a/b" }
    cache: { ttl: 1m }
"#,
    )
    .unwrap();
    let out = std::process::Command::new(bin())
        .args(["check", "--mappings"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr).replace(&file.display().to_string(), "F");
    for expected in [
        "`directory` does not apply to a soap source (it is for flatfile); remove it",
        "`ftp://erp/x` is not an http:// or https:// URL",
        "`customr` is not a parameter of this tool (parameters: customer, unused)",
        "`bad name` is not an XML element name",
        "parameter `unused` is not used by the operation's body",
        "parameter `customer` is not used by the operation's body",
        "an `@attribute` can only be the last step of a path",
        "operation `CreateOrder` changes data by its name: a tool that writes must say `allow_writes: true`",
        "a tool that writes is never cached; remove `cache:`",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// A real SOAP stack: spyne.

/// The spyne ERP service on a free port; it stops when its stdin closes (on drop).
struct Spyne {
    child: Child,
    url: String,
}

impl Spyne {
    fn start() -> Spyne {
        let python = std::env::var("LEGACY_MCP_PYTHON").unwrap_or_else(|_| "python3".into());
        let mut child = Command::new(python)
            .arg(root().join("tests/peers/erp_soap.py"))
            .arg("0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Some(port) = line.trim().strip_prefix("listening ") else {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).ok();
            panic!(
                "the spyne service did not start (run scripts/test: it installs spyne): {line}{err}"
            );
        };
        Spyne {
            url: format!("http://127.0.0.1:{port}/"),
            child,
        }
    }
}

impl Drop for Spyne {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn example() -> std::path::PathBuf {
    root().join("mappings/examples/soap-erp")
}

async fn mcp_call(client: &Client, tool: &str, args: Value) -> (bool, Value) {
    let r = client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(support::args(args)))
        .await
        .unwrap();
    let is_error = r.is_error == Some(true);
    let body = match r.structured_content {
        Some(s) => s,
        None => json!(r.content[0].as_text().unwrap().text.clone()),
    };
    (is_error, body)
}

#[tokio::test]
async fn spyne_service_through_mcp() {
    let spyne = Spyne::start();
    let client =
        stdio_client_with_env(&example(), &[], &[("ERP_SOAP_URL", spyne.url.as_str())]).await;
    let tools = client.list_all_tools().await.unwrap();
    let create = tools
        .iter()
        .find(|t| t.name == "create_sales_order")
        .unwrap();
    let hints = create.annotations.as_ref().unwrap();
    assert_eq!(hints.read_only_hint, Some(false));
    assert_eq!(hints.destructive_hint, Some(true));
    // A mapping that writes is not introduced as read-only.
    let intro = instructions(&client);
    assert!(
        intro.starts_with("Access to ERP data: tools annotated destructive"),
        "{intro}"
    );
    let find = tools.iter().find(|t| t.name == "find_items").unwrap();
    assert_eq!(
        find.output_schema.as_ref().unwrap()["properties"]["rows"]["items"]["properties"]["tags"]["type"],
        "array"
    );

    let (err, c) = mcp_call(&client, "get_customer", json!({"customer_no": "C10000"})).await;
    assert!(!err, "{c}");
    assert_eq!(
        c,
        json!({"number": "C10000", "name": "Müller & Söhne <GmbH>", "email": "***@mueller.example",
               "balance": "12500.50", "last_order": "2026-10-02", "blocked": false})
    );
    let (err, c) = mcp_call(&client, "get_customer", json!({"customer_no": "C10001"})).await;
    assert!(!err);
    assert_eq!(c["last_order"], Value::Null, "nil is null");

    let (err, m) = mcp_call(&client, "get_customer", json!({"customer_no": "C99999"})).await;
    assert!(err);
    assert_eq!(
        m,
        json!(
            "the service answered with a SOAP fault: Customer C99999 does not exist (code Client.NotFound); detail: C99999"
        )
    );

    // Paging over a list the service returns whole.
    let (_, page1) = mcp_call(&client, "find_items", json!({"prefix": "1"})).await;
    assert_eq!(page1["count"], 2);
    assert_eq!(page1["truncated"], true);
    assert_eq!(page1["rows"][0]["tags"], json!(["bike", "sport"]));
    assert_eq!(page1["rows"][0]["unit"], "PCS");
    let (_, page2) = mcp_call(
        &client,
        "find_items",
        json!({"prefix": "1", "cursor": page1["next_cursor"]}),
    )
    .await;
    assert_eq!(
        page2["rows"],
        json!([{"item_no": "1100", "description": "Front Wheel", "price": "120.50", "unit": "BOX", "tags": ["spare"]}])
    );
    assert_eq!(page2["truncated"], false);
    let (_, cheap) = mcp_call(
        &client,
        "find_items",
        json!({"prefix": "", "max_price": 100}),
    )
    .await;
    assert_eq!(cheap["rows"][0]["item_no"], "2000");
    assert_eq!(cheap["rows"][0]["tags"], json!([]));

    // An array parameter: one <string> per item, answers in the order asked.
    let (err, got) = mcp_call(&client, "get_items", json!({"item_nos": ["2000", "1100"]})).await;
    assert!(!err, "{got}");
    assert_eq!(
        got["rows"],
        json!([{"item_no": "2000", "description": "Helmet", "price": "59.90"},
               {"item_no": "1100", "description": "Front Wheel", "price": "120.50"}])
    );
    let (err, m) = mcp_call(
        &client,
        "get_items",
        json!({"item_nos": ["1000", "x".repeat(21)]}),
    )
    .await;
    assert!(err);
    assert_eq!(
        m,
        json!("argument `item_nos` item 2 is 21 characters long; at most 20 allowed")
    );

    let evil = "</text><admin>1</admin>&amp;";
    let (_, e) = mcp_call(&client, "echo", json!({"text": evil})).await;
    assert_eq!(e, json!({"text": evil}));

    // A guarded write, then the order it made.
    let (err, made) = mcp_call(
        &client,
        "create_sales_order",
        json!({"customer_no": "C10000", "item_no": "2000", "quantity": 3}),
    )
    .await;
    assert!(!err, "{made}");
    let no = made["order_no"].as_str().unwrap().to_string();
    let (_, order) = mcp_call(&client, "get_sales_order", json!({"order_no": no})).await;
    assert_eq!(order["CustomerNo"], "C10000");
    assert_eq!(order["line_items"], json!(["2000"]));
    assert_eq!(order["line_quantities"], json!([3]));
    assert_eq!(order["line_amounts"], json!(["179.70"]));
    client.cancel().await.ok();
}

// ---------------------------------------------------------------------------------------------
// Dynamics NAV: the example mapping against recorded page-service answers, and the importer.

#[tokio::test]
async fn nav_page_service_read_and_read_multiple_with_bookmarks() {
    let f = fixture::start().await;
    // SAFETY: these variables are only read by the mappings of this test.
    unsafe {
        std::env::set_var("NAV_CUSTOMER_URL", format!("{}/nav", f.base));
        std::env::set_var("NAV_USER", "CRONUS\\mcp");
        std::env::set_var("NAV_PASSWORD", "nav-pw");
    }
    let p = pipeline(&root().join("mappings/examples/nav-soap"));
    let c = call(&p, "nav_get_customer", json!({"customer_no": "10000"}))
        .await
        .unwrap();
    assert_eq!(
        c,
        json!({"number": "10000", "name": "The Cannon Group PLC", "city": "Birmingham",
               "email": "info@10000.example", "blocked": "_blank_", "credit_limit": "0",
               "balance": "168364.00", "modified": "2026-10-01"})
    );
    match call(&p, "nav_get_customer", json!({"customer_no": "99999"})).await {
        Err(CallError::Caller(m)) => assert!(
            m.starts_with("the service answered with a SOAP fault: The Customer does not exist. Identification fields and values: No.='99999' (code Microsoft.Dynamics.Nav.Types.Exceptions.NavCSideRecordNotFoundException)"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    let page1 = call(
        &p,
        "nav_find_customers",
        json!({"field": "City", "criteria": "London|Birmingham|Manchester", "page_size": 2}),
    )
    .await
    .unwrap();
    assert_eq!(page1["count"], 2);
    let last_key = page1["rows"][1]["key"].as_str().unwrap().to_string();
    let page2 = call(&p, "nav_find_customers", json!({"field": "City", "criteria": "London|Birmingham|Manchester", "page_size": 2, "bookmark": last_key})).await.unwrap();
    assert_eq!(page2["rows"][0]["number"], "30000");
    assert_eq!(page2["rows"][0]["blocked"], "Invoice");
    // What NAV received: basic auth, the filter as declared, the bookmark on the second call.
    let seen = f.seen();
    let auth = seen[0].headers["authorization"].to_str().unwrap();
    use base64::Engine;
    assert_eq!(
        auth,
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("CRONUS\\mcp:nav-pw")
        )
    );
    let multi: Vec<&fixture::Seen> = seen
        .iter()
        .filter(|s| s.body.contains("ReadMultiple"))
        .collect();
    assert!(multi[0].body.contains("<filter><Field>City</Field><Criteria>London|Birmingham|Manchester</Criteria></filter><setSize>2</setSize>"), "{}", multi[0].body);
    // A second filter: the same element again, named by `element:`.
    call(&p, "nav_find_customers", json!({"field": "City", "criteria": "London", "and_field": "Blocked", "and_criteria": "Invoice"})).await.unwrap();
    let last = f.seen().pop().unwrap();
    assert!(last.body.contains("<filter><Field>City</Field><Criteria>London</Criteria></filter><filter><Field>Blocked</Field><Criteria>Invoice</Criteria></filter>"), "{}", last.body);
    assert!(
        multi[1]
            .body
            .contains(&format!("<bookmarkKey>{last_key}</bookmarkKey>"))
    );
}

fn import(args: &[&str]) -> String {
    succeeded(
        std::process::Command::new(bin())
            .arg("import-wsdl")
            .args(args)
            .output()
            .unwrap(),
    )
}

fn check_ok(dir: &std::path::Path) {
    let out = std::process::Command::new(bin())
        .args(["check", "--mappings"])
        .arg(dir)
        .output()
        .unwrap();
    let stdout = succeeded(out);
    assert!(stdout.starts_with("ok:"), "{stdout}");
}

#[test]
fn nav_page_and_codeunit_wsdls_import_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let page = import(&[root()
        .join("fixtures/soap/nav/Customer.wsdl")
        .to_str()
        .unwrap()]);
    for expected in [
        "endpoint: \"http://nav01:7047/DynamicsNAV100/WS/CRONUS%20International%20Ltd./Page/Customer\"",
        "  read:\n",
        "      \"No\": \"no\"",
        "      filter_field: { type: enum, values: [\"No\", \"Name\"",
        "      bookmark_key: { type: string, required: false }",
        "        \"filter\":\n          children:\n            \"Field\": \"filter_field\"",
        "      path: \"ReadMultiple_Result/ReadMultiple_Result/Customer\"",
        "      balance_lcy: { type: decimal, path: \"Balance_LCY\" }",
        "      last_date_modified: { type: date, path: \"Last_Date_Modified\" }",
        "  delete:\n",
    ] {
        assert!(page.contains(expected), "missing {expected:?} in:\n{page}");
    }
    assert_eq!(
        page.matches("allow_writes: true").count(),
        3,
        "Create, Update, Delete"
    );
    std::fs::write(dir.path().join("customer.yaml"), page).unwrap();
    let out = dir.path().join("sales_posting.yaml");
    import(&[
        root()
            .join("fixtures/soap/nav/SalesPosting.wsdl")
            .to_str()
            .unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let codeunit = std::fs::read_to_string(&out).unwrap();
    assert!(
        codeunit.contains("      posting_date: { type: date }"),
        "{codeunit}"
    );
    assert!(
        codeunit.contains("      return_value: { type: string }"),
        "{codeunit}"
    );
    check_ok(dir.path());
    // --out never replaces a file.
    let again = std::process::Command::new(bin())
        .arg("import-wsdl")
        .arg(root().join("fixtures/soap/nav/SalesPosting.wsdl"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!again.status.success());
}

/// A WSDL split the way WCF publishes it (service here, the rest behind `wsdl:import`, whose
/// types `xsd:import` a schema that `xsd:include`s another) imports whole and checks; an
/// operation answering an empty element becomes a tool that reports success, an
/// `xs:dateTime` input a `datetime` parameter. An rpc/encoded binding is refused with that word.
#[test]
fn a_wsdl_split_over_imports_and_includes_imports_whole() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = import(&[root()
        .join("fixtures/soap/wcf/OrderService.wsdl")
        .to_str()
        .unwrap()]);
    for expected in [
        "endpoint: \"http://erp01:8080/OrderService.svc\"",
        "      path: \"GetOrderResponse/GetOrderResult\"",
        "      customer_no: { type: string, path: \"CustomerNo\" }",
        "      deliver_at: { type: datetime }",
        "      path: \"RescheduleResponse\"\n      returns_nothing: true",
    ] {
        assert!(yaml.contains(expected), "missing {expected:?} in:\n{yaml}");
    }
    std::fs::write(dir.path().join("orders.yaml"), yaml).unwrap();
    check_ok(dir.path());

    let encoded = dir.path().join("Encoded.wsdl");
    std::fs::write(
        &encoded,
        r#"<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:tns="urn:x" targetNamespace="urn:x"><message name="In"><part name="id" type="xsd:string"/></message><message name="Out"><part name="name" type="xsd:string"/></message><portType name="P"><operation name="GetName"><input message="tns:In"/><output message="tns:Out"/></operation></portType><binding name="B" type="tns:P"><soap:binding style="rpc" transport="http://schemas.xmlsoap.org/soap/http"/><operation name="GetName"><soap:operation soapAction="urn:x#GetName"/><input><soap:body use="encoded" namespace="urn:x" encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"/></input><output><soap:body use="encoded" namespace="urn:x"/></output></operation></binding><service name="Old"><port name="P" binding="tns:B"><soap:address location="http://x/"/></port></service></definitions>"#,
    )
    .unwrap();
    let out = std::process::Command::new(bin())
        .arg("import-wsdl")
        .arg(&encoded)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("GetName: rpc/encoded (SOAP section 5 encoding) is not supported"),
        "{stderr}"
    );
}

/// Two NAV pages in one mapping directory: `--prefix` keeps their tools apart (both have
/// `Read`, `ReadMultiple`, ...), and the directory checks. A WSDL with nothing to import is an
/// error naming the service, not an empty mapping.
#[test]
fn two_nav_pages_share_a_directory_with_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    for (file, prefix) in [
        ("Customer.wsdl", "customer"),
        ("SalesOrder.wsdl", "sales_order"),
    ] {
        let page = import(&[
            root()
                .join("fixtures/soap/nav")
                .join(file)
                .to_str()
                .unwrap(),
            "--prefix",
            prefix,
        ]);
        assert!(page.contains(&format!("  {prefix}_read:\n")), "{page}");
        std::fs::write(dir.path().join(format!("{prefix}.yaml")), page).unwrap();
    }
    check_ok(dir.path());
    let empty = dir.path().join("Empty.wsdl");
    std::fs::write(
        &empty,
        r#"<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:tns="urn:x" targetNamespace="urn:x"><portType name="P"/><binding name="B" type="tns:P"><binding transport="http://schemas.xmlsoap.org/soap/http" xmlns="http://schemas.xmlsoap.org/wsdl/soap/"/></binding><service name="Empty"><port name="P" binding="tns:B"><address location="http://x/" xmlns="http://schemas.xmlsoap.org/wsdl/soap/"/></port></service></definitions>"#,
    )
    .unwrap();
    let out = std::process::Command::new(bin())
        .arg("import-wsdl")
        .arg(&empty)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no operation of service `Empty` could be imported"),
        "{stderr}"
    );
    // A directory of sources without tools checks, with a warning that says so.
    let bare = tempfile::tempdir().unwrap();
    std::fs::write(
        bare.path().join("m.yaml"),
        "sources:\n  erp: { kind: soap, endpoint: \"http://127.0.0.1:9/\" }\n",
    )
    .unwrap();
    let out = std::process::Command::new(bin())
        .args(["check", "--mappings"])
        .arg(bare.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("defines no tools"), "{stderr}");
}

/// A NAV page whose record holds a list of lines (a sales order): `import-wsdl` makes the lines
/// one column of records (`fields:`), the mapping checks as written, and against a NAV-style
/// answer whose second line omits its Description each line comes back whole.
#[tokio::test]
async fn an_imported_nav_order_keeps_its_lines_as_records() {
    let f = fixture::start().await;
    let page = import(&[root()
        .join("fixtures/soap/nav/SalesOrder.wsdl")
        .to_str()
        .unwrap()]);
    assert!(
        page.contains(
            "      sales_lines:\n        path: \"SalesLines/Sales_Order_Line\"\n        fields:\n"
        ),
        "{page}"
    );
    assert!(
        page.contains("          line_no: { type: integer, path: \"Line_No\" }"),
        "{page}"
    );
    let dir = tempfile::tempdir().unwrap();
    let page = page.replace(
        "http://nav01:7047/DynamicsNAV100/WS/CRONUS%20International%20Ltd./Page/SalesOrder",
        &format!("{}/nav_order", f.base),
    );
    std::fs::write(dir.path().join("sales_order.yaml"), page).unwrap();
    check_ok(dir.path());
    let p = pipeline(dir.path());
    let order = call(&p, "read", json!({"no": "SO1001"})).await.unwrap();
    assert_eq!(order["sell_to_customer_name"], "Contoso");
    let lines = order["sales_lines"].as_array().unwrap();
    assert_eq!(lines.len(), 3, "{order}");
    assert_eq!(lines[1]["line_no"], 20000);
    assert_eq!(lines[1]["description"], Value::Null, "{order}");
    assert_eq!(lines[2]["description"], "LONDON Swivel Chair");
    assert_eq!(lines[2]["quantity"], "5.5");
}

#[tokio::test]
async fn imported_spyne_wsdl_checks_and_calls() {
    let spyne = Spyne::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("erp.yaml");
    import(&[
        &format!("{}?wsdl", spyne.url),
        "--out",
        file.to_str().unwrap(),
    ]);
    check_ok(dir.path());
    let call = |tool: &str, args: &str| {
        std::process::Command::new(bin())
            .args(["call", tool, "--args", args, "--mappings"])
            .arg(dir.path())
            .output()
            .unwrap()
    };
    let order: Value = serde_json::from_str(&succeeded(call(
        "get_sales_order",
        r#"{"order_no":"SO-1001"}"#,
    )))
    .unwrap();
    assert_eq!(order["customer_no"], "C10000");
    // The order's lines are records (`fields:`), each read from its own element.
    let quantities: Vec<Value> = order["lines"]
        .as_array()
        .unwrap_or_else(|| panic!("lines as records: {order}"))
        .iter()
        .map(|l| l["quantity"].clone())
        .collect();
    assert_eq!(quantities, vec![json!(2), json!(4)], "{order}");
    let items: Value =
        serde_json::from_str(&succeeded(call("find_items", r#"{"prefix":"11"}"#))).unwrap();
    assert_eq!(
        items["rows"],
        json!([{"unit": "BOX", "item_no": "1100", "description": "Front Wheel", "price": "120.50", "tags_string": ["spare"]}])
    );
    // An array parameter: the WSDL's repeated element, sent once per item, in order.
    let yaml = std::fs::read_to_string(&file).unwrap();
    assert!(
        yaml.contains("item_nos_string: { type: array, items: string, required: false }"),
        "{yaml}"
    );
    let items: Value = serde_json::from_str(&succeeded(call(
        "get_items",
        r#"{"item_nos_string":["2000","1000"]}"#,
    )))
    .unwrap();
    let numbers: Vec<&Value> = items["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["item_no"])
        .collect();
    assert_eq!(numbers, [&json!("2000"), &json!("1000")]);
    let wrong = call("get_items", r#"{"item_nos_string":"2000"}"#);
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("must be a list of string values"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    // An operation that answers nothing (an empty element) reports success; its dateTime
    // parameter is validated here and reaches the service as written, zone included.
    assert!(
        yaml.contains("      delivery: { type: datetime, required: false }")
            && yaml.contains("returns_nothing: true"),
        "{yaml}"
    );
    let done: Value = serde_json::from_str(&succeeded(call(
        "set_delivery_time",
        r#"{"order_no":"SO-1001","delivery":"2026-12-24T09:30:00+01:00"}"#,
    )))
    .unwrap();
    assert_eq!(done, json!({"ok": true}));
    let got: Value = serde_json::from_str(&succeeded(call(
        "get_delivery_time",
        r#"{"order_no":"SO-1001"}"#,
    )))
    .unwrap();
    assert_eq!(
        got["get_delivery_time_result"], "2026-12-24T09:30:00+01:00",
        "{got}"
    );
    let bad = call(
        "set_delivery_time",
        r#"{"order_no":"SO-1001","delivery":"24.12.2026 09:30"}"#,
    );
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("a date and time as YYYY-MM-DDThh:mm:ss"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let fault = call("get_customer", r#"{"customer_no":"C4"}"#);
    assert!(!fault.status.success());
    assert_eq!(
        String::from_utf8_lossy(&fault.stderr).trim(),
        "error: the service answered with a SOAP fault: Customer C4 does not exist (code Client.NotFound); detail: C4"
    );
}

// ---------------------------------------------------------------------------------------------
// Writes confirmed by the user: MCP elicitation in a session (2025-11-25) and in the answer
// for stateless clients (2026-07-28), with rmcp's client standing in for the user.

/// A client whose "user" answers every confirmation with `action`, and remembers the questions.
#[derive(Clone)]
struct User {
    action: rmcp::model::ElicitationAction,
    version: rmcp::model::ProtocolVersion,
    asked: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl rmcp::ClientHandler for User {
    async fn create_elicitation(
        &self,
        request: rmcp::model::ElicitRequestParams,
        _: rmcp::service::RequestContext<rmcp::RoleClient>,
    ) -> Result<rmcp::model::ElicitResult, rmcp::ErrorData> {
        let rmcp::model::ElicitRequestParams::FormElicitationParams { message, .. } = request
        else {
            panic!("a confirmation is a form");
        };
        self.asked.lock().unwrap().push(message);
        Ok(rmcp::model::ElicitResult::new(self.action.clone()))
    }

    fn get_info(&self) -> rmcp::model::ClientConfig {
        let mut caps = rmcp::model::ClientCapabilities::default();
        caps.elicitation = Some(Default::default());
        rmcp::model::ClientConfig::new(
            caps,
            rmcp::model::Implementation::new("confirming-user", "0"),
        )
        .with_protocol_version(self.version.clone())
    }
}

impl User {
    fn new(action: rmcp::model::ElicitationAction, version: rmcp::model::ProtocolVersion) -> User {
        User {
            action,
            version,
            asked: Default::default(),
        }
    }

    async fn connect(&self, url: String) -> rmcp::service::RunningService<rmcp::RoleClient, User> {
        use rmcp::ServiceExt;
        use rmcp::service::{ClientLifecycleMode, ClientServiceExt};
        let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(url);
        if self.version.has_initialize() {
            return self.clone().serve(transport).await.expect("initialize");
        }
        let lifecycle = ClientLifecycleMode::Discover {
            preferred_versions: vec![self.version.clone()],
        };
        self.clone()
            .serve_with_lifecycle(transport, lifecycle)
            .await
            .expect("discover")
    }

    fn questions(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

async fn create_order<H: rmcp::ClientHandler>(
    c: &rmcp::service::RunningService<rmcp::RoleClient, H>,
) -> (bool, Value) {
    let r = c
        .call_tool(
            CallToolRequestParams::new("create_sales_order").with_arguments(support::args(
                json!({"customer_no": "C10000", "item_no": "1100", "quantity": 2}),
            )),
        )
        .await
        .unwrap();
    let body = r
        .structured_content
        .unwrap_or_else(|| json!(r.content[0].as_text().unwrap().text.clone()));
    (r.is_error == Some(true), body)
}

#[tokio::test]
async fn writes_are_confirmed_by_the_user() {
    use rmcp::model::{ElicitationAction, ProtocolVersion};
    let spyne = Spyne::start();
    let server =
        HttpServer::start_with_env(&example(), &[], &[("ERP_SOAP_URL", spyne.url.as_str())]).await;
    // The first new order is SO-1002; a declined write makes none.
    let order_exists = |no: &'static str| {
        let url = server.url();
        async move {
            let c = User::new(ElicitationAction::Accept, ProtocolVersion::V_2025_11_25)
                .connect(url)
                .await;
            let r = c
                .call_tool(
                    CallToolRequestParams::new("get_sales_order")
                        .with_arguments(support::args(json!({"order_no": no}))),
                )
                .await
                .unwrap();
            r.is_error == Some(false)
        }
    };

    for version in [ProtocolVersion::V_2025_11_25, ProtocolVersion::V_2026_07_28] {
        let no = User::new(ElicitationAction::Decline, version.clone());
        let c = no.connect(server.url()).await;
        let (err, m) = create_order(&c).await;
        assert!(err, "{version}: {m}");
        assert_eq!(
            m,
            json!(
                "the user declined this change; nothing was sent to the ERP. Do not retry unless the user asks for it"
            )
        );
        assert_eq!(
            no.questions(),
            [
                "Create a sales order changes data in the ERP (source `erp`). Send it with customer_no = \"C10000\", item_no = \"1100\", quantity = 2?"
            ],
            "{version}"
        );
        assert!(
            !order_exists("SO-1002").await,
            "{version}: a declined write sent nothing"
        );

        let cancel = User::new(ElicitationAction::Cancel, version.clone());
        let (err, m) = create_order(&cancel.connect(server.url()).await).await;
        assert!(err);
        assert!(
            m.as_str()
                .unwrap()
                .starts_with("the user dismissed the confirmation; nothing was sent"),
            "{m}"
        );
    }
    for (version, expected) in [
        (ProtocolVersion::V_2025_11_25, "SO-1002"),
        (ProtocolVersion::V_2026_07_28, "SO-1003"),
    ] {
        let yes = User::new(ElicitationAction::Accept, version.clone());
        let (err, made) = create_order(&yes.connect(server.url()).await).await;
        assert!(!err, "{version}: {made}");
        assert_eq!(made["order_no"], expected, "{version}");
        assert_eq!(yes.questions().len(), 1, "{version}: asked once");
    }

    // A client that cannot ask: `ask` sends, `require` refuses.
    let plain = server.client(ProtocolVersion::V_2025_11_25).await;
    let (err, made) = create_order(&plain).await;
    assert!(!err, "{made}");
    assert_eq!(made["order_no"], "SO-1004");
    drop(server);
    let dir = tempfile::tempdir().unwrap();
    let yaml = std::fs::read_to_string(example().join("erp.yaml"))
        .unwrap()
        .replace("confirm: ask", "confirm: require");
    std::fs::write(dir.path().join("erp.yaml"), yaml).unwrap();
    let strict =
        HttpServer::start_with_env(dir.path(), &[], &[("ERP_SOAP_URL", spyne.url.as_str())]).await;
    let (err, m) = create_order(&strict.client(ProtocolVersion::V_2025_11_25).await).await;
    assert!(err);
    assert_eq!(
        m,
        json!(
            "`create_sales_order` changes ERP data and needs the user's confirmation, but it cannot be asked (the client does not support MCP elicitation); nothing was sent to the ERP"
        )
    );
    // `legacy-mcp call`: no terminal here, so a `require` write needs --yes.
    let call = |extra: &[&str]| {
        std::process::Command::new(bin())
            .args([
                "call",
                "create_sales_order",
                "--args",
                r#"{"customer_no":"C10000","item_no":"1000","quantity":1}"#,
                "--mappings",
            ])
            .arg(dir.path())
            .args(extra)
            .env("ERP_SOAP_URL", &spyne.url)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let refused = call(&[]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("pass --yes to confirm"));
    let made: Value = serde_json::from_str(&succeeded(call(&["--yes"]))).unwrap();
    assert_eq!(made["order_no"], "SO-1005");
}

// ---------------------------------------------------------------------------------------------
// NTLM against the fixture's verifying server: one handshake per connection, accounts never
// crossing between sources, wrong passwords and servers without NTLM.

fn ntlm_mapping(base: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let source = |name: &str, user: &str, password_var: &str, path: &str| {
        format!(
            "  {name}:\n    kind: soap\n    endpoint: {base}/{path}\n    namespace: urn:fixture\n    auth:\n      ntlm: {{ user: '{user}', password: \"${{env:{password_var}}}\" }}\n"
        )
    };
    let tool = |name: &str, source: &str| {
        format!(
            "  {name}:\n    description: Who the service thinks we are.\n    source: {source}\n    operation: {{ element: WhoAmI, action: WhoAmI }}\n    response: {{ path: WhoAmIResponse }}\n    columns:\n      user: {{ type: string }}\n      handshakes: {{ type: integer }}\n      bodyBytes: {{ type: integer }}\n    result: {{ one: true }}\n"
        )
    };
    let yaml = format!(
        "version: 1\nsources:\n{}{}{}{}tools:\n{}{}{}{}",
        source("nav_mcp", "CRONUS\\mcp", "NTLM_TEST_MCP_PW", "ntlm"),
        source(
            "nav_auditor",
            "CRONUS\\auditor",
            "NTLM_TEST_AUDITOR_PW",
            "ntlm"
        ),
        source("nav_wrong", "CRONUS\\mcp", "NTLM_TEST_WRONG_PW", "ntlm"),
        source("not_ntlm", "CRONUS\\mcp", "NTLM_TEST_MCP_PW", "ok"),
        tool("who_mcp", "nav_mcp"),
        tool("who_auditor", "nav_auditor"),
        tool("who_wrong", "nav_wrong"),
        tool("who_not_ntlm", "not_ntlm"),
    );
    std::fs::write(dir.path().join("ntlm.yaml"), yaml).unwrap();
    dir
}

#[tokio::test]
async fn ntlm_authenticates_each_connection_once_and_never_crosses_accounts() {
    let f = fixture::start().await;
    // SAFETY: these variables are only read by this test's mappings.
    unsafe {
        std::env::set_var("NTLM_TEST_MCP_PW", fixture::NTLM_ACCOUNTS[0].2);
        std::env::set_var("NTLM_TEST_AUDITOR_PW", fixture::NTLM_ACCOUNTS[1].2);
        std::env::set_var("NTLM_TEST_WRONG_PW", "not the password");
    }
    let dir = ntlm_mapping(&f.base);
    let p = pipeline(dir.path());
    // Interleaved calls as two accounts on one endpoint: each sees only its own account, and
    // calls one after another reuse the connection signed in the first time.
    for round in 1..=3 {
        for (tool, account) in [
            ("who_mcp", "CRONUS\\mcp"),
            ("who_auditor", "CRONUS\\auditor"),
        ] {
            let who = call(&p, tool, json!({})).await.unwrap();
            assert_eq!(who["user"], account, "round {round}");
            assert_eq!(
                who["handshakes"], 1,
                "round {round}: one sign-in per connection"
            );
            assert!(
                who["bodyBytes"].as_i64().unwrap() > 0,
                "the envelope arrived"
            );
        }
    }
    // Concurrent calls open more connections; each signs in as the source's account.
    let calls: Vec<_> = (0..4).map(|_| call(&p, "who_auditor", json!({}))).collect();
    for who in futures_util::future::join_all(calls).await {
        assert_eq!(who.unwrap()["user"], "CRONUS\\auditor");
    }
    let seen = f.seen();
    let negotiations = seen
        .iter()
        .filter(|s| {
            s.headers
                .get("authorization")
                .is_some_and(|a| a.to_str().unwrap().starts_with("NTLM "))
                && s.body.is_empty()
        })
        .count();
    let conns = f.fixture.ntlm.lock().unwrap().len();
    assert_eq!(
        negotiations, conns,
        "one negotiation per connection, on an empty body"
    );
    for s in &seen {
        for (_, pw) in fixture::NTLM_ACCOUNTS.iter().map(|(_, u, p)| (u, p)) {
            assert!(
                !format!("{:?}{}", s.headers, s.body).contains(pw),
                "the password never travels"
            );
        }
    }

    // The server forgets every connection's sign-in (an application pool recycle): the next
    // call is refused with 401, signs in again on its connection, and is then answered.
    f.fixture.ntlm.lock().unwrap().clear();
    let before = f.seen().len();
    assert_eq!(
        call(&p, "who_mcp", json!({})).await.unwrap()["user"],
        "CRONUS\\mcp"
    );
    assert_eq!(
        f.seen().len() - before,
        3,
        "refused, negotiate, authenticate"
    );

    let fail = |tool: &'static str| {
        let p = &p;
        async move {
            match call(p, tool, json!({})).await {
                Err(CallError::Caller(m)) => m,
                other => panic!("{tool}: expected a tool error, got {other:?}"),
            }
        }
    };
    let e = fail("who_wrong").await;
    assert_eq!(
        e,
        "source `nav_wrong` refused the NTLM sign-in as CRONUS\\mcp (HTTP 401): check the user name, domain and password"
    );
    let e = fail("who_not_ntlm").await;
    assert_eq!(
        e,
        "source `not_ntlm` did not answer the NTLM negotiation with a challenge (HTTP 200); the service may want another `auth:` (basic, or Kerberos, which this build does not speak)"
    );
    // The pipeline keeps serving after both.
    assert_eq!(
        call(&p, "who_mcp", json!({})).await.unwrap()["user"],
        "CRONUS\\mcp"
    );
}
