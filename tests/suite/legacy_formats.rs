//! Legacy export formats end to end: the example mappings in mappings/examples/ over the
//! exports fixtures/legacy/generate.py writes (an AS/400 EBCDIC file with packed and zoned
//! numbers, JD Edwards extracts with Julian dates and overpunched amounts, a DOS cp850 file),
//! and damaged copies whose errors must name the exact byte.

use crate::support;

use support::{call, pipeline};

use legacy_mcp::pipeline::{CallError, Pipeline};
use serde_json::{Value, json};

fn example(name: &str) -> Pipeline {
    pipeline(&support::root().join("mappings/examples").join(name))
}

#[tokio::test]
async fn an_as400_ebcdic_file_with_packed_and_zoned_numbers() {
    let p = example("as400-ebcdic");
    let all = call(&p, "list_orders", json!({})).await.unwrap();
    assert_eq!(
        all["rows"],
        json!([
            {"order_no": "00010001", "customer": "MÜLLER GMBH", "amount": "1234567.89", "quantity": 12, "order_date": "2014-01-01"},
            {"order_no": "00010002", "customer": "ÅNGSTRÖM AB", "amount": "-250.00", "quantity": -3, "order_date": "2026-11-20"},
            {"order_no": "00010003", "customer": "O'NEIL & SONS", "amount": "0.05", "quantity": 1, "order_date": null}
        ])
    );
    // The key index works on fixed-length records without line ends.
    let one = call(&p, "get_order", json!({"order_no": "00010002"}))
        .await
        .unwrap();
    assert_eq!(one["customer"], "ÅNGSTRÖM AB");
}

#[tokio::test]
async fn jd_edwards_extracts_with_julian_dates_and_overpunched_amounts() {
    let p = example("jde-exports");
    let a = call(&p, "get_address", json!({"an8": 1002})).await.unwrap();
    assert_eq!(
        a,
        json!({"an8": 1002, "alph": "Edwards Supply Co", "upmj": "2025-02-14", "credit_limit": "-125.50", "at1": "V"})
    );
    let none = call(&p, "get_address", json!({"an8": 1003})).await.unwrap();
    assert_eq!(none["upmj"], Value::Null, "Julian 0 is no date");
    let lines = call(&p, "order_lines", json!({"doco": 5001}))
        .await
        .unwrap();
    assert_eq!(
        lines["rows"],
        json!([
            {"doco": 5001, "lnid": "1.000", "an8": 1001, "litm": "BIKE-RED", "uorg": 2, "aexp": "1299.98", "trdj": "2025-10-27"},
            {"doco": 5001, "lnid": "2.000", "an8": 1001, "litm": "HELMET", "uorg": 2, "aexp": "99.90", "trdj": "2025-10-27"}
        ])
    );
    // The last record follows a line that ended in LF only.
    let ret = call(&p, "order_lines", json!({"doco": 5002}))
        .await
        .unwrap();
    assert_eq!(ret["rows"][0]["uorg"], -1);
    assert_eq!(ret["rows"][0]["aexp"], "-19.99");
}

#[tokio::test]
async fn a_dos_cp850_customer_file() {
    let p = example("dos-cp850");
    let k = call(&p, "kunde", json!({"kdnr": "K00001"})).await.unwrap();
    assert_eq!(
        k,
        json!({"kdnr": "K00001", "name": "Müller & Söhne", "ort": "Köln", "saldo": "1234.50", "letzte_bestellung": "1998-12-31"})
    );
    let k = call(&p, "kunde", json!({"kdnr": "K00002"})).await.unwrap();
    assert_eq!(k["saldo"], "-99.90");
    assert_eq!(k["letzte_bestellung"], "2003-02-15");
}

/// The AS/400 mapping pointed at a damaged copy.
fn damaged(file: &str) -> (tempfile::TempDir, Pipeline) {
    let dir = tempfile::tempdir().unwrap();
    let yaml =
        std::fs::read_to_string(support::root().join("mappings/examples/as400-ebcdic/orders.yaml"))
            .unwrap()
            .replace(
                "directory: ../../../fixtures/legacy/as400",
                &format!(
                    "directory: {}",
                    support::root().join("fixtures/legacy/corrupt").display()
                ),
            )
            .replace("file: ORDERS.DAT", &format!("file: {file}"));
    std::fs::write(dir.path().join("orders.yaml"), yaml).unwrap();
    let p = pipeline(dir.path());
    (dir, p)
}

