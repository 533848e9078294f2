//! Every byte of every DOS and EBCDIC code page decodes to the character the published table
//! (IBM CDRA, in fixtures/codepages/) gives it.

use legacy_mcp::backend::flatfile::codec::decode;
use legacy_mcp::backend::flatfile::keys::{DecodeErrors, Encoding};

fn published(file: &str) -> Vec<(u8, char)> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/codepages")
            .join(format!("{file}.charmap")),
    )
    .unwrap();
    text.lines()
        .filter_map(|l| {
            let l = l.strip_prefix("<U")?;
            let (code, rest) = l.split_once('>')?;
            let byte = rest.trim_start().strip_prefix("/x")?.get(..2)?;
            Some((
                u8::from_str_radix(byte, 16).ok()?,
                char::from_u32(u32::from_str_radix(code, 16).ok()?)?,
            ))
        })
        .collect()
}

#[test]
fn every_byte_decodes_as_the_published_table_says() {
    let pages = [
        (Encoding::Cp437, "IBM437"),
        (Encoding::Cp850, "IBM850"),
        (Encoding::Cp037, "IBM037"),
        (Encoding::Cp500, "IBM500"),
        (Encoding::Cp1047, "IBM1047"),
        (Encoding::Cp273, "IBM273"),
    ];
    for (encoding, file) in pages {
        let table = published(file);
        assert_eq!(table.len(), 256, "{file} maps every byte");
        for (byte, expected) in table {
            let got = decode(&[byte], encoding, DecodeErrors::Fail).unwrap();
            assert_eq!(
                got,
                expected.to_string(),
                "{file} byte 0x{byte:02X}: got U+{:04X}, the table says U+{:04X}",
                got.chars().next().unwrap() as u32,
                expected as u32
            );
        }
    }
}

#[test]
fn words_read_as_written() {
    // "Müller" in EBCDIC 273 (German) and 037, and "Straße" in DOS 850.
    let de = decode(
        &[0xD4, 0xD0, 0x93, 0x93, 0x85, 0x99],
        Encoding::Cp273,
        DecodeErrors::Fail,
    )
    .unwrap();
    assert_eq!(de, "Müller");
    let us = decode(
        &[0xD4, 0xDC, 0x93, 0x93, 0x85, 0x99],
        Encoding::Cp037,
        DecodeErrors::Fail,
    )
    .unwrap();
    assert_eq!(us, "Müller");
    let dos = decode(b"Stra\xe1e", Encoding::Cp850, DecodeErrors::Fail).unwrap();
    assert_eq!(dos, "Straße");
}
