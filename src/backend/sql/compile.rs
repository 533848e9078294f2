//! A tool on a SQL source (ODBC or SQL Server alike): the statement's parameters checked
//! against the tool's, the declared result columns and keyset, and the plan that binds a
//! call's values into a `SqlQuery` for the source to run; the `Backend` both SQL kinds share,
//! from what each gives (`SqlSource`).

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::introspect::TableInfo;
use super::{Column, SqlError, SqlQuery, Statement};
use indexmap::IndexMap;
use serde_saphyr::Spanned;

use super::keys::{SqlToolGroups, SqlToolKeys};
use crate::backend::kind::{
    self, Backend, Call, CompiledTool, Oracle, Plan, ToolSpec, WriteKeys, Writes, list,
};
use crate::backend::rows::RowSet;
use crate::mapping::kind_keys::{Groups, KindKeys};
use crate::mapping::load::FileProblems;
use crate::mapping::mask::Policies;
use crate::mapping::model::{ColumnDef, FieldType, ParamType};
use crate::mapping::shape::{self, Fields, SourceField};
use crate::value::Value;

/// What a SQL kind (ODBC, SQL Server) gives: its pool, a bound query run on one of its
/// connections, a table described. The `Backend` of every SQL kind is written once from it,
/// below.
pub trait SqlSource: Send + Sync + 'static {
    fn kind(&self) -> &'static str;
    /// The source's `max_rows`.
    fn max_rows(&self) -> u32;
    fn pool_usage(&self) -> Option<(usize, usize)>;
    fn probe(&self) -> BoxFuture<'_, Result<(), SqlError>>;
    fn run_sql(&self, q: SqlQuery) -> BoxFuture<'_, Result<RowSet, SqlError>>;
    fn describe<'a>(&'a self, table: &'a str) -> BoxFuture<'a, Result<TableInfo, SqlError>>;
}

impl<T: SqlSource> Backend for T {
    fn kind(&self) -> &'static str {
        SqlSource::kind(self)
    }

    fn max_rows(&self) -> Option<u32> {
        Some(SqlSource::max_rows(self))
    }

    fn pool_usage(&self) -> Option<(usize, usize)> {
        SqlSource::pool_usage(self)
    }

    fn probe(&self) -> BoxFuture<'_, Result<(), String>> {
        let probing = SqlSource::probe(self);
        async move { probing.await.map_err(|e| e.to_string()) }.boxed()
    }

    fn compile_tool(
        self: Arc<Self>,
        t: &ToolSpec<'_>,
        keys: &mut KindKeys<'_>,
        p: &mut FileProblems<'_>,
    ) -> Option<CompiledTool> {
        let kind = SqlSource::kind(self.as_ref());
        let (k, w) = SqlToolGroups::read(keys, p)?;
        tool(self, kind, t, &k, w, p)
    }

    fn describe<'a>(&'a self, table: &'a str) -> Option<BoxFuture<'a, Result<TableInfo, String>>> {
        let describing = SqlSource::describe(self, table);
        Some(async move { describing.await.map_err(|e| e.to_string()) }.boxed())
    }
}

/// A SQL statement with named parameters and declared result columns.
pub struct SqlPlan {
    pub source: Arc<dyn SqlSource>,
    pub statement: Arc<Statement>,
    pub columns: Arc<[Column]>,
    /// Keyset columns (indexes into `columns`).
    pub key: Vec<usize>,
}