async fn error(p: &Pipeline, tool: &str, args: Value) -> String {
    match call(p, tool, args).await {
        Err(CallError::Caller(m)) => m,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test]
async fn damaged_exports_are_errors_that_name_the_byte() {
    let (_d, p) = damaged("ORDERS_BAD_NIBBLE.DAT");
    assert_eq!(
        error(&p, "list_orders", json!({})).await,
        "`ORDERS_BAD_NIBBLE.DAT` record 2 (byte offset 44): field `amount`: byte 0x1A has the nibble A, which is not a packed digit (byte 72)"
    );
    let (_d, p) = damaged("ORDERS_BAD_ZONED.DAT");
    assert_eq!(
        error(&p, "get_order", json!({"order_no": "00010001"})).await,
        "`ORDERS_BAD_ZONED.DAT` record ? (byte offset 0): field `quantity`: byte 0xC1 is not a zoned digit (byte 33)"
    );
    let (_d, p) = damaged("ORDERS_TRUNCATED.DAT");
    assert_eq!(
        error(&p, "list_orders", json!({})).await,
        "export file `ORDERS_TRUNCATED.DAT` is incomplete: the file is 122 bytes, which is not a whole number of 44-byte records (record_length): 2 records and 34 bytes left over; the transfer was cut short or the export is still being written, or `record_length` does not match the copybook's record (LRECL); nothing from this version is returned (ask for the export to be re-run, or try again once it is rewritten)"
    );
}

/// A one-table mapping over `data` written as `FILE.DAT` in a fresh directory.
fn one_table(data: &[u8], table_keys: &str, fields: &str) -> (tempfile::TempDir, Pipeline) {
    one_table_and(data, table_keys, fields, "")
}

/// `one_table` with more tools after `all`.
fn one_table_and(
    data: &[u8],
    table_keys: &str,
    fields: &str,
    tools: &str,
) -> (tempfile::TempDir, Pipeline) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("FILE.DAT"), data).unwrap();
    let yaml = format!(
        r#"
sources:
  files:
    kind: flatfile
    directory: .
    tables:
      t:
        file: FILE.DAT
        format: fixed_width
{table_keys}
        fields:
{fields}
tools:
  all:
    description: Every record.
    source: files
    table: t
{tools}"#
    );
    std::fs::write(dir.path().join("m.yaml"), yaml).unwrap();
    let p = pipeline(dir.path());
    (dir, p)
}

#[tokio::test]
async fn variable_length_records_with_record_descriptor_words() {
    let rdw = |body: &[u8]| {
        let mut r = ((body.len() + 4) as u16).to_be_bytes().to_vec();
        r.extend_from_slice(&[0, 0]);
        r.extend_from_slice(body);
        r
    };
    // EBCDIC "A1" + packed 12.5, then a shorter record without the amount.
    let mut data = rdw(&[0xC1, 0xF1, 0x01, 0x25, 0x0C]);
    data.extend(rdw(&[0xC2, 0xF2]));
    let keys = "        encoding: cp037\n        framing: rdw\n        allow_short_records: true";
    let fields = "          code: {start: 1, length: 2}\n          amount: {start: 3, length: 3, type: decimal, storage: packed, scale: 2}";
    let (_d, p) = one_table(&data, keys, fields);
    let all = call(&p, "all", json!({})).await.unwrap();
    assert_eq!(
        all["rows"],
        json!([{"code": "A1", "amount": "12.50"}, {"code": "B2", "amount": null}])
    );
    // A descriptor word that is not one.
    let mut bad = data.clone();
    bad[9 + 2] = 0x40;
    let (_d, p) = one_table(&bad, keys, fields);
    assert_eq!(
        error(&p, "all", json!({})).await,
        "`FILE.DAT` record 2 (byte offset 9): no record descriptor word at byte 9 (found 00 06 40 00): the file is not framed as `framing: rdw` without `rdw:` options (IBM's RDW), or it is damaged"
    );
}

