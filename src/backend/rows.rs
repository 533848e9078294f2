//! What every source kind shares: the bound query flat files answer (`Query`, `Filter`, `Op`),
//! the `RowSet` every kind gives back, the declared result `Column`, and the scrub that keeps
//! credentials out of errors.
//! Below the kinds, so no kind needs the dispatching `backend` module.

use crate::mapping::model::FieldType;
use crate::value::Value;

/// A comparison a filter makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Equals,
    StartsWith,
    Min,
    Max,
    LessThan,
    GreaterThan,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Equals => "equals",
            Op::StartsWith => "starts_with",
            Op::Min => "min",
            Op::Max => "max",
            Op::LessThan => "less_than",
            Op::GreaterThan => "greater_than",
        }
    }

    /// Whether `value` (a record's field) satisfies `self operand`. Null never matches.
    pub fn test(self, value: &Value, operand: &Value) -> bool {
        use std::cmp::Ordering::*;
        if value.is_null() {
            return false;
        }
        match self {
            Op::Equals => value.compare(operand) == Equal,
            Op::StartsWith => value.to_text().starts_with(&operand.to_text()),
            Op::Min => value.compare(operand) != Less,
            Op::Max => value.compare(operand) != Greater,
            Op::LessThan => value.compare(operand) == Less,
            Op::GreaterThan => value.compare(operand) == Greater,
        }
    }
}

/// One bound filter: field number (in the table's field order), comparison, value.
#[derive(Debug, Clone)]
pub struct Filter {
    pub field: usize,
    pub op: Op,
    pub value: Value,
}

/// A read request with every value bound.
#[derive(Debug, Clone)]
pub struct Query {
    pub filters: Vec<Filter>,
    /// (field number, descending)
    pub order: Vec<(usize, bool)>,
    /// Rows to skip (from a cursor).
    pub offset: u64,
    /// Rows to return; one more is looked for to know whether the result is truncated.
    pub limit: u64,
}

/// Rows in the table's field order.
#[derive(Debug, Clone)]
pub struct RowSet {
    pub rows: Vec<Vec<Value>>,
    /// More rows match than were returned.
    pub truncated: bool,
    /// Identifies the version of the data (a flat file's size and mtime), so a cursor taken
    /// from one version is not continued on another.
    pub version: String,
    /// Something the caller should know about this answer (it comes from an older version of
    /// the data, and why).
    pub notice: Option<String>,
}

/// `text` with every secret replaced by `***`, longest first (a secret inside another is not
/// left half-shown). Every backend's errors pass through here with that source's credentials.
pub fn scrub(text: &str, secrets: &[String]) -> String {
    let mut sorted: Vec<&String> = secrets.iter().filter(|s| !s.is_empty()).collect();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for s in sorted {
        out = out.replace(s.as_str(), "***");
    }
    out
}

/// One declared result column of a tool (SQL and SOAP tools declare them).
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub kind: FieldType,
    pub description: Option<String>,
    /// A tool masks this column: its values are never quoted in errors.
    pub withheld: bool,
}

impl Column {
    /// "column `x`: <problem>", without the value when the column is masked.
    pub fn value_error(&self, problem: String) -> String {
        if self.withheld {
            format!(
                "column `{}`: the value is not a valid {} (not quoted: the column is masked)",
                self.name,
                self.kind.name()
            )
        } else {
            format!("column `{}`: {problem}", self.name)
        }
    }
}
