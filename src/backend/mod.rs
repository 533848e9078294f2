//! Backends: the kinds of source a mapping can name, and the query shape they answer.
//!
//! Each kind lives in its own folder and implements `kind::Backend` (compile a tool, probe,
//! describe), `kind::SourceKind` (its keys, in its `keys.rs`) and `kind::Plan` (bind a call into its request); the catalogue and the pipeline
//! call those without naming the kind. `KINDS` below lists them. Flat files answer a
//! `Query` (filters and order the adapter evaluates), SQL kinds a `sql::SqlQuery` (the mapping's
//! statement with bound values); both give a `RowSet`, so shaping and (later) caching and
//! masking are written once. SOAP sources answer a `soap::SoapQuery` (a declared operation
//! with bound values) with the same `RowSet`.

pub mod abandon;
pub mod connect;
pub mod flatfile;
pub mod kind;
pub mod mssql;
pub mod odbc;
pub mod rows;
pub mod soap;
pub mod sql;

// The query shape and row set every kind shares live in `rows`, below the kinds.
pub use rows::{Filter, Op, Query, RowSet, scrub};

use indexmap::IndexMap;

/// A configured source of any kind, ready to compile tools and answer their calls.
pub type Source = dyn kind::Backend;

/// The source kinds. Adding a kind is a folder beside these that implements
/// `kind::SourceKind` and `kind::Backend`, and a line here.
pub const KINDS: &[kind::Kind] = &[
    kind::Kind::of::<flatfile::config::Flatfile>(),
    kind::Kind::of::<odbc::config::Odbc>(),
    kind::Kind::of::<mssql::config::Mssql>(),
    kind::Kind::of::<soap::config::Soap>(),
];

/// The kind written as `kind: <name>`.
pub fn kind(name: &str) -> Option<&'static kind::Kind> {
    KINDS.iter().find(|k| k.name == name)
}

/// The JSON Schema of a source: one alternative per kind, each with exactly its keys.
pub fn source_schema(g: &mut schemars::SchemaGenerator) -> serde_json::Value {
    let common = <crate::mapping::model::SourceDef as schemars::JsonSchema>::json_schema(g);
    let common = common.get("properties").cloned().unwrap_or_default();
    let kinds = KINDS.iter().map(|k| {
        let mut properties = common.as_object().cloned().unwrap_or_default();
        properties.insert(
            "kind".into(),
            serde_json::json!({ "const": k.name, "description": "The kind of source." }),
        );
        properties.extend((k.properties)(g));
        serde_json::json!({
            "title": format!("kind: {}", k.name),
            "type": "object",
            "properties": properties,
            "required": ["kind"],
            "additionalProperties": false,
        })
    });
    serde_json::json!({
        "description": "A backend. `kind` picks which keys apply.",
        "oneOf": kinds.collect::<Vec<_>>(),
    })
}

/// The JSON Schema properties of a tool's keys that its source's kind reads: every kind's,
/// each described with the kinds it applies to (a tool does not say its kind; its source does).
pub fn tool_properties(
    g: &mut schemars::SchemaGenerator,
) -> serde_json::Map<String, serde_json::Value> {
    let mut all: serde_json::Map<String, serde_json::Value> = serde_json::Map::new();
    let mut owners: IndexMap<String, Vec<&str>> = IndexMap::new();
    for k in KINDS {
        for (key, schema) in (k.tool_properties)(g) {
            owners.entry(key.clone()).or_default().push(k.name);
            all.entry(key).or_insert(schema);
        }
    }
    for (key, kinds) in owners {
        if let Some(d) = all[&key].get("description").and_then(|d| d.as_str()) {
            let described = format!("{}: {d}", kinds.join(", "));
            all[&key]["description"] = described.into();
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::kind_keys::fields;
    use crate::mapping::model::{SourceDef, ToolDef};

    fn sorted(mut v: Vec<&str>) -> Vec<&str> {
        v.sort();
        v
    }

    /// A kind declares each key once and never one the first reading takes: a key read twice
    /// would be judged by whichever reading came last.
    fn declared_once(kind: &str, keys: &[&str], first: &[&str]) {
        let mut unique = keys.to_vec();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "{kind}: a key declared twice");
        assert!(!keys.iter().any(|k| first.contains(k)), "{kind}: {keys:?}");
    }

    /// Each kind's source keys are declared once, and its schema alternative offers exactly
    /// those keys: what `check` accepts is what editors suggest.
    #[test]
    fn every_kind_declares_its_source_keys_once_and_its_schema_shows_them() {
        let mut g = schemars::SchemaGenerator::default();
        let schema = source_schema(&mut g);
        let alternatives = schema["oneOf"].as_array().unwrap();
        assert_eq!(alternatives.len(), KINDS.len());
        for (kind, alt) in KINDS.iter().zip(alternatives) {
            let keys = (kind.keys)();
            declared_once(kind.name, &keys, fields::<SourceDef>());
            let offered = alt["properties"].as_object().unwrap().keys();
            let expected = fields::<SourceDef>().iter().copied().chain(keys);
            assert_eq!(
                sorted(offered.map(|k| k.as_str()).collect()),
                sorted(expected.collect()),
                "{}",
                kind.name
            );
            assert_eq!(alt["properties"]["kind"]["const"], kind.name);
            assert_eq!(alt["additionalProperties"], false);
        }
    }

    /// Each kind's tool keys are declared once, and the schema of a tool offers every kind's.
    #[test]
    fn every_kind_declares_its_tool_keys_once_and_the_schema_shows_them() {
        let offered = tool_properties(&mut schemars::SchemaGenerator::default());
        for kind in KINDS {
            let keys = (kind.tool_keys)();
            declared_once(kind.name, &keys, fields::<ToolDef>());
            for k in keys {
                let described = offered[k]["description"].as_str().unwrap_or_default();
                assert!(described.contains(kind.name), "{k}: {described}");
            }
        }
    }
}