/// Records behind descriptor words written in one variant: `excludes` leaves the 4 header
/// bytes out of the length, `little` writes it little-endian, `blocked` puts records in blocks
/// of two behind block descriptor words.
fn rdw_file(records: &[&[u8]], excludes: bool, little: bool, blocked: bool) -> Vec<u8> {
    let word = |len: usize| {
        let len = (len + if excludes { 0 } else { 4 }) as u16;
        let b = if little {
            len.to_le_bytes()
        } else {
            len.to_be_bytes()
        };
        vec![b[0], b[1], 0, 0]
    };
    let framed: Vec<Vec<u8>> = records
        .iter()
        .map(|r| [word(r.len()), r.to_vec()].concat())
        .collect();
    if !blocked {
        return framed.concat();
    }
    framed
        .chunks(2)
        .flat_map(|block| {
            let body = block.concat();
            [word(body.len()), body].concat()
        })
        .collect()
}

#[tokio::test]
async fn rdw_variants_read_as_declared_and_the_error_names_the_one_that_fits() {
    // EBCDIC codes and packed amounts; the third record is short (no amount).
    let records: [&[u8]; 3] = [
        &[0xC1, 0xF1, 0x01, 0x25, 0x0C],
        &[0xC2, 0xF2, 0x99, 0x99, 0x9D],
        &[0xC3, 0xF3],
    ];
    let fields = "          code: {start: 1, length: 2}\n          amount: {start: 3, length: 3, type: decimal, storage: packed, scale: 2}";
    let want = json!([
        {"code": "A1", "amount": "12.50"},
        {"code": "B2", "amount": "-999.99"},
        {"code": "C3", "amount": null}
    ]);
    let keys = |rdw: &str| {
        format!(
            "        encoding: cp037\n        framing: rdw\n        allow_short_records: true\n        key: [code]{rdw}"
        )
    };
    for (excludes, little, blocked) in [
        (false, false, false),
        (true, false, false),
        (false, true, false),
        (false, false, true),
        (true, true, true),
    ] {
        let mut opts = Vec::new();
        if excludes {
            opts.push("length: excludes_header");
        }
        if little {
            opts.push("byte_order: little");
        }
        if blocked {
            opts.push("blocked: true");
        }
        let rdw = if opts.is_empty() {
            String::new()
        } else {
            format!("\n        rdw: {{{}}}", opts.join(", "))
        };
        let data = rdw_file(&records, excludes, little, blocked);
        let by_code = "  one:\n    description: One record.\n    source: files\n    table: t\n    parameters:\n      code: {type: string}\n    where:\n      code: code\n    result: {one: true}\n";
        let (_d, p) = one_table_and(&data, &keys(&rdw), fields, by_code);
        let all = call(&p, "all", json!({})).await.unwrap();
        assert_eq!(all["rows"], want, "{rdw}");
        // The key index jumps into the middle of a block and reads the one record there.
        for (i, code) in ["A1", "B2", "C3"].into_iter().enumerate() {
            let one = call(&p, "one", json!({"code": code})).await.unwrap();
            assert_eq!(one, want[i], "{rdw}");
        }

        // Declared as IBM's plain RDW: refused, and the error names the variant that fits.
        if (excludes, little, blocked) != (false, false, false) {
            let (_d, p) = one_table(&data, &keys(""), fields);
            let e = error(&p, "all", json!({})).await;
            let said = e.contains(&rdw.trim().replace("rdw: ", "`rdw: ").replace('}', "}`"));
            assert!(said, "{rdw}: {e}");
        }
    }
    // Damaged: no variant fits, and the error says so at the byte.
    let mut bad = rdw_file(&records, false, false, false);
    bad[9 + 2] = 0x40;
    let (_d, p) = one_table(&bad, &keys(""), fields);
    assert_eq!(
        error(&p, "all", json!({})).await,
        "`FILE.DAT` record 2 (byte offset 9): no record descriptor word at byte 9 (found 00 09 40 00): the file is not framed as `framing: rdw` without `rdw:` options (IBM's RDW), or it is damaged"
    );
}

