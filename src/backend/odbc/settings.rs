//! An ODBC source's settings, resolved from the mapping: below the pool, the connection and
//! the query code that all read them.

use std::time::Duration;

use crate::backend::sql::CellRules;

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
