//! Shared state for several replicas behind a load balancer, on Redis (`[cluster] redis`):
//! cached answers (already masked, optionally encrypted), the lease that makes one replica ask
//! the backend for a miss while the others wait for its answer, and per-caller rate limits
//! (GCRA in one Lua script, on Redis's clock).
//!
//! Redis down or slow never fails a call: every command has a short timeout, and on the first
//! failure the replica works alone (its own cache, single-flight and buckets), says so in the
//! log, in `/readyz` and in the `legacy_mcp_cluster_shared` metric, and probes Redis every
//! second until it answers again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, SystemTime};

use hmac::{Hmac, KeyInit, Mac};
use redis::aio::ConnectionManager;
use sha2::Sha256;

use crate::cursor::Seal;

/// The default for `[cluster] timeout`: one Redis command, before the replica works alone.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);
/// The default for `[cluster] lease`.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
/// How often a replica working alone asks Redis whether it is back.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// GCRA: KEYS[1] the caller's key; ARGV: emission interval and burst tolerance in µs. Returns
/// 0 when the call may go, else the µs to wait. The time is Redis's, the same for every replica.
const GCRA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - tolerance
if now < allow_at then return allow_at - now end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1)
return 0
"#;

/// Deletes a lease only if it is still ours (it may have expired and been taken by another).
const RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#;

pub struct Cluster {
    client: redis::Client,
    conn: Mutex<Option<ConnectionManager>>,
    shared: AtomicBool,
    /// Why the replica works alone, for `/readyz`.
    why: Mutex<Option<String>>,
    prefix: String,
    timeout: Duration,
    pub lease: Duration,
    /// Keys are HMACs of the cache key (argument values never appear in Redis key names).
    key_mac: Vec<u8>,
    /// Values encrypted at rest, when `encryption_key` is set.
    seal: Option<Seal>,
    probing: Once,
    /// This replica's mapping digest, published for `/readyz` on the others.
    pub instance: String,
    /// Resource updates published by any replica (watch keys), for this replica's watches.
    updates: tokio::sync::broadcast::Sender<String>,
    listening: Once,
}

/// What the replica reports about the cluster.
pub struct State {
    pub shared: bool,
    pub why: Option<String>,
}

impl Cluster {
    /// From the settings; a URL Redis's client cannot parse is an error (nothing connects yet).
    pub fn new(
        url: &str,
        prefix: Option<&str>,
        encryption: Option<&[u8]>,
        timeout: Option<Duration>,
        lease: Option<Duration>,
    ) -> Result<Arc<Cluster>, String> {
        let client = redis::Client::open(url).map_err(|e| {
            format!("settings cluster.redis: not a Redis URL (redis:// or rediss://): {e}")
        })?;
        let mut instance = [0u8; 8];
        getrandom::fill(&mut instance).expect("the OS gives random bytes");
        Ok(Arc::new(Cluster {
            client,
            conn: Mutex::new(None),
            shared: AtomicBool::new(false),
            why: Mutex::new(Some("not connected yet".into())),
            prefix: prefix.unwrap_or("legacy-mcp").to_string(),
            timeout: timeout.unwrap_or(DEFAULT_TIMEOUT),
            lease: lease.unwrap_or(DEFAULT_LEASE),
            key_mac: encryption.map_or_else(|| b"legacy-mcp cache key".to_vec(), <[u8]>::to_vec),
            seal: encryption.map(|k| Seal::derived(b"legacy-mcp cache value", k)),
            probing: Once::new(),
            instance: instance.iter().map(|b| format!("{b:02x}")).collect(),
            updates: tokio::sync::broadcast::channel(256).0,
            listening: Once::new(),
        }))
    }

    pub fn state(self: &Arc<Self>) -> State {
        self.start_probing();
        State {
            shared: self.shared.load(Ordering::Relaxed),
            why: self.why.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        }
    }