#[tokio::test]
async fn a_byte_order_mark_and_mixed_line_ends_do_not_shift_fields() {
    let data = b"\xEF\xBB\xBFA1 x\r\nB2 y\nC3 z";
    let (_d, p) = one_table(
        data,
        "        allow_short_records: false",
        "          code: {start: 1, length: 2}\n          v: {start: 4, length: 1}",
    );
    let all = call(&p, "all", json!({})).await.unwrap();
    assert_eq!(
        all["rows"],
        json!([{"code": "A1", "v": "x"}, {"code": "B2", "v": "y"}, {"code": "C3", "v": "z"}])
    );
}

#[tokio::test]
async fn a_copybook_becomes_a_mapping_that_checks_and_reads_the_export() {
    let out = std::process::Command::new(support::bin())
        .args([
            "import-copybook",
            "--file",
            "ORDERS.DAT",
            "--source",
            "as400",
        ])
        .arg(support::root().join("fixtures/legacy/as400/ORDERS.cpy"))
        .output()
        .unwrap();
    let yaml = support::succeeded(out).replace(
        "directory: .",
        &format!(
            "directory: {}",
            support::root().join("fixtures/legacy/as400").display()
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("orders.yaml"), yaml).unwrap();
    let p = pipeline(dir.path());
    let rows = call(&p, "list_order_rec", json!({})).await.unwrap();
    // The same values as the hand-written example; the date stays the number the copybook
    // says it is (PIC S9(7) COMP-3) until someone declares it a cyyddd date.
    assert_eq!(
        rows["rows"][1],
        json!({"order_no": "00010002", "customer": "ÅNGSTRÖM AB", "amount": "-250.00", "quantity": -3, "order_date": 126324})
    );

    // A clause outside the subset: a clear error naming the line, exit status 1.
    let bad = dir.path().join("bad.cpy");
    std::fs::write(
        &bad,
        "01 R.\n   05 N PIC 9(3) OCCURS 1 TO 5 DEPENDING ON X.\n",
    )
    .unwrap();
    let out = std::process::Command::new(support::bin())
        .arg("import-copybook")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2: N OCCURS DEPENDING ON"), "{err}");

    // A float among supported fields: listed, then imported as FILLER on request, and the
    // mapping it writes checks.
    let float = dir.path().join("float.cpy");
    std::fs::write(
        &float,
        "01 R.\n   05 A PIC X(4).\n   05 F COMP-2.\n   05 B PIC 9(3).\n",
    )
    .unwrap();
    let import = |extra: &[&str]| {
        std::process::Command::new(support::bin())
            .arg("import-copybook")
            .arg(&float)
            .args(extra)
            .output()
            .unwrap()
    };
    let refused = import(&[]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("line 3: F PIC : COMP-2 (floating point) is not supported (8 bytes")
    );
    let filled = import(&["--unsupported", "filler"]);
    let stderr = String::from_utf8_lossy(&filled.stderr).to_string();
    let yaml = support::succeeded(filled);
    assert!(stderr.contains("imported as FILLER of 8 bytes"), "{stderr}");
    assert!(
        yaml.contains("start: 13"),
        "B after the 8 FILLER bytes: {yaml}"
    );
}

/// LOW-VALUES padding (issue 23): an EBCDIC file whose text fields and record-type codes are
/// padded with NUL bytes (0x00), and one with HIGH-VALUES (0xFF), as COBOL programs write them.
/// Values come back without the padding, and lookups, filters, the key index and the
/// record-type code all match them; before, the NULs stayed in the value
/// (`"Timika\u0000\u0000\u0000\u0000"`) and every lookup answered "not found".
#[tokio::test]
async fn low_values_and_high_values_padding_is_trimmed_everywhere() {
    let ebcdic = |s: &str| -> Vec<u8> {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'I' => 0xC1 + (b - b'A'),
                b'J'..=b'R' => 0xD1 + (b - b'J'),
                b'S'..=b'Z' => 0xE2 + (b - b'S'),
                b'a'..=b'i' => 0x81 + (b - b'a'),
                b'j'..=b'r' => 0x91 + (b - b'j'),
                b's'..=b'z' => 0xA2 + (b - b's'),
                b'0'..=b'9' => 0xF0 + (b - b'0'),
                b' ' => 0x40,
                _ => panic!("not in the test alphabet"),
            })
            .collect()
    };
    // Record: type code (2 bytes), key (4), city (10), zoned amount (4).
    let record = |code: &str, key: &str, city: &str, pad: u8| {
        let mut r = ebcdic(code);
        r.resize(2, pad);
        r.extend(ebcdic(key));
        let mut c = ebcdic(city);
        c.resize(10, pad);
        r.extend(c);
        r.extend(ebcdic("0042"));
        r
    };
    for pad in [0x00u8, 0xFF] {
        let mut data = record("C", "0001", "Timika", pad);
        data.extend(record("C", "0002", "Lae", pad));
        data.extend(record("X", "0003", "Other", pad));
        let keys = "        encoding: cp037\n        framing: fixed\n        record_length: 20\n        key: [id]\n        record_type: {start: 1, length: 2, value: C}\n        other_record_types: [X]";
        let fields = "          id: {start: 3, length: 4}\n          city: {start: 7, length: 10}\n          amount: {start: 17, length: 4, type: integer}";
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("FILE.DAT"), &data).unwrap();
        let yaml = format!(
            r#"
sources:
  files:
    kind: flatfile
    directory: .
    tables:
      t:
        file: FILE.DAT
        format: fixed_width
{keys}
        fields:
{fields}
tools:
  all:
    description: Every record.
    source: files
    table: t
  by_city:
    description: Records of one city.
    parameters: {{ city: {{ type: string }} }}
    source: files
    table: t
    where: {{ city: city }}
  by_prefix:
    description: Records whose city starts so.
    parameters: {{ prefix: {{ type: string }} }}
    source: files
    table: t
    where: {{ city: {{ starts_with: prefix }} }}
  by_no:
    description: One record by number.
    parameters: {{ id: {{ type: string }} }}
    source: files
    table: t
    where: {{ id: id }}
    result: {{ one: true }}
"#
        );
        std::fs::write(dir.path().join("m.yaml"), yaml).unwrap();
        let p = pipeline(dir.path());
        let all = call(&p, "all", json!({})).await.unwrap();
        assert_eq!(
            all["rows"],
            json!([
                {"id": "0001", "city": "Timika", "amount": 42},
                {"id": "0002", "city": "Lae", "amount": 42}
            ]),
            "padding 0x{pad:02X}"
        );
        let one = call(&p, "by_city", json!({"city": "Timika"}))
            .await
            .unwrap();
        assert_eq!(one["rows"][0]["id"], "0001", "padding 0x{pad:02X}");
        let some = call(&p, "by_prefix", json!({"prefix": "La"}))
            .await
            .unwrap();
        assert_eq!(some["rows"][0]["city"], "Lae", "padding 0x{pad:02X}");
        let key = call(&p, "by_no", json!({"id": "0002"})).await.unwrap();
        assert_eq!(key["city"], "Lae", "padding 0x{pad:02X}");
    }
}

