//! The read cache (`cache: { ttl, stale_if_error }` on a tool): hits that never reach the
//! backend, 100 concurrent identical misses answered by one backend call, stale answers (with
//! their age) while the backend fails, flat-file answers dropped when the export changes.
//! Time passes on the cache's own clock (`Pipeline::cache_clock`), moved forward, never slept.
//!
//! The counted backend is the TDS TEST DOUBLE of tests/suite/support/tds.rs (no SQL Server runs
//! here): it logs every request it receives, so "reached the backend once" is counted where the
//! backend sees it, not inside the adapter.

use crate::support::tds;

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use legacy_mcp::pipeline::{CallError, Pipeline};
use serde_json::json;
use support::{call, pipeline};
use tds::{ColType, Reply, Request, TdsDouble, Val, col};

const USER: &str = "mcp_reader";
const PASSWORD: &str = "Cache-Test-1";

/// A double whose `customers` answer takes `delay`, and fails while `down` is set.
async fn erp(delay: Duration, down: Arc<AtomicBool>) -> TdsDouble {
    TdsDouble::start(&[(USER, PASSWORD)], "ERP", move |req: &Request| {
        if down.load(Ordering::SeqCst) {
            return Reply::Error {
                number: 1222,
                class: 16,
                message: "Lock request time out period exceeded.".into(),
            };
        }
        let rows = Reply::Rows {
            columns: vec![
                col("no", ColType::NVarChar(20)),
                col("name", ColType::NVarChar(50)),
            ],
            rows: vec![vec![req.param(1).clone(), Val::Str("Cached GmbH".into())]],
        };
        Reply::Slow(delay, Box::new(rows))
    })
    .await
}

fn mapping(d: &TdsDouble, cache: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        r#"
{source}
tools:
  customer:
    description: One customer by number.
    source: erp
    sql: SELECT no, name FROM customers WHERE no = :no
    parameters:
      no: {{type: string}}
    columns:
      no: {{type: string}}
      name: {{type: string}}
    result: {{one: true}}
    {cache}
"#,
        source = d.source_yaml(USER, "${file:secret}", "    pool_size: 8\n")
    );
    std::fs::write(dir.path().join("erp.yaml"), yaml).unwrap();
    std::fs::write(dir.path().join("secret"), PASSWORD).unwrap();
    dir
}

