//! The mapping format v1 as serde types: what one YAML file may say. Strict: unknown keys are
//! errors. Positions come from `serde_saphyr::Spanned`; the JSON Schema from `schemars`.
//!
//! Shorthand forms (`item_no: prefix` for an equality filter, `"-price"` for a descending order)
//! are parsed by hand-written visitors in `shorthand.rs` so that errors inside the long form keep
//! their YAML positions (serde's untagged enums would lose them).

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::units::{DurationText, SizeText};

pub use super::field_type::FieldType;
pub use super::shorthand::{Condition, FieldSpec, Operand, OrderKey};

/// One mapping file. Every section is optional; a directory of files is merged by name.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "legacy-mcp mapping file (format v1)")]
pub struct MappingFile {
    /// The mapping format version; 1 is the only one so far.
    #[serde(default)]
    pub version: Option<u32>,
    /// Named backends: how to reach data and how it is laid out.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, SourceDef>")]
    pub sources: IndexMap<String, Spanned<SourceDef>>,
    /// MCP tools: what an agent may ask, with typed parameters.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, ToolDef>")]
    pub tools: IndexMap<String, Spanned<ToolDef>>,
    /// MCP resources: static URIs and URI templates answered by a tool.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, ResourceDef>")]
    pub resources: IndexMap<String, Spanned<ResourceDef>>,
    /// MCP prompts: message templates with arguments, optionally embedding resources.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, PromptDef>")]
    pub prompts: IndexMap<String, Spanned<PromptDef>>,
    /// Named masking policies, attached to fields with `mask: name`.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, MaskPolicyDef>")]
    pub masking: IndexMap<String, Spanned<MaskPolicyDef>>,
}

/// How a masked value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MaskStrategy {
    /// Replace the whole value with `replacement` (default `[redacted]`).
    Redact,
    /// Keep the first `keep_first` and last `keep_last` characters: `Jo***on`.
    Partial,
    /// Keep only the domain of an e-mail address: `***@example.com`.
    Email,
    /// Keep the last four characters: `***1234`.
    Last4,
    /// A keyed HMAC-SHA256 pseudonym (`h:` and 16 hex digits): equal values give equal
    /// pseudonyms, stable across restarts, not reversible without the key.
    Hash,
    /// Leave the field out of the result.
    Drop,
    /// Show the field as null.
    Null,
}

/// A masking policy: how a field is masked, and which roles see it unmasked.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MaskPolicyDef {
    #[schemars(with = "MaskStrategy")]
    pub strategy: Spanned<MaskStrategy>,
    /// partial: characters kept at the start (default 1).
    #[serde(default)]
    pub keep_first: Option<u32>,
    /// partial: characters kept at the end (default 0).
    #[serde(default)]
    pub keep_last: Option<u32>,
    /// redact: the text shown instead of the value (default `[redacted]`).
    #[serde(default)]
    pub replacement: Option<String>,
    /// hash: the HMAC key, at least 16 bytes; write `${env:NAME}` or `${file:PATH}`, never the
    /// key itself.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub key: Option<Spanned<String>>,
    /// Roles that see the value unmasked (e.g. `[finance]`). Everyone else sees it masked.
    #[serde(default)]
    pub unmasked_for: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}

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
    pub soap_version: Option<super::soap::SoapVersion>,
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
    #[schemars(with = "Option<super::soap::SoapAuthDef>")]
    pub auth: Option<Spanned<super::soap::SoapAuthDef>>,
    /// soap: extra SOAP header elements sent with every request.
    #[serde(default)]
    #[schemars(with = "Vec<super::soap::SoapHeaderDef>")]
    pub soap_headers: Vec<Spanned<super::soap::SoapHeaderDef>>,
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

/// Layout of a flat file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// Delimited text (`delimiter`, `quote`, `header`).
    Csv,
    /// Columns at fixed byte positions, one record per line.
    FixedWidth,
}

/// How the records of a fixed-width file are delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Framing {
    Lines,
    Fixed,
    Rdw,
}

