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
pub mod soap;
pub mod sql;

use crate::value::Value;

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

/// A comparison a filter makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Equals,
    StartsWith,
    Min,
    Max,
    LessThan,
    GreaterThan,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Equals => "equals",
            Op::StartsWith => "starts_with",
            Op::Min => "min",
            Op::Max => "max",
            Op::LessThan => "less_than",
            Op::GreaterThan => "greater_than",
        }
    }

    /// Whether `value` (a record's field) satisfies `self operand`. Null never matches.
    pub fn test(self, value: &Value, operand: &Value) -> bool {
        use std::cmp::Ordering::*;
        if value.is_null() {
            return false;
        }
        match self {
            Op::Equals => value.compare(operand) == Equal,
            Op::StartsWith => value.to_text().starts_with(&operand.to_text()),
            Op::Min => value.compare(operand) != Less,
            Op::Max => value.compare(operand) != Greater,
            Op::LessThan => value.compare(operand) == Less,
            Op::GreaterThan => value.compare(operand) == Greater,
        }
    }
}

/// One bound filter: field number (in the table's field order), comparison, value.
#[derive(Debug, Clone)]
pub struct Filter {
    pub field: usize,
    pub op: Op,
    pub value: Value,
}

/// A read request with every value bound.
#[derive(Debug, Clone)]
pub struct Query {
    pub filters: Vec<Filter>,
    /// (field number, descending)
    pub order: Vec<(usize, bool)>,
    /// Rows to skip (from a cursor).
    pub offset: u64,
    /// Rows to return; one more is looked for to know whether the result is truncated.
    pub limit: u64,
}

/// Rows in the table's field order.
#[derive(Debug, Clone)]
pub struct RowSet {
    pub rows: Vec<Vec<Value>>,
    /// More rows match than were returned.
    pub truncated: bool,
    /// Identifies the version of the data (a flat file's size and mtime), so a cursor taken
    /// from one version is not continued on another.
    pub version: String,
    /// Something the caller should know about this answer (it comes from an older version of
    /// the data, and why).
    pub notice: Option<String>,
}

/// `text` with every secret replaced by `***`, longest first (a secret inside another is not
/// left half-shown). Every backend's errors pass through here with that source's credentials.
pub fn scrub(text: &str, secrets: &[String]) -> String {
    let mut sorted: Vec<&String> = secrets.iter().filter(|s| !s.is_empty()).collect();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for s in sorted {
        out = out.replace(s.as_str(), "***");
    }
    out
}
