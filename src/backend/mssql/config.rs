//! From the mapping's `kind: mssql` source to settings, every problem positioned. No connection
//! is opened here: `check` must work on a laptop that cannot reach the ERP.

use crate::backend::kind::{Backend, SourceKind, SourceSpec};
use std::path::Path;
use std::sync::Arc;

use serde_saphyr::{Location, Spanned};

use super::MssqlSource;
use super::keys::{ApplicationIntent, Authentication, Encryption, MssqlKeys};
use super::settings::{Login, MssqlSettings, Tls};
use crate::backend::connect::{ConnectKeys, trust};
use crate::backend::sql::config::{common, duration};
use crate::backend::sql::keys::SqlKeys;
use crate::mapping::interpolate::interpolate;
use crate::mapping::load::FileProblems;
use crate::mapping::model::SourceDef;

/// `kind: mssql`.
pub struct Mssql;

impl SourceKind for Mssql {
    const NAME: &'static str = "mssql";
    type Keys = (MssqlKeys, SqlKeys, ConnectKeys);
    type ToolKeys = crate::backend::sql::keys::SqlToolGroups;
    fn compile(s: &SourceSpec<'_>, keys: Self::Keys, p: &mut FileProblems<'_>) -> Arc<dyn Backend> {
        Arc::new(compile(s.name, s.def, keys, s.dir, p))
    }
}

pub fn compile(
    name: &str,
    def: &SourceDef,
    (keys, sql, connect): (MssqlKeys, SqlKeys, ConnectKeys),
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
    let host = text(&keys.host, "host");
    let instance = text(&keys.instance, "instance");
    let database = text(&keys.database, "database");
    let user = text(&keys.user, "user");
    let password = text(&keys.password, "password");
    if keys.host.is_none() {
        p.at(
            &def.kind.referenced,
            &here,
            "an mssql source needs `host:` (the SQL Server's name or address; add `instance:` for a named instance)",
        );
    }
    if let Some(i) = &keys.instance
        && i.value.trim().is_empty()
    {
        p.at(
            &i.referenced,
            format!("{here}.instance"),
            "`instance` is empty; leave it out for the default instance",
        );
    }
    let login = login(def, &keys, user, password, &here, p);
    let trust = trust(&connect, base_dir, &here, p);
    let c = common(&sql, &here, p);
    MssqlSource::new(MssqlSettings {
        name: name.to_string(),
        host: host.unwrap_or_default(),
        port: keys.port.as_ref().map(|p| p.value),
        instance,
        database,
        login,
        tls: match keys.encryption.unwrap_or(Encryption::Required) {
            Encryption::Required => Tls::Required,
            Encryption::LoginOnly => Tls::LoginOnly,
            Encryption::Off => Tls::Off,
        },
        trust,
        read_only: keys.application_intent != Some(ApplicationIntent::ReadWrite),
        pool_size: c.pool_size,
        pool_timeout: c.pool_timeout,
        connect_timeout: duration(connect.connect_timeout, 10),
        query_timeout: c.query_timeout,
        max_rows: c.max_rows,
        max_text: c.max_text,
        rules: c.rules,
    })
}

fn login(
    def: &SourceDef,
    keys: &MssqlKeys,
    user: Option<String>,
    password: Option<String>,
    here: &str,
    p: &mut FileProblems<'_>,
) -> Login {
    let auth = keys.authentication.as_ref();
    match auth.map(|a| a.value).unwrap_or(Authentication::Sql) {
        Authentication::Sql => {
            if keys.user.is_none() {
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
                ("user", keys.user.as_ref()),
                ("password", keys.password.as_ref()),
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
