//! Authentication and authorization over HTTP, through the real binary with a settings file:
//! API keys and OAuth bearer JWTs (signed with the test-only keys of fixtures/auth), 401 with a
//! `WWW-Authenticate` challenge and RFC 9728 metadata, tokens for another audience, expired or
//! from another issuer refused, and roles that neither see nor call what they are not allowed.

use crate::support;

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};
use support::{HttpServer, root};

const ISSUER: &str = "https://idp.example.test/";
const PUBLIC_URL: &str = "https://erp-mcp.example.test/mcp";
const SUPPORT_KEY: &str = "support-key-0123456789abcdef";
const MASK_KEY: (&str, &str) = ("LEGACY_MCP_MASK_KEY", "an example key, 32 bytes long..");

fn settings(dir: &Path, default_access: &str) -> std::path::PathBuf {
    let hash = legacy_mcp::auth::http::hash_key(SUPPORT_KEY);
    let jwks = root().join("fixtures/auth/jwks.json");
    let text = format!(
        r#"
[http]
public_url = "{PUBLIC_URL}"

[auth]
default_access = "{default_access}"

[[auth.api_keys]]
principal = "support-bot"
roles = ["support"]
sha256 = "{hash}"

[auth.jwt]
issuer = "{ISSUER}"
jwks_file = "{jwks}"
leeway = "30s"

[audit]
file = "logs/audit.jsonl"
key = "${{file:audit.key}}"
"#,
        jwks = jwks.display()
    );
    let path = dir.join("settings.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::write(dir.join("audit.key"), "audit pseudonym key, test only").unwrap();
    path
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A token signed with `key` (a PEM under fixtures/auth) carrying `claims`.
fn token(key: &str, claims: Value) -> String {
    let pem = std::fs::read(root().join("fixtures/auth").join(key)).unwrap();
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("test-1".into());
    encode(&header, &claims, &EncodingKey::from_ec_pem(&pem).unwrap()).unwrap()
}

fn claims(roles: &[&str]) -> Value {
    json!({"iss": ISSUER, "aud": PUBLIC_URL, "sub": "agent-7", "exp": now() + 300, "roles": roles})
}

async fn start(default_access: &str, mappings: &Path) -> (tempfile::TempDir, HttpServer) {
    let dir = tempfile::tempdir().unwrap();
    let config = settings(dir.path(), default_access);
    let server = HttpServer::start_with_env(
        mappings,
        &["--config", config.to_str().unwrap()],
        &[MASK_KEY],
    )
    .await;
    (dir, server)
}

fn governance() -> std::path::PathBuf {
    root().join("mappings/examples/governance")
}

/// A raw POST of `initialize` with these headers: status, WWW-Authenticate, body.
async fn post(server: &HttpServer, auth: Option<&str>) -> (u16, String, String) {
    let mut req = reqwest::Client::new()
        .post(server.url())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"}}})
            .to_string(),
        );
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let resp = req.send().await.unwrap();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        resp.status().as_u16(),
        challenge,
        resp.text().await.unwrap(),
    )
}

