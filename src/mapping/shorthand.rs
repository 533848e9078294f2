//! Mapping values with a short and a long form (`item_no: prefix` or `item_no: { starts_with:
//! prefix }`). Hand-written visitors keep YAML positions and strict-key errors in the long form.

use std::fmt;

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, Visitor, value::MapAccessDeserializer};
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::field_type::FieldType;

/// What a filter compares with: a parameter by name, or a literal `{ value: ... }`.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Param(String),
    Literal(serde_json::Value),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LiteralForm {
    value: serde_json::Value,
}

impl<'de> Deserialize<'de> for Operand {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Operand;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a parameter name or { value: <literal> }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Operand, E> {
                Ok(Operand::Param(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Operand, A::Error> {
                let lit = LiteralForm::deserialize(MapAccessDeserializer::new(map))?;
                Ok(Operand::Literal(lit.value))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Operand {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Operand".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A parameter name, or { value: <literal> }.",
            "oneOf": [
                { "type": "string" },
                { "type": "object", "properties": { "value": {} },
                  "required": ["value"], "additionalProperties": false }
            ]
        })
    }
}

/// A filter on one field. Several operators on one field all apply. An operand naming an
/// optional parameter the caller left out is skipped.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionForm {
    /// field = operand
    #[serde(default)]
    pub equals: Option<Operand>,
    /// field starts with operand (text comparison)
    #[serde(default)]
    pub starts_with: Option<Operand>,
    /// field >= operand
    #[serde(default)]
    pub min: Option<Operand>,
    /// field <= operand
    #[serde(default)]
    pub max: Option<Operand>,
    /// field < operand
    #[serde(default)]
    pub less_than: Option<Operand>,
    /// field > operand
    #[serde(default)]
    pub greater_than: Option<Operand>,
}

/// A filter: `field: param` (equality) or the long form with operators.
#[derive(Debug, Clone)]
pub struct Condition(pub ConditionForm);

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Condition;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a parameter name or a map of operators (equals, starts_with, min, max, less_than, greater_than)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Condition, E> {
                Ok(Condition(ConditionForm {
                    equals: Some(Operand::Param(v.to_string())),
                    ..Default::default()
                }))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Condition, A::Error> {
                ConditionForm::deserialize(MapAccessDeserializer::new(map)).map(Condition)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Condition {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Condition".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let long = g.subschema_for::<ConditionForm>();
        json_schema!({
            "description": "A parameter name (equality) or a map of operators.",
            "oneOf": [ { "type": "string" }, long ]
        })
    }
}

/// A sort key: `field` ascending or `-field` descending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderKey {
    pub field: String,
    pub descending: bool,
}

impl<'de> Deserialize<'de> for OrderKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.strip_prefix('-') {
            Some(rest) => OrderKey {
                field: rest.to_string(),
                descending: true,
            },
            None => OrderKey {
                field: s,
                descending: false,
            },
        })
    }
}

impl JsonSchema for OrderKey {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "OrderKey".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A field name; prefix with - for descending order.",
            "pattern": "^-?[A-Za-z_][A-Za-z0-9_]*$"
        })
    }
}

/// The long form of an output field.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldSpecForm {
    /// The source field (default: the output name). Not with `fields`.
    #[serde(default)]
    pub from: Option<String>,
    /// Convert to this type.
    #[serde(rename = "type", default)]
    pub kind: Option<FieldType>,
    /// A nested object made of these fields.
    #[serde(default)]
    #[schemars(with = "Option<IndexMap<String, FieldSpec>>")]
    pub fields: Option<IndexMap<String, Spanned<FieldSpec>>>,
    /// Shown to agents in the output schema.
    #[serde(default)]
    pub description: Option<String>,
    /// A masking policy (from `masking:`) for this output field.
    #[serde(default)]
    pub mask: Option<String>,
}

/// An output field: `name: source_field` or the long form.
#[derive(Debug)]
pub struct FieldSpec(pub FieldSpecForm);

impl<'de> Deserialize<'de> for FieldSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FieldSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a source field name or a map with from, type, fields, description, mask",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FieldSpec, E> {
                Ok(FieldSpec(FieldSpecForm {
                    from: Some(v.to_string()),
                    ..Default::default()
                }))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FieldSpec, A::Error> {
                FieldSpecForm::deserialize(MapAccessDeserializer::new(map)).map(FieldSpec)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for FieldSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FieldSpec".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let long = g.subschema_for::<FieldSpecForm>();
        json_schema!({
            "description": "A source field name, or { from, type, fields, description, mask }.",
            "oneOf": [ { "type": "string" }, long ]
        })
    }
}
