//! Live resource updates: clients subscribe to a resource URI (a 2025 session with
//! `resources/subscribe`, a 2026-07-28 client on its `subscriptions/listen` stream) and get
//! `notifications/resources/updated` when it changes.
//!
//! One watch per resource URI and masking profile, shared by all its subscribers: it looks at
//! the resource every `watch.every` (flat files: the export's size and mtime, every 2s unless
//! the mapping says otherwise; SQL and SOAP: the answer itself, re-read through the pipeline as
//! its first subscriber, so it is authorised, masked, cached and audited like any read) and
//! notifies when that differs from the last look. A watch ends with its last subscriber;
//! nothing is looked at without one. Subscriptions are bounded per client and in total. In a
//! cluster one replica looks per period for all and publishes changes through Redis.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use rmcp::RoleServer;
use rmcp::model::ResourceUpdatedNotificationParam;
use rmcp::service::{Peer, SubscriptionSink};

use super::state::State;
use crate::auth::Principal;

/// Subscriptions one client (a session, a listen stream) may hold.
/// What a watch needs of the served catalogue (`live::Live`, which holds the watches): the
/// generation being served now, and the subscriptions. A trait, so that the watches sit below
/// the live catalogue instead of reaching back up into it.
pub trait Served: Send + Sync + 'static {
    fn current(&self) -> Arc<State>;
    fn watches(&self) -> &Watches;
}

pub const PER_CLIENT: usize = 100;
/// Subscriptions the whole server holds at most.
pub const TOTAL: usize = 1000;

static GENERATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Where an update goes.
#[derive(Clone)]
pub enum Notifier {
    /// A 2025 session (`resources/subscribe`).
    Peer(Peer<RoleServer>),
    /// A 2026-07-28 `subscriptions/listen` stream.
    Sink(SubscriptionSink),
}

impl Notifier {
    /// Send the update; false when the client is gone.
    async fn updated(&self, uri: &str) -> bool {
        match self {
            Notifier::Peer(p) => p
                .notify_resource_updated(ResourceUpdatedNotificationParam::new(uri))
                .await
                .is_ok(),
            Notifier::Sink(s) => s.notify_resource_updated(uri).await.is_ok(),
        }
    }

    fn closed(&self) -> bool {
        match self {
            Notifier::Peer(p) => p.is_transport_closed(),
            Notifier::Sink(_) => false,
        }
    }
}

struct Subscriber {
    client: String,
    notify: Notifier,
}

/// One watched resource (per masking profile) and who wants to hear of it.
struct Watched {
    /// Which watch task serves it: a watch that ended and was started again has a new one.
    generation: u64,
    uri: String,
    subscribers: Vec<Subscriber>,
}

#[derive(Default)]
pub struct Watches {
    watched: Mutex<HashMap<String, Watched>>,
    /// Flat-file looks taken when a `subscriptions/listen` stream was granted, by URI: rmcp
    /// acknowledges the stream before `listen` runs, and a client may change the export the
    /// moment it has the acknowledgment; the watch starts from this look, not a later one.
    granted: Mutex<HashMap<String, (u64, std::time::Instant)>>,
}

