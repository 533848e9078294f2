//! The type of a field or parameter value: below the model and the shorthand parsers, which
//! both name it.

use schemars::JsonSchema;
use serde::Deserialize;

/// Type of a field or parameter value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    String,
    Integer,
    /// Exact decimal; appears in JSON as a string such as "123.45".
    Decimal,
    /// Binary floating point; use decimal for amounts.
    Number,
    Boolean,
    /// Appears in JSON as an ISO 8601 date string.
    Date,
    /// SQL only: a date and time without zone, as ISO 8601 (`2026-11-20T14:30:00`).
    Datetime,
    /// SQL only: a time of day, as ISO 8601 (`14:30:00`).
    Time,
    /// SQL only: bytes, as a base64 string.
    Binary,
}

impl FieldType {
    pub fn name(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Integer => "integer",
            FieldType::Decimal => "decimal",
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Time => "time",
            FieldType::Binary => "binary",
        }
    }
}
