//! A view of one version of an export: where data starts, which csv column each field is, and
//! a sorted index of the first key field so lookups read a handful of records instead of the
//! file. Built on first use and again whenever the file's size or mtime changes; a multi-record
//! file is checked against its header and trailer in the same pass.
//!
//! The key index itself is in `keyindex.rs`.

use std::fs::File;
use std::sync::Arc;

use super::keys::WhenIncomplete;
use crate::mapping::model::FieldType;

use super::error::FlatError;
use super::keyindex::{Builder, KeyIndex};
use super::reader::{self, Fingerprint, csv_reader};
use super::records::{Audit, Kind};
use super::table::{Format, Place, Table};
pub use super::view::{Slot, View};

/// The version a call reads, and the file to read it from.
pub struct Current {
    pub view: Arc<View>,
    /// The live file, when reads go to it rather than to the view's snapshot.
    live: Option<(File, Fingerprint)>,
    /// Set when the answer comes from an older version because the current one is unusable.
    pub notice: Option<String>,
}

impl Current {
    /// The live file (`when_incomplete: fail`) or the view's private copy (`last_complete`).
    pub fn file(&self) -> &File {
        match (&self.live, &self.view.snapshot) {
            (Some((live, _)), _) => live,
            (None, Some(copy)) => copy,
            (None, None) => unreachable!("views read without the live file hold a copy"),
        }
    }

    /// After a read: rows from a live file that changed mid-read are never presented whole
    /// (a private copy cannot change).
    pub fn confirm(&self, table: &Table) -> Result<(), FlatError> {
        match &self.live {
            Some((handle, fp)) => reader::confirm_unchanged(table, handle, *fp),
            None => Ok(()),
        }
    }
}

/// Open the table's file and find the version to read: the live file, or with
/// `when_incomplete: last_complete` a verified copy, falling back to the last complete copy
/// (with a notice) while the live file is incomplete, missing or being rewritten.
pub fn current(table: &Table) -> Result<Current, FlatError> {
    if table.when_incomplete == WhenIncomplete::Fail {
        let (handle, fp) = reader::open(table)?;
        let view = view_for(table, &handle, fp, false)?;
        return Ok(Current {
            view,
            live: Some((handle, fp)),
            notice: None,
        });
    }
    let fresh = reader::open(table).and_then(|(handle, fp)| view_for(table, &handle, fp, true));
    match fresh {
        Ok(view) => Ok(Current {
            view,
            live: None,
            notice: None,
        }),
        // A file that escapes its directory is refused outright, never papered over.
        Err(e @ FlatError::Escapes { .. }) => Err(e),
        Err(e) => {
            let slot = table.view.lock().unwrap_or_else(|p| p.into_inner());
            let Some(view) = slot.view.clone() else {
                return Err(e);
            };
            let notice = format!(
                "answered from the last complete version of `{}` (modified {}), because the current file cannot be used: {e}",
                table.file_name,
                modified(view.fingerprint)
            );
            Ok(Current {
                view,
                live: None,
                notice: Some(notice),
            })
        }
    }
}

fn modified(fp: Fingerprint) -> String {
    chrono::DateTime::from_timestamp_nanos(fp.modified_ns.min(i64::MAX as u128) as i64)
        .format("%Y-%m-%d %H:%M:%S UTC")
        .to_string()
}

/// The view for this version of the file, building it if the file changed. Holding the lock
/// while building makes concurrent first calls wait for one build instead of each reading the
/// whole file. With `snapshot`, the version is copied first and the copy is what is indexed.
fn view_for(
    table: &Table,
    handle: &File,
    fp: Fingerprint,
    snapshot: bool,
) -> Result<Arc<View>, FlatError> {
    let mut slot = table.view.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(view) = slot.view.as_ref()
        && view.fingerprint == fp
    {
        return Ok(view.clone());
    }
    if let Some((failed, message)) = &slot.failed
        && *failed == fp
    {
        return Err(table.incomplete(message.clone()));
    }
    let copy = snapshot.then(|| copy_of(table, handle)).transpose()?;
    let built = build(table, copy.as_ref().unwrap_or(handle), fp);
    // Whatever was read must be one version: the copy, or the live file all along.
    reader::confirm_unchanged(table, handle, fp)?;
    let mut view = match built {
        Ok(view) => view,
        Err(FlatError::Incomplete { file, message }) => {
            slot.failed = Some((fp, message.clone()));
            return Err(FlatError::Incomplete { file, message });
        }
        Err(e) => return Err(e),
    };
    view.snapshot = copy;
    let view = Arc::new(view);
    slot.view = Some(view.clone());
    Ok(view)
}

/// A private copy of the file, deleted when dropped (never written beside the export).
fn copy_of(table: &Table, handle: &File) -> Result<File, FlatError> {
    use std::io::{Seek, SeekFrom};
    let failed = |e: std::io::Error| FlatError::Unreadable {
        file: table.file_name.clone(),
        message: format!("cannot keep a copy for `when_incomplete: last_complete`: {e}"),
    };
    let mut copy = tempfile::tempfile().map_err(failed)?;
    let mut from = handle;
    from.seek(SeekFrom::Start(0)).map_err(failed)?;
    std::io::copy(&mut from, &mut copy).map_err(failed)?;
    Ok(copy)
}

fn build(table: &Table, handle: &File, fp: Fingerprint) -> Result<View, FlatError> {
    let (data_start, columns) = read_header(table, handle)?;
    let index_field = table
        .index_field
        .filter(|&fi| indexable(table.fields[fi].kind()));
    let index = if index_field.is_some() || table.records.is_multi() {
        read_whole(table, handle, data_start, &columns, index_field)?
    } else {
        None
    };
    Ok(View {
        fingerprint: fp,
        data_start,
        columns,
        index,
        snapshot: None,
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
                super::codec::decode(b, table.encoding, super::keys::DecodeErrors::Replace)
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

/// Read every record once: index the key, and check a multi-record file against its header
/// and trailer.
fn read_whole(
    table: &Table,
    handle: &File,
    data_start: u64,
    columns: &[usize],
    index_field: Option<usize>,
) -> Result<Option<KeyIndex>, FlatError> {
    let mut builder = Builder::default();
    let mut audit = Audit::new(table);
    let multi = table.records.is_multi();
    reader::scan_records(table, handle, data_start, 1, |kind, line, at| {
        if multi {
            audit.see(kind, line, at)?;
        }
        if let (Some(fi), Kind::Own) = (index_field, kind) {
            builder.add(&table.decode_field(line, fi, columns, at)?, at.offset);
        }
        Ok(true)
    })?;
    audit.finish()?;
    Ok(index_field.and_then(|_| builder.finish()))
}