impl Plan for SqlPlan {
    fn request(&self, call: &Call<'_>) -> BoxFuture<'static, Result<RowSet, String>> {
        let mut params = HashMap::new();
        let mut idents = HashMap::new();
        let ident_names = self.statement.idents();
        for p in call.params {
            // An optional parameter the caller left out is bound as NULL.
            let v = call.bound.get(&p.name).cloned().unwrap_or(Value::Null);
            if ident_names.contains(&p.name.as_str()) {
                idents.insert(p.name.clone(), v.to_text());
            }
            params.insert(p.name.clone(), v);
        }
        let query = SqlQuery {
            statement: self.statement.clone(),
            idents,
            params,
            columns: self.columns.clone(),
            key: self.key.clone(),
            after: call.after.clone(),
            offset: call.offset,
            limit: call.limit,
        };
        let source = self.source.clone();
        async move { source.run_sql(query).await.map_err(|e| e.to_string()) }.boxed()
    }

    fn keyset(&self) -> Option<(&[Column], &[usize])> {
        (!self.key.is_empty()).then_some((&self.columns[..], &self.key[..]))
    }

    fn withhold(&mut self, masked: &[usize]) {
        self.columns = kind::withhold(&self.columns, masked);
    }
}

/// Compile a tool on a SQL source of kind `kind` whose most rows per call are `max_rows`.
pub fn tool(
    source: Arc<dyn SqlSource>,
    kind: &'static str,
    t: &ToolSpec<'_>,
    k: &SqlToolKeys,
    w: WriteKeys,
    p: &mut FileProblems<'_>,
) -> Option<CompiledTool> {
    let (d, here) = (t.def, t.here);
    kind::reject_arrays(t, kind, p);
    let plan = compile_sql(source, kind, t, k, p)?;
    let fields = column_fields(&plan.columns, &[], &k.columns, t.policies, here, p);
    let statement = &plan.statement;
    let vouched_read = d.annotations.read_only == Some(true);
    let by_content = statement
        .change()
        .filter(|_| !(vouched_read && statement.procedure))
        .map(|why| format!("the SQL is not a plain query: {why}"));
    let writes = Writes {
        // Only a procedure call can be vouched for as a read; an `UPDATE` cannot.
        vouchable: statement.procedure || by_content.is_none(),
        by_content,
        at: k.sql.as_ref().map_or(d.source.referenced, |s| s.referenced),
        keys: w,
    };
    let oracles = plan
        .key
        .iter()
        .map(|&i| Oracle {
            field: i,
            what: format!("key column `{}`", plan.columns[i].name),
            how: "paging by it",
            path: format!("{here}.key"),
        })
        .collect();
    Some(CompiledTool {
        fields,
        subject: format!("source `{}`", d.source.value),
        writes: Some(writes),
        oracles,
        source_masks: Vec::new(),
        plan: Box::new(plan),
    })
}

/// A SQL tool: the statement's parameters must be the tool's, identifier fragments must come
/// from an `enum` parameter's allow-list, and result columns are declared with their types.
fn compile_sql(
    source: Arc<dyn SqlSource>,
    kind: &'static str,
    t: &ToolSpec<'_>,
    k: &SqlToolKeys,
    p: &mut FileProblems<'_>,
) -> Option<SqlPlan> {
    let (d, params, here) = (t.def, t.params, t.here);
    let Some(sql) = &k.sql else {
        p.at(
            &d.source.referenced,
            here,
            format!(
                "a tool on {} source `{}` needs `sql:` (a query with `:name` parameters)",
                kind, d.source.value
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
    if k.columns.is_empty() {
        p.at(
            &sql.referenced,
            format!("{here}.columns"),
            "list the result `columns:` with their types (`legacy-mcp introspect` writes them for a table)",
        );
        return None;
    }
    for (name, c) in &k.columns {
        if c.value.path.is_some() || c.value.repeated || c.value.fields.is_some() {
            p.at(
                &c.referenced,
                format!("{here}.columns.{name}"),
                "`path`, `repeated` and `fields` apply to columns of a soap tool; a SQL column is named by the query",
            );
        }
    }
    let columns: Arc<[Column]> = k
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
    for name in &k.key {
        match columns.iter().position(|c| c.name == name.value) {
            Some(i) => key.push(i),
            None => p.at(
                &name.referenced,
                format!("{here}.key"),
                format!("key `{}` is not one of the tool's `columns`", name.value),
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
    Some(SqlPlan {
        source,
        statement: Arc::new(statement),
        columns,
        key,
    })
}

/// A tool's declared `columns:` as the fields its rows carry, with their masks.
pub fn column_fields(
    columns: &[Column],
    repeated: &[bool],
    defs: &IndexMap<String, Spanned<ColumnDef>>,
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
                mask: defs
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
