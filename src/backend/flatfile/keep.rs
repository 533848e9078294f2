//! Matching and keeping rows, for every way a table is read (a plain scan, an index lookup, a
//! file of segments): the filters checked on the fewest decoded fields, and the best
//! `offset + limit + 1` rows kept in query order. Below `query.rs` and `segments.rs`.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;

use crate::backend::rows::{Query, RowSet};
use crate::value::Value;

use super::error::FlatError;
use super::index::View;
use super::table::{Line, RecordAt, Table};

/// What a scan stopped because its call was abandoned ends with.
pub(super) fn abandoned_read(table: &Table) -> FlatError {
    FlatError::Unreadable {
        file: table.file_name.clone(),
        message: "the call was abandoned (timed out or cancelled) while reading".into(),
    }
}

/// Check one record against the filters (decoding only the filtered fields first), and keep it
/// if it matches. Returns whether scanning should go on.
pub(super) fn consider(
    table: &Table,
    view: &View,
    query: &Query,
    keep: &mut Keeper,
    line: &Line<'_>,
    at: RecordAt,
) -> Result<bool, FlatError> {
    match matching_row(table, view, query, line, at)? {
        Some(row) => Ok(keep.push(row)),
        None => Ok(true),
    }
}

/// The record's row if it passes the filters. Each field is decoded at most once: filtered
/// fields first, the rest only for a match.
pub(super) fn matching_row(
    table: &Table,
    view: &View,
    query: &Query,
    line: &Line<'_>,
    at: RecordAt,
) -> Result<Option<Vec<Value>>, FlatError> {
    let mut row: Vec<Option<Value>> = vec![None; table.fields.len()];
    for f in &query.filters {
        let v = match &row[f.field] {
            Some(v) => v,
            None => row[f.field].insert(table.decode_field(line, f.field, &view.columns, at)?),
        };
        if !f.op.test(v, &f.value) {
            return Ok(None);
        }
    }
    row.into_iter()
        .enumerate()
        .map(|(fi, v)| v.map_or_else(|| table.decode_field(line, fi, &view.columns, at), Ok))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The best `cap` rows so far in query order (file order when there is no order). Ordered,
/// they sit in a max-heap of `cap` (a row costs O(log cap), whatever the offset); in file
/// order the rows a cursor skips are counted and dropped.
pub(super) struct Keeper {
    order: Arc<[(usize, bool)]>,
    cap: usize,
    offset: usize,
    limit: usize,
    /// File order: the rows kept after the skipped ones.
    rows: Vec<Vec<Value>>,
    /// Query order: the best rows so far, the worst on top.
    best: BinaryHeap<Ranked>,
    /// Rows seen: counts skipped rows (file order) and breaks ties (query order).
    seen: u64,
}

/// A row in query order; equal keys keep file order (`seq`).
struct Ranked {
    row: Vec<Value>,
    seq: u64,
    order: Arc<[(usize, bool)]>,
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(&self.order, &self.row, &other.row).then(self.seq.cmp(&other.seq))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

impl Keeper {
    pub(super) fn new(q: &Query) -> Self {
        let offset = q.offset as usize;
        let limit = q.limit as usize;
        Keeper {
            order: q.order.clone().into(),
            cap: offset + limit + 1,
            offset,
            limit,
            rows: Vec::new(),
            best: BinaryHeap::new(),
            seen: 0,
        }
    }

    /// Keep `row` if it is among the best `cap`; false once no later row can matter.
    pub(super) fn push(&mut self, row: Vec<Value>) -> bool {
        self.seen += 1;
        if self.order.is_empty() {
            if self.seen as usize <= self.offset {
                return true;
            }
            self.rows.push(row);
            return self.rows.len() < self.cap - self.offset;
        }
        let ranked = Ranked {
            row,
            seq: self.seen,
            order: self.order.clone(),
        };
        if self.best.len() < self.cap {
            self.best.push(ranked);
        } else if self.best.peek().is_some_and(|worst| ranked < *worst) {
            self.best.pop();
            self.best.push(ranked);
        }
        true
    }

    pub(super) fn finish(self, version: String) -> RowSet {
        let (mut rows, offset) = if self.order.is_empty() {
            (self.rows, 0)
        } else {
            let sorted = self.best.into_sorted_vec();
            (sorted.into_iter().map(|r| r.row).collect(), self.offset)
        };
        let truncated = rows.len() > offset + self.limit;
        rows.truncate(offset + self.limit);
        let rows = rows.split_off(offset.min(rows.len()));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn keep(order: Vec<(usize, bool)>, offset: u64, limit: u64, rows: &[(i64, &str)]) -> RowSet {
        let q = Query {
            filters: Vec::new(),
            order,
            offset,
            limit,
        };
        let mut k = Keeper::new(&q);
        for (n, s) in rows {
            k.push(vec![Value::Int(*n), Value::Str(s.to_string())]);
        }
        k.finish(String::new())
    }

    fn names(r: &RowSet) -> Vec<String> {
        r.rows.iter().map(|row| row[1].to_text()).collect()
    }

    #[test]
    fn the_best_rows_in_query_order_with_ties_in_file_order() {
        let rows = [(3, "c"), (1, "a1"), (2, "b"), (1, "a2"), (5, "e"), (4, "d")];
        let page = keep(vec![(0, false)], 1, 2, &rows);
        assert_eq!(names(&page), ["a2", "b"]);
        assert!(page.truncated);
        let last = keep(vec![(0, true)], 4, 5, &rows);
        assert_eq!(names(&last), ["a1", "a2"]);
        assert!(!last.truncated);
        // File order: skipped rows are counted, the page follows them.
        let plain = keep(Vec::new(), 2, 3, &rows);
        assert_eq!(names(&plain), ["b", "a2", "e"]);
        assert!(plain.truncated);
    }
}
