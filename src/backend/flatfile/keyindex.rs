//! The key index of one file version: 16 bytes per record.
//!
//! Each entry is `(window, offset << 24 | tag)`, sorted:
//! - `window`: 8 bytes of the key whose unsigned order agrees with the key's order. For text keys
//!   the bytes all keys share at the start (up to 8, e.g. `K0000` of `K000012345678`) are
//!   stripped first, so keys with a long common beginning still spread over the index;
//! - `offset`: where the record starts (files up to 1 TiB);
//! - `tag`: 24 bits of a hash of the whole key, so an equality lookup skips records whose
//!   window matches but whose key does not, without reading them.
//!
//! A lookup binary-searches the window range and reads only the candidates; every candidate is
//! then checked against the full filters, so the index only ever narrows, never decides.

use crate::backend::rows::{Filter, Op};
use crate::mapping::model::FieldType;
use crate::value::Value;

const TAG_BITS: u32 = 24;
const MAX_OFFSET: u64 = 1 << (64 - TAG_BITS);

pub struct KeyIndex {
    /// Bytes every text key starts with (stripped before taking the window).
    common: Vec<u8>,
    entries: Vec<(u64, u64)>,
}

/// Collects entries while the file is scanned.
#[derive(Default)]
pub struct Builder {
    common: Option<Vec<u8>>,
    entries: Vec<(u64, u64)>,
    too_large: bool,
}

impl Builder {
    pub fn add(&mut self, key: &Value, offset: u64) {
        if offset >= MAX_OFFSET {
            self.too_large = true;
            return;
        }
        let packed = (offset << TAG_BITS) | tag(key);
        let window = match key {
            Value::Str(s) => {
                self.narrow_common(s.as_bytes());
                let strip = self.common.as_ref().map_or(0, Vec::len);
                text_window(&s.as_bytes()[strip..], 0)
            }
            other => ordered(other),
        };
        self.entries.push((window, packed));
    }

    /// Shrink the common beginning to what `key` shares; entries taken with the longer strip
    /// get the now-unstripped bytes (known: every earlier key had them) put back in front.
    fn narrow_common(&mut self, key: &[u8]) {
        let common = self
            .common
            .get_or_insert_with(|| key[..key.len().min(8)].to_vec());
        let shared = common.iter().zip(key).take_while(|(a, b)| a == b).count();
        if shared == common.len() {
            return;
        }
        let restored = common[shared..].to_vec();
        common.truncate(shared);
        for e in &mut self.entries {
            let mut bytes = restored.clone();
            bytes.extend_from_slice(&e.0.to_be_bytes());
            e.0 = text_window(&bytes, 0);
        }
    }

    /// None when the file is too large to index (offsets past 1 TiB): queries then scan.
    pub fn finish(mut self) -> Option<KeyIndex> {
        if self.too_large {
            return None;
        }
        self.entries.sort_unstable();
        self.entries.shrink_to_fit();
        Some(KeyIndex {
            common: self.common.unwrap_or_default(),
            entries: self.entries,
        })
    }
}

/// 8 bytes in order, padded with `pad` (0x00 for a lower bound, 0xFF for an upper one).
fn text_window(bytes: &[u8], pad: u8) -> u64 {
    let mut b = [pad; 8];
    let n = bytes.len().min(8);
    b[..n].copy_from_slice(&bytes[..n]);
    u64::from_be_bytes(b)
}

/// Order-preserving 8 bytes for integer and date keys (exact: no tag needed, but kept uniform).
fn ordered(v: &Value) -> u64 {
    match v {
        Value::Int(i) => (*i as u64) ^ (1 << 63),
        Value::Date(d) => d.signed_duration_since(chrono::NaiveDate::MIN).num_days() as u64,
        _ => 0,
    }
}

/// FNV-1a of the key's text, folded to 24 bits.
fn tag(v: &Value) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in v.to_text().bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100000001b3);
    }
    (h ^ (h >> 24) ^ (h >> 48)) & ((1 << TAG_BITS) - 1)
}

/// What the filters on the indexed field say about the window range.
struct Range {
    lo: u64,
    hi: u64,
    tag: Option<u64>,
    narrowed: bool,
    empty: bool,
}