#[tokio::test]
async fn no_or_bad_credentials_get_401_with_a_challenge_and_metadata() {
    let (_dir, server) = start("allow", &governance()).await;
    let metadata_url = "https://erp-mcp.example.test/.well-known/oauth-protected-resource";

    let (status, challenge, body) = post(&server, None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        challenge,
        format!("Bearer resource_metadata=\"{metadata_url}\"")
    );
    assert!(body.contains("authentication required"), "{body}");

    let (status, challenge, body) = post(&server, Some("Bearer not-a-known-key")).await;
    assert_eq!(status, 401);
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert!(body.contains("unknown API key"), "{body}");

    let refused = [
        (
            token(
                "test-idp-key.pem",
                json!({"iss": ISSUER, "aud": "https://other-server.test/mcp", "sub": "a", "exp": now() + 300}),
            ),
            "another audience",
        ),
        (
            token(
                "test-idp-key.pem",
                json!({"iss": ISSUER, "aud": PUBLIC_URL, "sub": "a", "exp": now() - 120}),
            ),
            "expired",
        ),
        (
            token(
                "test-idp-key.pem",
                json!({"iss": "https://evil.test/", "aud": PUBLIC_URL, "sub": "a", "exp": now() + 300}),
            ),
            "issuer this server does not trust",
        ),
        (
            token("other-idp-key.pem", claims(&["finance"])),
            "signature does not verify",
        ),
        (
            token(
                "test-idp-key.pem",
                json!({"iss": ISSUER, "aud": PUBLIC_URL, "sub": "a"}),
            ),
            "no `exp` claim",
        ),
    ];
    for (jwt, why) in refused {
        let (status, challenge, body) = post(&server, Some(&format!("Bearer {jwt}"))).await;
        assert_eq!(status, 401, "{why}: {body}");
        assert!(body.contains(why), "{why}: {body}");
        assert!(challenge.contains("invalid_token"), "{challenge}");
    }
    // Within the leeway an expired token still passes; that is what the leeway is for.
    let (status, _, body) = post(
        &server,
        Some(&format!(
            "Bearer {}",
            token(
                "test-idp-key.pem",
                json!({"iss": ISSUER, "aud": PUBLIC_URL, "sub": "a", "exp": now() - 5})
            )
        )),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let meta: Value = reqwest::get(format!("http://{}{path}", server.addr))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(meta["resource"], PUBLIC_URL);
        assert_eq!(meta["authorization_servers"], json!([ISSUER]));
    }
}

async fn call(client: &support::Client, tool: &str, args: Value) -> Result<Value, String> {
    let req = CallToolRequestParams::new(tool.to_string()).with_arguments(support::args(args));
    client
        .call_tool(req)
        .await
        .map(|r| serde_json::to_value(r).unwrap())
        .map_err(|e| e.to_string())
}

/// Same tool, two roles: the support agent (API key) and the finance agent (JWT) see different
/// fields and different tools; what a role may not use is invisible and uncallable, and the
/// refusal reads exactly like a tool that does not exist.
#[tokio::test]
async fn roles_see_only_what_they_may_use() {
    let (_dir, server) = start("deny", &governance()).await;
    let support = server.client_with_token(SUPPORT_KEY).await.unwrap();
    let finance = server
        .client_with_token(&token("test-idp-key.pem", claims(&["finance"])))
        .await
        .unwrap();
    let nobody = server
        .client_with_token(&token("test-idp-key.pem", claims(&["warehouse"])))
        .await
        .unwrap();

    assert_eq!(support::tool_names(&support).await, ["get_customer"]);
    assert_eq!(
        support::tool_names(&finance).await,
        ["customer_activity", "get_customer"]
    );
    assert!(support::tool_names(&nobody).await.is_empty());
    assert!(
        nobody
            .list_all_resource_templates()
            .await
            .unwrap()
            .is_empty()
    );
    assert!(nobody.list_all_prompts().await.unwrap().is_empty());

    let c = json!({"customer_no": "C10000"});
    let s = call(&support, "get_customer", c.clone()).await.unwrap();
    assert_eq!(s["structuredContent"]["phone"], "+49 609 7542858");
    assert_eq!(s["structuredContent"]["credit_limit"], "[redacted]");
    let f = call(&finance, "get_customer", c.clone()).await.unwrap();
    assert_eq!(f["structuredContent"]["credit_limit"], "5000.00");
    assert_eq!(f["structuredContent"]["phone"], "***2858");

    let denied = call(&support, "customer_activity", json!({"country": "DE"}))
        .await
        .unwrap_err();
    let missing = call(&support, "no_such_tool", json!({})).await.unwrap_err();
    assert_eq!(
        denied.replace("customer_activity", "X"),
        missing.replace("no_such_tool", "X"),
        "a refusal must not reveal that the tool exists"
    );
    let read = nobody
        .read_resource(rmcp::model::ReadResourceRequestParams::new(
            "erp://customers/C10000",
        ))
        .await
        .unwrap_err()
        .to_string();
    assert!(read.contains("no resource matches"), "{read}");
    for c in [support, finance, nobody] {
        c.cancel().await.unwrap();
    }
}

