//! Names agents type: valid characters, and each name defined once across all files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_saphyr::Location;

use crate::mapping::load::FileProblems;

/// Where a name was first defined, to report duplicates naming both files.
#[derive(Default)]
pub(super) struct Seen(HashMap<(&'static str, String), (PathBuf, u64, u64)>);

impl Seen {
    pub(super) fn first(
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

pub(super) fn singular(section: &str) -> &str {
    section.strip_suffix('s').unwrap_or(section)
}

/// Tool, resource and prompt names are what agents type: keep them to MCP's safe characters.
pub(super) fn check_name(name: &str, loc: &Location, path: &str, p: &mut FileProblems<'_>) {
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
