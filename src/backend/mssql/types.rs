//! TDS values and the adapter's typed values, both ways.
//!
//! Reading: a cell arrives typed (int, numeric, nvarchar, datetime2, ...). When that type is
//! the declared column type's natural one the value is taken as is; otherwise it goes through
//! its ISO text form and the same parser the ODBC backend uses (`sql::parse_cell`), so both
//! backends agree on what `decimal`, `date` or `boolean` accept, and sentinel dates and CHAR
//! padding are handled in one place. Decimals keep every digit (TDS sends them as scaled
//! integers of up to 38 digits).
//!
//! Binding: each value becomes a typed `sp_executesql` parameter (bigint, float, bit,
//! numeric(p,s), date, time, datetime2, varbinary, nvarchar); NULL is sent as a typeless null.

use std::borrow::Cow;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use tiberius::numeric::Numeric;
use tiberius::{ColumnData, FromSql, IntoSql};

use crate::backend::sql::{CellRules, parse_cell};
use crate::mapping::model::FieldType;
use crate::value::Value;

/// A bound value as a typed RPC parameter.
pub fn parameter(v: &Value) -> ColumnData<'static> {
    match v {
        Value::Null => ColumnData::String(None),
        Value::Str(t) => ColumnData::String(Some(Cow::Owned(t.clone()))),
        Value::Int(i) => ColumnData::I64(Some(*i)),
        Value::Num(f) => ColumnData::F64(Some(*f)),
        Value::Bool(b) => ColumnData::Bit(Some(*b)),
        Value::Dec(d) => decimal_text(&d.to_string()),
        Value::DecText(t) => decimal_text(t),
        Value::Date(d) => d.into_sql(),
        Value::DateTime(t) => t.into_sql(),
        Value::Time(t) => t.into_sql(),
        Value::Bytes(b) => ColumnData::Binary(Some(Cow::Owned(b.clone()))),
        // Parameters are scalars (no parameter type binds a list); sent as JSON text if ever.
        Value::List(_) | Value::Record(_) => {
            ColumnData::String(Some(Cow::Owned(v.to_json().to_string())))
        }
    }
}

/// `-123.4500` as numeric(38,4); text too long for 38 digits goes as nvarchar and the server
/// converts it (or says why not).
fn decimal_text(t: &str) -> ColumnData<'static> {
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = format!("{int}{frac}");
    match digits.parse::<i128>() {
        Ok(v) if frac.len() <= 37 && digits.trim_start_matches(['-', '+']).len() <= 38 => {
            ColumnData::Numeric(Some(Numeric::new_with_scale(v, frac.len() as u8)))
        }
        _ => ColumnData::String(Some(Cow::Owned(t.to_string()))),
    }
}

/// Bytes a cell's value takes, to hold `max_text_length`.
pub fn byte_len(d: &ColumnData<'_>) -> usize {
    match d {
        ColumnData::String(Some(s)) => s.len(),
        ColumnData::Binary(Some(b)) => b.len(),
        _ => 0,
    }
}

/// A cell as a value of the declared type.
pub fn value(kind: FieldType, d: ColumnData<'static>, rules: &CellRules) -> Result<Value, String> {
    let natural = natural(&d)?;
    match (kind, natural) {
        (_, Value::Null) => Ok(Value::Null),
        (FieldType::String, Value::Str(s)) if !rules.trim_padding => Ok(Value::Str(s)),
        (FieldType::Integer, v @ Value::Int(_)) => Ok(v),
        (FieldType::Number, v @ Value::Num(_)) => Ok(v),
        (FieldType::Boolean, v @ Value::Bool(_)) => Ok(v),
        (FieldType::Decimal, v @ Value::DecText(_)) => Ok(v),
        (FieldType::Time, v @ Value::Time(_)) => Ok(v),
        (FieldType::Binary, v @ Value::Bytes(_)) => Ok(v),
        (FieldType::Binary, _) => Err("a value that is not binary cannot be read as binary".into()),
        (_, Value::Bytes(_)) => Err(format!("a binary value cannot be read as {}", kind.name())),
        (kind, v) => parse_cell(kind, &text(&v), rules),
    }
}