/// The variant of record descriptor words a `framing: rdw` file uses.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RdwDef {
    /// Whether the length in each word counts the 4 header bytes (`includes_header`, IBM's
    /// way and the default) or only the record after it (`excludes_header`).
    #[serde(default)]
    pub length: RdwLength,
    /// The byte order of the length: `big` (IBM, the default) or `little` (written by some PC
    /// conversion tools).
    #[serde(default)]
    pub byte_order: ByteOrder,
    /// Variable blocked (RECFM=VB): records are grouped in blocks, each preceded by a block
    /// descriptor word (BDW) written like the RDWs. Default false.
    #[serde(default)]
    pub blocked: bool,
}

/// What the length in a record descriptor word counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RdwLength {
    #[default]
    IncludesHeader,
    ExcludesHeader,
}

/// The byte order of a binary length.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ByteOrder {
    #[default]
    Big,
    Little,
}

/// Character encoding of a flat file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    #[serde(rename = "utf-8")]
    Utf8,
    #[serde(rename = "windows-1252")]
    Windows1252,
    #[serde(rename = "iso-8859-1")]
    Iso88591,
    /// DOS United States (IBM PC).
    #[serde(rename = "cp437")]
    Cp437,
    /// DOS Western Europe (DOS-era ERPs in Europe).
    #[serde(rename = "cp850")]
    Cp850,
    /// EBCDIC USA/Canada (AS/400, IBM i).
    #[serde(rename = "cp037")]
    Cp037,
    /// EBCDIC International.
    #[serde(rename = "cp500")]
    Cp500,
    /// EBCDIC Latin 1 open systems (z/OS UNIX).
    #[serde(rename = "cp1047")]
    Cp1047,
    /// EBCDIC Germany/Austria.
    #[serde(rename = "cp273")]
    Cp273,
}

impl Encoding {
    /// One byte per character, each byte a character (all but utf-8).
    pub fn single_byte(self) -> bool {
        self != Encoding::Utf8
    }

    /// IBM EBCDIC: digits are 0xF0..0xF9, the space is 0x40.
    pub fn ebcdic(self) -> bool {
        matches!(
            self,
            Encoding::Cp037 | Encoding::Cp500 | Encoding::Cp1047 | Encoding::Cp273
        )
    }
}

/// What to do with bytes that are not valid in the declared encoding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecodeErrors {
    /// Fail the call, naming file, record and byte offset (default).
    #[default]
    Fail,
    /// Replace each bad sequence with U+FFFD and carry on.
    Replace,
}

