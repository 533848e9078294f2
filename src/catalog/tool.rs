//! Tools: compiled by their source's kind (`kind::Backend::compile_tool`), then checked the
//! same way for every kind: limit, result shape and masks, the write rules, masked fields that a
//! filter or order would reveal, and the input and output schemas.

use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{Map, Value as Json};
use serde_saphyr::Spanned;

use super::keys::{Owner, refuse_keys};
use super::names::check_name;
use super::types::{DEFAULT_LIMIT, DEFAULT_MAX_RESULT_BYTES, MAX_LIMIT};
use super::types::{Tool, ToolHints};
use crate::backend::Source;
use crate::backend::kind::{CompiledTool, ToolSpec, Writes, list};
use crate::mapping::kind_keys::{FileKeys, KindKeys};
use crate::mapping::load::FileProblems;
use crate::mapping::mask::{Policies, Policy};
use crate::mapping::model::{Annotations, ConfirmRule, ToolDef, left_out};
use crate::mapping::params::{self, Param};
use crate::mapping::shape::{self, Shape};

pub(super) fn compile_tool(
    name: &str,
    def: &Spanned<ToolDef>,
    file: &FileKeys<'_>,
    dir: &Path,
    sources: &IndexMap<String, Arc<Source>>,
    policies: &Policies,
    p: &mut FileProblems<'_>,
) -> Option<Tool> {
    let here = format!("tools.{name}");
    let d = &def.value;
    check_name(name, &def.referenced, &here, p);
    if left_out(&d.description) {
        p.at(
            &def.referenced,
            &here,
            "a tool needs `description:`: what it returns and when to use it (agents read it to choose a tool)",
        );
    } else if d.description.value.trim().is_empty() {
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
    let src = if left_out(&d.source) {
        p.at(
            &def.referenced,
            &here,
            "a tool needs `source:`, the name of the source it reads from",
        );
        None
    } else {
        find_source(d, sources, &here, p)
    };
    let spec = ToolSpec {
        def: d,
        params: &params,
        dir,
        policies,
        here: &here,
    };
    let mut keys = KindKeys::tool(file, name);
    let compiled = src.and_then(|s| s.clone().compile_tool(&spec, &mut keys, p));
    let kind = src.and_then(|s| crate::backend::kind(s.kind()));
    let owner = Owner::Tool {
        source: &d.source.value,
        kind,
    };
    refuse_keys(&keys, owner, p);
    let (src, compiled) = (src?, compiled?);
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
    let compiled_confirm = compiled
        .writes
        .as_ref()
        .and_then(|w| w.keys.confirm.as_ref())
        .map_or(ConfirmRule::default(), |c| c.value);
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
        confirm: compiled_confirm,
        allow: d.allow.clone(),
        input_schema,
        output_schema,
    })
}

/// A write is annotated as such whatever the mapping's hints say: clients decide on them
/// whether to ask the user first.
pub(super) fn hints(a: &Annotations, writes: bool) -> ToolHints {
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
pub(super) fn check_writes(
    d: &ToolDef,
    kind: Option<&Writes>,
    here: &str,
    p: &mut FileProblems<'_>,
) -> bool {
    // A kind that cannot write (flat files) does not read `allow_writes` and `confirm`: they
    // are named as keys of other kinds.
    let Some(Writes {
        by_content,
        at,
        vouchable,
        keys,
    }) = kind
    else {
        return false;
    };
    let (by_content, vouchable) = (by_content.clone(), *vouchable);
    let writes = by_content.is_some()
        || d.annotations.read_only == Some(false)
        || keys.allow_writes == Some(true);
    if writes && keys.allow_writes != Some(true) {
        let why = by_content.unwrap_or_else(|| "the tool is annotated `read_only: false`".into());
        p.at(
            at,
            format!("{here}.allow_writes"),
            format!("{why}: a tool that writes must say `allow_writes: true` (it is then annotated destructive and never cached or retried){}", if vouchable { "; if it only reads, annotate `read_only: true`" } else { "" }),
        );
    }
    if let Some(c) = keys.confirm.as_ref().filter(|_| !writes) {
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

pub(super) fn find_source<'a>(
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

/// A filter, an order or a paging key on a masked field answers questions about the value it
/// hides: `starts_with` spells out a masked e-mail letter by letter, `min` bisects a redacted
/// credit limit to the cent, an order ranks it. `check` refuses them on a field masked for
/// anyone who may call the tool (the tool's `allow:` roles all lift the policy, or there is
/// no such caller). An `equals` filter is allowed: it confirms a value the caller already holds
/// and cannot enumerate one.
pub(super) fn check_oracles(
    d: &ToolDef,
    compiled: &CompiledTool,
    shape: &Shape,
    p: &mut FileProblems<'_>,
) {
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
pub(super) fn output_schema(shape: &Shape) -> Map<String, Json> {
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
