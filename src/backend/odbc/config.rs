//! From the mapping's `kind: odbc` source to settings, every problem positioned. No connection
//! is opened here: `check` must work on a laptop that cannot reach the ERP.

use crate::backend::kind::{Backend, SourceKind, SourceSpec};
use std::path::Path;
use std::sync::Arc;

use super::keys::{OdbcKeys, TextMode};
use super::settings::OdbcSettings;
use super::{OdbcSource, driver};
use crate::backend::sql::config::{bounded, common, duration};
use crate::backend::sql::keys::SqlKeys;
use crate::mapping::interpolate::interpolate;
use crate::mapping::load::FileProblems;
use crate::mapping::model::SourceDef;

pub const DEFAULT_BATCH: u32 = 100;

/// `kind: odbc`.
pub struct Odbc;

impl SourceKind for Odbc {
    const NAME: &'static str = "odbc";
    type Keys = (OdbcKeys, SqlKeys);
    type ToolKeys = crate::backend::sql::keys::SqlToolGroups;
    fn compile(s: &SourceSpec<'_>, keys: Self::Keys, p: &mut FileProblems<'_>) -> Arc<dyn Backend> {
        Arc::new(compile(s.name, s.def, keys, s.dir, p))
    }
}

pub fn compile(
    name: &str,
    def: &SourceDef,
    (keys, sql): (OdbcKeys, SqlKeys),
    base_dir: &Path,
    p: &mut FileProblems<'_>,
) -> OdbcSource {
    let here = format!("sources.{name}");
    let connection_string = match &keys.connection_string {
        None => {
            p.at(
                &def.kind.referenced,
                &here,
                "an odbc source needs `connection_string:` (a DSN such as `DSN=erp` or `Driver={...};Server=...`); put passwords in ${env:NAME}",
            );
            String::new()
        }
        Some(c) => match interpolate(&c.value, base_dir) {
            Ok(text) => driver::resolve(&text),
            Err(e) => {
                p.at(&c.referenced, format!("{here}.connection_string"), e);
                String::new()
            }
        },
    };
    let c = common(&sql, &here, p);
    let batch = bounded(
        &keys.fetch_batch_size,
        "fetch_batch_size",
        DEFAULT_BATCH,
        10_000,
        &here,
        p,
    );
    let secrets = driver::secrets(&connection_string);
    OdbcSource::new(OdbcSettings {
        name: name.to_string(),
        connection_string,
        secrets,
        pool_size: c.pool_size,
        pool_timeout: c.pool_timeout,
        login_timeout: duration(keys.login_timeout, 10),
        query_timeout: c.query_timeout,
        max_rows: c.max_rows,
        batch: batch as usize,
        max_text: c.max_text,
        wide: match keys.text {
            Some(t) => t == TextMode::Wide,
            None => cfg!(windows),
        },
        rules: c.rules,
    })
}
