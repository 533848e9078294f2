//! The catalogue: every mapping file of a directory merged and compiled into ready-to-run
//! tools, resources and prompts. Compilation does no backend I/O and collects every problem
//! (duplicates across files, dangling references, layout mistakes) before giving up.
//!
//! - `types.rs`    what a catalogue holds: `Catalog`, `Tool`, `Resource`, `Prompt`
//! - `names.rs`    valid names, each defined once
//! - `source.rs`   sources, compiled by their kind
//! - `tool.rs`     tools, compiled by their source's kind, then checked alike
//! - `resource.rs` resources and prompts

mod keys;
mod names;
mod resource;
mod source;
mod tool;
mod types;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use serde_saphyr::Location;

use crate::mapping::kind_keys::FileKeys;
use crate::mapping::load::{self, FileProblems, LoadedFile, Problem};
use crate::mapping::model::MappingFile;

use names::Seen;
use resource::{compile_prompt, compile_resource};
use source::compile_source;
use tool::compile_tool;
// What a catalogue holds lives below the compilers that build it.
pub use types::{
    Catalog, DEFAULT_LIMIT, DEFAULT_MAX_RESULT_BYTES, MAX_LIMIT, Prompt, PromptMessage, Resource,
    Tool, ToolHints,
};

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
                crate::mapping::mask::compile(name, def, &f.dir, &mut cat.masking, &mut p);
            }
        }
    }
    // What each kind reads of a file's sources and tools, read once per file.
    let kind_keys: Vec<FileKeys> = files.iter().map(|f| FileKeys::new(&f.text)).collect();
    // Then sources: tools in any file may name a source from any other file.
    for (f, keys) in files.iter().zip(&kind_keys) {
        let mut p = FileProblems {
            file: f.path.clone(),
            out: problems,
        };
        for (name, def) in &f.mapping.sources {
            if seen.first("sources", name, &f.path, &def.referenced, &mut p) {
                let src = compile_source(name, def, keys, &f.dir, &cat.masking, &mut p);
                cat.sources.insert(name.clone(), src);
            }
        }
    }
    for (f, keys) in files.iter().zip(&kind_keys) {
        let mut p = FileProblems {
            file: f.path.clone(),
            out: problems,
        };
        for (name, def) in &f.mapping.tools {
            if seen.first("tools", name, &f.path, &def.referenced, &mut p)
                && let Some(tool) =
                    compile_tool(name, def, keys, &f.dir, &cat.sources, &cat.masking, &mut p)
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