/// One exported file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TableDef {
    /// The file name inside the source directory (no `..`, no absolute paths).
    #[schemars(with = "String")]
    pub file: Spanned<String>,
    #[schemars(with = "FileFormat")]
    pub format: Spanned<FileFormat>,
    /// Default utf-8.
    #[serde(default)]
    pub encoding: Option<Encoding>,
    /// Default fail.
    #[serde(default)]
    pub decode_errors: DecodeErrors,
    /// csv: one character, default `,`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub delimiter: Option<Spanned<String>>,
    /// csv: one character, default `"`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub quote: Option<Spanned<String>>,
    /// csv: whether the first record names the columns (default true).
    #[serde(default)]
    pub header: Option<bool>,
    /// fixed_width: records shorter than the layout are an error (default) unless this is true,
    /// in which case missing columns read as blank.
    #[serde(default)]
    pub allow_short_records: bool,
    /// fixed_width: how records are delimited: `lines` (a line end after each, CRLF or LF;
    /// the default), `fixed` (no line ends: every record is `record_length` bytes, as
    /// mainframe and AS/400 files are) or `rdw` (each record starts with a 4-byte record
    /// descriptor word giving its length, as variable-length mainframe files do).
    #[serde(default)]
    pub framing: Option<Framing>,
    /// fixed_width with `framing: rdw`: how the descriptor words are written, when not as
    /// IBM writes them (big-endian length including the 4 header bytes, no blocks).
    #[serde(default)]
    #[schemars(with = "Option<RdwDef>")]
    pub rdw: Option<Spanned<RdwDef>>,
    /// fixed_width with `framing: fixed`: the record length (LRECL) in bytes; default the end
    /// of the last field.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub record_length: Option<Spanned<u32>>,
    /// Fields that identify a record; the first one is indexed for fast lookups.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub key: Vec<Spanned<String>>,
    /// fixed_width, multi-record files: this table reads only the records whose type code
    /// (the bytes at `start`..`start + length - 1`) is `value`. Other tables may read the same
    /// file's other record types; a record of a type no table declares is an error.
    #[serde(default)]
    #[schemars(with = "Option<RecordTypeDef>")]
    pub record_type: Option<Spanned<RecordTypeDef>>,
    /// fixed_width, multi-segment files: tables of the same file whose records follow a
    /// record of this table and belong to it (a company record followed by its contacts):
    /// each row of this table carries, under each child table's name, the list of that
    /// child's records up to the next record of this table.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub children: Vec<Spanned<String>>,
    /// fixed_width: record types in the file that no table reads, skipped on purpose.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub other_record_types: Vec<Spanned<String>>,
    /// fixed_width: the file starts with a header record of this type; a file without it is
    /// incomplete.
    #[serde(default)]
    #[schemars(with = "Option<RecordTypeDef>")]
    pub header_record: Option<Spanned<RecordTypeDef>>,
    /// fixed_width: the file ends with a trailer record whose control totals are verified
    /// whenever the file is indexed; a file without it, or whose totals do not match, is
    /// incomplete.
    #[serde(default)]
    #[schemars(with = "Option<TrailerDef>")]
    pub trailer_record: Option<Spanned<TrailerDef>>,
    /// What calls get while the file is incomplete (its trailer is missing or does not match,
    /// it is still being written, or it is gone): `fail` (an error saying why; the default) or
    /// `last_complete` (answers from the last version that verified, with a notice saying so).
    #[serde(default)]
    pub when_incomplete: WhenIncomplete,
    /// The typed fields, in output order.
    #[schemars(with = "IndexMap<String, FieldDef>")]
    pub fields: IndexMap<String, Spanned<FieldDef>>,
}

/// A record type code: where it is in the record and what it reads.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordTypeDef {
    /// 1-based byte position of the type code.
    #[schemars(with = "u32")]
    pub start: Spanned<u32>,
    /// Width of the type code in bytes.
    #[schemars(with = "u32")]
    pub length: Spanned<u32>,
    /// The code, as text in the file's encoding; padded with spaces to `length`.
    #[schemars(with = "String")]
    pub value: Spanned<String>,
}

/// A trailer record and the control totals it carries.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrailerDef {
    /// Which records are the trailer.
    #[schemars(with = "RecordTypeDef")]
    pub record_type: Spanned<RecordTypeDef>,
    /// The trailer's own fields (same keys as a table's fields).
    #[serde(default)]
    #[schemars(with = "IndexMap<String, FieldDef>")]
    pub fields: IndexMap<String, Spanned<FieldDef>>,
    /// The trailer field that holds the number of records.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub count: Option<Spanned<String>>,
    /// What `count` counts: `data_records` (every record but the header and trailer; the
    /// default), `all_records` (header and trailer included) or `table_records` (only this
    /// table's record type).
    #[serde(default)]
    pub counts: CountRule,
    /// Control totals: trailer field -> the table field it is the sum of.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, String>")]
    pub sums: IndexMap<String, Spanned<String>>,
}

/// What a trailer's record count counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CountRule {
    #[default]
    DataRecords,
    AllRecords,
    TableRecords,
}

/// What calls get while an export is incomplete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WhenIncomplete {
    /// An error saying why (default).
    #[default]
    Fail,
    /// The last version that verified, with a notice naming its age and what is wrong now.
    LastComplete,
}

/// How string fields are trimmed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trim {
    /// Leading and trailing padding removed (default): white space, LOW-VALUES (NUL), and
    /// HIGH-VALUES in EBCDIC files.
    #[default]
    Both,
    Left,
    Right,
    None,
}

