//! A fixed set of worker threads, each owning at most one ODBC connection.
//!
//! ODBC calls block and odbc-api connections are not `Send`, so each connection lives and dies
//! on its own OS thread; async callers hand it a job and await the answer. A semaphore with one
//! permit per worker bounds the work in flight: a caller that cannot get a permit within
//! `pool_timeout` is told the source is busy, and a job keeps its permit until its worker is
//! done, so a stuck query can never let more work pile onto the database.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use odbc_api::handles::StatementConnection;
use odbc_api::{Connection, ConnectionTransitions, Prepared};
use tokio::sync::{Semaphore, oneshot};

use super::connect::{self, Traits};
use super::settings::OdbcSettings;
use crate::backend::sql::{self, SqlError};

type Job = Box<dyn FnOnce(&mut Worker) + Send>;

/// A statement prepared on a worker's connection; it holds the connection alive.
pub type Statement = Prepared<StatementConnection<Arc<Connection<'static>>>>;

/// Statements kept prepared per connection. A tool's query text varies only with its optional
/// filters and the cursor's paging, so a few dozen cover a large mapping; past that the least
/// recently used one is closed.
const STATEMENTS_PER_CONNECTION: usize = 32;

/// One worker's state: its connection, opened on first use and dropped when it breaks, and the
/// statements prepared on it.
pub struct Worker {
    pub settings: Arc<OdbcSettings>,
    conn: Option<Arc<Connection<'static>>>,
    /// Query text -> (statement, last use). Preparing once and executing many times spares the
    /// database a parse and plan per call (psqlODBC prepares on the server).
    statements: HashMap<String, (Statement, u64)>,
    uses: u64,
    /// Query texts whose results held a value longer than a block buffer's cell: read row by
    /// row from then on (see `query::read`). Bounded like the statements.
    long: HashSet<String>,
    /// The driver's identifier quote, learnt when connecting.
    pub quote: char,
    /// What the database takes (`LIMIT`, `NULLS FIRST`), learnt when connecting.
    pub traits: Traits,
    /// Whether the session is read-write now (`None`: not set since connecting).
    writable: Option<bool>,
}

impl Worker {
    fn new(settings: Arc<OdbcSettings>) -> Worker {
        Worker {
            settings,
            conn: None,
            statements: HashMap::new(),
            uses: 0,
            long: HashSet::new(),
            quote: '"',
            traits: Traits::default(),
            writable: None,
        }
    }

    /// The open connection, connecting first if there is none.
    pub fn connection(&mut self) -> Result<&Connection<'static>, SqlError> {
        if self.conn.is_none() {
            let (conn, quote, traits) = connect::connect(&self.settings)?;
            // odbc-api lets a statement own its connection through an `Arc` (not an `Rc`);
            // it never leaves this worker's thread.
            #[allow(clippy::arc_with_non_send_sync)]
            let conn = Arc::new(conn);
            self.conn = Some(conn);
            self.quote = quote;
            self.traits = traits;
        }
        Ok(self.conn.as_ref().expect("just connected"))
    }

    /// Whether a connection is open (from an earlier job: a pooled one).
    pub fn has_connection(&self) -> bool {
        self.conn.is_some()
    }

    /// Whether the connection is gone (the driver says so, or there is none).
    pub fn is_dead(&self) -> bool {
        self.conn
            .as_ref()
            .is_none_or(|c| c.is_dead().unwrap_or(true))
    }

    /// Close the connection and every statement prepared on it; the next job reconnects.
    pub fn disconnect(&mut self) {
        self.statements.clear();
        self.conn = None;
        self.writable = None;
    }

    /// Make the session read-write for a statement that may change data, read-only for every
    /// other, where the database has such a mode (see `Traits::session_modes`). Switched only
    /// when the next statement needs the other mode. The worker must be connected.
    pub fn access_mode(&mut self, writable: bool) -> Result<(), odbc_api::Error> {
        let Some(modes) = self.traits.session_modes else {
            return Ok(());
        };
        if self.writable == Some(writable) {
            return Ok(());
        }
        let text = if writable {
            modes.read_write
        } else {
            modes.read_only
        };
        let conn = self
            .conn
            .as_ref()
            .expect("connected before choosing the access mode");
        conn.execute(text, (), None)?;
        self.writable = Some(writable);
        Ok(())
    }

    /// The statement for `text`, prepared (with the query timeout) on first use. The worker
    /// must be connected.
    pub fn prepared(&mut self, text: &str) -> Result<&mut Statement, odbc_api::Error> {
        self.uses += 1;
        let now = self.uses;
        if !self.statements.contains_key(text) {
            if self.statements.len() >= STATEMENTS_PER_CONNECTION {
                self.evict_oldest();
            }
            let conn = self.conn.clone().expect("connected before preparing");
            let mut stmt = ConnectionTransitions::into_prepared(conn, text)?;
            stmt.set_query_timeout_sec(self.settings.query_timeout.as_secs().max(1) as usize)?;
            self.statements.insert(text.to_string(), (stmt, now));
        }
        let entry = self.statements.get_mut(text).expect("prepared above");
        entry.1 = now;
        Ok(&mut entry.0)
    }

    /// Whether `text` is known to return values longer than a block buffer's cell.
    pub fn reads_long(&self, text: &str) -> bool {
        self.long.contains(text)
    }

    /// Remember that `text` returns long values.
    pub fn mark_long(&mut self, text: &str) {
        if self.long.len() >= STATEMENTS_PER_CONNECTION {
            self.long.clear();
        }
        self.long.insert(text.to_string());
    }

    /// Whether `text` has a statement prepared on this connection.
    pub fn is_prepared(&self, text: &str) -> bool {
        self.statements.contains_key(text)
    }

    /// Close the statement for `text` after it failed: whatever state the driver left it in,
    /// the next call prepares afresh (a table altered under a PostgreSQL plan, for one).
    pub fn forget(&mut self, text: &str) {
        self.statements.remove(text);
    }

    fn evict_oldest(&mut self) {
        let oldest = self
            .statements
            .iter()
            .min_by_key(|(_, (_, used))| *used)
            .map(|(k, _)| k.clone());
        if let Some(k) = oldest {
            self.statements.remove(&k);
        }
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
                    let mut w = Worker::new(settings);
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
                                    w.disconnect();
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
