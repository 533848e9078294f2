//! Paging cursors, sealed: a `next_cursor` is the continuation of a truncated result (where to
//! resume, on which version of the data, for which tool and arguments, after which key),
//! encrypted and authenticated with a server key (AES-256-GCM). A caller sees nothing inside it
//! (a keyset cursor holds the last row's key, which may be a masked field) and cannot forge or
//! alter one: anything but a cursor this server sealed is refused.
//!
//! The key comes from the settings (`cursor_key`, the same on every instance behind a load
//! balancer, so a cursor issued by one is continued by another); without it each process draws
//! a random key, and cursors do not survive a restart.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value as Json, json};
use sha2::Sha256;

/// Where a truncated result resumes.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub offset: u64,
    /// The version of the data it was issued on (a flat file's fingerprint; empty for SQL).
    pub version: String,
    /// A digest of the tool and its bound arguments: a cursor only continues the same call.
    pub args: u64,
    /// Keyset paging: the last returned row's key.
    pub after: Option<Vec<Json>>,
}

/// The key cursors are sealed with.
pub struct Seal {
    key: LessSafeKey,
}

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seal(..)")
    }
}

impl Default for Seal {
    /// A random key of this process.
    fn default() -> Seal {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the OS gives random bytes");
        Seal::from_bytes(&key)
    }
}

impl Seal {
    /// A seal from a configured secret of any length (it is stretched to a 256-bit key).
    pub fn from_secret(secret: &[u8]) -> Seal {
        Seal::derived(b"legacy-mcp cursor key", secret)
    }

    /// A seal for another purpose (`label`): the same secret gives unrelated keys.
    pub fn derived(label: &[u8], secret: &[u8]) -> Seal {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(label).expect("any key");
        mac.update(secret);
        Seal::from_bytes(&mac.finalize().into_bytes())
    }

    /// `data` encrypted and authenticated, bound to `aad`: nonce then ciphertext and tag.
    pub fn seal_bytes(&self, aad: &[u8], mut data: Vec<u8>) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the OS gives random bytes");
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut data,
            )
            .expect("sealing in memory");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        out
    }

    /// What `seal_bytes` sealed with this key and `aad`; None for anything else.
    pub fn open_bytes(&self, aad: &[u8], raw: &[u8]) -> Option<Vec<u8>> {
        if raw.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut sealed = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad), &mut sealed)
            .ok()?;
        Some(plain.to_vec())
    }

    fn from_bytes(key: &[u8]) -> Seal {
        let key = UnboundKey::new(&AES_256_GCM, key).expect("a 32-byte key");
        Seal {
            key: LessSafeKey::new(key),
        }
    }

    /// The cursor as opaque text: base64url of nonce and ciphertext. `tool` is bound as
    /// associated data, so a cursor of one tool is refused by another.
    pub fn seal(&self, tool: &str, cursor: &Cursor) -> String {
        let mut raw =
            json!({"o": cursor.offset, "v": cursor.version, "a": cursor.args.to_string()});
        if let Some(after) = &cursor.after {
            raw["k"] = Json::Array(after.clone());
        }
        let sealed = self.seal_bytes(tool.as_bytes(), raw.to_string().into_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed)
    }

    /// The cursor inside `text`, if this server sealed it for `tool`.
    pub fn open(&self, tool: &str, text: &str) -> Option<Cursor> {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .ok()?;
        let plain = self.open_bytes(tool.as_bytes(), &raw)?;
        let v: Json = serde_json::from_slice(&plain).ok()?;
        Some(Cursor {
            offset: v.get("o")?.as_u64()?,
            version: v.get("v")?.as_str()?.to_string(),
            args: v.get("a")?.as_str()?.parse().ok()?,
            after: v.get("k").and_then(|k| k.as_array().cloned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyset() -> Cursor {
        Cursor {
            offset: 0,
            version: String::new(),
            args: 42,
            after: Some(vec![json!("C10042-SECRET")]),
        }
    }

    #[test]
    fn a_sealed_cursor_opens_and_shows_nothing_inside() {
        let seal = Seal::default();
        let text = seal.seal("find_customers", &keyset());
        assert_eq!(seal.open("find_customers", &text), Some(keyset()));
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&text)
            .unwrap();
        assert!(!String::from_utf8_lossy(&raw).contains("C10042"));
        assert!(!text.contains("C10042"));
    }

    #[test]
    fn altered_forged_foreign_and_other_tool_cursors_are_refused() {
        let seal = Seal::default();
        let text = seal.seal("find_customers", &keyset());
        let mut raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&text)
            .unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        let altered = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw);
        assert_eq!(seal.open("find_customers", &altered), None);
        assert_eq!(seal.open("list_items", &text), None);
        assert_eq!(Seal::default().open("find_customers", &text), None);
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"o":1000000000,"v":"","a":"42"}"#);
        assert_eq!(seal.open("find_customers", &forged), None);
        assert_eq!(seal.open("find_customers", ""), None);
    }

    #[test]
    fn instances_sharing_a_configured_key_open_each_others_cursors() {
        let a = Seal::from_secret(b"one secret for the whole farm");
        let b = Seal::from_secret(b"one secret for the whole farm");
        let text = a.seal("t", &keyset());
        assert_eq!(b.open("t", &text), Some(keyset()));
        assert_eq!(Seal::from_secret(b"another").open("t", &text), None);
    }
}

/// Property tests: any cursor comes back as itself; no text makes `open` panic; a sealed cursor
/// with any one character changed, or opened for another tool, is refused.
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn cursor() -> impl Strategy<Value = Cursor> {
        let key = proptest::collection::vec(
            prop_oneof![
                any::<i64>().prop_map(|n| json!(n)),
                "\\PC{0,24}".prop_map(|s| json!(s)),
                Just(Json::Null),
            ],
            1..4,
        );
        (
            any::<u64>(),
            "\\PC{0,16}",
            any::<u64>(),
            proptest::option::of(key),
        )
            .prop_map(|(offset, version, args, after)| Cursor {
                offset,
                version,
                args,
                after,
            })
    }

    proptest! {
        #[test]
        fn any_cursor_round_trips(c in cursor(), tool in "[a-z_]{1,20}") {
            let seal = Seal::from_secret(b"property test key");
            let text = seal.seal(&tool, &c);
            prop_assert_eq!(seal.open(&tool, &text), Some(c));
            prop_assert_eq!(seal.open(&format!("{tool}x"), &text), None);
        }

        #[test]
        fn one_changed_character_is_refused(c in cursor(), at in any::<prop::sample::Index>(), to in "[A-Za-z0-9_-]") {
            let seal = Seal::from_secret(b"property test key");
            let text = seal.seal("t", &c);
            let i = at.index(text.len());
            let mut bytes = text.into_bytes();
            prop_assume!(bytes[i] != to.as_bytes()[0]);
            bytes[i] = to.as_bytes()[0];
            let forged = String::from_utf8(bytes).unwrap();
            // base64 may ignore the low bits of the last character; then it is the same cursor.
            let opened = seal.open("t", &forged);
            prop_assert!(opened.is_none() || opened == Some(c));
        }

        #[test]
        fn no_text_makes_open_panic(text in "\\PC{0,200}") {
            let seal = Seal::from_secret(b"property test key");
            let _ = seal.open("t", &text);
        }
    }
}
