//! The flat-file backend through the real pipeline on real files: broken, missing, changing and
//! hostile exports give precise tool errors and never partial data; indexes follow the file.

use std::path::Path;
use std::sync::Arc;

use legacy_mcp::catalog;
use legacy_mcp::pipeline::{CallError, Pipeline};
use serde_json::{Value, json};

const FIXED: &str = r#"
sources:
  exports:
    kind: flatfile
    directory: data
    tables:
      items:
        file: ITEMS.TXT
        format: fixed_width
        encoding: windows-1252
        key: [item_no]
        fields:
          item_no: { start: 1, length: 6 }
          name:    { start: 7, length: 10 }
          price:   { start: 17, length: 8, type: decimal, scale: 2 }
tools:
  get_item:
    description: One item.
    parameters: { item_no: { type: string } }
    source: exports
    table: items
    where: { item_no: item_no }
    result: { one: true }
  items_from:
    description: Items from a number on.
    parameters: { from: { type: string } }
    source: exports
    table: items
    where: { item_no: { min: from } }
    order_by: [item_no]
    limit: 2
  small_pages:
    description: Every item, in results of at most 200 bytes.
    source: exports
    table: items
    max_result_size: 200B
  by_name:
    description: Items by name prefix (not indexed).
    parameters: { prefix: { type: string } }
    source: exports
    table: items
    where: { name: { starts_with: prefix } }
"#;

fn setup(mapping: &str, files: &[(&str, &[u8])]) -> (tempfile::TempDir, Pipeline) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("m.yaml"), mapping).unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.path().join("data").join(name), bytes).unwrap();
    }
    let cat = catalog::load(dir.path()).unwrap_or_else(|p| panic!("{p:?}"));
    (dir, Pipeline::new(Arc::new(cat)))
}

async fn call(p: &Pipeline, tool: &str, args: Value) -> Result<Value, CallError> {
    p.call_tool(
        &legacy_mcp::auth::Principal::local(),
        tool,
        args.as_object().unwrap().clone(),
    )
    .await
    .map(|o| o.structured)
}

fn caller(r: Result<Value, CallError>) -> String {
    match r {
        Err(CallError::Caller(m)) => m,
        other => panic!("expected a tool error, got {other:?}"),
    }
}

fn record(no: &str, name: &str, cents: u32) -> String {
    format!("{no:<6}{name:<10}{cents:08}\r\n")
}

fn items(n: u32) -> Vec<u8> {
    (0..n)
        .map(|i| record(&format!("A{i:05}"), &format!("Teil {i}"), i * 10))
        .collect::<String>()
        .into_bytes()
}

#[tokio::test]
async fn key_lookups_and_ranges_agree_with_a_full_scan() {
    let (_d, p) = setup(FIXED, &[("ITEMS.TXT", &items(3000))]);
    let got = call(&p, "get_item", json!({"item_no": "A01234"}))
        .await
        .unwrap();
    assert_eq!(
        got,
        json!({"item_no": "A01234", "name": "Teil 1234", "price": "123.40"})
    );
    let page = call(&p, "items_from", json!({"from": "A02998"}))
        .await
        .unwrap();
    assert_eq!(page["rows"].as_array().unwrap().len(), 2);
    assert_eq!(page["truncated"], false);
    // The same rows found through the index (item_no) and by scanning (name).
    let scanned = call(&p, "by_name", json!({"prefix": "Teil 2999"}))
        .await
        .unwrap();
    assert_eq!(scanned["rows"][0]["item_no"], "A02999");
    assert_eq!(
        caller(call(&p, "get_item", json!({"item_no": "Z"})).await),
        "not found: no record in `items` matches item_no = \"Z\""
    );
}

