//! Tool parameters: compiled from the mapping, turned into the tool's JSON Schema, and used to
//! validate and coerce a caller's arguments into typed values before any backend is touched
//! (rmcp passes arguments through unchecked).
//!
//! Why one file of about 680 lines (tests apart): each parameter type's compile rules, its
//! JSON Schema and its binding sit side by side, so a rule the schema announces and the rule
//! the binding enforces cannot drift apart.

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

/// Most items an array parameter takes unless its `max_items` says otherwise: a SOAP request
/// grows with each one.
pub const DEFAULT_MAX_ITEMS: u32 = 1000;

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    /// The value's type; for an array parameter, each item's type (never `Array`).
    pub kind: ParamType,
    /// Set for an array parameter: how many items it takes.
    pub list: Option<ItemCount>,
    pub description: Option<String>,
    pub required: bool,
    pub default: Option<Default>,
    pub pattern: Option<Regex>,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    pub min: Option<Value>,
    pub max: Option<Value>,
    pub values: Vec<String>,
    /// Control characters other than tab, LF and CR are accepted (`allow_control_chars`).
    pub allow_control: bool,
    /// Bound to the caller (`from:`), never an argument.
    pub from: Option<CallerValue>,
}

/// What of the caller a parameter is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerValue {
    /// `principal.name`
    Name,
    /// `principal.claims.NAME`
    Claim(String),
}

impl CallerValue {
    fn parse(text: &str) -> Option<CallerValue> {
        if text == "principal.name" {
            return Some(CallerValue::Name);
        }
        let claim = text.strip_prefix("principal.claims.")?;
        let ok = !claim.is_empty()
            && claim
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '/' | '.'));
        ok.then(|| CallerValue::Claim(claim.to_string()))
    }

    /// How the mapping wrote it.
    pub fn describe(&self) -> String {
        match self {
            CallerValue::Name => "principal.name".into(),
            CallerValue::Claim(c) => format!("principal.claims.{c}"),
        }
    }

    /// The caller's value, as JSON.
    pub fn of(&self, who: &crate::principal::Principal) -> Option<Json> {
        match self {
            CallerValue::Name => Some(Json::String(who.name.clone())),
            CallerValue::Claim(c) => who.claims.get(c).filter(|v| !v.is_null()).cloned(),
        }
    }
}

/// How many items an array parameter takes (inclusive).
#[derive(Debug, Clone, Copy)]
pub struct ItemCount {
    pub min: u32,
    pub max: u32,
}

/// A parameter default: a fixed value, or the server's date at call time.
#[derive(Debug, Clone)]
pub enum Default {
    Fixed(Value),
    Today,
}