/// `default_access: deny` closes every entry without `allow:`; `allow` opens them.
#[tokio::test]
async fn default_access_decides_for_entries_without_allow() {
    let demo = support::demo();
    let (_d1, closed) = start("deny", &demo).await;
    let client = closed.client_with_token(SUPPORT_KEY).await.unwrap();
    assert!(support::tool_names(&client).await.is_empty());
    assert!(
        call(&client, "get_item", json!({"item_no": "SCH-01000"}))
            .await
            .is_err()
    );
    client.cancel().await.unwrap();

    let (_d2, open) = start("allow", &demo).await;
    let client = open.client_with_token(SUPPORT_KEY).await.unwrap();
    assert!(
        support::tool_names(&client)
            .await
            .contains(&"get_item".to_string())
    );
    assert!(
        call(&client, "get_item", json!({"item_no": "SCH-01000"}))
            .await
            .is_ok()
    );
    client.cancel().await.unwrap();
}

/// The audit file reconstructs who asked what, how it ended and how the cache answered, and
/// holds neither argument values nor data: customer numbers are pseudonyms, equal for equal
/// values, also inside error messages.
#[tokio::test]
async fn the_audit_log_says_who_asked_what_without_the_data() {
    let (dir, server) = start("deny", &governance()).await;
    let support = server.client_with_token(SUPPORT_KEY).await.unwrap();
    let finance = server
        .client_with_token(&token("test-idp-key.pem", claims(&["finance"])))
        .await
        .unwrap();
    let c = json!({"customer_no": "C10000"});
    call(&support, "get_customer", c.clone()).await.unwrap();
    call(&finance, "get_customer", c.clone()).await.unwrap();
    call(&support, "get_customer", c.clone()).await.unwrap();
    let missing = call(&support, "get_customer", json!({"customer_no": "C99999"}))
        .await
        .unwrap();
    assert_eq!(missing["isError"], true);
    call(&support, "customer_activity", json!({"country": "DE"}))
        .await
        .unwrap_err();
    for c in [support, finance] {
        c.cancel().await.unwrap();
    }

    let text = std::fs::read_to_string(dir.path().join("logs/audit.jsonl")).unwrap();
    for secret in [
        "C10000",
        "C99999",
        "piotr",
        "7542858",
        "5000.00",
        "Peña",
        "Mühlenweg",
    ] {
        assert!(
            !text.contains(secret),
            "`{secret}` in the audit log:\n{text}"
        );
    }
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<(&str, &str, &str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["principal"].as_str().unwrap(),
                l["tool"].as_str().unwrap(),
                l["outcome"].as_str().unwrap(),
                l["cache"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("support-bot", "get_customer", "ok", "miss"),
            ("agent-7", "get_customer", "ok", "miss"),
            ("support-bot", "get_customer", "ok", "hit"),
            ("support-bot", "get_customer", "tool_error", "miss"),
            ("support-bot", "customer_activity", "denied", "off"),
        ]
    );
    let pseudonym = &lines[0]["args"]["customer_no"];
    assert!(pseudonym.as_str().unwrap().starts_with("h:"));
    assert_eq!(
        &lines[1]["args"]["customer_no"], pseudonym,
        "equal values, equal pseudonyms"
    );
    assert_ne!(&lines[3]["args"]["customer_no"], pseudonym);
    let error = lines[3]["error"].as_str().unwrap();
    assert!(
        error.starts_with("not found") && error.contains("h:"),
        "{error}"
    );
    assert_eq!(lines[0]["source"], "exports");
    assert_eq!(lines[0]["rows"], 1);
}

