//! SOAP sources: declared operations sent over HTTP(S), answers projected into rows.
//!
//! A reader who wants to know where something happens:
//! - `keys.rs`     the kind's mapping keys: a source's (endpoint, auth, headers) and a tool's
//! - `operation_keys.rs` what a tool's `operation:` and `response:` hold (request body, rows path)
//! - `compile.rs`  a tool on the source and its plan: the kind's `Backend`
//! - `config.rs`   the kind (`SourceKind`); keys -> `SoapSettings` (source) and `Operation`
//!   (tool); no I/O
//! - `envelope.rs` the request envelope: body elements from bound values, escaped by
//!   construction; WS-Security `UsernameToken`
//! - `client.rs`   the HTTP exchange: headers per SOAP version, auth, timeouts, TLS, the size
//!   cap, and non-SOAP answers (HTML pages, 401/404, empty bodies) as errors
//! - `ntlm.rs`     NTLM: the handshake per connection, a pool of connections per source
//! - `xml.rs`      the hostile-input-safe XML tree (no DTDs, capped depth)
//! - `types.rs`    settings, auth, the request tree, a call's query, the error type
//! - `fault.rs`    SOAP 1.1 and 1.2 faults
//! - `project.rs`  the response path, columns, multiRef/href resolution, embedded documents
//! - `wsdl.rs`     `import-wsdl`: a WSDL to a mapping skeleton

pub mod client;
pub mod compile;
pub mod config;
pub mod envelope;
pub mod fault;
pub mod keys;
pub mod ntlm;
pub mod operation_keys;
pub mod project;
pub mod types;
pub mod wsdl;
pub mod xml;

use std::sync::{Arc, OnceLock};

use crate::backend::rows::RowSet;

// The source's and a call's types live in `types`, below this file and the parts that use them.
pub use types::{
    Auth, Content, FieldPath, Node, Operation, RowPath, SoapError, SoapQuery, SoapSettings,
};

/// A configured SOAP source.
pub struct SoapSource {
    pub settings: Arc<SoapSettings>,
    /// Built on first use, so `check` opens nothing.
    client: OnceLock<Result<reqwest::Client, String>>,
    /// NTLM sources send through their own authenticated connections instead.
    ntlm: ntlm::Pool,
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
