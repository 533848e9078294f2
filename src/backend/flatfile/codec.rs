//! Bytes to typed values: character decoding (utf-8, windows-1252, iso-8859-1) and the field
//! types of ERP exports (implied-scale decimals, decimal commas, trailing minus, DD.MM.YYYY
//! dates, Y/N booleans). Errors say what the text was and what was expected.

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::mapping::model::{DateFormat, DecodeErrors, Encoding, FieldType, Trim};
use crate::value::Value;

/// How one field is read once its bytes are cut out of the record.
#[derive(Debug, Clone)]
pub struct FieldCodec {
    pub kind: FieldType,
    pub trim: Trim,
    pub scale: Option<u32>,
    pub decimal_separator: char,
    pub group_separator: Option<char>,
    pub date_format: DateFormat,
    pub true_values: Vec<String>,
    pub false_values: Vec<String>,
}

/// Decode `bytes`; on invalid UTF-8 with `Fail`, the error gives the offset within `bytes`.
pub fn decode(bytes: &[u8], encoding: Encoding, policy: DecodeErrors) -> Result<String, usize> {
    match encoding {
        Encoding::Utf8 => match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_string()),
            Err(e) if policy == DecodeErrors::Fail => Err(e.valid_up_to()),
            Err(_) => Ok(String::from_utf8_lossy(bytes).into_owned()),
        },
        Encoding::Windows1252 => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            Ok(text.into_owned())
        }
        // True ISO-8859-1: every byte is the code point of the same number (encoding_rs would
        // treat the label as windows-1252, which differs in 0x80..0x9F).
        Encoding::Iso88591 => Ok(bytes.iter().map(|&b| b as char).collect()),
        // Every byte of these tables maps to a character: there is nothing to fail on.
        single => Ok(bytes.iter().map(|&b| byte_char(single, b)).collect()),
    }
}

/// The character of byte `b` in a table-driven single-byte code page.
pub fn byte_char(encoding: Encoding, b: u8) -> char {
    use super::codepages::*;
    let table = match encoding {
        Encoding::Cp437 => &CP437,
        Encoding::Cp850 => &CP850,
        Encoding::Cp037 => &CP037,
        Encoding::Cp500 => &CP500,
        Encoding::Cp1047 => &CP1047,
        Encoding::Cp273 => &CP273,
        Encoding::Iso88591 | Encoding::Windows1252 | Encoding::Utf8 => return b as char,
    };
    char::from_u32(table[b as usize] as u32).unwrap_or('\u{FFFD}')
}

impl FieldCodec {
    /// Parse decoded text into this field's type.
    pub fn parse(&self, raw: &str) -> Result<Value, String> {
        let text = raw.trim();
        match self.kind {
            // config.rs turns the SQL-only types into string with a problem reported.
            FieldType::String | FieldType::Datetime | FieldType::Time | FieldType::Binary => {
                Ok(Value::Str(trim(raw, self.trim).to_string()))
            }
            FieldType::Integer => self.parse_integer(text),
            FieldType::Decimal => self.parse_decimal(text),
            FieldType::Number => self.parse_number(text),
            FieldType::Boolean => self.parse_boolean(text),
            FieldType::Date => parse_date(text, self.date_format),
        }
    }

    /// Strip group separators, normalise the decimal separator to `.` and move a trailing
    /// minus (`123.45-`, common in mainframe-style exports) to the front.
    fn normalise_number(&self, text: &str) -> String {
        let mut s: String = text
            .chars()
            .filter(|c| Some(*c) != self.group_separator && *c != ' ')
            .map(|c| if c == self.decimal_separator { '.' } else { c })
            .collect();
        if let Some(body) = s.strip_suffix('-') {
            s = format!("-{body}");
        }
        if let Some(body) = s.strip_prefix('+') {
            s = body.to_string();
        }
        s
    }

    fn parse_integer(&self, text: &str) -> Result<Value, String> {
        if text.is_empty() {
            return Ok(Value::Null);
        }
        let s = self.normalise_number(text);
        s.parse::<i64>()
            .map(Value::Int)
            .map_err(|_| format!("`{text}` is not an integer"))
    }

    fn parse_decimal(&self, text: &str) -> Result<Value, String> {
        if text.is_empty() {
            return Ok(Value::Null);
        }
        let s = self.normalise_number(text);
        let bad = || format!("`{text}` is not a decimal");
        if !s
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        {
            return Err(bad());
        }
        let mut d = if s.contains('.') {
            Decimal::from_str_exact(&s).map_err(|_| bad())?
        } else {
            // No separator: the declared scale is implied (`00012345`, scale 2 is 123.45).
            let digits = i128::from_str(&s).map_err(|_| bad())?;
            Decimal::try_from_i128_with_scale(digits, self.scale.unwrap_or(0)).map_err(|_| bad())?
        };
        if let Some(scale) = self.scale
            && d.scale() < scale
        {
            d.rescale(scale);
        }
        Ok(Value::Dec(d))
    }