    /// The Redis key of a cache entry: an HMAC, so argument values never show in key names.
    pub fn cache_key(&self, catalog: &str, key: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key_mac).expect("any key");
        mac.update(catalog.as_bytes());
        mac.update(b"\0");
        mac.update(key.as_bytes());
        let digest = mac.finalize().into_bytes();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("{}:cache:{hex}", self.prefix)
    }

    /// A kept answer, decrypted; None when there is none or Redis is not there.
    pub async fn get(self: &Arc<Self>, key: &str) -> Option<Vec<u8>> {
        let raw: Vec<u8> = self
            .run::<Option<Vec<u8>>>(redis::cmd("GET").arg(key))
            .await
            .flatten()?;
        match &self.seal {
            Some(seal) => seal.open_bytes(key.as_bytes(), &raw),
            None => Some(raw),
        }
    }

    /// Keep an answer for `ttl` (encrypted when a key is set).
    pub async fn put(self: &Arc<Self>, key: &str, value: Vec<u8>, ttl: Duration) {
        let value = match &self.seal {
            Some(seal) => seal.seal_bytes(key.as_bytes(), value),
            None => value,
        };
        let ms = ttl.as_millis().max(1) as u64;
        let _: Option<()> = self
            .run(redis::cmd("SET").arg(key).arg(value).arg("PX").arg(ms))
            .await;
    }

    /// Take the lease on `key` for `self.lease`: Some(token) when this replica got it, Some("")
    /// when another holds it, None when Redis is not there.
    pub async fn lease(self: &Arc<Self>, key: &str) -> Option<Option<String>> {
        let mut token = [0u8; 12];
        getrandom::fill(&mut token).expect("the OS gives random bytes");
        let token: String = token.iter().map(|b| format!("{b:02x}")).collect();
        let ms = self.lease.as_millis().max(1) as u64;
        let set: Option<String> = self
            .run(
                redis::cmd("SET")
                    .arg(format!("{key}:lease"))
                    .arg(&token)
                    .arg("NX")
                    .arg("PX")
                    .arg(ms),
            )
            .await?;
        Some(set.map(|_| token))
    }

    /// Whether someone still holds the lease on `key` (None: Redis is not there).
    pub async fn leased(self: &Arc<Self>, key: &str) -> Option<bool> {
        let n: i64 = self
            .run(redis::cmd("EXISTS").arg(format!("{key}:lease")))
            .await?;
        Some(n > 0)
    }

    pub async fn release(self: &Arc<Self>, key: &str, token: &str) {
        let script = redis::Script::new(RELEASE);
        let mut inv = script.key(format!("{key}:lease"));
        inv.arg(token);
        let _: Option<i64> = self.script(&inv).await;
    }

    /// One call from `principal`'s budget across the cluster: Ok, or how long to wait; None
    /// when Redis is not there (the replica's own bucket decides then).
    pub async fn rate(
        self: &Arc<Self>,
        principal: &str,
        per_minute: u32,
        burst: u32,
    ) -> Option<Result<(), Duration>> {
        let interval = 60_000_000u64 / per_minute.max(1) as u64;
        let tolerance = interval * burst.max(1) as u64;
        let script = redis::Script::new(GCRA);
        let mut inv = script.key(format!("{}:rate:{}", self.prefix, hex(principal)));
        inv.arg(interval).arg(tolerance);
        let wait: i64 = self.script(&inv).await?;
        Some(if wait <= 0 {
            Ok(())
        } else {
            Err(Duration::from_micros(wait as u64))
        })
    }

    /// Publish this replica's mapping digest and read the others' (one hash; entries older
    /// than 30 s belong to replicas that stopped, and are dropped). Never `KEYS`: the Redis
    /// may be shared and large.
    pub async fn mapping_digests(self: &Arc<Self>, digest: &str) -> Option<Vec<(String, String)>> {
        const FRESH_MS: u64 = 30_000;
        let hash = format!("{}:replicas", self.prefix);
        let now = now_ms();
        let _: i64 = self
            .run(
                redis::cmd("HSET")
                    .arg(&hash)
                    .arg(&self.instance)
                    .arg(format!("{now} {digest}")),
            )
            .await?;
        let all: Vec<(String, String)> = self.run(redis::cmd("HGETALL").arg(&hash)).await?;
        let mut out = Vec::new();
        for (who, value) in all {
            let (at, d) = value.split_once(' ').unwrap_or(("0", ""));
            if now.saturating_sub(at.parse().unwrap_or(0)) > FRESH_MS {
                let _: Option<i64> = self.run(redis::cmd("HDEL").arg(&hash).arg(&who)).await;
            } else {
                out.push((who, d.to_string()));
            }
        }
        Some(out)
    }

    /// Whether this replica's subscribers share the cluster's watches now.
    pub fn is_shared(&self) -> bool {
        self.shared.load(Ordering::Relaxed)
    }

    /// The Redis key of a watched resource (URI and masking profile) under these mappings.
    pub fn watch_key(&self, catalog: &str, key: &str) -> String {
        self.cache_key(catalog, key)
            .replacen(":cache:", ":watch:", 1)
    }

    /// Whether this replica takes this period's look at a watched resource: one replica per
    /// period for the whole cluster (None: Redis is not there, look alone).
    pub async fn poll_turn(self: &Arc<Self>, key: &str, every: Duration) -> Option<bool> {
        let ms = (every.as_millis() as u64 * 9 / 10).max(1);
        let set: Option<String> = self
            .run(
                redis::cmd("SET")
                    .arg(format!("{key}:poll"))
                    .arg(1)
                    .arg("NX")
                    .arg("PX")
                    .arg(ms),
            )
            .await?;
        Some(set.is_some())
    }

    /// Store this look's hash; the one before it (None when this is the first).
    pub async fn seen_swap(self: &Arc<Self>, key: &str, now: u64) -> Option<Option<u64>> {
        let before: Option<String> = self
            .run(
                redis::cmd("SET")
                    .arg(format!("{key}:seen"))
                    .arg(now.to_string())
                    .arg("GET")
                    .arg("PX")
                    .arg(3_600_000),
            )
            .await?;
        Some(before.and_then(|b| b.parse().ok()))
    }

    /// Tell every replica (this one too) that a watched resource changed.
    pub async fn publish(self: &Arc<Self>, key: &str) {
        let _: Option<i64> = self
            .run(
                redis::cmd("PUBLISH")
                    .arg(format!("{}:updates", self.prefix))
                    .arg(key),
            )
            .await;
    }

    /// Watch keys published by any replica. The listener (one Redis subscription per process)
    /// starts with the first caller and reconnects after a loss.
    pub fn updates(self: &Arc<Self>) -> tokio::sync::broadcast::Receiver<String> {
        let rx = self.updates.subscribe();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let weak = Arc::downgrade(self);
            self.listening.call_once(move || {
                rt.spawn(listen(weak));
            });
        }
        rx
    }

    /// Run one command within the timeout; on any failure the replica works alone.
    async fn run<T: redis::FromRedisValue>(self: &Arc<Self>, cmd: &redis::Cmd) -> Option<T> {
        let mut conn = self.connection()?;
        match tokio::time::timeout(self.timeout, cmd.query_async::<T>(&mut conn)).await {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) => self.lost(e.to_string()),
            Err(_) => self.lost(format!("no answer within {:?}", self.timeout)),
        }
    }

    async fn script<T: redis::FromRedisValue>(
        self: &Arc<Self>,
        inv: &redis::ScriptInvocation<'_>,
    ) -> Option<T> {
        let mut conn = self.connection()?;
        match tokio::time::timeout(self.timeout, inv.invoke_async::<T>(&mut conn)).await {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) => self.lost(e.to_string()),
            Err(_) => self.lost(format!("no answer within {:?}", self.timeout)),
        }
    }

    /// The connection while Redis is shared; None while the replica works alone (no call
    /// waits for a Redis that is down: the prober finds out when it is back).
    fn connection(self: &Arc<Self>) -> Option<ConnectionManager> {
        self.start_probing();
        if !self.shared.load(Ordering::Relaxed) {
            return None;
        }
        self.conn.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn lost<T>(&self, why: String) -> Option<T> {
        if self.shared.swap(false, Ordering::Relaxed) {
            tracing::warn!(
                "Redis is not answering ({why}): this replica works alone (its own cache, single-flight and rate limits) until it is back"
            );
            crate::metrics::cluster_shared(false);
        }
        *self.why.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
        None
    }

    /// Connect, and reconnect after a loss, in the background: one task per process.
    pub fn start_probing(self: &Arc<Self>) {
        // Outside a runtime (building the pipeline before serving) there is nothing to spawn
        // on yet: the first call from inside one starts it.
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let me = self.clone();
        self.probing.call_once(move || {
            let weak = Arc::downgrade(&me);
            drop(me);
            rt.spawn(async move {
                loop {
                    let Some(c) = weak.upgrade() else { return };
                    if !c.shared.load(Ordering::Relaxed) {
                        c.probe().await;
                    }
                    drop(c);
                    tokio::time::sleep(PROBE_EVERY).await;
                }
            });
        });
    }

    /// Try Redis once: a connection (made if there is none) that answers PING.
    async fn probe(&self) {
        let existing = self.conn.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let conn = match existing {
            Some(c) => Some(c),
            None => {
                let config = redis::aio::ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.timeout * 4))
                    .set_response_timeout(Some(self.timeout))
                    .set_number_of_retries(1);
                match tokio::time::timeout(
                    self.timeout * 8,
                    self.client.get_connection_manager_with_config(config),
                )
                .await
                {
                    Ok(Ok(c)) => Some(c),
                    Ok(Err(e)) => {
                        *self.why.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                        None
                    }
                    Err(_) => None,
                }
            }
        };
        let Some(mut conn) = conn else { return };
        let pong = tokio::time::timeout(
            self.timeout,
            redis::cmd("PING").query_async::<String>(&mut conn),
        )
        .await;
        if matches!(pong, Ok(Ok(_))) {
            *self.conn.lock().unwrap_or_else(|p| p.into_inner()) = Some(conn);
            *self.why.lock().unwrap_or_else(|p| p.into_inner()) = None;
            self.shared.store(true, Ordering::Relaxed);
            crate::metrics::cluster_shared(true);
            tracing::info!(
                "Redis answers: cache, single-flight and rate limits are shared with the other replicas"
            );
        }
    }
}

/// Forward the cluster's update messages to this process's watches, for as long as the
/// cluster lives; after a lost connection, subscribe again a second later.
async fn listen(cluster: std::sync::Weak<Cluster>) {
    use futures_util::StreamExt;
    loop {
        let Some(c) = cluster.upgrade() else { return };
        let (client, channel, tx) = (
            c.client.clone(),
            format!("{}:updates", c.prefix),
            c.updates.clone(),
        );
        drop(c);
        if let Ok(mut pubsub) = client.get_async_pubsub().await
            && pubsub.subscribe(&channel).await.is_ok()
        {
            let mut messages = pubsub.on_message();
            while let Some(m) = messages.next().await {
                if let Ok(key) = m.get_payload::<String>() {
                    let _ = tx.send(key);
                }
                if cluster.strong_count() == 0 {
                    return;
                }
            }
        }
        tokio::time::sleep(PROBE_EVERY).await;
    }
}

/// A principal's name in a Redis key: hex, so no name can reach into another key.
fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Milliseconds since the epoch: when a shared answer was made (replicas' clocks agree to
/// well within any `ttl`).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
