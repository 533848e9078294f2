//! Streaming records out of an export: open safely (inside the source directory, settled, not
//! changing underneath), then walk records one at a time from a byte offset. Nothing here holds
//! more than one record in memory.
//!
//! Why one file of about 650 lines: opening, the three framings (lines, fixed records, RDW
//! descriptors) and csv share the byte-offset bookkeeping and the wording of errors that name
//! record and offset; split apart, each part would call back into the other.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::time::SystemTime;

use super::error::FlatError;
pub use super::fingerprint::Fingerprint;
use super::record_types::Kind;
use super::table::{Format, Framing, Line, Rdw, RecordAt, Table};

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
    // Only a regular file: a FIFO in place of an export would hold a blocking thread in
    // open(2) until some writer came, per call; a device would never end.
    let kind = std::fs::metadata(&real).map_err(|e| FlatError::Unreadable {
        file: file.clone(),
        message: e.to_string(),
    })?;
    if !kind.is_file() {
        return Err(FlatError::Unreadable {
            file,
            message: "not a regular file (a pipe, a device or a directory stands in its place)"
                .into(),
        });
    }
    let handle = File::open(&real).map_err(|e| FlatError::Unreadable {
        file: file.clone(),
        message: e.to_string(),
    })?;
    let fp = fingerprint(&handle, &file)?;
    check_settled(table, fp)?;
    whole_records(table, &handle, fp.len)?;
    Ok((handle, fp))
}

/// A file of fixed-length records holds a whole number of them. Said at open, with the sizes
/// and the likely cause, instead of as a field error somewhere in the file: a record length
/// that does not divide the file size means line ends in the file (each record one or two
/// bytes longer), a wrong `record_length`, or a transfer cut short.
/// A DOS end-of-file mark (Ctrl-Z) after the last record: copied files from DOS-era systems
/// still carry it. One such byte at the very end is not data.
const DOS_EOF: u8 = 0x1A;

/// The file's last byte. The handle is left at the start: readers that do not seek first
/// (the csv header) read from where it is.
fn last_byte(handle: &File, size: u64) -> Option<u8> {
    let mut h = handle;
    h.seek(SeekFrom::Start(size.checked_sub(1)?)).ok()?;
    let mut b = [0u8];
    let read = h.read_exact(&mut b);
    h.seek(SeekFrom::Start(0)).ok()?;
    read.ok().map(|_| b[0])
}

fn whole_records(table: &Table, handle: &File, size: u64) -> Result<(), FlatError> {
    let Format::FixedWidth {
        framing: Framing::Fixed(len),
        ..
    } = table.format
    else {
        return Ok(());
    };
    let len = len as u64;
    let left = size % len;
    // Only a file one byte over is worth a look at its last byte (no extra I/O otherwise).
    if left == 0 || (left == 1 && last_byte(handle, size) == Some(DOS_EOF)) {
        return Ok(());
    }
    let sizes = format!(
        "the file is {size} bytes, which is not a whole number of {len}-byte records (record_length): {} records and {left} bytes left over",
        size / len
    );
    // Records one or two bytes longer than declared, all of them: line ends, a mapping mistake.
    for (extra, what) in [(2, "CR LF"), (1, "a line end")] {
        if size.is_multiple_of(len + extra) {
            return Err(FlatError::Layout {
                file: table.file_name.clone(),
                message: format!(
                    "{sizes}; it divides into {}-byte records, so each record likely ends with {what}: use `framing: lines`",
                    len + extra
                ),
            });
        }
    }
    Err(table.incomplete(format!(
        "{sizes}; the transfer was cut short or the export is still being written, or `record_length` does not match the copybook's record (LRECL)"
    )))
}

