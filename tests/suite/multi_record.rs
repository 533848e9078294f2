//! Multi-record exports end to end: the AS/400 invoice batch (a header, invoices, invoice lines
//! and a trailer with control totals in one EBCDIC file) read through the example mapping;
//! damaged batches refused with the reason; `when_incomplete: last_complete` answering from
//! the last verified version with a notice, over MCP too; the copybook importer telling record
//! types apart by their level-88 codes.

use crate::support;

use std::path::Path;

use legacy_mcp::pipeline::{CallError, Pipeline};
use serde_json::{Value, json};
use support::{call, pipeline};

const RECORD: usize = 50;

fn batch() -> Vec<u8> {
    std::fs::read(support::root().join("fixtures/legacy/as400/INVOICES.DAT")).unwrap()
}

/// The example's invoice mapping over `data` (as INVOICES.DAT) in a fresh directory;
/// `extra` goes into the `invoices` table (e.g. `when_incomplete: last_complete`).
fn batch_mapping(data: &[u8], extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("INVOICES.DAT"), data).unwrap();
    let yaml = std::fs::read_to_string(
        support::root().join("mappings/examples/as400-ebcdic/invoices.yaml"),
    )
    .unwrap()
    .replace(
        "directory: ../../../fixtures/legacy/as400",
        &format!("directory: {}", dir.path().display()),
    )
    .replace(
        "        header_record:",
        &format!("{extra}\n        header_record:"),
    );
    std::fs::write(dir.path().join("invoices.yaml"), yaml).unwrap();
    dir
}