fn requests(d: &TdsDouble) -> usize {
    d.log()
        .requests
        .iter()
        .filter(|r| r.sql.contains("FROM customers"))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hit_never_reaches_the_backend() {
    let d = erp(Duration::ZERO, Arc::default()).await;
    let dir = mapping(&d, "cache: {ttl: 5m}");
    let p = pipeline(dir.path());
    let first = call(&p, "customer", json!({"no": "C1"})).await.unwrap();
    let again = call(&p, "customer", json!({"no": "C1"})).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(requests(&d), 1);
    // Another argument is another answer.
    let other = call(&p, "customer", json!({"no": "C2"})).await.unwrap();
    assert_eq!(other["no"], "C2");
    assert_eq!(requests(&d), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hundred_concurrent_identical_misses_reach_the_backend_once() {
    let d = erp(Duration::from_millis(300), Arc::default()).await;
    let dir = mapping(&d, "cache: {ttl: 5m}");
    let p = pipeline(dir.path());
    let calls: Vec<_> = (0..100)
        .map(|_| {
            let p = p.clone();
            tokio::spawn(async move { call(&p, "customer", json!({"no": "C7"})).await })
        })
        .collect();
    for c in calls {
        assert_eq!(c.await.unwrap().unwrap()["name"], "Cached GmbH");
    }
    assert_eq!(requests(&d), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_backend_is_answered_stale_with_its_age_then_not_at_all() {
    let down = Arc::new(AtomicBool::new(false));
    let d = erp(Duration::ZERO, down.clone()).await;
    let dir = mapping(&d, "cache: {ttl: 200ms, stale_if_error: 1s}");
    let p = pipeline(dir.path());
    let fresh = support::call_output(&p, "customer", json!({"no": "C1"}))
        .await
        .unwrap();
    down.store(true, Ordering::SeqCst);
    // The cache's clock is moved forward instead of slept on.
    p.cache_clock().advance(Duration::from_millis(300));
    // Past the ttl, the backend is asked, fails, and the kept answer stands in, saying so.
    let stale = support::call_output(&p, "customer", json!({"no": "C1"}))
        .await
        .unwrap();
    assert_eq!(stale.structured, fresh.structured);
    let notice = stale.notice.expect("a stale answer says so");
    assert!(
        notice.starts_with("served from the cache, 0 s old, because the backend failed: "),
        "{notice}"
    );
    assert!(notice.contains("Lock request time out"), "{notice}");
    assert_eq!(requests(&d), 2);
    // Nothing was kept for an argument never answered: the error comes through.
    let never = call(&p, "customer", json!({"no": "C9"})).await;
    assert!(matches!(never, Err(CallError::Caller(m)) if m.contains("Lock request")));
    // Past ttl + stale_if_error, the kept answer is gone too.
    p.cache_clock().advance(Duration::from_millis(1200));
    let gone = call(&p, "customer", json!({"no": "C1"})).await;
    assert!(matches!(gone, Err(CallError::Caller(m)) if m.contains("Lock request")));
    // Back up: fresh answers again.
    down.store(false, Ordering::SeqCst);
    let back = support::call_output(&p, "customer", json!({"no": "C1"}))
        .await
        .unwrap();
    assert_eq!(back.notice, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_stale_if_error_a_failure_is_an_error() {
    let down = Arc::new(AtomicBool::new(false));
    let d = erp(Duration::ZERO, down.clone()).await;
    let dir = mapping(&d, "cache: {ttl: 100ms}");
    let p = pipeline(dir.path());
    call(&p, "customer", json!({"no": "C1"})).await.unwrap();
    down.store(true, Ordering::SeqCst);
    p.cache_clock().advance(Duration::from_millis(200));
    assert!(call(&p, "customer", json!({"no": "C1"})).await.is_err());
}

/// A cached flat-file answer is not served once the export is replaced.
#[tokio::test]
async fn a_flat_file_answer_is_dropped_when_the_export_changes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ITEMS.CSV"), "item_no,name\nA1,Old name\n").unwrap();
    std::fs::write(
        dir.path().join("items.yaml"),
        r#"
sources:
  exports:
    kind: flatfile
    directory: .
    tables:
      items:
        file: ITEMS.CSV
        format: csv
        key: [item_no]
        fields:
          item_no: {}
          name: {}
tools:
  item:
    description: One item.
    source: exports
    table: items
    parameters:
      item_no: {type: string}
    where: {item_no: item_no}
    result: {one: true}
    cache: {ttl: 1h}
"#,
    )
    .unwrap();
    let p: Pipeline = pipeline(dir.path());
    let old = call(&p, "item", json!({"item_no": "A1"})).await.unwrap();
    assert_eq!(old["name"], "Old name");
    std::fs::write(
        dir.path().join("ITEMS.CSV"),
        "item_no,name\nA1,New and longer name\n",
    )
    .unwrap();
    let new = call(&p, "item", json!({"item_no": "A1"})).await.unwrap();
    assert_eq!(new["name"], "New and longer name");
}

/// A tool that changes what another reads declares `invalidates:`; after it succeeds the other
/// tool's kept answers (every argument, every profile) are asked for again.
#[tokio::test(flavor = "multi_thread")]
async fn a_tool_that_invalidates_drops_the_kept_answers() {
    let d = erp(Duration::ZERO, Arc::default()).await;
    let dir = mapping(&d, "cache: {ttl: 5m}");
    std::fs::write(
        dir.path().join("write.yaml"),
        r#"
tools:
  block_customer:
    description: Blocks a customer (changes what `customer` returns).
    source: erp
    sql: SELECT no, name FROM blocked WHERE no = :no
    parameters: { no: { type: string } }
    columns: { no: { type: string }, name: { type: string } }
    result: { one: true }
    invalidates: [customer]
    allow_writes: true
    confirm: never
    annotations: { idempotent: true }
"#,
    )
    .unwrap();
    let p = pipeline(dir.path());
    call(&p, "customer", json!({"no": "C1"})).await.unwrap();
    call(&p, "customer", json!({"no": "C2"})).await.unwrap();
    call(&p, "customer", json!({"no": "C1"})).await.unwrap();
    assert_eq!(requests(&d), 2);
    call(&p, "block_customer", json!({"no": "C1"}))
        .await
        .unwrap();
    call(&p, "customer", json!({"no": "C1"})).await.unwrap();
    call(&p, "customer", json!({"no": "C2"})).await.unwrap();
    assert_eq!(requests(&d), 4, "both kept answers were dropped");
}
