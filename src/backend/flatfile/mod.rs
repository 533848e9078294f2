//! `kind: flatfile`: the ERP's nightly exports (csv and fixed width) read in place.
//!
//! - `keys.rs`    the kind's mapping keys: a source's (directory, table layouts) and a tool's
//! - `config.rs`  the kind (`SourceKind`): keys -> compiled tables, with positioned problems
//! - `compile.rs` a tool on the source (filters, order) and its plan: the kind's `Backend`
//! - `config_fields.rs` mapping -> one field (storage, codec, place), for tables and record types
//! - `config_records.rs` mapping -> record types, header and trailer of multi-record files
//! - `field.rs`   one field: place, storage, codec, the condition of a variant
//! - `record_types.rs` a multi-record file's record types, header and trailer (layout)
//! - `table.rs`   a table's layout and how one record's bytes become values
//! - `fingerprint.rs` which version of an export a read saw (size and mtime)
//! - `view.rs`    what the key index keeps per version, and per table between calls
//! - `codec.rs`   encodings and field types
//! - `codepages.rs` DOS and EBCDIC code page tables (generated)
//! - `copybook.rs` COBOL copybook -> table layout, for `import-copybook`
//! - `reader.rs`  safe open, change detection, streaming records
//! - `records.rs` multi-record files: record types, header, trailer and control totals
//! - `index.rs`   per-version view: csv column map and the key index
//! - `keyindex.rs` the key index: 16 bytes per record, windowed and tagged
//! - `query.rs`   answering a query: index lookup or scan
//! - `keep.rs`    filters checked on the fewest decoded fields; the bounded, ordered rows kept
//! - `error.rs`   what can go wrong, worded for the caller

pub mod codec;
pub mod codepages;
pub mod compile;
pub mod config;
pub mod config_fields;
pub mod config_records;
pub mod copybook;
pub mod error;
pub mod field;
pub mod fingerprint;
pub mod index;
pub mod keep;
pub mod keyindex;
pub mod keys;
pub mod query;
pub mod reader;
pub mod record_types;
pub mod records;
mod segments;
pub mod table;
pub mod view;

use std::sync::Arc;

use indexmap::IndexMap;

pub use error::FlatError;
pub use table::Table;

use super::rows::{Query, RowSet};

/// A directory of exports with its tables.
pub struct FlatfileSource {
    pub name: String,
    pub tables: IndexMap<String, Arc<Table>>,
}

impl FlatfileSource {
    /// Every table's export directory can be listed.
    pub async fn probe(&self) -> Result<(), String> {
        let dirs: Vec<std::path::PathBuf> = self.tables.values().map(|t| t.dir.clone()).collect();
        tokio::task::spawn_blocking(move || {
            for d in dirs {
                std::fs::read_dir(&d).map_err(|e| {
                    format!("cannot read the export directory {}: {e}", d.display())
                })?;
            }
            Ok(())
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

/// Run a query on a blocking thread: file I/O must not stall the async runtime. When the
/// call is abandoned (its timeout answered, its client gone), the scan stops at its next
/// record instead of reading on to the end of the file.
pub async fn run(table: Arc<Table>, query: Query) -> Result<RowSet, FlatError> {
    crate::backend::abandon::run_blocking(move |stop| query::run(&table, &query, stop))
        .await
        .unwrap_or_else(|message| {
            Err(FlatError::Unreadable {
                file: "?".into(),
                message,
            })
        })
}
