//! What `serve`, `call` and `read` share: settings read and the log set up from them, the
//! mappings loaded (problems printed, or logged under a service manager), and the pipeline the
//! settings describe (audit, limits, cache, cursor key, cluster).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::audit::{self, Auditor};
use crate::auth::{Access, Principal};
use crate::catalog::{self, Catalog};
use crate::limits::Limits;
use crate::logging;
use crate::pipeline::Pipeline;
use crate::settings::{DefaultAccess, Settings};

use super::args::{CallerArg, ConfigArg, MappingsArg};

/// What `serve`, `call` and `read` share: settings, mappings and the default caller.
pub(super) struct Run {
    pub(super) settings: Settings,
    pub(super) mappings: PathBuf,
    pub(super) principal: Principal,
    /// Under a service manager: problems go to the log (there is no console).
    pub(super) service: bool,
}

impl Run {
    /// Read settings; on a problem print it and return None.
    pub(super) fn new(
        config: &ConfigArg,
        mappings: &MappingsArg,
        caller: &CallerArg,
    ) -> Option<Run> {
        Self::load(config, mappings, caller, logging::Sinks::default())
            .map_err(|e| eprintln!("error: {e}"))
            .ok()
    }

    /// Read settings and set up the log with these sinks (the Event Log, as a service); the
    /// error says what is wrong.
    pub(super) fn load(
        config: &ConfigArg,
        mappings: &MappingsArg,
        caller: &CallerArg,
        sinks: logging::Sinks,
    ) -> Result<Run, String> {
        let mut settings = Settings::load(config.config.as_deref())?;
        let service = sinks.service;
        if service {
            // A service has no console: its log and audit go to files unless the settings say
            // where.
            let logs = settings.path(Path::new("logs"));
            let _ = std::fs::create_dir_all(&logs);
            settings
                .log
                .file
                .get_or_insert_with(|| logs.join("legacy-mcp.log"));
            settings
                .audit
                .file
                .get_or_insert_with(|| logs.join("audit.jsonl"));
        }
        logging::init(&settings.log, &settings.tracing, &settings.base, sinks)?;
        Ok(Run {
            mappings: mappings.dir(Some(&settings)),
            principal: caller.principal(&settings),
            settings,
            service,
        })
    }

    /// Load the mappings and build the pipeline the settings describe. `serving`: the audit
    /// goes to stderr unless the settings say otherwise (one-off commands keep stderr quiet).
    pub(super) fn pipeline(&self, serving: bool) -> Option<Pipeline> {
        let audit = match self.auditor(serving) {
            Ok(a) => a,
            Err(e) => {
                self.report(&e);
                return None;
            }
        };
        let catalog = match self.service {
            false => load_or_report(&self.mappings)?,
            true => match catalog::load(&self.mappings) {
                Ok(c) => c,
                Err(problems) => {
                    for p in &problems {
                        tracing::error!("{p}");
                    }
                    self.report(&format!(
                        "{} problem(s) in the mappings {}",
                        problems.len(),
                        self.mappings.display()
                    ));
                    return None;
                }
            },
        };
        tracing::info!(mappings = %self.mappings.display(), "{}", catalog.summary());
        let s = &self.settings;
        let defaults = crate::cache::Bounds::default();
        let bounds = crate::cache::Bounds {
            max_entries: s.cache.max_entries.unwrap_or(defaults.max_entries),
            max_bytes: s.cache.max_size.map_or(defaults.max_bytes, |m| m.0),
        };
        let access = Access {
            default_deny: s.auth.default_access == DefaultAccess::Deny,
        };
        let l = &s.limits;
        let limits = Limits {
            call_timeout: l
                .call_timeout
                .map_or(crate::limits::DEFAULT_CALL_TIMEOUT, |t| t.0),
            rate: l
                .rate_per_minute
                .map(|r| (r, l.burst.unwrap_or((r / 6).max(1)))),
        };
        if let Err(m) = claims_supplied(&catalog, s) {
            self.report(&m);
            return None;
        }
        let pipeline = Pipeline::with_cache(Arc::new(catalog), bounds)
            .with_access(access)
            .with_audit(audit)
            .with_limits(limits);
        let pipeline = match self.cursor_key() {
            Ok(Some(key)) => pipeline.with_cursor_key(&key),
            Ok(None) => pipeline,
            Err(m) => {
                self.report(&m);
                return None;
            }
        };
        match self.cluster() {
            Ok(Some(c)) => Some(pipeline.with_cluster(c)),
            Ok(None) => Some(pipeline),
            Err(m) => {
                self.report(&m);
                None
            }
        }
    }

