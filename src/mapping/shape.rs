//! Result shaping: rows in the table's field order become the tool's JSON objects (renames,
//! type conversion, nested objects), and the matching output schema is derived from the same
//! description so the two cannot disagree.

use std::str::FromStr;

use indexmap::IndexMap;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Map, Value as Json, json};
use serde_saphyr::Spanned;

use super::load::FileProblems;
use super::model::{FieldSpec, FieldType, ResultDef};
use crate::value::Value;

/// The fields a tool's rows carry, in row order: a flat file's fields or a query's columns.
pub struct Fields {
    /// How problems name them: "table `CUSTOMERS`", "the `columns` of this tool".
    pub owner: String,
    pub list: Vec<(String, FieldType, Option<String>)>,
}

impl Fields {
    pub fn index(&self, name: &str) -> Option<usize> {
        self.list.iter().position(|f| f.0 == name)
    }

    pub fn names(&self) -> String {
        self.list
            .iter()
            .map(|f| f.0.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, Clone)]
pub enum OutField {
    Leaf {
        name: String,
        field: usize,
        kind: FieldType,
        convert: bool,
        description: Option<String>,
    },
    Nested {
        name: String,
        fields: Vec<OutField>,
        description: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub struct Shape {
    pub one: bool,
    pub fields: Vec<OutField>,
}

pub fn compile(
    result: Option<&ResultDef>,
    table: &Fields,
    here: &str,
    p: &mut FileProblems<'_>,
) -> Shape {
    let one = result.is_some_and(|r| r.one);
    let fields = match result.and_then(|r| r.fields.as_ref()) {
        Some(spec) => compile_fields(spec, table, &format!("{here}.result.fields"), p),
        None => table
            .list
            .iter()
            .enumerate()
            .map(|(i, f)| OutField::Leaf {
                name: f.0.clone(),
                field: i,
                kind: f.1,
                convert: false,
                description: f.2.clone(),
            })
            .collect(),
    };
    Shape { one, fields }
}

fn compile_fields(
    spec: &IndexMap<String, Spanned<FieldSpec>>,
    table: &Fields,
    here: &str,
    p: &mut FileProblems<'_>,
) -> Vec<OutField> {
    let mut out = Vec::new();
    for (name, s) in spec {
        let form = &s.value.0;
        let path = format!("{here}.{name}");
        if let Some(nested) = &form.fields {
            if form.from.is_some() || form.kind.is_some() {
                p.at(
                    &s.referenced,
                    &path,
                    "a nested object (`fields:`) takes no `from` or `type`",
                );
            }
            out.push(OutField::Nested {
                name: name.clone(),
                fields: compile_fields(nested, table, &format!("{path}.fields"), p),
                description: form.description.clone(),
            });
            continue;
        }
        let from = form.from.as_deref().unwrap_or(name);
        match table.index(from) {
            Some(fi) => {
                let (_, source_kind, source_description) = &table.list[fi];
                out.push(OutField::Leaf {
                    name: name.clone(),
                    field: fi,
                    kind: form.kind.unwrap_or(*source_kind),
                    convert: form.kind.is_some_and(|k| k != *source_kind),
                    description: form
                        .description
                        .clone()
                        .or_else(|| source_description.clone()),
                })
            }
            None => p.at(
                &s.referenced,
                &path,
                format!(
                    "`{from}` is not a field of {}; its fields are: {}",
                    table.owner,
                    table.names()
                ),
            ),
        }
    }
    out
}

impl Shape {
    /// One row as a JSON object.
    pub fn render(&self, row: &[Value]) -> Result<Json, String> {
        render_fields(&self.fields, row)
    }

    /// JSON Schema of one rendered row.
    pub fn row_schema(&self) -> Json {
        fields_schema(&self.fields, None)
    }
}

fn render_fields(fields: &[OutField], row: &[Value]) -> Result<Json, String> {
    let mut obj = Map::new();
    for f in fields {
        match f {
            OutField::Leaf {
                name,
                field,
                kind,
                convert,
                ..
            } => {
                let v = &row[*field];
                let v = if *convert {
                    convert_value(v, *kind).map_err(|e| format!("field `{name}`: {e}"))?
                } else {
                    v.clone()
                };
                obj.insert(name.clone(), v.to_json());
            }
            OutField::Nested { name, fields, .. } => {
                obj.insert(name.clone(), render_fields(fields, row)?);
            }
        }
    }
    Ok(Json::Object(obj))
}

fn fields_schema(fields: &[OutField], description: Option<&str>) -> Json {
    let mut props = Map::new();
    for f in fields {
        let (name, schema) = match f {
            OutField::Leaf {
                name,
                kind,
                description,
                ..
            } => (name, leaf_schema(*kind, description.as_deref())),
            OutField::Nested {
                name,
                fields,
                description,
            } => (name, fields_schema(fields, description.as_deref())),
        };
        props.insert(name.clone(), schema);
    }
    let names: Vec<&String> = props.keys().collect();
    let mut s = json!({"type": "object", "properties": props, "required": names});
    if let Some(d) = description {
        s["description"] = json!(d);
    }
    s
}

/// Every leaf may be null: exports have blank dates and empty amounts.
pub fn leaf_schema(kind: FieldType, description: Option<&str>) -> Json {
    let mut s = match kind {
        FieldType::String => json!({"type": ["string", "null"]}),
        FieldType::Integer => json!({"type": ["integer", "null"]}),
        FieldType::Number => json!({"type": ["number", "null"]}),
        FieldType::Boolean => json!({"type": ["boolean", "null"]}),
        FieldType::Date => json!({"type": ["string", "null"], "format": "date"}),
        FieldType::Datetime => json!({"type": ["string", "null"], "format": "date-time",
            "description": "ISO 8601 date and time, without zone."}),
        FieldType::Time => json!({"type": ["string", "null"], "format": "time"}),
        FieldType::Binary => json!({"type": ["string", "null"], "contentEncoding": "base64"}),
        FieldType::Decimal => json!({
            "type": ["string", "null"],
            "pattern": "^-?[0-9]+(\\.[0-9]+)?$",
            "description": "Exact decimal as a string."
        }),
    };
    if let Some(d) = description {
        let text = match s.get("description").and_then(|x| x.as_str()) {
            Some(extra) => format!("{d} ({extra})"),
            None => d.to_string(),
        };
        s["description"] = json!(text);
    }
    s
}

/// `type:` in a result field converts between kinds; impossible conversions are errors, never
/// silently wrong values.
pub fn convert_value(v: &Value, kind: FieldType) -> Result<Value, String> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let text = v.to_text();
    let fail = || format!("cannot convert `{text}` to {}", kind.name());
    Ok(match kind {
        FieldType::String => Value::Str(text),
        FieldType::Integer => match v {
            Value::Int(i) => Value::Int(*i),
            Value::Dec(d) if d.fract().is_zero() => Value::Int(d.to_i64().ok_or_else(fail)?),
            _ => Value::Int(text.trim().parse().map_err(|_| fail())?),
        },
        FieldType::Decimal => match v {
            Value::Num(_) => return Err(fail()),
            Value::DecText(t) => Value::DecText(t.clone()),
            _ => Value::Dec(Decimal::from_str_exact(text.trim()).map_err(|_| fail())?),
        },
        FieldType::Number => Value::Num(text.trim().parse().map_err(|_| fail())?),
        FieldType::Boolean => match v {
            Value::Bool(b) => Value::Bool(*b),
            Value::Int(i) => Value::Bool(*i != 0),
            _ => return Err(fail()),
        },
        FieldType::Date => match v {
            Value::Date(d) => Value::Date(*d),
            Value::DateTime(t) => Value::Date(t.date()),
            _ => Value::Date(chrono::NaiveDate::from_str(text.trim()).map_err(|_| fail())?),
        },
        FieldType::Datetime => match v {
            Value::DateTime(t) => Value::DateTime(*t),
            Value::Date(d) => Value::DateTime(d.and_time(chrono::NaiveTime::MIN)),
            _ => return Err(fail()),
        },
        FieldType::Time => match v {
            Value::Time(t) => Value::Time(*t),
            Value::DateTime(t) => Value::Time(t.time()),
            _ => return Err(fail()),
        },
        FieldType::Binary => match v {
            Value::Bytes(b) => Value::Bytes(b.clone()),
            _ => Value::Bytes(text.into_bytes()),
        },
    })
}
