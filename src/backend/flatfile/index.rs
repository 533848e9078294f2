//! A view of one version of an export: where data starts, which csv column each field is, and
//! a sorted index of the first key field so lookups read a handful of records instead of the
//! file. Built on first use and again whenever the file's size or mtime changes.
//!
//! The key index itself is in `keyindex.rs`.

use std::fs::File;
use std::sync::Arc;

use crate::mapping::model::FieldType;

use super::error::FlatError;
use super::keyindex::{Builder, KeyIndex};
use super::reader::{self, Fingerprint, csv_reader};
use super::table::{Format, Line, Place, Table};

pub struct View {
    pub fingerprint: Fingerprint,
    /// Byte offset of the first data record (after a csv header).
    pub data_start: u64,
    /// csv: the column of each field; empty for fixed width.
    pub columns: Vec<usize>,
    /// None when the table has no indexable key.
    pub index: Option<KeyIndex>,
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
    let index = match table.index_field {
        Some(fi) if indexable(table.fields[fi].kind()) => {
            index_key(table, handle, data_start, &columns, fi)?
        }
        _ => None,
    };
    reader::confirm_unchanged(table, handle, fp)?;
    Ok(View {
        fingerprint: fp,
        data_start,
        columns,
        index,
    })
}

fn indexable(kind: FieldType) -> bool {
    matches!(
        kind,
        FieldType::String | FieldType::Integer | FieldType::Date
    )
}

/// A UTF-8 byte order mark at the start of a line-framed file is not part of the first record.
fn bom_len(table: &Table, handle: &File) -> Result<u64, FlatError> {
    use std::io::{Read, Seek, SeekFrom};
    let lines = matches!(
        table.format,
        Format::FixedWidth {
            framing: super::table::Framing::Lines,
            ..
        }
    );
    if !lines || table.encoding.ebcdic() {
        return Ok(0);
    }
    let mut h = handle;
    let mut first = [0u8; 3];
    h.seek(SeekFrom::Start(0))
        .and_then(|_| h.read(&mut first))
        .map(|n| {
            if n == 3 && first == [0xEF, 0xBB, 0xBF] {
                3
            } else {
                0
            }
        })
        .map_err(|e| FlatError::Unreadable {
            file: table.file_name.clone(),
            message: e.to_string(),
        })
}

/// csv with a header: find each named field's column. Without a header: declared columns.
fn read_header(table: &Table, handle: &File) -> Result<(u64, Vec<usize>), FlatError> {
    let Format::Csv {
        delimiter,
        quote,
        header,
    } = table.format
    else {
        return Ok((bom_len(table, handle)?, Vec::new()));
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
) -> Result<Option<KeyIndex>, FlatError> {
    let mut builder = Builder::default();
    reader::scan(table, handle, data_start, 1, |line: &Line<'_>, at| {
        builder.add(&table.decode_field(line, fi, columns, at)?, at.offset);
        Ok(true)
    })?;
    Ok(builder.finish())
}
