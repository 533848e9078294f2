//! One field of a table: where its bytes are, how they are stored and decoded, and the
//! condition a REDEFINES-style variant is read under. Below the table and the record types,
//! which both hold fields.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::mapping::model::FieldType;
use crate::value::Value;

use super::codec::FieldCodec;

/// Where a field's bytes are.
#[derive(Debug, Clone)]
pub enum Place {
    /// fixed_width: 0-based byte start and length.
    Fixed {
        start: usize,
        length: usize,
    },
    /// csv: a header name (resolved per file version) or a 0-based column number.
    Named(String),
    Column(usize),
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub place: Place,
    pub codec: FieldCodec,
    pub description: Option<String>,
    /// The masking policy named on the field in the table, if any.
    pub mask: Option<String>,
    /// Set when any tool masks this field: its value is then never quoted in an error.
    pub withheld: Arc<AtomicBool>,
    /// Read only in records where another field has a value (a COBOL REDEFINES chosen by a
    /// type field); null in the others.
    pub when: Option<When>,
}

/// The condition on a field: field `field` of the same table reads as `value`.
#[derive(Debug, Clone)]
pub struct When {
    pub field: usize,
    pub value: Value,
}

impl Field {
    pub fn kind(&self) -> FieldType {
        self.codec.kind
    }

    /// Never quote this field's value in an error from now on (a tool masks it).
    pub fn withhold(&self) {
        self.withheld.store(true, Ordering::Relaxed);
    }
}
