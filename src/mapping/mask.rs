//! Field masking: named policies from the mappings (`masking:`), attached to fields with
//! `mask: name`, applied while rows are shaped, so a masked value never reaches a result, a
//! cached answer, a log line or an error. A caller's *profile* is the set of policies its roles
//! lift (`unmasked_for`); it is part of the cache key, so one caller's unmasked answer is never
//! served to another.

use std::collections::BTreeSet;
use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use indexmap::IndexMap;
use serde_json::Value as Json;
use serde_saphyr::Spanned;
use sha2::Sha256;

use crate::mapping::interpolate::interpolate;
use crate::mapping::load::FileProblems;
use crate::mapping::model::{MaskPolicyDef, MaskStrategy};
use crate::value::Value;

/// The shortest accepted HMAC key for `strategy: hash`.
pub const MIN_KEY_BYTES: usize = 16;

/// A compiled masking policy.
#[derive(Debug)]
pub struct Policy {
    pub name: String,
    pub strategy: MaskStrategy,
    keep_first: usize,
    keep_last: usize,
    replacement: String,
    key: Vec<u8>,
    pub unmasked_for: Vec<String>,
}

/// The masking policies of a catalogue, by name.
pub type Policies = IndexMap<String, Arc<Policy>>;

/// Who is asking, as far as masking goes: the policies the caller's roles lift.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    unmasked: BTreeSet<String>,
}

impl Profile {
    /// The profile of a caller with these roles.
    pub fn for_roles(policies: &Policies, roles: &[String]) -> Profile {
        let unmasked = policies
            .values()
            .filter(|p| p.unmasked_for.iter().any(|r| roles.contains(r)))
            .map(|p| p.name.clone())
            .collect();
        Profile { unmasked }
    }

    /// Whether a field under this policy is shown as it is.
    pub fn lifts(&self, policy: &Policy) -> bool {
        self.unmasked.contains(&policy.name)
    }

    /// A stable text naming the profile, for cache keys: the lifted policies, sorted.
    pub fn key(&self) -> String {
        self.unmasked.iter().cloned().collect::<Vec<_>>().join(",")
    }
}

impl Policy {
    /// The masked form of a value; `None` means the field is left out (`drop`).
    pub fn apply(&self, v: &Value) -> Option<Json> {
        if self.strategy == MaskStrategy::Drop {
            return None;
        }
        if v.is_null() || self.strategy == MaskStrategy::Null {
            return Some(Json::Null);
        }
        if let Value::List(items) = v {
            return Some(Json::Array(
                items.iter().filter_map(|i| self.apply(i)).collect(),
            ));
        }
        let text = v.to_text();
        let chars: Vec<char> = text.chars().collect();
        let masked = match self.strategy {
            MaskStrategy::Redact => self.replacement.clone(),
            MaskStrategy::Partial => keep_ends(&chars, self.keep_first, self.keep_last),
            MaskStrategy::Last4 => keep_ends(&chars, 0, 4),
            MaskStrategy::Email => match text.rsplit_once('@') {
                Some((_, domain)) if !domain.is_empty() => format!("***@{domain}"),
                _ => "***".into(),
            },
            MaskStrategy::Hash => self.pseudonym(&text),
            MaskStrategy::Drop | MaskStrategy::Null => unreachable!("handled above"),
        };
        Some(Json::String(masked))
    }

    /// `h:` and the first 8 bytes of HMAC-SHA256(key, text) in hex.
    pub fn pseudonym(&self, text: &str) -> String {
        pseudonym(&self.key, text)
    }
}

/// A keyed pseudonym of a text: equal texts give equal pseudonyms under one key.
pub fn pseudonym(key: &[u8], text: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(text.as_bytes());
    let digest = mac.finalize().into_bytes();
    format!("h:{}", hex(&digest[..8]))
}

/// Lower-case hex of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Keep `first` and `last` characters around `***`, as long as at least half the value stays
/// hidden; a value too short for that is masked whole.
fn keep_ends(chars: &[char], first: usize, last: usize) -> String {
    if chars.len() <= first + last || chars.len() < 2 * (first + last) {
        return "***".into();
    }
    let head: String = chars[..first].iter().collect();
    let tail: String = chars[chars.len() - last..].iter().collect();
    format!("{head}***{tail}")
}