/// The example settings file parses, its paths resolve against its own directory (not the
/// working directory), and `LEGACY_MCP__...` variables override it.
#[test]
fn settings_file_and_environment_overrides() {
    let config = root().join("mappings/examples/governance/settings.example.toml");
    let logs = tempfile::tempdir().unwrap();
    let audit_file = logs.path().join("audit.jsonl");
    let base = [
        MASK_KEY,
        ("LEGACY_MCP_AUDIT_KEY", "audit pseudonym key, test only"),
        // Not into the source tree.
        ("LEGACY_MCP__AUDIT__FILE", audit_file.to_str().unwrap()),
    ];
    let command = || {
        let mut c = std::process::Command::new(support::bin());
        c.args(["call", "get_customer", "--config"])
            .arg(&config)
            .current_dir(std::env::temp_dir())
            .envs(base.iter().copied());
        c
    };
    let run = |env: &[(&str, &str)]| {
        command()
            .args([
                "--role",
                "support",
                "--args",
                r#"{"customer_no": "C10000"}"#,
            ])
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    let out = support::succeeded(run(&[]));
    assert!(out.contains("+49 609 7542858"), "{out}");
    let refused = run(&[("LEGACY_MCP__AUTH__ROLES", "warehouse")]);
    // --role wins over the settings; the override of default_access closes the tool anyway.
    assert!(refused.status.success());
    let closed = command()
        .args(["--args", r#"{"customer_no": "C10000"}"#])
        .env("LEGACY_MCP__AUTH__ROLES", "warehouse")
        .output()
        .unwrap();
    assert!(!closed.status.success());
    assert_eq!(
        String::from_utf8_lossy(&closed.stderr),
        "error: unknown tool `get_customer`\n"
    );
    let bad = command()
        .env("LEGACY_MCP__LIMITS__CALL_TIMEOUT", "soon")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&bad.stderr);
    assert!(text.contains("`soon` is not a duration"), "{text}");
    // The calls were audited to the file the environment named, without the customer number.
    let audit = std::fs::read_to_string(&audit_file).unwrap();
    assert_eq!(audit.lines().count(), 3, "{audit}");
    assert!(!audit.contains("C10000"));
}

/// The demo with one more tool, `my_customers`: a sales rep sees only the customers of the
/// country his token names (`from: principal.claims.country`), whatever he sends.
fn demo_with_territories() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(support::demo()).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap().replace(
            "../../fixtures/demo-erp",
            &root().join("fixtures/demo-erp").display().to_string(),
        );
        std::fs::write(dir.path().join(path.file_name().unwrap()), text).unwrap();
    }
    std::fs::write(
        dir.path().join("territory.yaml"),
        r#"
tools:
  my_customers:
    description: The customers of the caller's own territory whose name starts with the given text.
    parameters:
      name_prefix: { type: string }
      country: { type: string, pattern: "[A-Z]{2}", from: principal.claims.country }
    source: exports
    table: customers
    where:
      name: { starts_with: name_prefix }
      country: country
    limit: 100
    cache: { ttl: 5m }
    result:
      fields:
        customer_no: customer_no
        country: country
"#,
    )
    .unwrap();
    dir
}

fn rep(country: Option<&str>) -> Value {
    let mut c = claims(&["sales"]);
    if let Some(country) = country {
        c["country"] = json!(country);
    }
    c["sub"] = json!(format!("rep-{}", country.unwrap_or("none")));
    c
}

