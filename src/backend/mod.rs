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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::source_keys::COMMON;

    /// Each kind declares each key once, never `kind` or `description`, and its schema
    /// alternative offers exactly those keys: what `check` accepts is what editors suggest.
    #[test]
    fn every_kind_declares_its_keys_once_and_its_schema_shows_them() {
        let mut g = schemars::SchemaGenerator::default();
        let schema = source_schema(&mut g);
        let alternatives = schema["oneOf"].as_array().unwrap();
        assert_eq!(alternatives.len(), KINDS.len());
        for (kind, alt) in KINDS.iter().zip(alternatives) {
            let keys = (kind.keys)();
            let mut unique = keys.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(
                unique.len(),
                keys.len(),
                "{}: a key declared twice",
                kind.name
            );
            assert!(!keys.iter().any(|k| COMMON.contains(k)), "{}", kind.name);
            let mut offered: Vec<&str> = alt["properties"]
                .as_object()
                .unwrap()
                .keys()
                .map(|k| k.as_str())
                .collect();
            offered.sort();
            let mut expected: Vec<&str> = COMMON.iter().copied().chain(keys).collect();
            expected.sort();
            assert_eq!(offered, expected, "{}", kind.name);
            assert_eq!(alt["properties"]["kind"]["const"], kind.name);
            assert_eq!(alt["additionalProperties"], false);
        }
    }
}
