//! One query on a worker's connection: bind typed parameters, execute with the query timeout,
//! stream rows (skipping a cursor's offset, reading one row past the limit to know about
//! truncation), and turn driver diagnostics into errors an agent can act on.
//!
//! Every cell is read in the driver's character form and parsed by the declared column type
//! (`sql::parse_cell`): ODBC defines those forms for every SQL type, decimals keep every digit,
//! and one conversion path serves all drivers.
//!
//! Rows come in blocks of `fetch_batch_size` into buffers of at most `CELL_BYTES` a cell,
//! whatever size the driver reports for a column: drivers report `TEXT` as megabytes (SQLite),
//! or far less than the values hold (psqlODBC: 8190 for `text`, 255 for unbounded `varchar`).
//! Every fetched block is checked for cut values (their length indicator is larger than the
//! buffer, or unknown); on the first, the query runs again and is read row by row, long values
//! piecewise (`SQLGetData`), up to `max_text_length`. The worker remembers such a query so the
//! next call reads row by row at once. Binary columns and `text: wide` sources are always read
//! row by row.

use odbc_api::buffers::{ColumnarBuffer, TextColumn};
use odbc_api::parameter::{InputParameter, WithDataType};
use odbc_api::sys::{Date, Time, Timestamp};
use odbc_api::{Bit, Cursor, DataType};

use chrono::{Datelike, Timelike};

use super::connect::{Failure, failure};
use super::pool::Worker;
use super::settings::OdbcSettings;
use crate::backend::rows::RowSet;
use crate::backend::sql::{self, Dialect, Placeholders, Rows, SqlError, SqlQuery};
use crate::mapping::model::FieldType;
use crate::value::Value;

/// The most a cell takes in a block buffer. Longer values are detected by their length
/// indicator and read whole on the row-by-row path; the buffer of a call never grows with a
/// column's declared or reported size.
const CELL_BYTES: usize = 4096;

/// Run a query on the worker's connection; a broken connection is dropped so the next call
/// reconnects (the database came back, or the network did).
pub fn execute(w: &mut Worker, q: &SqlQuery) -> Result<RowSet, SqlError> {
    let s = w.settings.clone();
    let pooled = w.has_connection();
    w.connection()?;
    let (open, close) = if w.quote == '[' {
        ('[', ']')
    } else {
        (w.quote, w.quote)
    };
    let (text, binds) = q.render(Dialect {
        placeholders: Placeholders::Question,
        open_quote: open,
        close_quote: close,
        limit_clause: w.traits.limit_clause,
        nulls_first_clause: w.traits.nulls_first_clause,
    });
    let reused = w.is_prepared(&text);
    let mut result = run(w, &s, q, &text, &binds);
    if let Err(f) = &result {
        if f.lost_connection() || w.is_dead() {
            w.disconnect();
            // A pooled connection found dead (the server restarted, a firewall dropped it while
            // idle): a plain query is asked once more on a new connection, so a dead
            // connection costs no call. A write is never sent twice; a fresh connection that
            // fails means the database is down, and asking again would only wait longer.
            if pooled && q.may_repeat() && !f.timed_out() && w.connection().is_ok() {
                result = run(w, &s, q, &text, &binds);
                if result.as_ref().is_err_and(|f| f.lost_connection()) || w.is_dead() {
                    w.disconnect();
                }
            }
        } else {
            w.forget(&text);
            // A statement prepared earlier can go stale under a schema change (PostgreSQL:
            // "cached plan must not change result type"). One fresh prepare and run is safe for
            // a plain query; a write is never sent twice, and a timeout is not retried (it would
            // only double the wait).
            if reused && !f.timed_out() && q.may_repeat() {
                result = run(w, &s, q, &text, &binds);
                if result.is_err() {
                    w.forget(&text);
                }
            }
        }
    }
    result.map_err(|f| f.into_error(&s, false))
}