/// A record length that does not divide the file size is said at open, with the sizes and the
/// likely cause (issue 23), not as a field error somewhere in the file: line ends after each
/// record (the mapping should say `framing: lines`), or a file cut short.
#[tokio::test]
async fn a_record_length_that_does_not_divide_the_file_is_said_at_open() {
    let keys = "        framing: fixed\n        record_length: 10";
    let fields = "          code: {start: 1, length: 4}\n          name: {start: 5, length: 6}";
    let crlf = b"0001ALPHA \r\n0002BETA  \r\n0003GAMMA \r\n".to_vec();
    let (_d, p) = one_table(&crlf, keys, fields);
    assert_eq!(
        error(&p, "all", json!({})).await,
        "`FILE.DAT`: the file is 36 bytes, which is not a whole number of 10-byte records (record_length): 3 records and 6 bytes left over; it divides into 12-byte records, so each record likely ends with CR LF: use `framing: lines`"
    );
    let cut = b"0001ALPHA 0002BETA  0003G".to_vec();
    let (_d, p) = one_table(&cut, keys, fields);
    assert_eq!(
        error(&p, "all", json!({})).await,
        "export file `FILE.DAT` is incomplete: the file is 25 bytes, which is not a whole number of 10-byte records (record_length): 2 records and 5 bytes left over; the transfer was cut short or the export is still being written, or `record_length` does not match the copybook's record (LRECL); nothing from this version is returned (ask for the export to be re-run, or try again once it is rewritten)"
    );
}

