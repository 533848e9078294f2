//! The keys of a `kind: mssql` source: its own, beside the SQL kinds' shared `SqlKeys` and the
//! TLS kinds' shared `ConnectKeys`.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

/// The keys only an mssql source takes.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MssqlKeys {
    /// The server's host name or address. `${env:NAME}` allowed.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub host: Option<Spanned<String>>,
    /// The TCP port (default 1433). With `instance`, the port of the SQL Server Browser
    /// that resolves the instance (default 1434).
    #[serde(default)]
    #[schemars(with = "Option<u16>")]
    pub port: Option<Spanned<u16>>,
    /// A named instance (`NAVDEMO` in `erp-sql01\NAVDEMO`), found through the SQL Server
    /// Browser service.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub instance: Option<Spanned<String>>,
    /// The database to use (default: the login's default database).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub database: Option<Spanned<String>>,
    /// `sql` (a SQL Server login: `user` and `password`, the default) or `integrated`
    /// (Windows builds only: the service account's Windows identity).
    #[serde(default)]
    #[schemars(with = "Option<Authentication>")]
    pub authentication: Option<Spanned<Authentication>>,
    /// The SQL Server login name. `${env:NAME}` allowed.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub user: Option<Spanned<String>>,
    /// The SQL Server login's password; write `${env:NAME}` or `${file:PATH}`, never the
    /// password itself.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub password: Option<Spanned<String>>,
    /// TLS on the connection: `required` (default), `login_only` (only the login packet
    /// is encrypted, as old on-prem servers without a certificate allow) or `off`.
    #[serde(default)]
    pub encryption: Option<Encryption>,
    /// `read_only` (default: may be routed to a readable secondary) or `read_write`.
    #[serde(default)]
    pub application_intent: Option<ApplicationIntent>,
}

/// How an mssql source logs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Authentication {
    /// A SQL Server login (`user`, `password`).
    Sql,
    /// Windows integrated authentication (Windows builds only).
    Integrated,
}

/// TLS on an mssql connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Encryption {
    /// Everything encrypted; the server must offer TLS.
    Required,
    /// Only the login packet (with the password) is encrypted.
    LoginOnly,
    /// No TLS at all (the server must allow it; the password crosses the network readable).
    Off,
}

/// Whether an mssql connection declares it only reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationIntent {
    ReadOnly,
    ReadWrite,
}
