//! Backends: the kinds of source a mapping can name, and the query shape they answer.
//!
//! A closed enum of source kinds; each kind lives in its own folder. Flat files answer a
//! `Query` (filters and order the adapter evaluates), SQL kinds a `sql::SqlQuery` (the mapping's
//! statement with bound values); both give a `RowSet`, so shaping and (later) caching and
//! masking are written once. SOAP sources answer a `soap::SoapQuery` (a declared operation
//! with bound values) with the same `RowSet`.

pub mod abandon;
pub mod flatfile;
pub mod mssql;
pub mod odbc;
pub mod rows;
pub mod soap;
pub mod sql;

// The query shape and row set every kind shares live in `rows`, below the kinds.
pub use rows::{Filter, Op, Query, RowSet, scrub};

/// A configured source, ready to answer queries.
pub enum Source {
    Flatfile(flatfile::FlatfileSource),
    Odbc(odbc::OdbcSource),
    Mssql(mssql::MssqlSource),
    Soap(Box<soap::SoapSource>),
}

impl Source {
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Flatfile(_) => "flatfile",
            Source::Odbc(_) => "odbc",
            Source::Mssql(_) => "mssql",
            Source::Soap(_) => "soap",
        }
    }

    /// A SQL source's `max_rows`; none for flat files and SOAP.
    pub fn sql_max_rows(&self) -> Option<u32> {
        match self {
            Source::Flatfile(_) | Source::Soap(_) => None,
            Source::Odbc(o) => Some(o.settings.max_rows),
            Source::Mssql(m) => Some(m.settings().max_rows),
        }
    }

    /// Busy and total connections (ODBC workers) of a SQL source's pool; none for the others,
    /// or before the pool has started.
    pub fn pool_usage(&self) -> Option<(usize, usize)> {
        match self {
            Source::Flatfile(_) | Source::Soap(_) => None,
            Source::Odbc(o) => o.pool_usage(),
            Source::Mssql(m) => Some(m.pool_usage()),
        }
    }

    /// Whether the source can be reached now, cheaply and without reading business data: a
    /// flat-file source's export directory is readable; a SQL source hands out a live
    /// connection (opening one if none is idle); a SOAP endpoint accepts a TCP connection.
    /// The error says why not, without secrets.
    pub async fn probe(&self) -> Result<(), String> {
        match self {
            Source::Flatfile(f) => f.probe().await,
            Source::Odbc(o) => o.probe().await.map_err(|e| e.to_string()),
            Source::Mssql(m) => m.probe().await.map_err(|e| e.to_string()),
            Source::Soap(s) => s.probe().await,
        }
    }

    /// Run a SQL query on a SQL source.
    pub async fn run_sql(&self, q: sql::SqlQuery) -> Result<RowSet, sql::SqlError> {
        match self {
            Source::Odbc(o) => o.run(q).await,
            Source::Mssql(m) => m.run(q).await,
            Source::Flatfile(_) | Source::Soap(_) => {
                unreachable!("SQL plans are compiled for SQL sources only")
            }
        }
    }
}
