//! Resources (a URI answered by a tool, watched for changes) and prompts.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::mapping::units::DurationText;

/// A resource answered by a tool. A URI with `{variables}` is a template; its variables become
/// the tool's arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceDef {
    /// `erp://customers/{customer_no}` or a static `erp://items`.
    #[schemars(with = "String")]
    pub uri: Spanned<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Default application/json.
    #[serde(default)]
    pub mime_type: Option<String>,
    /// The tool whose result is the resource's content.
    #[schemars(with = "String")]
    pub tool: Spanned<String>,
    /// Fixed arguments passed to the tool in addition to the URI's variables.
    #[serde(default)]
    pub arguments: serde_json::Map<String, serde_json::Value>,
    /// Roles that may list and read this resource (they must also be allowed its tool); others neither see nor read it. Default: everyone, unless
    /// the server denies by default.
    #[serde(default)]
    pub allow: Option<Vec<String>>,
    /// Live updates: how subscribed clients learn that the resource changed. A flat-file
    /// resource is watched without it (its export's file status, every 2s); a SQL or SOAP
    /// resource only with it (its answer, re-read every `every`).
    #[serde(default)]
    pub watch: Option<WatchDef>,
}

/// How a resource is watched while a client is subscribed to it.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WatchDef {
    /// How often the resource is looked at while someone is subscribed (e.g. `30s`, `5m`); at
    /// least 1s. A change is notified when the answer (flat files: the export file) differs
    /// from the last look.
    pub every: DurationText,
}

/// One prompt argument.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptArgDef {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub required: bool,
}

/// Who speaks a prompt message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
}

/// One prompt message: text with `{argument}` placeholders, and optionally a resource whose
/// content is embedded after the text.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageDef {
    pub role: Role,
    #[schemars(with = "String")]
    pub text: Spanned<String>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub resource: Option<Spanned<String>>,
}

/// A prompt template.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptDef {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub arguments: IndexMap<String, PromptArgDef>,
    #[schemars(with = "Vec<MessageDef>")]
    pub messages: Spanned<Vec<MessageDef>>,
    /// Roles that may list and get this prompt (embedded resources are checked as reads); others neither see nor get it. Default: everyone, unless
    /// the server denies by default.
    #[serde(default)]
    pub allow: Option<Vec<String>>,
}