/// Date layouts found in ERP exports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DateFormat {
    /// `2026-11-20` (default).
    #[default]
    Iso,
    /// `20261120`.
    Yyyymmdd,
    /// `20.11.2026`.
    #[serde(rename = "dd.mm.yyyy")]
    DdMmYyyy,
    /// `11/20/2026`.
    #[serde(rename = "mm/dd/yyyy")]
    MmDdYyyy,
    /// `20/11/2026`.
    #[serde(rename = "dd/mm/yyyy")]
    DdMmYyyySlash,
    /// JD Edwards Julian: century (0 = 19xx, 1 = 20xx), year, day of year: `114001` is
    /// 2014-01-01.
    Cyyddd,
    /// Two-digit year and day of year: `26324` (with `pivot_year`).
    Yyddd,
    /// `261120` (with `pivot_year`).
    Yymmdd,
}

/// How a fixed-width number is stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Storage {
    #[default]
    Text,
    Zoned,
    Packed,
    Binary,
}

/// Where a zoned number's overpunched sign is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignPosition {
    #[default]
    Trailing,
    Leading,
}

/// One field of a table.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// Default string.
    #[serde(rename = "type", default)]
    #[schemars(with = "Option<FieldType>")]
    pub kind: Option<Spanned<FieldType>>,
    /// fixed_width: 1-based byte position of the first byte.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub start: Option<Spanned<u32>>,
    /// fixed_width: width in bytes.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub length: Option<Spanned<u32>>,
    /// csv: the header name of the column (default: the field name when `header` is true).
    #[serde(default)]
    pub column: Option<String>,
    /// csv: the 1-based column number, for files without a header row.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub index: Option<Spanned<u32>>,
    /// string: trimming (default both).
    #[serde(default)]
    pub trim: Trim,
    /// decimal: implied decimal places when the text has no separator (`00012345`, scale 2 is
    /// 123.45), and the scale of the result.
    #[serde(default)]
    pub scale: Option<u32>,
    /// decimal/number: the decimal separator, `.` (default) or `,`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub decimal_separator: Option<Spanned<String>>,
    /// decimal/number/integer: a thousands separator to ignore, e.g. `.` or `'`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub group_separator: Option<Spanned<String>>,
    /// date: the layout (default iso). Blank, all-zero and all-nine dates read as null.
    #[serde(default)]
    pub date_format: DateFormat,
    /// date with a two-digit year (`yymmdd`, `yyddd`): years below this are 20YY, the others
    /// 19YY (default 50).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub pivot_year: Option<Spanned<u32>>,
    /// fixed_width integer, decimal, number or date: how the number is stored: `text` (digits
    /// as characters, the default), `zoned` (COBOL DISPLAY with the sign overpunched on the
    /// last digit, or the first with `sign: leading`), `packed` (COMP-3: two digits a byte, the
    /// sign in the last nibble) or `binary` (COMP/COMP-4: a big-endian integer of 1 to 8 bytes, or 16 for 19 to 38 digits; `byte_order: little` for COMP-5 from a PC).
    /// `scale` gives the implied decimal places of all of them.
    #[serde(default)]
    #[schemars(with = "Option<Storage>")]
    pub storage: Option<Spanned<Storage>>,
    /// zoned: where the overpunched sign is: `trailing` (default) or `leading`.
    #[serde(default)]
    pub sign: Option<SignPosition>,
    /// binary: whether the integer is signed two's complement (default true; PIC S9) or
    /// unsigned (PIC 9).
    #[serde(default)]
    pub signed: Option<bool>,
    /// binary: the byte order, `big` (COMP, COMP-4, BINARY, and COMP-5 on a mainframe; the
    /// default) or `little` (COMP-5 written on a PC: GnuCOBOL, Micro Focus on x86).
    #[serde(default)]
    pub byte_order: Option<ByteOrder>,
    /// boolean: texts read as true (default `Y`, `J`, `1`, `true`, `X`).
    #[serde(default)]
    pub true_values: Option<Vec<String>>,
    /// boolean: texts read as false (default `N`, `0`, `false`, and blank).
    #[serde(default)]
    pub false_values: Option<Vec<String>>,
    /// What the field means, shown to agents in output schemas.
    #[serde(default)]
    pub description: Option<String>,
    /// A masking policy (from `masking:`) applied wherever this field is returned.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub mask: Option<Spanned<String>>,
    /// fixed_width: read this field only in records where another field has this value
    /// (`when: {taxpayer_type: N}`); it is null in the others. How a COBOL `REDEFINES` chosen
    /// by a type field is mapped: fields over the same bytes must each have `when` on the same
    /// field, with different values.
    #[serde(default)]
    #[schemars(with = "Option<IndexMap<String, String>>")]
    pub when: Option<Spanned<IndexMap<String, String>>>,
}

