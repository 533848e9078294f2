//! Tools: parameters, declared result columns, filters and order, annotations, writes,
//! confirmation, caching and the result's shape.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::mapping::field_type::FieldType;
use crate::mapping::shorthand::FieldSpec;
use crate::mapping::units::{DurationText, SizeText};

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

/// A tool: parameters, result shaping, caching, access. What it asks its source (`sql:`,
/// `table:`, `operation:`) are keys of the source's kind, read by the kind
/// (`backend/<kind>/keys.rs`, through `mapping::kind_keys`); the catalogue names any key that
/// neither this nor the kind takes.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ToolDef {
    /// Shown to agents: what the tool returns and when to use it. (Required: left out, it is
    /// empty here and the catalogue says so, so that a misspelt key is named instead.)
    #[serde(default = "super::required::absent")]
    #[schemars(with = "String")]
    pub description: Spanned<String>,
    /// A short human-readable title.
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    #[schemars(with = "IndexMap<String, ParamDef>")]
    pub parameters: IndexMap<String, Spanned<ParamDef>>,
    /// The source this tool reads from. (Required, as `description`.)
    #[serde(default = "super::required::absent")]
    #[schemars(with = "String")]
    pub source: Spanned<String>,
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