/// Decimals of up to 38 digits (issue 23): `PIC S9(35)V99` zoned, `PIC S9(31)V9(6) COMP-3`
/// packed and a 36-digit text decimal come back exactly, every digit, where they used to fail
/// with "is not a decimal" past 28 digits.
#[tokio::test]
async fn decimals_of_up_to_38_digits_are_exact() {
    // Zoned, 37 digits, trailing overpunch `}` (negative 0) in ASCII.
    let mut data = b"1234567890123456789012345678901234567".to_vec();
    *data.last_mut().unwrap() = b'}';
    // Packed, 19 bytes: 37 digits and the sign C.
    let mut packed = Vec::new();
    let digits = b"9876543210987654321098765432109876543";
    for pair in digits.chunks(2) {
        let hi = pair[0] - b'0';
        let lo = if pair.len() == 2 { pair[1] - b'0' } else { 0xC };
        packed.push((hi << 4) | lo);
    }
    data.extend(&packed);
    data.extend(b"123456789012345678901234567890.123456");
    let keys = "        encoding: iso-8859-1\n        framing: fixed\n        record_length: 93";
    let fields = "          zoned: {start: 1, length: 37, type: decimal, storage: zoned, scale: 2}\n          packed: {start: 38, length: 19, type: decimal, storage: packed, scale: 6}\n          text: {start: 57, length: 37, type: decimal, scale: 8}";
    let (_d, p) = one_table(&data, keys, fields);
    let all = call(&p, "all", json!({})).await.unwrap();
    assert_eq!(
        all["rows"],
        json!([{
            "zoned": "-12345678901234567890123456789012345.60",
            "packed": "9876543210987654321098765432109.876543",
            "text": "123456789012345678901234567890.12345600"
        }])
    );
}

