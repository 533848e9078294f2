//! Backends: the kinds of source a mapping can name, and the query shape they answer.
//!
//! Each kind lives in its own folder and implements `kind::Backend` (compile a tool, probe,
//! describe) and `kind::Plan` (bind a call into its request); the catalogue and the pipeline
//! call those without naming the kind. `compiler` below lists the kinds. Flat files answer a
//! `Query` (filters and order the adapter evaluates), SQL kinds a `sql::SqlQuery` (the mapping's
//! statement with bound values); both give a `RowSet`, so shaping and (later) caching and
//! masking are written once. SOAP sources answer a `soap::SoapQuery` (a declared operation
//! with bound values) with the same `RowSet`.

pub mod abandon;
pub mod flatfile;
pub mod kind;
pub mod mssql;
pub mod odbc;
pub mod rows;
pub mod soap;
pub mod sql;

use std::sync::Arc;

use crate::mapping::model::SourceKind;

// The query shape and row set every kind shares live in `rows`, below the kinds.
pub use rows::{Filter, Op, Query, RowSet, scrub};

/// A configured source of any kind, ready to compile tools and answer their calls.
pub type Source = dyn kind::Backend;

/// The source kinds, by their `kind:` value: how a source of each is compiled. Adding a kind
/// is a folder beside these that implements `kind::Backend`, and a line here.
pub fn compiler(of: SourceKind) -> kind::CompileSource {
    match of {
        SourceKind::Flatfile => |n, d, dir, p| Arc::new(flatfile::config::compile(n, d, dir, p)),
        SourceKind::Odbc => |n, d, dir, p| Arc::new(odbc::config::compile(n, d, dir, p)),
        SourceKind::Mssql => |n, d, dir, p| Arc::new(mssql::config::compile(n, d, dir, p)),
        SourceKind::Soap => |n, d, dir, p| Arc::new(soap::config::compile(n, d, dir, p)),
    }
}
