//! Answering a `Query` from an export: index lookup when the filters allow it, else a streaming
//! scan; matching rows kept in a bounded, ordered buffer of `offset + limit + 1` rows so even a
//! scan of a huge file holds only what it will return.

use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};

use crate::backend::rows::{Query, RowSet};

use super::error::FlatError;
use super::index;
use super::keep::{Keeper, abandoned_read, consider};
use super::reader;
use super::table::{Line, RecordAt, Table};

pub fn run(table: &Table, query: &Query, abandoned: &AtomicBool) -> Result<RowSet, FlatError> {
    let current = index::current(table)?;
    let (view, handle) = (&current.view, current.file());
    let mut keep = Keeper::new(query);
    let consider = |keep: &mut Keeper, line: &Line<'_>, at: RecordAt| {
        if abandoned.load(AtomicOrdering::Relaxed) {
            return Err(abandoned_read(table));
        }
        consider(table, view, query, keep, line, at)
    };
    let candidates = table
        .index_field
        .zip(view.index.as_ref())
        .and_then(|(fi, idx)| idx.candidates(fi, table.fields[fi].kind(), &query.filters));
    if !table.children.is_empty() {
        super::segments::run(table, view, handle, query, candidates, &mut keep, abandoned)?;
        current.confirm(table)?;
        let mut rows = keep.finish(view.fingerprint.as_version());
        rows.notice = current.notice;
        return Ok(rows);
    }
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