#[tokio::test]
async fn results_are_cut_at_max_result_size_and_continue_with_the_cursor() {
    let (_d, p) = setup(FIXED, &[("ITEMS.TXT", &items(10))]);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let args = match &cursor {
            Some(c) => json!({"cursor": c}),
            None => json!({}),
        };
        let page = call(&p, "small_pages", args).await.unwrap();
        assert!(serde_json::to_string(&page["rows"]).unwrap().len() <= 200);
        seen.extend(
            page["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["item_no"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(page["truncated"], true);
                cursor = Some(c.to_string());
            }
            None => break,
        }
    }
    let expected: Vec<String> = (0..10).map(|i| format!("A{i:05}")).collect();
    assert_eq!(seen, expected, "every row exactly once, in order");
}

#[tokio::test]
async fn a_replaced_export_is_reindexed_and_old_cursors_are_refused() {
    let (d, p) = setup(FIXED, &[("ITEMS.TXT", &items(10))]);
    let first = call(&p, "items_from", json!({"from": "A00000"}))
        .await
        .unwrap();
    assert_eq!(first["truncated"], true);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    assert!(
        call(&p, "get_item", json!({"item_no": "B00001"}))
            .await
            .is_err()
    );
    // The ERP rewrites the export overnight: new size, new mtime.
    let mut next = items(10);
    next.extend(record("B00001", "Neu", 999).into_bytes());
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(d.path().join("data/ITEMS.TXT"), next).unwrap();
    let found = call(&p, "get_item", json!({"item_no": "B00001"}))
        .await
        .unwrap();
    assert_eq!(found["price"], "9.99");
    let stale = caller(
        call(
            &p,
            "items_from",
            json!({"from": "A00000", "cursor": cursor}),
        )
        .await,
    );
    assert!(
        stale.contains("the data changed since this cursor was issued"),
        "{stale}"
    );
}

#[tokio::test]
async fn a_truncated_last_record_is_an_error_not_partial_data() {
    let mut bytes = items(5);
    bytes.extend_from_slice(b"A00005Teil 5  0000");
    let (_d, p) = setup(FIXED, &[("ITEMS.TXT", &bytes)]);
    let err = caller(call(&p, "by_name", json!({"prefix": "Teil"})).await);
    assert_eq!(
        err,
        "`ITEMS.TXT` record 6 (byte offset 130): record is 18 bytes long but the layout needs 24; it is the last record and has no line end: the export is truncated or still being written"
    );
    // Key lookups build the index over the whole file, so they refuse too.
    assert!(
        call(&p, "get_item", json!({"item_no": "A00001"}))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn missing_file_and_bad_values_are_named() {
    let (d, p) = setup(FIXED, &[]);
    let err = caller(call(&p, "get_item", json!({"item_no": "A1"})).await);
    assert_eq!(
        err,
        "export file `ITEMS.TXT` does not exist (yet) in the export directory"
    );
    std::fs::write(
        d.path().join("data/ITEMS.TXT"),
        format!(
            "{}{}",
            record("A1", "ok", 5),
            "A2    bad       00x12345\r\n"
        ),
    )
    .unwrap();
    let err = caller(call(&p, "by_name", json!({"prefix": "b"})).await);
    assert_eq!(
        err,
        "`ITEMS.TXT` record 2 (byte offset 26): field `price`: `00x12345` is not a decimal"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_symlink_out_of_the_export_directory_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), items(1)).unwrap();
    let (d, p) = setup(FIXED, &[]);
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        d.path().join("data/ITEMS.TXT"),
    )
    .unwrap();
    let err = caller(call(&p, "get_item", json!({"item_no": "A00000"})).await);
    assert_eq!(
        err,
        "export file `ITEMS.TXT` resolves outside its source directory; refusing to read it"
    );
}

const CSV: &str = r#"
sources:
  exports:
    kind: flatfile
    directory: data
    stable_for: STABLE
    tables:
      people:
        file: PEOPLE.CSV
        format: csv
        delimiter: ";"
        decode_errors: DECODE
        key: [id]
        fields:
          id: { column: Id, type: integer }
          name: { column: Name }
          joined: { column: Joined, type: date, date_format: dd.mm.yyyy }
          balance: { column: Balance, type: decimal, decimal_separator: ",", group_separator: "." }
