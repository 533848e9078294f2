//! A tool on a flat-file source: its table, `where:` filters and `order_by` compiled against
//! the table's fields (the `Backend` implementation of `kind: flatfile`), and the plan that
//! binds a call's values into a `Query` over the table.

use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use serde_json::Value as Json;
use serde_saphyr::Location;

use super::keys::FlatfileToolKeys;
use super::{FlatfileSource, Table};
use crate::backend::kind::{
    self, Backend, Call, CompiledTool, Oracle, Plan, SourceKind, ToolSpec, list,
};
use crate::backend::rows::{Filter, Op, Query, RowSet};
use crate::mapping::kind_keys::{Groups, KindKeys};
use crate::mapping::load::FileProblems;
use crate::mapping::mask::Policies;
use crate::mapping::model::{Condition, FieldType, Operand, ParamType, ToolDef};
use crate::mapping::params::{self, Param};
use crate::mapping::shape::{self, Fields, SourceField};
use crate::value::Value;

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

/// Filters and order over one table.
pub struct FlatPlan {
    pub table: Arc<Table>,
    pub filters: Vec<FilterSpec>,
    pub order: Vec<(usize, bool)>,
}

impl Plan for FlatPlan {
    fn request(&self, call: &Call<'_>) -> BoxFuture<'static, Result<RowSet, String>> {
        let filters = self
            .filters
            .iter()
            .filter_map(|f| {
                let value = match &f.operand {
                    Bound::Literal(v) => v.clone(),
                    // An optional parameter the caller left out switches its filter off.
                    Bound::Param(p) => call.bound.get(p)?.clone(),
                };
                Some(Filter {
                    field: f.field,
                    op: f.op,
                    value,
                })
            })
            .collect();
        let query = Query {
            filters,
            order: self.order.clone(),
            offset: call.offset,
            limit: call.limit,
        };
        let table = self.table.clone();
        async move { super::run(table, query).await.map_err(|e| e.to_string()) }.boxed()
    }

    fn peek_version(&self) -> Option<String> {
        Some(super::reader::peek_version(&self.table))
    }

    /// Looking at an export is a `stat`: cheap enough to do every two seconds.
    fn default_watch(&self) -> Option<std::time::Duration> {
        Some(std::time::Duration::from_secs(2))
    }

    fn withhold(&mut self, masked: &[usize]) {
        for &i in masked {
            self.table.fields[i].withhold();
        }
    }
}

impl Backend for FlatfileSource {
    fn kind(&self) -> &'static str {
        "flatfile"
    }

    fn probe(&self) -> BoxFuture<'_, Result<(), String>> {
        FlatfileSource::probe(self).boxed()
    }

    fn compile_tool(
        self: Arc<Self>,
        t: &ToolSpec<'_>,
        keys: &mut KindKeys<'_>,
        p: &mut FileProblems<'_>,
    ) -> Option<CompiledTool> {
        let (d, here) = (t.def, t.here);
        kind::reject_arrays(t, "flatfile", p);
        let (k,) = <super::config::Flatfile as SourceKind>::ToolKeys::read(keys, p)?;
        let table = find_table(d, &k, &self, here, p)?;
        let filters = compile_filters(&k, &table, t.params, here, p);
        let order = compile_order(&k, &table, here, p);
        let source_masks = table
            .fields
            .iter()
            .enumerate()
            .filter_map(|(i, f)| Some((i, t.policies.get(f.mask.as_ref()?)?.clone())))
            .collect();
        Some(CompiledTool {
            fields: table_fields(&table, t.policies),
            subject: format!("`{}`", table.name),
            writes: None,
            oracles: oracles(&table, &filters, &order, here),
            source_masks,
            plan: Box::new(FlatPlan {
                table,
                filters,
                order,
            }),
        })
    }
}

/// Filters other than `equals`, and the order: each answers questions about a field's value.
fn oracles(
    table: &Table,
    filters: &[FilterSpec],
    order: &[(usize, bool)],
    here: &str,
) -> Vec<Oracle> {
    const HOW: &str = "filtering or ordering by it";
    let filtered = filters.iter().filter(|f| f.op != Op::Equals).map(|f| {
        let name = &table.fields[f.field].name;
        Oracle {
            field: f.field,
            what: format!("field `{name}` (filtered with `{}`)", f.op.name()),
            how: HOW,
            path: format!("{here}.where.{name}"),
        }
    });
    let ordered = order.iter().map(|&(i, _)| Oracle {
        field: i,
        what: format!("field `{}` (in `order_by`)", table.fields[i].name),
        how: HOW,
        path: format!("{here}.order_by"),
    });
    filtered.chain(ordered).collect()
}

fn find_table(
    d: &ToolDef,
    k: &FlatfileToolKeys,
    ff: &FlatfileSource,
    here: &str,
    p: &mut FileProblems<'_>,
) -> Option<Arc<Table>> {
    let Some(table) = &k.table else {
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

fn field_names(t: &Table) -> String {
    t.fields
        .iter()
        .map(|f| f.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn compile_filters(
    d: &FlatfileToolKeys,
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
    d: &FlatfileToolKeys,
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
