//! From the mapping's `kind: mssql` source to settings, every problem positioned. No connection
//! is opened here: `check` must work on a laptop that cannot reach the ERP.

use std::path::Path;

use serde_saphyr::{Location, Spanned};

use super::MssqlSource;
use super::settings::{Login, MssqlSettings, Tls, Trust};
use crate::backend::sql::config::{common, duration};
use crate::mapping::interpolate::interpolate;
use crate::mapping::load::FileProblems;
use crate::mapping::model::{ApplicationIntent, Authentication, Encryption, SourceDef};

pub fn compile(
    name: &str,
    def: &SourceDef,
    base_dir: &Path,
    p: &mut FileProblems<'_>,
) -> MssqlSource {
    let here = format!("sources.{name}");
    let mut text = |v: &Option<Spanned<String>>, key: &str| -> Option<String> {
        let v = v.as_ref()?;
        match interpolate(&v.value, base_dir) {
            Ok(t) => Some(t),
            Err(e) => {
                p.at(&v.referenced, format!("{here}.{key}"), e);
                None
            }
        }
    };
    let host = text(&def.host, "host");
    let instance = text(&def.instance, "instance");
    let database = text(&def.database, "database");
    let user = text(&def.user, "user");
    let password = text(&def.password, "password");
    if def.host.is_none() {
        p.at(
            &def.kind.referenced,
            &here,
            "an mssql source needs `host:` (the SQL Server's name or address; add `instance:` for a named instance)",
        );
    }
    if let Some(i) = &def.instance
        && i.value.trim().is_empty()
    {
        p.at(
            &i.referenced,
            format!("{here}.instance"),
            "`instance` is empty; leave it out for the default instance",
        );
    }
    let login = login(def, user, password, &here, p);
    let trust = trust(def, base_dir, &here, p);
    let c = common(def, &here, p);
    MssqlSource::new(MssqlSettings {
        name: name.to_string(),
        host: host.unwrap_or_default(),
        port: def.port.as_ref().map(|p| p.value),
        instance,
        database,
        login,
        tls: match def.encryption.unwrap_or(Encryption::Required) {
            Encryption::Required => Tls::Required,
            Encryption::LoginOnly => Tls::LoginOnly,
            Encryption::Off => Tls::Off,
        },
        trust,
        read_only: def.application_intent != Some(ApplicationIntent::ReadWrite),
        pool_size: c.pool_size,
        pool_timeout: c.pool_timeout,
        connect_timeout: duration(def.connect_timeout, 10),
        query_timeout: c.query_timeout,
        max_rows: c.max_rows,
        max_text: c.max_text,
        rules: c.rules,
    })
}

fn login(
    def: &SourceDef,
    user: Option<String>,
    password: Option<String>,
    here: &str,
    p: &mut FileProblems<'_>,
) -> Login {
    let auth = def.authentication.as_ref();
    match auth.map(|a| a.value).unwrap_or(Authentication::Sql) {
        Authentication::Sql => {
            if def.user.is_none() {
                p.at(
                    auth.map_or(&def.kind.referenced, |a| &a.referenced),
                    here,
                    "a SQL Server login needs `user:` and `password:` (write the password as ${env:NAME}); on Windows, `authentication: integrated` uses the service account instead",
                );
            }
            Login::Sql {
                user: user.unwrap_or_default(),
                password: password.unwrap_or_default(),
            }
        }
        Authentication::Integrated => {
            let at = auth.map_or(Location::UNKNOWN, |a| a.referenced);
            for (key, given) in [
                ("user", def.user.as_ref()),
                ("password", def.password.as_ref()),
            ] {
                if let Some(v) = given {
                    p.at(
                        &v.referenced,
                        format!("{here}.{key}"),
                        format!("`{key}` is not used with `authentication: integrated`; remove it"),
                    );
                }
            }
            if !cfg!(windows) {
                p.at(
                    &at,
                    format!("{here}.authentication"),
                    "`authentication: integrated` needs the Windows build (it logs in as the service account); on this platform use a SQL Server login (`user`, `password`)",
                );
            }
            Login::Integrated
        }
    }
}

/// `ca_certificate` / `trust_server_certificate` (shared with soap sources).
pub(crate) fn trust(
    def: &SourceDef,
    base_dir: &Path,
    here: &str,
    p: &mut FileProblems<'_>,
) -> Trust {
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