fn run(
    w: &mut Worker,
    s: &OdbcSettings,
    q: &SqlQuery,
    text: &str,
    binds: &[Value],
) -> Result<RowSet, Failure> {
    w.access_mode(!q.may_repeat()).map_err(|e| failure(s, e))?;
    let params: Vec<Box<dyn InputParameter>> = binds.iter().map(|v| parameter(v, s.wide)).collect();
    // A statement that may change data is read row by row from the start: it is never run
    // twice, so a value too long for a block could not be read again.
    let blocks = q.may_repeat() && !w.reads_long(text);
    if let Some(rows) = run_once(w, s, q, text, &params, blocks)? {
        return Ok(rows);
    }
    // A value did not fit its block buffer: read again, row by row, in full (a plain query,
    // so running it twice is safe). On a fresh statement: one that did a block fetch keeps
    // its row array size, and SQLGetData on it fails (SQLite: no data).
    w.forget(text);
    w.mark_long(text);
    run_once(w, s, q, text, &params, false)
        .map(|rows| rows.expect("reading row by row never asks to read again"))
}

/// Execute once and read; `None` when a value did not fit a block buffer.
fn run_once(
    w: &mut Worker,
    s: &OdbcSettings,
    q: &SqlQuery,
    text: &str,
    params: &[Box<dyn InputParameter>],
    blocks: bool,
) -> Result<Option<RowSet>, Failure> {
    let stmt = w.prepared(text).map_err(|e| failure(s, e))?;
    match stmt.execute(params).map_err(|e| failure(s, e))? {
        Some(cursor) => read(s, cursor, q, blocks),
        None => Ok(Some(RowSet {
            rows: Vec::new(),
            truncated: false,
            version: String::new(),
            notice: None,
        })),
    }
}

/// A typed parameter for a bound value.
fn parameter(v: &Value, wide: bool) -> Box<dyn InputParameter> {
    let text = |t: &str| -> Box<dyn InputParameter> {
        if wide {
            let wide: Vec<u16> = t.encode_utf16().collect();
            Box::new(odbc_api::parameter::VarWCharBox::from_vec(wide))
        } else {
            Box::new(odbc_api::parameter::VarCharBox::from_string(t.to_string()))
        }
    };
    match v {
        Value::Null => Box::new(odbc_api::parameter::VarCharBox::null()),
        Value::Str(t) => text(t),
        Value::Int(i) => Box::new(*i),
        Value::Num(f) => Box::new(*f),
        Value::Bool(b) => Box::new(Bit::from_bool(*b)),
        Value::Dec(d) => text(&d.to_string()),
        Value::DecText(t) => text(t),
        // Parameters are scalars (no parameter type binds a list); sent as JSON text if ever.
        Value::List(_) | Value::Record(_) => text(&v.to_json().to_string()),
        Value::Date(d) => Box::new(date(*d)),
        Value::DateTime(t) => Box::new(WithDataType {
            data_type: DataType::Timestamp { precision: 7 },
            value: Timestamp {
                year: t.year() as i16,
                month: t.month() as u16,
                day: t.day() as u16,
                hour: t.hour() as u16,
                minute: t.minute() as u16,
                second: t.second() as u16,
                fraction: t.nanosecond(),
            },
        }),
        Value::Time(t) => Box::new(WithDataType {
            data_type: DataType::Time { precision: 0 },
            value: Time {
                hour: t.hour() as u16,
                minute: t.minute() as u16,
                second: t.second() as u16,
            },
        }),
        Value::Bytes(b) => Box::new(odbc_api::parameter::VarBinaryBox::from_vec(b.clone())),
    }
}

fn date(d: chrono::NaiveDate) -> Date {
    Date {
        year: d.year() as i16,
        month: d.month() as u16,
        day: d.day() as u16,
    }
}