/// One result column of a SQL tool.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnDef {
    /// Default string.
    #[serde(rename = "type", default)]
    #[schemars(with = "Option<FieldType>")]
    pub kind: Option<Spanned<FieldType>>,
    /// What the column means, shown to agents in output schemas.
    #[serde(default)]
    pub description: Option<String>,
    /// A masking policy (from `masking:`) applied to this column.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub mask: Option<Spanned<String>>,
    /// soap: where the value is inside a result element: child element names separated by
    /// `/`, `@name` for an attribute (`Address/@type`), `.` for the element's own text.
    /// Default: the child element named like the column.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub path: Option<Spanned<String>>,
    /// soap: every element the path reaches, as an array (default: the first one).
    #[serde(default)]
    pub repeated: bool,
    /// soap: the path reaches repeated child records (a sales order's lines); each becomes an
    /// object of these fields, read from its own element (paths relative to it), a missing
    /// element as null. The column is an array of those objects.
    #[serde(default)]
    #[schemars(with = "Option<IndexMap<String, ColumnDef>>")]
    pub fields: Option<IndexMap<String, Spanned<ColumnDef>>>,
}

/// A tool parameter's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParamType {
    String,
    Integer,
    Number,
    Boolean,
    /// An ISO 8601 date (`2026-11-20`); the default may be `today`.
    Date,
    /// An ISO 8601 / XML Schema date and time (`2026-11-20T10:00:00`, optionally with
    /// fractions of a second and a zone, `Z` or `+01:00`): validated, and sent as written in
    /// that form (what `xs:dateTime` elements expect).
    Datetime,
    /// One of `values`.
    Enum,
    /// A list of values of type `items` (soap tools only: the element bound to it repeats
    /// once per item).
    Array,
}

/// One tool parameter.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamDef {
    #[serde(rename = "type")]
    #[schemars(with = "ParamType")]
    pub kind: Spanned<ParamType>,
    /// Shown to agents; say what the value is and give an example.
    #[serde(default)]
    pub description: Option<String>,
    /// Default: true unless a `default` is given.
    #[serde(default)]
    pub required: Option<bool>,
    /// Used when the caller omits the argument. For dates, `today` means the server's date.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub default: Option<Spanned<serde_json::Value>>,
    /// string: a regular expression the whole value must match.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub pattern: Option<Spanned<String>>,
    /// string: minimum length in characters.
    #[serde(default)]
    pub min_length: Option<u32>,
    /// string: maximum length in characters.
    #[serde(default)]
    pub max_length: Option<u32>,
    /// integer/number: smallest allowed value; date: earliest ISO date.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub min: Option<Spanned<serde_json::Value>>,
    /// integer/number: largest allowed value; date: latest ISO date.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub max: Option<Spanned<serde_json::Value>>,
    /// enum: the allowed values.
    #[serde(default)]
    pub values: Vec<String>,
    /// array: the type of each item (any type but array). The other rules (`pattern`,
    /// `min`, `values`, ...) apply to each item.
    #[serde(default)]
    #[schemars(with = "Option<ParamType>")]
    pub items: Option<Spanned<ParamType>>,
    /// array: the fewest items allowed (default 0).
    #[serde(default)]
    pub min_items: Option<u32>,
    /// array: the most items allowed (default 1000).
    #[serde(default)]
    pub max_items: Option<u32>,
    /// Bound to the caller, never given by it: `principal.name`, or `principal.claims.NAME` (a
    /// claim of the caller's token, or of its API key's `claims`). The parameter is left out of
    /// the tool's input schema, an argument of that name is refused, and its value is part of
    /// the cache key and appears in the audit only as a pseudonym.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub from: Option<Spanned<String>>,
    /// string: accept control characters (NUL, ESC, ...; tab, line feed and carriage return are
    /// always accepted). Default false: drivers cut a bound value at a NUL, so a value that
    /// passed `pattern` would reach the backend as another value.
    #[serde(default)]
    pub allow_control_chars: Option<bool>,
}