impl Watches {
    /// Subscribe `client` to `uri` as `who`; starts the watch when it is the first, with a
    /// first look taken before this returns (a change right after the subscription is not
    /// missed). The error says why not, in words for the agent.
    pub async fn subscribe<S: Served>(
        &self,
        live: &Arc<S>,
        who: &Principal,
        client: &str,
        uri: &str,
        notify: Notifier,
    ) -> Result<(), String> {
        let state = live.current();
        let every = watchable(&state, who, uri)?;
        let key = format!("{uri}\u{0}{}", profile(who));
        let fresh = !self
            .watched
            .lock()
            .expect("watches lock")
            .contains_key(&key);
        let granted = self.granted.lock().expect("watches lock").remove(uri);
        let first = match granted {
            Some((seen, at)) if at.elapsed() < GRANT_KEPT => Some(seen),
            _ if fresh => look(&state, who, uri).await,
            _ => None,
        };
        let mut watched = self.watched.lock().expect("watches lock");
        let (mut total, mut mine) = (0, 0);
        for s in watched.values().flat_map(|w| &w.subscribers) {
            total += 1;
            mine += usize::from(s.client == client);
        }
        if let Some(w) = watched.get(&key)
            && w.subscribers.iter().any(|s| s.client == client)
        {
            return Ok(());
        }
        if mine >= PER_CLIENT {
            return Err(format!(
                "too many subscriptions: a client may hold {PER_CLIENT}; unsubscribe from one first"
            ));
        }
        if total >= TOTAL {
            return Err(format!(
                "the server holds its maximum of {TOTAL} subscriptions; try again later"
            ));
        }
        let subscriber = Subscriber {
            client: client.to_string(),
            notify,
        };
        match watched.get_mut(&key) {
            Some(w) => w.subscribers.push(subscriber),
            None => {
                let generation = GENERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let w = Watched {
                    generation,
                    uri: uri.to_string(),
                    subscribers: vec![subscriber],
                };
                watched.insert(key.clone(), w);
                let (live, who, uri) = (Arc::downgrade(live), who.clone(), uri.to_string());
                tokio::spawn(watch(live, (key, generation), uri, who, every, first));
            }
        }
        Ok(())
    }

    /// Take the look a stream's watch of `uri` starts from, now, while the grant is being
    /// decided (flat files only: a file status, no I/O beyond it).
    pub fn look_at_grant(&self, state: &State, uri: &str) {
        let Some(seen) = look_file(state, uri) else {
            return;
        };
        let mut granted = self.granted.lock().expect("watches lock");
        granted.retain(|_, (_, at)| at.elapsed() < GRANT_KEPT);
        granted.insert(uri.to_string(), (seen, std::time::Instant::now()));
    }

    /// End `client`'s subscription to `uri` (under any profile).
    pub fn unsubscribe(&self, client: &str, uri: &str) {
        let mut watched = self.watched.lock().expect("watches lock");
        for w in watched.values_mut().filter(|w| w.uri == uri) {
            w.subscribers.retain(|s| s.client != client);
        }
        watched.retain(|_, w| !w.subscribers.is_empty());
    }

    /// End every subscription of a client that went away.
    pub fn drop_client(&self, client: &str) {
        let mut watched = self.watched.lock().expect("watches lock");
        for w in watched.values_mut() {
            w.subscribers.retain(|s| s.client != client);
        }
        watched.retain(|_, w| !w.subscribers.is_empty());
    }

    /// How many subscriptions are held, over all clients.
    pub fn count(&self) -> usize {
        let watched = self.watched.lock().expect("watches lock");
        watched.values().map(|w| w.subscribers.len()).sum()
    }

    /// The live subscribers of `key`, dropping closed ones; `None` when none is left (the
    /// watch is then removed and its task ends).
    fn subscribers(&self, key: &str, generation: u64) -> Option<Vec<(String, Notifier)>> {
        let mut watched = self.watched.lock().expect("watches lock");
        let w = watched
            .get_mut(key)
            .filter(|w| w.generation == generation)?;
        w.subscribers.retain(|s| !s.notify.closed());
        if w.subscribers.is_empty() {
            watched.remove(key);
            return None;
        }
        Some(
            w.subscribers
                .iter()
                .map(|s| (s.client.clone(), s.notify.clone()))
                .collect(),
        )
    }
}

/// Whether `who` may subscribe to `uri`, and how often it is looked at.
pub fn watchable(state: &State, who: &Principal, uri: &str) -> Result<Duration, String> {
    let pipeline = &state.pipeline;
    let unknown = || format!("no resource matches `{uri}`");
    let (resource, _) = pipeline.match_resource(uri).ok_or_else(unknown)?;
    let tool = pipeline.catalog().tools.get(&resource.tool);
    let allowed = pipeline.permits(who, resource.allow.as_ref())
        && tool.is_some_and(|t| pipeline.permits(who, t.allow.as_ref()));
    if !allowed {
        return Err(unknown());
    }
    resource.watch.ok_or_else(|| {
        format!(
            "resource `{}` is not watched, so it cannot be subscribed to (its mapping has no `watch:`)",
            resource.name
        )
    })
}

