//! Which version of an export a read saw: its size and modification time, since ERPs overwrite
//! exports nightly and that changes both. Below everything that remembers or compares versions.

use std::time::SystemTime;

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

impl Fingerprint {
    pub fn of(meta: &std::fs::Metadata) -> Self {
        let modified_ns = meta
            .modified()
            .ok()
            .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Fingerprint {
            len: meta.len(),
            modified_ns,
        }
    }
}
