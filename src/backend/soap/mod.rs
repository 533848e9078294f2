//! SOAP sources: declared operations sent over HTTP(S), answers projected into rows.
//!
//! A reader who wants to know where something happens:
//! - `config.rs`   mapping keys -> `SoapSettings` (source) and `Operation` (tool); no I/O
//! - `envelope.rs` the request envelope: body elements from bound values, escaped by
//!   construction; WS-Security `UsernameToken`
//! - `client.rs`   the HTTP exchange: headers per SOAP version, auth, timeouts, TLS, the size
//!   cap, and non-SOAP answers (HTML pages, 401/404, empty bodies) as errors
//! - `ntlm.rs`     NTLM: the handshake per connection, a pool of connections per source
//! - `xml.rs`      the hostile-input-safe XML tree (no DTDs, capped depth)
//! - `fault.rs`    SOAP 1.1 and 1.2 faults
//! - `project.rs`  the response path, columns, multiRef/href resolution, embedded documents
//! - `wsdl.rs`     `import-wsdl`: a WSDL to a mapping skeleton

pub mod client;
pub mod config;
pub mod envelope;
pub mod fault;
pub mod ntlm;
pub mod project;
pub mod wsdl;
pub mod xml;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::backend::mssql::Trust;
use crate::backend::rows::RowSet;
use crate::backend::sql::Column;
use crate::mapping::soap::{EmbeddedFormat, SoapVersion};
use crate::value::Value;

/// A configured SOAP source.
pub struct SoapSource {
    pub settings: Arc<SoapSettings>,
    /// Built on first use, so `check` opens nothing.
    client: OnceLock<Result<reqwest::Client, String>>,
    /// NTLM sources send through their own authenticated connections instead.
    ntlm: ntlm::Pool,
}

pub struct SoapSettings {
    pub name: String,
    pub endpoint: String,
    pub version: SoapVersion,
    pub namespace: Option<String>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub trust: Trust,
    pub proxy: Option<String>,
    pub auth: Auth,
    /// Extra header elements (fixed values).
    pub headers: Vec<Node>,
    pub max_response_bytes: u64,
    pub max_depth: usize,
}

impl SoapSettings {
    /// What the XML reader accepts from this source: the nesting depth, and one element per
    /// 16 bytes of `max_response_size` (at least 100,000, at most 2 million), so that an
    /// answer of tiny elements cannot cost forty times its size in memory.
    pub fn bounds<'a>(&self, stop: &'a std::sync::atomic::AtomicBool) -> xml::Bounds<'a> {
        xml::Bounds {
            max_depth: self.max_depth,
            max_elements: (self.max_response_bytes / 16).clamp(100_000, xml::MAX_ELEMENTS as u64)
                as usize,
            stop,
        }
    }
}

/// How requests authenticate. Secrets never appear in errors or logs.
pub enum Auth {
    None,
    Basic {
        user: String,
        password: String,
    },
    WsSecurity {
        user: String,
        password: String,
        digest: bool,
    },
    Bearer(String),
    /// NTLM: connection-based, so sent through `ntlm::Pool`.
    Ntlm {
        domain: String,
        user: String,
        password: String,
    },
}

/// One element of a request: its name, namespace and content.
#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    /// `None`: the parent's namespace (qualified) or none (unqualified), see `Operation`.
    pub ns: Option<String>,
    pub content: Content,
    /// Send `xsi:nil="true"` when the parameter is absent.
    pub nil: bool,
}

#[derive(Debug, Clone)]
pub enum Content {
    Param(String),
    Value(String),
    Children(Vec<Node>),
}

/// What a SOAP tool sends and how its answer becomes rows.
pub struct Operation {
    pub element: String,
    pub ns: Option<String>,
    pub action: String,
    /// Children carry the operation's namespace (document/literal, qualified).
    pub qualified: bool,
    pub body: Vec<Node>,
    pub rows: RowPath,
    pub columns: Arc<[Column]>,
    /// Where each column's value is, in `columns` order.
    pub fields: Vec<FieldPath>,
}

/// Element names from inside `Body` to each row element, and an optional embedded document.
#[derive(Debug, Clone)]
pub struct RowPath {
    pub steps: Vec<String>,
    pub embedded: Option<(EmbeddedFormat, Vec<String>)>,
}

/// Where a column's value is inside a row element.
#[derive(Debug, Clone)]
pub struct FieldPath {
    /// Child element names (`.` steps removed).
    pub steps: Vec<String>,
    /// A final `@attribute`.
    pub attr: Option<String>,
    pub repeated: bool,
    /// `fields:`: every element the path reaches is a record of these columns, read from it.
    pub record: Option<Vec<(Column, FieldPath)>>,
    /// `returns_nothing`: true whenever the row element is there (the call succeeded).
    pub present: bool,
}

/// A tool call's request with every value bound.
pub struct SoapQuery {
    pub op: Arc<Operation>,
    pub params: std::collections::HashMap<String, Value>,
    pub offset: u64,
    pub limit: u64,
}

