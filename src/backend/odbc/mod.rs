//! `kind: odbc`: any database with an ODBC driver (PostgreSQL, MariaDB, SQLite, SQL Server,
//! Progress OpenEdge, Pervasive, Informix, DB2 for i).
//!
//! - `config.rs`     mapping -> settings, with positioned problems
//! - `driver.rs`     connection strings; finding Debian's drivers for the vendored manager
//! - `pool.rs`       worker threads that own the connections; busy and backstop timeouts
//! - `query.rs`      binding, execution, streaming rows, diagnostics -> errors
//! - `introspect.rs` a table's catalogue metadata, for `introspect`

pub mod config;
pub mod driver;
pub mod introspect;
pub mod pool;
pub mod query;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::rows::RowSet;
use super::sql::{CellRules, SqlError, SqlQuery};

/// A source's settings, resolved from the mapping.
pub struct OdbcSettings {
    pub name: String,
    /// With `${env:...}` resolved and the driver located (see `driver.rs`). Never logged.
    pub connection_string: String,
    /// Credential values found in the connection string, scrubbed from every message.
    pub secrets: Vec<String>,
    pub pool_size: u32,
    pub pool_timeout: Duration,
    pub login_timeout: Duration,
    pub query_timeout: Duration,
    pub max_rows: u32,
    pub batch: usize,
    pub max_text: usize,
    pub wide: bool,
    pub rules: CellRules,
}

impl OdbcSettings {
    /// `message` with every credential replaced by `***`.
    pub fn scrub(&self, message: &str) -> String {
        crate::backend::rows::scrub(message, &self.secrets)
    }
}

pub struct OdbcSource {
    pub settings: Arc<OdbcSettings>,
    /// Started on first use, so `check` never opens connections or threads.
    pool: OnceLock<pool::Pool>,
}

impl OdbcSource {
    pub fn new(settings: OdbcSettings) -> OdbcSource {
        OdbcSource {
            settings: Arc::new(settings),
            pool: OnceLock::new(),
        }
    }

    pub async fn run(&self, q: SqlQuery) -> Result<RowSet, SqlError> {
        let pool = self
            .pool
            .get_or_init(|| pool::Pool::start(self.settings.clone()));
        pool.run(move |w| query::execute(w, &q)).await
    }

    /// A worker's connection is open (connecting if need be) and the driver does not report
    /// it dead.
    pub async fn probe(&self) -> Result<(), SqlError> {
        let pool = self
            .pool
            .get_or_init(|| pool::Pool::start(self.settings.clone()));
        let src = self.settings.name.clone();
        pool.run(move |w| {
            w.connection()?;
            if w.is_dead() {
                w.disconnect();
                return Err(SqlError::Unreachable {
                    src,
                    detail: "the driver reports the connection dead".into(),
                });
            }
            Ok(())
        })
        .await
    }

    /// Busy workers and pool size, once the pool has started.
    pub fn pool_usage(&self) -> Option<(usize, usize)> {
        self.pool.get().map(|p| p.usage())
    }
}
