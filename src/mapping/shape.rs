//! Result shaping: rows in the table's field order become the tool's JSON objects (renames,
//! type conversion, nested objects), and the matching output schema is derived from the same
//! description so the two cannot disagree.

use std::str::FromStr;

use indexmap::IndexMap;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Map, Value as Json, json};
use serde_saphyr::Spanned;

use std::sync::Arc;

use serde_saphyr::Location;

use super::load::FileProblems;
use super::model::{FieldSpec, FieldType, MaskStrategy, ResultDef};
use crate::mapping::mask::{Policies, Policy, Profile};
use crate::value::Value;

/// The fields a tool's rows carry, in row order: a flat file's fields or a query's columns.
pub struct Fields {
    /// How problems name them: "table `CUSTOMERS`", "the `columns` of this tool".
    pub owner: String,
    pub list: Vec<SourceField>,
}

/// One field of a row as its source declares it.
pub struct SourceField {
    pub name: String,
    pub kind: FieldType,
    pub description: Option<String>,
    /// The masking policy the source puts on it; a result field may name another.
    pub mask: Option<Arc<Policy>>,
    /// Every value of a repeated element (soap `repeated: true`): an array.
    pub repeated: bool,
    /// An array of records (soap `fields:`): the schema of one record.
    pub records: Option<Arc<Json>>,
}

impl Fields {
    pub fn index(&self, name: &str) -> Option<usize> {
        self.list.iter().position(|f| f.name == name)
    }

