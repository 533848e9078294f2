//! The JSON Schema (draft 2020-12) of the mapping format, for editors: shipped mappings start
//! with `# yaml-language-server: $schema=...` so mistakes are underlined as they are typed.

use super::model::MappingFile;

pub fn mapping_schema() -> serde_json::Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(MappingFile)).unwrap_or_default();
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
        let s = super::mapping_schema();
        assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert_eq!(s["additionalProperties"], false);
        assert!(s["$defs"]["ToolDef"]["properties"]["where"].is_object());
    }
}
