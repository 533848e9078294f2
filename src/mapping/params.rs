//! Tool parameters: compiled from the mapping, turned into the tool's JSON Schema, and used to
//! validate and coerce a caller's arguments into typed values before any backend is touched
//! (rmcp passes arguments through unchecked).

use chrono::NaiveDate;
use indexmap::IndexMap;
use regex::Regex;
use serde_json::{Map, Value as Json, json};
use serde_saphyr::Spanned;

use super::load::FileProblems;
use super::model::{ParamDef, ParamType};
use crate::value::Value;

/// The argument name every list tool accepts to continue a truncated result.
pub const CURSOR_ARG: &str = "cursor";

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub kind: ParamType,
    pub description: Option<String>,
    pub required: bool,
    pub default: Option<Default>,
    pub pattern: Option<Regex>,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    pub min: Option<Value>,
    pub max: Option<Value>,
    pub values: Vec<String>,
}

/// A parameter default: a fixed value, or the server's date at call time.
#[derive(Debug, Clone)]
pub enum Default {
    Fixed(Value),
    Today,
}

pub fn compile(name: &str, def: &Spanned<ParamDef>, here: &str, p: &mut FileProblems<'_>) -> Param {
    let d = &def.value;
    let kind = d.kind.value;
    if name == CURSOR_ARG {
        p.at(
            &def.referenced,
            here,
            "`cursor` is reserved: list tools accept it to continue a truncated result",
        );
    }
    let mut param = Param {
        name: name.to_string(),
        kind,
        description: d.description.clone(),
        required: d.required.unwrap_or(d.default.is_none()),
        default: None,
        pattern: None,
        min_length: d.min_length,
        max_length: d.max_length,
        min: None,
        max: None,
        values: d.values.clone(),
    };
    if let Some(pat) = &d.pattern {
        if kind != ParamType::String {
            p.at(
                &pat.referenced,
                format!("{here}.pattern"),
                "`pattern` applies to type string only",
            );
        }
        match Regex::new(&format!("^(?:{})$", pat.value)) {
            Ok(r) => param.pattern = Some(r),
            Err(e) => p.at(
                &pat.referenced,
                format!("{here}.pattern"),
                format!("invalid regular expression: {}", first_line(&e.to_string())),
            ),
        }
    }
    if (d.min_length.is_some() || d.max_length.is_some()) && kind != ParamType::String {
        p.at(
            &def.referenced,
            here,
            "`min_length` and `max_length` apply to type string only",
        );
    }
    if kind == ParamType::Enum && d.values.is_empty() {
        p.at(
            &d.kind.referenced,
            format!("{here}.type"),
            "type enum needs `values:` (the allowed values)",
        );
    }
    if kind != ParamType::Enum && !d.values.is_empty() {
        p.at(&def.referenced, here, "`values` applies to type enum only");
    }
    for (key, bound, slot) in [
        ("min", &d.min, &mut param.min),
        ("max", &d.max, &mut param.max),
    ] {
        if let Some(b) = bound {
            if !matches!(
                kind,
                ParamType::Integer | ParamType::Number | ParamType::Date
            ) {
                p.at(
                    &b.referenced,
                    format!("{here}.{key}"),
                    format!("`{key}` applies to integer, number and date parameters"),
                );
                continue;
            }
            match coerce(kind, &b.value, &[]) {
                Ok(v) => *slot = Some(v),
                Err(e) => p.at(
                    &b.referenced,
                    format!("{here}.{key}"),
                    format!("`{key}` {e}"),
                ),
            }
        }
    }
    if let Some(dv) = &d.default {
        if kind == ParamType::Date && dv.value == json!("today") {
            param.default = Some(Default::Today);
        } else {
            match check(&param, &dv.value) {
                Ok(v) => param.default = Some(Default::Fixed(v)),
                Err(e) => p.at(
                    &dv.referenced,
                    format!("{here}.default"),
                    format!("the default {e}"),
                ),
            }
        }
        if d.required == Some(true) {
            p.at(
                &dv.referenced,
                format!("{here}.default"),
                "a parameter with a default cannot be `required: true`",
            );
        }
    }
    param
}

fn first_line(s: &str) -> String {
    s.lines().last().unwrap_or(s).trim().to_string()
}

