//! Live resource updates from a SOAP resource with `watch: {every: 1s}`, through the real
//! binary over HTTP with rmcp's client (a 2025-11-25 session, `resources/subscribe`):
//! - an update arrives within one period of the answer changing, and none while it stays;
//! - one watch serves every subscriber (the backend is asked once per period, not per
//!   subscriber);
//! - nothing is polled without a subscriber (after the last unsubscribes, the backend hears
//!   nothing more);
//! - a resource without `watch:` cannot be subscribed to, nor one the caller may not read.

#![allow(deprecated)] // resources/subscribe is what 2025 sessions have

use crate::support;
use crate::support::soap;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rmcp::model::{
    ClientConfig, Implementation, ProtocolVersion, ResourceUpdatedNotificationParam,
    SubscribeRequestParams, UnsubscribeRequestParams,
};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::json;

/// A 2025 session that counts `notifications/resources/updated`.
#[derive(Clone, Default)]
struct Updates(Arc<AtomicUsize>);

impl ClientHandler for Updates {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(Default::default(), Implementation::new("watch-test", "0"))
            .with_protocol_version(ProtocolVersion::V_2025_11_25)
    }

    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _: NotificationContext<RoleClient>,
    ) {
        assert_eq!(params.uri, "erp://soap/items/1000");
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn mapping(base: &str) -> String {
    format!(
        r#"version: 1
sources:
  erp: {{ kind: soap, endpoint: "{base}/changing" }}
tools:
  get_item:
    description: One item by number.
    parameters: {{ item_no: {{ type: string }} }}
    source: erp
    operation: {{ element: GetItem, namespace: "urn:x", body: {{ ItemNo: item_no }} }}
    response: {{ path: GetItemResponse/Item }}
    columns: {{ "No": {{ type: string }} }}
    result: {{ one: true }}
  get_item_secret:
    description: One item by number, for auditors only.
    parameters: {{ item_no: {{ type: string }} }}
    source: erp
    operation: {{ element: GetItem, namespace: "urn:x", body: {{ ItemNo: item_no }} }}
    response: {{ path: GetItemResponse/Item }}
    columns: {{ "No": {{ type: string }} }}
    result: {{ one: true }}
    allow: [auditor]
resources:
  item:
    uri: "erp://soap/items/{{item_no}}"
    tool: get_item
    watch: {{ every: 1s }}
  unwatched:
    uri: "erp://soap/unwatched/{{item_no}}"
    tool: get_item
  secret:
    uri: "erp://soap/secret/{{item_no}}"
    tool: get_item_secret
    watch: {{ every: 1s }}
"#
    )
}

async fn subscriber(url: &str) -> (RunningService<RoleClient, Updates>, Arc<AtomicUsize>) {
    let updates = Updates::default();
    let count = updates.0.clone();
    let client = updates
        .serve(StreamableHttpClientTransport::from_uri(url.to_string()))
        .await
        .expect("initialize");
    (client, count)
}

fn subscribe(uri: &str) -> SubscribeRequestParams {
    serde_json::from_value(json!({"uri": uri})).unwrap()
}

fn unsubscribe(uri: &str) -> UnsubscribeRequestParams {
    serde_json::from_value(json!({"uri": uri})).unwrap()
}

/// Requests the fixture has seen so far.
fn asked(soap: &soap::Running) -> usize {
    soap.seen().len()
}

/// Change the answer once: both subscribers hear it within a period, and only once while it
/// stays.
async fn one_change_one_update_each(soap: &soap::Running, a: &AtomicUsize, b: &AtomicUsize) {
    *soap.fixture.item.lock().unwrap() = "1000-B".into();
    wait_for("both updates", || {
        a.load(Ordering::SeqCst) == 1 && b.load(Ordering::SeqCst) == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        a.load(Ordering::SeqCst),
        1,
        "notified again without a change"
    );
    assert_eq!(
        b.load(Ordering::SeqCst),
        1,
        "notified again without a change"
    );
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..100 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn a_watched_soap_resource_notifies_changes_once_per_watch_and_stops_with_its_subscribers() {
    let soap = soap::start().await;
    *soap.fixture.item.lock().unwrap() = "1000".into();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("erp.yaml"), mapping(&soap.base)).unwrap();
    let server = support::HttpServer::start(dir.path(), &[]).await;
    let uri = "erp://soap/items/1000";

    let (a, a_updates) = subscriber(&server.url()).await;
    let (b, b_updates) = subscriber(&server.url()).await;
    let caps = a
        .peer_info()
        .unwrap()
        .capabilities
        .resources
        .clone()
        .unwrap();
    assert_eq!(caps.subscribe, Some(true));
    a.subscribe(subscribe(uri)).await.unwrap();
    b.subscribe(subscribe(uri)).await.unwrap();

    // Unchanged answers: no update, and one look per period for both subscribers together.
    let before = asked(&soap);
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let looks = asked(&soap) - before;
    assert!((2..=5).contains(&looks), "{looks} looks in 3.5 s at 1 s");
    assert_eq!(a_updates.load(Ordering::SeqCst), 0);
    assert_eq!(b_updates.load(Ordering::SeqCst), 0);

    // A change reaches both, once.
    one_change_one_update_each(&soap, &a_updates, &b_updates).await;

    // Nothing is looked at once nobody is subscribed.
    a.unsubscribe(unsubscribe(uri)).await.unwrap();
    b.unsubscribe(unsubscribe(uri)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = asked(&soap);
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert_eq!(
        asked(&soap),
        after,
        "the backend was asked without a subscriber"
    );

    // A session that ends takes its subscriptions with it.
    a.subscribe(subscribe(uri)).await.unwrap();
    a.cancel().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let after = asked(&soap);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(asked(&soap), after, "a closed session's watch went on");

    // What cannot be subscribed to says why.
    let unwatched = b.subscribe(subscribe("erp://soap/unwatched/1000")).await;
    let e = unwatched.unwrap_err().to_string();
    assert!(e.contains("is not watched"), "{e}");
    let secret = b.subscribe(subscribe("erp://soap/secret/1000")).await;
    let e = secret.unwrap_err().to_string();
    assert!(e.contains("no resource matches"), "{e}");
    let nothing = b.subscribe(subscribe("erp://nothing")).await;
    assert!(
        nothing
            .unwrap_err()
            .to_string()
            .contains("no resource matches")
    );
    b.cancel().await.unwrap();
}

#[tokio::test]
async fn watch_every_below_one_second_is_refused_by_check() {
    let dir = tempfile::tempdir().unwrap();
    let text = mapping("http://127.0.0.1:9")
        .replace("every: 1s }\n  unwatched", "every: 100ms }\n  unwatched");
    std::fs::write(dir.path().join("erp.yaml"), text).unwrap();
    let out = std::process::Command::new(support::bin())
        .args(["check", "--mappings"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("erp.yaml:"), "{stderr}");
    assert!(stderr.contains("resources.item.watch.every"), "{stderr}");
    assert!(stderr.contains("1s or more"), "{stderr}");
}

/// Two replicas sharing a Redis (started here on its own port; scripts/test installs
/// redis-server): one look per period for the whole cluster, not one per replica, and a change
/// reaches the subscribers of both replicas, once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_in_a_cluster_watch_once_and_every_replica_hears_the_change() {
    let port = support::free_port();
    let _redis = tokio::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("redis-server is needed (scripts/test installs it): {e}"));
    wait_for("redis", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    })
    .await;
    let soap = soap::start().await;
    *soap.fixture.item.lock().unwrap() = "1000".into();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("erp.yaml"), mapping(&soap.base)).unwrap();
    let url = format!("redis://127.0.0.1:{port}");
    let env = [("LEGACY_MCP__CLUSTER__REDIS", url.as_str())];
    let one = support::HttpServer::start_with_env(dir.path(), &[], &env).await;
    let two = support::HttpServer::start_with_env(dir.path(), &[], &env).await;
    // Both replicas have found Redis (it answers their readiness probe as shared).
    for s in [&one, &two] {
        let ready = format!("http://{}/readyz", s.addr);
        let mut shared = false;
        for _ in 0..50 {
            let v: serde_json::Value = reqwest::get(&ready).await.unwrap().json().await.unwrap();
            if v["cluster"]["redis"] == "shared" {
                shared = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(shared, "replica {} never shared", s.addr);
    }
    let uri = "erp://soap/items/1000";
    let (a, a_updates) = subscriber(&one.url()).await;
    let (b, b_updates) = subscriber(&two.url()).await;
    a.subscribe(subscribe(uri)).await.unwrap();
    b.subscribe(subscribe(uri)).await.unwrap();

    let before = asked(&soap);
    tokio::time::sleep(Duration::from_millis(4500)).await;
    let looks = asked(&soap) - before;
    // Alone, each replica would look every second: 8 or more in 4.5 s between them.
    assert!(
        (3..=6).contains(&looks),
        "{looks} looks in 4.5 s at 1 s by two replicas"
    );
    assert_eq!(a_updates.load(Ordering::SeqCst), 0);
    assert_eq!(b_updates.load(Ordering::SeqCst), 0);

    one_change_one_update_each(&soap, &a_updates, &b_updates).await;

    // A replica whose mappings differ (a reload that reached only some) is told by /readyz.
    let other = tempfile::tempdir().unwrap();
    let changed = mapping(&soap.base).replace("One item by number.", "One item, by number.");
    std::fs::write(other.path().join("erp.yaml"), changed).unwrap();
    let three = support::HttpServer::start_with_env(other.path(), &[], &env).await;
    let ready = format!("http://{}/readyz", three.addr);
    let mut said = serde_json::Value::Null;
    for _ in 0..50 {
        said = reqwest::get(&ready).await.unwrap().json().await.unwrap();
        if said["cluster"]["redis"] == "shared" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let m = said["cluster"]["mappings"].as_str().unwrap_or_default();
    assert!(m.starts_with("differ from replica(s)"), "{said}");
}