/// Subscribers with the same roles see the same masked answer: one watch serves them all.
fn profile(who: &Principal) -> String {
    let mut roles = who.roles.clone();
    roles.sort();
    roles.join(",")
}

/// The watch of one resource: look, compare, notify, sleep; until no subscriber is left or
/// the server is gone. In a cluster (`[cluster] redis`) one replica looks per period for all of
/// them and publishes a change, which every replica's watch hears and tells its subscribers;
/// while Redis is away each replica looks for itself again.
async fn watch<S: Served>(
    live: Weak<S>,
    (key, generation): (String, u64),
    uri: String,
    who: Principal,
    every: Duration,
    mut last: Option<u64>,
) {
    let shared = live.upgrade().and_then(|server| {
        let state = server.current();
        let c = state.pipeline.cluster()?.clone();
        let skey = c.watch_key(&state.pipeline.catalog().digest, &key);
        let updates = c.updates();
        Some((c, skey, updates))
    });
    let (cluster, skey, mut updates) = match shared {
        Some((c, k, u)) => (Some(c), k, Some(u)),
        None => (None, String::new(), None),
    };
    loop {
        let heard = tokio::select! {
            _ = tokio::time::sleep(every) => false,
            _ = published(&mut updates, &skey) => true,
        };
        let Some(server) = live.upgrade() else { return };
        let Some(subscribers) = server.watches().subscribers(&key, generation) else {
            return;
        };
        if heard {
            notify_all(server.as_ref(), &uri, subscribers).await;
            continue;
        }
        if let Some(c) = cluster.as_ref().filter(|c| c.is_shared()) {
            match c.poll_turn(&skey, every).await {
                // Another replica looks this period.
                Some(false) => continue,
                Some(true) => {
                    if let Some(now) = look(&server.current(), &who, &uri).await {
                        match c.seen_swap(&skey, now).await {
                            Some(Some(before)) if before != now => c.publish(&skey).await,
                            Some(_) => {}
                            // Redis left between the two commands: compare here.
                            None => {
                                if last.is_some_and(|b| b != now) {
                                    notify_all(server.as_ref(), &uri, subscribers).await;
                                }
                            }
                        }
                        last = Some(now);
                    }
                    continue;
                }
                None => {}
            }
        }
        let now = look(&server.current(), &who, &uri).await;
        if let (Some(before), Some(now)) = (last, now)
            && before != now
        {
            notify_all(server.as_ref(), &uri, subscribers).await;
        }
        // A look that failed (backend down, file briefly gone) changes nothing: the next
        // successful one is compared with the last successful one.
        last = now.or(last);
    }
}

/// Resolves when another (or this) replica publishes a change of `key`; never without a
/// cluster.
async fn published(updates: &mut Option<tokio::sync::broadcast::Receiver<String>>, key: &str) {
    let Some(rx) = updates else {
        return std::future::pending().await;
    };
    loop {
        match rx.recv().await {
            Ok(k) if k == key => return,
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                return std::future::pending().await;
            }
        }
    }
}

async fn notify_all<S: Served>(server: &S, uri: &str, subscribers: Vec<(String, Notifier)>) {
    for (client, notify) in subscribers {
        if !notify.updated(uri).await {
            server.watches().unsubscribe(&client, uri);
        }
    }
}

/// How long a look taken at a grant may stand in for the watch's first one.
const GRANT_KEPT: Duration = Duration::from_secs(10);

/// What the resource looks like now, as a hash: a flat file's size and mtime, or the answer.
async fn look(state: &State, who: &Principal, uri: &str) -> Option<u64> {
    if let Some(seen) = look_file(state, uri) {
        return Some(seen);
    }
    let (_, out) = state.pipeline.read_resource(who, uri).await.ok()?;
    Some(hash(&out.text))
}

/// A resource whose data version can be told without reading it (a flat-file export's size
/// and mtime), as a hash; `None` for other kinds.
fn look_file(state: &State, uri: &str) -> Option<u64> {
    let pipeline = &state.pipeline;
    let (resource, _) = pipeline.match_resource(uri)?;
    let tool = pipeline.catalog().tools.get(&resource.tool)?;
    Some(hash(&tool.plan.peek_version()?))
}

fn hash(seen: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    seen.hash(&mut h);
    h.finish()
}
