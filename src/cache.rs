//! The read cache: answers kept per tool and bound arguments for the tool's `ttl`, identical
//! concurrent misses joined into one backend call (single-flight), and — with
//! `stale_if_error` — the last good answer served, marked stale with its age, while the backend
//! fails. Flat-file answers are dropped as soon as the export changes.
//!
//! What is kept is the finished answer (what the caller would see), never rendered request text;
//! errors are never kept.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};

use serde_json::{Value as Json, json};

use crate::cluster::{self, Cluster};
use crate::mapping::model::CacheDef;
use crate::outcome::{CallError, ToolOutput};

/// How one call was answered, for the audit record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The tool has no cache rule.
    Off,
    Hit,
    /// This call asked the backend.
    Miss,
    /// This call waited for an identical call already asking the backend.
    Coalesced,
    /// The backend failed; the answer is an older one within `stale_if_error`.
    Stale,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Off => "off",
            Status::Hit => "hit",
            Status::Miss => "miss",
            Status::Coalesced => "coalesced",
            Status::Stale => "stale",
        }
    }
}

/// The global bounds of the cache, whatever the tools ask for.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub max_entries: u64,
    pub max_bytes: u64,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            max_entries: 10_000,
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

/// The clock a cache ages its answers by: the monotonic clock, plus however far it has been
/// moved forward. Only tests move it (`Pipeline::cache_clock`), so expiry and staleness are
/// tested without sleeping; a running server's offset stays zero. (Eviction by moka runs on the
/// real clock, which is only ever later than freshness decided here.)
#[derive(Clone, Default)]
pub struct Clock(Arc<AtomicU64>);

impl Clock {
    pub fn now(&self) -> Instant {
        Instant::now() + Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }

    /// How long ago `then` was, on this clock.
    fn since(&self, then: Instant) -> Duration {
        self.now().saturating_duration_since(then)
    }

    /// Move the clock forward by `by`, for every cache that shares it.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.0.fetch_add(nanos, Ordering::Relaxed);
    }
}

/// A failed attempt to answer: whether the backend failed (then a stale answer may stand in)
/// or the call itself was wrong (not found, a bad argument: never papered over).
#[derive(Debug, Clone)]
pub struct Failed {
    pub error: CallError,
    pub backend: bool,
}

struct Entry {
    output: ToolOutput,
    stored: Instant,
    /// Kept this long in all: `ttl` fresh, then `stale_if_error` as a fallback.
    keep_for: Duration,
    /// Made by another replica (found in Redis while this one waited).
    peer: bool,
}

/// The cache shared with other replicas, and the mappings' digest that keys it (replicas
/// serving other mappings never take each other's answers).
#[derive(Clone)]
pub struct SharedCache {
    pub cluster: Arc<Cluster>,
    pub digest: String,
}

type Flight = Shared<BoxFuture<'static, Result<Arc<Entry>, Failed>>>;

pub struct ReadCache {
    entries: moka::sync::Cache<String, Arc<Entry>>,
    /// Backend calls under way, by key: later identical calls wait for the same result.
    flights: Arc<Mutex<HashMap<String, Flight>>>,
    /// Redis behind this cache (`[cluster]`): a second level, and single-flight across replicas.
    shared: Option<SharedCache>,
    clock: Clock,
}

/// Each entry lives for its own tool's `ttl + stale_if_error`.
struct PerEntry;

impl moka::Expiry<String, Arc<Entry>> for PerEntry {
    fn expire_after_create(&self, _: &String, e: &Arc<Entry>, _: Instant) -> Option<Duration> {
        Some(e.keep_for)
    }
}

impl ReadCache {
    pub fn new(bounds: Bounds) -> Self {
        // One weight bounds both: an entry weighs its bytes, but never less than its share of
        // the byte budget, so the count of entries cannot pass `max_entries` either.
        let floor = (bounds.max_bytes / bounds.max_entries.max(1)).max(1);
        let entries = moka::sync::Cache::builder()
            .max_capacity(bounds.max_bytes)
            .weigher(move |k: &String, e: &Arc<Entry>| {
                let bytes = (k.len() + 2 * e.output.text.len()) as u64;
                bytes.max(floor).min(u32::MAX as u64) as u32
            })
            .expire_after(PerEntry)
            .support_invalidation_closures()
            .build();
        ReadCache {
            entries,
            flights: Arc::default(),
            shared: None,
            clock: Clock::default(),
        }
    }