/// Validate `args` against `params`. Every problem is reported, each naming the argument and
/// the rule it broke, so an agent can fix all of them in one retry.
pub fn bind(params: &[Param], args: &Map<String, Json>) -> Result<IndexMap<String, Value>, String> {
    let mut problems = Vec::new();
    for name in args.keys() {
        if name != CURSOR_ARG && !params.iter().any(|p| &p.name == name) {
            let known: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
            problems.push(format!(
                "unknown argument `{name}` (this tool takes: {})",
                if known.is_empty() {
                    "no arguments".to_string()
                } else {
                    known.join(", ")
                }
            ));
        }
    }
    let mut bound = IndexMap::new();
    for p in params {
        match args.get(&p.name).filter(|v| !v.is_null()) {
            Some(v) => match check(p, v) {
                Ok(val) => {
                    bound.insert(p.name.clone(), val);
                }
                Err(e) => problems.push(format!("argument `{}` {e}", p.name)),
            },
            None => match &p.default {
                Some(Default::Fixed(v)) => {
                    bound.insert(p.name.clone(), v.clone());
                }
                Some(Default::Today) => {
                    bound.insert(
                        p.name.clone(),
                        Value::Date(chrono::Local::now().date_naive()),
                    );
                }
                None if p.required => problems.push(format!(
                    "missing required argument `{}` ({})",
                    p.name,
                    describe(p)
                )),
                None => {}
            },
        }
    }
    if problems.is_empty() {
        Ok(bound)
    } else {
        Err(problems.join("; "))
    }
}

/// Type-check and constraint-check one value.
fn check(p: &Param, v: &Json) -> Result<Value, String> {
    let val = coerce(p.kind, v, &p.values)?;
    if let Value::Str(s) = &val {
        let len = s.chars().count() as u32;
        if let Some(max) = p.max_length.filter(|m| len > *m) {
            return Err(format!("is {len} characters long; at most {max} allowed"));
        }
        if let Some(min) = p.min_length.filter(|m| len < *m) {
            return Err(format!("is {len} characters long; at least {min} required"));
        }
        if let Some(re) = p.pattern.as_ref().filter(|re| !re.is_match(s)) {
            let pat = re
                .as_str()
                .trim_start_matches("^(?:")
                .trim_end_matches(")$");
            return Err(format!("must match the pattern {pat} (got {v})"));
        }
    }
    if let Some(min) = p.min.as_ref().filter(|m| val.compare(m).is_lt()) {
        return Err(format!("must be at least {} (got {v})", min.to_text()));
    }
    if let Some(max) = p.max.as_ref().filter(|m| val.compare(m).is_gt()) {
        return Err(format!("must be at most {} (got {v})", max.to_text()));
    }
    Ok(val)
}

/// Turn JSON into the parameter's type. Strings holding numbers, booleans or dates are
/// accepted (URI template variables and hand-typed CLI arguments are strings).
pub fn coerce(kind: ParamType, v: &Json, values: &[String]) -> Result<Value, String> {
    let wrong = |what: &str| format!("must be {what} (got {v})");
    match kind {
        ParamType::String => match v {
            Json::String(s) => Ok(Value::Str(s.clone())),
            Json::Number(n) => Ok(Value::Str(n.to_string())),
            _ => Err(wrong("a string")),
        },
        ParamType::Integer => match v {
            Json::Number(n) => n
                .as_i64()
                .map(Value::Int)
                .ok_or_else(|| wrong("an integer")),
            Json::String(s) => s
                .trim()
                .parse()
                .map(Value::Int)
                .map_err(|_| wrong("an integer")),
            _ => Err(wrong("an integer")),
        },
        ParamType::Number => match v {
            Json::Number(n) => n.as_f64().map(Value::Num).ok_or_else(|| wrong("a number")),
            Json::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Value::Num)
                .ok_or_else(|| wrong("a number")),
            _ => Err(wrong("a number")),
        },
        ParamType::Boolean => match v {
            Json::Bool(b) => Ok(Value::Bool(*b)),
            Json::String(s) if s == "true" => Ok(Value::Bool(true)),
            Json::String(s) if s == "false" => Ok(Value::Bool(false)),
            _ => Err(wrong("true or false")),
        },
        ParamType::Date => match v {
            Json::String(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map(Value::Date)
                .map_err(|_| wrong("a date as YYYY-MM-DD")),
            _ => Err(wrong("a date as YYYY-MM-DD")),
        },
        ParamType::Enum => match v {
            Json::String(s) if values.contains(s) => Ok(Value::Str(s.clone())),
            _ => Err(wrong(&format!("one of {}", values.join(", ")))),
        },
    }
}

fn describe(p: &Param) -> String {
    p.description
        .clone()
        .unwrap_or_else(|| format!("type {}", type_name(p.kind)))
}

fn type_name(k: ParamType) -> &'static str {
    match k {
        ParamType::String => "string",
        ParamType::Integer => "integer",
        ParamType::Number => "number",
        ParamType::Boolean => "boolean",
        ParamType::Date => "date",
        ParamType::Enum => "enum",
    }
}

