//! What a SOAP tool's keys hold: the operation's request body (declared element by element,
//! never a template) and the response projection. (`keys.rs` holds the keys themselves, a
//! source's and a tool's.)
//!
//! A body element is written `element: parameter` (shorthand) or in the long form
//! `{ param | value | children, namespace, nil }`; the hand-written visitor keeps YAML positions
//! inside the long form, as `shorthand.rs` does for filters.

use std::fmt;

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor, value::MapAccessDeserializer};
use serde_saphyr::Spanned;

/// The request a SOAP tool sends.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OperationDef {
    /// The body's element (for document/literal wrapped services, the operation's name:
    /// `GetCustomer`, `ReadMultiple`).
    #[schemars(with = "String")]
    pub element: Spanned<String>,
    /// The element's namespace URI (default: the source's `namespace`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// The SOAPAction (SOAP 1.1 header, SOAP 1.2 `action` parameter). Default: empty.
    #[serde(default)]
    pub action: Option<String>,
    /// Whether child elements carry the namespace too (default true: document/literal with
    /// `elementFormDefault="qualified"`, as .NET, NAV and spyne write). `false` for rpc style
    /// and unqualified schemas.
    #[serde(default)]
    pub qualified: Option<bool>,
    /// Child elements in order: `element: parameter`, or the long form.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, BodyNode>")]
    pub body: IndexMap<String, Spanned<BodyNode>>,
}

/// Where a SOAP tool's rows are in the answer.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseDef {
    /// Element names from inside `Body`, separated by `/`: every element the path reaches is
    /// one row (`ReadMultiple_Result/ReadMultiple_Result/Customer`). Prefixes do not matter.
    #[schemars(with = "String")]
    pub path: Spanned<String>,
    /// The element the path reaches holds a document as text (Sage X3 `resultXml`): parse it
    /// and continue with `embedded.path` inside it.
    #[serde(default)]
    pub embedded: Option<EmbeddedDef>,
    /// The operation answers with an empty element (a NAV codeunit function, a posting
    /// routine): no `columns:`; the tool's result is `{"ok": true}` once the answer holds the
    /// element at `path` without a fault.
    #[serde(default)]
    pub returns_nothing: bool,
}

/// A document carried as text inside the answer.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmbeddedDef {
    /// `xml` or `json`.
    pub format: EmbeddedFormat,
    /// Inside the embedded document: element names (xml) or keys (json) separated by `/`,
    /// starting below the root element for xml. Each element or array item reached is a row.
    #[schemars(with = "String")]
    pub path: Spanned<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmbeddedFormat {
    Xml,
    Json,
}

/// One request element: its value comes from a parameter, a literal, or child elements.
#[derive(Debug, Default)]
pub struct BodyNode {
    /// The parameter whose value is the element's text. An array parameter repeats the
    /// element once per item; an optional parameter left out leaves the element out.
    pub param: Option<String>,
    /// A fixed text.
    pub value: Option<String>,
    /// Child elements, in order.
    pub children: IndexMap<String, Spanned<BodyNode>>,
    /// The element's namespace URI, when it differs from its parent's.
    pub namespace: Option<String>,
    /// Send `xsi:nil="true"` instead of leaving the element out when the parameter is absent.
    pub nil: bool,
    /// The element's name, when the key cannot be it: a second `filter` element is written
    /// `filter_2: { element: filter, children: ... }` (keys are unique).
    pub element: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BodyNodeForm {
    #[serde(default)]
    param: Option<String>,
    #[serde(default)]
    value: Option<serde_json::Value>,
    #[serde(default)]
    children: IndexMap<String, Spanned<BodyNode>>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    nil: bool,
    #[serde(default)]
    element: Option<String>,
}

impl<'de> Deserialize<'de> for BodyNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BodyNode;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a parameter name or { param | value | children, namespace, nil, element }",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<BodyNode, E> {
                Ok(BodyNode {
                    param: Some(v.to_string()),
                    ..BodyNode::default()
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<BodyNode, A::Error> {
                let f = BodyNodeForm::deserialize(MapAccessDeserializer::new(map))?;
                let value = f.value.map(|v| match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                });
                let given = [f.param.is_some(), value.is_some(), !f.children.is_empty()];
                if given.iter().filter(|g| **g).count() > 1 {
                    return Err(de::Error::custom(
                        "give one of `param`, `value` or `children`",
                    ));
                }
                Ok(BodyNode {
                    param: f.param,
                    value,
                    children: f.children,
                    namespace: f.namespace,
                    nil: f.nil,
                    element: f.element,
                })
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for BodyNode {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "BodyNode".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A parameter name, or { param | value | children, namespace, nil, element }.",
            "oneOf": [
                { "type": "string" },
                { "type": "object",
                  "properties": {
                    "param": { "type": "string", "description": "The parameter whose value is the element's text." },
                    "value": { "description": "A fixed text." },
                    "children": { "type": "object", "additionalProperties": { "$ref": "#/$defs/BodyNode" } },
                    "namespace": { "type": "string" },
                    "nil": { "type": "boolean", "description": "Send xsi:nil=\"true\" when the parameter is absent." },
                    "element": { "type": "string", "description": "The element's name when the key cannot be it (a repeated element: filter_2: { element: filter, ... })." }
                  },
                  "additionalProperties": false }
            ]
        })
    }
}
