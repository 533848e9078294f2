//! A required key of the first reading left out: read as empty, at no position, so that the
//! catalogue can tell it from a misspelt one and name both.

use serde_saphyr::Spanned;

/// A required key's value when the key is left out: empty, at no position. The first reading
/// of a source or tool takes only some of its keys, so it cannot tell a missing key from a
/// misspelt one; the catalogue names both (`catalog/keys.rs`).
pub(super) fn absent() -> Spanned<String> {
    Spanned {
        value: String::new(),
        referenced: serde_saphyr::Location::UNKNOWN,
        defined: serde_saphyr::Location::UNKNOWN,
    }
}

/// Whether a required key was left out (read by `absent`, it has no position).
pub fn left_out(v: &Spanned<String>) -> bool {
    v.referenced.line() == 0
}
