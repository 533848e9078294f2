//! The `legacy-mcp` commands. Each returns an exit code; `main` only parses and dispatches.
//!
//! - `serve`   MCP over stdio (default) or streamable HTTP (`--http`)
//! - `check`   validate mappings without touching backends; every problem as file:line:col
//! - `call`    run one tool through the pipeline and print its JSON
//! - `read`    read one resource through the pipeline and print it
//! - `schema`  print the JSON Schema of the mapping format
//! - `hash-key` print the SHA-256 of an API key for the settings
//! - `introspect` print a mapping skeleton for a table of an ODBC or SQL Server source
//! - `import-copybook` print a flat-file mapping from a COBOL copybook
//! - `import-wsdl` write a SOAP mapping skeleton from a WSDL file or URL
//! - `service` install, start, stop, remove the Windows service (`service.rs`)

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use serde_json::{Map, Value as Json};

use crate::confirm;

use crate::audit::{self, Auditor};
use crate::auth::{Access, Principal};
use crate::catalog::{self, Catalog};
use crate::limits::Limits;
use crate::logging;
use crate::mcp;
use crate::pipeline::{CallError, Pipeline, ToolOutput};
use crate::settings::{DefaultAccess, LogSettings, Settings};

pub mod serve;

#[derive(Parser)]
#[command(
    name = "legacy-mcp",
    version,
    about = "A standard MCP endpoint in front of an old ERP, driven by YAML mappings."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

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

