//! Masking policies: how a masked value is shown, and to whom it is not masked.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

/// How a masked value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MaskStrategy {
    /// Replace the whole value with `replacement` (default `[redacted]`).
    Redact,
    /// Keep the first `keep_first` and last `keep_last` characters: `Jo***on`.
    Partial,
    /// Keep only the domain of an e-mail address: `***@example.com`.
    Email,
    /// Keep the last four characters: `***1234`.
    Last4,
    /// A keyed HMAC-SHA256 pseudonym (`h:` and 16 hex digits): equal values give equal
    /// pseudonyms, stable across restarts, not reversible without the key.
    Hash,
    /// Leave the field out of the result.
    Drop,
    /// Show the field as null.
    Null,
}

/// A masking policy: how a field is masked, and which roles see it unmasked.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MaskPolicyDef {
    #[schemars(with = "MaskStrategy")]
    pub strategy: Spanned<MaskStrategy>,
    /// partial: characters kept at the start (default 1).
    #[serde(default)]
    pub keep_first: Option<u32>,
    /// partial: characters kept at the end (default 0).
    #[serde(default)]
    pub keep_last: Option<u32>,
    /// redact: the text shown instead of the value (default `[redacted]`).
    #[serde(default)]
    pub replacement: Option<String>,
    /// hash: the HMAC key, at least 16 bytes; write `${env:NAME}` or `${file:PATH}`, never the
    /// key itself.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub key: Option<Spanned<String>>,
    /// Roles that see the value unmasked (e.g. `[finance]`). Everyone else sees it masked.
    #[serde(default)]
    pub unmasked_for: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}
