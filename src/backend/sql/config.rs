//! Settings every SQL source kind reads the same way from its mapping entry: bounded counts,
//! sentinel dates and the shared defaults, each problem reported at its YAML position.

use std::time::Duration;

use chrono::NaiveDate;
use serde_saphyr::Spanned;

use super::CellRules;
use super::keys::SqlKeys;
use crate::mapping::load::FileProblems;
use crate::mapping::units::DurationText;

pub const DEFAULT_POOL_SIZE: u32 = 4;
pub const DEFAULT_MAX_ROWS: u32 = 10_000;
pub const DEFAULT_MAX_TEXT: u64 = 1 << 20;

/// A count between 1 and `max`, or `default` when absent (or wrong, after reporting it).
pub fn bounded(
    v: &Option<Spanned<u32>>,
    key: &str,
    default: u32,
    max: u32,
    here: &str,
    p: &mut FileProblems<'_>,
) -> u32 {
    match v {
        Some(x) if x.value == 0 || x.value > max => {
            p.at(
                &x.referenced,
                format!("{here}.{key}"),
                format!("`{key}` must be between 1 and {max}"),
            );
            default
        }
        Some(x) => x.value,
        None => default,
    }
}

/// `trim_char_padding` and `null_dates`: how driver values become typed values.
pub fn cell_rules(def: &SqlKeys, here: &str, p: &mut FileProblems<'_>) -> CellRules {
    let null_dates = def
        .null_dates
        .iter()
        .filter_map(|d| match NaiveDate::parse_from_str(&d.value, "%Y-%m-%d") {
            Ok(x) => Some(x),
            Err(_) => {
                p.at(
                    &d.referenced,
                    format!("{here}.null_dates"),
                    format!("`{}` is not an ISO date such as 1753-01-01", d.value),
                );
                None
            }
        })
        .collect();
    CellRules {
        trim_padding: def.trim_char_padding.unwrap_or(true),
        null_dates,
    }
}

/// The settings both SQL kinds share.
pub struct Common {
    pub pool_size: u32,
    pub pool_timeout: Duration,
    pub query_timeout: Duration,
    pub max_rows: u32,
    pub max_text: usize,
    pub rules: CellRules,
}

pub fn common(def: &SqlKeys, here: &str, p: &mut FileProblems<'_>) -> Common {
    Common {
        pool_size: bounded(&def.pool_size, "pool_size", DEFAULT_POOL_SIZE, 256, here, p),
        pool_timeout: duration(def.pool_timeout, 5),
        query_timeout: duration(def.query_timeout, 30),
        max_rows: bounded(
            &def.max_rows,
            "max_rows",
            DEFAULT_MAX_ROWS,
            1_000_000,
            here,
            p,
        ),
        max_text: def.max_text_length.map_or(DEFAULT_MAX_TEXT, |s| s.0) as usize,
        rules: cell_rules(def, here, p),
    }
}

/// A duration key, or its default in seconds.
pub fn duration(d: Option<DurationText>, default_secs: u64) -> Duration {
    d.map(|d| d.0).unwrap_or(Duration::from_secs(default_secs))
}
