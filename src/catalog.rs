//! The catalogue: every mapping file of a directory merged and compiled into ready-to-run
//! tools, resources and prompts. Compilation does no backend I/O and collects every problem
//! (duplicates across files, dangling references, layout mistakes) before giving up.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{Map, Value as Json};
use serde_saphyr::{Location, Spanned};

use crate::backend::flatfile::{self, Table};
use crate::backend::sql::{Column, Statement};
use crate::backend::{Op, Source, mssql, odbc, soap};
use crate::mapping::load::{self, FileProblems, LoadedFile, Problem};
use crate::mapping::model::{
    Annotations, Condition, ConfirmRule, FieldType, MappingFile, Operand, ParamType, PromptDef,
    ResourceDef, Role, SourceDef, SourceKind, ToolDef,
};
use crate::mapping::params::{self, Param};
use crate::mapping::shape::{self, Shape};
use crate::mapping::shape::{Fields, SourceField};
use crate::mask::{Policies, Policy};
use crate::uri::UriTemplate;
use crate::value::Value;

/// Rows per call when a tool sets no `limit`.
pub const DEFAULT_LIMIT: u32 = 50;
/// The most rows one call may return.
pub const MAX_LIMIT: u32 = 10_000;
/// Largest result in JSON bytes when a tool sets no `max_result_size`.
pub const DEFAULT_MAX_RESULT_BYTES: u64 = 1_000_000;

pub struct Catalog {
    /// Masking policies by name (`masking:` of every file).
    pub masking: crate::mask::Policies,
    pub sources: IndexMap<String, Arc<Source>>,
    pub tools: IndexMap<String, Arc<Tool>>,
    pub resources: Vec<Resource>,
    pub prompts: IndexMap<String, Prompt>,
    /// SHA-256 of the mapping files (names and bytes): replicas serving the same mappings
    /// share cached answers, and `/readyz` tells a replica whose mappings differ.
    pub digest: String,
}

pub struct Tool {
    pub name: String,
    pub title: Option<String>,
    pub description: String,
    pub params: Vec<Param>,
    /// What the tool asks its backend.
    pub plan: Plan,
    /// The source's name (for the audit log).
    pub source: String,
    /// What "not found" names: "`CUSTOMERS`", "source `erp`".
    pub subject: String,
    pub limit: u32,
    pub max_result_bytes: u64,
    pub shape: Shape,
    /// The read cache rule, if answers may be kept.
    pub cache: Option<crate::mapping::model::CacheDef>,
    /// Tools whose cached answers this one's success makes stale.
    pub invalidates: Vec<String>,
    pub annotations: ToolHints,
    /// The tool changes data (a SOAP write with `allow_writes: true`).
    pub writes: bool,
    /// For a write: whether the user confirms each call first (`confirm.rs`).
    pub confirm: ConfirmRule,
    /// Roles that may list and call it (`None`: the server's default).
    pub allow: Option<Vec<String>>,
    pub input_schema: Map<String, Json>,
    pub output_schema: Map<String, Json>,
}

#[derive(Debug, Clone, Copy)]
pub struct ToolHints {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub open_world: bool,
}

/// The backend request of a tool, before binding.
pub enum Plan {
    /// Filters and order over one flat-file table.
    Flat {
        table: Arc<Table>,
        filters: Vec<FilterSpec>,
        order: Vec<(usize, bool)>,
    },
    /// A declared SOAP operation and the projection of its answer.
    Soap {
        source: Arc<Source>,
        op: Arc<soap::Operation>,
    },
    /// A SQL statement with named parameters and declared result columns.
    Sql {
        source: Arc<Source>,
        statement: Arc<Statement>,
        columns: Arc<[Column]>,
        /// Keyset columns (indexes into `columns`).
        key: Vec<usize>,
    },
}

/// A filter before binding: the operand is a parameter name or a literal.
#[derive(Debug, Clone)]
pub struct FilterSpec {
    pub field: usize,
    pub op: Op,
    pub operand: Bound,
}

#[derive(Debug, Clone)]
pub enum Bound {
    Param(String),
    Literal(Value),
}

pub struct Resource {
    pub name: String,
    pub uri: String,
    /// Set when the URI has `{variables}`.
    pub template: Option<UriTemplate>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub mime_type: String,
    pub tool: String,
    pub arguments: Map<String, Json>,
    pub allow: Option<Vec<String>>,
    /// How often a subscribed resource is looked at; `None`: it cannot be subscribed to.
    pub watch: Option<std::time::Duration>,
}

/// How often a flat-file resource's export is looked at without a `watch:` of its own.
pub const FLAT_WATCH: std::time::Duration = std::time::Duration::from_secs(2);

pub struct Prompt {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// (name, description, required)
    pub arguments: Vec<(String, Option<String>, bool)>,
    pub messages: Vec<PromptMessage>,
    pub allow: Option<Vec<String>>,
}

pub struct PromptMessage {
    pub role: Role,
    pub text: String,
    pub resource: Option<String>,
}

/// Summary line printed by `check`.
impl Catalog {
    pub fn summary(&self) -> String {
        let n = |count: usize, what: &str| {
            format!("{count} {what}{}", if count == 1 { "" } else { "s" })
        };
        format!(
            "{}, {}, {}, {}",
            n(self.tools.len(), "tool"),
            n(self.resources.len(), "resource"),
            n(self.prompts.len(), "prompt"),
            n(self.sources.len(), "source")
        )
    }
}

/// Load and compile a mapping directory (or a single file).
pub fn load(dir: &Path) -> Result<Catalog, Vec<Problem>> {
    let paths = load::mapping_files(dir).map_err(|m| {
        vec![Problem {
            file: Arc::from(dir),
            line: 1,
            column: 1,
            path: String::new(),
            message: m,
        }]
    })?;
    let mut problems = Vec::new();
    let files = load::load_files(&paths, &mut problems);
    let mut catalog = compile(&files, &mut problems);
    catalog.digest = digest(&paths);
    problems.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    if problems.is_empty() {
        Ok(catalog)
    } else {
        Err(problems)
    }
}

