//! The catalogue: every mapping file of a directory merged and compiled into ready-to-run
//! tools, resources and prompts. Compilation does no backend I/O and collects every problem
//! (duplicates across files, dangling references, layout mistakes) before giving up.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{Map, Value as Json};
use serde_saphyr::{Location, Spanned};

use crate::backend::Source;
use crate::backend::kind::{CompiledTool, Plan, ToolSpec, Writes, list};
use crate::mapping::load::{self, FileProblems, LoadedFile, Problem};
use crate::mapping::model::{
    Annotations, ConfirmRule, MappingFile, PromptDef, ResourceDef, Role, SourceDef, SourceKind,
    ToolDef,
};
use crate::mapping::params::{self, Param};
use crate::mapping::shape::{self, Shape};
use crate::mask::{Policies, Policy};
use crate::uri::UriTemplate;

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
    pub plan: Box<dyn Plan>,
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
            if seen.first("sources", name, &f.path, &def.referenced, &mut p) {
                let src = compile_source(name, def, &f.dir, &mut p);
                cat.sources.insert(name.clone(), src);
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
) -> Arc<Source> {
    check_name(name, &def.referenced, &format!("sources.{name}"), p);
    check_source_keys(name, &def.value, p);
    crate::backend::compiler(def.value.kind.value)(name, &def.value, dir, p)
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
    let spec = ToolSpec {
        def: d,
        params: &params,
        dir,
        policies,
        here: &here,
    };
    let compiled = src.clone().compile_tool(&spec, p)?;
    let max_rows = src.max_rows().unwrap_or(MAX_LIMIT);
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
    let shape = shape::compile(d.result.as_ref(), &compiled.fields, policies, &here, p);
    let writes = check_writes(d, compiled.writes.as_ref(), &here, p);
    check_oracles(d, &compiled, &shape, p);
    let mut plan = compiled.plan;
    // Values of masked fields are never quoted in backend errors (a value that does not parse).
    plan.withhold(&shape.masked_fields());
    let input_schema = params::input_schema(&params, !shape.one);
    let output_schema = output_schema(&shape);
    Some(Tool {
        name: name.to_string(),
        title: d.title.clone(),
        description: d.description.value.clone(),
        params,
        plan,
        source: d.source.value.clone(),
        subject: compiled.subject,
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
fn check_writes(d: &ToolDef, kind: Option<&Writes>, here: &str, p: &mut FileProblems<'_>) -> bool {
    // A kind that cannot write (flat files) refuses `allow_writes` and `confirm` itself.
    let Some(Writes {
        by_content,
        at,
        vouchable,
    }) = kind
    else {
        return false;
    };
    let (by_content, vouchable) = (by_content.clone(), *vouchable);
    let writes = by_content.is_some()
        || d.annotations.read_only == Some(false)
        || d.allow_writes == Some(true);
    if writes && d.allow_writes != Some(true) {
        let why = by_content.unwrap_or_else(|| "the tool is annotated `read_only: false`".into());
        p.at(
            at,
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
            at,
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
fn check_oracles(d: &ToolDef, compiled: &CompiledTool, shape: &Shape, p: &mut FileProblems<'_>) {
    let mut masks: Vec<(usize, Arc<Policy>)> = shape.masks();
    masks.extend(compiled.source_masks.iter().cloned());
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
    for o in &compiled.oracles {
        if let Some(policy) = hidden(o.field) {
            p.at(
                &d.source.referenced,
                o.path.clone(),
                format!(
                    "{} is masked by policy `{}` for some callers of this tool: {} would answer questions about the hidden value (a prefix spells it out, a bound bisects it, an order ranks it); use `equals`, or allow the tool only to roles in the policy's `unmasked_for`",
                    o.what, policy.name, o.how
                ),
            );
        }
    }
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
        None => tool.plan.default_watch(),
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
