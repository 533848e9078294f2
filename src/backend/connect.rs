//! Keys that the kinds opening their own TLS connections (mssql, soap) share: how long
//! connecting may take and which server certificates to trust.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::mapping::interpolate::interpolate;
use crate::mapping::load::FileProblems;
use crate::mapping::units::DurationText;

/// The connection keys of a source that opens TLS connections itself.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectKeys {
    /// How long opening a connection (TCP, TLS and, for mssql, login) may take (default 10s).
    #[serde(default)]
    pub connect_timeout: Option<DurationText>,
    /// Accept the server's certificate without checking it (a self-signed on-prem
    /// certificate). An explicit opt-in; prefer `ca_certificate`.
    #[serde(default)]
    pub trust_server_certificate: Option<bool>,
    /// A PEM or DER certificate file (relative to the mapping file) to trust for this
    /// server, e.g. its self-signed certificate.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub ca_certificate: Option<Spanned<String>>,
}

/// Which server certificates to accept.
#[derive(Clone, Debug)]
pub enum Trust {
    /// The system's trusted roots (the default).
    System,
    /// A given certificate file (a self-signed on-prem certificate, or a private CA).
    File(PathBuf),
    /// Anything: the explicit `trust_server_certificate: true` opt-in.
    Any,
}

/// `ca_certificate` / `trust_server_certificate`: which server certificates to accept.
pub fn trust(def: &ConnectKeys, base_dir: &Path, here: &str, p: &mut FileProblems<'_>) -> Trust {
    match (&def.ca_certificate, def.trust_server_certificate) {
        (Some(ca), Some(true)) => {
            p.at(
                &ca.referenced,
                format!("{here}.ca_certificate"),
                "give either `ca_certificate` (trust this certificate) or `trust_server_certificate: true` (trust any), not both",
            );
            Trust::Any
        }
        (Some(ca), _) => match interpolate(&ca.value, base_dir) {
            Ok(path) => {
                let path = base_dir.join(path);
                let ext = path
                    .extension()
                    .map(|e| e.to_string_lossy().to_ascii_lowercase());
                if !matches!(ext.as_deref(), Some("pem" | "crt" | "der")) {
                    p.at(
                        &ca.referenced,
                        format!("{here}.ca_certificate"),
                        "name a .pem, .crt (PEM text) or .der (binary) file; a Windows .cer export is one of the two: rename it accordingly",
                    );
                } else if !path.is_file() {
                    p.at(
                        &ca.referenced,
                        format!("{here}.ca_certificate"),
                        format!(
                            "no certificate file at {}; give the server's certificate (PEM or DER), relative to the mapping file",
                            path.display()
                        ),
                    );
                }
                Trust::File(path)
            }
            Err(e) => {
                p.at(&ca.referenced, format!("{here}.ca_certificate"), e);
                Trust::System
            }
        },
        (None, Some(true)) => Trust::Any,
        (None, _) => Trust::System,
    }
}