/// The mapping files' digest: their names (without the directory, which differs between
/// machines) and contents, in order.
fn digest(paths: &[PathBuf]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for p in paths {
        h.update(
            p.file_name()
                .map(|n| n.as_encoded_bytes())
                .unwrap_or_default(),
        );
        h.update(b"\0");
        h.update(std::fs::read(p).unwrap_or_default());
        h.update(b"\0");
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Where a name was first defined, to report duplicates naming both files.
#[derive(Default)]
struct Seen(HashMap<(&'static str, String), (PathBuf, u64, u64)>);

impl Seen {
    fn first(
        &mut self,
        section: &'static str,
        name: &str,
        file: &Path,
        loc: &Location,
        p: &mut FileProblems<'_>,
    ) -> bool {
        let key = (section, name.to_string());
        if let Some((f, l, c)) = self.0.get(&key) {
            p.at(
                loc,
                format!("{section}.{name}"),
                format!(
                    "duplicate {} `{name}`: already defined at {}:{l}:{c}",
                    singular(section),
                    f.display()
                ),
            );
            return false;
        }
        self.0
            .insert(key, (file.to_path_buf(), loc.line(), loc.column()));
        true
    }
}

fn singular(section: &str) -> &str {
    section.strip_suffix('s').unwrap_or(section)
}

fn compile(files: &[LoadedFile], problems: &mut Vec<Problem>) -> Catalog {
    let mut seen = Seen::default();
    let mut cat = Catalog {
        masking: IndexMap::new(),
        sources: IndexMap::new(),
        tools: IndexMap::new(),
        resources: Vec::new(),
        prompts: IndexMap::new(),
        digest: String::new(),
    };
    // Masking policies first: fields in any file may name a policy from any other file.
    for f in files {
        let mut p = FileProblems {
            file: f.path.clone(),
            out: problems,
        };
        check_version(&f.mapping, &mut p);
        for (name, def) in &f.mapping.masking {
            if seen.first("masking", name, &f.path, &def.referenced, &mut p) {
                crate::mask::compile(name, def, &f.dir, &mut cat.masking, &mut p);
            }
        }
    }
    // Then sources: tools in any file may name a source from any other file.
    for f in files {
        let mut p = FileProblems {
            file: f.path.clone(),
            out: problems,
        };
        check_table_masks(&f.mapping, &cat.masking, &mut p);
        for (name, def) in &f.mapping.sources {
            if seen.first("sources", name, &f.path, &def.referenced, &mut p)
                && let Some(src) = compile_source(name, def, &f.dir, &mut p)
            {
                cat.sources.insert(name.clone(), Arc::new(src));
            }
        }
    }
    for f in files {
        let mut p = FileProblems {
            file: f.path.clone(),
            out: problems,
        };
        for (name, def) in &f.mapping.tools {
            if seen.first("tools", name, &f.path, &def.referenced, &mut p)
                && let Some(tool) =
                    compile_tool(name, def, &f.dir, &cat.sources, &cat.masking, &mut p)
            {
                cat.tools.insert(name.clone(), Arc::new(tool));
            }
        }
    }
    // `invalidates:` may name a tool of any file.
    for f in files {
        let mut p = FileProblems {
            file: f.path.clone(),
            out: problems,
        };
        for (name, def) in &f.mapping.tools {
            for t in &def.value.invalidates {
                if !f.mapping.tools.contains_key(&t.value) && !cat.tools.contains_key(&t.value) {
                    p.at(
                        &t.referenced,
                        format!("tools.{name}.invalidates"),
                        format!("`{}` is not a tool in these mappings", t.value),
                    );
                }
            }
        }
    }
    for f in files {
        let mut p = FileProblems {
            file: f.path.clone(),
            out: problems,
        };
        for (name, def) in &f.mapping.resources {
            if seen.first("resources", name, &f.path, &def.referenced, &mut p)
                && let Some(r) = compile_resource(name, def, &cat, &mut p)
            {
                cat.resources.push(r);
            }
        }
    }
    for f in files {
        let mut p = FileProblems {
            file: f.path.clone(),
            out: problems,
        };
        for (name, def) in &f.mapping.prompts {
            if seen.first("prompts", name, &f.path, &def.referenced, &mut p) {
                let prompt = compile_prompt(name, def, &cat.resources, &mut p);
                cat.prompts.insert(name.clone(), prompt);
            }
        }
    }
    cat
}

fn check_version(m: &MappingFile, p: &mut FileProblems<'_>) {
    if let Some(v) = m.version.filter(|v| *v != 1) {
        p.at(
            &Location::UNKNOWN,
            "version",
            format!("mapping format version {v} is not supported; this build reads version 1"),
        );
    }
}

fn compile_source(
    name: &str,
    def: &Spanned<SourceDef>,
    dir: &Path,
    p: &mut FileProblems<'_>,
) -> Option<Source> {
    check_name(name, &def.referenced, &format!("sources.{name}"), p);
    check_source_keys(name, &def.value, p);
    let kind = def.value.kind.value;
    match kind {
        SourceKind::Flatfile => Some(Source::Flatfile(flatfile::config::compile(
            name, &def.value, dir, p,
        ))),
        SourceKind::Odbc => Some(Source::Odbc(odbc::config::compile(
            name, &def.value, dir, p,
        ))),
        SourceKind::Mssql => Some(Source::Mssql(mssql::config::compile(
            name, &def.value, dir, p,
        ))),
        SourceKind::Soap => Some(Source::Soap(Box::new(soap::config::compile(
            name, &def.value, dir, p,
        )))),
    }
}

/// Source keys belong to kinds; a key of another kind is a mistake worth naming (an ODBC
/// `connection_string` on an mssql source would otherwise be silently ignored).
fn check_source_keys(name: &str, d: &SourceDef, p: &mut FileProblems<'_>) {
    use SourceKind::*;
    let at = |l: Option<&Location>| *l.unwrap_or(&d.kind.referenced);
    #[rustfmt::skip]
    let keys: [(&str, bool, Option<Location>, &[SourceKind]); 35] = [
        ("directory", d.directory.is_some(), d.directory.as_ref().map(|x| x.referenced), &[Flatfile]),
        ("stable_for", d.stable_for.is_some(), None, &[Flatfile]),
        ("tables", !d.tables.is_empty(), None, &[Flatfile]),
        ("connection_string", d.connection_string.is_some(), d.connection_string.as_ref().map(|x| x.referenced), &[Odbc]),
        ("login_timeout", d.login_timeout.is_some(), None, &[Odbc]),
        ("fetch_batch_size", d.fetch_batch_size.is_some(), d.fetch_batch_size.as_ref().map(|x| x.referenced), &[Odbc]),
        ("text", d.text.is_some(), None, &[Odbc]),
        ("pool_size", d.pool_size.is_some(), d.pool_size.as_ref().map(|x| x.referenced), &[Odbc, Mssql]),
        ("pool_timeout", d.pool_timeout.is_some(), None, &[Odbc, Mssql]),
        ("query_timeout", d.query_timeout.is_some(), None, &[Odbc, Mssql]),
        ("max_rows", d.max_rows.is_some(), d.max_rows.as_ref().map(|x| x.referenced), &[Odbc, Mssql]),
        ("max_text_length", d.max_text_length.is_some(), None, &[Odbc, Mssql]),
        ("trim_char_padding", d.trim_char_padding.is_some(), None, &[Odbc, Mssql]),
        ("null_dates", !d.null_dates.is_empty(), d.null_dates.first().map(|x| x.referenced), &[Odbc, Mssql]),
        ("host", d.host.is_some(), d.host.as_ref().map(|x| x.referenced), &[Mssql]),
        ("port", d.port.is_some(), d.port.as_ref().map(|x| x.referenced), &[Mssql]),
        ("instance", d.instance.is_some(), d.instance.as_ref().map(|x| x.referenced), &[Mssql]),
        ("database", d.database.is_some(), d.database.as_ref().map(|x| x.referenced), &[Mssql]),
        ("authentication", d.authentication.is_some(), d.authentication.as_ref().map(|x| x.referenced), &[Mssql]),
        ("user", d.user.is_some(), d.user.as_ref().map(|x| x.referenced), &[Mssql]),
        ("password", d.password.is_some(), d.password.as_ref().map(|x| x.referenced), &[Mssql]),
        ("encryption", d.encryption.is_some(), None, &[Mssql]),
        ("trust_server_certificate", d.trust_server_certificate.is_some(), None, &[Mssql, Soap]),
        ("ca_certificate", d.ca_certificate.is_some(), d.ca_certificate.as_ref().map(|x| x.referenced), &[Mssql, Soap]),
        ("application_intent", d.application_intent.is_some(), None, &[Mssql]),
        ("connect_timeout", d.connect_timeout.is_some(), None, &[Mssql, Soap]),
        ("endpoint", d.endpoint.is_some(), d.endpoint.as_ref().map(|x| x.referenced), &[Soap]),
        ("soap_version", d.soap_version.is_some(), None, &[Soap]),
        ("namespace", d.namespace.is_some(), None, &[Soap]),
        ("request_timeout", d.request_timeout.is_some(), None, &[Soap]),
        ("proxy", d.proxy.is_some(), d.proxy.as_ref().map(|x| x.referenced), &[Soap]),
        ("auth", d.auth.is_some(), d.auth.as_ref().map(|x| x.referenced), &[Soap]),
        ("soap_headers", !d.soap_headers.is_empty(), d.soap_headers.first().map(|x| x.referenced), &[Soap]),
        ("max_response_size", d.max_response_size.is_some(), None, &[Soap]),
        ("max_xml_depth", d.max_xml_depth.is_some(), d.max_xml_depth.as_ref().map(|x| x.referenced), &[Soap]),
    ];
    let kind = d.kind.value;
    for (key, given, loc, kinds) in keys {
        if !given || kinds.contains(&kind) {
            continue;
        }
        let owners: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
        p.at(
            &at(loc.as_ref()),
            format!("sources.{name}.{key}"),
            format!(
                "`{key}` does not apply to {} {} source (it is for {}); remove it",
                if matches!(kind, Odbc | Mssql) {
                    "an"
                } else {
                    "a"
                },
                kind.name(),
                owners.join(" and ")
            ),
        );
    }
}

/// Tool, resource and prompt names are what agents type: keep them to MCP's safe characters.
fn check_name(name: &str, loc: &Location, path: &str, p: &mut FileProblems<'_>) {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if !ok {
        p.at(
            loc,
            path,
            format!("`{name}` is not a valid name: use 1 to 64 letters, digits, `_`, `-` or `.`"),
        );
    }
}

fn compile_tool(
    name: &str,
    def: &Spanned<ToolDef>,
    dir: &Path,
    sources: &IndexMap<String, Arc<Source>>,
    policies: &Policies,
    p: &mut FileProblems<'_>,
) -> Option<Tool> {
    let here = format!("tools.{name}");
    let d = &def.value;
    check_name(name, &def.referenced, &here, p);
    if d.description.value.trim().is_empty() {
        p.at(
            &d.description.referenced,
            format!("{here}.description"),
            "the description is what agents read to choose a tool: say what it returns",
        );
    }
    let params: Vec<Param> = d
        .parameters
        .iter()
        .map(|(n, pd)| params::compile(n, pd, &format!("{here}.parameters.{n}"), p))
        .collect();
    let src = find_source(d, sources, &here, p)?;
    if !matches!(src.as_ref(), Source::Soap(_)) {
        reject_arrays(d, &params, src.kind(), &here, p);
    }
    let (plan, fields, subject, max_rows) = match src.as_ref() {
        Source::Flatfile(ff) => {
            reject_keys(
                d,
                &here,
                "flatfile",
                &[
                    ("sql", d.sql.is_some()),
                    ("columns", !d.columns.is_empty()),
                    ("key", !d.key.is_empty()),
                    ("operation", d.operation.is_some()),
                    ("response", d.response.is_some()),
                    ("allow_writes", d.allow_writes.is_some()),
                    ("confirm", d.confirm.is_some()),
                ],
                p,
            );
            let table = find_table(d, ff, &here, p)?;
            let filters = compile_filters(d, &table, &params, &here, p);
            let order = compile_order(d, &table, &here, p);
            let fields = table_fields(&table, policies);
            let subject = format!("`{}`", table.name);
            let plan = Plan::Flat {
                table,
                filters,
                order,
            };
            (plan, fields, subject, MAX_LIMIT)
        }
        Source::Soap(ss) => {
            reject_keys(
                d,
                &here,
                "soap",
                &[
                    ("table", d.table.is_some()),
                    ("sql", d.sql.is_some()),
                    ("where", !d.filter.is_empty()),
                    ("order_by", !d.order_by.is_empty()),
                    ("key", !d.key.is_empty()),
                ],
                p,
            );
            let op = soap::config::operation(d, &ss.settings, &params, dir, &here, p)?;
            let fields = soap_fields(&op, d, policies, &here, p);
            let plan = Plan::Soap {
                source: src.clone(),
                op: Arc::new(op),
            };
            (
                plan,
                fields,
                format!("source `{}`", d.source.value),
                MAX_LIMIT,
            )
        }
        Source::Odbc(_) | Source::Mssql(_) => {
            let max_rows = src.sql_max_rows().unwrap_or(MAX_LIMIT);
            let plan = compile_sql(d, src, &params, &here, p)?;
            let fields = sql_fields(&plan, d, policies, &here, p);
            (
                plan,
                fields,
                format!("source `{}`", d.source.value),
                max_rows,
            )
        }
    };
    let limit = match &d.limit {
        Some(l) if l.value == 0 || l.value > MAX_LIMIT.min(max_rows) => {
            p.at(
                &l.referenced,
                format!("{here}.limit"),
                format!("`limit` must be between 1 and {}", MAX_LIMIT.min(max_rows)),
            );
            DEFAULT_LIMIT
        }
        Some(l) => l.value,
        None => DEFAULT_LIMIT.min(max_rows),
    };
    let shape = shape::compile(d.result.as_ref(), &fields, policies, &here, p);
    let writes = check_writes(d, &plan, &here, p);
    check_oracles(d, &plan, &shape, policies, &here, p);
    let mut plan = plan;
    withhold_masked(&mut plan, &shape);
    let input_schema = params::input_schema(&params, !shape.one);
    let output_schema = output_schema(&shape);
    Some(Tool {
        name: name.to_string(),
        title: d.title.clone(),
        description: d.description.value.clone(),
        params,
        plan,
        source: d.source.value.clone(),
        subject,
        limit,
        max_result_bytes: d
            .max_result_size
            .map(|s| s.0)
            .unwrap_or(DEFAULT_MAX_RESULT_BYTES),
        shape,
        cache: d.cache,
        invalidates: d.invalidates.iter().map(|t| t.value.clone()).collect(),
        annotations: hints(&d.annotations, writes),
        writes,
        confirm: d
            .confirm
            .as_ref()
            .map_or(ConfirmRule::default(), |c| c.value),
        allow: d.allow.clone(),
        input_schema,
        output_schema,
    })
}

/// Array parameters repeat a SOAP element; a SQL placeholder or a flat-file filter takes one
/// value, so they are refused there rather than half-supported.
fn reject_arrays(d: &ToolDef, params: &[Param], kind: &str, here: &str, p: &mut FileProblems<'_>) {
    for x in params.iter().filter(|x| x.list.is_some()) {
        p.at(
            &d.parameters[x.name.as_str()].referenced,
            format!("{here}.parameters.{}", x.name),
            format!(
                "array parameters are for soap tools; {kind} tools bind one value per parameter: make `{}` a single value",
                x.name
            ),
        );
    }
}

/// A write is annotated as such whatever the mapping's hints say: clients decide on them
/// whether to ask the user first.
fn hints(a: &Annotations, writes: bool) -> ToolHints {
    ToolHints {
        read_only: !writes && a.read_only.unwrap_or(true),
        destructive: writes && a.destructive.unwrap_or(true),
        idempotent: if writes {
            a.idempotent.unwrap_or(false)
        } else {
            a.idempotent.unwrap_or(true)
        },
        open_world: a.open_world.unwrap_or(false),
    }
}

/// Whether a tool changes data. A SOAP tool: its operation's name says so (`CreateOrder`,
/// NAV's `Update`). A SQL tool: its statement is not a plain query (`UPDATE`, `EXEC`, a
/// data-modifying CTE, a second statement), unless it only calls a procedure the mapping
/// annotates `read_only: true`. Either: it is annotated `read_only: false`, or it says
/// `allow_writes: true`. A write must say `allow_writes: true`; it is then never cached,
/// never retried, and confirmed when `confirm:` says so.
fn check_writes(d: &ToolDef, plan: &Plan, here: &str, p: &mut FileProblems<'_>) -> bool {
    let vouched_read = d.annotations.read_only == Some(true);
    let (by_content, at) = match plan {
        Plan::Soap { op, .. } => (
            (!vouched_read && soap::config::name_says_write(&op.element))
                .then(|| format!("operation `{}` changes data by its name", op.element)),
            d.operation
                .as_ref()
                .map_or(d.source.referenced, |o| o.referenced),
        ),
        Plan::Sql { statement, .. } => (
            statement
                .change()
                .filter(|_| !(vouched_read && statement.procedure))
                .map(|why| format!("the SQL is not a plain query: {why}")),
            d.sql.as_ref().map_or(d.source.referenced, |s| s.referenced),
        ),
        Plan::Flat { .. } => return false,
    };
    // Only a name or a procedure call can be vouched for as a read; an `UPDATE` cannot.
    let vouchable = match plan {
        Plan::Sql { statement, .. } => statement.procedure || by_content.is_none(),
        _ => true,
    };
    let writes = by_content.is_some()
        || d.annotations.read_only == Some(false)
        || d.allow_writes == Some(true);
    if writes && d.allow_writes != Some(true) {
        let why = by_content.unwrap_or_else(|| "the tool is annotated `read_only: false`".into());
        p.at(
            &at,
            format!("{here}.allow_writes"),
            format!("{why}: a tool that writes must say `allow_writes: true` (it is then annotated destructive and never cached or retried){}", if vouchable { "; if it only reads, annotate `read_only: true`" } else { "" }),
        );
    }
    if let Some(c) = d.confirm.as_ref().filter(|_| !writes) {
        p.at(
            &c.referenced,
            format!("{here}.confirm"),
            "`confirm` applies to tools that write (`allow_writes: true`); a read is never confirmed",
        );
    }
    if writes && d.cache.is_some() {
        p.at(
            &at,
            format!("{here}.cache"),
            "a tool that writes is never cached; remove `cache:`",
        );
    }
    writes
}

fn find_source<'a>(
    d: &ToolDef,
    sources: &'a IndexMap<String, Arc<Source>>,
    here: &str,
    p: &mut FileProblems<'_>,
) -> Option<&'a Arc<Source>> {
    let src = sources.get(&d.source.value);
    if src.is_none() {
        let known: Vec<&str> = sources.keys().map(|s| s.as_str()).collect();
        p.at(
            &d.source.referenced,
            format!("{here}.source"),
            format!(
                "unknown source `{}`; defined sources: {}",
                d.source.value,
                list(&known)
            ),
        );
    }
    src
}

/// Keys that belong to another source kind are mistakes, not silently ignored options.
fn reject_keys(
    d: &ToolDef,
    here: &str,
    kind: &str,
    keys: &[(&str, bool)],
    p: &mut FileProblems<'_>,
) {
    for (key, present) in keys {
        if *present {
            p.at(
                &d.source.referenced,
                format!("{here}.{key}"),
                format!(
                    "`{key}` does not apply to a tool on source `{}` (kind {kind})",
                    d.source.value
                ),
            );
        }
    }
}

fn find_table(
    d: &ToolDef,
    ff: &flatfile::FlatfileSource,
    here: &str,
    p: &mut FileProblems<'_>,
) -> Option<Arc<Table>> {
    let Some(table) = &d.table else {
        p.at(
            &d.source.referenced,
            here,
            format!(
                "a tool on flatfile source `{}` needs `table:` (one of: {})",
                d.source.value,
                list(&ff.tables.keys().map(|s| s.as_str()).collect::<Vec<_>>())
            ),
        );
        return None;
    };
    match ff.tables.get(&table.value) {
        Some(t) => Some(t.clone()),
        None => {
            p.at(
                &table.referenced,
                format!("{here}.table"),
                format!(
                    "source `{}` has no table `{}`; its tables: {}",
                    d.source.value,
                    table.value,
                    list(&ff.tables.keys().map(|s| s.as_str()).collect::<Vec<_>>())
                ),
            );
            None
        }
    }
}

fn table_fields(t: &Table, policies: &Policies) -> Fields {
    Fields {
        owner: format!("table `{}`", t.name),
        list: t
            .fields
            .iter()
            .map(|f| SourceField {
                name: f.name.clone(),
                kind: f.kind(),
                description: f.description.clone(),
                // Unknown names were reported by `check_table_masks`.
                mask: f.mask.as_ref().and_then(|m| policies.get(m).cloned()),
                repeated: false,
                records: None,
            })
            // Child segments: a list of records under each child table's name, after the
            // table's own fields (the order `flatfile::segments` builds rows in).
            .chain(t.children.iter().map(|c| {
                let items: Vec<_> = c
                    .fields
                    .iter()
                    .map(|f| (f.name.clone(), f.kind(), f.description.clone(), false))
                    .collect();
                SourceField {
                    name: c.name.clone(),
                    kind: FieldType::String,
                    description: Some(format!(
                        "The `{}` records that follow this one in the file, in file order.",
                        c.name
                    )),
                    mask: None,
                    repeated: false,
                    records: Some(Arc::new(shape::record_schema(&items))),
                }
            }))
            .collect(),
    }
}

fn sql_fields(
    plan: &Plan,
    d: &ToolDef,
    policies: &Policies,
    here: &str,
    p: &mut FileProblems<'_>,
) -> Fields {
    let Plan::Sql { columns, .. } = plan else {
        unreachable!("called for SQL plans")
    };
    column_fields(columns, &[], d, policies, here, p)
}

fn soap_fields(
    op: &soap::Operation,
    d: &ToolDef,
    policies: &Policies,
    here: &str,
    p: &mut FileProblems<'_>,
) -> Fields {
    let repeated: Vec<bool> = op.fields.iter().map(|f| f.repeated).collect();
    let mut fields = column_fields(&op.columns, &repeated, d, policies, here, p);
    for (field, path) in fields.list.iter_mut().zip(&op.fields) {
        field.records = path.record.as_ref().map(|record| {
            let items: Vec<_> = record
                .iter()
                .map(|(c, f)| (c.name.clone(), c.kind, c.description.clone(), f.repeated))
                .collect();
            Arc::new(shape::record_schema(&items))
        });
    }
    fields
}

/// A tool's declared `columns:` as the fields its rows carry, with their masks.
fn column_fields(
    columns: &[Column],
    repeated: &[bool],
    d: &ToolDef,
    policies: &Policies,
    here: &str,
    p: &mut FileProblems<'_>,
) -> Fields {
    Fields {
        owner: "the `columns` of this tool".into(),
        list: columns
            .iter()
            .enumerate()
            .map(|(i, c)| SourceField {
                name: c.name.clone(),
                kind: c.kind,
                description: c.description.clone(),
                repeated: repeated.get(i).copied().unwrap_or(false),
                records: None,
                mask: d
                    .columns
                    .get(&c.name)
                    .and_then(|def| def.value.mask.as_ref())
                    .and_then(|m| {
                        shape::policy(
                            policies,
                            &m.value,
                            &m.referenced,
                            &format!("{here}.columns.{}.mask", c.name),
                            p,
                        )
                    }),
            })
            .collect(),
    }
}

/// Every `mask:` on a flat-file table field must name a policy. (A field no tool returns is
/// still checked: the mistake would surface the day a tool starts returning it.)
fn check_table_masks(m: &MappingFile, policies: &Policies, p: &mut FileProblems<'_>) {
    for (source, def) in &m.sources {
        for (table, t) in &def.value.tables {
            for (field, f) in &t.value.fields {
                if let Some(mask) = &f.value.mask {
                    let path = format!("sources.{source}.tables.{table}.fields.{field}.mask");
                    shape::policy(policies, &mask.value, &mask.referenced, &path, p);
                }
            }
        }
    }
}

/// A filter, an order or a paging key on a masked field answers questions about the value it
/// hides: `starts_with` spells out a masked e-mail letter by letter, `min` bisects a redacted
/// credit limit to the cent, an order ranks it. `check` refuses them on a field masked for
/// anyone who may call the tool (the tool's `allow:` roles all lift the policy, or there is
/// no such caller). An `equals` filter is allowed: it confirms a value the caller already holds
/// and cannot enumerate one.
fn check_oracles(
    d: &ToolDef,
    plan: &Plan,
    shape: &Shape,
    policies: &Policies,
    here: &str,
    p: &mut FileProblems<'_>,
) {
    let mut masks: Vec<(usize, Arc<Policy>)> = shape.masks();
    if let Plan::Flat { table, .. } = plan {
        for (i, f) in table.fields.iter().enumerate() {
            if let Some(policy) = f.mask.as_ref().and_then(|m| policies.get(m)) {
                masks.push((i, policy.clone()));
            }
        }
    }
    // The policy that hides field `i` from some caller of this tool, if any.
    let hidden = |i: usize| -> Option<&Arc<Policy>> {
        masks
            .iter()
            .filter(|(f, _)| *f == i)
            .map(|(_, policy)| policy)
            .find(|policy| {
                d.allow
                    .as_ref()
                    .is_none_or(|roles| roles.iter().any(|r| !policy.unmasked_for.contains(r)))
            })
    };
    let refuse = |what: String,
                  how: &str,
                  policy: &Policy,
                  path: String,
                  p: &mut FileProblems<'_>| {
        p.at(
            &d.source.referenced,
            path,
            format!(
                "{what} is masked by policy `{}` for some callers of this tool: {} would answer questions about the hidden value (a prefix spells it out, a bound bisects it, an order ranks it); use `equals`, or allow the tool only to roles in the policy's `unmasked_for`",
                policy.name, how
            ),
        );
    };
    const FILTER: &str = "filtering or ordering by it";
    match plan {
        Plan::Flat {
            table,
            filters,
            order,
        } => {
            for f in filters.iter().filter(|f| f.op != Op::Equals) {
                if let Some(policy) = hidden(f.field) {
                    let name = &table.fields[f.field].name;
                    let what = format!("field `{name}` (filtered with `{}`)", f.op.name());
                    refuse(what, FILTER, policy, format!("{here}.where.{name}"), p);
                }
            }
            for &(i, _) in order {
                if let Some(policy) = hidden(i) {
                    let name = &table.fields[i].name;
                    refuse(
                        format!("field `{name}` (in `order_by`)"),
                        FILTER,
                        policy,
                        format!("{here}.order_by"),
                        p,
                    );
                }
            }
        }
        Plan::Sql { columns, key, .. } => {
            for &i in key {
                if let Some(policy) = hidden(i) {
                    let what = format!("key column `{}`", columns[i].name);
                    refuse(what, "paging by it", policy, format!("{here}.key"), p);
                }
            }
        }
        Plan::Soap { .. } => {}
    }
}

