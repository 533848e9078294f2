//! `kind: mssql`: Microsoft SQL Server spoken natively over TDS (tiberius with rustls), so a
//! Windows service beside Dynamics NAV, GP or Sage needs no ODBC driver.
//!
//! - `mod.rs`   the source, and the kind's `Backend` (tools compile as `sql/compile.rs` says)
//! - `config.rs` mapping -> settings (host or named instance, login, TLS, intent, timeouts)
//! - `settings.rs` a source's resolved settings: login, TLS, trust (below everything else here)
//! - `pool.rs`   async connection pool; timed-out or cancelled connections are discarded
//! - `query.rs`  binding values as typed RPC parameters, streaming rows, errors -> `SqlError`
//! - `types.rs`  TDS values <-> the adapter's typed values
//! - `introspect.rs` a table's INFORMATION_SCHEMA metadata, for `introspect`

pub mod config;
pub mod introspect;
pub mod pool;
pub mod query;
pub mod settings;
pub mod types;

use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::rows::RowSet;
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

impl crate::backend::kind::Backend for MssqlSource {
    fn kind(&self) -> &'static str {
        "mssql"
    }

    fn max_rows(&self) -> Option<u32> {
        Some(self.settings().max_rows)
    }

    fn pool_usage(&self) -> Option<(usize, usize)> {
        Some(MssqlSource::pool_usage(self))
    }

    fn probe(&self) -> BoxFuture<'_, Result<(), String>> {
        async move { MssqlSource::probe(self).await.map_err(|e| e.to_string()) }.boxed()
    }

    fn compile_tool(
        self: Arc<Self>,
        tool: &crate::backend::kind::ToolSpec<'_>,
        p: &mut crate::mapping::load::FileProblems<'_>,
    ) -> Option<crate::backend::kind::CompiledTool> {
        super::sql::compile::tool(self, "mssql", tool, p)
    }

    fn describe<'a>(
        &'a self,
        table: &'a str,
    ) -> Option<BoxFuture<'a, Result<super::sql::introspect::TableInfo, String>>> {
        Some(
            async move {
                MssqlSource::describe(self, table)
                    .await
                    .map_err(|e| e.to_string())
            }
            .boxed(),
        )
    }
}

impl super::sql::compile::RunSql for MssqlSource {
    fn run_sql(&self, q: SqlQuery) -> BoxFuture<'_, Result<RowSet, SqlError>> {
        self.run(q).boxed()
    }
}
