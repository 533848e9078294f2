//! A fixed set of worker threads, each owning at most one ODBC connection.
//!
//! ODBC calls block and odbc-api connections are not `Send`, so each connection lives and dies
//! on its own OS thread; async callers hand it a job and await the answer. A semaphore with one
//! permit per worker bounds the work in flight: a caller that cannot get a permit within
//! `pool_timeout` is told the source is busy, and a job keeps its permit until its worker is
//! done, so a stuck query can never let more work pile onto the database.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use odbc_api::Connection;
use tokio::sync::{Semaphore, oneshot};

use super::OdbcSettings;
use super::query;
use crate::backend::sql::{self, SqlError};

type Job = Box<dyn FnOnce(&mut Worker) + Send>;

/// One worker's state: its connection, opened on first use and dropped when it breaks.
pub struct Worker {
    pub settings: Arc<OdbcSettings>,
    pub conn: Option<Connection<'static>>,
    /// The driver's identifier quote, learnt when connecting.
    pub quote: char,
}

impl Worker {
    /// The open connection, connecting first if there is none.
    pub fn connection(&mut self) -> Result<&Connection<'static>, SqlError> {
        if self.conn.is_none() {
            let (conn, quote) = query::connect(&self.settings)?;
            self.conn = Some(conn);
            self.quote = quote;
        }
        Ok(self.conn.as_ref().expect("just connected"))
    }
}

pub struct Pool {
    settings: Arc<OdbcSettings>,
    jobs: mpsc::Sender<Job>,
    permits: Arc<Semaphore>,
}

impl Pool {
    pub fn start(settings: Arc<OdbcSettings>) -> Pool {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..settings.pool_size {
            let rx = rx.clone();
            let settings = settings.clone();
            std::thread::Builder::new()
                .name(format!("odbc-{}-{i}", settings.name))
                .spawn(move || {
                    let mut w = Worker {
                        settings,
                        conn: None,
                        quote: '"',
                    };
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = rx.lock().map(|r| r.recv());
                        match job {
                            Ok(Ok(job)) => {
                                // A panicking driver loses its connection, not the worker.
                                let ok =
                                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                        job(&mut w)
                                    }));
                                if ok.is_err() {
                                    w.conn = None;
                                }
                            }
                            _ => break,
                        }
                    }
                })
                .expect("spawn ODBC worker thread");
        }
        Pool {
            permits: Arc::new(Semaphore::new(settings.pool_size as usize)),
            settings,
            jobs: tx,
        }
    }

    /// Busy workers and pool size.
    pub fn usage(&self) -> (usize, usize) {
        let size = self.settings.pool_size as usize;
        (size - self.permits.available_permits().min(size), size)
    }

    /// Run `f` on a worker. Waits at most `pool_timeout` for a worker and, as a backstop for
    /// drivers that ignore the query timeout, at most the login plus query timeout for the answer.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Worker) -> Result<T, SqlError> + Send + 'static,
    ) -> Result<T, SqlError> {
        let s = &self.settings;
        let permit = sql::permit(&self.permits, s.pool_timeout, &s.name, s.pool_size).await?;
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |w| {
            let out = f(w);
            drop(permit);
            let _ = tx.send(out);
        });
        self.jobs.send(job).map_err(|_| SqlError::Unreachable {
            src: s.name.clone(),
            detail: "the ODBC worker threads have stopped".into(),
        })?;
        let backstop = s.login_timeout + s.query_timeout + Duration::from_secs(5);
        match tokio::time::timeout(backstop, rx).await {
            Ok(Ok(out)) => out,
            Ok(Err(_)) => Err(SqlError::Unreachable {
                src: s.name.clone(),
                detail: "the ODBC worker stopped while running the query".into(),
            }),
            Err(_) => Err(SqlError::Timeout {
                src: s.name.clone(),
                seconds: s.query_timeout.as_secs(),
            }),
        }
    }
}
