//! The JSON Schema (draft 2020-12) of the mapping format, for editors: shipped mappings start
//! with `# yaml-language-server: $schema=...` so mistakes are underlined as they are typed.

use schemars::SchemaGenerator;

use super::model::MappingFile;

/// The schema of a mapping file. A source's schema (`source`) and the keys a tool's kind reads
/// (`tool_keys`) are given by the caller, from the kinds: the mapping format does not list them.
pub fn mapping_schema(
    source: impl FnOnce(&mut SchemaGenerator) -> serde_json::Value,
    tool_keys: impl FnOnce(&mut SchemaGenerator) -> serde_json::Map<String, serde_json::Value>,
) -> serde_json::Value {
    let mut g = SchemaGenerator::default();
    let source = source(&mut g);
    let tool_keys = tool_keys(&mut g);
    let mut schema =
        serde_json::to_value(g.into_root_schema_for::<MappingFile>()).unwrap_or_default();
    schema["$defs"]["SourceDef"] = source;
    let tool = &mut schema["$defs"]["ToolDef"];
    if let Some(props) = tool["properties"].as_object_mut() {
        props.extend(tool_keys);
    }
    tool["additionalProperties"] = false.into();
    // The first reading lets these default to empty (`model/required.rs`) so that a misspelt
    // one is named; an editor must still ask for them.
    tool["required"] = serde_json::json!(["description", "source"]);
    for key in ["description", "source"] {
        if let Some(p) = tool["properties"][key].as_object_mut() {
            p.remove("default");
        }
    }
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "$id".into(),
            serde_json::json!("https://legacy-mcp.invalid/mapping.schema.json"),
        );
    }
    schema
}

#[cfg(test)]
mod tests {
    #[test]
    fn schema_is_draft_2020_12_and_strict() {
        let s = super::mapping_schema(
            |_| serde_json::json!({"type": "object"}),
            |_| {
                serde_json::json!({"where": {"type": "object"}})
                    .as_object()
                    .unwrap()
                    .clone()
            },
        );
        assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert_eq!(s["additionalProperties"], false);
        assert!(s["$defs"]["ToolDef"]["properties"]["where"].is_object());
        assert_eq!(s["$defs"]["ToolDef"]["additionalProperties"], false);
        assert_eq!(
            s["$defs"]["ToolDef"]["required"],
            serde_json::json!(["description", "source"])
        );
    }
}