async fn error(p: &Pipeline, tool: &str, args: Value) -> String {
    match call(p, tool, args).await {
        Err(CallError::Caller(m)) => m,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// `get_invoice` through the pipeline, with its notice.
async fn get_invoice(p: &Pipeline, no: &str) -> legacy_mcp::pipeline::ToolOutput {
    support::call_output(p, "get_invoice", json!({"invoice_no": no}))
        .await
        .unwrap()
}

/// Replace the export the way an ERP does: a new file under the same name.
fn replace(dir: &Path, data: &[u8]) {
    let tmp = dir.join("INVOICES.DAT.tmp");
    std::fs::write(&tmp, data).unwrap();
    std::fs::rename(tmp, dir.join("INVOICES.DAT")).unwrap();
}

#[tokio::test]
async fn a_batch_with_header_trailer_and_two_record_types() {
    let p = pipeline(&support::root().join("mappings/examples/as400-ebcdic"));
    let invoice = call(&p, "get_invoice", json!({"invoice_no": "00070001"}))
        .await
        .unwrap();
    assert_eq!(
        invoice,
        json!({"invoice_no": "00070001", "customer": "MÜLLER GMBH", "invoice_date": "2026-01-01", "total": "1599.80"})
    );
    let lines = call(&p, "invoice_lines", json!({"invoice_no": "00070001"}))
        .await
        .unwrap();
    assert_eq!(
        lines["rows"],
        json!([
            {"invoice_no": "00070001", "line_no": 1, "item": "BIKE-RED", "quantity": 1, "amount": "1299.90"},
            {"invoice_no": "00070001", "line_no": 2, "item": "HELMET", "quantity": 3, "amount": "299.90"}
        ])
    );
    // An invoice without lines: its table has none, the other table still has the invoice.
    let none = call(&p, "invoice_lines", json!({"invoice_no": "00070003"}))
        .await
        .unwrap();
    assert_eq!(none["count"], 0);
    let refund = call(&p, "get_invoice", json!({"invoice_no": "00070002"}))
        .await
        .unwrap();
    assert_eq!(refund["total"], "-49.95");
}

#[tokio::test]
async fn an_incomplete_batch_is_refused_with_the_reason_by_every_table() {
    let tail = "; nothing from this version is returned (ask for the export to be re-run, or try again once it is rewritten)";
    let corrupt = |name: &str| {
        std::fs::read(support::root().join("fixtures/legacy/corrupt").join(name)).unwrap()
    };

    // A record missing: the trailer's count says 6, the file holds 5.
    let d = batch_mapping(&corrupt("INVOICES_WRONG_COUNT.DAT"), "");
    let p = pipeline(d.path());
    let wrong_count = format!(
        "export file `INVOICES.DAT` is incomplete: its trailer's `record_count` says 6 but the file holds 5 data records{tail}"
    );
    assert_eq!(
        error(&p, "get_invoice", json!({"invoice_no": "00070001"})).await,
        wrong_count
    );
    // The lines table declares no trailer itself; the file's trailer still guards it.
    assert_eq!(
        error(&p, "invoice_lines", json!({"invoice_no": "00070001"})).await,
        wrong_count
    );

    // Cut off before the trailer.
    let d = batch_mapping(&corrupt("INVOICES_NO_TRAILER.DAT"), "");
    let p = pipeline(d.path());
    assert_eq!(
        error(&p, "invoice_lines", json!({"invoice_no": "00070001"})).await,
        format!(
            "export file `INVOICES.DAT` is incomplete: it has no trailer record (`TR` at bytes 1-2) after its 7 records: the export was cut off or is still being written{tail}"
        )
    );

    // The trailer's total off by one cent.
    let mut data = batch();
    let last = data.len() - RECORD + 17;
    data[last] += 0x10;
    let d = batch_mapping(&data, "");
    let p = pipeline(d.path());
    assert_eq!(
        error(&p, "get_invoice", json!({"invoice_no": "00070001"})).await,
        format!(
            "export file `INVOICES.DAT` is incomplete: its trailer's `total` says 1549.86 but `total` of its 3 records sums to 1549.85{tail}"
        )
    );

    // No header.
    let d = batch_mapping(&batch()[RECORD..], "");
    let p = pipeline(d.path());
    assert_eq!(
        error(&p, "get_invoice", json!({"invoice_no": "00070001"})).await,
        format!(
            "export file `INVOICES.DAT` is incomplete: it does not start with its header record (`HD` at bytes 1-2){tail}"
        )
    );
}

#[tokio::test]
async fn a_record_of_an_undeclared_type_names_its_bytes() {
    let mut data = batch();
    // Record 3 (an invoice line) becomes type `XX` (0xE7 in cp037).
    data[2 * RECORD] = 0xE7;
    data[2 * RECORD + 1] = 0xE7;
    let d = batch_mapping(&data, "");
    let p = pipeline(d.path());
    assert_eq!(
        error(&p, "get_invoice", json!({"invoice_no": "00070001"})).await,
        "`INVOICES.DAT` record 3 (byte offset 100): record type `XX` (bytes 1-2) is not one the mapping declares (`IH`, `IL`, `HD`, `TR`); give it a table with `record_type`, list it under `other_record_types`, or check `record_type.start`"
    );
    // Declared as skipped on purpose, it is skipped; the count still includes it.
    let d = batch_mapping(&data, "        other_record_types: [XX]");
    let p = pipeline(d.path());
    let lines = call(&p, "invoice_lines", json!({"invoice_no": "00070001"}))
        .await
        .unwrap();
    assert_eq!(lines["rows"][0]["item"], "HELMET");
}

#[tokio::test]
async fn last_complete_answers_from_the_verified_version_with_a_notice() {
    let d = batch_mapping(&batch(), "        when_incomplete: last_complete");
    let p = pipeline(d.path());
    let fresh = get_invoice(&p, "00070002").await;
    assert_eq!(fresh.notice, None);

    // Tonight's batch arrives short: invoices still answer, from last night's copy, and say so.
    let short =
        std::fs::read(support::root().join("fixtures/legacy/corrupt/INVOICES_WRONG_COUNT.DAT"))
            .unwrap();
    replace(d.path(), &short);
    let stale = get_invoice(&p, "00070002").await;
    assert_eq!(stale.structured, fresh.structured);
    let notice = stale.notice.expect("a notice");
    assert!(
        notice.starts_with("answered from the last complete version of `INVOICES.DAT` (modified "),
        "{notice}"
    );
    assert!(
        notice.ends_with("because the current file cannot be used: export file `INVOICES.DAT` is incomplete: its trailer's `record_count` says 6 but the file holds 5 data records; nothing from this version is returned (ask for the export to be re-run, or try again once it is rewritten)"),
        "{notice}"
    );
    // The lines table keeps the default (`fail`): it refuses rather than guess.
    assert!(
        error(&p, "invoice_lines", json!({"invoice_no": "00070002"}))
            .await
            .contains("is incomplete")
    );

    // The file gone altogether: still the last complete version.
    std::fs::remove_file(d.path().join("INVOICES.DAT")).unwrap();
    let gone = get_invoice(&p, "00070001").await;
    assert!(gone.notice.unwrap().contains("does not exist"));

    // A complete batch again: fresh answers, no notice.
    let mut next = batch();
    next[RECORD + 10..RECORD + 13].copy_from_slice(&[0xD5, 0xC5, 0xE6]); // "NEW" in cp037
    replace(d.path(), &next);
    let back = get_invoice(&p, "00070001").await;
    assert_eq!(back.notice, None);
    assert_eq!(back.structured["customer"], "NEWLER GMBH");
}

#[tokio::test]
async fn without_a_complete_version_last_complete_is_an_error() {
    let short =
        std::fs::read(support::root().join("fixtures/legacy/corrupt/INVOICES_NO_TRAILER.DAT"))
            .unwrap();
    let d = batch_mapping(&short, "        when_incomplete: last_complete");
    let p = pipeline(d.path());
    assert!(
        error(&p, "get_invoice", json!({"invoice_no": "00070001"}))
            .await
            .contains("has no trailer record")
    );
}

#[tokio::test]
async fn an_agent_sees_the_notice_in_the_text_and_in_meta() {
    let d = batch_mapping(&batch(), "        when_incomplete: last_complete");
    let client = support::stdio_client(d.path(), &[]).await;
    let ask = || {
        client.call_tool(
            rmcp::model::CallToolRequestParams::new("get_invoice")
                .with_arguments(support::args(json!({"invoice_no": "00070003"}))),
        )
    };
    let first = ask().await.unwrap();
    assert_eq!(first.content.len(), 1);
    assert!(first.meta.is_none());

    replace(d.path(), &batch()[..batch().len() - RECORD]);
    let stale = ask().await.unwrap();
    assert_eq!(stale.structured_content, first.structured_content);
    let meta = serde_json::to_value(stale.meta.expect("_meta")).unwrap();
    let notice = meta["legacy-mcp/notice"].as_str().unwrap().to_string();
    assert!(notice.contains("has no trailer record"), "{notice}");
    let text = serde_json::to_value(&stale.content[1]).unwrap();
    assert_eq!(text["text"], format!("Notice: {notice}"));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_copybook_with_record_type_codes_becomes_tables_over_one_file() {
    let out = std::process::Command::new(support::bin())
        .args([
            "import-copybook",
            "--encoding",
            "cp037",
            "--framing",
            "fixed",
            "--file",
            "INVOICES.DAT",
            "--source",
            "as400",
        ])
        .arg(support::root().join("fixtures/legacy/as400/INVOICES.cpy"))
        .output()
        .unwrap();
    let yaml = support::succeeded(out);
    assert!(
        yaml.contains("record_type: {start: 1, length: 2, value: \"IL\"}"),
        "{yaml}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("INVOICES.DAT"), batch()).unwrap();
    std::fs::write(dir.path().join("invoices.yaml"), yaml).unwrap();
    let p = pipeline(dir.path());
    let lines = call(&p, "list_line_rec", json!({})).await.unwrap();
    assert_eq!(lines["count"], 3);
    assert_eq!(
        lines["rows"][2],
        json!({"il_type": "IL", "il_invoice": "00070002", "il_line": 1, "il_item": "PUMP", "il_quantity": -1, "il_amount": "-49.95"})
    );
    let trailer = call(&p, "list_trailer_rec", json!({})).await.unwrap();
    assert_eq!(
        trailer["rows"][0],
        json!({"tr_type": "TR", "tr_count": 6, "tr_total": "1549.85"})
    );
}
