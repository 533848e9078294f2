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
