//! The record types of a multi-record file as compiled from the mapping: type codes, the header,
//! the trailer with its control totals, and which records are this table's. Plain layout, below
//! the table that holds it; checking a file against it is `records.rs`.

use std::sync::Arc;

use super::keys::CountRule;

use super::field::Field;

/// A record type code: the bytes a record of this type has at `start`.
#[derive(Debug, Clone)]
pub struct TypeCode {
    /// 0-based byte offset in the record.
    pub start: usize,
    /// The code in the file's encoding, padded to its length.
    pub bytes: Vec<u8>,
    /// How many of `bytes` are the code itself; the rest is padding.
    pub significant: usize,
    /// The encoding's space: padding, like LOW-VALUES (0x00) and HIGH-VALUES (0xFF).
    pub space: u8,
    /// The code as the mapping wrote it, for messages.
    pub text: String,
}

impl TypeCode {
    /// The record carries this code: the code's own bytes, then padding to the declared
    /// length, whether the program that wrote the file padded with spaces, LOW-VALUES (0x00)
    /// or HIGH-VALUES (0xFF), as mainframe programs do.
    pub fn matches(&self, record: &[u8]) -> bool {
        let Some(found) = record.get(self.start..self.start + self.bytes.len()) else {
            return false;
        };
        let (code, pad) = found.split_at(self.significant);
        code == &self.bytes[..self.significant]
            && pad
                .iter()
                .all(|&b| b == self.space || b == 0x00 || b == 0xFF)
    }

    pub(super) fn describe(&self) -> String {
        format!(
            "`{}` at bytes {}-{}",
            self.text,
            self.start + 1,
            self.start + self.bytes.len()
        )
    }
}

/// The trailer record and its control totals.
#[derive(Debug)]
pub struct Trailer {
    pub code: TypeCode,
    pub fields: Vec<Field>,
    /// The bytes the trailer's layout covers.
    pub record_len: usize,
    /// The trailer field holding the record count.
    pub count: Option<usize>,
    pub counts: CountRule,
    /// The record type of the table that declares the trailer: what `table_records` counts
    /// and what the sums add up. None: every data record.
    pub table_type: Option<TypeCode>,
    pub sums: Vec<Sum>,
}

/// A control total: a trailer field that is the sum of a field of the declaring table.
#[derive(Debug)]
pub struct Sum {
    pub trailer_field: usize,
    /// The summed field (a copy of the declaring table's, so every table reading the file can
    /// verify the trailer).
    pub field: Field,
}

impl Trailer {
    /// Whether a data record is one of the declaring table's.
    pub(super) fn counts_as_table(&self, record: &[u8]) -> bool {
        self.table_type.as_ref().is_none_or(|c| c.matches(record))
    }
}

/// How a table picks its records out of a file that holds several kinds.
#[derive(Debug, Default)]
pub struct Records {
    /// This table's records; None: every record that is not the header or trailer.
    pub own: Option<TypeCode>,
    /// Types that other tables read from the same file, or that are skipped on purpose.
    pub others: Vec<TypeCode>,
    pub header: Option<TypeCode>,
    /// Shared by every table reading the file; declared on one of them.
    pub trailer: Option<Arc<Trailer>>,
}

/// What one record of the file is to this table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Own,
    Header,
    Trailer,
    /// Another table's record type, or one skipped on purpose.
    Other,
}

impl Records {
    /// Whether the file has more than one kind of record (so every version is checked whole).
    pub fn is_multi(&self) -> bool {
        self.own.is_some() || self.header.is_some() || self.trailer.is_some()
    }

    /// The kind of `record`; None when its type code is not one the mapping declares.
    pub fn classify(&self, record: &[u8]) -> Option<Kind> {
        if self.header.as_ref().is_some_and(|h| h.matches(record)) {
            return Some(Kind::Header);
        }
        if self
            .trailer
            .as_ref()
            .is_some_and(|t| t.code.matches(record))
        {
            return Some(Kind::Trailer);
        }
        let other = self.others.iter().any(|o| o.matches(record));
        match &self.own {
            Some(own) if own.matches(record) => Some(Kind::Own),
            _ if other => Some(Kind::Other),
            Some(_) => None,
            None => Some(Kind::Own),
        }
    }
}