/// A program in `fixtures/legacy/cobol`, compiled by GnuCOBOL and run in `dir`: the file it
/// writes is written as a COBOL program writes it, and what it DISPLAYs is the second witness.
/// GnuCOBOL is a prerequisite (scripts/test installs Debian's gnucobol3): without it the test
/// fails and says so, never passes silently.
fn run_cobol(program: &str, dir: &std::path::Path) -> String {
    let src = support::root().join("fixtures/legacy/cobol");
    for entry in std::fs::read_dir(&src).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let compiled = std::process::Command::new("cobc")
        .current_dir(dir)
        .args(["-x", "-o", "prog", &format!("{program}.cbl")])
        .output()
        .unwrap_or_else(|e| panic!("GnuCOBOL's `cobc` is needed (apt-get install gnucobol3): {e}"));
    assert!(
        compiled.status.success(),
        "{}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    let ran = std::process::Command::new(dir.join("prog"))
        .current_dir(dir)
        .output()
        .unwrap();
    support::succeeded(ran)
}

/// The records a COBOL program DISPLAYed as `key=value` lines, each record closed by `end`.
fn witness(display: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut records = vec![std::collections::BTreeMap::new()];
    for line in display.lines() {
        match line.split_once('=') {
            Some((k, v)) => {
                records
                    .last_mut()
                    .unwrap()
                    .insert(k.to_string(), v.to_string());
            }
            None if line == "end" => records.push(Default::default()),
            None => panic!("unexpected DISPLAY line {line:?}"),
        }
    }
    records.pop();
    records
}

fn same_number(adapter: &Value, cobol: &str) -> bool {
    use std::str::FromStr;
    let ours = match adapter {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return false,
    };
    rust_decimal::Decimal::from_str(&ours).ok()
        == rust_decimal::Decimal::from_str(cobol.trim()).ok()
}

/// A copybook with a field-level REDEFINES chosen by a type field, packed, binary (COMP and
/// little-endian COMP-5), overpunched zoned and SIGN LEADING SEPARATE numbers, written by a
/// real COBOL program: `import-copybook` output checks unedited, and every value the adapter
/// returns is the value the program DISPLAYed. A DOS end-of-file byte after the last record is
/// not data; a file that is not whole records of the copybook is refused by the importer.
#[tokio::test]
async fn a_file_written_by_gnucobol_reads_as_the_program_displayed_it() {
    let dir = tempfile::tempdir().unwrap();
    let shown = witness(&run_cobol("WRITETAX", dir.path()));
    assert_eq!(shown.len(), 2);
    let import = |file: &str| {
        std::process::Command::new(support::bin())
            .current_dir(dir.path())
            .args([
                "import-copybook",
                "--encoding",
                "iso-8859-1",
                "--native-binary",
                "little",
                "--file",
                file,
                "TAXPAYER.cpy",
            ])
            .output()
            .unwrap()
    };
    let yaml = support::succeeded(import("TAXPAYER.DAT"));
    assert!(
        yaml.contains("taxpayer_num: {start: 8, length: 8, type: integer, storage: packed, when: {taxpayer_type: \"N\"}}"),
        "{yaml}"
    );
    assert!(yaml.contains("byte_order: little"), "{yaml}");
    std::fs::write(dir.path().join("m.yaml"), &yaml).unwrap();
    let checked = std::process::Command::new(support::bin())
        .args(["check", "--mappings"])
        .arg(dir.path().join("m.yaml"))
        .output()
        .unwrap();
    support::succeeded(checked);

    // A DOS end-of-file mark after the last record changes nothing.
    let mut data = std::fs::read(dir.path().join("TAXPAYER.DAT")).unwrap();
    data.push(0x1A);
    std::fs::write(dir.path().join("TAXPAYER.DAT"), &data).unwrap();

    let p = pipeline(dir.path());
    let rows = call(&p, "list_taxpayer_rec", json!({})).await.unwrap();
    let rows = rows["rows"].as_array().unwrap().clone();
    assert_eq!(rows.len(), shown.len(), "{rows:?}");
    for (row, cobol) in rows.iter().zip(&shown) {
        assert_eq!(row["taxpayer_id"], cobol["id"].as_str());
        assert_eq!(row["taxpayer_type"], cobol["type"].as_str());
        match cobol.get("str") {
            Some(s) => {
                assert_eq!(row["taxpayer_str"], s.trim());
                assert_eq!(row["taxpayer_num"], Value::Null, "the other layout is null");
            }
            None => {
                assert!(same_number(&row["taxpayer_num"], &cobol["num"]), "{row}");
                assert_eq!(row["taxpayer_str"], Value::Null);
            }
        }
        for (ours, theirs) in [
            ("balance", "balance"),
            ("visits", "visits"),
            ("rating", "rating"),
            ("adjust", "adjust"),
            ("credit", "credit"),
        ] {
            assert!(
                same_number(&row[ours], &cobol[theirs]),
                "{ours}: {} vs COBOL {}",
                row[ours],
                cobol[theirs]
            );
        }
        assert_eq!(row["name"], cobol["name"].trim_end());
    }

    // Three bytes too many: not whole records; the importer says so and by how much.
    data.extend_from_slice(b"XYZ");
    std::fs::write(dir.path().join("BAD.DAT"), &data).unwrap();
    let out = import("BAD.DAT");
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("the file is 110 bytes, not a whole number of the copybook's 53-byte records (2 and 4 bytes over)"),
        "{e}"
    );
}

/// `when` mistakes are `check` errors at their line: a field that is not there, a key that is
/// conditional, and two layouts over the same bytes chosen by nothing.
#[test]
fn when_mistakes_are_refused_at_their_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("FILE.DAT"), b"").unwrap();
    let yaml = r#"sources:
  files:
    kind: flatfile
    directory: .
    tables:
      t:
        file: FILE.DAT
        format: fixed_width
        key: [a]
        fields:
          kind: {start: 1, length: 1}
          a: {start: 2, length: 4, when: {kind: S}}
          b: {start: 2, length: 4, type: integer, when: {knid: N}}
          c: {start: 2, length: 2}