/// MCP tool annotations (hints for clients).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Annotations {
    /// The tool does not modify anything (default true: every flat-file tool reads).
    #[serde(default)]
    pub read_only: Option<bool>,
    #[serde(default)]
    pub destructive: Option<bool>,
    #[serde(default)]
    pub idempotent: Option<bool>,
    /// The tool reaches beyond the ERP (default false).
    #[serde(default)]
    pub open_world: Option<bool>,
}

/// A tool: parameters, the backend request, result shaping.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolDef {
    /// Shown to agents: what the tool returns and when to use it.
    #[schemars(with = "String")]
    pub description: Spanned<String>,
    /// A short human-readable title.
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    #[schemars(with = "IndexMap<String, ParamDef>")]
    pub parameters: IndexMap<String, Spanned<ParamDef>>,
    /// The source this tool reads from.
    #[schemars(with = "String")]
    pub source: Spanned<String>,
    /// flatfile: the table to read.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub table: Option<Spanned<String>>,
    /// odbc: the query. `:name` is a parameter, bound (never spliced); `{{name}}` inside a
    /// quoted identifier (`[{{company}}$Customer]`) takes a value from an `enum` parameter's
    /// allow-list.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub sql: Option<Spanned<String>>,
    /// soap: the request: the body element, its namespace, the SOAPAction and the body's
    /// elements bound from parameters.
    #[serde(default)]
    #[schemars(with = "Option<super::soap::OperationDef>")]
    pub operation: Option<Spanned<super::soap::OperationDef>>,
    /// soap: where the rows are in the answer.
    #[serde(default)]
    #[schemars(with = "Option<super::soap::ResponseDef>")]
    pub response: Option<Spanned<super::soap::ResponseDef>>,
    /// soap: this tool changes data (creates, updates, deletes). Required for an operation
    /// whose name says it writes or that is annotated `read_only: false`; such a tool is
    /// annotated destructive, never cached and never retried.
    #[serde(default)]
    pub allow_writes: Option<bool>,
    /// soap, for a tool that writes: whether the user confirms each call before it is sent,
    /// through the client (MCP elicitation). `ask` (default): when the client can ask;
    /// `require`: refuse when it cannot; `never`: send without asking.
    #[serde(default)]
    #[schemars(with = "Option<ConfirmRule>")]
    pub confirm: Option<Spanned<ConfirmRule>>,
    /// odbc, mssql, soap: the result columns, in order, with their types. `introspect` and
    /// `import-wsdl` write them.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, ColumnDef>")]
    pub columns: IndexMap<String, Spanned<ColumnDef>>,
    /// odbc: columns that identify a row, for keyset paging: rows come ordered by them and a
    /// cursor resumes after the last key seen. Without it, cursors count rows (offset).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub key: Vec<Spanned<String>>,
    /// flatfile: filters on fields, bound from parameters. `field: param` means equality.
    #[serde(default, rename = "where")]
    #[schemars(with = "IndexMap<String, Condition>")]
    pub filter: IndexMap<String, Spanned<Condition>>,
    /// flatfile: sort keys; `field` ascending, `-field` descending.
    #[serde(default)]
    #[schemars(with = "Vec<OrderKey>")]
    pub order_by: Vec<Spanned<OrderKey>>,
    /// Most rows returned per call (default 50, at most 10000); more rows give
    /// `truncated: true` and a `next_cursor`.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub limit: Option<Spanned<u32>>,
    /// Largest result in JSON bytes (default 1MB). Rows past it are cut as if by `limit`:
    /// `truncated: true` and a `next_cursor`, so an agent's context is never flooded.
    #[serde(default)]
    pub max_result_size: Option<SizeText>,
    #[serde(default)]
    pub result: Option<ResultDef>,
    /// Keep answers for a while, so repeated identical calls do not reach the ERP again.
    #[serde(default)]
    pub cache: Option<CacheDef>,
    /// Tools whose cached answers are dropped after this tool succeeds (a tool that changes
    /// what they read).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub invalidates: Vec<Spanned<String>>,
    #[serde(default)]
    pub annotations: Annotations,
    /// Roles that may list and call this tool; others neither see nor call it. Default: everyone, unless
    /// the server denies by default.
    #[serde(default)]
    pub allow: Option<Vec<String>>,
}

