//! A compiled table: its file, format, encoding and fields, and how one record's bytes become
//! typed values. Reading whole files lives in `reader.rs`; the key index in `index.rs`.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::keys::{DecodeErrors, Encoding, Storage, WhenIncomplete};
use crate::value::Value;

use super::codec::decode;
use super::error::FlatError;
pub use super::field::{Field, Place, When};
use super::record_types::Records;
use super::view::Slot;

#[derive(Debug, Clone, Copy)]
pub enum Format {
    Csv {
        delimiter: u8,
        quote: u8,
        header: bool,
    },
    FixedWidth {
        allow_short: bool,
        /// The bytes the layout covers (the end of the last field).
        record_len: usize,
        framing: Framing,
    },
}

/// How fixed-width records are found in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// One record per line; CRLF or LF.
    Lines,
    /// No line ends: records of exactly this many bytes (LRECL).
    Fixed(usize),
    /// A 4-byte record descriptor word before each record (IBM: a big-endian length that
    /// includes the word itself, then two zero bytes), in the variant the mapping declares.
    Rdw(Rdw),
}

/// How the descriptor words of a variable-length file are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rdw {
    /// The length counts only the record, not the 4 header bytes.
    pub excludes_header: bool,
    pub little_endian: bool,
    /// Records come in blocks, each behind a block descriptor word written the same way.
    pub blocked: bool,
}

impl Rdw {
    /// Every variant, IBM's first, blocked before unblocked: what the reader tries when the
    /// declared one does not fit. (A blocked file also reads whole as unblocked, each block one
    /// record; an unblocked file read as blocked fails at once.)
    pub fn variants() -> impl Iterator<Item = Rdw> {
        (0..8u8).map(|bits| Rdw {
            blocked: bits & 1 == 0,
            excludes_header: bits & 2 != 0,
            little_endian: bits & 4 != 0,
        })
    }

    /// The length a descriptor word gives for the bytes after it, or None when the 4 bytes are
    /// not a descriptor word of this variant (the two reserved bytes must be zero; a BDW of
    /// IBM's extended form, high bit set, holds a 31-bit length).
    pub fn body_len(&self, word: [u8; 4], block: bool) -> Option<usize> {
        let total = if self.little_endian {
            if word[2] != 0 || word[3] != 0 {
                return None;
            }
            u16::from_le_bytes([word[0], word[1]]) as usize
        } else if block && word[0] & 0x80 != 0 {
            (u32::from_be_bytes(word) & 0x7FFF_FFFF) as usize
        } else {
            if word[2] != 0 || word[3] != 0 {
                return None;
            }
            u16::from_be_bytes([word[0], word[1]]) as usize
        };
        if self.excludes_header {
            (total > 0).then_some(total)
        } else {
            total.checked_sub(4).filter(|n| *n > 0)
        }
    }

    /// How the mapping says this variant (for messages).
    pub fn describe(&self) -> String {
        let mut keys = Vec::new();
        if self.excludes_header {
            keys.push("length: excludes_header");
        }
        if self.little_endian {
            keys.push("byte_order: little");
        }
        if self.blocked {
            keys.push("blocked: true");
        }
        if keys.is_empty() {
            "`framing: rdw` without `rdw:` options (IBM's RDW)".into()
        } else {
            format!("`framing: rdw` with `rdw: {{{}}}`", keys.join(", "))
        }
    }
}

