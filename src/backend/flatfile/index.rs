//! A view of one version of an export: where data starts, which csv column each field is, and
//! a sorted index of the first key field so lookups read a handful of records instead of the
//! file. Built on first use and again whenever the file's size or mtime changes.
//!
//! The index stores 16 bytes per record: an order-preserving 8-byte prefix of the key and the
//! record's byte offset. A lookup finds the prefix range by binary search, then reads and checks
//! the candidate records (several keys may share a prefix).

use std::fs::File;
use std::sync::Arc;

use crate::backend::{Filter, Op};
use crate::mapping::model::FieldType;
use crate::value::Value;

use super::error::FlatError;
use super::reader::{self, Fingerprint, csv_reader};
use super::table::{Format, Line, Place, Table};

pub struct View {
    pub fingerprint: Fingerprint,
    /// Byte offset of the first data record (after a csv header).
    pub data_start: u64,
    /// csv: the column of each field; empty for fixed width.
    pub columns: Vec<usize>,
    /// (key prefix, record offset), sorted; None when the table has no indexable key.
    pub entries: Option<Vec<(u64, u64)>>,
}

/// The view for this version of the file, building it if the file changed. Holding the lock
/// while building makes concurrent first calls wait for one build instead of each reading the
/// whole file.
pub fn view_for(table: &Table, handle: &File, fp: Fingerprint) -> Result<Arc<View>, FlatError> {
    let mut slot = table.view.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(view) = slot.as_ref()
        && view.fingerprint == fp
    {
        return Ok(view.clone());
    }
    let view = Arc::new(build(table, handle, fp)?);
    *slot = Some(view.clone());
    Ok(view)
}

fn build(table: &Table, handle: &File, fp: Fingerprint) -> Result<View, FlatError> {
    let (data_start, columns) = read_header(table, handle)?;
    let entries = match table.index_field {
        Some(fi) if indexable(table.fields[fi].kind()) => {
            Some(index_key(table, handle, data_start, &columns, fi)?)
        }
        _ => None,
    };
    reader::confirm_unchanged(table, handle, fp)?;
    Ok(View {
        fingerprint: fp,
        data_start,
        columns,
        entries,
    })
}

fn indexable(kind: FieldType) -> bool {
    matches!(
        kind,
        FieldType::String | FieldType::Integer | FieldType::Date
    )
}

