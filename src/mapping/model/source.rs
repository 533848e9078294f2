//! Sources as the first reading of a file sees them: the kind and a description. Each kind's
//! own keys are declared in its folder (`backend/<kind>/keys.rs`) and read once the kind is
//! known (`mapping::kind_keys`).

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

/// A backend: `kind` says which, and the kind reads the source's other keys itself
/// (`backend::KINDS`, through `mapping::kind_keys`), so this first reading keeps only what
/// every source has.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SourceDef {
    /// The kind of source: `flatfile`, `odbc`, `mssql` or `soap`. (Required: left out, it is
    /// empty here and the catalogue says so, so that a misspelt key is named instead.)
    #[serde(default = "super::required::absent")]
    #[schemars(with = "String")]
    pub kind: Spanned<String>,
    /// What this source is, for people reading the mapping.
    #[serde(default)]
    pub description: Option<String>,
}
