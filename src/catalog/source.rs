//! Sources: each compiled by its kind (`backend::KINDS`), which reads its own keys; a key the
//! kind does not take is named by `keys.rs`.

use std::path::Path;
use std::sync::Arc;

use serde_saphyr::Spanned;

use super::keys::{Owner, refuse_keys};
use super::names::check_name;
use futures_util::future::BoxFuture;

use crate::backend::kind::{Backend, CompiledTool, SourceSpec, ToolSpec};
use crate::backend::{KINDS, Source};
use crate::mapping::kind_keys::{FileKeys, KindKeys};
use crate::mapping::load::FileProblems;
use crate::mapping::mask::Policies;
use crate::mapping::model::{SourceDef, left_out};

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
    let mut keys = KindKeys::source(file, name);
    let Some(kind) = crate::backend::kind(&kind_name.value) else {
        let kinds: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
        if left_out(kind_name) {
            p.at(
                &def.referenced,
                format!("sources.{name}"),
                format!("a source needs `kind:`, one of {}", kinds.join(", ")),
            );
        } else {
            p.at(
                &kind_name.referenced,
                format!("sources.{name}.kind"),
                format!(
                    "unknown source kind `{}`; use one of {}",
                    kind_name.value,
                    kinds.join(", ")
                ),
            );
        }
        refuse_keys(&keys, Owner::Source(None), p);
        return Arc::new(Unusable);
    };
    let spec = SourceSpec {
        name,
        def: &def.value,
        dir,
        policies,
    };
    let source = (kind.compile)(&spec, &mut keys, p);
    refuse_keys(&keys, Owner::Source(Some(kind)), p);
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
        _: &mut KindKeys<'_>,
        _: &mut FileProblems<'_>,
    ) -> Option<CompiledTool> {
        None
    }
}
