//! What a compiled catalogue holds: tools, resources and prompts ready to serve, and the
//! limits every tool shares. Below the compilers that build them and the code that serves them.

use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{Map, Value as Json};

use crate::backend::Source;
use crate::backend::kind::Plan;
use crate::mapping::model::{ConfirmRule, Role};
use crate::mapping::params::Param;
use crate::mapping::shape::Shape;
use crate::uri::UriTemplate;

/// Rows per call when a tool sets no `limit`.
pub const DEFAULT_LIMIT: u32 = 50;

/// The most rows one call may return.
pub const MAX_LIMIT: u32 = 10_000;

/// Largest result in JSON bytes when a tool sets no `max_result_size`.
pub const DEFAULT_MAX_RESULT_BYTES: u64 = 1_000_000;

pub struct Catalog {
    /// Masking policies by name (`masking:` of every file).
    pub masking: crate::mapping::mask::Policies,
    pub sources: IndexMap<String, Arc<Source>>,
    pub tools: IndexMap<String, Arc<Tool>>,
    pub resources: Vec<Resource>,
    pub prompts: IndexMap<String, Prompt>,
    /// SHA-256 of the mapping files (names and bytes): replicas serving the same mappings
    /// share cached answers, and `/readyz` tells a replica whose mappings differ.
    pub digest: String,
}

pub struct Tool {
    pub name: String,
    pub title: Option<String>,
    pub description: String,
    pub params: Vec<Param>,
    /// What the tool asks its backend.
    pub plan: Box<dyn Plan>,
    /// The source's name (for the audit log).
    pub source: String,
    /// What "not found" names: "`CUSTOMERS`", "source `erp`".
    pub subject: String,
    pub limit: u32,
    pub max_result_bytes: u64,
    pub shape: Shape,
    /// The read cache rule, if answers may be kept.
    pub cache: Option<crate::mapping::model::CacheDef>,
    /// Tools whose cached answers this one's success makes stale.
    pub invalidates: Vec<String>,
    pub annotations: ToolHints,
    /// The tool changes data (a SOAP write with `allow_writes: true`).
    pub writes: bool,
    /// For a write: whether the user confirms each call first (`confirm.rs`).
    pub confirm: ConfirmRule,
    /// Roles that may list and call it (`None`: the server's default).
    pub allow: Option<Vec<String>>,
    pub input_schema: Map<String, Json>,
    pub output_schema: Map<String, Json>,
}

#[derive(Debug, Clone, Copy)]
pub struct ToolHints {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub open_world: bool,
}

pub struct Resource {
    pub name: String,
    pub uri: String,
    /// Set when the URI has `{variables}`.
    pub template: Option<UriTemplate>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub mime_type: String,
    pub tool: String,
    pub arguments: Map<String, Json>,
    pub allow: Option<Vec<String>>,
    /// How often a subscribed resource is looked at; `None`: it cannot be subscribed to.
    pub watch: Option<std::time::Duration>,
}

pub struct Prompt {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// (name, description, required)
    pub arguments: Vec<(String, Option<String>, bool)>,
    pub messages: Vec<PromptMessage>,
    pub allow: Option<Vec<String>>,
}

pub struct PromptMessage {
    pub role: Role,
    pub text: String,
    pub resource: Option<String>,
}

/// Summary line printed by `check`.
impl Catalog {
    pub fn summary(&self) -> String {
        let n = |count: usize, what: &str| {
            format!("{count} {what}{}", if count == 1 { "" } else { "s" })
        };
        format!(
            "{}, {}, {}, {}",
            n(self.tools.len(), "tool"),
            n(self.resources.len(), "resource"),
            n(self.prompts.len(), "prompt"),
            n(self.sources.len(), "source")
        )
    }
}
