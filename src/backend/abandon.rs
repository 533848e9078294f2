//! Blocking work that stops when the call waiting for it is abandoned.
//!
//! A call's timeout (or its client going away) drops the future that waits for the backend.
//! Work on the async runtime stops there, but work on a blocking thread does not: it would
//! read on to the end of a file, or go on projecting a hostile SOAP answer, long after the
//! caller was told the call was abandoned. So the blocking side gets a flag that is set when
//! the waiting future is dropped, and checks it at each unit of its work.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Run `work` on a blocking thread; the flag it is given turns true when the caller stops
/// waiting. A panic in `work` comes back as an error text, never as a panic of the caller.
pub async fn run_blocking<T, F>(work: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce(&AtomicBool) -> T + Send + 'static,
{
    let guard = Abandoned::default();
    let flag = guard.0.clone();
    let out = tokio::task::spawn_blocking(move || work(&flag))
        .await
        .map_err(|e| format!("the worker thread failed: {e}"));
    drop(guard);
    out
}

/// True once the call is abandoned: a cheap load for loops to check.
pub fn is_set(flag: &AtomicBool) -> bool {
    flag.load(Ordering::Relaxed)
}

/// Set when the future waiting for the blocking work is dropped.
#[derive(Default)]
struct Abandoned(Arc<AtomicBool>);

impl Drop for Abandoned {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
