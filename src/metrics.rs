//! What the server counts, for `/metrics` in Prometheus (OpenMetrics) text: calls by tool and
//! outcome, latency, cache answers, backend errors, calls in flight, reloads, and pool use read
//! at scrape time. One `Metrics` lives for the whole process and outlives mapping reloads, so
//! counters never go back to zero while the server runs.
//!
//! Labels are bounded by the catalogue: a call to a tool that does not exist is counted under
//! `tool="(unknown)"`, so a caller cannot grow the label set by inventing names.

use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::catalog::Catalog;

/// Whether this replica shares its cache, single-flight and rate limits through Redis (1) or
/// works alone because Redis does not answer (0). Process-wide: the cluster outlives reloads.
static CLUSTER_SHARED: std::sync::LazyLock<Gauge<i64, AtomicI64>> =
    std::sync::LazyLock::new(Gauge::default);

/// Set by `cluster.rs` when Redis is lost or back.
pub fn cluster_shared(shared: bool) {
    CLUSTER_SHARED.set(shared as i64);
}

/// The label of calls to tools the catalogue does not have.
pub const UNKNOWN_TOOL: &str = "(unknown)";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    tool: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabels {
    tool: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    tool: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    result: String,
}

/// The process's counters; cheap to clone (every part is shared).
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    calls: Family<CallLabels, Counter>,
    latency: Family<ToolLabels, Histogram>,
    cache: Family<CacheLabels, Counter>,
    backend_errors: Family<SourceLabels, Counter>,
    in_flight: Gauge<i64, AtomicI64>,
    reloads: Family<ReloadLabels, Counter>,
    tools: Gauge<i64, AtomicI64>,
    pool_in_use: Family<SourceLabels, Gauge<i64, AtomicI64>>,
    pool_size: Family<SourceLabels, Gauge<i64, AtomicI64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Held while a call runs; dropping it ends the call's time in flight.
pub struct InFlight(Gauge<i64, AtomicI64>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let calls = Family::default();
        // 0.1 ms to about 26 s: a cache hit and a slow ERP report both land in a bucket.
        let latency: Family<ToolLabels, Histogram> =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.0001, 2.0, 19)));
        let (cache, backend_errors, reloads) =
            (Family::default(), Family::default(), Family::default());
        let (in_flight, tools) = (Gauge::default(), Gauge::default());
        let (pool_in_use, pool_size) = (Family::default(), Family::default());
        let mut r = Registry::with_prefix("legacy_mcp");
        r.register(
            "calls",
            "Tool calls (resource reads and prompt resources included) by tool and outcome",
            calls.clone(),
        );
        r.register_with_unit(
            "call_duration",
            "Time from request to answer, by tool",
            prometheus_client::registry::Unit::Seconds,
            latency.clone(),
        );
        r.register(
            "cache",
            "How cached tools were answered: hit, miss, coalesced (waited for an identical miss), stale (backend failed, older answer served)",
            cache.clone(),
        );
        r.register(
            "backend_errors",
            "Backend calls that failed (unreachable, timeout, fault, bad answer), by source",
            backend_errors.clone(),
        );
        r.register(
            "calls_in_flight",
            "Calls being answered now",
            in_flight.clone(),
        );
        r.register(
            "reloads",
            "Mapping reloads: ok (swapped in) or rejected (invalid; the previous mappings kept serving)",
            reloads.clone(),
        );
        r.register("tools", "Tools in the serving catalogue", tools.clone());
        r.register(
            "cluster_shared",
            "With [cluster] redis: 1 while cache, single-flight and rate limits are shared through Redis, 0 while this replica works alone (Redis not answering)",
            CLUSTER_SHARED.clone(),
        );
        r.register(
            "pool_connections_in_use",
            "SQL connections (or ODBC workers) busy, by source",
            pool_in_use.clone(),
        );
        r.register(
            "pool_connections_max",
            "The pool's size, by source",
            pool_size.clone(),
        );
        Metrics {
            registry: Arc::new(r),
            calls,
            latency,
            cache,
            backend_errors,
            in_flight,
            reloads,
            tools,
            pool_in_use,
            pool_size,
        }
    }

    /// Count one finished call.
    pub fn call(&self, tool: &str, outcome: &str, cache: &str, took: Duration) {
        self.calls
            .get_or_create(&CallLabels {
                tool: tool.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
        self.latency
            .get_or_create(&ToolLabels {
                tool: tool.to_string(),
            })
            .observe(took.as_secs_f64());
        if cache != "off" {
            self.cache
                .get_or_create(&CacheLabels {
                    tool: tool.to_string(),
                    result: cache.to_string(),
                })
                .inc();
        }
    }

    pub fn backend_error(&self, source: &str) {
        self.backend_errors
            .get_or_create(&SourceLabels {
                source: source.to_string(),
            })
            .inc();
    }

    /// A call starts: it counts as in flight until the guard is dropped.
    pub fn start_call(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    pub fn in_flight(&self) -> i64 {
        self.in_flight.get()
    }

    /// Wait until no call is in flight, or `grace` has passed; true when none is left.
    pub async fn drained(&self, grace: Duration) -> bool {
        let until = Instant::now() + grace;
        while self.in_flight() > 0 {
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    pub fn reloaded(&self, ok: bool) {
        let result = if ok { "ok" } else { "rejected" };
        self.reloads
            .get_or_create(&ReloadLabels {
                result: result.into(),
            })
            .inc();
    }

    /// The OpenMetrics text, with the gauges read from the serving catalogue now.
    pub fn render(&self, catalog: &Catalog) -> String {
        self.tools.set(catalog.tools.len() as i64);
        self.pool_in_use.clear();
        self.pool_size.clear();
        for (name, source) in &catalog.sources {
            if let Some((busy, size)) = source.pool_usage() {
                let l = SourceLabels {
                    source: name.clone(),
                };
                self.pool_in_use.get_or_create(&l).set(busy as i64);
                self.pool_size.get_or_create(&l).set(size as i64);
            }
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The content type of `render`'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
