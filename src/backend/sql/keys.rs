//! Keys both SQL kinds (odbc, mssql) take: for a source, the pool, timeouts, row and value caps,
//! and how driver values become typed values (read beside the kind's own); for a tool, its
//! statement, columns and paging key.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::mapping::model::ColumnDef;
use crate::mapping::units::{DurationText, SizeText};

/// The keys every SQL source takes.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlKeys {
    /// Connections kept open (default 4; for odbc, one worker thread each).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub pool_size: Option<Spanned<u32>>,
    /// How long a call waits for a free connection before it is told the source is busy
    /// (default 5s).
    #[serde(default)]
    pub pool_timeout: Option<DurationText>,
    /// How long one query may run before it is cancelled (default 30s). For mssql the
    /// connection is then closed and replaced, never reused.
    #[serde(default)]
    pub query_timeout: Option<DurationText>,
    /// Most rows any one call reads (default 10000); caps each tool's `limit`.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub max_rows: Option<Spanned<u32>>,
    /// The longest text or binary value read from one column (default 1MiB). Columns the
    /// driver reports as unbounded (`VARCHAR(max)`, `TEXT`) are read piecewise up to this size;
    /// a longer value is an error, never silently cut.
    #[serde(default)]
    pub max_text_length: Option<SizeText>,
    /// Remove the trailing blanks of `CHAR(n)` values (default true).
    #[serde(default)]
    pub trim_char_padding: Option<bool>,
    /// Dates that mean "no date" in this ERP and read as null (Dynamics NAV: `1753-01-01`).
    /// Applies to date and datetime columns.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub null_dates: Vec<Spanned<String>>,
}

/// The keys of a tool on a SQL source.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlToolKeys {
    /// The query. `:name` is a parameter, bound (never spliced); `{{name}}` inside a
    /// quoted identifier (`[{{company}}$Customer]`) takes a value from an `enum` parameter's
    /// allow-list.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub sql: Option<Spanned<String>>,
    /// The result columns, in order, with their types. `introspect` writes them.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, ColumnDef>")]
    pub columns: IndexMap<String, Spanned<ColumnDef>>,
    /// Columns that identify a row, for keyset paging: rows come ordered by them and a
    /// cursor resumes after the last key seen. Without it, cursors count rows (offset).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub key: Vec<Spanned<String>>,
}

/// What a tool on a SQL source reads besides what every tool has: its statement and columns,
/// and whether it may write.
pub type SqlToolGroups = (SqlToolKeys, crate::backend::kind::WriteKeys);