/// One record's raw bytes as the reader found them.
pub enum Line<'a> {
    Fixed(&'a [u8]),
    Csv(&'a csv::ByteRecord),
}

pub struct Table {
    pub name: String,
    /// The file name as written in the mapping (used in messages).
    pub file_name: String,
    pub path: PathBuf,
    /// The source directory; the file must resolve inside it.
    pub dir: PathBuf,
    pub format: Format,
    pub encoding: Encoding,
    pub decode_errors: DecodeErrors,
    pub fields: Vec<Field>,
    /// The indexed field (the first key field), if any.
    pub index_field: Option<usize>,
    pub stable_for: Duration,
    /// Record types, header and trailer of a multi-record file.
    pub records: Records,
    /// Child segments: tables of the same file whose records follow one of this table's and
    /// belong to it; each row carries a list of each child's records, after its own fields.
    pub children: Vec<Arc<Table>>,
    pub when_incomplete: WhenIncomplete,
    /// The last view of the file (column map and key index), rebuilt when the file changes.
    pub view: Mutex<Slot>,
}

/// Where a record is, for messages.
#[derive(Debug, Clone, Copy)]
pub struct RecordAt {
    pub number: u64,
    pub offset: u64,
}

impl Table {
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// Decode field `fi` of a record. `columns` maps fields to csv columns for this file version.
    pub fn decode_field(
        &self,
        line: &Line<'_>,
        fi: usize,
        columns: &[usize],
        at: RecordAt,
    ) -> Result<Value, FlatError> {
        self.decode_with(&self.fields[fi], line, columns.get(fi).copied(), at)
    }

    /// Decode `field` (a table or trailer field) of a record; `column` is its csv column.
    pub fn decode_with(
        &self,
        field: &Field,
        line: &Line<'_>,
        column: Option<usize>,
        at: RecordAt,
    ) -> Result<Value, FlatError> {
        // Another record layout over these bytes: not decoded (it may not even parse as this
        // field's type), null.
        if let Some(when) = &field.when {
            let gate = self.decode_with(&self.fields[when.field], line, column, at)?;
            if gate.compare(&when.value) != std::cmp::Ordering::Equal || gate.is_null() {
                return Ok(Value::Null);
            }
        }
        let (bytes, field_offset) = match (line, &field.place) {
            (Line::Fixed(l), Place::Fixed { start, length }) => {
                let from = (*start).min(l.len());
                let to = (start + length).min(l.len());
                (&l[from..to], *start as u64)
            }
            // csv: the csv reader unquotes fields, so the record's offset is the honest one.
            (Line::Csv(r), _) => match column.and_then(|c| r.get(c)) {
                Some(bytes) => (bytes, 0),
                None => {
                    return Err(self.record_error(
                        at,
                        field,
                        format!(
                            "record has {} columns but the field is column {}; the record is truncated or the layout is wrong",
                            r.len(),
                            column.map_or(0, |c| c + 1)
                        ),
                    ));
                }
            },
            _ => unreachable!("field places are compiled to match the table format"),
        };
        if field.codec.storage != Storage::Text {
            if let Place::Fixed { length, .. } = field.place
                && !bytes.is_empty()
                && bytes.len() < length
            {
                return Err(self.record_error(
                    at,
                    field,
                    format!(
                        "the record ends inside this field ({} of its {length} bytes); a stored number cannot be read in part",
                        bytes.len()
                    ),
                ));
            }
            return field
                .codec
                .parse_stored(bytes, self.encoding)
                .map_err(|bad| {
                    let byte = self.body_offset(at) + field_offset + bad.at as u64;
                    self.value_error(at, field, format!("{} (byte {byte})", bad.message))
                });
        }
        let text = decode(bytes, self.encoding, self.decode_errors).map_err(|bad| {
            self.record_error(
                at,
                field,
                format!(
                    "invalid {} at byte {} (set decode_errors: replace to accept it)",
                    encoding_name(self.encoding),
                    self.body_offset(at) + field_offset + bad as u64
                ),
            )
        })?;
        field
            .codec
            .parse(&text)
            .map_err(|m| self.value_error(at, field, m))
    }

    /// Where a record's fields begin in the file: past the RDW of a variable-length record.
    fn body_offset(&self, at: RecordAt) -> u64 {
        match self.format {
            Format::FixedWidth {
                framing: Framing::Rdw(_),
                ..
            } => at.offset + 4,
            _ => at.offset,
        }
    }

    /// A value that does not read as its type. The message quotes the value, unless the field
    /// is masked somewhere: then it says only what kind of value was expected.
    fn value_error(&self, at: RecordAt, field: &Field, message: String) -> FlatError {
        if field.withheld.load(Ordering::Relaxed) {
            let kind = field.kind().name();
            return self.record_error(
                at,
                field,
                format!("the value is not a valid {kind} (not quoted: the field is masked)"),
            );
        }
        self.record_error(at, field, message)
    }

    pub fn record_error(&self, at: RecordAt, field: &Field, message: String) -> FlatError {
        self.problem(at, format!("field `{}`: {message}", field.name))
    }

    /// Something wrong with one record.
    pub fn problem(&self, at: RecordAt, message: String) -> FlatError {
        FlatError::Record {
            file: self.file_name.clone(),
            record: at.number,
            offset: at.offset,
            message,
        }
    }

    /// This version of the file is not a whole export.
    pub fn incomplete(&self, message: String) -> FlatError {
        FlatError::Incomplete {
            file: self.file_name.clone(),
            message,
        }
    }
}

pub fn encoding_name(e: Encoding) -> &'static str {
    match e {
        Encoding::Utf8 => "utf-8",
        Encoding::Windows1252 => "windows-1252",
        Encoding::Iso88591 => "iso-8859-1",
        Encoding::Cp437 => "cp437",
        Encoding::Cp850 => "cp850",
        Encoding::Cp037 => "cp037",
        Encoding::Cp500 => "cp500",
        Encoding::Cp1047 => "cp1047",
        Encoding::Cp273 => "cp273",
    }
}
