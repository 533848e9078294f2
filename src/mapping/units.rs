//! Human units in mappings: durations (`30s`, `5m`, `1h`, `250ms`) and sizes (`10MB`, `512KiB`).

use std::time::Duration;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};

/// A duration written as a number and a unit: `250ms`, `30s`, `5m`, `2h`, `1d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationText(pub Duration);

/// A size written as a number and a unit: `512B`, `64KB`, `10MB`, `1GB` (powers of 1000) or
/// `KiB`, `MiB`, `GiB` (powers of 1024).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeText(pub u64);

pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let (num, unit) = split_number(text);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; write e.g. 30s, 5m, 250ms, 1h"))?;
    let ms = match unit {
        "ms" => n,
        "s" => n * 1000,
        "m" => n * 60_000,
        "h" => n * 3_600_000,
        "d" => n * 86_400_000,
        _ => {
            return Err(format!(
                "`{text}` has no known duration unit; use ms, s, m, h or d (e.g. 30s)"
            ));
        }
    };
    Ok(Duration::from_millis(ms))
}

pub fn parse_size(text: &str) -> Result<u64, String> {
    let (num, unit) = split_number(text);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a size; write e.g. 10MB, 512KiB"))?;
    let factor: u64 = match unit {
        "B" | "" => 1,
        "KB" => 1000,
        "MB" => 1000 * 1000,
        "GB" => 1000 * 1000 * 1000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => {
            return Err(format!(
                "`{text}` has no known size unit; use B, KB, MB, GB, KiB, MiB or GiB"
            ));
        }
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("`{text}` is too large"))
}

fn split_number(text: &str) -> (&str, &str) {
    let text = text.trim();
    let at = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    (&text[..at], text[at..].trim())
}

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_duration(&s)
            .map(DurationText)
            .map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for SizeText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_size(&s)
            .map(SizeText)
            .map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for DurationText {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[0-9]+(ms|s|m|h|d)$",
            "description": "A duration such as 250ms, 30s, 5m, 1h or 1d.",
            "examples": ["30s", "5m"]
        })
    }
}

impl JsonSchema for SizeText {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Size".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[0-9]+(B|KB|MB|GB|KiB|MiB|GiB)?$",
            "description": "A size such as 512KiB or 10MB.",
            "examples": ["10MB"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_parse_with_units() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(
            parse_duration("30")
                .unwrap_err()
                .contains("no known duration unit")
        );
        assert_eq!(parse_size("10MB").unwrap(), 10_000_000);
        assert_eq!(parse_size("2KiB").unwrap(), 2048);
        assert!(parse_size("ten").is_err());
    }
}