    fn parse_number(&self, text: &str) -> Result<Value, String> {
        if text.is_empty() {
            return Ok(Value::Null);
        }
        self.normalise_number(text)
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Value::Num)
            .ok_or_else(|| format!("`{text}` is not a number"))
    }

    fn parse_boolean(&self, text: &str) -> Result<Value, String> {
        let matches = |list: &[String]| list.iter().any(|v| v.eq_ignore_ascii_case(text));
        if matches(&self.true_values) {
            Ok(Value::Bool(true))
        } else if matches(&self.false_values) {
            Ok(Value::Bool(false))
        } else {
            Err(format!(
                "`{text}` is not a boolean; expected one of {:?} or {:?}",
                self.true_values, self.false_values
            ))
        }
    }
}

pub fn trim(raw: &str, policy: Trim) -> &str {
    match policy {
        Trim::Both => raw.trim(),
        Trim::Left => raw.trim_start(),
        Trim::Right => raw.trim_end(),
        Trim::None => raw,
    }
}

/// Parse a date in one of the export layouts. Blank and all-zero dates (`00000000`,
/// `00.00.0000`) are "no date" in ERP exports and read as null.
pub fn parse_date(text: &str, format: DateFormat) -> Result<Value, String> {
    if text.is_empty() || text.chars().all(|c| c == '0' || !c.is_ascii_alphanumeric()) {
        return Ok(Value::Null);
    }
    let pattern = match format {
        DateFormat::Iso => "%Y-%m-%d",
        DateFormat::Yyyymmdd => "%Y%m%d",
        DateFormat::DdMmYyyy => "%d.%m.%Y",
        DateFormat::MmDdYyyy => "%m/%d/%Y",
        DateFormat::DdMmYyyySlash => "%d/%m/%Y",
    };
    NaiveDate::parse_from_str(text, pattern)
        .map(Value::Date)
        .map_err(|_| format!("`{text}` is not a date in the layout {pattern}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec(kind: FieldType) -> FieldCodec {
        FieldCodec {
            kind,
            trim: Trim::Both,
            scale: None,
            decimal_separator: '.',
            group_separator: None,
            date_format: DateFormat::Iso,
            true_values: vec!["Y".into()],
            false_values: vec!["N".into(), "".into()],
        }
    }

    #[test]
    fn implied_scale_and_decimal_comma_are_exact() {
        let mut c = codec(FieldType::Decimal);
        c.scale = Some(2);
        assert_eq!(c.parse("00012345").unwrap().to_text(), "123.45");
        assert_eq!(c.parse("0000012-").unwrap().to_text(), "-0.12");
        c.decimal_separator = ',';
        c.group_separator = Some('.');
        assert_eq!(c.parse("1.234,5").unwrap().to_text(), "1234.50");
        assert_eq!(c.parse("  ").unwrap(), Value::Null);
        assert!(c.parse("12a").unwrap_err().contains("not a decimal"));
    }

    #[test]
    fn dates_in_erp_layouts_and_zero_dates() {
        assert_eq!(
            parse_date("20.11.2026", DateFormat::DdMmYyyy)
                .unwrap()
                .to_text(),
            "2026-11-20"
        );
        assert_eq!(
            parse_date("00000000", DateFormat::Yyyymmdd).unwrap(),
            Value::Null
        );
        assert!(parse_date("20261340", DateFormat::Yyyymmdd).is_err());
    }

    #[test]
    fn encodings_decode_western_characters() {
        let bytes = b"M\xfcller \x80";
        let got = decode(bytes, Encoding::Windows1252, DecodeErrors::Fail).unwrap();
        assert_eq!(got, "Müller €");
        let latin1 = decode(b"\xe9\x80", Encoding::Iso88591, DecodeErrors::Fail).unwrap();
        assert_eq!(latin1, "é\u{80}");
        assert_eq!(
            decode(b"ab\xff", Encoding::Utf8, DecodeErrors::Fail),
            Err(2)
        );
        assert_eq!(
            decode(b"ab\xff", Encoding::Utf8, DecodeErrors::Replace).unwrap(),
            "ab\u{fffd}"
        );
    }

    #[test]
    fn booleans_and_integers() {
        let b = codec(FieldType::Boolean);
        assert_eq!(b.parse("y").unwrap(), Value::Bool(true));
        assert_eq!(b.parse(" ").unwrap(), Value::Bool(false));
        assert!(b.parse("maybe").is_err());
        let i = codec(FieldType::Integer);
        assert_eq!(i.parse(" 42 ").unwrap(), Value::Int(42));
        assert_eq!(i.parse("42-").unwrap(), Value::Int(-42));
    }
}
