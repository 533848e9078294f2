//! A tool on a SOAP source: the declared operation and the projection of its answer into
//! columns (the `Backend` implementation of `kind: soap`), and the plan that binds a call's
//! values into a `SoapQuery`.

use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::keys::SoapToolKeys;
use super::{Operation, SoapQuery, SoapSource};
use crate::backend::kind::{self, Backend, Call, CompiledTool, Plan, SourceKind, ToolSpec, Writes};
use crate::backend::rows::RowSet;
use crate::backend::sql::compile::column_fields;
use crate::mapping::kind_keys::{Groups, KindKeys};
use crate::mapping::load::FileProblems;
use crate::mapping::mask::Policies;
use crate::mapping::shape::{self, Fields};

/// A declared operation on one source.
pub struct SoapPlan {
    pub source: Arc<SoapSource>,
    pub op: Arc<Operation>,
}

impl Plan for SoapPlan {
    fn request(&self, call: &Call<'_>) -> BoxFuture<'static, Result<RowSet, String>> {
        let params = call
            .bound
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let query = SoapQuery {
            op: self.op.clone(),
            params,
            offset: call.offset,
            limit: call.limit,
        };
        let source = self.source.clone();
        async move { source.run(query).await.map_err(|e| e.to_string()) }.boxed()
    }

    fn withhold(&mut self, masked: &[usize]) {
        let op = Arc::get_mut(&mut self.op).expect("the plan is not shared while compiling");
        op.columns = kind::withhold(&op.columns, masked);
    }
}

impl Backend for SoapSource {
    fn kind(&self) -> &'static str {
        "soap"
    }

    fn probe(&self) -> BoxFuture<'_, Result<(), String>> {
        SoapSource::probe(self).boxed()
    }

    fn compile_tool(
        self: Arc<Self>,
        t: &ToolSpec<'_>,
        keys: &mut KindKeys<'_>,
        p: &mut FileProblems<'_>,
    ) -> Option<CompiledTool> {
        let d = t.def;
        let (k, w) = <super::config::Soap as SourceKind>::ToolKeys::read(keys, p)?;
        let op = super::config::operation(d, &k, &self.settings, t.params, t.dir, t.here, p)?;
        let fields = soap_fields(&op, &k, t.policies, t.here, p);
        let vouched_read = d.annotations.read_only == Some(true);
        let writes = Writes {
            by_content: (!vouched_read && super::config::name_says_write(&op.element))
                .then(|| format!("operation `{}` changes data by its name", op.element)),
            at: k
                .operation
                .as_ref()
                .map_or(d.source.referenced, |o| o.referenced),
            vouchable: true,
            keys: w,
        };
        Some(CompiledTool {
            fields,
            subject: format!("source `{}`", d.source.value),
            writes: Some(writes),
            oracles: Vec::new(),
            source_masks: Vec::new(),
            plan: Box::new(SoapPlan {
                source: self,
                op: Arc::new(op),
            }),
        })
    }
}

fn soap_fields(
    op: &Operation,
    k: &SoapToolKeys,
    policies: &Policies,
    here: &str,
    p: &mut FileProblems<'_>,
) -> Fields {
    let repeated: Vec<bool> = op.fields.iter().map(|f| f.repeated).collect();
    let mut fields = column_fields(&op.columns, &repeated, &k.columns, policies, here, p);
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