    /// This cache aging its answers by `clock` (a reload's new cache keeps the old one's).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// This cache in front of the cluster's (`[cluster] redis`).
    pub fn with_shared(mut self, shared: Option<SharedCache>) -> Self {
        self.shared = shared;
        self
    }

    /// Drop every kept answer of `tool` (all arguments, all profiles): a call that changed the
    /// data it reads has just succeeded (`invalidates:`).
    pub fn invalidate_tool(&self, tool: &str) {
        let prefix = format!("{tool}\0");
        // Fails only when closures are not enabled, which `new` does.
        let _ = self
            .entries
            .invalidate_entries_if(move |k, _| k.starts_with(&prefix));
    }

    /// Answer from the cache, or through `answer` (once for all identical concurrent calls).
    /// `version` is the data's current version where it is cheap to know (a flat file's size
    /// and mtime): an answer made from another version is not served.
    pub async fn read_through(
        &self,
        key: String,
        rule: CacheDef,
        version: Option<String>,
        answer: impl FnOnce() -> BoxFuture<'static, Result<ToolOutput, Failed>>,
    ) -> (Result<ToolOutput, CallError>, Status) {
        let same_version = |e: &Arc<Entry>| version.as_ref().is_none_or(|v| *v == e.output.version);
        let mut kept = self.entries.get(&key).filter(same_version);
        let clock = &self.clock;
        if let Some(e) = &kept
            && clock.since(e.stored) < rule.ttl.0
        {
            return (Ok(e.output.clone()), Status::Hit);
        }
        // The second level: another replica may have answered it.
        if let Some(sh) = &self.shared {
            let rkey = sh.cluster.cache_key(&sh.digest, &key);
            if let Some(e) = sh
                .cluster
                .get(&rkey)
                .await
                .and_then(|b| decode(&b, clock))
                .filter(same_version)
            {
                if clock.since(e.stored) < rule.ttl.0 {
                    self.entries.insert(key, e.clone());
                    return (Ok(e.output.clone()), Status::Hit);
                }
                kept = kept.or(Some(e));
            }
        }
        let (flight, leader) = self.join(key, rule, version, answer);
        let waited = if leader {
            Status::Miss
        } else {
            Status::Coalesced
        };
        match flight.await {
            Ok(entry) if entry.peer => (Ok(entry.output.clone()), Status::Coalesced),
            Ok(entry) => (Ok(entry.output.clone()), waited),
            Err(failed) => match kept {
                Some(e) if failed.backend && clock.since(e.stored) < e.keep_for => {
                    (Ok(stale(&e, &failed.error, clock)), Status::Stale)
                }
                _ => (Err(failed.error), waited),
            },
        }
    }

    /// The flight under way for `key`, or a new one; true when this call started it.
    fn join(
        &self,
        key: String,
        rule: CacheDef,
        version: Option<String>,
        answer: impl FnOnce() -> BoxFuture<'static, Result<ToolOutput, Failed>>,
    ) -> (Flight, bool) {
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(flight) = flights.get(&key) {
            return (flight.clone(), false);
        }
        let (entries, all, k) = (self.entries.clone(), self.flights.clone(), key.clone());
        let clock = self.clock.clone();
        let keep_for = rule.ttl.0 + rule.stale_if_error.map_or(Duration::ZERO, |d| d.0);
        let call = answer();
        let shared = self
            .shared
            .clone()
            .map(|sh| (sh.cluster.cache_key(&sh.digest, &key), sh.cluster));
        let flight = async move {
            // However the flight ends (an answer, an error, a panic, every caller gone), it
            // leaves the table, so a later call starts afresh instead of joining a dead one.
            let _leave = Leave(all, k.clone());
            let result = match shared {
                Some((rkey, cluster)) => {
                    let across = Across {
                        cluster,
                        key: rkey,
                        ttl: rule.ttl.0,
                        keep_for,
                        version,
                        clock: clock.clone(),
                    };
                    across.answer(call).await
                }
                None => call.await.map(|output| {
                    Arc::new(Entry {
                        output,
                        stored: clock.now(),
                        keep_for,
                        peer: false,
                    })
                }),
            };
            // Stored before the flight ends, so a call arriving now finds the answer.
            if let Ok(entry) = &result {
                entries.insert(k, entry.clone());
            }
            result
        }
        .boxed()
        .shared();
        flights.insert(key, flight.clone());
        (flight, true)
    }
}

