//! A SQL Server source's settings, resolved from the mapping (login, TLS, trust, timeouts):
//! below the pool and the query code that read them.

use std::time::Duration;

use crate::backend::sql::CellRules;

/// How the source logs in. The password is resolved from `${env:...}` / `${file:...}`.
#[derive(Clone)]
pub enum Login {
    Sql {
        user: String,
        password: String,
    },
    /// The Windows identity of the process (Windows builds only).
    Integrated,
}

// Which certificates to trust is decided alike for every kind that opens TLS itself.
pub use crate::backend::connect::Trust;

/// TLS settings, in the mapping's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tls {
    Required,
    LoginOnly,
    Off,
}

/// A source's settings, resolved from the mapping.
pub struct MssqlSettings {
    pub name: String,
    pub host: String,
    pub port: Option<u16>,
    pub instance: Option<String>,
    pub database: Option<String>,
    pub login: Login,
    pub tls: Tls,
    pub trust: Trust,
    pub read_only: bool,
    pub pool_size: u32,
    pub pool_timeout: Duration,
    pub connect_timeout: Duration,
    pub query_timeout: Duration,
    pub max_rows: u32,
    pub max_text: usize,
    pub rules: CellRules,
}

impl MssqlSettings {
    /// `message` with the password replaced by `***` (servers do not echo it, but a message
    /// built from settings must never be able to).
    pub fn scrub(&self, message: &str) -> String {
        match &self.login {
            Login::Sql { password, .. } => {
                crate::backend::rows::scrub(message, std::slice::from_ref(password))
            }
            _ => message.to_string(),
        }
    }

    /// Where the server is, for messages: `host:port` or `host\instance`.
    pub fn address(&self) -> String {
        match (&self.instance, self.port) {
            (Some(i), _) => format!("{}\\{i}", self.host),
            (None, Some(p)) => format!("{}:{p}", self.host),
            (None, None) => format!("{}:1433", self.host),
        }
    }
}
