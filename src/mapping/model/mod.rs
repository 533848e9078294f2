//! The mapping format v1 as serde types: what one YAML file may say. Strict: unknown keys are
//! errors. Positions come from `serde_saphyr::Spanned`; the JSON Schema from `schemars`.
//!
//! Shorthand forms (`item_no: prefix` for an equality filter, `"-price"` for a descending order)
//! are parsed by hand-written visitors in `shorthand.rs` so that errors inside the long form keep
//! their YAML positions (serde's untagged enums would lose them).
//!
//! One file per section: `source.rs` (what every source has; each kind's own keys are in its
//! folder, `backend/<kind>/keys.rs`), `tool.rs`,
//! `resource.rs` (resources and prompts), `masking.rs`; this file holds the file itself.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

mod masking;
mod required;
mod resource;
mod source;
mod tool;

pub use super::field_type::FieldType;
pub use super::shorthand::{Condition, FieldSpec, Operand, OrderKey};
pub use masking::*;
pub use required::left_out;
pub use resource::*;
pub use source::*;
pub use tool::*;

/// One mapping file. Every section is optional; a directory of files is merged by name.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "legacy-mcp mapping file (format v1)")]
pub struct MappingFile {
    /// The mapping format version; 1 is the only one so far.
    #[serde(default)]
    pub version: Option<u32>,
    /// Named backends: how to reach data and how it is laid out.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, SourceDef>")]
    pub sources: IndexMap<String, Spanned<SourceDef>>,
    /// MCP tools: what an agent may ask, with typed parameters.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, ToolDef>")]
    pub tools: IndexMap<String, Spanned<ToolDef>>,
    /// MCP resources: static URIs and URI templates answered by a tool.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, ResourceDef>")]
    pub resources: IndexMap<String, Spanned<ResourceDef>>,
    /// MCP prompts: message templates with arguments, optionally embedding resources.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, PromptDef>")]
    pub prompts: IndexMap<String, Spanned<PromptDef>>,
    /// Named masking policies, attached to fields with `mask: name`.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, MaskPolicyDef>")]
    pub masking: IndexMap<String, Spanned<MaskPolicyDef>>,
}
