//! Answering a `Query` from an export: index lookup when the filters allow it, else a streaming
//! scan; matching rows kept in a bounded, ordered buffer of `offset + limit + 1` rows so even a
//! scan of a huge file holds only what it will return.

use std::cmp::Ordering;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};

use crate::backend::{Query, RowSet};
use crate::value::Value;

use super::error::FlatError;
use super::index::{self, View};
use super::reader;
use super::table::{Line, RecordAt, Table};

pub fn run(table: &Table, query: &Query, abandoned: &AtomicBool) -> Result<RowSet, FlatError> {
    let current = index::current(table)?;
    let (view, handle) = (&current.view, current.file());
    let mut keep = Keeper::new(query);
    let consider = |keep: &mut Keeper, line: &Line<'_>, at: RecordAt| {
        if abandoned.load(AtomicOrdering::Relaxed) {
            return Err(FlatError::Unreadable {
                file: table.file_name.clone(),
                message: "the call was abandoned (timed out or cancelled) while reading".into(),
            });
        }
        consider(table, view, query, keep, line, at)
    };
    let candidates = table
        .index_field
        .zip(view.index.as_ref())
        .and_then(|(fi, idx)| idx.candidates(fi, table.fields[fi].kind(), &query.filters));
    match candidates {
        Some(offsets) => {
            for offset in offsets {
                // Record numbers are unknown when jumping into the file; messages give the offset.
                reader::scan(table, handle, offset, 0, |line, at| {
                    consider(&mut keep, line, at)?;
                    Ok(false)
                })?;
            }
        }
        None => reader::scan(table, handle, view.data_start, 1, |line, at| {
            consider(&mut keep, line, at)
        })?,
    }
    // Never present rows from a file that changed mid-read as a complete answer.
    current.confirm(table)?;
    let mut rows = keep.finish(view.fingerprint.as_version());
    rows.notice = current.notice;
    Ok(rows)
}

/// Check one record against the filters (decoding only the filtered fields first), and keep it
/// if it matches. Returns whether scanning should go on.
fn consider(
    table: &Table,
    view: &View,
    query: &Query,
    keep: &mut Keeper,
    line: &Line<'_>,
    at: RecordAt,
) -> Result<bool, FlatError> {
    // Each field is decoded at most once: filtered fields first, the rest only for a match.
    let mut row: Vec<Option<Value>> = vec![None; table.fields.len()];
    for f in &query.filters {
        let v = match &row[f.field] {
            Some(v) => v,
            None => row[f.field].insert(table.decode_field(line, f.field, &view.columns, at)?),
        };
        if !f.op.test(v, &f.value) {
            return Ok(true);
        }
    }
    let row = row
        .into_iter()
        .enumerate()
        .map(|(fi, v)| v.map_or_else(|| table.decode_field(line, fi, &view.columns, at), Ok))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(keep.push(row))
}

/// The best `cap` rows so far in query order (file order when there is no order).
struct Keeper {
    order: Vec<(usize, bool)>,
    cap: usize,
    offset: usize,
    limit: usize,
    rows: Vec<Vec<Value>>,
    /// Rows counted past, unordered, towards `offset`.
    skipped: usize,
}

impl Keeper {
    fn new(q: &Query) -> Self {
        let offset = q.offset as usize;
        let limit = q.limit as usize;
        Keeper {
            order: q.order.clone(),
            cap: offset + limit + 1,
            offset,
            limit,
            rows: Vec::new(),
            skipped: 0,
        }
    }

    /// Keep `row` if it is among the best `cap`; false once no later row can matter.
    fn push(&mut self, row: Vec<Value>) -> bool {
        if self.order.is_empty() {
            // In file order the rows a cursor skips are only counted, never kept.
            if self.skipped < self.offset {
                self.skipped += 1;
                return true;
            }
            self.rows.push(row);
            return self.rows.len() < self.cap - self.offset;
        }
        // Equal keys keep file order: insert after every row that is not greater.
        let at = self
            .rows
            .partition_point(|r| compare(&self.order, r, &row) != Ordering::Greater);
        if at < self.cap {
            self.rows.insert(at, row);
            self.rows.truncate(self.cap);
        }
        true
    }

    fn finish(mut self, version: String) -> RowSet {
        // Unordered, the skipped rows were never kept.
        let offset = if self.order.is_empty() {
            0
        } else {
            self.offset
        };
        let truncated = self.rows.len() > offset + self.limit;
        self.rows.truncate(offset + self.limit);
        let rows = self.rows.split_off(offset.min(self.rows.len()));
        RowSet {
            rows,
            truncated,
            version,
            notice: None,
        }
    }
}

fn compare(order: &[(usize, bool)], a: &[Value], b: &[Value]) -> Ordering {
    for &(fi, desc) in order {
        let o = a[fi].compare(&b[fi]);
        if o != Ordering::Equal {
            return if desc { o.reverse() } else { o };
        }
    }
    Ordering::Equal
}
