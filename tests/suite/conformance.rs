//! The official MCP conformance suite (`@modelcontextprotocol/conformance`, pinned in
//! tests/peers/ts/package-lock.json, run by the Node 22 installed beside it) against
//! `serve --http` on the demo mappings.
//!
//! Every scenario the demo can express must pass. The others need the suite's own fixture tools,
//! resources and prompts (`test_simple_text`, `test://static-text`, `test_simple_prompt`, …),
//! which an adapter serving ERP mappings does not have; they are listed, each with its reason, in
//! tests/peers/conformance-baseline.yml and docs/conformance.md. The suite fails the run on a
//! failure missing from that list *and* on an entry that now passes, so the list cannot go stale.

use crate::support;
use crate::support::peers;

use std::process::Command;

use support::*;

#[tokio::test]
async fn conformance_suite_passes_all_the_demo_can_express() {
    let server = HttpServer::start(&demo(), &[]).await;
    let url = server.url();
    let reports = tempfile::tempdir().unwrap();
    let out_dir = reports.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        let suite = root()
            .join("tests/peers/ts/node_modules/@modelcontextprotocol/conformance/dist/index.js");
        Command::new(peers::node())
            .arg(suite)
            .args(["server", "--url", &url, "--expected-failures"])
            .arg(root().join("tests/peers/conformance-baseline.yml"))
            .arg("--output-dir")
            .arg(&out_dir)
            .output()
            .expect("node runs the conformance suite (scripts/test installs it)")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the conformance suite found unexpected failures or stale baseline entries:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("Baseline check passed"), "{stdout}");
}
