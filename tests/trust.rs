//! Refusals that must not say more than the caller may know (issue 20): what a caller cannot
//! list is never named in an answer to it.

mod support;

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