/// Data bound to the user who asks (the confused-deputy defence), end to end over HTTP with
/// two JWT principals: each sees only the rows of the claim in its token; the bound parameter
/// is not in the input schema and cannot be given as an argument; a token without the claim
/// is refused with a clear error; the cache keeps each territory apart (same arguments, other
/// claim); the audit shows the claim as a pseudonym only.
#[tokio::test]
async fn parameters_bound_to_a_claim_give_each_caller_its_own_rows() {
    let mappings = demo_with_territories();
    let (dir, server) = start("allow", mappings.path()).await;
    let de = server
        .client_with_token(&token("test-idp-key.pem", rep(Some("DE"))))
        .await
        .unwrap();
    let fr = server
        .client_with_token(&token("test-idp-key.pem", rep(Some("FR"))))
        .await
        .unwrap();
    let none = server
        .client_with_token(&token("test-idp-key.pem", rep(None)))
        .await
        .unwrap();

    let tools = de.list_all_tools().await.unwrap();
    let tool = tools.iter().find(|t| t.name == "my_customers").unwrap();
    let schema = serde_json::to_value(&tool.input_schema).unwrap();
    assert!(schema["properties"].get("country").is_none(), "{schema}");
    assert_eq!(schema["required"], json!(["name_prefix"]));

    let countries = |r: &Value| -> Vec<String> {
        r["structuredContent"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["country"].as_str().unwrap().to_string())
            .collect()
    };
    let args = json!({"name_prefix": ""});
    for _ in 0..2 {
        // Twice: the second answers come from the cache, still each caller's own.
        let d = call(&de, "my_customers", args.clone()).await.unwrap();
        let f = call(&fr, "my_customers", args.clone()).await.unwrap();
        let (d, f) = (countries(&d), countries(&f));
        assert!(!d.is_empty() && d.iter().all(|c| c == "DE"), "{d:?}");
        assert!(!f.is_empty() && f.iter().all(|c| c == "FR"), "{f:?}");
    }

    // Overriding the claim from the arguments is refused, not obeyed.
    let forged = call(
        &de,
        "my_customers",
        json!({"name_prefix": "", "country": "FR"}),
    )
    .await
    .unwrap();
    assert_eq!(forged["isError"], true);
    let text = forged["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("argument `country` cannot be given"),
        "{text}"
    );

    let refused = call(&none, "my_customers", args.clone()).await.unwrap();
    assert_eq!(refused["isError"], true);
    let text = refused["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("needs `principal.claims.country` of the caller"),
        "{text}"
    );

    for c in [de, fr, none] {
        c.cancel().await.unwrap();
    }
    drop(server);
    let audit = std::fs::read_to_string(dir.path().join("logs/audit.jsonl")).unwrap();
    let lines: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|l: &Value| l["tool"] == "my_customers")
        .collect();
    assert!(lines.len() >= 6, "{audit}");
    let de_line = lines.iter().find(|l| l["principal"] == "rep-DE").unwrap();
    let shown = de_line["args"]["country"].as_str().unwrap();
    assert!(shown.starts_with("h:"), "{de_line}");
    assert!(
        !audit.contains("\"DE\"") && !audit.contains("\"FR\""),
        "{audit}"
    );
}

/// A claim no configured caller can have (no JWTs, no API key or local caller with it) would
/// refuse every call of the tool: the server says so at start and does not run.
#[test]
fn a_claim_nobody_can_supply_stops_the_start() {
    let mappings = demo_with_territories();
    // `legacy-mcp call my_customers` on these mappings, with these extra arguments.
    let call_cli = |extra: &[&std::ffi::OsStr]| {
        std::process::Command::new(support::bin())
            .args([
                "call",
                "my_customers",
                "--args",
                r#"{"name_prefix": ""}"#,
                "--mappings",
            ])
            .arg(mappings.path())
            .args(extra)
            .output()
            .unwrap()
    };
    let out = call_cli(&[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("binds parameter `country` to principal.claims.country, and no configured caller has that claim"),
        "{stderr}"
    );
    // The local caller given the claim in the settings ([auth] claims) is served.
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("settings.toml");
    std::fs::write(&settings, "[auth]\nclaims = { country = \"DE\" }\n").unwrap();
    let out = call_cli(&["--config".as_ref(), settings.as_os_str()]);
    let stdout = support::succeeded(out);
    assert!(
        stdout.contains("\"DE\"") && !stdout.contains("\"FR\""),
        "{stdout}"
    );
}

/// `check --config` sees what depends on the settings: a claim no configured caller can supply
/// fails the check with the tool and parameter named; settings that supply it pass. Without
/// `--config`, `check` judges the mappings alone (they are valid).
#[test]
fn check_with_settings_refuses_a_claim_nobody_can_supply() {
    let mappings = demo_with_territories();
    let dir = tempfile::tempdir().unwrap();
    let check = |settings: Option<&str>| {
        let mut cmd = std::process::Command::new(support::bin());
        cmd.args(["check", "--mappings"]).arg(mappings.path());
        cmd.env_remove("LEGACY_MCP_CONFIG");
        if let Some(text) = settings {
            let file = dir.path().join("settings.toml");
            std::fs::write(&file, text).unwrap();
            cmd.arg("--config").arg(file);
        }
        cmd.output().unwrap()
    };
    support::succeeded(check(None));
    let out = check(Some("[auth]\nroles = [\"sales\"]\n"));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("tool `my_customers` binds parameter `country` to principal.claims.country, and no configured caller has that claim"),
        "{stderr}"
    );
    support::succeeded(check(Some("[auth]\nclaims = { country = \"DE\" }\n")));
}
