//! Property tests for the stored-number and date decoders: every value an encoder writes comes
//! back as itself, and no input of the widths a mapping allows makes a decoder panic; a refused
//! input names an offset inside the field.

use super::*;
use chrono::Datelike;
use proptest::prelude::*;

/// COMP-3 as a mainframe writes it: `2n-1` digits, the sign nibble last (C or D).
fn packed_bytes(v: i128, len: usize) -> Vec<u8> {
    let digits = format!("{:0width$}", v.unsigned_abs(), width = 2 * len - 1);
    let mut nibbles: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
    nibbles.push(if v < 0 { 0xD } else { 0xC });
    nibbles.chunks(2).map(|p| (p[0] << 4) | p[1]).collect()
}

/// Zoned decimal with the sign overpunched on the last or first digit, in ASCII or EBCDIC.
fn zoned_bytes(v: i128, len: usize, ebcdic: bool, sign: SignPosition) -> Vec<u8> {
    let digits = format!("{:0len$}", v.unsigned_abs());
    let at = match sign {
        SignPosition::Trailing => len - 1,
        SignPosition::Leading => 0,
    };
    digits
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let d = b - b'0';
            match (i == at, ebcdic, v < 0) {
                (false, true, _) => 0xF0 | d,
                (false, false, _) => b,
                (true, true, false) => 0xC0 | d,
                (true, true, true) => 0xD0 | d,
                (true, false, false) if d == 0 => b'{',
                (true, false, false) => b'A' + d - 1,
                (true, false, true) if d == 0 => b'}',
                (true, false, true) => b'J' + d - 1,
            }
        })
        .collect()
}

fn sign_position() -> impl Strategy<Value = SignPosition> {
    prop_oneof![Just(SignPosition::Trailing), Just(SignPosition::Leading)]
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![
        Just(Encoding::Utf8),
        Just(Encoding::Cp037),
        Just(Encoding::Cp1047)
    ]
}

proptest! {
    #[test]
    fn packed_round_trips(len in 1usize..=19, seed in any::<i128>()) {
        let max = 10i128.pow((2 * len - 1) as u32);
        let v = seed % max;
        prop_assert_eq!(packed(&packed_bytes(v, len)).unwrap(), Some(v));
    }

    #[test]
    fn zoned_round_trips(
        len in 1usize..=38,
        seed in any::<i128>(),
        ebcdic in any::<bool>(),
        sign in sign_position(),
    ) {
        let v = seed % 10i128.pow(len.min(38) as u32);
        let enc = if ebcdic { Encoding::Cp037 } else { Encoding::Utf8 };
        prop_assert_eq!(zoned(&zoned_bytes(v, len, ebcdic, sign), enc, sign).unwrap(), Some(v));
    }

    #[test]
    fn binary_round_trips(len in 1usize..=16, v in any::<i128>(), signed in any::<bool>()) {
        let be = v.to_be_bytes();
        let bytes = &be[16 - len..];
        let bits = 8 * len as u32;
        let unsigned = (v as u128) & (u128::MAX >> (128 - bits));
        let expected = if signed && unsigned >> (bits - 1) == 1 {
            Some((unsigned | u128::MAX.checked_shl(bits).unwrap_or(0)) as i128)
        } else {
            i128::try_from(unsigned).ok()
        };
        prop_assert_eq!(binary(bytes, signed, false).ok(), expected);
        // The same number written least significant byte first (COMP-5 on a PC).
        let little: Vec<u8> = bytes.iter().rev().copied().collect();
        prop_assert_eq!(binary(&little, signed, true).ok(), expected);
    }

    #[test]
    fn packed_and_zoned_never_panic_and_name_an_offset_inside(
        bytes in proptest::collection::vec(any::<u8>(), 1..=38),
        enc in encoding(),
        sign in sign_position(),
    ) {
        if bytes.len() <= 19 && let Err(e) = packed(&bytes) {
            prop_assert!(e.at < bytes.len(), "{}", e.message);
        }
        if let Err(e) = zoned(&bytes, enc, sign) {
            prop_assert!(e.at < bytes.len(), "{}", e.message);
        }
    }

    #[test]
    fn stored_numbers_never_panic_whatever_the_field(
        bytes in proptest::collection::vec(any::<u8>(), 0..=19),
        kind in prop_oneof![
            Just(FieldType::Integer),
            Just(FieldType::Decimal),
            Just(FieldType::Number),
            Just(FieldType::Boolean),
            Just(FieldType::Date),
        ],
        storage in prop_oneof![Just(Storage::Zoned), Just(Storage::Packed), Just(Storage::Binary)],
        scale in 0u32..=28,
        enc in encoding(),
    ) {
        let max = match storage {
            Storage::Binary => 8,
            _ => 19,
        };
        let mut c = super::tests::codec(kind);
        c.storage = storage;
        c.scale = Some(scale);
        c.date_format = DateFormat::Cyyddd;
        if let Err(e) = c.parse_stored(&bytes[..bytes.len().min(max)], enc) {
            prop_assert!(e.at < bytes.len().max(1), "{}", e.message);
        }
    }

    #[test]
    fn dates_round_trip_in_every_layout(days in 0i64..(200 * 366)) {
        let d = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Duration::days(days);
        prop_assume!(d.year() < 2100);
        let cyy = format!("{}{:02}{:03}", (d.year() - 1900) / 100, d.year() % 100, d.ordinal());
        let cases = [
            (d.format("%Y-%m-%d").to_string(), DateFormat::Iso),
            (d.format("%Y%m%d").to_string(), DateFormat::Yyyymmdd),
            (d.format("%d.%m.%Y").to_string(), DateFormat::DdMmYyyy),
            (d.format("%m/%d/%Y").to_string(), DateFormat::MmDdYyyy),
            (d.format("%d/%m/%Y").to_string(), DateFormat::DdMmYyyySlash),
            (cyy, DateFormat::Cyyddd),
        ];
        for (text, layout) in cases {
            prop_assert_eq!(parse_date(&text, layout, 50).unwrap(), Value::Date(d), "{}", text);
        }
    }

    #[test]
    fn date_parsing_never_panics(text in "\\PC{0,12}", layout in prop_oneof![
        Just(DateFormat::Iso), Just(DateFormat::Yyyymmdd), Just(DateFormat::DdMmYyyy),
        Just(DateFormat::Cyyddd), Just(DateFormat::Yyddd), Just(DateFormat::Yymmdd),
    ]) {
        let _ = parse_date(&text, layout, 50);
    }
}
