//! Sources: each compiled by its kind (`backend::KINDS`), which reads its own keys; a key no
//! group of the kind declares is named here, with the kinds it belongs to.

use std::path::Path;
use std::sync::Arc;

use serde_saphyr::{Location, Spanned};

use super::names::check_name;
use futures_util::future::BoxFuture;

use crate::backend::kind::{Backend, CompiledTool, SourceSpec, ToolSpec};
use crate::backend::{KINDS, Source};
use crate::mapping::load::{FileProblems, unknown_key};
use crate::mapping::mask::Policies;
use crate::mapping::model::SourceDef;
use crate::mapping::source_keys::{COMMON, FileKeys, SourceKeys};

/// Compile the source `name` of `file`. When its kind is unknown or its
/// keys did not parse (each said in `p`), the source is `Unusable`: tools naming it are not
/// also told it does not exist.
pub(super) fn compile_source(
    name: &str,
    def: &Spanned<SourceDef>,
    file: &FileKeys<'_>,
    dir: &Path,
    policies: &Policies,
    p: &mut FileProblems<'_>,
) -> Arc<Source> {
    check_name(name, &def.referenced, &format!("sources.{name}"), p);
    let kind_name = &def.value.kind;
    let Some(kind) = crate::backend::kind(&kind_name.value) else {
        let kinds: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
        p.at(
            &kind_name.referenced,
            format!("sources.{name}.kind"),
            format!(
                "unknown source kind `{}`; use one of {}",
                kind_name.value,
                kinds.join(", ")
            ),
        );
        return Arc::new(Unusable);
    };
    let mut keys = SourceKeys::new(file, name);
    let spec = SourceSpec {
        name,
        def: &def.value,
        dir,
        policies,
    };
    let source = (kind.compile)(&spec, &mut keys, p);
    for (key, at) in keys.rest() {
        refuse_key(name, kind.name, &key, &at, p);
    }
    source.unwrap_or_else(|| Arc::new(Unusable))
}

/// A source whose mapping did not compile. It never serves: a catalogue with problems is
/// refused; it only stands in so that its tools are checked without a false "unknown source".
struct Unusable;

impl Backend for Unusable {
    fn kind(&self) -> &'static str {
        "unusable"
    }
    fn probe(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async { Err("the source's mapping has problems (see `check`)".to_string()) })
    }
    fn compile_tool(
        self: Arc<Self>,
        _: &ToolSpec<'_>,
        _: &mut FileProblems<'_>,
    ) -> Option<CompiledTool> {
        None
    }
}

/// A key the source's kind does not take: another kind's (an ODBC `connection_string` on an
/// mssql source would otherwise be silently ignored), or no kind's (a typo).
fn refuse_key(name: &str, kind: &str, key: &str, at: &Location, p: &mut FileProblems<'_>) {
    let owners: Vec<&str> = KINDS
        .iter()
        .filter(|k| (k.keys)().contains(&key))
        .map(|k| k.name)
        .collect();
    let message = if owners.is_empty() {
        let kind = crate::backend::kind(kind).expect("a listed kind");
        let expected: Vec<&str> = COMMON.iter().copied().chain((kind.keys)()).collect();
        unknown_key(key, &expected)
    } else {
        let article = if matches!(kind.chars().next(), Some('o' | 'm')) {
            "an"
        } else {
            "a"
        };
        format!(
            "`{key}` does not apply to {article} {kind} source (it is for {}); remove it",
            owners.join(" and ")
        )
    };
    p.at(at, format!("sources.{name}.{key}"), message);
}
