//! Streaming records out of an export: open safely (inside the source directory, settled, not
//! changing underneath), then walk records one at a time from a byte offset. Nothing here holds
//! more than one record in memory.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::time::SystemTime;

use super::error::FlatError;
use super::table::{Format, Line, RecordAt, Table};

/// Identifies one version of a file: ERPs overwrite exports nightly, which changes both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    pub len: u64,
    pub modified_ns: u128,
}

impl Fingerprint {
    pub fn as_version(&self) -> String {
        format!("{}-{}", self.len, self.modified_ns)
    }
}

/// Open the table's file after checking it stays inside the source directory (symlinks
/// included) and has not been modified within `stable_for`.
pub fn open(table: &Table) -> Result<(File, Fingerprint), FlatError> {
    let file = table.file_name.clone();
    let real = match table.path.canonicalize() {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(FlatError::Missing { file });
        }
        Err(e) => {
            return Err(FlatError::Unreadable {
                file,
                message: e.to_string(),
            });
        }
    };
    let dir = table
        .dir
        .canonicalize()
        .map_err(|e| FlatError::Unreadable {
            file: file.clone(),
            message: format!("source directory: {e}"),
        })?;
    if !real.starts_with(&dir) {
        return Err(FlatError::Escapes { file });
    }
    let handle = File::open(&real).map_err(|e| FlatError::Unreadable {
        file: file.clone(),
        message: e.to_string(),
    })?;
    let fp = fingerprint(&handle, &file)?;
    check_settled(table, fp)?;
    Ok((handle, fp))
}

pub fn fingerprint(handle: &File, file: &str) -> Result<Fingerprint, FlatError> {
    let meta = handle.metadata().map_err(|e| FlatError::Unreadable {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    let modified_ns = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Ok(Fingerprint {
        len: meta.len(),
        modified_ns,
    })
}

fn check_settled(table: &Table, fp: Fingerprint) -> Result<(), FlatError> {
    if table.stable_for.is_zero() {
        return Ok(());
    }
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let age_ns = now.saturating_sub(fp.modified_ns);
    if age_ns < table.stable_for.as_nanos() {
        return Err(FlatError::Unsettled {
            file: table.file_name.clone(),
            age_ms: age_ns / 1_000_000,
        });
    }
    Ok(())
}

/// After a read: the file must be the version it was when the read started.
pub fn confirm_unchanged(table: &Table, handle: &File, fp: Fingerprint) -> Result<(), FlatError> {
    if fingerprint(handle, &table.file_name)? != fp {
        return Err(FlatError::Changed {
            file: table.file_name.clone(),
        });
    }
    Ok(())
}

fn io_error(table: &Table, e: impl std::fmt::Display) -> FlatError {
    FlatError::Unreadable {
        file: table.file_name.clone(),
        message: e.to_string(),
    }
}

/// Walk records from byte `start` (the first data record, or an indexed record's offset).
/// `visit` returns `Ok(false)` to stop. Record numbers count data records from 1 when
/// `first_number` is 1; callers reading one indexed record pass 0 (unknown).
pub fn scan(
    table: &Table,
    handle: &File,
    start: u64,
    first_number: u64,
    mut visit: impl FnMut(&Line<'_>, RecordAt) -> Result<bool, FlatError>,
) -> Result<(), FlatError> {
    let mut handle = handle;
    handle
        .seek(SeekFrom::Start(start))
        .map_err(|e| io_error(table, e))?;
    // Streaming reads want a large buffer; a jump to one indexed record wants a small one, or
    // every lookup would read 256 KiB to return one line.
    let capacity = if first_number == 0 {
        8 * 1024
    } else {
        256 * 1024
    };
    let reader = BufReader::with_capacity(capacity, handle);
    match table.format {
        Format::FixedWidth {
            allow_short,
            record_len,
        } => scan_fixed(
            table,
            reader,
            start,
            first_number,
            allow_short,
            record_len,
            &mut visit,
        ),
        Format::Csv {
            delimiter, quote, ..
        } => scan_csv(
            table,
            reader,
            start,
            first_number,
            delimiter,
            quote,
            &mut visit,
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn scan_fixed(
    table: &Table,
    mut reader: impl BufRead,
    start: u64,
    first_number: u64,
    allow_short: bool,
    record_len: usize,
    visit: &mut impl FnMut(&Line<'_>, RecordAt) -> Result<bool, FlatError>,
) -> Result<(), FlatError> {
    let mut buf = Vec::with_capacity(record_len + 2);
    let mut offset = start;
    let mut number = first_number;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| io_error(table, e))?;
        if n == 0 {
            return Ok(());
        }
        let terminated = buf.last() == Some(&b'\n');
        let mut line = &buf[..];
        if terminated {
            line = &line[..line.len() - 1];
        }
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        let at = RecordAt { number, offset };
        offset += n as u64;
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue; // blank lines (a trailing empty line, a page break) carry no record
        }
        if line.len() < record_len && !allow_short {
            return Err(short_record(table, at, line.len(), record_len, terminated));
        }
        if !visit(&Line::Fixed(line), at)? {
            return Ok(());
        }
        if number > 0 {
            number += 1;
        }
    }
}

fn short_record(
    table: &Table,
    at: RecordAt,
    got: usize,
    want: usize,
    terminated: bool,
) -> FlatError {
    let why = if terminated {
        "the layout or the export is wrong (set allow_short_records: true if short records are normal)"
    } else {
        "it is the last record and has no line end: the export is truncated or still being written"
    };
    FlatError::Record {
        file: table.file_name.clone(),
        record: at.number,
        offset: at.offset,
        message: format!("record is {got} bytes long but the layout needs {want}; {why}"),
    }
}

fn scan_csv(
    table: &Table,
    reader: impl BufRead,
    start: u64,
    first_number: u64,
    delimiter: u8,
    quote: u8,
    visit: &mut impl FnMut(&Line<'_>, RecordAt) -> Result<bool, FlatError>,
) -> Result<(), FlatError> {
    let mut csv = csv_reader(reader, delimiter, quote);
    let mut record = csv::ByteRecord::new();
    let mut number = first_number;
    loop {
        let offset = start + csv.position().byte();
        let more = csv
            .read_byte_record(&mut record)
            .map_err(|e| io_error(table, e))?;
        if !more {
            return Ok(());
        }
        if record.len() == 1 && record.get(0).is_some_and(|f| f.is_empty()) {
            continue;
        }
        if !visit(&Line::Csv(&record), RecordAt { number, offset })? {
            return Ok(());
        }
        if number > 0 {
            number += 1;
        }
    }
}

pub fn csv_reader<R: std::io::Read>(reader: R, delimiter: u8, quote: u8) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .quote(quote)
        .from_reader(reader)
}