/// One miss across replicas: the replica that gets the lease asks the backend and shares the
/// answer; the others wait for it in Redis (never longer than the lease, and the call's own
/// timeout bounds them anyway). Redis gone: each asks for itself, as a single process does.
struct Across {
    cluster: Arc<Cluster>,
    key: String,
    ttl: Duration,
    keep_for: Duration,
    version: Option<String>,
    clock: Clock,
}

/// How often a waiting replica looks for the lease holder's answer.
const WAIT_STEP: Duration = Duration::from_millis(20);

impl Across {
    async fn answer(
        &self,
        call: BoxFuture<'static, Result<ToolOutput, Failed>>,
    ) -> Result<Arc<Entry>, Failed> {
        let c = &self.cluster;
        match c.lease(&self.key).await {
            Some(Some(token)) => {
                let result = self.ask(call).await;
                c.release(&self.key, &token).await;
                result
            }
            Some(None) => {
                loop {
                    tokio::time::sleep(WAIT_STEP).await;
                    if let Some(e) = self.peer_answer().await {
                        return Ok(e);
                    }
                    // The holder ended without an answer (an error is never shared), died
                    // and its lease ran out, or Redis went away: ask for ourselves.
                    if c.leased(&self.key).await != Some(true) {
                        break;
                    }
                }
                match self.peer_answer().await {
                    Some(e) => Ok(e),
                    None => self.ask(call).await,
                }
            }
            None => self.ask(call).await,
        }
    }

    /// Ask the backend, and share a good answer.
    async fn ask(
        &self,
        call: BoxFuture<'static, Result<ToolOutput, Failed>>,
    ) -> Result<Arc<Entry>, Failed> {
        let output = call.await?;
        self.cluster
            .put(&self.key, encode(&output, self.keep_for), self.keep_for)
            .await;
        Ok(Arc::new(Entry {
            output,
            stored: self.clock.now(),
            keep_for: self.keep_for,
            peer: false,
        }))
    }

    async fn peer_answer(&self) -> Option<Arc<Entry>> {
        let e = decode(&self.cluster.get(&self.key).await?, &self.clock)?;
        let fits = self.version.as_ref().is_none_or(|v| *v == e.output.version);
        (fits && self.clock.since(e.stored) < self.ttl).then(|| {
            Arc::new(Entry {
                output: e.output.clone(),
                stored: e.stored,
                keep_for: e.keep_for,
                peer: true,
            })
        })
    }
}

/// A kept answer as Redis holds it: the finished (masked) answer, when it was made and for how
/// long it may be kept.
fn encode(out: &ToolOutput, keep_for: Duration) -> Vec<u8> {
    json!({
        "s": out.structured,
        "t": out.text,
        "n": out.notice,
        "v": out.version,
        "at": cluster::now_ms(),
        "keep": keep_for.as_millis() as u64,
    })
    .to_string()
    .into_bytes()
}

/// An entry from Redis, aged by the time since another replica made it.
fn decode(bytes: &[u8], clock: &Clock) -> Option<Arc<Entry>> {
    let v: Json = serde_json::from_slice(bytes).ok()?;
    let age = Duration::from_millis(cluster::now_ms().saturating_sub(v.get("at")?.as_u64()?));
    let keep_for = Duration::from_millis(v.get("keep")?.as_u64()?);
    let stored = clock.now().checked_sub(age)?;
    Some(Arc::new(Entry {
        output: ToolOutput {
            structured: v.get("s")?.clone(),
            text: v.get("t")?.as_str()?.to_string(),
            notice: v.get("n").and_then(|n| n.as_str()).map(str::to_string),
            version: v.get("v")?.as_str()?.to_string(),
        },
        stored,
        keep_for,
        peer: true,
    }))
}

/// Takes a flight off the table when dropped.
struct Leave(Arc<Mutex<HashMap<String, Flight>>>, String);

impl Drop for Leave {
    fn drop(&mut self) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.1);
    }
}

/// An older answer standing in for a failed backend, saying so.
fn stale(e: &Entry, error: &CallError, clock: &Clock) -> ToolOutput {
    let mut out = e.output.clone();
    let said = format!(
        "served from the cache, {} s old, because the backend failed: {error}",
        clock.since(e.stored).as_secs()
    );
    out.notice = Some(match out.notice {
        Some(earlier) => format!("{said}; {earlier}"),
        None => said,
    });
    out
}
