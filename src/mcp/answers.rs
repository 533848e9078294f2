//! Answers still being written over HTTP, counted so that a graceful shutdown waits for them.
//! Below the entrance (which counts each POST) and the HTTP server (which waits at shutdown).

use std::sync::Arc;
use std::time::Duration;

/// POST answers still being written: a call's result leaves the pipeline before its HTTP
/// body is sent, and shutdown must not close the sessions in between.
#[derive(Clone, Default)]
pub struct Answers(Arc<std::sync::atomic::AtomicUsize>);

/// Counts one answer until its body has been sent (or dropped with its connection).
pub(crate) struct Sending(Answers);

impl Drop for Sending {
    fn drop(&mut self) {
        (self.0).0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Answers {
    pub(crate) fn start(&self) -> Sending {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Sending(self.clone())
    }

    pub(crate) fn pending(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Wait until every answer is sent, or `until`; true when none is left.
    pub(crate) async fn sent(&self, until: tokio::time::Instant) -> bool {
        while self.pending() > 0 {
            if tokio::time::Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }
}
