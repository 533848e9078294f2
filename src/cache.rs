//! The read cache: answers kept per tool and bound arguments for the tool's `ttl`, identical
//! concurrent misses joined into one backend call (single-flight), and — with
//! `stale_if_error` — the last good answer served, marked stale with its age, while the backend
//! fails. Flat-file answers are dropped as soon as the export changes.
//!
//! What is kept is the finished answer (what the caller would see), never rendered request text;
//! errors are never kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};

use crate::mapping::model::CacheDef;
use crate::pipeline::{CallError, ToolOutput};

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
}

type Flight = Shared<BoxFuture<'static, Result<Arc<Entry>, Failed>>>;

pub struct ReadCache {
    entries: moka::sync::Cache<String, Arc<Entry>>,
    /// Backend calls under way, by key: later identical calls wait for the same result.
    flights: Arc<Mutex<HashMap<String, Flight>>>,
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
        }
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
        let kept = self
            .entries
            .get(&key)
            .filter(|e| version.as_ref().is_none_or(|v| *v == e.output.version));
        if let Some(e) = &kept
            && e.stored.elapsed() < rule.ttl.0
        {
            return (Ok(e.output.clone()), Status::Hit);
        }
        let (flight, leader) = self.join(key, rule, answer);
        let waited = if leader {
            Status::Miss
        } else {
            Status::Coalesced
        };
        match flight.await {
            Ok(entry) => (Ok(entry.output.clone()), waited),
            Err(failed) => match kept {
                Some(e) if failed.backend && e.stored.elapsed() < e.keep_for => {
                    (Ok(stale(&e, &failed.error)), Status::Stale)
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
        answer: impl FnOnce() -> BoxFuture<'static, Result<ToolOutput, Failed>>,
    ) -> (Flight, bool) {
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(flight) = flights.get(&key) {
            return (flight.clone(), false);
        }
        let (entries, all, k) = (self.entries.clone(), self.flights.clone(), key.clone());
        let keep_for = rule.ttl.0 + rule.stale_if_error.map_or(Duration::ZERO, |d| d.0);
        let call = answer();
        let flight = async move {
            // However the flight ends (an answer, an error, a panic, every caller gone), it
            // leaves the table, so a later call starts afresh instead of joining a dead one.
            let _leave = Leave(all, k.clone());
            let result = call.await.map(|output| {
                Arc::new(Entry {
                    output,
                    stored: Instant::now(),
                    keep_for,
                })
            });
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
fn stale(e: &Entry, error: &CallError) -> ToolOutput {
    let mut out = e.output.clone();
    let said = format!(
        "served from the cache, {} s old, because the backend failed: {error}",
        e.stored.elapsed().as_secs()
    );
    out.notice = Some(match out.notice {
        Some(earlier) => format!("{said}; {earlier}"),
        None => said,
    });
    out
}
