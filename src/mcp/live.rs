//! The catalogue being served, swappable while sessions run (hot reload).
//!
//! Every request takes the current `State` (a pipeline and the lists rendered from its
//! catalogue) once and uses it to the end, so a call that started before a swap finishes on
//! the mappings it started with. A swap replaces both at once, then tells every session that
//! asked to be told (`notifications/tools/list_changed` and the resource and prompt
//! equivalents).

use std::sync::{Arc, Mutex, RwLock};

use rmcp::RoleServer;
use rmcp::service::Peer;

use super::handler::{Lists, render_lists};
use crate::pipeline::Pipeline;

/// One generation of the served mappings.
pub struct State {
    pub pipeline: Pipeline,
    pub(crate) lists: Lists,
}

pub struct Live {
    state: RwLock<Arc<State>>,
    /// Sessions that finished initialising; closed ones are dropped at the next swap.
    peers: Mutex<Vec<Peer<RoleServer>>>,
}

impl Live {
    pub fn new(pipeline: Pipeline) -> Live {
        Live {
            state: RwLock::new(Arc::new(State::new(pipeline))),
            peers: Mutex::new(Vec::new()),
        }
    }

    /// The generation to answer one request with.
    pub fn current(&self) -> Arc<State> {
        self.state.read().expect("live state lock").clone()
    }

    /// Remember a session, to tell it when the lists change.
    pub fn register(&self, peer: Peer<RoleServer>) {
        let mut peers = self.peers.lock().expect("peers lock");
        peers.retain(|p| !p.is_transport_closed());
        peers.push(peer);
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
        told
    }
}

impl State {
    fn new(pipeline: Pipeline) -> State {
        let lists = render_lists(pipeline.catalog());
        State { pipeline, lists }
    }
}
