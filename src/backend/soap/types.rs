//! A SOAP source's settings and a call's types: auth, the request tree, the operation, the
//! bound query and the error. Below `soap/mod.rs` and the parts that build or read them
//! (config, envelope, client, NTLM, faults, projection).

use std::sync::Arc;
use std::time::Duration;

use super::keys::SoapVersion;
use super::xml;
use crate::backend::mssql::Trust;
use crate::backend::soap::operation_keys::EmbeddedFormat;
use crate::backend::sql::Column;
use crate::value::Value;

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
