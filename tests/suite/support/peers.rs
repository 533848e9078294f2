//! What the third-party client tests share (tests/suite/python_peer.rs, tests/suite/ts_peer.rs): a writable
//! copy of the demo for the live part of a walk, running a peer script, and the checks of the
//! one-line summary every peer prints.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{demo, root};

/// A writable copy of the demo mappings and of the exports they read (the live part of a walk
/// rewrites an export and removes a mapping file).
pub struct LiveDemo {
    _dir: tempfile::TempDir,
    pub mappings: String,
    pub exports: String,
}

pub fn live_demo() -> LiveDemo {
    let dir = tempfile::tempdir().unwrap();
    let (mappings, exports) = (dir.path().join("mappings"), dir.path().join("exports"));
    std::fs::create_dir_all(&mappings).unwrap();
    std::fs::create_dir_all(&exports).unwrap();
    for entry in std::fs::read_dir(root().join("fixtures/demo-erp")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, exports.join(path.file_name().unwrap())).unwrap();
    }
    for entry in std::fs::read_dir(demo()).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replace("../../fixtures/demo-erp", exports.to_str().unwrap());
        std::fs::write(mappings.join(path.file_name().unwrap()), text).unwrap();
    }
    LiveDemo {
        mappings: mappings.to_str().unwrap().to_string(),
        exports: exports.to_str().unwrap().to_string(),
        _dir: dir,
    }
}

/// The Node that runs the peers: scripts/test exports the one the npm package `node` brought.
pub fn node() -> String {
    std::env::var("LEGACY_MCP_NODE").unwrap_or_else(|_| {
        root()
            .join("tests/peers/ts/node_modules/.bin/node")
            .to_string_lossy()
            .into_owned()
    })
}

/// Runs `program script args…`, fails with its stderr (and `missing`, when stderr shows the
/// peer is not installed), and returns the JSON summary it printed last.
pub fn run_peer(program: &str, script: &Path, args: &[&str], missing: (&str, &str)) -> Value {
    let out = Command::new(program)
        .arg(script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} does not run ({e}): {}", missing.1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains(missing.0), "{}", missing.1);
    assert!(
        out.status.success(),
        "peer {} {args:?} failed:\n{stderr}",
        script.display()
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    serde_json::from_str(stdout.lines().last().expect("the peer printed its summary")).unwrap()
}

/// A peer's whole walk (`run` with `api`) on a fresh live demo over stdio: its summary.
pub fn walk_stdio(run: fn(&[&str]) -> Value, api: &str) -> Value {
    let live = live_demo();
    run(&[
        api,
        "stdio",
        crate::support::bin(),
        &live.mappings,
        &live.exports,
    ])
}

/// The same walk over streamable HTTP, against `serve --http` on a fresh live demo.
pub async fn walk_http(run: fn(&[&str]) -> Value, api: &'static str) -> Value {
    let live = live_demo();
    let server = crate::support::HttpServer::start(Path::new(&live.mappings), &[]).await;
    let url = server.url();
    let (m, e) = (live.mappings.clone(), live.exports.clone());
    tokio::task::spawn_blocking(move || run(&[api, "http", &url, &m, &e]))
        .await
        .unwrap()
}

/// The demo as every client must see it.
pub fn check_summary(summary: &Value, protocol: &str) {
    assert_eq!(summary["protocol"], protocol);
    assert_eq!(summary["tools"], 7);
    assert_eq!(summary["resources"], 1);
    assert_eq!(summary["templates"], 3);
    assert_eq!(summary["prompt_messages"], 4);
    assert_eq!(summary["rows"]["list_items"], 2000);
}

/// The events a live walk must have seen: the export's update and the prompt list's change.
pub fn check_events(summary: &Value, updated: &str, prompts_changed: &str) {
    let events: Vec<&str> = summary["events"]
        .as_array()
        .expect("the walk watched")
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(events.contains(&updated), "{events:?}");
    assert!(events.contains(&prompts_changed), "{events:?}");
}
