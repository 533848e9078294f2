//! `kind: mssql`: Microsoft SQL Server spoken natively over TDS (tiberius with rustls), so a
//! Windows service beside Dynamics NAV, GP or Sage needs no ODBC driver.
//!
//! - `mod.rs`   the source, and the kind's `Backend` (tools compile as `sql/compile.rs` says)
//! - `keys.rs`   the kind's own source keys (beside `sql/keys.rs` and `connect.rs`)
//! - `config.rs` the kind (`SourceKind`): keys -> settings (host or named instance, login, TLS,
//!   intent, timeouts)
//! - `settings.rs` a source's resolved settings: login, TLS, trust (below everything else here)
//! - `pool.rs`   async connection pool; timed-out or cancelled connections are discarded
//! - `query.rs`  binding values as typed RPC parameters, streaming rows, errors -> `SqlError`
//! - `types.rs`  TDS values <-> the adapter's typed values
//! - `introspect.rs` a table's INFORMATION_SCHEMA metadata, for `introspect`

pub mod config;
pub mod introspect;
pub mod keys;
pub mod pool;
pub mod query;
pub mod settings;
pub mod types;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::rows::RowSet;
use super::sql::introspect::TableInfo;
use super::sql::{SqlError, SqlQuery};

pub use settings::{Login, MssqlSettings, Tls, Trust};

pub struct MssqlSource {
    /// Boxed: the settings are large beside the other kinds' handles.
    pool: Box<pool::Pool>,
}

impl MssqlSource {
    pub fn new(settings: MssqlSettings) -> MssqlSource {
        MssqlSource {
            pool: Box::new(pool::Pool::new(settings)),
        }
    }

    pub fn settings(&self) -> &MssqlSettings {
        self.pool.settings()
    }

    pub async fn run(&self, q: SqlQuery) -> Result<RowSet, SqlError> {
        self.pool.run(q).await
    }

    pub async fn probe(&self) -> Result<(), SqlError> {
        self.pool.probe().await
    }

    pub fn pool_usage(&self) -> (usize, usize) {
        self.pool.usage()
    }
}

impl super::sql::compile::SqlSource for MssqlSource {
    fn kind(&self) -> &'static str {
        "mssql"
    }

    fn max_rows(&self) -> u32 {
        self.settings().max_rows
    }

    fn pool_usage(&self) -> Option<(usize, usize)> {
        Some(MssqlSource::pool_usage(self))
    }

    fn probe(&self) -> BoxFuture<'_, Result<(), SqlError>> {
        MssqlSource::probe(self).boxed()
    }

    fn run_sql(&self, q: SqlQuery) -> BoxFuture<'_, Result<RowSet, SqlError>> {
        self.run(q).boxed()
    }

    fn describe<'a>(&'a self, table: &'a str) -> BoxFuture<'a, Result<TableInfo, SqlError>> {
        MssqlSource::describe(self, table).boxed()
    }
}
