//! Keys an entry's kind did not take: another kind's (an ODBC `connection_string` on an mssql
//! source, a flat-file `table:` on a SQL tool, which would otherwise be silently ignored), or
//! no kind's (a typo, with the closest key). One room for sources and tools alike.

use crate::backend::KINDS;
use crate::backend::kind::Kind;
use crate::mapping::kind_keys::{KeyAt, KindKeys, fields};
use crate::mapping::load::{FileProblems, unknown_key};
use crate::mapping::model::{SourceDef, ToolDef};

/// Whose keys are checked: a source of a kind, or a tool on a source of a kind. The kind is
/// `None` when it is unknown (a source's `kind:` left out or misspelt, a tool's source unknown
/// or broken): then only keys of no kind are named.
pub(super) enum Owner<'a> {
    Source(Option<&'static Kind>),
    Tool {
        source: &'a str,
        kind: Option<&'static Kind>,
    },
}

/// Name each key of the entry that neither the first reading nor its kind took.
pub(super) fn refuse_keys(keys: &KindKeys<'_>, owner: Owner<'_>, p: &mut FileProblems<'_>) {
    let here = keys.here();
    for key in keys.rest() {
        refuse(&key, &here, &owner, p);
    }
}

fn refuse(k: &KeyAt, here: &str, owner: &Owner<'_>, p: &mut FileProblems<'_>) {
    let key = k.name.as_str();
    let of_tools = matches!(owner, Owner::Tool { .. });
    let keys_of = |k: &Kind| {
        if of_tools {
            (k.tool_keys)()
        } else {
            (k.keys)()
        }
    };
    let owners: Vec<&str> = KINDS
        .iter()
        .filter(|k| keys_of(k).contains(&key))
        .map(|k| k.name)
        .collect();
    let message = match owner {
        _ if owners.is_empty() => {
            let first = if of_tools {
                fields::<ToolDef>()
            } else {
                fields::<SourceDef>()
            };
            let kind_keys: Vec<&str> = match owner {
                Owner::Source(Some(kind))
                | Owner::Tool {
                    kind: Some(kind), ..
                } => keys_of(kind),
                // Without a kind, every kind's keys are candidates for "did you mean".
                Owner::Source(None) | Owner::Tool { kind: None, .. } => {
                    KINDS.iter().flat_map(keys_of).collect()
                }
            };
            let mut expected = [first, &kind_keys].concat();
            let mut seen = std::collections::HashSet::new();
            expected.retain(|k| seen.insert(*k));
            // A misspelt key is pointed at itself, as serde points at any unknown key.
            p.at(&k.key, format!("{here}.{key}"), unknown_key(key, &expected));
            return;
        }
        // A tool whose source is unknown is already a problem; its kind's keys are not judged.
        Owner::Source(None) | Owner::Tool { kind: None, .. } => return,
        Owner::Source(Some(kind)) => format!(
            "`{key}` does not apply to {} {} source (it is for {}); remove it",
            article(kind.name),
            kind.name,
            and_list(&owners)
        ),
        Owner::Tool {
            source,
            kind: Some(kind),
        } => format!(
            "`{key}` does not apply to a tool on source `{source}` (kind {}); it is for tools on {} sources",
            kind.name,
            and_list(&owners)
        ),
    };
    // Another kind's key is pointed at its value, as other problems about a given value are.
    p.at(&k.value, format!("{here}.{key}"), message);
}

/// `a` or `an` before a kind's name, as it is read aloud (an odbc, an mssql, a soap).
fn article(name: &str) -> &'static str {
    if matches!(name.chars().next(), Some('a' | 'e' | 'i' | 'o' | 'u' | 'm')) {
        "an"
    } else {
        "a"
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
