//! `legacy-mcp call` and `legacy-mcp read`: the pipeline without an agent.

use crate::support;

use std::process::Command;

use serde_json::Value;
use support::*;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin())
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn call_prints_the_result_json() {
    let (code, out, err) = run(&[
        "call",
        "get_item",
        "--mappings",
        "mappings/demo",
        "--args",
        r#"{"item_no":"TUE-01001"}"#,
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    golden("get_item", &v);
}

#[test]
fn call_reports_tool_errors_with_exit_1() {
    let (code, out, err) = run(&[
        "call",
        "get_customer",
        "--args",
        r#"{"customer_no":"nope"}"#,
    ]);
    assert_eq!(code, 1);
    assert_eq!(out, "");
    assert_eq!(
        err,
        "error: argument `customer_no` must match the pattern C[0-9]{5} (got \"nope\")\n"
    );
    let (code, _, err) = run(&["call", "get_customer", "--args", "[1]"]);
    assert_eq!(code, 1);
    assert!(err.contains("--args must be a JSON object"), "{err}");
    let (code, _, err) = run(&["call", "no_such_tool"]);
    assert_eq!(code, 1);
    assert_eq!(err, "error: unknown tool `no_such_tool`\n");
}

#[test]
fn read_prints_a_resource() {
    let (code, out, err) = run(&["read", "erp://customers/C10042"]);
    assert_eq!(code, 0, "{err}");
    golden("resource_customer", &serde_json::from_str(&out).unwrap());
    let (code, _, err) = run(&["read", "erp://customers/"]);
    assert_eq!(code, 1);
    assert_eq!(err, "error: no resource matches `erp://customers/`\n");
}

#[test]
fn broken_mappings_stop_serve_with_their_problems() {
    let (code, _, err) = run(&[
        "serve",
        "--mappings",
        "fixtures/bad-mappings/unknown_source.yaml",
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("unknown_source.yaml:19:13: unknown source `erp_db`"),
        "{err}"
    );
}

/// A source's kind is read before its keys wherever `kind:` is written: the demo with
/// `kind: flatfile` moved to the end of its source answers exactly as the demo does. (Before
/// kinds read their own keys, the order did not matter to serde; the second reading must keep
/// that promise.)
#[test]
fn a_source_with_its_kind_written_last_answers_as_before() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(root().join("mappings/demo")).unwrap() {
        let path = entry.unwrap().path();
        let mut text = std::fs::read_to_string(&path).unwrap();
        if path.file_name().unwrap() == "sources.yaml" {
            let demo = root().join("fixtures/demo-erp");
            text = text
                .replace("    kind: flatfile\n", "")
                .replace("../../fixtures/demo-erp", demo.to_str().unwrap());
            text.push_str("    kind: flatfile\n");
        }
        std::fs::write(dir.path().join(path.file_name().unwrap()), text).unwrap();
    }
    let sources = std::fs::read_to_string(dir.path().join("sources.yaml")).unwrap();
    assert!(sources.trim_end().ends_with("kind: flatfile"), "{sources}");
    let (code, out, err) = run(&[
        "call",
        "get_item",
        "--mappings",
        dir.path().to_str().unwrap(),
        "--args",
        r#"{"item_no":"TUE-01001"}"#,
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    golden("get_item", &v);
}