/// Values of masked fields are never quoted in backend errors (a value that does not parse).
fn withhold_masked(plan: &mut Plan, shape: &Shape) {
    let masked = shape.masked_fields();
    match plan {
        Plan::Flat { table, .. } => {
            for i in masked {
                table.fields[i].withhold();
            }
        }
        Plan::Sql { columns, .. } => *columns = withhold(columns, &masked),
        Plan::Soap { op, .. } => {
            let op = Arc::get_mut(op).expect("the plan is not shared while compiling");
            op.columns = withhold(&op.columns, &masked);
        }
    }
}

fn withhold(columns: &[Column], masked: &[usize]) -> Arc<[Column]> {
    let mut cols = columns.to_vec();
    for &i in masked {
        cols[i].withheld = true;
    }
    cols.into()
}

/// A SQL tool: the statement's parameters must be the tool's, identifier fragments must come
/// from an `enum` parameter's allow-list, and result columns are declared with their types.
fn compile_sql(
    d: &ToolDef,
    src: &Arc<Source>,
    params: &[Param],
    here: &str,
    p: &mut FileProblems<'_>,
) -> Option<Plan> {
    reject_keys(
        d,
        here,
        src.kind(),
        &[
            ("table", d.table.is_some()),
            ("where", !d.filter.is_empty()),
            ("order_by", !d.order_by.is_empty()),
            ("operation", d.operation.is_some()),
            ("response", d.response.is_some()),
        ],
        p,
    );
    let Some(sql) = &d.sql else {
        p.at(
            &d.source.referenced,
            here,
            format!(
                "a tool on {} source `{}` needs `sql:` (a query with `:name` parameters)",
                src.kind(),
                d.source.value
            ),
        );
        return None;
    };
    let statement = match Statement::parse(&sql.value) {
        Ok(s) => s,
        Err(e) => {
            p.at(&sql.referenced, format!("{here}.sql"), e);
            return None;
        }
    };
    let names: Vec<&str> = params.iter().map(|x| x.name.as_str()).collect();
    let (used_params, used_idents) = (statement.params(), statement.idents());
    for name in &used_params {
        if !names.contains(name) {
            p.at(
                &sql.referenced,
                format!("{here}.sql"),
                format!(
                    "`:{name}` is not a parameter of this tool (parameters: {}); declare it under `parameters:`",
                    list(&names)
                ),
            );
        }
    }
    for name in &used_idents {
        match params.iter().find(|x| x.name == *name) {
            Some(x) if x.kind == ParamType::Enum => {}
            _ => p.at(
                &sql.referenced,
                format!("{here}.sql"),
                format!(
                    "`{{{{{name}}}}}` must name a parameter of type enum: its `values` are the allow-list of identifiers"
                ),
            ),
        }
    }
    for x in params {
        let used = used_params.contains(&x.name.as_str()) || used_idents.contains(&x.name.as_str());
        if !used {
            p.at(
                &sql.referenced,
                format!("{here}.parameters.{}", x.name),
                format!(
                    "parameter `{}` is not used by the SQL; use it as `:{}` or remove it",
                    x.name, x.name
                ),
            );
        }
    }
    if d.columns.is_empty() {
        p.at(
            &sql.referenced,
            format!("{here}.columns"),
            "list the result `columns:` with their types (`legacy-mcp introspect` writes them for a table)",
        );
        return None;
    }
    for (name, c) in &d.columns {
        if c.value.path.is_some() || c.value.repeated || c.value.fields.is_some() {
            p.at(
                &c.referenced,
                format!("{here}.columns.{name}"),
                "`path`, `repeated` and `fields` apply to columns of a soap tool; a SQL column is named by the query",
            );
        }
    }
    let columns: Arc<[Column]> = d
        .columns
        .iter()
        .map(|(name, c)| Column {
            name: name.clone(),
            kind: c.value.kind.as_ref().map_or(FieldType::String, |k| k.value),
            description: c.value.description.clone(),
            withheld: false,
        })
        .collect();
    let mut key = Vec::new();
    for k in &d.key {
        match columns.iter().position(|c| c.name == k.value) {
            Some(i) => key.push(i),
            None => p.at(
                &k.referenced,
                format!("{here}.key"),
                format!("key `{}` is not one of the tool's `columns`", k.value),
            ),
        }
    }
    if !key.is_empty() && statement.ordered {
        p.at(
            &sql.referenced,
            format!("{here}.sql"),
            "remove the ORDER BY: with `key:` rows come ordered by the key columns, so paging can resume after the last key",
        );
    }
    Some(Plan::Sql {
        source: src.clone(),
        statement: Arc::new(statement),
        columns,
        key,
    })
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

fn field_names(t: &Table) -> String {
    t.fields
        .iter()
        .map(|f| f.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn compile_filters(
    d: &ToolDef,
    table: &Table,
    params: &[Param],
    here: &str,
    p: &mut FileProblems<'_>,
) -> Vec<FilterSpec> {
    let mut out = Vec::new();
    for (field, cond) in &d.filter {
        let path = format!("{here}.where.{field}");
        let Some(fi) = table.field_index(field) else {
            p.at(
                &cond.referenced,
                &path,
                format!(
                    "`{field}` is not a field of table `{}`; its fields are: {}",
                    table.name,
                    field_names(table)
                ),
            );
            continue;
        };
        let Condition(form) = &cond.value;
        let ops = [
            (Op::Equals, &form.equals),
            (Op::StartsWith, &form.starts_with),
            (Op::Min, &form.min),
            (Op::Max, &form.max),
            (Op::LessThan, &form.less_than),
            (Op::GreaterThan, &form.greater_than),
        ];
        let before = out.len();
        for (op, operand) in ops {
            let Some(operand) = operand else { continue };
            if let Some(bound) = compile_operand(
                operand,
                table.fields[fi].kind(),
                params,
                &cond.referenced,
                &format!("{path}.{}", op.name()),
                p,
            ) {
                out.push(FilterSpec {
                    field: fi,
                    op,
                    operand: bound,
                });
            }
        }
        if out.len() == before && form_is_empty(form) {
            p.at(&cond.referenced, &path, "a filter needs an operator: equals, starts_with, min, max, less_than or greater_than");
        }
    }
    out
}

fn form_is_empty(f: &crate::mapping::shorthand::ConditionForm) -> bool {
    f.equals.is_none()
        && f.starts_with.is_none()
        && f.min.is_none()
        && f.max.is_none()
        && f.less_than.is_none()
        && f.greater_than.is_none()
}

fn compile_operand(
    operand: &Operand,
    kind: FieldType,
    params: &[Param],
    loc: &Location,
    path: &str,
    p: &mut FileProblems<'_>,
) -> Option<Bound> {
    match operand {
        Operand::Param(name) => {
            if params.iter().any(|x| &x.name == name) {
                Some(Bound::Param(name.clone()))
            } else {
                let known: Vec<&str> = params.iter().map(|x| x.name.as_str()).collect();
                p.at(loc, path, format!("`{name}` is not a parameter of this tool (parameters: {}); write {{ value: {name} }} for a literal", list(&known)));
                None
            }
        }
        Operand::Literal(v) => match literal(v, kind) {
            Ok(val) => Some(Bound::Literal(val)),
            Err(e) => {
                p.at(loc, path, format!("literal {e}"));
                None
            }
        },
    }
}

/// A literal in `where` has the type of the field it is compared with.
fn literal(v: &Json, kind: FieldType) -> Result<Value, String> {
    let as_param = match kind {
        FieldType::String => ParamType::String,
        FieldType::Integer => ParamType::Integer,
        FieldType::Number => ParamType::Number,
        FieldType::Boolean => ParamType::Boolean,
        FieldType::Date => ParamType::Date,
        FieldType::Datetime | FieldType::Time | FieldType::Binary => {
            return Err(format!("of type {} is not supported", kind.name()));
        }
        FieldType::Decimal => {
            let text = match v {
                Json::String(s) => s.clone(),
                Json::Number(n) => n.to_string(),
                _ => String::new(),
            };
            return rust_decimal::Decimal::from_str_exact(&text)
                .map(Value::Dec)
                .map_err(|_| format!("must be a decimal (got {v})"));
        }
    };
    params::coerce(as_param, v, &[])
}

fn compile_order(
    d: &ToolDef,
    table: &Table,
    here: &str,
    p: &mut FileProblems<'_>,
) -> Vec<(usize, bool)> {
    d.order_by
        .iter()
        .filter_map(|k| match table.field_index(&k.value.field) {
            Some(fi) => Some((fi, k.value.descending)),
            None => {
                p.at(
                    &k.referenced,
                    format!("{here}.order_by"),
                    format!(
                        "`{}` is not a field of table `{}`; its fields are: {}",
                        k.value.field,
                        table.name,
                        field_names(table)
                    ),
                );
                None
            }
        })
        .collect()
}

/// List tools return `{rows, count, truncated, next_cursor}`; `one: true` tools the record.
fn output_schema(shape: &Shape) -> Map<String, Json> {
    let row = shape.row_schema();
    let schema = if shape.one {
        row
    } else {
        serde_json::json!({
            "type": "object",
            "properties": {
                "rows": {"type": "array", "items": row},
                "count": {"type": "integer", "description": "Rows in this result."},
                "truncated": {"type": "boolean", "description": "More rows match; call again with `cursor` set to `next_cursor`."},
                "next_cursor": {"type": ["string", "null"], "description": "Pass as `cursor` to get the next rows."}
            },
            "required": ["rows", "count", "truncated", "next_cursor"]
        })
    };
    match schema {
        Json::Object(m) => m,
        _ => unreachable!("schemas are objects"),
    }
}

fn compile_resource(
    name: &str,
    def: &Spanned<ResourceDef>,
    cat: &Catalog,
    p: &mut FileProblems<'_>,
) -> Option<Resource> {
    let here = format!("resources.{name}");
    let d = &def.value;
    check_name(name, &def.referenced, &here, p);
    let template = match UriTemplate::parse(&d.uri.value) {
        Ok(t) => t,
        Err(e) => {
            p.at(&d.uri.referenced, format!("{here}.uri"), e);
            return None;
        }
    };
    let Some(tool) = cat.tools.get(&d.tool.value) else {
        let known: Vec<&str> = cat.tools.keys().map(|s| s.as_str()).collect();
        p.at(
            &d.tool.referenced,
            format!("{here}.tool"),
            format!(
                "unknown tool `{}`; defined tools: {}",
                d.tool.value,
                list(&known)
            ),
        );
        return None;
    };
    for var in template.variables() {
        if tool
            .params
            .iter()
            .any(|x| x.name == var && x.list.is_some())
        {
            p.at(
                &d.uri.referenced,
                format!("{here}.uri"),
                format!("URI variable `{{{var}}}` names an array parameter; a URI variable carries one value"),
            );
        } else if !tool.params.iter().any(|x| x.name == var) {
            p.at(
                &d.uri.referenced,
                format!("{here}.uri"),
                format!(
                    "URI variable `{{{var}}}` is not a parameter of tool `{}`",
                    tool.name
                ),
            );
        }
    }
    let watch = match &d.watch {
        Some(w) if w.every.0 < std::time::Duration::from_secs(1) => {
            p.at(
                &d.uri.referenced,
                format!("{here}.watch.every"),
                "a resource is looked at every 1s at most often: set `every` to 1s or more",
            );
            None
        }
        Some(w) => Some(w.every.0),
        None => matches!(tool.plan, Plan::Flat { .. }).then_some(FLAT_WATCH),
    };
    let is_template = !template.variables().is_empty();
    Some(Resource {
        name: name.to_string(),
        uri: d.uri.value.clone(),
        template: is_template.then_some(template),
        title: d.title.clone(),
        description: d
            .description
            .clone()
            .or_else(|| Some(tool.description.clone())),
        mime_type: d
            .mime_type
            .clone()
            .unwrap_or_else(|| "application/json".into()),
        tool: tool.name.clone(),
        arguments: d.arguments.clone(),
        allow: d.allow.clone(),
        watch,
    })
}

fn compile_prompt(
    name: &str,
    def: &Spanned<PromptDef>,
    resources: &[Resource],
    p: &mut FileProblems<'_>,
) -> Prompt {
    let here = format!("prompts.{name}");
    let d = &def.value;
    check_name(name, &def.referenced, &here, p);
    let args: Vec<(String, Option<String>, bool)> = d
        .arguments
        .iter()
        .map(|(n, a)| (n.clone(), a.description.clone(), a.required))
        .collect();
    if d.messages.value.is_empty() {
        p.at(
            &d.messages.referenced,
            format!("{here}.messages"),
            "a prompt needs at least one message",
        );
    }
    let mut messages = Vec::new();
    for (i, m) in d.messages.value.iter().enumerate() {
        let mpath = format!("{here}.messages[{i}]");
        for var in crate::uri::placeholders(&m.text.value) {
            if !args.iter().any(|a| a.0 == var) {
                p.at(
                    &m.text.referenced,
                    format!("{mpath}.text"),
                    format!("placeholder `{{{var}}}` is not an argument of this prompt"),
                );
            }
        }
        if let Some(r) = &m.resource {
            for var in crate::uri::placeholders(&r.value) {
                if !args.iter().any(|a| a.0 == var) {
                    p.at(
                        &r.referenced,
                        format!("{mpath}.resource"),
                        format!("placeholder `{{{var}}}` is not an argument of this prompt"),
                    );
                }
            }
            let known = resources.iter().any(|res| res.uri == r.value);
            if !known {
                p.at(
                    &r.referenced,
                    format!("{mpath}.resource"),
                    format!(
                        "`{}` is not the URI of a resource in these mappings",
                        r.value
                    ),
                );
            }
        }
        messages.push(PromptMessage {
            role: m.role,
            text: m.text.value.clone(),
            resource: m.resource.as_ref().map(|r| r.value.clone()),
        });
    }
    Prompt {
        name: name.to_string(),
        title: d.title.clone(),
        description: d.description.clone(),
        arguments: args,
        messages,
        allow: d.allow.clone(),
    }
}