#[derive(Subcommand)]
pub enum Command {
    /// Serve MCP over stdio, or over streamable HTTP with --http.
    Serve {
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        mappings: MappingsArg,
        #[command(flatten)]
        caller: CallerArg,
        /// Serve streamable HTTP at /mcp on this address instead of stdio
        /// (default 127.0.0.1:8080 when given without a value).
        #[arg(long, num_args = 0..=1, default_missing_value = "127.0.0.1:8080", value_name = "ADDR")]
        http: Option<SocketAddr>,
        /// Accept this Host header as well (repeatable); loopback names are always accepted.
        #[arg(long = "allowed-host", value_name = "HOST")]
        allowed_hosts: Vec<String>,
        /// Accept browser requests from this Origin (repeatable), e.g. https://tools.example:443.
        #[arg(long = "allowed-origin", value_name = "ORIGIN")]
        allowed_origins: Vec<String>,
        /// Items per page of tools/list, resources/list, prompts/list.
        #[arg(long, default_value_t = mcp::handler::DEFAULT_PAGE_SIZE)]
        page_size: usize,
        /// Largest accepted request in bytes [default: the settings' http.max_request_size,
        /// else 1MiB].
        #[arg(long)]
        max_request_bytes: Option<usize>,
    },
    /// Print a mapping skeleton (lookup and list tools with typed columns) for a table of an
    /// odbc or mssql source, from the database's catalogue.
    Introspect {
        #[command(flatten)]
        mappings: MappingsArg,
        /// The odbc or mssql source to read the catalogue of.
        #[arg(long)]
        source: String,
        /// The table, optionally schema-qualified (dbo.Customer).
        #[arg(long)]
        table: String,
    },
    /// Print a flat-file mapping (a fixed-width table per record type, and a list tool each)
    /// from a COBOL copybook.
    ImportCopybook {
        /// The copybook (.cpy) file.
        copybook: PathBuf,
        /// The export's encoding (cp037 for IBM i and z/OS files, utf-8, cp850, ...).
        #[arg(long, default_value = "cp037")]
        encoding: String,
        /// How records are delimited: fixed (no line ends, the default), lines or rdw.
        #[arg(long, default_value = "fixed")]
        framing: String,
        /// The export's file name (default: the record name in capitals, .DAT).
        #[arg(long)]
        file: Option<String>,
        /// The source's name in the mapping.
        #[arg(long, default_value = "exports")]
        source: String,
        /// What to do with clauses the importer does not support: `error` (list them all and
        /// stop) or `filler` (those of known length become FILLER, the rest imports).
        #[arg(long, default_value = "error", value_parser = ["error", "filler"])]
        unsupported: String,
        /// The byte order of COMP-5 (native binary) items: `big` (written on a mainframe, the
        /// default) or `little` (written on a PC by GnuCOBOL or Micro Focus).
        #[arg(long, default_value = "big", value_parser = ["big", "little"])]
        native_binary: String,
    },
    /// Write a SOAP mapping skeleton (a source and one tool per operation) from a WSDL file or
    /// http(s) URL.
    ImportWsdl {
        /// The WSDL: a file, or a URL such as http://erp01:8000/?wsdl.
        wsdl: String,
        /// The service to import when the WSDL defines several (default: the first).
        #[arg(long)]
        service: Option<String>,
        /// Write the mapping to this file instead of stdout (an existing file is not replaced).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Put this before every tool name (`--prefix customer`: `customer_read`), so that
        /// several services can share one mapping directory.
        #[arg(long)]
        prefix: Option<String>,
    },
    /// Validate mappings without touching any backend; report every problem.
    Check {
        #[command(flatten)]
        mappings: MappingsArg,
        /// With settings, also check what depends on them: every claim a parameter is bound
        /// to (`from: principal.claims.NAME`) can be supplied by a configured caller.
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Run one tool and print its result as JSON (exit 1 on a tool error).
    Call {
        /// The tool's name.
        tool: String,
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        mappings: MappingsArg,
        #[command(flatten)]
        caller: CallerArg,
        /// Arguments as a JSON object.
        #[arg(long, default_value = "{}")]
        args: String,
        /// Confirm a write without being asked (otherwise a write asks on the terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Read one resource and print it (exit 1 on an error).
    Read {
        /// The resource URI, e.g. erp://customers/C10000.
        uri: String,
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        mappings: MappingsArg,
        #[command(flatten)]
        caller: CallerArg,
    },
    /// Install, start, stop or remove the Windows service.
    #[command(subcommand)]
    Service(crate::service::ServiceCommand),
    /// Print the SHA-256 of an API key read from stdin, for `auth.api_keys[].sha256`.
    HashKey,
    /// Print the JSON Schema (draft 2020-12) of the mapping format.
    Schema,
}

pub async fn run(cli: Cli) -> ExitCode {
    // Commands that read settings set the log up from them (in `Run::new`); the others log
    // warnings to stderr.
    if !matches!(
        cli.command,
        Command::Serve { .. }
            | Command::Call { .. }
            | Command::Read { .. }
            | Command::Service(crate::service::ServiceCommand::Run { .. })
    ) {
        let _ = logging::init(
            &LogSettings::default(),
            &Default::default(),
            Path::new("."),
            logging::Sinks::default(),
        );
    }
    match cli.command {
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::mapping::schema::mapping_schema())
                    .unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Command::Check { mappings, config } => check(&mappings, &config),
        Command::HashKey => hash_key(),
        Command::ImportCopybook {
            copybook,
            encoding,
            framing,
            file,
            source,
            unsupported,
            native_binary,
        } => import_copybook(
            &copybook,
            encoding,
            framing,
            file,
            source,
            unsupported == "filler",
            native_binary == "little",
        ),
        Command::Introspect {
            mappings,
            source,
            table,
        } => introspect(&mappings.dir(None), &source, &table).await,
        Command::ImportWsdl {
            wsdl,
            service,
            out,
            prefix,
        } => import_wsdl(&wsdl, service.as_deref(), out.as_deref(), prefix.as_deref()).await,
        Command::Call {
            tool,
            config,
            mappings,
            caller,
            args,
            yes,
        } => {
            let Some(run) = Run::new(&config, &mappings, &caller) else {
                return ExitCode::FAILURE;
            };
            call(&run, &tool, &args, yes).await
        }
        Command::Read {
            uri,
            config,
            mappings,
            caller,
        } => {
            let Some(run) = Run::new(&config, &mappings, &caller) else {
                return ExitCode::FAILURE;
            };
            read(&run, &uri).await
        }
        Command::Serve {
            config,
            mappings,
            caller,
            http,
            allowed_hosts,
            allowed_origins,
            page_size,
            max_request_bytes,
        } => {
            let Some(run) = Run::new(&config, &mappings, &caller) else {
                return ExitCode::FAILURE;
            };
            let transport = serve::Transport {
                http,
                allowed_hosts,
                allowed_origins,
                page_size,
                max_request_bytes,
            };
            let hooks = serve::Hooks::default();
            match serve::serve(&run, transport, serve::on_signals(), hooks).await {
                true => ExitCode::SUCCESS,
                false => ExitCode::FAILURE,
            }
        }
        Command::Service(cmd) => crate::service::run(cmd),
    }
}

/// What `serve`, `call` and `read` share: settings, mappings and the default caller.
struct Run {
    settings: Settings,
    mappings: PathBuf,
    principal: Principal,
    /// Under a service manager: problems go to the log (there is no console).
    service: bool,
}

impl Run {
    /// Read settings; on a problem print it and return None.
    fn new(config: &ConfigArg, mappings: &MappingsArg, caller: &CallerArg) -> Option<Run> {
        Self::load(config, mappings, caller, logging::Sinks::default())
            .map_err(|e| eprintln!("error: {e}"))
            .ok()
    }

