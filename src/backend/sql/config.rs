//! Settings every SQL source kind reads the same way from its mapping entry: bounded counts,
//! sentinel dates and the shared defaults, each problem reported at its YAML position.

use chrono::NaiveDate;
use serde_saphyr::Spanned;

use super::CellRules;
use crate::mapping::load::FileProblems;
use crate::mapping::model::SourceDef;

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
pub fn cell_rules(def: &SourceDef, here: &str, p: &mut FileProblems<'_>) -> CellRules {
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