/// Compile one policy of a file's `masking:` section into `out`.
pub fn compile(
    name: &str,
    def: &Spanned<MaskPolicyDef>,
    dir: &std::path::Path,
    out: &mut Policies,
    p: &mut FileProblems<'_>,
) {
    let here = format!("masking.{name}");
    let d = &def.value;
    let strategy = d.strategy.value;
    let mut key = Vec::new();
    let only = |present: bool, k: &str, s: MaskStrategy, p: &mut FileProblems<'_>| {
        if present && strategy != s {
            p.at(
                &d.strategy.referenced,
                format!("{here}.{k}"),
                format!("`{k}` applies to strategy `{}` only; remove it", name_of(s)),
            );
        }
    };
    only(
        d.keep_first.is_some(),
        "keep_first",
        MaskStrategy::Partial,
        p,
    );
    only(d.keep_last.is_some(), "keep_last", MaskStrategy::Partial, p);
    only(
        d.replacement.is_some(),
        "replacement",
        MaskStrategy::Redact,
        p,
    );
    only(d.key.is_some(), "key", MaskStrategy::Hash, p);
    if strategy == MaskStrategy::Hash {
        match &d.key {
            None => p.at(
                &d.strategy.referenced,
                &here,
                "strategy `hash` needs `key:`, e.g. key: \"${env:LEGACY_MCP_MASK_KEY}\" (at least 16 bytes)",
            ),
            Some(k) => match interpolate(&k.value, dir) {
                Err(m) => p.at(&k.referenced, format!("{here}.key"), m),
                Ok(v) if v.len() < MIN_KEY_BYTES => p.at(
                    &k.referenced,
                    format!("{here}.key"),
                    format!("the key is {} bytes; use at least {MIN_KEY_BYTES} random bytes so pseudonyms cannot be guessed back", v.len()),
                ),
                Ok(v) => key = v.into_bytes(),
            },
        }
    }
    out.insert(
        name.to_string(),
        Arc::new(Policy {
            name: name.to_string(),
            strategy,
            keep_first: d.keep_first.unwrap_or(1) as usize,
            keep_last: d.keep_last.unwrap_or(0) as usize,
            replacement: d.replacement.clone().unwrap_or_else(|| "[redacted]".into()),
            key,
            unmasked_for: d.unmasked_for.clone(),
        }),
    );
}

pub fn name_of(s: MaskStrategy) -> &'static str {
    match s {
        MaskStrategy::Redact => "redact",
        MaskStrategy::Partial => "partial",
        MaskStrategy::Email => "email",
        MaskStrategy::Last4 => "last4",
        MaskStrategy::Hash => "hash",
        MaskStrategy::Drop => "drop",
        MaskStrategy::Null => "null",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(strategy: MaskStrategy) -> Policy {
        Policy {
            name: "p".into(),
            strategy,
            keep_first: 2,
            keep_last: 2,
            replacement: "[redacted]".into(),
            key: b"0123456789abcdef".to_vec(),
            unmasked_for: vec![],
        }
    }

    fn s(v: &str) -> Value {
        Value::Str(v.into())
    }

    #[test]
    fn strategies() {
        let j = |st, v: &str| policy(st).apply(&s(v));
        assert_eq!(
            j(MaskStrategy::Redact, "secret"),
            Some(Json::from("[redacted]"))
        );
        assert_eq!(
            j(MaskStrategy::Partial, "Johansson"),
            Some(Json::from("Jo***on"))
        );
        assert_eq!(j(MaskStrategy::Partial, "Jon"), Some(Json::from("***")));
        assert_eq!(
            j(MaskStrategy::Email, "ann@example.com"),
            Some(Json::from("***@example.com"))
        );
        assert_eq!(
            j(MaskStrategy::Email, "no-at-sign"),
            Some(Json::from("***"))
        );
        assert_eq!(
            j(MaskStrategy::Last4, "DE89370400440532013000"),
            Some(Json::from("***3000"))
        );
        assert_eq!(j(MaskStrategy::Last4, "1234"), Some(Json::from("***")));
        assert_eq!(j(MaskStrategy::Drop, "x"), None);
        assert_eq!(j(MaskStrategy::Null, "x"), Some(Json::Null));
        assert_eq!(
            policy(MaskStrategy::Redact).apply(&Value::Null),
            Some(Json::Null)
        );
    }

    #[test]
    fn hash_is_keyed_and_stable() {
        let a = policy(MaskStrategy::Hash).apply(&s("C10000")).unwrap();
        let b = policy(MaskStrategy::Hash).apply(&s("C10000")).unwrap();
        assert_eq!(a, b);
        assert!(a.as_str().unwrap().starts_with("h:"));
        assert_eq!(a.as_str().unwrap().len(), 18);
        let mut other = policy(MaskStrategy::Hash);
        other.key = b"another-key-16-bytes".to_vec();
        assert_ne!(other.apply(&s("C10000")).unwrap(), a);
    }
}
