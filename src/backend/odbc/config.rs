//! From the mapping's `kind: odbc` source to settings, every problem positioned. No connection
//! is opened here: `check` must work on a laptop that cannot reach the ERP.

use std::path::Path;

use super::settings::OdbcSettings;
use super::{OdbcSource, driver};
use crate::backend::sql::config::{bounded, common, duration};
use crate::mapping::interpolate::interpolate;
use crate::mapping::load::FileProblems;
use crate::mapping::model::{SourceDef, TextMode};

pub const DEFAULT_BATCH: u32 = 100;

pub fn compile(
    name: &str,
    def: &SourceDef,
    base_dir: &Path,
    p: &mut FileProblems<'_>,
) -> OdbcSource {
    let here = format!("sources.{name}");
    let connection_string = match &def.connection_string {
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
    let c = common(def, &here, p);
    let batch = bounded(
        &def.fetch_batch_size,
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
        login_timeout: duration(def.login_timeout, 10),
        query_timeout: c.query_timeout,
        max_rows: c.max_rows,
        batch: batch as usize,
        max_text: c.max_text,
        wide: match def.text {
            Some(t) => t == TextMode::Wide,
            None => cfg!(windows),
        },
        rules: c.rules,
    })
}
