//! Bytes to typed values: character decoding (utf-8, windows-1252, iso-8859-1, DOS and EBCDIC
//! code pages) and the field types of ERP exports (implied-scale decimals, decimal commas,
//! trailing minus, DD.MM.YYYY and Julian dates, Y/N booleans), and numbers stored the COBOL way
//! (zoned with an overpunched sign, packed decimal, big-endian binary). Errors say what the
//! text or byte was and what was expected.

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::keys::{DateFormat, DecodeErrors, Encoding, SignPosition, Storage, Trim};
use crate::mapping::model::FieldType;
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
    /// Two-digit years below this are 20YY.
    pub pivot_year: u32,
    pub storage: Storage,
    pub sign: SignPosition,
    pub signed: bool,
    /// binary: least significant byte first (COMP-5 written on a PC).
    pub little_endian: bool,
}

/// A stored number that could not be read: what is wrong, and at which byte of the field.
#[derive(Debug, PartialEq)]
pub struct BadByte {
    pub at: usize,
    pub message: String,
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

/// Encode short text (a record type code from the mapping) into the file's encoding; the
/// character that has no byte in it is the error. Single-byte encodings are searched byte by
/// byte, which is plenty for a code of a few characters compiled once.
pub fn encode(text: &str, encoding: Encoding) -> Result<Vec<u8>, char> {
    if encoding == Encoding::Utf8 {
        return Ok(text.as_bytes().to_vec());
    }
    text.chars()
        .map(|c| {
            (0..=255u8)
                .find(|&b| {
                    decode(&[b], encoding, DecodeErrors::Replace).ok() == Some(c.to_string())
                })
                .ok_or(c)
        })
        .collect()
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
        // Numbers, dates and booleans padded with LOW-VALUES read as if padded with spaces.
        let text = raw.trim_matches(is_padding);
        match self.kind {
            // config.rs turns the SQL-only types into string with a problem reported.
            FieldType::String | FieldType::Datetime | FieldType::Time | FieldType::Binary => {
                Ok(Value::Str(trim(raw, self.trim).to_string()))
            }
            FieldType::Integer => self.parse_integer(text),
            FieldType::Decimal => self.parse_decimal(text),
            FieldType::Number => self.parse_number(text),
            FieldType::Boolean => self.parse_boolean(text),
            FieldType::Date => parse_date(text, self.date_format, self.pivot_year),
        }
    }