/// The tool's `inputSchema`: one property per parameter with its constraints, plus `cursor`
/// for tools whose results can be truncated.
pub fn input_schema(params: &[Param], with_cursor: bool) -> Map<String, Json> {
    let mut props = Map::new();
    for p in params {
        props.insert(p.name.clone(), param_schema(p));
    }
    if with_cursor {
        props.insert(
            CURSOR_ARG.into(),
            json!({"type": "string", "description": "Continue a truncated result: pass the `next_cursor` of the previous call, with the same other arguments."}),
        );
    }
    let required: Vec<&str> = params
        .iter()
        .filter(|p| p.required)
        .map(|p| p.name.as_str())
        .collect();
    let mut schema = Map::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Json::Object(props));
    if !required.is_empty() {
        schema.insert("required".into(), json!(required));
    }
    schema.insert("additionalProperties".into(), json!(false));
    schema
}

fn param_schema(p: &Param) -> Json {
    let mut s = Map::new();
    let ty = match p.kind {
        ParamType::String | ParamType::Date | ParamType::Enum => "string",
        ParamType::Integer => "integer",
        ParamType::Number => "number",
        ParamType::Boolean => "boolean",
    };
    s.insert("type".into(), json!(ty));
    if let Some(d) = &p.description {
        s.insert("description".into(), json!(d));
    }
    if p.kind == ParamType::Date {
        s.insert("format".into(), json!("date"));
    }
    if p.kind == ParamType::Enum {
        s.insert("enum".into(), json!(p.values));
    }
    if let Some(re) = &p.pattern {
        s.insert("pattern".into(), json!(re.as_str()));
    }
    if let Some(n) = p.max_length {
        s.insert("maxLength".into(), json!(n));
    }
    if let Some(n) = p.min_length {
        s.insert("minLength".into(), json!(n));
    }
    let bound = |v: &Value| {
        if p.kind == ParamType::Date {
            json!(v.to_text())
        } else {
            v.to_json()
        }
    };
    if let Some(v) = &p.min {
        s.insert(
            if p.kind == ParamType::Date {
                "formatMinimum"
            } else {
                "minimum"
            }
            .into(),
            bound(v),
        );
    }
    if let Some(v) = &p.max {
        s.insert(
            if p.kind == ParamType::Date {
                "formatMaximum"
            } else {
                "maximum"
            }
            .into(),
            bound(v),
        );
    }
    match &p.default {
        Some(Default::Fixed(v)) => {
            s.insert("default".into(), v.to_json());
        }
        Some(Default::Today) => {
            let note = "Defaults to today's date.";
            let d = s
                .get("description")
                .and_then(|d| d.as_str())
                .map(|d| format!("{d} {note}"))
                .unwrap_or(note.into());
            s.insert("description".into(), json!(d));
        }
        None => {}
    }
    Json::Object(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(kind: ParamType) -> Param {
        Param {
            name: "x".into(),
            kind,
            description: None,
            required: true,
            default: None,
            pattern: None,
            min_length: None,
            max_length: None,
            min: None,
            max: None,
            values: vec![],
        }
    }

    #[test]
    fn every_problem_is_reported_with_its_rule() {
        let mut a = param(ParamType::String);
        a.name = "customer_no".into();
        a.pattern = Some(Regex::new("^(?:C[0-9]{5})$").unwrap());
        let mut b = param(ParamType::Integer);
        b.name = "n".into();
        b.max = Some(Value::Int(10));
        let args = json!({"customer_no": "X1", "n": 11, "extra": 1});
        let err = bind(&[a, b], args.as_object().unwrap()).unwrap_err();
        assert_eq!(
            err,
            "unknown argument `extra` (this tool takes: customer_no, n); argument `customer_no` must match the pattern C[0-9]{5} (got \"X1\"); argument `n` must be at most 10 (got 11)"
        );
    }

    #[test]
    fn strings_are_coerced_and_missing_required_is_named() {
        let mut p = param(ParamType::Date);
        p.name = "from".into();
        let ok = bind(
            std::slice::from_ref(&p),
            json!({"from": "2026-01-31"}).as_object().unwrap(),
        )
        .unwrap();
        assert_eq!(ok["from"].to_text(), "2026-01-31");
        let err = bind(&[p], &Map::new()).unwrap_err();
        assert_eq!(err, "missing required argument `from` (type date)");
        assert!(coerce(ParamType::Integer, &json!("42"), &[]).is_ok());
        assert!(coerce(ParamType::Integer, &json!(4.5), &[]).is_err());
    }
}