/// A cell as the value its TDS type suggests.
fn natural(d: &ColumnData<'static>) -> Result<Value, String> {
    let fail = |e: tiberius::error::Error| e.to_string();
    Ok(match d {
        ColumnData::U8(v) => v.map_or(Value::Null, |x| Value::Int(x.into())),
        ColumnData::I16(v) => v.map_or(Value::Null, |x| Value::Int(x.into())),
        ColumnData::I32(v) => v.map_or(Value::Null, |x| Value::Int(x.into())),
        ColumnData::I64(v) => v.map_or(Value::Null, Value::Int),
        ColumnData::F32(v) => v.map_or(Value::Null, |x| Value::Num(x.into())),
        ColumnData::F64(v) => v.map_or(Value::Null, Value::Num),
        ColumnData::Bit(v) => v.map_or(Value::Null, Value::Bool),
        ColumnData::String(v) => v
            .as_ref()
            .map_or(Value::Null, |s| Value::Str(s.to_string())),
        ColumnData::Guid(v) => v.map_or(Value::Null, |g| {
            Value::Str(g.hyphenated().to_string().to_uppercase())
        }),
        ColumnData::Binary(v) => v.as_ref().map_or(Value::Null, |b| Value::Bytes(b.to_vec())),
        ColumnData::Numeric(v) => v.map_or(Value::Null, |n| Value::DecText(numeric_text(n))),
        ColumnData::Xml(v) => v
            .as_ref()
            .map_or(Value::Null, |x| Value::Str(x.to_string())),
        ColumnData::DateTime2(_) => NaiveDateTime::from_sql(d)
            .map_err(fail)?
            .map_or(Value::Null, Value::DateTime),
        // `datetime` counts 1/300 s; SQL Server shows it rounded to milliseconds (.997).
        ColumnData::DateTime(_) | ColumnData::SmallDateTime(_) => NaiveDateTime::from_sql(d)
            .map_err(fail)?
            .map_or(Value::Null, |t| Value::DateTime(to_millis(t))),
        ColumnData::Date(_) => NaiveDate::from_sql(d)
            .map_err(fail)?
            .map_or(Value::Null, Value::Date),
        ColumnData::Time(_) => NaiveTime::from_sql(d)
            .map_err(fail)?
            .map_or(Value::Null, Value::Time),
        // A moment with an offset reads as its UTC date and time.
        ColumnData::DateTimeOffset(_) => chrono::DateTime::<chrono::Utc>::from_sql(d)
            .map_err(fail)?
            .map_or(Value::Null, |t| Value::DateTime(t.naive_utc())),
    })
}

fn to_millis(t: NaiveDateTime) -> NaiveDateTime {
    use chrono::{DurationRound, TimeDelta};
    t.duration_round(TimeDelta::milliseconds(1)).unwrap_or(t)
}

/// A numeric's exact digits: value 123450 with scale 4 is `12.3450`.
pub fn numeric_text(n: Numeric) -> String {
    let v = n.value();
    let scale = n.scale() as usize;
    let digits = v.unsigned_abs().to_string();
    let digits = if digits.len() <= scale {
        format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
    } else {
        digits
    };
    let (int, frac) = digits.split_at(digits.len() - scale);
    let sign = if v < 0 { "-" } else { "" };
    if scale == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// The ISO text form `sql::parse_cell` reads.
fn text(v: &Value) -> String {
    match v {
        Value::DateTime(t) => t.format("%Y-%m-%d %H:%M:%S%.f").to_string(),
        Value::Time(t) => t.format("%H:%M:%S%.f").to_string(),
        Value::Date(d) => d.format("%Y-%m-%d").to_string(),
        Value::Bool(b) => if *b { "1" } else { "0" }.to_string(),
        other => other.to_text(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numerics_keep_every_digit() {
        let n = Numeric::new_with_scale(-1_234_500, 4);
        assert_eq!(numeric_text(n), "-123.4500");
        let n = Numeric::new_with_scale(5, 3);
        assert_eq!(numeric_text(n), "0.005");
        let big = 12_345_678_901_234_567_890_123_456_789_012_345_678i128;
        assert_eq!(
            numeric_text(Numeric::new_with_scale(big, 20)),
            "123456789012345678.90123456789012345678"
        );
        assert_eq!(numeric_text(Numeric::new_with_scale(42, 0)), "42");
    }

    #[test]
    fn decimal_parameters_are_exact_numerics() {
        match decimal_text("-123456789012345678.90123456789012345678") {
            ColumnData::Numeric(Some(n)) => {
                assert_eq!(n.scale(), 20);
                assert_eq!(numeric_text(n), "-123456789012345678.90123456789012345678");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cells_follow_the_declared_type() {
        let rules = CellRules {
            trim_padding: true,
            null_dates: vec![NaiveDate::from_ymd_opt(1753, 1, 1).unwrap()],
        };
        let dt = NaiveDate::from_ymd_opt(1753, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        assert_eq!(
            value(FieldType::Date, dt.into_sql(), &rules).unwrap(),
            Value::Null
        );
        let v = value(FieldType::Decimal, ColumnData::I32(Some(7)), &rules).unwrap();
        assert_eq!(v, Value::DecText("7".into()));
        let v = value(
            FieldType::String,
            ColumnData::String(Some("AB  ".into())),
            &rules,
        )
        .unwrap();
        assert_eq!(v, Value::Str("AB".into()));
        assert!(
            value(
                FieldType::Integer,
                ColumnData::String(Some("x".into())),
                &rules
            )
            .is_err()
        );
    }
}
