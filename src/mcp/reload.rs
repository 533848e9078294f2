//! Hot reload: the mapping directory is watched (and SIGHUP asks on unix); a change is loaded
//! and validated completely, as `check` would, and only then swapped in. An invalid change
//! keeps the previous mappings serving and logs every problem as `file:line:col`.
//!
//! Editors save in bursts (a temporary file, a rename, a second write), so events are gathered
//! for a short quiet period before one reload runs. Only `*.yaml` / `*.yml` files count:
//! exports kept beside the mappings do not trigger reloads.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::catalog;
use crate::mcp::live::Live;
use crate::metrics::Metrics;

/// How long the directory must stay quiet before a burst of saves is reloaded.
const QUIET: Duration = Duration::from_millis(300);

/// The last reload, for `/readyz`.
#[derive(Clone, Debug, Default)]
pub struct Status {
    /// Reloads swapped in since start.
    pub generation: u64,
    pub last_attempt: Option<SystemTime>,
    /// The problems of the last attempt, when it was refused (empty after a good one).
    pub last_problems: Vec<String>,
}

pub struct Reloader {
    live: Arc<Live>,
    dir: PathBuf,
    metrics: Metrics,
    status: Mutex<Status>,
    /// One reload at a time: a burst during a slow load waits for it.
    running: tokio::sync::Mutex<()>,
}

impl Reloader {
    pub fn new(live: Arc<Live>, dir: PathBuf, metrics: Metrics) -> Arc<Reloader> {
        Arc::new(Reloader {
            live,
            dir,
            metrics,
            status: Mutex::new(Status::default()),
            running: tokio::sync::Mutex::new(()),
        })
    }

    pub fn status(&self) -> Status {
        self.status.lock().expect("reload status lock").clone()
    }

    /// Load, validate and swap in the mappings; on a problem keep serving the current ones.
    /// Returns whether the new mappings are being served.
    pub async fn reload(&self) -> bool {
        let _one = self.running.lock().await;
        let dir = self.dir.clone();
        let loaded = tokio::task::spawn_blocking(move || catalog::load(&dir))
            .await
            .unwrap_or_else(|e| Err(vec![catalog_panic(&self.dir, &e.to_string())]));
        let mut status = self.status();
        status.last_attempt = Some(SystemTime::now());
        let ok = match loaded {
            Ok(catalog) => {
                let summary = catalog.summary();
                let next = self.live.current().pipeline.with_catalog(Arc::new(catalog));
                let told = self.live.swap(next).await;
                status.generation += 1;
                status.last_problems.clear();
                tracing::info!(mappings = %self.dir.display(), sessions_told = told, "reloaded: {summary}");
                true
            }
            Err(problems) => {
                for p in &problems {
                    tracing::error!("{p}");
                }
                tracing::error!(
                    mappings = %self.dir.display(),
                    "reload refused: {} problem(s); the previous mappings keep serving",
                    problems.len()
                );
                status.last_problems = problems.iter().map(|p| p.to_string()).collect();
                false
            }
        };
        self.metrics.reloaded(ok);
        *self.status.lock().expect("reload status lock") = status;
        ok
    }

    /// Watch the mapping directory (and, on unix, SIGHUP) until `cancel`; reload on changes.
    /// A directory that cannot be watched is logged and leaves SIGHUP as the only trigger.
    pub fn spawn(self: Arc<Self>, cancel: CancellationToken) {
        let (tx, mut rx) = mpsc::unbounded_channel::<()>();
        let watcher = watch(&self.dir, tx.clone());
        if let Err(e) = &watcher {
            tracing::warn!(mappings = %self.dir.display(), "cannot watch the mappings for changes: {e}");
        }
        #[cfg(unix)]
        spawn_sighup(tx, cancel.clone());
        tokio::spawn(async move {
            // The watcher stops when dropped: it lives as long as this task.
            let _watcher = watcher;
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    got = rx.recv() => if got.is_none() { break },
                }
                // Gather the rest of the burst.
                while let Ok(Some(())) = tokio::time::timeout(QUIET, rx.recv()).await {}
                self.reload().await;
            }
        });
    }
}

fn catalog_panic(dir: &Path, what: &str) -> crate::mapping::load::Problem {
    crate::mapping::load::Problem {
        file: Arc::from(dir),
        line: 1,
        column: 1,
        path: String::new(),
        message: format!("loading the mappings failed: {what}"),
    }
}

/// A watcher sending `()` for every change to a mapping file under `target` (a directory,
/// watched with its subdirectories, or one file).
fn watch(
    target: &Path,
    tx: mpsc::UnboundedSender<()>,
) -> notify::Result<notify::RecommendedWatcher> {
    let only: Option<PathBuf> = target.is_file().then(|| target.to_path_buf());
    let mut w = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if matches!(event.kind, EventKind::Access(_) | EventKind::Other) {
            return;
        }
        let relevant = event.paths.iter().any(|p| match &only {
            Some(file) => p.file_name() == file.file_name(),
            None => matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")),
        });
        if relevant {
            let _ = tx.send(());
        }
    })?;
    match target.is_file() {
        // Editors replace a file by renaming over it: watch its directory, not its inode.
        true => w.watch(
            target.parent().unwrap_or(Path::new(".")),
            RecursiveMode::NonRecursive,
        )?,
        false => w.watch(target, RecursiveMode::Recursive)?,
    }
    Ok(w)
}

#[cfg(unix)]
fn spawn_sighup(tx: mpsc::UnboundedSender<()>, cancel: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; reloads follow file changes only");
        return;
    };
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                got = hup.recv() => match got {
                    Some(()) => { let _ = tx.send(()); }
                    None => break,
                },
            }
        }
    });
}