/// Stream the result: skip `offset` rows, keep `limit`, look for one more. `None` when a block
/// held a value longer than its buffer (the caller reads again, row by row).
fn read(
    s: &OdbcSettings,
    mut cursor: impl Cursor,
    q: &SqlQuery,
    blocks: bool,
) -> Result<Option<RowSet>, Failure> {
    let at = positions(s, &mut cursor, q)?;
    // Binary data read as characters is hex for most drivers but not all (SQLite's is raw), so
    // binary columns are always read with SQLGetData.
    let bulk = blocks && !s.wide && q.columns.iter().all(|c| c.kind != FieldType::Binary);
    if bulk {
        read_blocks(s, cursor, q, &at)
    } else {
        read_rows(s, cursor, q, &at).map(Some)
    }
}

/// The result column of each mapped column (1-based), by name.
fn positions(
    s: &OdbcSettings,
    cursor: &mut impl Cursor,
    q: &SqlQuery,
) -> Result<Vec<u16>, Failure> {
    let names: Vec<String> = cursor
        .column_names()
        .and_then(|it| it.collect())
        .map_err(|e| failure(s, e))?;
    let mut at = Vec::with_capacity(q.columns.len());
    for c in q.columns.iter() {
        match names.iter().position(|n| n.eq_ignore_ascii_case(&c.name)) {
            Some(i) => at.push(i as u16 + 1),
            None => {
                return Err(Failure {
                    state: "07009".into(),
                    message: format!(
                        "the query returns no column `{}`; it returns: {}",
                        c.name,
                        names.join(", ")
                    ),
                });
            }
        }
    }
    Ok(at)
}

/// The block buffer's bytes for a column: what the driver reports (room for 4-byte UTF-8
/// characters; decimals need sign and point), never more than `CELL_BYTES`. A report is only a
/// hint: cut values are caught by their indicators.
fn cell_bytes(
    s: &OdbcSettings,
    cursor: &mut impl Cursor,
    kind: FieldType,
    i: u16,
) -> Result<usize, Failure> {
    let reported = cursor.col_display_size(i).map_err(|e| failure(s, e))?;
    Ok(block_cell_bytes(reported.map(|n| n.get()), kind))
}

/// The buffer bytes for a cell from the size a driver reports (if any): never more than
/// `CELL_BYTES`, whatever the report (SQLite's megabytes, a driver's 2 GB for `nvarchar(max)`).
fn block_cell_bytes(reported: Option<usize>, kind: FieldType) -> usize {
    let size = reported.map_or(CELL_BYTES, |n| match kind {
        FieldType::String => n.saturating_mul(4),
        _ => n.saturating_add(2),
    });
    size.clamp(1, CELL_BYTES)
}

fn read_blocks(
    s: &OdbcSettings,
    mut cursor: impl Cursor,
    q: &SqlQuery,
    at: &[u16],
) -> Result<Option<RowSet>, Failure> {
    let mut buffers = Vec::with_capacity(at.len());
    for (c, &i) in q.columns.iter().zip(at) {
        buffers.push((i, cell_bytes(s, &mut cursor, c.kind, i)?));
    }
    // A key lookup wants two rows: a 100-row buffer per call would be allocated and zeroed for
    // nothing.
    let rows = (s.batch as u64).min(q.rows_wanted()).max(1) as usize;
    let buffers = buffers
        .into_iter()
        .map(|(i, n)| (i, TextColumn::<u8>::new(rows, n)))
        .collect();
    let mut block = cursor
        .bind_buffer(ColumnarBuffer::new(buffers))
        .map_err(|e| failure(s, e))?;
    let mut out = Rows::new(q);
    while let Some(batch) = block.fetch().map_err(|e| failure(s, e))? {
        // Checked on every block, not only when the driver says SQL_SUCCESS_WITH_INFO: a cut
        // value must never pass as a whole one.
        let cut = (0..q.columns.len()).any(|k| batch.column(k).has_truncated_values().is_some());
        if cut {
            return Ok(None);
        }
        for r in 0..batch.num_rows() {
            if out.skipping() {
                continue;
            }
            let mut row = Vec::with_capacity(at.len());
            for k in 0..q.columns.len() {
                let cell = batch.column(k).get(r);
                row.push(cell_value(s, q, k, cell.map(Cell::Text))?);
            }
            if out.push(row) {
                return Ok(Some(out.finish()));
            }
        }
    }
    Ok(Some(out.finish()))
}