/// When a write is confirmed by the user before it is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmRule {
    /// Ask when the client supports MCP elicitation; send without asking when it does not.
    #[default]
    Ask,
    /// Ask; refuse the call when the client cannot ask.
    Require,
    /// Never ask (the client's own approval of destructive tools is enough).
    Never,
}

/// A tool's read cache rule.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CacheDef {
    /// How long an answer is served from the cache (e.g. `30s`, `5m`).
    pub ttl: DurationText,
    /// How much longer an answer may still be served, marked stale with its age, when the
    /// backend fails (e.g. `1h`). Default: never.
    #[serde(default)]
    pub stale_if_error: Option<DurationText>,
}

/// How rows become the tool's JSON.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultDef {
    /// A single record: no row is a "not found" tool error; the result is the record itself.
    #[serde(default)]
    pub one: bool,
    /// Output fields in order: `name: source_field`, `{ from, type }`, or `{ fields: {...} }`
    /// for a nested object. Default: every field of the table under its own name.
    #[serde(default)]
    #[schemars(with = "Option<IndexMap<String, FieldSpec>>")]
    pub fields: Option<IndexMap<String, Spanned<FieldSpec>>>,
}

/// A resource answered by a tool. A URI with `{variables}` is a template; its variables become
/// the tool's arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceDef {
    /// `erp://customers/{customer_no}` or a static `erp://items`.
    #[schemars(with = "String")]
    pub uri: Spanned<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Default application/json.
    #[serde(default)]
    pub mime_type: Option<String>,
    /// The tool whose result is the resource's content.
    #[schemars(with = "String")]
    pub tool: Spanned<String>,
    /// Fixed arguments passed to the tool in addition to the URI's variables.
    #[serde(default)]
    pub arguments: serde_json::Map<String, serde_json::Value>,
    /// Roles that may list and read this resource (they must also be allowed its tool); others neither see nor read it. Default: everyone, unless
    /// the server denies by default.
    #[serde(default)]
    pub allow: Option<Vec<String>>,
    /// Live updates: how subscribed clients learn that the resource changed. A flat-file
    /// resource is watched without it (its export's file status, every 2s); a SQL or SOAP
    /// resource only with it (its answer, re-read every `every`).
    #[serde(default)]
    pub watch: Option<WatchDef>,
}

/// How a resource is watched while a client is subscribed to it.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WatchDef {
    /// How often the resource is looked at while someone is subscribed (e.g. `30s`, `5m`); at
    /// least 1s. A change is notified when the answer (flat files: the export file) differs
    /// from the last look.
    pub every: DurationText,
}

/// One prompt argument.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptArgDef {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub required: bool,
}

/// Who speaks a prompt message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
}

/// One prompt message: text with `{argument}` placeholders, and optionally a resource whose
/// content is embedded after the text.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageDef {
    pub role: Role,
    #[schemars(with = "String")]
    pub text: Spanned<String>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub resource: Option<Spanned<String>>,
}

/// A prompt template.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptDef {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub arguments: IndexMap<String, PromptArgDef>,
    #[schemars(with = "Vec<MessageDef>")]
    pub messages: Spanned<Vec<MessageDef>>,
    /// Roles that may list and get this prompt (embedded resources are checked as reads); others neither see nor get it. Default: everyone, unless
    /// the server denies by default.
    #[serde(default)]
    pub allow: Option<Vec<String>>,
}