tools:
  all:
    description: Every record.
    source: files
    table: t
"#;
    std::fs::write(dir.path().join("m.yaml"), yaml).unwrap();
    let problems: Vec<String> = match legacy_mcp::catalog::load(dir.path()) {
        Ok(_) => panic!("the mapping must be refused"),
        Err(p) => p.iter().map(|x| x.to_string()).collect(),
    };
    let all = problems.join("\n");
    for want in [
        "m.yaml:13:57: `when` names `knid`, which is not one of this table's fields",
        "key field `a` is read only `when` another field has a value",
        "field `c` (bytes 2..3) overlaps field `a` (bytes 2..5)",
    ] {
        assert!(all.contains(want), "missing {want:?} in:\n{all}");
    }
}

/// A multi-segment file: each company record is followed by its contact records. The company
/// table declares `children: [contact]`: every company comes back with its contacts nested,
/// read in a scan, a filter, and a jump through the key index alike; a company without contacts
/// has an empty list; a contact before any company is an error, never dropped or given to the
/// wrong company.
#[tokio::test]
async fn a_root_segment_comes_back_with_its_children_nested() {
    let dir = tempfile::tempdir().unwrap();
    let data = "C0001Acme GmbH \nPJane Doe  0301\nPMax Mayer 0302\nC0002Jones Co  \nC0003Brick Ltd \nPAnn Lee   0441\n";
    std::fs::write(dir.path().join("CRM.DAT"), data).unwrap();
    let yaml = r#"sources:
  crm:
    kind: flatfile
    directory: .
    tables:
      company:
        file: CRM.DAT
        format: fixed_width
        record_type: {start: 1, length: 1, value: C}
        key: [number]
        children: [contact]
        fields:
          number: {start: 2, length: 4}
          name: {start: 6, length: 10}
      contact:
        file: CRM.DAT
        format: fixed_width
        record_type: {start: 1, length: 1, value: P}
        fields:
          name: {start: 2, length: 10}
          phone: {start: 12, length: 4, type: integer}
tools:
  companies:
    description: Every company with its contacts.
    source: crm
    table: company
    parameters:
      prefix: {type: string, required: false}
    where:
      name: {starts_with: prefix}
  company:
    description: One company by number, with its contacts.
    source: crm
    table: company
    parameters:
      number: {type: string}
    where:
      number: number
    result: {one: true}
"#;
    std::fs::write(dir.path().join("m.yaml"), yaml).unwrap();
    let p = pipeline(dir.path());
    let all = call(&p, "companies", json!({})).await.unwrap();
    assert_eq!(
        all["rows"],
        json!([
            {"number": "0001", "name": "Acme GmbH", "contact": [
                {"name": "Jane Doe", "phone": 301}, {"name": "Max Mayer", "phone": 302}]},
            {"number": "0002", "name": "Jones Co", "contact": []},
            {"number": "0003", "name": "Brick Ltd", "contact": [{"name": "Ann Lee", "phone": 441}]}
        ])
    );
    let some = call(&p, "companies", json!({"prefix": "Bri"}))
        .await
        .unwrap();
    assert_eq!(some["rows"], json!([all["rows"][2]]));
    for (no, i) in [("0001", 0), ("0002", 1), ("0003", 2)] {
        let one = call(&p, "company", json!({"number": no})).await.unwrap();
        assert_eq!(one, all["rows"][i], "{no}");
    }
    // The output schema tells agents the contacts are an array of objects.
    let schema = Value::Object(p.catalog().tools["company"].output_schema.clone());
    assert_eq!(
        schema["properties"]["contact"]["items"]["properties"]["phone"]["type"],
        json!(["integer", "null"]),
        "{schema}"
    );

    // A contact before the first company belongs to nobody: said, not dropped.
    std::fs::write(
        dir.path().join("CRM.DAT"),
        format!("PLost One  0999\n{data}"),
    )
    .unwrap();
    let p = pipeline(dir.path());
    assert_eq!(
        error(&p, "companies", json!({})).await,
        "`CRM.DAT` record 1 (byte offset 0): a `contact` record before any `company` record: a child segment belongs to the root before it, and this one has none"
    );
}
