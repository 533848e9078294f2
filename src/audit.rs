//! The audit log: one JSON line per call (errors and refusals included) to stderr and/or a
//! file rotated by size. It says who asked what, when, how it ended and how long it took, and
//! never what the data was: argument values are replaced by keyed pseudonyms (HMAC-SHA256, the
//! masking hash), so equal arguments can be matched across lines without being readable, and
//! the same values are replaced inside error messages. Results are not logged at all.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Map, Value as Json, json};

use crate::mapping::mask::pseudonym;

/// Default size at which the file is rotated.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 10_000_000;
/// Default number of rotated files kept.
pub const DEFAULT_KEEP_FILES: u32 = 5;
/// Argument values shorter than this are not searched for in error texts (replacing every `1`
/// in a message would garble it; such short values identify nobody).
const MIN_SCRUBBED_LEN: usize = 3;

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The caller can fix it (bad argument, not found, backend said no).
    ToolError,
    /// Unknown tool or malformed request.
    Rejected,
    /// The caller's roles may not use it (the caller was told "unknown").
    Denied,
    /// Refused by a limit (rate, concurrency, timeout).
    Limited,
    /// A write the user declined to confirm, or could not be asked to confirm (nothing sent).
    Declined,
    /// A write waiting for the user's confirmation, asked in the answer (nothing sent yet).
    Confirming,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::ToolError => "tool_error",
            Outcome::Rejected => "rejected",
            Outcome::Denied => "denied",
            Outcome::Limited => "limited",
            Outcome::Declined => "declined",
            Outcome::Confirming => "confirming",
        }
    }
}

/// One call, as the pipeline saw it.
pub struct Record<'a> {
    pub principal: &'a str,
    pub tool: &'a str,
    pub source: Option<&'a str>,
    pub outcome: Outcome,
    pub duration: Duration,
    pub rows: Option<u64>,
    pub cache: &'a str,
    pub stale: bool,
    pub args: &'a Map<String, Json>,
    pub error: Option<&'a str>,
}

pub struct Auditor {
    stderr: bool,
    file: Option<Mutex<RotatingFile>>,
    key: Vec<u8>,
}

impl Auditor {
    /// Writes nothing (tests, and commands that audit elsewhere).
    pub fn disabled() -> Self {
        Auditor {
            stderr: false,
            file: None,
            key: random_key(),
        }
    }

    /// `key`: the pseudonym key; `None` makes one for this process only.
    pub fn new(
        stderr: bool,
        file: Option<(PathBuf, u64, u32)>,
        key: Option<Vec<u8>>,
    ) -> Result<Self, String> {
        let file = match file {
            Some((path, max, keep)) => Some(Mutex::new(RotatingFile::open(path, max, keep)?)),
            None => None,
        };
        if key.is_none() && file.is_some() {
            tracing::warn!("audit.key is not set: argument pseudonyms match only within this run");
        }
        Ok(Auditor {
            stderr,
            file,
            key: key.unwrap_or_else(random_key),
        })
    }

    pub fn enabled(&self) -> bool {
        self.stderr || self.file.is_some()
    }