pub fn fingerprint(handle: &File, file: &str) -> Result<Fingerprint, FlatError> {
    let meta = handle.metadata().map_err(|e| FlatError::Unreadable {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    Ok(Fingerprint::of(&meta))
}

/// The version of the file as it is now (size and mtime), without opening it: what the read
/// cache compares a kept answer with. A file that is gone or unreadable is a version of its own.
pub fn peek_version(table: &Table) -> String {
    std::fs::metadata(&table.path).map_or_else(
        |_| "unavailable".to_string(),
        |meta| Fingerprint::of(&meta).as_version(),
    )
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

/// Walk this table's records from byte `start` (the first data record, or an indexed record's
/// offset), skipping the header, trailer and other tables' records of a multi-record file.
/// `visit` returns `Ok(false)` to stop. Record numbers count the file's records from 1 when
/// `first_number` is 1; callers reading one indexed record pass 0 (unknown).
pub fn scan(
    table: &Table,
    handle: &File,
    start: u64,
    first_number: u64,
    mut visit: impl FnMut(&Line<'_>, RecordAt) -> Result<bool, FlatError>,
) -> Result<(), FlatError> {
    scan_records(table, handle, start, first_number, |kind, line, at| {
        if kind == Kind::Own {
            visit(line, at)
        } else {
            Ok(true)
        }
    })
}

/// Walk every record from byte `start` with its kind (all `Own` unless the file holds
/// several record types); a record of an undeclared type is an error.
pub fn scan_records(
    table: &Table,
    handle: &File,
    start: u64,
    first_number: u64,
    mut visit: impl FnMut(Kind, &Line<'_>, RecordAt) -> Result<bool, FlatError>,
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
            framing,
        } => scan_fixed(
            table,
            reader,
            start,
            first_number,
            Layout {
                allow_short,
                record_len,
                framing,
            },
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
            &mut |line, at| visit(Kind::Own, line, at),
        ),
    }
}

/// A fixed-width table's record shape.
struct Layout {
    allow_short: bool,
    record_len: usize,
    framing: Framing,
}

fn scan_fixed(
    table: &Table,
    mut reader: impl BufRead,
    start: u64,
    first_number: u64,
    layout: Layout,
    visit: &mut impl FnMut(Kind, &Line<'_>, RecordAt) -> Result<bool, FlatError>,
) -> Result<(), FlatError> {
    let mut buf = Vec::with_capacity(layout.record_len + 4);
    let mut offset = start;
    let mut number = first_number;
    // Padding records (a blank line, a page break, a block filled with spaces) carry nothing.
    let space = if table.encoding.ebcdic() { 0x40 } else { b' ' };
    let blank =
        |b: &u8| *b == space || *b == 0 || (!table.encoding.ebcdic() && b.is_ascii_whitespace());
    // Blocked RDW files: the bytes left in the current block. A jump to one indexed record
    // lands inside a block whose end it does not know, and reads that one record only.
    let mut block = Block {
        left: (first_number > 0).then_some(0),
    };
    loop {
        let Some(next) = next_record(
            table,
            &mut reader,
            layout.framing,
            &mut buf,
            &mut block,
            RecordAt { number, offset },
        )?
        else {
            return Ok(());
        };
        let at = RecordAt {
            number,
            offset: offset + next.skipped as u64,
        };
        offset += next.consumed as u64;
        let line = &buf[next.body.clone()];
        if line.iter().all(blank) {
            continue;
        }
        if number > 0 {
            number += 1;
        }
        let Some(kind) = table.records.classify(line) else {
            // A last record cut short reads as garbage: say it is cut, not that it is unknown.
            return Err(if next.terminated {
                table.records.unknown(table, line, at)
            } else {
                short_record(table, at, line.len(), layout.record_len, false)
            });
        };
        // Other record types have their own lengths; a trailer is checked against its layout.
        if kind == Kind::Own && line.len() < layout.record_len && !layout.allow_short {
            return Err(short_record(
                table,
                at,
                line.len(),
                layout.record_len,
                next.terminated,
            ));
        }
        if !visit(kind, &Line::Fixed(line), at)? {
            return Ok(());
        }
    }
}

/// One record's place in the buffer, the bytes it took from the file, and whether it was
/// complete (a line end, a full block, a full RDW body) or the file ended inside it.
struct Next {
    body: std::ops::Range<usize>,
    /// Bytes read before the record itself (a block descriptor word).
    skipped: usize,
    consumed: usize,
    terminated: bool,
}

/// Where a blocked RDW scan is: bytes left in the current block; None when unknown.
struct Block {
    left: Option<usize>,
}

fn next_record(
    table: &Table,
    reader: &mut impl BufRead,
    framing: Framing,
    buf: &mut Vec<u8>,
    block: &mut Block,
    at: RecordAt,
) -> Result<Option<Next>, FlatError> {
    buf.clear();
    match framing {
        Framing::Lines => {
            let n = reader
                .read_until(b'\n', buf)
                .map_err(|e| io_error(table, e))?;
            if n == 0 || buf.as_slice() == [DOS_EOF] {
                return Ok(None);
            }
            let terminated = buf.last() == Some(&b'\n');
            let mut end = buf.len() - terminated as usize;
            // The file's last line may carry the DOS end-of-file mark instead of a line end.
            if !terminated && end > 0 && buf[end - 1] == DOS_EOF {
                end -= 1;
            }
            if end > 0 && buf[end - 1] == b'\r' {
                end -= 1;
            }
            Ok(Some(Next {
                body: 0..end,
                skipped: 0,
                consumed: n,
                terminated,
            }))
        }
        Framing::Fixed(len) => {
            let n = read_up_to(table, reader, buf, len)?;
            if n == 0 || (n == 1 && buf[0] == DOS_EOF && len > 1) {
                return Ok(None);
            }
            if n < len {
                return Err(FlatError::Record {
                    file: table.file_name.clone(),
                    record: at.number,
                    offset: at.offset,
                    message: format!(
                        "the last record is {n} bytes but records are {len} bytes long (record_length): the export is truncated or still being written"
                    ),
                });
            }
            Ok(Some(Next {
                body: 0..len,
                skipped: 0,
                consumed: len,
                terminated: true,
            }))
        }
        Framing::Rdw(rdw) => next_rdw(table, reader, rdw, buf, block, at),
    }
}

/// One record behind its descriptor word, and in a blocked file the block descriptor word
/// before the first record of each block.
fn next_rdw(
    table: &Table,
    reader: &mut impl BufRead,
    rdw: Rdw,
    buf: &mut Vec<u8>,
    block: &mut Block,
    at: RecordAt,
) -> Result<Option<Next>, FlatError> {
    let mut skipped = 0;
    if rdw.blocked && block.left == Some(0) {
        let Some(len) = descriptor(table, reader, rdw, buf, true, at)? else {
            return Ok(None);
        };
        block.left = Some(len);
        skipped = 4;
    }
    let word_at = RecordAt {
        offset: at.offset + skipped as u64,
        ..at
    };
    let Some(len) = descriptor(table, reader, rdw, buf, false, word_at)? else {
        if skipped > 0 {
            return Err(no_descriptor(table, word_at, &[], rdw, "an empty block"));
        }
        return Ok(None);
    };
    if rdw.blocked
        && let Some(left) = block.left
    {
        if 4 + len > left {
            return Err(no_descriptor(
                table,
                word_at,
                &buf[..4],
                rdw,
                &format!("a record of {len} bytes in a block with {left} bytes left"),
            ));
        }
        block.left = Some(left - 4 - len);
    }
    let word = <[u8; 4]>::try_from(&buf[..4]).expect("a descriptor word is 4 bytes");
    buf.clear();
    let got = read_up_to(table, reader, buf, len)?;
    if got < len {
        // A record the file ends inside: a transfer cut short, or a length read the wrong way
        // (a little-endian word read big-endian runs past the end). Never a short row.
        return Err(no_descriptor(
            table,
            word_at,
            &word,
            rdw,
            &format!("a record of {len} bytes with only {got} left in the file"),
        ));
    }
    // A variable blocked file read as unblocked reads whole, each block one "record" that
    // starts with descriptor words of its own: caught on the first record, not read as data.
    if !rdw.blocked && at.number == 1 && walks(buf, rdw, true).is_some_and(|inner| inner >= 2) {
        let blocked = Rdw {
            blocked: true,
            ..rdw
        };
        return Err(table.problem(
            at,
            format!(
                "the first record is a chain of records behind descriptor words of their own: the file is variable blocked (a block descriptor word before each block); declare {}",
                blocked.describe()
            ),
        ));
    }
    Ok(Some(Next {
        body: 0..got,
        skipped,
        consumed: skipped + 4 + got,
        terminated: true,
    }))
}

/// Read a 4-byte descriptor word; the length of what follows it. None at the end of the file.
fn descriptor(
    table: &Table,
    reader: &mut impl BufRead,
    rdw: Rdw,
    buf: &mut Vec<u8>,
    block: bool,
    at: RecordAt,
) -> Result<Option<usize>, FlatError> {
    buf.clear();
    let n = read_up_to(table, reader, buf, 4)?;
    if n == 0 || buf.as_slice() == [DOS_EOF] {
        return Ok(None);
    }
    let what = if block { "block" } else { "record" };
    let len = <[u8; 4]>::try_from(&buf[..n])
        .ok()
        .and_then(|w| rdw.body_len(w, block));
    len.map(Some).ok_or_else(|| {
        no_descriptor(
            table,
            at,
            &buf[..n],
            rdw,
            &format!("no {what} descriptor word"),
        )
    })
}

/// The framing did not fit: where, what was found, and the variant the file does read as,
/// when one does.
fn no_descriptor(table: &Table, at: RecordAt, found: &[u8], rdw: Rdw, what: &str) -> FlatError {
    let hint = match rdw_that_fits(table) {
        Some(v) if v != rdw => format!("; the file reads whole as {}: declare that", v.describe()),
        _ => format!(
            ": the file is not framed as {}, or it is damaged",
            rdw.describe()
        ),
    };
    FlatError::Record {
        file: table.file_name.clone(),
        record: at.number,
        offset: at.offset,
        message: format!(
            "{what} at byte {} (found {}){hint}",
            at.offset,
            if found.is_empty() {
                "nothing".into()
            } else {
                hex(found)
            }
        ),
    }
}

/// The first RDW variant under which the file's first 64 KiB read as whole records (the last
/// may run past the sample), IBM's own first. Only asked when a read has already failed.
pub fn rdw_that_fits(table: &Table) -> Option<Rdw> {
    let mut sample = Vec::new();
    File::open(&table.path)
        .ok()?
        .take(64 * 1024)
        .read_to_end(&mut sample)
        .ok()?;
    let whole = std::fs::metadata(&table.path).ok()?.len() == sample.len() as u64;
    Rdw::variants().find(|v| walks(&sample, *v, whole).is_some())
}

/// How many records `bytes` hold as records of this variant: every descriptor word valid, the
/// last record ending exactly at the end when the sample is the whole file; None if they do not.
fn walks(bytes: &[u8], rdw: Rdw, whole: bool) -> Option<usize> {
    let mut at = 0;
    let mut records = 0;
    let mut block_end = None;
    while at + 4 <= bytes.len() {
        let word: [u8; 4] = bytes[at..at + 4].try_into().expect("four bytes");
        let in_block = rdw.blocked && block_end.is_none_or(|end| at >= end);
        let len = rdw.body_len(word, in_block)?;
        if in_block {
            if block_end.is_some_and(|end| at != end) {
                return None;
            }
            block_end = Some(at + 4 + len);
            at += 4;
            continue;
        }
        at += 4 + len;
        records += 1;
        if block_end.is_some_and(|end| at > end) {
            return None;
        }
    }
    (records > 0 && (!whole || at == bytes.len())).then_some(records)
}

/// Read until `want` bytes are in `buf` or the file ends; how many arrived.
fn read_up_to(
    table: &Table,
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    want: usize,
) -> Result<usize, FlatError> {
    let got = reader
        .take(want as u64)
        .read_to_end(buf)
        .map_err(|e| io_error(table, e))?;
    Ok(got)
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
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