tools:
  person:
    description: One person.
    parameters: { id: { type: integer } }
    source: exports
    table: people
    where: { id: id }
    result: { one: true }
"#;

fn csv_mapping(stable: &str, decode: &str) -> String {
    CSV.replace("STABLE", stable).replace("DECODE", decode)
}

#[tokio::test]
async fn csv_types_encodings_and_short_records() {
    let data = "Id;Name;Joined;Balance\n1;Jörg;31.01.2020;1.234,50\n2;\"Semi;colon\";00.00.0000;-7,00\n3;Short\n".as_bytes();
    let (_d, p) = setup(&csv_mapping("0s", "fail"), &[("PEOPLE.CSV", data)]);
    let one = call(&p, "person", json!({"id": 1})).await.unwrap();
    assert_eq!(
        one,
        json!({"id": 1, "name": "Jörg", "joined": "2020-01-31", "balance": "1234.50"})
    );
    let two = call(&p, "person", json!({"id": "2"})).await.unwrap();
    assert_eq!(two["name"], "Semi;colon");
    assert_eq!(two["joined"], Value::Null);
    let err = caller(call(&p, "person", json!({"id": 3})).await);
    assert_eq!(
        err,
        "`PEOPLE.CSV` record ? (byte offset 83): field `joined`: record has 2 columns but the field is column 3; the record is truncated or the layout is wrong"
    );
}

#[tokio::test]
async fn invalid_utf8_fails_with_offset_or_is_replaced_on_request() {
    let data = b"Id;Name;Joined;Balance\n1;M\xfcller;01.01.2020;0\n";
    let (_d, p) = setup(&csv_mapping("0s", "fail"), &[("PEOPLE.CSV", data)]);
    let err = caller(call(&p, "person", json!({"id": 1})).await);
    assert_eq!(
        err,
        "`PEOPLE.CSV` record ? (byte offset 23): field `name`: invalid utf-8 at byte 24 (set decode_errors: replace to accept it)"
    );
    let (_d2, p2) = setup(&csv_mapping("0s", "replace"), &[("PEOPLE.CSV", data)]);
    let ok = call(&p2, "person", json!({"id": 1})).await.unwrap();
    assert_eq!(ok["name"], "M\u{fffd}ller");
}

#[tokio::test]
async fn a_file_still_being_written_is_not_read() {
    let data = b"Id;Name;Joined;Balance\n1;A;01.01.2020;0\n";
    let (_d, p) = setup(&csv_mapping("1h", "fail"), &[("PEOPLE.CSV", data)]);
    let err = caller(call(&p, "person", json!({"id": 1})).await);
    assert!(
        err.starts_with("export file `PEOPLE.CSV` was modified"),
        "{err}"
    );
    assert!(
        err.ends_with("may still be being written; try again in a few seconds"),
        "{err}"
    );
}

#[tokio::test]
async fn a_header_without_a_declared_column_is_named() {
    let data = b"Id;Nom;Joined;Balance\n1;A;01.01.2020;0\n";
    let (_d, p) = setup(&csv_mapping("0s", "fail"), &[("PEOPLE.CSV", data)]);
    let err = caller(call(&p, "person", json!({"id": 1})).await);
    assert_eq!(
        err,
        "`PEOPLE.CSV`: the header has no column `Name` (for field `name`); it has: Id, Nom, Joined, Balance"
    );
}

#[test]
fn mapping_paths_resolve_relative_to_the_mapping_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("m/sub")).unwrap();
    std::fs::write(
        dir.path().join("m/sub/x.yaml"),
        FIXED.replace("directory: data", "directory: ../../data"),
    )
    .unwrap();
    assert!(catalog::load(&dir.path().join("m/sub")).is_ok());
    assert!(Path::new(&dir.path().join("m/sub/x.yaml")).exists());
}