impl KeyIndex {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Candidate record offsets in file order, or None when the index cannot narrow the search
    /// (no usable filter, or a range covering most of a large file, which is cheaper to stream).
    pub fn candidates(
        &self,
        field: usize,
        kind: FieldType,
        filters: &[Filter],
    ) -> Option<Vec<u64>> {
        let mut r = Range {
            lo: 0,
            hi: u64::MAX,
            tag: None,
            narrowed: false,
            empty: false,
        };
        for f in filters.iter().filter(|f| f.field == field) {
            match (&f.value, kind) {
                (Value::Str(s), FieldType::String) => {
                    self.narrow_text(&mut r, f.op, s.as_bytes(), &f.value)
                }
                (Value::Int(_), FieldType::Integer) | (Value::Date(_), FieldType::Date) => {
                    narrow_exact(&mut r, f.op, ordered(&f.value))
                }
                _ => {}
            }
        }
        if r.empty || r.lo > r.hi {
            return Some(Vec::new());
        }
        if !r.narrowed {
            return None;
        }
        let from = self.entries.partition_point(|e| e.0 < r.lo);
        let to = self.entries.partition_point(|e| e.0 <= r.hi);
        if to - from > self.entries.len() / 4 && self.entries.len() > 1000 && r.tag.is_none() {
            return None;
        }
        let mask = (1 << TAG_BITS) - 1;
        let mut offsets: Vec<u64> = self.entries[from..to]
            .iter()
            .filter(|e| r.tag.is_none_or(|t| e.1 & mask == t))
            .map(|e| e.1 >> TAG_BITS)
            .collect();
        offsets.sort_unstable();
        Some(offsets)
    }

    fn narrow_text(&self, r: &mut Range, op: Op, value: &[u8], full: &Value) {
        let p = self.common.as_slice();
        match op {
            Op::Equals => {
                let Some(rest) = value.strip_prefix(p) else {
                    r.empty = true;
                    return;
                };
                let w = text_window(rest, 0);
                r.lo = r.lo.max(w);
                r.hi = r.hi.min(w);
                r.tag = Some(tag(full));
                r.narrowed = true;
            }
            Op::StartsWith => {
                if value.len() <= p.len() {
                    // Every key starts with `p`: all match if `value` is a prefix of it, else none.
                    r.empty |= !p.starts_with(value);
                    return;
                }
                let Some(rest) = value.strip_prefix(p) else {
                    r.empty = true;
                    return;
                };
                r.lo = r.lo.max(text_window(rest, 0));
                r.hi =
                    r.hi.min(text_window(rest, if rest.len() >= 8 { 0 } else { 0xFF }));
                r.narrowed = true;
            }
            // Bounds that do not share the common beginning are left to the final check.
            Op::Min | Op::GreaterThan => {
                if let Some(rest) = value.strip_prefix(p) {
                    r.lo = r.lo.max(text_window(rest, 0));
                    r.narrowed = true;
                }
            }
            Op::Max | Op::LessThan => {
                if let Some(rest) = value.strip_prefix(p) {
                    // Keys sharing the window may still be <= value: the window bound is inclusive.
                    r.hi =
                        r.hi.min(text_window(rest, if rest.len() >= 8 { 0 } else { 0xFF }));
                    r.narrowed = true;
                }
            }
        }
    }
}

fn narrow_exact(r: &mut Range, op: Op, w: u64) {
    match op {
        Op::Equals => {
            r.lo = r.lo.max(w);
            r.hi = r.hi.min(w);
        }
        Op::Min | Op::GreaterThan => r.lo = r.lo.max(w),
        Op::Max | Op::LessThan => r.hi = r.hi.min(w),
        Op::StartsWith => return,
    }
    r.narrowed = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(op: Op, v: &str) -> Vec<Filter> {
        vec![Filter {
            field: 0,
            op,
            value: Value::Str(v.into()),
        }]
    }

    fn index(keys: &[&str]) -> KeyIndex {
        let mut b = Builder::default();
        for (i, k) in keys.iter().enumerate() {
            b.add(&Value::Str((*k).into()), i as u64 * 100);
        }
        b.finish().unwrap()
    }

    #[test]
    fn long_common_beginnings_are_stripped_and_equality_uses_the_tag() {
        let keys: Vec<String> = (0..5000).map(|i| format!("K{i:012}")).collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let idx = index(&refs);
        assert_eq!(idx.common, b"K0000000");
        let got = idx
            .candidates(0, FieldType::String, &filter(Op::Equals, "K000000004321"))
            .unwrap();
        assert_eq!(got, vec![4321 * 100]);
        let pre = idx
            .candidates(
                0,
                FieldType::String,
                &filter(Op::StartsWith, "K00000000432"),
            )
            .unwrap();
        assert_eq!(pre.len(), 10);
        assert!(
            idx.candidates(0, FieldType::String, &filter(Op::Equals, "X1"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn the_common_beginning_shrinks_as_keys_arrive() {
        let idx = index(&["ABCD1", "ABCD2", "ABX", "B"]);
        assert!(idx.common.is_empty());
        let got = idx
            .candidates(0, FieldType::String, &filter(Op::StartsWith, "ABC"))
            .unwrap();
        assert_eq!(got, vec![0, 100]);
        let eq = idx
            .candidates(0, FieldType::String, &filter(Op::Equals, "ABX"))
            .unwrap();
        assert_eq!(eq, vec![200]);
    }

    #[test]
    fn integer_windows_keep_order() {
        assert!(ordered(&Value::Int(-5)) < ordered(&Value::Int(3)));
    }
}
