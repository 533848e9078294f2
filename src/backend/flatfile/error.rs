//! What can go wrong reading an export. Every variant is something the caller (or the operator)
//! can act on, so all of them become tool errors with this text.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum FlatError {
    #[error("export file `{file}` does not exist (yet) in the export directory")]
    Missing { file: String },
    #[error("cannot read export file `{file}`: {message}")]
    Unreadable { file: String, message: String },
    #[error("export file `{file}` resolves outside its source directory; refusing to read it")]
    Escapes { file: String },
    #[error(
        "export file `{file}` was modified {age_ms} ms ago and may still be being written; try again in a few seconds"
    )]
    Unsettled { file: String, age_ms: u128 },
    #[error(
        "export file `{file}` changed while it was being read (the ERP is probably rewriting it); try again"
    )]
    Changed { file: String },
    /// `record` is 0 when the record was reached through the index and its number is unknown.
    #[error("`{file}` record {} (byte offset {offset}): {message}", number(*record))]
    Record {
        file: String,
        record: u64,
        offset: u64,
        message: String,
    },
    #[error("`{file}`: {message}")]
    Layout { file: String, message: String },
    /// Header or trailer missing, or the trailer's control totals disagree with the file.
    #[error(
        "export file `{file}` is incomplete: {message}; nothing from this version is returned (ask for the export to be re-run, or try again once it is rewritten)"
    )]
    Incomplete { file: String, message: String },
}

fn number(record: u64) -> String {
    if record == 0 {
        "?".to_string()
    } else {
        record.to_string()
    }
}
