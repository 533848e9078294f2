//! The one interface every source kind implements. The catalogue compiles a tool on a source,
//! the pipeline runs the tool's plan, `/readyz` probes the source, `introspect` describes a
//! table: all through these traits, never by naming the kind. Each kind's folder holds its
//! implementation; `backend/mod.rs` lists the kinds.

use std::path::Path;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use indexmap::IndexMap;
use serde_saphyr::Location;

use super::rows::{Column, RowSet};
use crate::mapping::kind_keys::{Groups, KindKeys};
use crate::mapping::load::FileProblems;
use crate::mapping::mask::{Policies, Policy};
use crate::mapping::model::ConfirmRule;
use crate::mapping::model::{FieldType, SourceDef, ToolDef};
use crate::mapping::params::Param;
use crate::mapping::shape::Fields;
use crate::value::Value;
use schemars::JsonSchema;
use schemars::SchemaGenerator;
use serde::Deserialize;
use serde_saphyr::Spanned;

/// A configured source of some kind, ready to compile tools and answer their calls.
pub trait Backend: Send + Sync {
    /// The kind's name, as written after `kind:`.
    fn kind(&self) -> &'static str;

    /// The most rows one call may read, when the source caps it (`max_rows`); a tool's `limit`
    /// may not go above it.
    fn max_rows(&self) -> Option<u32> {
        None
    }

    /// Busy and total connections of the source's pool, once it has started.
    fn pool_usage(&self) -> Option<(usize, usize)> {
        None
    }

    /// Whether the source can be reached now, cheaply and without reading business data. The
    /// error says why not, without secrets.
    fn probe(&self) -> BoxFuture<'_, Result<(), String>>;

    /// Compile a tool on this source: read the kind's tool keys from `keys` (its
    /// `SourceKind::ToolKeys`), build the plan, and name the fields its rows carry. Problems go
    /// to `p`; `None` when no plan could be built.
    fn compile_tool(
        self: Arc<Self>,
        tool: &ToolSpec<'_>,
        keys: &mut KindKeys<'_>,
        p: &mut FileProblems<'_>,
    ) -> Option<CompiledTool>;

    /// A table's columns, for `introspect`; `None` for kinds that have no tables to describe.
    fn describe<'a>(&'a self, _table: &'a str) -> Option<BoxFuture<'a, Result<TableInfo, String>>> {
        None
    }
}

/// A source kind: the name written after `kind:`, the keys a source of it takes (declared in
/// its folder as serde structs, read with positions by `mapping::kind_keys`), and how such a
/// source is compiled.
pub trait SourceKind: 'static {
    const NAME: &'static str;
    /// One group of keys, or a tuple of groups when some are shared with other kinds.
    type Keys: Groups;
    /// The keys of a tool on such a source (`sql:`, `table:`), read by its `Backend::compile_tool`
    /// besides what every tool has.
    type ToolKeys: Groups;
    /// The source's keys into a ready source, every problem positioned in `p`.
    fn compile(
        source: &SourceSpec<'_>,
        keys: Self::Keys,
        p: &mut FileProblems<'_>,
    ) -> Arc<dyn Backend>;
}

/// What a kind's source compiler is given besides its keys.
pub struct SourceSpec<'a> {
    pub name: &'a str,
    /// `kind` and `description`; problems about a missing key point at `kind`.
    pub def: &'a SourceDef,
    /// The mapping file's directory (relative paths in the source are read from it).
    pub dir: &'a Path,
    /// The masking policies a source's own `mask:` keys may name.
    pub policies: &'a Policies,
}

/// A source kind as the catalogue and the schema use it, without naming it: see `Kind::of`
/// and the list in `backend/mod.rs`.
pub struct Kind {
    pub name: &'static str,
    /// Every key its sources take besides `kind` and `description`.
    pub keys: fn() -> Vec<&'static str>,
    /// Those keys' JSON Schema properties.
    pub properties: fn(&mut SchemaGenerator) -> serde_json::Map<String, serde_json::Value>,
    /// Every key a tool on its sources takes besides what every tool has.
    pub tool_keys: fn() -> Vec<&'static str>,
    /// Those keys' JSON Schema properties.
    pub tool_properties: fn(&mut SchemaGenerator) -> serde_json::Map<String, serde_json::Value>,
    /// Read the source's keys and compile it; `None` when its keys did not parse.
    pub compile: fn(
        source: &SourceSpec<'_>,
        keys: &mut KindKeys<'_>,
        p: &mut FileProblems<'_>,
    ) -> Option<Arc<dyn Backend>>,
}

impl Kind {
    pub const fn of<K: SourceKind>() -> Kind {
        Kind {
            name: K::NAME,
            keys: <K::Keys as Groups>::names,
            properties: <K::Keys as Groups>::properties,
            tool_keys: <K::ToolKeys as Groups>::names,
            tool_properties: <K::ToolKeys as Groups>::properties,
            compile: compile_kind::<K>,
        }
    }
}

fn compile_kind<K: SourceKind>(
    source: &SourceSpec<'_>,
    keys: &mut KindKeys<'_>,
    p: &mut FileProblems<'_>,
) -> Option<Arc<dyn Backend>> {
    let read = K::Keys::read(keys, p)?;
    Some(K::compile(source, read, p))
}

/// What a kind's tool compiler is given.
pub struct ToolSpec<'a> {
    pub def: &'a ToolDef,
    pub params: &'a [Param],
    /// The mapping file's directory (relative paths in the tool are read from it).
    pub dir: &'a Path,
    pub policies: &'a Policies,
    /// The tool's key path, `tools.<name>`, for problems.
    pub here: &'a str,
}