    /// A number stored as zoned, packed or binary bytes, as this field's type.
    pub fn parse_stored(&self, bytes: &[u8], encoding: Encoding) -> Result<Value, BadByte> {
        // A short record (allowed by `allow_short_records`) lacks the field: missing is null.
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        let number = match self.storage {
            Storage::Text => unreachable!("text fields are decoded first"),
            Storage::Zoned => zoned(bytes, encoding, self.sign)?,
            Storage::Packed => packed(bytes)?,
            Storage::Binary => Some(binary(bytes, self.signed, self.little_endian)?),
        };
        let Some(n) = number else {
            return Ok(Value::Null);
        };
        let whole = |m: String| BadByte { at: 0, message: m };
        let scale = self.scale.unwrap_or(0);
        match self.kind {
            FieldType::Integer if scale == 0 => i64::try_from(n)
                .map(Value::Int)
                .map_err(|_| whole(format!("{n} does not fit an integer"))),
            // Up to 38 digits (a zoned or packed field's most) are exact: as `Dec` where it
            // holds them (28 digits), as canonical text beyond.
            FieldType::Integer | FieldType::Decimal => {
                Ok(Decimal::try_from_i128_with_scale(n, scale)
                    .map(Value::Dec)
                    .unwrap_or_else(|_| Value::DecText(scaled_text(n, scale))))
            }
            FieldType::Number => Ok(Value::Num(n as f64 / 10f64.powi(scale as i32))),
            FieldType::Boolean => Ok(Value::Bool(n != 0)),
            // Dates kept as numbers (JD Edwards' Julian dates are packed): the digits, padded
            // to the layout's width.
            FieldType::Date => {
                let width = date_width(self.date_format);
                let text = format!("{n:0width$}");
                parse_date(&text, self.date_format, self.pivot_year).map_err(whole)
            }
            _ => Ok(Value::Str(n.to_string())),
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
        } else if let Some(body) = s.strip_suffix('+') {
            // COBOL `SIGN TRAILING SEPARATE` writes `+` after a positive number.
            s = body.to_string();
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
        let exact = if s.contains('.') {
            Decimal::from_str_exact(&s).ok()
        } else {
            // No separator: the declared scale is implied (`00012345`, scale 2 is 123.45).
            let digits = i128::from_str(&s).map_err(|_| bad())?;
            Decimal::try_from_i128_with_scale(digits, self.scale.unwrap_or(0)).ok()
        };
        let Some(mut d) = exact else {
            // More than 28 significant digits (`PIC 9(37)`): kept exactly, as text.
            return wide_decimal(&s, self.scale)
                .map(Value::DecText)
                .ok_or_else(bad);
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

/// `n` with `scale` implied decimal places, as text: `-12345`, 2 → `-123.45`.
fn scaled_text(n: i128, scale: u32) -> String {
    let digits = format!("{:0>width$}", n.unsigned_abs(), width = scale as usize + 1);
    let (int, frac) = digits.split_at(digits.len() - scale as usize);
    let sign = if n < 0 { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// A decimal too wide for `Decimal` (over 28 significant digits), exactly, as canonical text
/// with at least `scale` decimal places; `None` when it is not a decimal or over 38 digits.
fn wide_decimal(s: &str, scale: Option<u32>) -> Option<String> {
    let significant = s.bytes().filter(u8::is_ascii_digit).count();
    if significant > 38 {
        return None;
    }
    if !s.contains('.') {
        return Some(scaled_text(i128::from_str(s).ok()?, scale.unwrap_or(0)));
    }
    let text = crate::backend::sql::canonical_decimal(s)?;
    let places = text.split_once('.').map_or(0, |(_, f)| f.len());
    let want = scale.unwrap_or(0) as usize;
    Some(match (places, want) {
        (p, w) if p >= w => text,
        (0, w) => format!("{text}.{}", "0".repeat(w)),
        (p, w) => format!("{text}{}", "0".repeat(w - p)),
    })
}

/// Zoned decimal: one digit a byte, the sign overpunched on the last (or first) byte. In EBCDIC
/// the zone nibble carries it (F or C positive, D negative); in ASCII the byte does: `{` and
/// `A`..`I` are +0..+9, `}` and `J`..`R` are -0..-9 (`p`..`y`, another convention, -0..-9).
/// All blank is null.
fn zoned(bytes: &[u8], encoding: Encoding, sign: SignPosition) -> Result<Option<i128>, BadByte> {
    let ebcdic = encoding.ebcdic();
    let space = if ebcdic { 0x40 } else { b' ' };
    if bytes.iter().all(|b| *b == space) {
        return Ok(None);
    }
    let sign_at = match sign {
        SignPosition::Trailing => bytes.len() - 1,
        SignPosition::Leading => 0,
    };
    let mut v: i128 = 0;
    let mut negative = false;
    let mut leading_blanks = true;
    for (i, &b) in bytes.iter().enumerate() {
        let (digit, neg) = if i == sign_at {
            signed_digit(b, ebcdic).ok_or_else(|| BadByte {
                at: i,
                message: format!(
                    "byte 0x{b:02X} is not a zoned digit with a sign (overpunch expected {})",
                    if ebcdic {
                        "C0-C9, D0-D9 or F0-F9"
                    } else {
                        "0-9, {, A-I, }, J-R"
                    }
                ),
            })?
        } else if b == space && leading_blanks {
            (0, false)
        } else {
            leading_blanks = false;
            let d = if ebcdic {
                (b >> 4 == 0xF).then_some(b & 0x0F).filter(|d| *d <= 9)
            } else {
                b.is_ascii_digit().then(|| b - b'0')
            };
            (
                d.ok_or_else(|| BadByte {
                    at: i,
                    message: format!("byte 0x{b:02X} is not a zoned digit"),
                })?,
                false,
            )
        };
        negative |= neg;
        v = v * 10 + digit as i128;
    }
    Ok(Some(if negative { -v } else { v }))
}

fn signed_digit(b: u8, ebcdic: bool) -> Option<(u8, bool)> {
    if ebcdic {
        let digit = b & 0x0F;
        if digit > 9 {
            return None;
        }
        return match b >> 4 {
            0xF | 0xC | 0xA | 0xE => Some((digit, false)),
            0xD | 0xB => Some((digit, true)),
            _ => None,
        };
    }
    match b {
        b'0'..=b'9' => Some((b - b'0', false)),
        b'{' => Some((0, false)),
        b'A'..=b'I' => Some((b - b'A' + 1, false)),
        b'}' => Some((0, true)),
        b'J'..=b'R' => Some((b - b'J' + 1, true)),
        b'p'..=b'y' => Some((b - b'p', true)),
        _ => None,
    }
}

/// Packed decimal (COMP-3): two digits a byte, the last nibble the sign (C, A, E, F positive;
/// D, B negative).
fn packed(bytes: &[u8]) -> Result<Option<i128>, BadByte> {
    let mut v: i128 = 0;
    let last = bytes.len() - 1;
    for (i, &b) in bytes.iter().enumerate() {
        let (hi, lo) = (b >> 4, b & 0x0F);
        let bad_digit = |n: u8| BadByte {
            at: i,
            message: format!("byte 0x{b:02X} has the nibble {n:X}, which is not a packed digit"),
        };
        if hi > 9 {
            return Err(bad_digit(hi));
        }
        v = v * 10 + hi as i128;
        if i < last {
            if lo > 9 {
                return Err(bad_digit(lo));
            }
            v = v * 10 + lo as i128;
        } else {
            return match lo {
                0xC | 0xA | 0xE | 0xF => Ok(Some(v)),
                0xD | 0xB => Ok(Some(-v)),
                n => Err(BadByte {
                    at: i,
                    message: format!(
                        "byte 0x{b:02X} ends the packed number with the sign nibble {n:X}; a sign is C, D or F"
                    ),
                }),
            };
        }
    }
    unreachable!("the loop returns at the last byte")
}

/// Binary (COMP): a two's complement integer of 1 to 16 bytes, big-endian unless `little`.
fn binary(bytes: &[u8], signed: bool, little: bool) -> Result<i128, BadByte> {
    let mut v: u128 = 0;
    let mut push = |b: u8| v = (v << 8) | b as u128;
    if little {
        bytes.iter().rev().for_each(|&b| push(b));
    } else {
        bytes.iter().for_each(|&b| push(b));
    }
    let bits = 8 * bytes.len() as u32;
    let negative = signed && v >> (bits - 1) & 1 == 1;
    if negative {
        // Sign-extend to 128 bits: the value as i128 is then the two's complement reading.
        if bits < 128 {
            v |= u128::MAX << bits;
        }
        return Ok(v as i128);
    }
    i128::try_from(v).map_err(|_| BadByte {
        at: 0,
        message: "the unsigned binary number is beyond 38 digits".into(),
    })
}

/// Digits a numeric date layout has.
fn date_width(format: DateFormat) -> usize {
    match format {
        DateFormat::Cyyddd | DateFormat::Yymmdd => 6,
        DateFormat::Yyddd => 5,
        _ => 8,
    }
}

/// Trim a decoded text field by its policy. Padding is white space and LOW-VALUES (NUL, 0x00):
/// COBOL programs fill unused bytes with either, and a value that keeps its NULs matches no
/// lookup or filter. HIGH-VALUES (0xFF) are padding too in EBCDIC files, where that byte decodes
/// to the control character U+009F; in ASCII code pages 0xFF is `ÿ`, a letter, and is kept.
pub fn trim(raw: &str, policy: Trim) -> &str {
    match policy {
        Trim::Both => raw.trim_matches(is_padding),
        Trim::Left => raw.trim_start_matches(is_padding),
        Trim::Right => raw.trim_end_matches(is_padding),
        Trim::None => raw,
    }
}

/// White space, LOW-VALUES, and HIGH-VALUES as an EBCDIC code page decodes them.
fn is_padding(c: char) -> bool {
    c.is_whitespace() || c == '\0' || c == '\u{9F}'
}

/// Parse a date in one of the export layouts. Blank, all-zero and all-nine dates (`00000000`,
/// `00.00.0000`, `99999999`) are "no date" in ERP exports and read as null.
pub fn parse_date(text: &str, format: DateFormat, pivot_year: u32) -> Result<Value, String> {
    let sentinel = |d: char| text.chars().all(|c| c == d || !c.is_ascii_alphanumeric());
    if text.is_empty() || sentinel('0') || sentinel('9') {
        return Ok(Value::Null);
    }
    let bad = |layout: &str| format!("`{text}` is not a date in the layout {layout}");
    let century = |yy: u32| if yy < pivot_year { 2000 } else { 1900 };
    let digits = |n: usize| -> Option<Vec<u32>> {
        (text.len() == n && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.bytes().map(|b| (b - b'0') as u32).collect())
    };
    let ordinal = |year: u32, day: u32, layout: &str| {
        NaiveDate::from_yo_opt(year as i32, day)
            .map(Value::Date)
            .ok_or_else(|| bad(layout))
    };
    let pattern = match format {
        DateFormat::Iso => "%Y-%m-%d",
        DateFormat::Yyyymmdd => "%Y%m%d",
        DateFormat::DdMmYyyy => "%d.%m.%Y",
        DateFormat::MmDdYyyy => "%m/%d/%Y",
        DateFormat::DdMmYyyySlash => "%d/%m/%Y",
        DateFormat::Cyyddd => {
            let d = digits(6).ok_or_else(|| bad("CYYDDD"))?;
            let year = 1900 + d[0] * 100 + d[1] * 10 + d[2];
            return ordinal(year, d[3] * 100 + d[4] * 10 + d[5], "CYYDDD (day of year)");
        }
        DateFormat::Yyddd => {
            let d = digits(5).ok_or_else(|| bad("YYDDD"))?;
            let yy = d[0] * 10 + d[1];
            return ordinal(
                century(yy) + yy,
                d[2] * 100 + d[3] * 10 + d[4],
                "YYDDD (day of year)",
            );
        }
        DateFormat::Yymmdd => {
            let d = digits(6).ok_or_else(|| bad("YYMMDD"))?;
            let yy = d[0] * 10 + d[1];
            return NaiveDate::from_ymd_opt(
                (century(yy) + yy) as i32,
                d[2] * 10 + d[3],
                d[4] * 10 + d[5],
            )
            .map(Value::Date)
            .ok_or_else(|| bad("YYMMDD"));
        }
    };
    NaiveDate::parse_from_str(text, pattern)
        .map(Value::Date)
        .map_err(|_| bad(pattern))
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn codec(kind: FieldType) -> FieldCodec {
        FieldCodec {
            kind,
            trim: Trim::Both,
            scale: None,
            decimal_separator: '.',
            group_separator: None,
            date_format: DateFormat::Iso,
            true_values: vec!["Y".into()],
            false_values: vec!["N".into(), "".into()],
            pivot_year: 50,
            storage: Storage::Text,
            little_endian: false,
            sign: SignPosition::Trailing,
            signed: true,
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
            parse_date("20.11.2026", DateFormat::DdMmYyyy, 50)
                .unwrap()
                .to_text(),
            "2026-11-20"
        );
        assert_eq!(
            parse_date("00000000", DateFormat::Yyyymmdd, 50).unwrap(),
            Value::Null
        );
        assert!(parse_date("20261340", DateFormat::Yyyymmdd, 50).is_err());
        assert_eq!(
            parse_date("99999999", DateFormat::Yyyymmdd, 50).unwrap(),
            Value::Null
        );
        let jde = |t: &str| parse_date(t, DateFormat::Cyyddd, 50).map(|v| v.to_text());
        assert_eq!(jde("114001").unwrap(), "2014-01-01");
        assert_eq!(jde("099365").unwrap(), "1999-12-31");
        assert_eq!(jde("124366").unwrap(), "2024-12-31");
        assert!(jde("123366").unwrap_err().contains("CYYDDD"));
        let yy = |t: &str, f| parse_date(t, f, 50).map(|v| v.to_text());
        assert_eq!(yy("261120", DateFormat::Yymmdd).unwrap(), "2026-11-20");
        assert_eq!(yy("691120", DateFormat::Yymmdd).unwrap(), "1969-11-20");
        assert_eq!(yy("26324", DateFormat::Yyddd).unwrap(), "2026-11-20");
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
    fn zoned_packed_and_binary_numbers() {
        let mut c = codec(FieldType::Decimal);
        c.scale = Some(2);
        c.storage = Storage::Zoned;
        let ascii =
            |b: &[u8], c: &FieldCodec| c.parse_stored(b, Encoding::Utf8).map(|v| v.to_text());
        assert_eq!(ascii(b"0012345", &c).unwrap(), "123.45");
        assert_eq!(ascii(b"001234N", &c).unwrap(), "-123.45");
        assert_eq!(ascii(b"001234{", &c).unwrap(), "123.40");
        assert_eq!(ascii(b"001234}", &c).unwrap(), "-123.40");
        assert_eq!(
            c.parse_stored(b"       ", Encoding::Utf8).unwrap(),
            Value::Null
        );
        let e = ascii(b"00A2345", &c).unwrap_err();
        assert_eq!(e.at, 2);
        let ebcdic = [0xF0, 0xF1, 0xF2, 0xF3, 0xD4];
        assert_eq!(
            c.parse_stored(&ebcdic, Encoding::Cp037).unwrap().to_text(),
            "-12.34"
        );
        c.sign = SignPosition::Leading;
        assert_eq!(ascii(b"J0000", &c).unwrap(), "-100.00");

        c.storage = Storage::Packed;
        assert_eq!(ascii(&[0x12, 0x34, 0x5C], &c).unwrap(), "123.45");
        assert_eq!(ascii(&[0x00, 0x12, 0x3D], &c).unwrap(), "-1.23");
        let e = c
            .parse_stored(&[0x1A, 0x34, 0x5C], Encoding::Cp037)
            .unwrap_err();
        assert_eq!(e.at, 0);
        assert!(e.message.contains("nibble A"), "{}", e.message);
        let e = c
            .parse_stored(&[0x12, 0x34, 0x57], Encoding::Cp037)
            .unwrap_err();
        assert_eq!(e.at, 2);
        assert!(e.message.contains("sign nibble 7"), "{}", e.message);

        let mut i = codec(FieldType::Integer);
        i.storage = Storage::Binary;
        assert_eq!(
            i.parse_stored(&[0xFF, 0xFE], Encoding::Cp037).unwrap(),
            Value::Int(-2)
        );
        i.signed = false;
        assert_eq!(
            i.parse_stored(&[0xFF, 0xFE], Encoding::Cp037).unwrap(),
            Value::Int(65534)
        );

        let mut d = codec(FieldType::Date);
        d.storage = Storage::Packed;
        d.date_format = DateFormat::Cyyddd;
        // JD Edwards keeps 114001 (2014-01-01) as a packed number, 0 for "no date".
        assert_eq!(
            d.parse_stored(&[0x01, 0x14, 0x00, 0x1F], Encoding::Cp037)
                .unwrap()
                .to_text(),
            "2014-01-01"
        );
        assert_eq!(
            d.parse_stored(&[0x00, 0x00, 0x00, 0x0F], Encoding::Cp037)
                .unwrap(),
            Value::Null
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
