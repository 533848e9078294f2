//! What the key index remembers of one version of an export (`View`), and what a table keeps
//! between calls (`Slot`). Plain data below the table that holds the slot; building and
//! reading views is `index.rs`.

use std::fs::File;
use std::sync::Arc;

use super::fingerprint::Fingerprint;
use super::keyindex::KeyIndex;

pub struct View {
    pub fingerprint: Fingerprint,
    /// Byte offset of the first data record (after a csv header).
    pub data_start: u64,
    /// csv: the column of each field; empty for fixed width.
    pub columns: Vec<usize>,
    /// None when the table has no indexable key.
    pub index: Option<KeyIndex>,
    /// `when_incomplete: last_complete`: a private copy of this version, which reads use
    /// instead of the live file, so it can still answer after the ERP replaces the file.
    pub(super) snapshot: Option<File>,
}

/// What a table remembers between calls.
#[derive(Default)]
pub struct Slot {
    /// The last version that was indexed (and verified, for a multi-record file).
    pub(super) view: Option<Arc<View>>,
    /// The last version found incomplete, and why: not read again until the file changes.
    pub(super) failed: Option<(Fingerprint, String)>,
}
