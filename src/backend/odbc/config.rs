//! From the mapping's `kind: odbc` source to settings, every problem positioned. No connection
//! is opened here: `check` must work on a laptop that cannot reach the ERP.

use std::path::Path;
use std::time::Duration;

use super::{OdbcSettings, OdbcSource, driver};
use crate::backend::sql::config::{
    DEFAULT_MAX_ROWS, DEFAULT_MAX_TEXT, DEFAULT_POOL_SIZE, bounded, cell_rules,
};
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
    let pool_size = bounded(
        &def.pool_size,
        "pool_size",
        DEFAULT_POOL_SIZE,
        256,
        &here,
        p,
    );
    let max_rows = bounded(
        &def.max_rows,
        "max_rows",
        DEFAULT_MAX_ROWS,
        1_000_000,
        &here,
        p,
    );
    let batch = bounded(
        &def.fetch_batch_size,
        "fetch_batch_size",
        DEFAULT_BATCH,
        10_000,
        &here,
        p,
    );
    let dur = |d: Option<crate::mapping::units::DurationText>, default: u64| {
        d.map(|d| d.0).unwrap_or(Duration::from_secs(default))
    };
    let rules = cell_rules(def, &here, p);
    let secrets = driver::secrets(&connection_string);
    OdbcSource::new(OdbcSettings {
        name: name.to_string(),
        connection_string,
        secrets,
        pool_size,
        pool_timeout: dur(def.pool_timeout, 5),
        login_timeout: dur(def.login_timeout, 10),
        query_timeout: dur(def.query_timeout, 30),
        max_rows,
        batch: batch as usize,
        max_text: def.max_text_length.map_or(DEFAULT_MAX_TEXT, |s| s.0) as usize,
        wide: match def.text {
            Some(t) => t == TextMode::Wide,
            None => cfg!(windows),
        },
        rules,
    })
}