pub fn compile(name: &str, def: &Spanned<ParamDef>, here: &str, p: &mut FileProblems<'_>) -> Param {
    let d = &def.value;
    let (kind, list) = item_kind(def, here, p);
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
        list,
        description: d.description.clone(),
        required: d.required.unwrap_or(d.default.is_none()),
        default: None,
        pattern: None,
        min_length: d.min_length,
        max_length: d.max_length,
        min: None,
        max: None,
        values: d.values.clone(),
        allow_control: d.allow_control_chars.unwrap_or(false),
        from: None,
    };
    if let Some(from) = &d.from {
        match CallerValue::parse(&from.value) {
            Some(v) => param.from = Some(v),
            None => p.at(
                &from.referenced,
                format!("{here}.from"),
                format!(
                    "`{}` names nothing of the caller; use `principal.name` or `principal.claims.NAME`",
                    from.value
                ),
            ),
        }
        if d.default.is_some() || d.required == Some(false) {
            p.at(
                &from.referenced,
                format!("{here}.from"),
                "a parameter bound to the caller takes no `default` and is always required: a caller without the value is refused",
            );
        }
        if param.list.is_some() {
            p.at(
                &from.referenced,
                format!("{here}.from"),
                "a parameter bound to the caller takes one value, not an array",
            );
        }
    }
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
    if d.allow_control_chars.is_some() && kind != ParamType::String {
        p.at(
            &def.referenced,
            here,
            "`allow_control_chars` applies to type string only",
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

/// The type each value is checked against, and for `type: array` the item-count rule. Every
/// other rule of the parameter (`pattern`, `min`, `values`) then applies to each item.
fn item_kind(
    def: &Spanned<ParamDef>,
    here: &str,
    p: &mut FileProblems<'_>,
) -> (ParamType, Option<ItemCount>) {
    let d = &def.value;
    if d.kind.value != ParamType::Array {
        if d.items.is_some() || d.min_items.is_some() || d.max_items.is_some() {
            p.at(
                &def.referenced,
                here,
                "`items`, `min_items` and `max_items` apply to type array only",
            );
        }
        return (d.kind.value, None);
    }
    let kind = match &d.items {
        Some(i) if i.value == ParamType::Array => {
            p.at(
                &i.referenced,
                format!("{here}.items"),
                "the items of an array cannot be arrays: give a single type (string, integer, ...)",
            );
            ParamType::String
        }
        Some(i) => i.value,
        None => {
            p.at(
                &d.kind.referenced,
                format!("{here}.type"),
                "type array needs `items:` (the type of each item, e.g. `items: string`)",
            );
            ParamType::String
        }
    };
    let count = ItemCount {
        min: d.min_items.unwrap_or(0),
        max: d.max_items.unwrap_or(DEFAULT_MAX_ITEMS),
    };
    if count.min > count.max || count.max == 0 {
        p.at(
            &def.referenced,
            here,
            format!(
                "`min_items` ({}) and `max_items` ({}) leave no allowed number of items",
                count.min, count.max
            ),
        );
    }
    (kind, Some(count))
}

fn first_line(s: &str) -> String {
    s.lines().last().unwrap_or(s).trim().to_string()
}

/// Validate `args` against `params`. Every problem is reported, each naming the argument and
/// the rule it broke, so an agent can fix all of them in one retry.
pub fn bind(
    params: &[Param],
    args: &Map<String, Json>,
    who: &crate::principal::Principal,
) -> Result<IndexMap<String, Value>, String> {
    let mut problems = Vec::new();
    for name in args.keys() {
        if let Some(p) = params.iter().find(|p| &p.name == name && p.from.is_some()) {
            problems.push(format!(
                "argument `{name}` cannot be given: the server sets it from the caller's credentials ({})",
                p.from.as_ref().map(CallerValue::describe).unwrap_or_default()
            ));
            continue;
        }
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
        if let Some(from) = &p.from {
            // The caller's own value: checked like an argument, never taken from one.
            match from.of(who) {
                Some(v) => match check(p, &v) {
                    Ok(val) => {
                        bound.insert(p.name.clone(), val);
                    }
                    Err(_) => problems.push(format!(
                        "the caller's `{}` does not fit this tool's parameter `{}` ({})",
                        from.describe(),
                        p.name,
                        describe(p)
                    )),
                },
                None => problems.push(format!(
                    "this tool needs `{}` of the caller, and the credentials used carry none; call it with credentials that do",
                    from.describe()
                )),
            }
            continue;
        }
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

/// Type-check and constraint-check an argument: one value, or every item of an array.
fn check(p: &Param, v: &Json) -> Result<Value, String> {
    let Some(count) = p.list else {
        return check_one(p, v);
    };
    let Json::Array(items) = v else {
        return Err(format!(
            "must be a list of {} values, e.g. [{}] (got {v})",
            type_name(p.kind),
            example(p.kind)
        ));
    };
    let n = items.len() as u32;
    if n < count.min {
        return Err(format!("has {n} items; at least {} required", count.min));
    }
    if n > count.max {
        return Err(format!("has {n} items; at most {} allowed", count.max));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| check_one(p, item).map_err(|e| format!("item {} {e}", i + 1)))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::List)
}

fn example(k: ParamType) -> &'static str {
    match k {
        ParamType::Integer => "1, 2",
        ParamType::Number => "1.5, 2",
        ParamType::Boolean => "true, false",
        ParamType::Date => "\"2026-01-31\", \"2026-02-28\"",
        ParamType::Datetime => "\"2026-01-31T08:00:00\", \"2026-01-31T17:30:00Z\"",
        _ => "\"a\", \"b\"",
    }
}

/// Type-check and constraint-check one value.
fn check_one(p: &Param, v: &Json) -> Result<Value, String> {
    let val = coerce(p.kind, v, &p.values)?;
    if let Value::Str(s) = &val {
        if !p.allow_control
            && let Some(c) = s
                .chars()
                .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        {
            // Checked before `pattern`: `^.*-PUBLIC$` matches "C10000\u{0}-PUBLIC", and the
            // driver would bind "C10000".
            return Err(format!(
                "contains the control character U+{:04X}; such characters are not accepted here",
                c as u32
            ));
        }
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
        ParamType::Datetime => match v {
            Json::String(s) => date_time(s.trim()).ok_or_else(|| wrong(DATETIME)),
            _ => Err(wrong(DATETIME)),
        },
        ParamType::Enum => match v {
            Json::String(s) if values.contains(s) => Ok(Value::Str(s.clone())),
            _ => Err(wrong(&format!("one of {}", values.join(", ")))),
        },
        // A `Param`'s kind is its items' type; an array never reaches here.
        ParamType::Array => Err(wrong("a single value")),
    }
}

const DATETIME: &str = "a date and time as YYYY-MM-DDThh:mm:ss (fractions of a second and a zone, Z or +01:00, allowed)";

/// A valid XML Schema date-time, kept as written (a zone, if given, is part of what the
/// service is told): its canonical text, or None.
fn date_time(s: &str) -> Option<Value> {
    let zoned = chrono::DateTime::parse_from_rfc3339(s).is_ok();
    let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok();
    // RFC 3339 also allows a space or lower-case `t` for the `T`; XML Schema does not.
    (s.as_bytes().get(10) == Some(&b'T') && (zoned || naive)).then(|| Value::Str(s.to_string()))
}

fn describe(p: &Param) -> String {
    p.description.clone().unwrap_or_else(|| match p.list {
        Some(_) => format!("a list of {} values", type_name(p.kind)),
        None => format!("type {}", type_name(p.kind)),
    })
}

fn type_name(k: ParamType) -> &'static str {
    match k {
        ParamType::String => "string",
        ParamType::Integer => "integer",
        ParamType::Number => "number",
        ParamType::Boolean => "boolean",
        ParamType::Date => "date",
        ParamType::Datetime => "datetime",
        ParamType::Enum => "enum",
        ParamType::Array => "array",
    }
}

/// The tool's `inputSchema`: one property per parameter with its constraints, plus `cursor`
/// for tools whose results can be truncated.
pub fn input_schema(params: &[Param], with_cursor: bool) -> Map<String, Json> {
    let mut props = Map::new();
    for p in params.iter().filter(|p| p.from.is_none()) {
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
        .filter(|p| p.required && p.from.is_none())
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
    let description = p.description.as_deref();
    let mut s = match p.list {
        None => value_schema(p, description),
        Some(count) => {
            let mut a = Map::new();
            a.insert("type".into(), json!("array"));
            if let Some(d) = description {
                a.insert("description".into(), json!(d));
            }
            a.insert("items".into(), Json::Object(value_schema(p, None)));
            if count.min > 0 {
                a.insert("minItems".into(), json!(count.min));
            }
            a.insert("maxItems".into(), json!(count.max));
            a
        }
    };
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

/// The schema of one value (of each item, for an array): its type and rules.
fn value_schema(p: &Param, description: Option<&str>) -> Map<String, Json> {
    let mut s = Map::new();
    let ty = match p.kind {
        ParamType::String
        | ParamType::Date
        | ParamType::Datetime
        | ParamType::Enum
        | ParamType::Array => "string",
        ParamType::Integer => "integer",
        ParamType::Number => "number",
        ParamType::Boolean => "boolean",
    };
    s.insert("type".into(), json!(ty));
    if let Some(d) = description {
        s.insert("description".into(), json!(d));
    }
    if p.kind == ParamType::Date {
        s.insert("format".into(), json!("date"));
    }
    if p.kind == ParamType::Datetime {
        s.insert("format".into(), json!("date-time"));
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
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// XML Schema date-times: with or without fractions and zone; never a space for the `T`,
    /// a date alone or an impossible time.
    #[test]
    fn datetime_parameters_take_the_xml_schema_form() {
        for ok in [
            "2026-11-20T10:00:00",
            "2026-11-20T10:00:00.125",
            "2026-11-20T10:00:00Z",
            "2026-11-20T10:00:00+01:00",
        ] {
            assert_eq!(date_time(ok), Some(Value::Str(ok.into())), "{ok}");
        }
        for bad in [
            "2026-11-20 10:00:00",
            "2026-11-20",
            "2026-11-20T25:00:00",
            "2026-11-20t10:00:00Z",
            "20.11.2026 10:00",
        ] {
            assert_eq!(date_time(bad), None, "{bad}");
        }
    }

    fn param(kind: ParamType) -> Param {
        Param {
            name: "x".into(),
            kind,
            list: None,
            description: None,
            required: true,
            default: None,
            pattern: None,
            allow_control: false,
            from: None,
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
        let err = bind(
            &[a, b],
            args.as_object().unwrap(),
            &crate::principal::Principal::local(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            "unknown argument `extra` (this tool takes: customer_no, n); argument `customer_no` must match the pattern C[0-9]{5} (got \"X1\"); argument `n` must be at most 10 (got 11)"
        );
    }

    #[test]
    fn control_characters_are_refused_before_the_pattern_unless_allowed() {
        let mut p = param(ParamType::String);
        p.pattern = Some(Regex::new("^(?:.*-PUBLIC)$").unwrap());
        let err = check_one(&p, &json!("C10000\u{0}-PUBLIC")).unwrap_err();
        assert_eq!(
            err,
            "contains the control character U+0000; such characters are not accepted here"
        );
        assert!(check_one(&p, &json!("C10000\u{1b}[2J-PUBLIC")).is_err());
        assert!(check_one(&p, &json!("C10000\u{85}-PUBLIC")).is_err());
        assert!(check_one(&p, &json!("tab\tand CR\r-PUBLIC")).is_ok());
        assert!(check_one(&param(ParamType::String), &json!("line one\nline two")).is_ok());
        p.allow_control = true;
        assert!(check_one(&p, &json!("C10000\u{0}-PUBLIC")).is_ok());
    }

    #[test]
    fn strings_are_coerced_and_missing_required_is_named() {
        let mut p = param(ParamType::Date);
        p.name = "from".into();
        let ok = bind(
            std::slice::from_ref(&p),
            json!({"from": "2026-01-31"}).as_object().unwrap(),
            &crate::principal::Principal::local(),
        )
        .unwrap();
        assert_eq!(ok["from"].to_text(), "2026-01-31");
        let err = bind(&[p], &Map::new(), &crate::principal::Principal::local()).unwrap_err();
        assert_eq!(err, "missing required argument `from` (type date)");
        assert!(coerce(ParamType::Integer, &json!("42"), &[]).is_ok());
        assert!(coerce(ParamType::Integer, &json!(4.5), &[]).is_err());
    }

    #[test]
    fn array_items_are_each_checked_and_counted() {
        let mut p = param(ParamType::Integer);
        p.name = "ids".into();
        p.list = Some(ItemCount { min: 1, max: 3 });
        p.max = Some(Value::Int(100));
        let ok = bind(
            std::slice::from_ref(&p),
            json!({"ids": [1, "2"]}).as_object().unwrap(),
            &crate::principal::Principal::local(),
        )
        .unwrap();
        assert_eq!(ok["ids"], Value::List(vec![Value::Int(1), Value::Int(2)]));
        let err = |args: Json| {
            bind(
                std::slice::from_ref(&p),
                args.as_object().unwrap(),
                &crate::principal::Principal::local(),
            )
            .unwrap_err()
        };
        assert_eq!(
            err(json!({"ids": [1, 200]})),
            "argument `ids` item 2 must be at most 100 (got 200)"
        );
        assert_eq!(
            err(json!({"ids": []})),
            "argument `ids` has 0 items; at least 1 required"
        );
        assert_eq!(
            err(json!({"ids": [1, 2, 3, 4]})),
            "argument `ids` has 4 items; at most 3 allowed"
        );
        assert_eq!(
            err(json!({"ids": 7})),
            "argument `ids` must be a list of integer values, e.g. [1, 2] (got 7)"
        );
        let schema = param_schema(&p);
        assert_eq!(
            schema,
            json!({"type": "array", "items": {"type": "integer", "maximum": 100}, "minItems": 1, "maxItems": 3})
        );
    }
}
