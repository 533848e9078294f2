//! Keys both SQL kinds (odbc, mssql) take: the pool, timeouts, row and value caps, and how
//! driver values become typed values. Each kind reads this group beside its own.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

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