    /// The Redis shared with other replicas (`[cluster]`), if configured.
    fn cluster(&self) -> Result<Option<Arc<crate::cluster::Cluster>>, String> {
        let c = &self.settings.cluster;
        let Some(url) = &c.redis else {
            return Ok(None);
        };
        let url = self.settings.secret(url, "cluster.redis")?;
        let key = match &c.encryption_key {
            Some(k) => {
                let key = self
                    .settings
                    .secret(k, "cluster.encryption_key")?
                    .into_bytes();
                if key.len() < crate::mapping::mask::MIN_KEY_BYTES {
                    return Err(format!(
                        "settings cluster.encryption_key: use at least {} random bytes",
                        crate::mapping::mask::MIN_KEY_BYTES
                    ));
                }
                Some(key)
            }
            None => None,
        };
        crate::cluster::Cluster::new(
            &url,
            c.key_prefix.as_deref(),
            key.as_deref(),
            c.timeout.map(|t| t.0),
            c.lease.map(|t| t.0),
        )
        .map(Some)
    }

    /// The configured cursor key, if any; too short a key is refused rather than weakly used.
    fn cursor_key(&self) -> Result<Option<Vec<u8>>, String> {
        let Some(k) = &self.settings.cursor_key else {
            return Ok(None);
        };
        let key = self.settings.secret(k, "cursor_key")?.into_bytes();
        if key.len() < crate::mapping::mask::MIN_KEY_BYTES {
            return Err(format!(
                "settings cursor_key: use at least {} random bytes",
                crate::mapping::mask::MIN_KEY_BYTES
            ));
        }
        Ok(Some(key))
    }

    /// A problem that stops the command: on stderr, and in the log when serving as a service.
    fn report(&self, message: &str) {
        if self.service {
            tracing::error!("{message}");
        }
        eprintln!("error: {message}");
    }

    fn auditor(&self, serving: bool) -> Result<Auditor, String> {
        let a = &self.settings.audit;
        let file = a.file.as_ref().map(|f| {
            (
                self.settings.path(f),
                a.max_file_size
                    .map_or(audit::DEFAULT_MAX_FILE_BYTES, |m| m.0),
                a.keep_files.unwrap_or(audit::DEFAULT_KEEP_FILES),
            )
        });
        let key = match &a.key {
            Some(k) => Some(self.settings.secret(k, "audit.key")?.into_bytes()),
            None => None,
        };
        if key
            .as_ref()
            .is_some_and(|k| k.len() < crate::mapping::mask::MIN_KEY_BYTES)
        {
            return Err(format!(
                "settings audit.key: use at least {} random bytes",
                crate::mapping::mask::MIN_KEY_BYTES
            ));
        }
        Auditor::new(a.stderr.unwrap_or(serving), file, key)
    }
}

/// Every parameter bound to a claim (`from: principal.claims.NAME`) can be supplied by some
/// configured caller: JWTs (any claim a token carries), an API key's `claims`, or the local
/// principal's (`[auth] claims`, stdio and `call`). A claim nobody can supply would refuse
/// every call of the tool; say so at start instead.
pub(super) fn claims_supplied(catalog: &Catalog, s: &Settings) -> Result<(), String> {
    if s.auth.jwt.is_some() {
        return Ok(());
    }
    for tool in catalog.tools.values() {
        for p in &tool.params {
            let Some(crate::mapping::params::CallerValue::Claim(claim)) = &p.from else {
                continue;
            };
            let supplied = s.auth.claims.contains_key(claim)
                || s.auth.api_keys.iter().any(|k| k.claims.contains_key(claim));
            if !supplied {
                return Err(format!(
                    "tool `{}` binds parameter `{}` to principal.claims.{claim}, and no configured caller has that claim: configure [auth.jwt] (tokens carry it), give the API keys `claims = {{ {claim} = ... }}`, or set [auth] claims for the local caller",
                    tool.name, p.name
                ));
            }
        }
    }
    Ok(())
}

/// Load mappings; on problems print each as file:line:col and return None.
pub(super) fn load_or_report(dir: &Path) -> Option<Catalog> {
    match catalog::load(dir) {
        Ok(c) => Some(c),
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!(
                "{} problem{} in {}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                dir.display()
            );
            None
        }
    }
}
