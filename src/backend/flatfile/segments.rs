//! Multi-segment files: a root record followed by the records of its child segments (a
//! company and its contacts), read as one row per root with each child's records nested
//! under the child table's name. Children belong to the root before them, up to the next root.

use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::backend::rows::Query;
use crate::value::Value;

use super::error::FlatError;
use super::index::View;
use super::keep::{Keeper, abandoned_read, matching_row};
use super::reader;
use super::records::Kind;
use super::table::{Line, RecordAt, Table};

/// Answer `query` over a root table: every root record (or, with `candidates` from the key
/// index, the roots at those offsets) with its children.
pub(super) fn run(
    table: &Table,
    view: &View,
    handle: &File,
    query: &Query,
    candidates: Option<Vec<u64>>,
    keep: &mut Keeper,
    abandoned: &AtomicBool,
) -> Result<(), FlatError> {
    let walk = Walk {
        table,
        view,
        query,
        abandoned,
    };
    match candidates {
        // Record numbers are unknown when jumping into the file; messages give the offset.
        Some(offsets) => {
            for offset in offsets {
                if !walk.from(handle, offset, 0, true, keep)? {
                    break;
                }
            }
            Ok(())
        }
        None => walk
            .from(handle, view.data_start, 1, false, keep)
            .map(|_| ()),
    }
}

struct Walk<'a> {
    table: &'a Table,
    view: &'a View,
    query: &'a Query,
    abandoned: &'a AtomicBool,
}

/// A root row whose children are still being read.
struct Pending {
    row: Vec<Value>,
    children: Vec<Vec<Value>>,
}

impl Pending {
    /// The row with one list per child table after its own fields, in `children` order.
    fn finish(self) -> Vec<Value> {
        let mut row = self.row;
        row.extend(self.children.into_iter().map(Value::List));
        row
    }
}

impl Walk<'_> {
    /// Read roots and their children from `start`; with `one`, only the root there. Returns
    /// whether later rows may still matter.
    fn from(
        &self,
        handle: &File,
        start: u64,
        first_number: u64,
        one: bool,
        keep: &mut Keeper,
    ) -> Result<bool, FlatError> {
        let t = self.table;
        let mut pending: Option<Pending> = None;
        let mut roots = 0u64;
        let mut more = true;
        reader::scan_records(t, handle, start, first_number, |kind, line, at| {
            if self.abandoned.load(Ordering::Relaxed) {
                return Err(abandoned_read(t));
            }
            if kind == Kind::Own {
                if let Some(p) = pending.take() {
                    more = keep.push(p.finish());
                }
                roots += 1;
                if !more || (one && roots > 1) {
                    return Ok(false);
                }
                pending = matching_row(t, self.view, self.query, line, at)?.map(|row| Pending {
                    row,
                    children: vec![Vec::new(); t.children.len()],
                });
                return Ok(true);
            }
            let Some(ci) = self.child_of(line) else {
                return Ok(true);
            };
            if roots == 0 {
                return Err(t.problem(
                    at,
                    format!(
                        "a `{}` record before any `{}` record: a child segment belongs to the root before it, and this one has none",
                        t.children[ci].name, t.name
                    ),
                ));
            }
            if let Some(p) = &mut pending {
                p.children[ci].push(child_record(&t.children[ci], line, at)?);
            }
            Ok(true)
        })?;
        if let Some(p) = pending.take() {
            more = keep.push(p.finish());
        }
        Ok(more)
    }

    /// Which child table a record belongs to, by its record type.
    fn child_of(&self, line: &Line<'_>) -> Option<usize> {
        let Line::Fixed(bytes) = line else {
            return None;
        };
        self.table
            .children
            .iter()
            .position(|c| c.records.own.as_ref().is_some_and(|o| o.matches(bytes)))
    }
}

/// One child record as an object of the child table's fields.
fn child_record(child: &Table, line: &Line<'_>, at: RecordAt) -> Result<Value, FlatError> {
    child
        .fields
        .iter()
        .enumerate()
        .map(|(fi, f)| Ok((f.name.clone(), child.decode_field(line, fi, &[], at)?)))
        .collect::<Result<Vec<_>, FlatError>>()
        .map(Value::Record)
}
