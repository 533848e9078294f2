//! Typed values that flow through the pipeline: bound arguments, decoded fields, shaped results.
//!
//! Decimals are exact (`rust_decimal`) and appear in JSON as strings (`"123.45"`) so that no
//! binary float ever touches a money amount; dates appear as ISO 8601 strings (`"2026-11-20"`).

use std::cmp::Ordering;

use base64::Engine;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use rust_decimal::Decimal;
use serde_json::Value as Json;

/// One typed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Str(String),
    Int(i64),
    Num(f64),
    Dec(Decimal),
    Bool(bool),
    Date(NaiveDate),
    /// A date and time without zone (SQL `DATETIME`, `TIMESTAMP`, `DATETIME2`).
    DateTime(NaiveDateTime),
    Time(NaiveTime),
    /// Binary data; base64 in JSON.
    Bytes(Vec<u8>),
    /// An exact decimal too wide for `Dec` (SQL `DECIMAL(38,20)` has 38 digits, `Decimal` 28),
    /// kept as validated canonical text so it round-trips digit for digit.
    DecText(String),
    /// Every value a repeated SOAP element gave, in document order; an array in JSON.
    List(Vec<Value>),
    /// One repeated child record of a SOAP answer (a sales order line): its fields in the
    /// mapping's order; an object in JSON.
    Record(Vec<(String, Value)>),
}

impl Value {
    /// The JSON form: decimals and dates as strings, see the module doc.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Str(s) => Json::String(s.clone()),
            Value::Int(i) => Json::from(*i),
            Value::Num(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            // `Decimal`'s Display keeps the parsed scale (`12.50` stays `12.50`).
            Value::Dec(d) => Json::String(d.to_string()),
            Value::Bool(b) => Json::Bool(*b),
            Value::Date(d) => Json::String(d.format("%Y-%m-%d").to_string()),
            Value::DateTime(t) => Json::String(t.format("%Y-%m-%dT%H:%M:%S%.f").to_string()),
            Value::Time(t) => Json::String(t.format("%H:%M:%S%.f").to_string()),
            Value::Bytes(b) => Json::String(base64::engine::general_purpose::STANDARD.encode(b)),
            Value::DecText(t) => Json::String(t.clone()),
            Value::List(items) => Json::Array(items.iter().map(Value::to_json).collect()),
            Value::Record(fields) => Json::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// A plain text form, used in messages and when a string is compared with a prefix.
    pub fn to_text(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Str(s) => s.clone(),
            Value::Num(f) => format!("{f}"),
            other => match other.to_json() {
                Json::String(s) => s,
                j => j.to_string(),
            },
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Total order used for sorting and range filters. Null sorts first; values of different
    /// kinds compare numerically where both are numbers, otherwise by their text.
    pub fn compare(&self, other: &Value) -> Ordering {
        use Value::*;
        match (self, other) {
            (Null, Null) => Ordering::Equal,
            (Null, _) => Ordering::Less,
            (_, Null) => Ordering::Greater,
            (Str(a), Str(b)) => a.cmp(b),
            (Int(a), Int(b)) => a.cmp(b),
            (Dec(a), Dec(b)) => a.cmp(b),
            (Int(a), Dec(b)) => Decimal::from(*a).cmp(b),
            (Dec(a), Int(b)) => a.cmp(&Decimal::from(*b)),
            (Date(a), Date(b)) => a.cmp(b),
            (DateTime(a), DateTime(b)) => a.cmp(b),
            (Time(a), Time(b)) => a.cmp(b),
            (Bytes(a), Bytes(b)) => a.cmp(b),
            (Bool(a), Bool(b)) => a.cmp(b),
            (a, b) => match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                _ => a.to_text().cmp(&b.to_text()),
            },
        }
    }

    fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Num(f) => Some(*f),
            Value::Dec(d) => d.to_string().parse().ok(),
            Value::DecText(t) => t.parse().ok(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn decimals_are_json_strings_with_their_scale() {
        let d = Value::Dec(Decimal::from_str("123.40").unwrap());
        assert_eq!(d.to_json(), Json::String("123.40".into()));
    }

    #[test]
    fn null_sorts_first_and_numbers_compare_across_kinds() {
        assert_eq!(Value::Null.compare(&Value::Int(1)), Ordering::Less);
        let d = Value::Dec(Decimal::from_str("1.5").unwrap());
        assert_eq!(Value::Int(2).compare(&d), Ordering::Greater);
    }
}
