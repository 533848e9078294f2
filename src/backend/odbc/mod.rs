//! `kind: odbc`: any database with an ODBC driver (PostgreSQL, MariaDB, SQLite, SQL Server,
//! Progress OpenEdge, Pervasive, Informix, DB2 for i).
//!
//! - `mod.rs`   the source, and the kind's `Backend` (tools compile as `sql/compile.rs` says)
//! - `keys.rs`       the kind's own source keys (beside `sql/keys.rs`)
//! - `config.rs`     the kind (`SourceKind`): keys -> settings, with positioned problems
//! - `driver.rs`     connection strings; finding Debian's drivers for the vendored manager
//! - `settings.rs`   a source's resolved settings (below everything else here)
//! - `connect.rs`    opening a connection, what its database takes (`Traits`), driver failures
//! - `pool.rs`       worker threads that own the connections; busy and backstop timeouts
//! - `query.rs`      binding, execution, streaming rows, diagnostics -> errors
//! - `introspect.rs` a table's catalogue metadata, for `introspect`

pub mod config;
pub mod connect;
pub mod driver;
pub mod introspect;
pub mod keys;
pub mod pool;
pub mod query;
pub mod settings;

use std::sync::{Arc, OnceLock};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::rows::RowSet;
use super::sql::introspect::TableInfo;
use super::sql::{SqlError, SqlQuery};

pub use settings::OdbcSettings;

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

impl super::sql::compile::SqlSource for OdbcSource {
    fn kind(&self) -> &'static str {
        "odbc"
    }

    fn max_rows(&self) -> u32 {
        self.settings.max_rows
    }

    fn pool_usage(&self) -> Option<(usize, usize)> {
        OdbcSource::pool_usage(self)
    }

    fn probe(&self) -> BoxFuture<'_, Result<(), SqlError>> {
        OdbcSource::probe(self).boxed()
    }

    fn run_sql(&self, q: SqlQuery) -> BoxFuture<'_, Result<RowSet, SqlError>> {
        self.run(q).boxed()
    }

    fn describe<'a>(&'a self, table: &'a str) -> BoxFuture<'a, Result<TableInfo, SqlError>> {
        OdbcSource::describe(self, table).boxed()
    }
}