/// Why a SOAP call failed; every message is safe to show an agent (no secrets, short excerpts).
#[derive(Debug, Clone, PartialEq)]
pub enum SoapError {
    /// The service answered with a fault: its own words.
    Fault {
        code: String,
        reason: String,
        detail: Option<String>,
    },
    /// Anything else: transport, HTTP status, not SOAP, malformed, too large.
    Call(String),
}

impl SoapError {
    /// The error with every secret replaced by `***`.
    pub fn scrubbed(self, secrets: &[String]) -> SoapError {
        let clean = |t: String| crate::backend::rows::scrub(&t, secrets);
        match self {
            SoapError::Fault {
                code,
                reason,
                detail,
            } => SoapError::Fault {
                code: clean(code),
                reason: clean(reason),
                detail: detail.map(clean),
            },
            SoapError::Call(m) => SoapError::Call(clean(m)),
        }
    }
}

impl SoapSettings {
    /// The credentials this source sends, in every form a service could echo them: the
    /// password or token, and the basic-auth header value.
    pub fn secrets(&self) -> Vec<String> {
        use base64::Engine;
        let b64 = |user: &str, password: &str| {
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        };
        match &self.auth {
            Auth::None => Vec::new(),
            Auth::Basic { user, password } => vec![password.clone(), b64(user, password)],
            Auth::WsSecurity { password, .. } => vec![password.clone()],
            Auth::Bearer(token) => vec![token.clone()],
            Auth::Ntlm {
                domain,
                user,
                password,
            } => vec![
                password.clone(),
                b64(&format!("{domain}\\{user}"), password),
            ],
        }
    }
}

impl std::fmt::Display for SoapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SoapError::Fault {
                code,
                reason,
                detail,
            } => {
                write!(
                    f,
                    "the service answered with a SOAP fault: {reason} (code {code})"
                )?;
                if let Some(d) = detail {
                    write!(f, "; detail: {d}")?;
                }
                Ok(())
            }
            SoapError::Call(m) => f.write_str(m),
        }
    }
}

impl SoapSource {
    pub fn new(settings: SoapSettings) -> SoapSource {
        SoapSource {
            settings: Arc::new(settings),
            client: OnceLock::new(),
            ntlm: ntlm::Pool::default(),
        }
    }

    fn client(&self) -> Result<&reqwest::Client, SoapError> {
        self.client
            .get_or_init(|| client::build(&self.settings, false))
            .as_ref()
            .map_err(|e| SoapError::Call(e.clone()))
    }

    /// The endpoint's host accepts a TCP connection within `connect_timeout` (no request is
    /// sent: a SOAP service has no standard ping, and an operation could cost the ERP work).
    pub async fn probe(&self) -> Result<(), String> {
        let s = &self.settings;
        let url = reqwest::Url::parse(&s.endpoint)
            .map_err(|e| format!("the endpoint is not a URL: {e}"))?;
        let host = url.host_str().unwrap_or_default().to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let connect = tokio::net::TcpStream::connect((host.as_str(), port));
        match tokio::time::timeout(s.connect_timeout, connect).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("cannot connect to {host}:{port}: {e}")),
            Err(_) => Err(format!(
                "no connection to {host}:{port} within {:?}",
                s.connect_timeout
            )),
        }
    }

    /// Send the operation and project the answer into rows (one page of them). A failure
    /// never carries the source's own credentials, even when the service echoes them (a
    /// WS-Security password in a fault string, basic-auth credentials in a detail).
    pub async fn run(&self, q: SoapQuery) -> Result<RowSet, SoapError> {
        self.attempt(q)
            .await
            .map_err(|e| e.scrubbed(&self.settings.secrets()))
    }

    async fn attempt(&self, q: SoapQuery) -> Result<RowSet, SoapError> {
        let envelope = envelope::render(&self.settings, &q.op, &q.params);
        let answer = if matches!(self.settings.auth, Auth::Ntlm { .. }) {
            self.ntlm
                .send(&self.settings, &q.op.action, envelope)
                .await?
        } else {
            client::send(self.client()?, &self.settings, &q.op.action, envelope).await?
        };
        // Parsing and projecting an answer is CPU work that a hostile answer can make long: it
        // runs on a blocking thread (the runtime keeps serving `/healthz` and other calls) and
        // stops when the call is abandoned at its timeout.
        let settings = self.settings.clone();
        let op = q.op.clone();
        let window = project::Page::new(q.offset, q.limit);
        let page = crate::backend::abandon::run_blocking(move |stop| {
            project::rows(&answer, &op, &settings, stop, window)
        })
        .await
        .map_err(SoapError::Call)??;
        Ok(RowSet {
            truncated: page.total > q.offset + page.rows.len() as u64,
            rows: page.rows,
            version: String::new(),
            notice: None,
        })
    }
}