/// csv with a header: find each named field's column. Without a header: declared columns.
fn read_header(table: &Table, handle: &File) -> Result<(u64, Vec<usize>), FlatError> {
    let Format::Csv {
        delimiter,
        quote,
        header,
    } = table.format
    else {
        return Ok((0, Vec::new()));
    };
    let mut names: Vec<String> = Vec::new();
    let mut data_start = 0;
    if header {
        let mut rdr = csv_reader(std::io::BufReader::new(handle), delimiter, quote);
        let mut rec = csv::ByteRecord::new();
        let io = |e: csv::Error| FlatError::Unreadable {
            file: table.file_name.clone(),
            message: e.to_string(),
        };
        if !rdr.read_byte_record(&mut rec).map_err(io)? {
            return Err(FlatError::Layout {
                file: table.file_name.clone(),
                message: "the file is empty: no header row".into(),
            });
        }
        data_start = rdr.position().byte();
        names = rec
            .iter()
            .map(|b| {
                super::codec::decode(
                    b,
                    table.encoding,
                    crate::mapping::model::DecodeErrors::Replace,
                )
                .unwrap_or_default()
                .trim()
                .trim_start_matches('\u{feff}')
                .to_string()
            })
            .collect();
    }
    let columns = table
        .fields
        .iter()
        .map(|f| match &f.place {
            Place::Column(c) => Ok(*c),
            Place::Named(name) => {
                names
                    .iter()
                    .position(|n| n == name)
                    .ok_or_else(|| FlatError::Layout {
                        file: table.file_name.clone(),
                        message: format!(
                            "the header has no column `{name}` (for field `{}`); it has: {}",
                            f.name,
                            names.join(", ")
                        ),
                    })
            }
            Place::Fixed { .. } => unreachable!("csv tables have csv places"),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((data_start, columns))
}

fn index_key(
    table: &Table,
    handle: &File,
    data_start: u64,
    columns: &[usize],
    fi: usize,
) -> Result<Vec<(u64, u64)>, FlatError> {
    let mut entries = Vec::new();
    reader::scan(table, handle, data_start, 1, |line: &Line<'_>, at| {
        let key = table.decode_field(line, fi, columns, at)?;
        entries.push((prefix(&key), at.offset));
        Ok(true)
    })?;
    entries.sort_unstable();
    entries.shrink_to_fit();
    Ok(entries)
}

/// An 8-byte prefix whose unsigned order agrees with `Value::compare` for the indexable kinds.
pub fn prefix(v: &Value) -> u64 {
    match v {
        Value::Null => 0,
        Value::Str(s) => text_prefix(s.as_bytes(), 0),
        Value::Int(i) => (*i as u64) ^ (1 << 63),
        Value::Date(d) => {
            let days = d.signed_duration_since(chrono::NaiveDate::MIN).num_days();
            days as u64
        }
        _ => 0,
    }
}

fn text_prefix(bytes: &[u8], pad: u8) -> u64 {
    let mut b = [pad; 8];
    let n = bytes.len().min(8);
    b[..n].copy_from_slice(&bytes[..n]);
    u64::from_be_bytes(b)
}

/// The candidate record offsets (ascending, i.e. file order) for the filters on the indexed
/// field, or None when the index cannot narrow the search.
pub fn candidates(
    view: &View,
    field: usize,
    kind: FieldType,
    filters: &[Filter],
) -> Option<Vec<u64>> {
    let entries = view.entries.as_ref()?;
    let (mut lo, mut hi) = (u64::MIN, u64::MAX);
    let mut narrowed = false;
    for f in filters.iter().filter(|f| f.field == field) {
        let same_kind = matches!(
            (&f.value, kind),
            (Value::Str(_), FieldType::String)
                | (Value::Int(_), FieldType::Integer)
                | (Value::Date(_), FieldType::Date)
        );
        if !same_kind {
            continue;
        }
        let p = prefix(&f.value);
        match f.op {
            Op::Equals => {
                lo = lo.max(p);
                hi = hi.min(p);
            }
            Op::StartsWith => {
                let Value::Str(s) = &f.value else { continue };
                lo = lo.max(text_prefix(s.as_bytes(), 0));
                hi = hi.min(if s.len() >= 8 {
                    p
                } else {
                    text_prefix(s.as_bytes(), 0xFF)
                });
            }
            Op::Min | Op::GreaterThan => lo = lo.max(p),
            Op::Max | Op::LessThan => hi = hi.min(p),
        }
        narrowed = true;
    }
    if !narrowed {
        return None;
    }
    if lo > hi {
        return Some(Vec::new());
    }
    let from = entries.partition_point(|e| e.0 < lo);
    let to = entries.partition_point(|e| e.0 <= hi);
    // A range that covers most of the file is cheaper to stream than to seek record by record.
    if (to - from) > entries.len() / 4 && entries.len() > 1000 {
        return None;
    }
    let mut offsets: Vec<u64> = entries[from..to].iter().map(|e| e.1).collect();
    offsets.sort_unstable();
    Some(offsets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_keep_the_order_of_values() {
        let words = ["", "A", "AB", "ABCDEFGH", "ABCDEFGHZ", "B", "Ü"];
        let p: Vec<u64> = words
            .iter()
            .map(|w| prefix(&Value::Str((*w).into())))
            .collect();
        assert!(p.windows(2).all(|w| w[0] <= w[1]));
        assert!(prefix(&Value::Int(-5)) < prefix(&Value::Int(3)));
    }
}