    pub fn names(&self) -> String {
        self.list
            .iter()
            .map(|f| f.name.as_str())
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
        /// Masked unless the caller's profile lifts the policy.
        mask: Option<Arc<Policy>>,
        /// An array of values (a repeated SOAP element).
        repeated: bool,
        /// An array of records (soap `fields:`): the schema of one record.
        records: Option<Arc<Json>>,
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
    policies: &Policies,
    here: &str,
    p: &mut FileProblems<'_>,
) -> Shape {
    let one = result.is_some_and(|r| r.one);
    let fields = match result.and_then(|r| r.fields.as_ref()) {
        Some(spec) => compile_fields(spec, table, policies, &format!("{here}.result.fields"), p),
        None => table
            .list
            .iter()
            .enumerate()
            .map(|(i, f)| OutField::Leaf {
                name: f.name.clone(),
                field: i,
                kind: f.kind,
                convert: false,
                description: f.description.clone(),
                mask: f.mask.clone(),
                repeated: f.repeated,
                records: f.records.clone(),
            })
            .collect(),
    };
    Shape { one, fields }
}

fn compile_fields(
    spec: &IndexMap<String, Spanned<FieldSpec>>,
    table: &Fields,
    policies: &Policies,
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
                fields: compile_fields(nested, table, policies, &format!("{path}.fields"), p),
                description: form.description.clone(),
            });
            continue;
        }
        let from = form.from.as_deref().unwrap_or(name);
        match table.index(from) {
            Some(fi) => {
                let source = &table.list[fi];
                if source.records.is_some() && (form.kind.is_some() || form.mask.is_some()) {
                    p.at(
                        &s.referenced,
                        &path,
                        format!("`{from}` is an array of records: it takes no `type` or `mask`"),
                    );
                }
                // A result field may name a policy; otherwise the source's own applies.
                let mask = match &form.mask {
                    Some(m) => policy(policies, m, &s.referenced, &format!("{path}.mask"), p),
                    None => source.mask.clone(),
                };
                out.push(OutField::Leaf {
                    name: name.clone(),
                    field: fi,
                    kind: form.kind.unwrap_or(source.kind),
                    convert: form.kind.is_some_and(|k| k != source.kind),
                    description: form
                        .description
                        .clone()
                        .or_else(|| source.description.clone()),
                    mask,
                    repeated: source.repeated,
                    records: source.records.clone(),
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

/// Look up a masking policy by name; an unknown name is a problem listing the known ones.
pub fn policy(
    policies: &Policies,
    name: &str,
    at: &Location,
    path: &str,
    p: &mut FileProblems<'_>,
) -> Option<Arc<Policy>> {
    let found = policies.get(name).cloned();
    if found.is_none() {
        let known: Vec<&str> = policies.keys().map(|k| k.as_str()).collect();
        p.at(
            at,
            path,
            format!(
                "unknown masking policy `{name}`; defined under `masking:`: {}",
                if known.is_empty() {
                    "(none)".to_string()
                } else {
                    known.join(", ")
                }
            ),
        );
    }
    found
}

impl Shape {
    /// One row as a JSON object, masked for the caller's profile.
    pub fn render(&self, row: &[Value], profile: &Profile) -> Result<Json, String> {
        render_fields(&self.fields, row, profile)
    }

    /// The row fields (indexes) some masking policy covers.
    pub fn masked_fields(&self) -> Vec<usize> {
        fn walk(fields: &[OutField], out: &mut Vec<usize>) {
            for f in fields {
                match f {
                    OutField::Leaf {
                        field,
                        mask: Some(_),
                        ..
                    } => out.push(*field),
                    OutField::Leaf { .. } => {}
                    OutField::Nested { fields, .. } => walk(fields, out),
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.fields, &mut out);
        out
    }

    /// Each row field a masking policy covers, with its policy.
    pub fn masks(&self) -> Vec<(usize, Arc<Policy>)> {
        fn walk(fields: &[OutField], out: &mut Vec<(usize, Arc<Policy>)>) {
            for f in fields {
                match f {
                    OutField::Leaf {
                        field,
                        mask: Some(policy),
                        ..
                    } => out.push((*field, policy.clone())),
                    OutField::Leaf { .. } => {}
                    OutField::Nested { fields, .. } => walk(fields, out),
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.fields, &mut out);
        out
    }

    /// JSON Schema of one rendered row.
    pub fn row_schema(&self) -> Json {
        fields_schema(&self.fields, None)
    }
}

fn render_fields(fields: &[OutField], row: &[Value], profile: &Profile) -> Result<Json, String> {
    let mut obj = Map::new();
    for f in fields {
        match f {
            OutField::Leaf {
                name,
                field,
                kind,
                convert,
                mask,
                ..
            } => {
                let v = &row[*field];
                let masked = mask.as_ref().filter(|m| !profile.lifts(m));
                let v = if *convert {
                    convert_value(v, *kind).map_err(|e| match masked {
                        // The message would quote the value.
                        Some(_) => format!(
                            "field `{name}`: the value cannot be converted to {} (not quoted: the field is masked)",
                            kind.name()
                        ),
                        None => format!("field `{name}`: {e}"),
                    })?
                } else {
                    v.clone()
                };
                match masked {
                    None => {
                        obj.insert(name.clone(), v.to_json());
                    }
                    Some(policy) => {
                        if let Some(j) = policy.apply(&v) {
                            obj.insert(name.clone(), j);
                        }
                    }
                }
            }
            OutField::Nested { name, fields, .. } => {
                obj.insert(name.clone(), render_fields(fields, row, profile)?);
            }
        }
    }
    Ok(Json::Object(obj))
}

fn fields_schema(fields: &[OutField], description: Option<&str>) -> Json {
    let mut props = Map::new();
    // Fields a `drop` policy may leave out.
    let mut optional = Vec::new();
    for f in fields {
        let (name, schema) = match f {
            OutField::Leaf {
                name,
                kind,
                description,
                mask,
                repeated,
                records,
                ..
            } => {
                let mut schema = match records {
                    Some(record) => {
                        let mut item = (**record).clone();
                        if let Some(d) = description {
                            item["description"] = json!(d);
                        }
                        item
                    }
                    None => leaf_schema(*kind, description.as_deref()),
                };
                if *repeated || records.is_some() {
                    schema = list_schema(schema);
                }
                match mask {
                    Some(m) if m.strategy == MaskStrategy::Drop => {
                        optional.push(name.clone());
                        (name, schema)
                    }
                    Some(m) => (name, masked_schema(schema, m)),
                    None => (name, schema),
                }
            }
            OutField::Nested {
                name,
                fields,
                description,
            } => (name, fields_schema(fields, description.as_deref())),
        };
        props.insert(name.clone(), schema);
    }
    let names: Vec<&String> = props.keys().filter(|k| !optional.contains(k)).collect();
    let mut s = json!({"type": "object", "properties": props, "required": names});
    if let Some(d) = description {
        s["description"] = json!(d);
    }
    s
}

/// A masked leaf: the masked text (or null), or the value itself for roles the policy lifts.
fn masked_schema(plain: Json, policy: &Policy) -> Json {
    let how = format!("masked by policy `{}`", policy.name);
    let description = match plain.get("description").and_then(|d| d.as_str()) {
        Some(d) => format!("{d} ({how})"),
        None => how,
    };
    let mut s = match policy.strategy {
        MaskStrategy::Null if policy.unmasked_for.is_empty() => json!({"type": "null"}),
        MaskStrategy::Null => plain,
        _ if policy.unmasked_for.is_empty() => json!({"type": ["string", "null"]}),
        _ => {
            let mut s = plain;
            if let Some(Json::Array(types)) = s.get_mut("type")
                && !types.contains(&json!("string"))
            {
                types.insert(0, json!("string"));
            }
            // The unmasked form's pattern or format does not hold for the masked text.
            if let Some(o) = s.as_object_mut() {
                o.remove("pattern");
                o.remove("format");
            }
            s
        }
    };
    s["description"] = json!(description);
    s
}

/// A repeated element's values: an array (empty when there are none) of the item schema,
/// whose description moves up to the array.
fn list_schema(mut item: Json) -> Json {
    let description = item.as_object_mut().and_then(|o| o.remove("description"));
    let mut s = json!({"type": "array", "items": item});
    if let Some(d) = description {
        s["description"] = d;
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
    if let Value::List(items) = v {
        return items
            .iter()
            .map(|i| convert_value(i, kind))
            .collect::<Result<_, _>>()
            .map(Value::List);
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

/// The schema of one record of a soap column with `fields:`: an object of its fields' leaf
/// schemas (arrays where a field is `repeated`).
pub fn record_schema(fields: &[(String, FieldType, Option<String>, bool)]) -> Json {
    let mut props = Map::new();
    for (name, kind, description, repeated) in fields {
        let mut schema = leaf_schema(*kind, description.as_deref());
        if *repeated {
            schema = list_schema(schema);
        }
        props.insert(name.clone(), schema);
    }
    let names: Vec<&String> = props.keys().collect();
    json!({"type": "object", "properties": props, "required": names})
}
