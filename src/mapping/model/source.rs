//! Sources: the kind, and every kind's keys (one struct: serde-saphyr keeps positions only
//! outside tagged enums, so the kinds share it and `catalog/source.rs` refuses a key given to
//! a kind it does not belong to).

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::table::TableDef;
use crate::mapping::units::{DurationText, SizeText};

/// The kind of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A directory of flat-file exports (CSV, fixed width).
    Flatfile,
    /// An ODBC data source: any driver (PostgreSQL, MariaDB, SQLite, SQL Server, Progress, ...).
    Odbc,
    /// Microsoft SQL Server over TDS (native, no driver to install).
    Mssql,
    /// A SOAP 1.1 or 1.2 service (document/literal or rpc).
    Soap,
}

impl SourceKind {
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Flatfile => "flatfile",
            SourceKind::Odbc => "odbc",
            SourceKind::Mssql => "mssql",
            SourceKind::Soap => "soap",
        }
    }
}

/// A backend. `kind` picks which of the options below apply.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceDef {
    #[schemars(with = "SourceKind")]
    pub kind: Spanned<SourceKind>,
    /// What this source is, for people reading the mapping.
    #[serde(default)]
    pub description: Option<String>,
    /// flatfile: the export directory, relative to the mapping file. `${env:NAME}` allowed.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub directory: Option<Spanned<String>>,
    /// flatfile: a file modified more recently than this is taken to be still being written
    /// and is not read (default 0s: no wait).
    #[serde(default)]
    pub stable_for: Option<DurationText>,
    /// flatfile: the exported tables, by name.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, TableDef>")]
    pub tables: IndexMap<String, Spanned<TableDef>>,
    /// odbc: a DSN (`DSN=erp;UID=...`) or DSN-less connection string
    /// (`Driver={PostgreSQL Unicode};Server=...`). Put secrets in `${env:NAME}`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub connection_string: Option<Spanned<String>>,
    /// odbc, mssql: connections kept open (default 4; for odbc, one worker thread each).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub pool_size: Option<Spanned<u32>>,
    /// odbc, mssql: how long a call waits for a free connection before it is told the source is busy
    /// (default 5s).
    #[serde(default)]
    pub pool_timeout: Option<DurationText>,
    /// odbc: how long logging in may take (default 10s).
    #[serde(default)]
    pub login_timeout: Option<DurationText>,
    /// odbc, mssql: how long one query may run before it is cancelled (default 30s). For mssql
    /// the connection is then closed and replaced, never reused.
    #[serde(default)]
    pub query_timeout: Option<DurationText>,
    /// odbc, mssql: most rows any one call reads (default 10000); caps each tool's `limit`.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub max_rows: Option<Spanned<u32>>,
    /// odbc: rows fetched per round trip when every column has a known size (default 100).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub fetch_batch_size: Option<Spanned<u32>>,
    /// odbc, mssql: the longest text or binary value read from one column (default 1MiB). Columns the
    /// driver reports as unbounded (`VARCHAR(max)`, `TEXT`) are read piecewise up to this size;
    /// a longer value is an error, never silently cut.
    #[serde(default)]
    pub max_text_length: Option<SizeText>,
    /// odbc, mssql: remove the trailing blanks of `CHAR(n)` values (default true).
    #[serde(default)]
    pub trim_char_padding: Option<bool>,
    /// odbc: how text crosses the driver boundary: `narrow` (UTF-8, default on Linux) or `wide`
    /// (UTF-16, default on Windows, where narrow means the system code page).
    #[serde(default)]
    pub text: Option<TextMode>,
    /// odbc, mssql: dates that mean "no date" in this ERP and read as null (Dynamics NAV: `1753-01-01`).
    /// Applies to date and datetime columns.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub null_dates: Vec<Spanned<String>>,
    /// mssql: the server's host name or address. `${env:NAME}` allowed.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub host: Option<Spanned<String>>,
    /// mssql: the TCP port (default 1433). With `instance`, the port of the SQL Server Browser
    /// that resolves the instance (default 1434).
    #[serde(default)]
    #[schemars(with = "Option<u16>")]
    pub port: Option<Spanned<u16>>,
    /// mssql: a named instance (`NAVDEMO` in `erp-sql01\NAVDEMO`), found through the SQL Server
    /// Browser service.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub instance: Option<Spanned<String>>,
    /// mssql: the database to use (default: the login's default database).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub database: Option<Spanned<String>>,
    /// mssql: `sql` (a SQL Server login: `user` and `password`, the default) or `integrated`
    /// (Windows builds only: the service account's Windows identity).
    #[serde(default)]
    #[schemars(with = "Option<Authentication>")]
    pub authentication: Option<Spanned<Authentication>>,
    /// mssql: the SQL Server login name. `${env:NAME}` allowed.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub user: Option<Spanned<String>>,
    /// mssql: the SQL Server login's password; write `${env:NAME}` or `${file:PATH}`, never the
    /// password itself.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub password: Option<Spanned<String>>,
    /// mssql: TLS on the connection: `required` (default), `login_only` (only the login packet
    /// is encrypted, as old on-prem servers without a certificate allow) or `off`.
    #[serde(default)]
    pub encryption: Option<Encryption>,
    /// mssql: accept the server's certificate without checking it (a self-signed on-prem
    /// certificate). An explicit opt-in; prefer `ca_certificate`.
    #[serde(default)]
    pub trust_server_certificate: Option<bool>,
    /// mssql: a PEM or DER certificate file (relative to the mapping file) to trust for this
    /// server, e.g. its self-signed certificate.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub ca_certificate: Option<Spanned<String>>,
    /// mssql: `read_only` (default: may be routed to a readable secondary) or `read_write`.
    #[serde(default)]
    pub application_intent: Option<ApplicationIntent>,
    /// mssql, soap: how long opening a connection (TCP, TLS and, for mssql, login) may take
    /// (default 10s).
    #[serde(default)]
    pub connect_timeout: Option<DurationText>,
    /// soap: the service's URL. `${env:NAME}` allowed.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub endpoint: Option<Spanned<String>>,
    /// soap: `"1.1"` (default) or `"1.2"`.
    #[serde(default)]
    pub soap_version: Option<crate::mapping::soap::SoapVersion>,
    /// soap: the default namespace URI of operation elements.
    #[serde(default)]
    pub namespace: Option<String>,
    /// soap: how long a whole request may take, answer included (default 30s).
    #[serde(default)]
    pub request_timeout: Option<DurationText>,
    /// soap: an HTTP proxy URL (`http://proxy:3128`). Default: none (environment variables are
    /// not consulted, so a service account behaves like the integrator's shell).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub proxy: Option<Spanned<String>>,
    /// soap: how the source authenticates: `basic`, `ws_security` or `bearer`.
    #[serde(default)]
    #[schemars(with = "Option<crate::mapping::soap::SoapAuthDef>")]
    pub auth: Option<Spanned<crate::mapping::soap::SoapAuthDef>>,
    /// soap: extra SOAP header elements sent with every request.
    #[serde(default)]
    #[schemars(with = "Vec<crate::mapping::soap::SoapHeaderDef>")]
    pub soap_headers: Vec<Spanned<crate::mapping::soap::SoapHeaderDef>>,
    /// soap: the largest answer read (default 10MB); a larger one is an error, never cut.
    #[serde(default)]
    pub max_response_size: Option<SizeText>,
    /// soap: the deepest element nesting accepted in an answer (default 64).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub max_xml_depth: Option<Spanned<u32>>,
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

/// How an ODBC source exchanges text with its driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TextMode {
    /// 8-bit text, UTF-8 on Linux drivers.
    Narrow,
    /// UTF-16 text (the `W` functions).
    Wide,
}