    /// Write one record; a failing file is reported in the log and does not fail the call.
    pub fn write(&self, r: &Record<'_>) {
        if !self.enabled() {
            return;
        }
        let line = self.line(r).to_string();
        if self.stderr {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
        if let Some(f) = &self.file {
            let mut f = f.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = f.write_line(&line) {
                tracing::error!(file = %f.path.display(), "cannot write the audit log: {e}");
            }
        }
    }

    /// The JSON of a record: arguments as pseudonyms, and scrubbed of them in the error.
    pub fn line(&self, r: &Record<'_>) -> Json {
        let args: Map<String, Json> = r
            .args
            .iter()
            .map(|(k, v)| (k.clone(), Json::String(pseudonym(&self.key, &text(v)))))
            .collect();
        let mut out = json!({
            "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "principal": r.principal,
            "tool": r.tool,
            "outcome": r.outcome.name(),
            "duration_ms": (r.duration.as_secs_f64() * 1000.0 * 10.0).round() / 10.0,
            "cache": r.cache,
            "args": args,
        });
        if let Some(s) = r.source {
            out["source"] = json!(s);
        }
        if let Some(n) = r.rows {
            out["rows"] = json!(n);
        }
        if r.stale {
            out["stale"] = json!(true);
        }
        if let Some(e) = r.error {
            out["error"] = json!(self.scrub(e, r.args));
        }
        out
    }

    /// Replace every argument value quoted in `message` by its pseudonym: as it is and as
    /// error messages quote it (JSON-escaped: `a"b` reads `a\"b` there), each item of an
    /// array on its own.
    fn scrub(&self, message: &str, args: &Map<String, Json>) -> String {
        let mut values: Vec<(String, String)> = Vec::new();
        for v in args.values() {
            let items = match v {
                Json::Array(items) => items.iter().chain(std::iter::once(v)).collect(),
                _ => vec![v],
            };
            for item in items {
                let raw = text(item);
                let escaped = match item {
                    Json::String(s) => {
                        let quoted = Json::String(s.clone()).to_string();
                        quoted[1..quoted.len() - 1].to_string()
                    }
                    _ => raw.clone(),
                };
                let name = pseudonym(&self.key, &raw);
                values.push((raw, name.clone()));
                values.push((escaped, name));
            }
        }
        values.retain(|(t, _)| t.chars().count() >= MIN_SCRUBBED_LEN);
        // Longest first, so a value containing another is replaced whole.
        values.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
        let mut out = message.to_string();
        for (v, name) in values {
            out = out.replace(&v, &name);
        }
        out
    }
}

/// An argument's text: a string as it is, anything else as JSON.
fn text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn random_key() -> Vec<u8> {
    let mut key = vec![0u8; 32];
    // Without an OS random source there is nothing better to do than a clear failure.
    getrandom::fill(&mut key).expect("the operating system's random source");
    key
}

/// A file that is renamed to `NAME.1` (and `.1` to `.2`, ...) when it would pass `max` bytes.
struct RotatingFile {
    path: PathBuf,
    file: File,
    size: u64,
    max: u64,
    keep: u32,
}

impl RotatingFile {
    fn open(path: PathBuf, max: u64, keep: u32) -> Result<Self, String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("audit log directory {}: {e}", dir.display()))?;
        }
        let file = append(&path).map_err(|e| format!("audit log {}: {e}", path.display()))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(RotatingFile {
            path,
            file,
            size,
            max: max.max(1024),
            keep,
        })
    }

    fn write_line(&mut self, line: &str) -> std::io::Result<()> {
        let len = line.len() as u64 + 1;
        if self.size > 0 && self.size + len > self.max {
            self.rotate()?;
        }
        self.file.write_all(format!("{line}\n").as_bytes())?;
        self.size += len;
        Ok(())
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        let numbered = |n: u32| rotated(&self.path, n);
        if self.keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            let _ = std::fs::remove_file(numbered(self.keep));
            for n in (1..self.keep).rev() {
                if numbered(n).exists() {
                    std::fs::rename(numbered(n), numbered(n + 1))?;
                }
            }
            std::fs::rename(&self.path, numbered(1))?;
        }
        self.file = append(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

fn append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// `audit.jsonl` → `audit.jsonl.1`.
pub fn rotated(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record<'a>(args: &'a Map<String, Json>, error: Option<&'a str>) -> Record<'a> {
        Record {
            principal: "support-bot",
            tool: "get_customer",
            source: Some("exports"),
            outcome: Outcome::ToolError,
            duration: Duration::from_millis(3),
            rows: None,
            cache: "off",
            stale: false,
            args,
            error,
        }
    }

    #[test]
    fn arguments_become_pseudonyms_everywhere() {
        let a = Auditor::new(false, None, Some(b"0123456789abcdef".to_vec())).unwrap();
        let args: Map<String, Json> =
            serde_json::from_value(json!({"customer_no": "C10000", "limit": 5, "name": "Müller"}))
                .unwrap();
        let msg = "not found: no record in `CUSTOMERS` matches customer_no = \"C10000\", name = \"Müller\"";
        let line = a.line(&record(&args, Some(msg))).to_string();
        assert!(
            !line.contains("C10000") && !line.contains("Müller"),
            "{line}"
        );
        let p = pseudonym(b"0123456789abcdef", "C10000");
        assert_eq!(a.line(&record(&args, None))["args"]["customer_no"], p);
        assert!(
            line.contains(&format!("customer_no = \\\"{p}\\\"")),
            "{line}"
        );
    }

    #[test]
    fn escaped_and_array_arguments_are_scrubbed_too() {
        let a = Auditor::new(false, None, Some(b"0123456789abcdef".to_vec())).unwrap();
        let args: Map<String, Json> = serde_json::from_value(json!({
            "customer_no": "CANARY\"quoted\\back\nline",
            "items": ["ITEM-CANARY-1", "ITEM-CANARY-2"],
        }))
        .unwrap();
        let msg = "argument `customer_no` must match the pattern C[0-9]{5} (got \"CANARY\\\"quoted\\\\back\\nline\"); item ITEM-CANARY-2 is not sold";
        let line = a.line(&record(&args, Some(msg))).to_string();
        assert!(!line.contains("CANARY"), "{line}");
    }

    #[test]
    fn the_file_rotates_and_keeps_its_count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/audit.jsonl");
        let mut f = RotatingFile::open(path.clone(), 1024, 2).unwrap();
        let line = "x".repeat(400);
        for _ in 0..10 {
            f.write_line(&line).unwrap();
        }
        assert!(rotated(&path, 1).exists() && rotated(&path, 2).exists());
        assert!(!rotated(&path, 3).exists());
        for p in [path.clone(), rotated(&path, 1), rotated(&path, 2)] {
            let len = std::fs::metadata(&p).unwrap().len();
            assert!(len <= 1024, "{} is {len} bytes", p.display());
        }
    }
}