/// A tool compiled by its source's kind.
pub struct CompiledTool {
    pub plan: Box<dyn Plan>,
    /// The fields its rows carry, in row order, with their masks.
    pub fields: Fields,
    /// What "not found" names: a table, or the source.
    pub subject: String,
    /// Whether this kind can write at all, and what the plan says about it.
    pub writes: Option<Writes>,
    /// Fields the tool filters, orders or pages by in ways that reveal a value.
    pub oracles: Vec<Oracle>,
    /// Masks the source itself puts on fields (a flat-file table's `mask:`), besides the
    /// tool's own.
    pub source_masks: Vec<(usize, Arc<Policy>)>,
}

/// The keys of a tool that may write, for the kinds that can (SQL, SOAP); a kind that cannot
/// (flat files) does not read them, so they are named as keys of other kinds.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteKeys {
    /// This tool changes data (creates, updates, deletes). Required for SQL that is not a
    /// plain query, an operation whose name says it writes, or a tool annotated
    /// `read_only: false`; such a tool is annotated destructive, never cached and never retried.
    #[serde(default)]
    pub allow_writes: Option<bool>,
    /// For a tool that writes: whether the user confirms each call before it is sent,
    /// through the client (MCP elicitation). `ask` (default): when the client can ask;
    /// `require`: refuse when it cannot; `never`: send without asking.
    #[serde(default)]
    #[schemars(with = "Option<ConfirmRule>")]
    pub confirm: Option<Spanned<ConfirmRule>>,
}

/// What a plan's content says about writing.
pub struct Writes {
    /// Why the tool changes data by its content (a verb in the operation's name, SQL that is
    /// not a plain query); `None` when only the mapping's keys could say so.
    pub by_content: Option<String>,
    /// Where a problem about writing points.
    pub at: Location,
    /// Whether `read_only: true` may vouch that the tool only reads.
    pub vouchable: bool,
    /// What the tool's mapping says: `allow_writes`, `confirm`.
    pub keys: WriteKeys,
}

/// A use of a field that answers questions about its value: a prefix spells it out, a bound
/// bisects it, an order ranks it.
pub struct Oracle {
    /// The field's index in the rows.
    pub field: usize,
    /// The field and how it is used, e.g. "field `email` (filtered with `starts_with`)".
    pub what: String,
    /// What using it does, e.g. "filtering or ordering by it".
    pub how: &'static str,
    /// The key path to point at.
    pub path: String,
}

/// A compiled tool's backend request, before binding: given a call's bound values, it gives
/// the request to run (phase 4, `plan`), which the pipeline awaits (phase 5, `fetch`).
pub trait Plan: Send + Sync {
    /// Bind the call's values into this kind's request, and start nothing yet: the returned
    /// future sends it when awaited. Errors are worded for the caller.
    fn request(&self, call: &Call<'_>) -> BoxFuture<'static, Result<RowSet, String>>;

    /// The data's version without reading it (a flat-file export's size and time), so the
    /// cache and resource watches can tell a replaced export; `None` when it cannot be told
    /// cheaply.
    fn peek_version(&self) -> Option<String> {
        None
    }

    /// How often a subscribed resource on this plan is looked at without a `watch:` of its
    /// own; `None`: only with one (looking means calling the backend).
    fn default_watch(&self) -> Option<std::time::Duration> {
        None
    }

    /// Keyset paging: the declared columns and the indexes of the key among them.
    fn keyset(&self) -> Option<(&[Column], &[usize])> {
        None
    }

    /// Never quote these fields' values in errors (they are masked for someone).
    fn withhold(&mut self, masked: &[usize]);
}

/// One call's bound values, as a plan binds them.
pub struct Call<'a> {
    pub params: &'a [Param],
    pub bound: &'a IndexMap<String, Value>,
    pub offset: u64,
    /// Keyset paging: the key of the last row already returned.
    pub after: Option<Vec<Value>>,
    pub limit: u64,
}

/// Names for a message: `a, b, c`, or `none`.
pub fn list(names: &[&str]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// Columns with some masked for someone: their values never quoted in errors.
pub fn withhold(columns: &[Column], masked: &[usize]) -> Arc<[Column]> {
    let mut cols = columns.to_vec();
    for &i in masked {
        cols[i].withheld = true;
    }
    cols.into()
}

/// Array parameters repeat a SOAP element; a SQL placeholder or a flat-file filter takes one
/// value, so kinds other than SOAP refuse them rather than half-support them.
pub fn reject_arrays(tool: &ToolSpec<'_>, kind: &str, p: &mut FileProblems<'_>) {
    for x in tool.params.iter().filter(|x| x.list.is_some()) {
        p.at(
            &tool.def.parameters[x.name.as_str()].referenced,
            format!("{}.parameters.{}", tool.here, x.name),
            format!(
                "array parameters are for soap tools; {kind} tools bind one value per parameter: make `{}` a single value",
                x.name
            ),
        );
    }
}

/// One column as the catalogue describes it.
#[derive(Debug)]
pub struct ColumnInfo {
    pub name: String,
    pub kind: FieldType,
    /// The SQL type as the database reported it, for the description.
    pub sql_type: String,
    /// A bounded character column: a candidate for an optional equality filter.
    pub short_text: bool,
}

/// What the catalogue says about one table.
#[derive(Debug)]
pub struct TableInfo {
    pub table: String,
    pub columns: Vec<ColumnInfo>,
    pub key: Vec<String>,
    /// The identifier quote (`"`, `` ` `` or `[`).
    pub quote: char,
}