    /// Read settings and set up the log with these sinks (the Event Log, as a service); the
    /// error says what is wrong.
    fn load(
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
    fn pipeline(&self, serving: bool) -> Option<Pipeline> {
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
                if key.len() < crate::mask::MIN_KEY_BYTES {
                    return Err(format!(
                        "settings cluster.encryption_key: use at least {} random bytes",
                        crate::mask::MIN_KEY_BYTES
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
        if key.len() < crate::mask::MIN_KEY_BYTES {
            return Err(format!(
                "settings cursor_key: use at least {} random bytes",
                crate::mask::MIN_KEY_BYTES
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
            .is_some_and(|k| k.len() < crate::mask::MIN_KEY_BYTES)
        {
            return Err(format!(
                "settings audit.key: use at least {} random bytes",
                crate::mask::MIN_KEY_BYTES
            ));
        }
        Auditor::new(a.stderr.unwrap_or(serving), file, key)
    }
}

/// Every parameter bound to a claim (`from: principal.claims.NAME`) can be supplied by some
/// configured caller: JWTs (any claim a token carries), an API key's `claims`, or the local
/// principal's (`[auth] claims`, stdio and `call`). A claim nobody can supply would refuse
/// every call of the tool; say so at start instead.
fn claims_supplied(catalog: &Catalog, s: &Settings) -> Result<(), String> {
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

fn hash_key() -> ExitCode {
    let mut key = String::new();
    if std::io::stdin().read_line(&mut key).is_err() || key.trim().is_empty() {
        return fail("give the API key on stdin, e.g. `echo -n \"$KEY\" | legacy-mcp hash-key`");
    }
    println!("{}", crate::auth::http::hash_key(&key));
    ExitCode::SUCCESS
}

/// Load mappings; on problems print each as file:line:col and return None.
fn load_or_report(dir: &Path) -> Option<Catalog> {
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

async fn introspect(dir: &Path, source: &str, table: &str) -> ExitCode {
    let Some(catalog) = load_or_report(dir) else {
        return ExitCode::FAILURE;
    };
    let Some(src) = catalog.sources.get(source) else {
        let known: Vec<&str> = catalog.sources.keys().map(|s| s.as_str()).collect();
        return fail(&format!(
            "unknown source `{source}`; defined sources: {}",
            known.join(", ")
        ));
    };
    let Some(describing) = src.describe(table) else {
        return fail(&format!(
            "source `{source}` is of kind {}; introspect reads odbc and mssql sources",
            src.kind()
        ));
    };
    let described = describing.await;
    match described {
        Ok(info) => {
            print!(
                "{}",
                crate::backend::sql::introspect::skeleton(source, &info)
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

async fn import_wsdl(
    location: &str,
    service: Option<&str>,
    out: Option<&Path>,
    prefix: Option<&str>,
) -> ExitCode {
    use crate::backend::soap::wsdl;
    let root = match wsdl::load(location).await {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let imported = match wsdl::import_loaded(&root, service, location, prefix) {
        Ok(m) => m,
        Err(e) => return fail(&e),
    };
    for why in &imported.skipped {
        eprintln!("skipped {why}");
    }
    eprintln!(
        "imported {} operation(s), skipped {}",
        imported.tools,
        imported.skipped.len()
    );
    let mapping = imported.mapping;
    match out {
        None => {
            print!("{mapping}");
            ExitCode::SUCCESS
        }
        Some(path) => {
            let written = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .and_then(|mut f| std::io::Write::write_all(&mut f, mapping.as_bytes()));
            match written {
                Ok(()) => {
                    eprintln!(
                        "wrote {}; check it with: legacy-mcp check --mappings {}",
                        path.display(),
                        path.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&format!("cannot write {}: {e}", path.display())),
            }
        }
    }
}

fn import_copybook(
    path: &Path,
    encoding: String,
    framing: String,
    file: Option<String>,
    source: String,
    filler: bool,
    native_little: bool,
) -> ExitCode {
    use crate::backend::flatfile::copybook;
    let text = match std::fs::read(path) {
        // Copybooks come off old systems in any 8-bit code page; their syntax is ASCII.
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => return fail(&format!("cannot read {}: {e}", path.display())),
    };
    if !matches!(framing.as_str(), "fixed" | "lines" | "rdw") {
        return fail("--framing is fixed, lines or rdw");
    }
    match copybook::parse_with(&text, filler, framing != "fixed") {
        Ok((records, filled)) => {
            for u in &filled {
                eprintln!(
                    "line {}: {}: imported as FILLER of {} bytes",
                    u.line,
                    u.what,
                    u.length.unwrap_or(0)
                );
            }
            // The data file at hand, if there is one, must be whole records of this layout.
            if let Some(data) = file.as_deref().map(Path::new).filter(|f| f.is_file())
                && framing == "fixed"
                && let Ok(meta) = std::fs::metadata(data)
                && let Err(e) = copybook::fits_file(&records, meta.len())
            {
                return fail(&format!("{}: {e}", data.display()));
            }
            let options = copybook::Options {
                source,
                file,
                encoding,
                framing,
                from: path.display().to_string(),
                native_little,
            };
            print!("{}", copybook::to_yaml(&records, &options));
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("{}: {e}", path.display())),
    }
}

fn check(mappings: &MappingsArg, config: &ConfigArg) -> ExitCode {
    let settings = match &config.config {
        Some(file) => match Settings::load(Some(file)) {
            Ok(s) => Some(s),
            Err(e) => return fail(&e),
        },
        None => None,
    };
    let dir = mappings.dir(settings.as_ref());
    let Some(c) = load_or_report(&dir) else {
        return ExitCode::FAILURE;
    };
    if let Some(s) = &settings
        && let Err(m) = claims_supplied(&c, s)
    {
        return fail(&m);
    }
    if c.tools.is_empty() {
        eprintln!(
            "warning: {} defines no tools: an agent connected to it has nothing to call (import-wsdl, introspect and import-copybook write tools to start from)",
            dir.display()
        );
    }
    println!("ok: {} ({})", c.summary(), dir.display());
    ExitCode::SUCCESS
}

async fn call(run: &Run, tool: &str, args: &str, yes: bool) -> ExitCode {
    let args: Map<String, Json> = match serde_json::from_str(args) {
        Ok(Json::Object(m)) => m,
        Ok(_) => return fail("--args must be a JSON object, e.g. '{\"customer_no\": \"C10000\"}'"),
        Err(e) => return fail(&format!("--args is not valid JSON: {e}")),
    };
    let Some(pipeline) = run.pipeline(false) else {
        return ExitCode::FAILURE;
    };
    let asker = TerminalAsker { yes };
    print_result(
        pipeline
            .call_tool_asking(&run.principal, tool, args, &asker)
            .await,
    )
}

/// `call` confirms a write with `--yes`, or by asking on the terminal.
struct TerminalAsker {
    yes: bool,
}

impl confirm::Asker for TerminalAsker {
    fn ask<'a>(
        &'a self,
        q: &'a confirm::Question,
    ) -> futures_util::future::BoxFuture<'a, confirm::Answer> {
        use std::io::IsTerminal;
        Box::pin(async move {
            if self.yes {
                return confirm::Answer::Yes;
            }
            if !std::io::stdin().is_terminal() {
                return confirm::Answer::CannotAsk("no terminal to ask on: pass --yes to confirm");
            }
            eprint!("{} [y/N] ", q.text);
            let line = tokio::task::spawn_blocking(|| {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).map(|_| line)
            })
            .await;
            match line {
                Ok(Ok(l)) if matches!(l.trim(), "y" | "Y" | "yes") => confirm::Answer::Yes,
                _ => confirm::Answer::No("the operator declined this change".into()),
            }
        })
    }
}

async fn read(run: &Run, uri: &str) -> ExitCode {
    let Some(pipeline) = run.pipeline(false) else {
        return ExitCode::FAILURE;
    };
    print_result(
        pipeline
            .read_resource(&run.principal, uri)
            .await
            .map(|(_, o)| o),
    )
}

fn print_result(result: Result<ToolOutput, CallError>) -> ExitCode {
    match result {
        Ok(out) => {
            if let Some(notice) = &out.notice {
                eprintln!("notice: {notice}");
            }
            // A closed pipe (`| head`) is not an error worth a panic.
            use std::io::Write;
            let _ = writeln!(
                std::io::stdout(),
                "{}",
                serde_json::to_string_pretty(&out.structured).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e.to_string()),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}
