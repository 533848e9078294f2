//! The keys of a `kind: odbc` source: its own, beside the SQL kinds' shared `SqlKeys`.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::mapping::units::DurationText;

/// The keys only an odbc source takes.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OdbcKeys {
    /// A DSN (`DSN=erp;UID=...`) or DSN-less connection string
    /// (`Driver={PostgreSQL Unicode};Server=...`). Put secrets in `${env:NAME}`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub connection_string: Option<Spanned<String>>,
    /// How long logging in may take (default 10s).
    #[serde(default)]
    pub login_timeout: Option<DurationText>,
    /// Rows fetched per round trip when every column has a known size (default 100).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub fetch_batch_size: Option<Spanned<u32>>,
    /// How text crosses the driver boundary: `narrow` (UTF-8, default on Linux) or `wide`
    /// (UTF-16, default on Windows, where narrow means the system code page).
    #[serde(default)]
    pub text: Option<TextMode>,
}

/// How an ODBC source exchanges text with its driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TextMode {
    /// 8-bit text, UTF-8 on Linux drivers.
    Narrow,
    /// UTF-16 text (the `W` functions).
    Wide,
}
