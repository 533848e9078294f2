//! Command-line arguments several commands share: the mappings, the settings file, the caller.

use std::path::PathBuf;

use crate::auth::Principal;
use crate::settings::Settings;

#[derive(clap::Args, Clone)]
pub struct MappingsArg {
    /// Directory of mapping files (*.yaml), or one file [default: the settings' `mappings`,
    /// else mappings/demo].
    #[arg(long, env = "LEGACY_MCP_MAPPINGS")]
    pub mappings: Option<PathBuf>,
}

impl MappingsArg {
    /// The flag, else the settings file's `mappings` (relative to that file), else the demo.
    pub fn dir(&self, settings: Option<&Settings>) -> PathBuf {
        self.mappings
            .clone()
            .or_else(|| settings.and_then(|s| s.mappings.as_ref().map(|m| s.path(m))))
            .unwrap_or_else(|| PathBuf::from("mappings/demo"))
    }
}

/// The operator's settings file.
#[derive(clap::Args, Clone)]
pub struct ConfigArg {
    /// Settings file (TOML or YAML): listen address, authentication, audit, limits, cache.
    /// `LEGACY_MCP__SECTION__KEY` environment variables override it.
    #[arg(long, env = "LEGACY_MCP_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Who the caller is when no credentials say so: `call`, `read`, and `serve` on stdio (or on
/// HTTP without authentication). Roles pick masking profiles and what may be called.
#[derive(clap::Args, Clone)]
pub struct CallerArg {
    /// The principal's name, as the audit log records it [default: the settings'
    /// `auth.principal`, else local].
    #[arg(long = "as", value_name = "NAME", env = "LEGACY_MCP_PRINCIPAL")]
    pub principal: Option<String>,
    /// A role of the principal (repeatable), e.g. --role finance [default: the settings'
    /// `auth.roles`].
    #[arg(
        long = "role",
        value_name = "ROLE",
        env = "LEGACY_MCP_ROLES",
        value_delimiter = ','
    )]
    pub roles: Vec<String>,
}

impl CallerArg {
    /// The flags, else the settings.
    pub fn principal(&self, s: &Settings) -> Principal {
        let name = self
            .principal
            .clone()
            .or_else(|| s.auth.principal.clone())
            .unwrap_or_else(|| "local".into());
        let roles = if self.roles.is_empty() {
            s.auth.roles.clone()
        } else {
            self.roles.clone()
        };
        Principal::new(name, roles).with_claims(s.auth.claims.clone())
    }
}
