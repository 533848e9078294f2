//! The catalogue being served, swappable while sessions run (hot reload).
//!
//! Every request takes the current `State` (a pipeline and the lists rendered from its
//! catalogue) once and uses it to the end, so a call that started before a swap finishes on
//! the mappings it started with. A swap replaces both at once, then tells every session that
//! asked to be told (`notifications/tools/list_changed` and the resource and prompt
//! equivalents). It also knows each initialised session by id, for the tool calls the
//! transports answer themselves (`direct.rs`).

use std::collections::HashMap;
use std::sync::atomic::AtomicU8;
use std::sync::{Arc, Mutex, RwLock};

use rmcp::RoleServer;
use rmcp::service::{Peer, SubscriptionSink};

use super::state::State;
use super::watch::{Served, Watches};
use crate::pipeline::Pipeline;

pub struct Live {
    state: RwLock<Arc<State>>,
    /// Sessions that finished initialising; closed ones are dropped at the next swap.
    peers: Mutex<Vec<Peer<RoleServer>>>,
    /// The same sessions by id (the HTTP session id; `STDIO` for stdio's one session).
    sessions: RwLock<HashMap<String, Arc<Session>>>,
    /// 2026-07-28 `subscriptions/listen` streams, told of list changes like the sessions.
    listeners: Mutex<Vec<(String, SubscriptionSink)>>,
    /// Resource subscriptions and their watches.
    watches: Watches,
}

/// The streamable HTTP session header: sessions are known by its value.
pub const SESSION_HEADER: &str = "mcp-session-id";

/// The id under which stdio's single session is known.
pub const STDIO: &str = "stdio";

/// What a directly answered call needs from its session: where to send a log notification,
/// and the level the client asked for.
pub struct Session {
    pub id: Arc<str>,
    pub peer: Peer<RoleServer>,
    pub log_level: Arc<AtomicU8>,
}

impl Live {
    pub fn new(pipeline: Pipeline) -> Live {
        Live {
            state: RwLock::new(Arc::new(State::new(pipeline))),
            peers: Mutex::new(Vec::new()),
            sessions: RwLock::new(HashMap::new()),
            listeners: Mutex::new(Vec::new()),
            watches: Watches::default(),
        }
    }

    /// The generation to answer one request with.
    pub fn current(&self) -> Arc<State> {
        self.state.read().expect("live state lock").clone()
    }

    /// Remember a session, to tell it when the lists change and to answer its tool calls
    /// directly.
    pub fn register(&self, id: &str, peer: Peer<RoleServer>, log_level: Arc<AtomicU8>) {
        let mut peers = self.peers.lock().expect("peers lock");
        peers.retain(|p| !p.is_transport_closed());
        peers.push(peer.clone());
        let mut sessions = self.sessions.write().expect("sessions lock");
        sessions.retain(|_, s| !s.peer.is_transport_closed());
        let session = Session {
            id: id.into(),
            peer,
            log_level,
        };
        sessions.insert(id.to_string(), Arc::new(session));
    }

    /// The initialised session `id`, while it is open.
    pub fn session(&self, id: &str) -> Option<Arc<Session>> {
        let sessions = self.sessions.read().expect("sessions lock");
        sessions
            .get(id)
            .filter(|s| !s.peer.is_transport_closed())
            .cloned()
    }

    /// Forget a session the transport closed, and its subscriptions.
    pub fn forget(&self, id: &str) {
        self.sessions.write().expect("sessions lock").remove(id);
        self.watches.drop_client(id);
    }

    /// The resource subscriptions.
    pub fn watches(&self) -> &Watches {
        &self.watches
    }

    /// Tell a `subscriptions/listen` stream of list changes until `unlisten(id)`.
    pub fn listen(&self, id: &str, sink: SubscriptionSink) {
        let mut listeners = self.listeners.lock().expect("listeners lock");
        listeners.push((id.to_string(), sink));
    }

    /// A listen stream ended: no more list changes, and its subscriptions end.
    pub fn unlisten(&self, id: &str) {
        self.listeners
            .lock()
            .expect("listeners lock")
            .retain(|(l, _)| l != id);
        self.watches.drop_client(id);
    }

    /// Serve `pipeline` from now on and tell the sessions; returns how many were told.
    pub async fn swap(&self, pipeline: Pipeline) -> usize {
        let next = Arc::new(State::new(pipeline));
        *self.state.write().expect("live state lock") = next;
        let peers: Vec<Peer<RoleServer>> = {
            let mut peers = self.peers.lock().expect("peers lock");
            peers.retain(|p| !p.is_transport_closed());
            peers.clone()
        };
        let mut told = 0;
        for p in peers {
            // A session that went away in the meantime simply misses the news.
            let ok = p.notify_tool_list_changed().await.is_ok()
                & p.notify_resource_list_changed().await.is_ok()
                & p.notify_prompt_list_changed().await.is_ok();
            told += usize::from(ok);
        }
        let listeners: Vec<SubscriptionSink> = {
            let listeners = self.listeners.lock().expect("listeners lock");
            listeners.iter().map(|(_, s)| s.clone()).collect()
        };
        for sink in listeners {
            // The sink sends only what the stream asked for; the rest is refused, not an error.
            let sent = [
                sink.notify_tool_list_changed().await.is_ok(),
                sink.notify_resource_list_changed().await.is_ok(),
                sink.notify_prompt_list_changed().await.is_ok(),
            ];
            told += usize::from(sent.contains(&true));
        }
        told
    }
}

/// What a resource watch needs of the served catalogue.
impl Served for Live {
    fn current(&self) -> Arc<State> {
        Live::current(self)
    }

    fn watches(&self) -> &Watches {
        Live::watches(self)
    }
}
