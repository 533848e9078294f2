//! Refusals that must not say more than the caller may know (issue 20): what a caller cannot
//! list is never named in an answer to it.

use crate::support;
use crate::support::peers;

use legacy_mcp::auth::{Access, Principal};
use legacy_mcp::pipeline::Pipeline;
use support::{demo, root};

/// The demo with `get_customer` allowed to `finance` only; the resource
/// `erp://customers/{customer_no}` over it keeps no `allow:` of its own.
fn demo_with_hidden_tool() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(demo()).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace(
                "  get_customer:\n    title: Customer by number\n",
                "  get_customer:\n    title: Customer by number\n    allow: [finance]\n",
            )
            .replace(
                "../../fixtures/demo-erp",
                &root().join("fixtures/demo-erp").display().to_string(),
            );
        std::fs::write(dir.path().join(path.file_name().unwrap()), text).unwrap();
    }
    dir
}

#[tokio::test]
async fn a_resource_over_a_hidden_tool_is_refused_without_naming_the_tool() {
    let dir = demo_with_hidden_tool();
    let p: Pipeline = support::pipeline(dir.path()).with_access(Access::default());
    let sales = Principal::new("rep", vec!["sales".into()]);
    let err = p
        .read_resource(&sales, "erp://customers/C10042")
        .await
        .err()
        .expect("refused")
        .to_string();
    assert_eq!(err, "no resource matches `erp://customers/C10042`");
    assert!(!err.contains("get_customer"));

    let finance = Principal::new("controller", vec!["finance".into()]);
    let (_, out) = p
        .read_resource(&finance, "erp://customers/C10042")
        .await
        .expect("finance reads it");
    assert_eq!(out.structured["customer_no"], "C10042");
}

/// Canary arguments in every kind of request (a tool argument that fails its pattern, one that
/// matches nothing, a resource URI, a prompt argument, each with a quote, a backslash and a
/// non-ASCII letter, as JSON escapes them) never reach the server log, even at `debug`, nor the
/// audit line, which holds their pseudonyms instead. The documentation promises both.
#[tokio::test]
async fn argument_canaries_reach_neither_the_log_nor_the_audit() {
    use rmcp::model::{
        CallToolRequestParams, GetPromptRequestParams, ProtocolVersion, ReadResourceRequestParams,
    };
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("settings.toml");
    std::fs::write(
        &settings,
        "[audit]\nstderr = false\nfile = \"audit.jsonl\"\n[log]\nlevel = \"debug\"\nfile = \"server.log\"\n",
    )
    .unwrap();
    let server =
        support::HttpServer::start(&demo(), &["--config", settings.to_str().unwrap()]).await;
    let client = server.client(ProtocolVersion::V_2025_11_25).await;
    let canary = |n: u32| format!("CANARY{n}\"q\\b-ü");
    let call = |tool: &str, args: serde_json::Value| {
        CallToolRequestParams::new(tool.to_string()).with_arguments(support::args(args))
    };
    let r = client
        .call_tool(call(
            "get_customer",
            serde_json::json!({"customer_no": canary(1)}),
        ))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(true));
    let r = client
        .call_tool(call(
            "find_customers",
            serde_json::json!({"name_prefix": canary(2), "country": "DE"}),
        ))
        .await
        .unwrap();
    assert_ne!(r.is_error, Some(true));
    let uri = format!("erp://customers/{}", canary(3));
    assert!(
        client
            .read_resource(ReadResourceRequestParams::new(uri))
            .await
            .is_err()
    );
    let prompt = GetPromptRequestParams::new("account_summary")
        .with_arguments(support::args(serde_json::json!({"customer_no": canary(4)})));
    assert!(client.get_prompt(prompt).await.is_err());
    client.cancel().await.unwrap();
    // A graceful stop, so the log's writer flushes.
    let mut server = server;
    let pid = server.child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    server.child.wait().await.unwrap();

    // The log file is one a day: `server.log.YYYY-MM-DD`.
    let mut log = String::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("server.log")
        {
            log.push_str(&std::fs::read_to_string(path).unwrap());
        }
    }
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(
        log.contains("DEBUG") || log.contains("INFO"),
        "the log was written: {log}"
    );
    assert!(audit.lines().count() >= 3, "the audit was written: {audit}");
    for (name, text) in [("log", &log), ("audit", &audit)] {
        assert!(
            !text.contains("CANARY"),
            "a canary reached the {name}:\n{text}"
        );
    }
}

/// A FIFO where an export should be: `open(2)` would block a thread until some writer came, a
/// thread per call. The call is refused at once, and the server keeps answering.
#[cfg(unix)]
#[tokio::test]
async fn a_fifo_in_place_of_an_export_is_refused_at_once() {
    let live = peers::live_demo();
    let exports = std::path::Path::new(&live.exports);
    let p = support::pipeline(std::path::Path::new(&live.mappings));
    std::fs::remove_file(exports.join("ITEMS.TXT")).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(exports.join("ITEMS.TXT"))
        .status()
        .unwrap();
    assert!(made.success());
    let call = support::call(&p, "get_item", serde_json::json!({"item_no": "SCH-01000"}));
    let err = tokio::time::timeout(std::time::Duration::from_secs(5), call)
        .await
        .expect("answered at once, not stuck in open(2)")
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a regular file"), "{err}");
    let customer = support::call(
        &p,
        "get_customer",
        serde_json::json!({"customer_no": "C10042"}),
    )
    .await
    .unwrap();
    assert_eq!(customer["customer_no"], "C10042");
}
