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

use clap::{Parser, Subcommand};
use serde_json::{Map, Value as Json};

use crate::confirm;

use crate::logging;
use crate::mcp;
use crate::pipeline::{CallError, ToolOutput};
use crate::settings::{LogSettings, Settings};

mod args;
mod run;
pub mod serve;

pub use args::{CallerArg, ConfigArg, MappingsArg};
use run::{Run, claims_supplied, load_or_report};

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
                serde_json::to_string_pretty(&crate::mapping::schema::mapping_schema(
                    crate::backend::source_schema,
                    crate::backend::tool_properties,
                ))
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
        Command::Service(cmd) => crate::service::run(cmd, serve::as_service),
    }
}

fn hash_key() -> ExitCode {
    let mut key = String::new();
    if std::io::stdin().read_line(&mut key).is_err() || key.trim().is_empty() {
        return fail("give the API key on stdin, e.g. `echo -n \"$KEY\" | legacy-mcp hash-key`");
    }
    println!("{}", crate::auth::http::hash_key(&key));
    ExitCode::SUCCESS
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