fn read_rows(
    s: &OdbcSettings,
    mut cursor: impl Cursor,
    q: &SqlQuery,
    at: &[u16],
) -> Result<RowSet, Failure> {
    let mut out = Rows::new(q);
    let mut buf = Vec::new();
    let mut wbuf: Vec<u16> = Vec::new();
    while let Some(mut r) = cursor.next_row().map_err(|e| failure(s, e))? {
        if out.skipping() {
            continue;
        }
        let mut row = Vec::with_capacity(at.len());
        for (k, (c, &i)) in q.columns.iter().zip(at).enumerate() {
            let present = if c.kind == FieldType::Binary {
                r.get_binary(i, &mut buf).map_err(|e| failure(s, e))?
            } else if s.wide {
                let p = r.get_wide_text(i, &mut wbuf).map_err(|e| failure(s, e))?;
                buf = String::from_utf16_lossy(&wbuf).into_bytes();
                p
            } else {
                r.get_text(i, &mut buf).map_err(|e| failure(s, e))?
            };
            if buf.len() > s.max_text {
                return Err(Failure {
                    state: "22001".into(),
                    message: format!(
                        "a value of column `{}` is longer than max_text_length ({} bytes); raise it in the source or select less",
                        c.name, s.max_text
                    ),
                });
            }
            let cell = present.then(|| {
                if c.kind == FieldType::Binary {
                    Cell::Bytes(&buf)
                } else {
                    Cell::Text(&buf)
                }
            });
            row.push(cell_value(s, q, k, cell)?);
        }
        if out.push(row) {
            break;
        }
    }
    Ok(out.finish())
}

enum Cell<'a> {
    Text(&'a [u8]),
    Bytes(&'a [u8]),
}

fn cell_value(
    s: &OdbcSettings,
    q: &SqlQuery,
    k: usize,
    cell: Option<Cell>,
) -> Result<Value, Failure> {
    let c = &q.columns[k];
    let bad = |m: String| Failure {
        state: "22018".into(),
        message: c.value_error(m),
    };
    match cell {
        None => Ok(Value::Null),
        Some(Cell::Bytes(b)) => Ok(Value::Bytes(b.to_vec())),
        Some(Cell::Text(t)) => {
            let text = std::str::from_utf8(t).map_err(|_| {
                bad("the driver sent text that is not UTF-8; set `text: wide`".into())
            })?;
            sql::parse_cell(c.kind, text, &s.rules).map_err(bad)
        }
    }
}

#[cfg(test)]
mod block_tests {
    use super::*;

    /// The block buffer of a call never follows a huge reported size: a driver that reports
    /// 2 GB (`nvarchar(max)`, `LONGTEXT`) or nothing at all gets `CELL_BYTES` a cell, so a
    /// 100-row block of five such columns is 2 MB at most, not 1 TB. Values longer than a cell
    /// are caught by their length indicators and read whole row by row (tests/suite/sql_odbc.rs,
    /// `long_values_come_back_whole_or_as_a_clear_error`). A real driver does this too:
    /// MariaDB Connector/ODBC reports `LONGTEXT` as 1,073,741,823 characters, and
    /// tests/suite/sql_odbc.rs (`a_column_reported_as_a_billion_characters_costs_no_memory`) reads
    /// three such columns 100 times with the server's peak RSS bounded.
    #[test]
    fn reported_sizes_never_size_the_buffer() {
        let two_gb = 2usize << 30;
        for kind in [FieldType::String, FieldType::Decimal, FieldType::Integer] {
            assert_eq!(block_cell_bytes(Some(two_gb), kind), CELL_BYTES);
            assert_eq!(block_cell_bytes(Some(usize::MAX), kind), CELL_BYTES);
            assert_eq!(block_cell_bytes(None, kind), CELL_BYTES);
        }
        assert_eq!(block_cell_bytes(Some(20), FieldType::String), 80);
        assert_eq!(block_cell_bytes(Some(10), FieldType::Integer), 12);
    }
}
