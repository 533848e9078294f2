//! `kind: mssql` end to end against a TDS TEST DOUBLE (tests/suite/support/tds.rs).
//!
//! No SQL Server can run on the machines these tests run on. The double is a real TDS server
//! on 127.0.0.1 that the adapter's real client (tiberius) connects to with encryption off; it
//! executes no SQL: each test's handler decides the answer from the statement and the bound
//! parameters, the way the named SQL Server tables would answer. What these tests prove is
//! the adapter's side: what it sends (statement, typed parameters, login, intent), how it
//! reads every type, and what its pool does with errors, timeouts, cancels and dropped
//! connections.

use crate::support::tds;

use crate::support;

use support::{call, pipeline};

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use legacy_mcp::pipeline::{CallError, Pipeline};
use serde_json::{Value, json};
use tds::{Col, ColType, Reply, Request, TdsDouble, Val, col};

const USER: &str = "mcp_reader";
const PASSWORD: &str = "N4v-S3cret!";

async fn fails(p: &Pipeline, tool: &str, args: Value) -> String {
    match call(p, tool, args).await {
        Err(CallError::Caller(m)) => m,
        other => panic!("expected a tool error, got {other:?}"),
    }
}

fn dt(y: i32, m: u32, d: u32) -> chrono::NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
}

fn s(t: &str) -> Val {
    Val::Str(t.into())
}

/// A decimal(38,20) value from its text.
fn dec(t: &str) -> Val {
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let frac = format!("{frac:0<20}");
    Val::Dec {
        value: format!("{int}{frac}").parse().unwrap(),
        scale: 20,
    }
}

// ---------------------------------------------------------------------------------------------
// A NAV company as the double serves it: the tables the example mapping reads.

const COMPANY: &str = "CRONUS International Ltd_";

fn nav_customers() -> (Vec<Col>, Vec<Vec<Val>>) {
    let cols = vec![
        col("No_", ColType::NVarChar(20)),
        col("Name", ColType::NVarChar(50)),
        col("City", ColType::NVarChar(30)),
        col("Country_Region Code", ColType::NVarChar(10)),
        col(
            "Credit Limit (LCY)",
            ColType::Decimal {
                precision: 38,
                scale: 20,
            },
        ),
        col("Blocked", ColType::Int),
        col("Last Date Modified", ColType::DateTime),
    ];
    let rows = vec![
        vec![
            s("10000"),
            s("Möbel-Meier & Söhne"),
            s("München"),
            s("DE"),
            dec("123456789012345678.12345678901234567890"),
            Val::Int(0),
            Val::DateTime(dt(2018, 3, 14)),
        ],
        vec![
            s("20000"),
            s("O'Brien Ltd."),
            s("Dublin"),
            s("IE"),
            dec("0"),
            Val::Int(3),
            // NAV's "no date".
            Val::DateTime(dt(1753, 1, 1)),
        ],
    ];
    (cols, rows)
}

fn nav_items() -> (Vec<Col>, Vec<Vec<Val>>) {
    let cols = vec![
        col("No_", ColType::NVarChar(20)),
        col("Description", ColType::NVarChar(50)),
        col("Base Unit of Measure", ColType::NVarChar(10)),
        col(
            "Unit Price",
            ColType::Decimal {
                precision: 38,
                scale: 20,
            },
        ),
        col("Blocked", ColType::Bit),
    ];
    let rows = (1..=120)
        .map(|i| {
            vec![
                s(&format!("{:04}", 1000 + i)),
                s(&format!("Bicycle part {i}")),
                s("PCS"),
                dec(&format!("{i}.5")),
                Val::Bit(i % 10 == 0),
            ]
        })
        .collect();
    (cols, rows)
}

fn nav_ledger() -> (Vec<Col>, Vec<Vec<Val>>) {
    let cols = vec![
        col("Entry No_", ColType::Int),
        col("Customer No_", ColType::NVarChar(20)),
        col("Posting Date", ColType::DateTime),
        col("Document Type", ColType::Int),
        col("Document No_", ColType::NVarChar(20)),
        col("Description", ColType::NVarChar(50)),
        col("Open", ColType::Bit),
        col("Due Date", ColType::DateTime),
    ];
    let rows = (1..=7)
        .map(|i| {
            vec![
                Val::Int(i),
                s(if i <= 5 { "10000" } else { "20000" }),
                Val::DateTime(dt(2018, 1, i as u32)),
                Val::Int(2),
                s(&format!("INV-{i}")),
                s(&format!("Invoice {i}")),
                Val::Bit(i % 2 == 1),
                Val::DateTime(if i == 3 {
                    dt(1753, 1, 1)
                } else {
                    dt(2018, 2, i as u32)
                }),
            ]
        })
        .collect();
    (cols, rows)
}

/// What SQL Server would answer to the example mapping's statements over these tables:
/// equality and prefix filters from the bound parameters, the keyset wrapper's "after" and
/// order. Anything else is error 208, as for an unknown table.
fn nav_handler(req: &Request) -> Reply {
    let sql = &req.sql;
    if sql.contains("INFORMATION_SCHEMA") {
        return nav_catalogue(req);
    }
    let table = |name: &str| sql.contains(&format!("[{COMPANY}${name}]"));
    let keyset = sql.contains(") legacy_mcp_q WHERE");
    let (columns, rows) = if table("Customer") {
        let (c, r) = nav_customers();
        let no = req.param(1).text();
        (c, r.into_iter().filter(|r| r[0].text() == no).collect())
    } else if table("Item") {
        let (c, r) = nav_items();
        let prefix = req.param(1).text().trim_end_matches('%').to_string();
        let after = keyset.then(|| req.param(2).text());
        let rows = r
            .into_iter()
            .filter(|r| r[1].text().starts_with(&prefix))
            .filter(|r| after.as_ref().is_none_or(|a| r[0].text() > *a))
            .collect();
        (c, rows)
    } else if table("Cust_ Ledger Entry") {
        let (c, r) = nav_ledger();
        let customer = req.param(1).text();
        let only_open = req.param(2).clone();
        let after = keyset.then(|| match req.param(4) {
            Val::BigInt(i) => *i as i32,
            other => panic!("keyset value {other:?}"),
        });
        let rows = r
            .into_iter()
            .filter(|r| r[1].text() == customer)
            .filter(|r| only_open == Val::Null || r[6] == only_open)
            .filter(|r| after.is_none_or(|a| matches!(r[0], Val::Int(n) if n > a)))
            .collect();
        (c, rows)
    } else {
        return Reply::Error {
            number: 208,
            class: 16,
            message: "Invalid object name 'CRONUS UK Ltd_$Customer'.".into(),
        };
    };
    Reply::Rows { columns, rows }
}

/// INFORMATION_SCHEMA for the customer table, for `introspect`: its columns, and `No_` as the
/// primary key.
fn nav_catalogue(req: &Request) -> Reply {
    let found = req.param(1) == &s("dbo") && req.param(2) == &s(&format!("{COMPANY}$Customer"));
    let name = |n: &str| col(n, ColType::NVarChar(128));
    if req.sql.contains("TABLE_CONSTRAINTS") {
        let rows = if found { vec![vec![s("No_")]] } else { vec![] };
        return Reply::Rows {
            columns: vec![name("COLUMN_NAME")],
            rows,
        };
    }
    let int = |v: Option<i32>| v.map_or(Val::Null, Val::Int);
    let described = [
        ("No_", "nvarchar", Some(20), None, None),
        ("Name", "nvarchar", Some(50), None, None),
        ("City", "nvarchar", Some(30), None, None),
        ("Country_Region Code", "nvarchar", Some(10), None, None),
        ("Credit Limit (LCY)", "decimal", None, Some(38), Some(20)),
        ("Blocked", "int", None, Some(10), Some(0)),
        ("Last Date Modified", "datetime", None, None, None),
    ];
    let rows = if found {
        described
            .iter()
            .map(|(n, t, len, p, sc)| vec![s(n), s(t), int(*len), int(*p), int(*sc)])
            .collect()
    } else {
        vec![]
    };
    Reply::Rows {
        columns: vec![
            name("COLUMN_NAME"),
            name("DATA_TYPE"),
            col("CHARACTER_MAXIMUM_LENGTH", ColType::Int),
            col("NUMERIC_PRECISION", ColType::Int),
            col("NUMERIC_SCALE", ColType::Int),
        ],
        rows,
    }
}

/// The example NAV mapping, pointed at the double (TLS off: the double has none) and with the
/// password read from a file in the mapping directory.
fn nav_mapping(d: &TdsDouble, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text =
        std::fs::read_to_string(support::root().join("mappings/examples/nav-sqlserver/nav.yaml"))
            .unwrap()
            .replace("host: navsql01", "host: 127.0.0.1")
            .replace("port: 1433", &format!("port: {}", d.port))
            .replace("${env:NAV_SQL_PASSWORD}", "${file:nav.secret}")
            .replace("encryption: required", "encryption: off")
            .replace("    trust_server_certificate: true\n", "")
            .replace("    pool_size: 4\n", &format!("    pool_size: 4\n{extra}"));
    std::fs::write(dir.path().join("nav.yaml"), text).unwrap();
    std::fs::write(dir.path().join("nav.secret"), PASSWORD).unwrap();
    dir
}

async fn nav_double() -> TdsDouble {
    TdsDouble::start(&[(USER, PASSWORD)], "NAVDEMO", nav_handler).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_nav_example_answers_with_exact_typed_values() {
    let d = nav_double().await;
    let dir = nav_mapping(&d, "");
    let p = pipeline(dir.path());

    let c = call(
        &p,
        "nav_customer",
        json!({"company": COMPANY, "customer_no": "10000"}),
    )
    .await
    .unwrap();
    assert_eq!(
        c,
        json!({
            "customer_no": "10000",
            "name": "Möbel-Meier & Söhne",
            "city": "München",
            "country": "DE",
            "credit_limit": "123456789012345678.12345678901234567890",
            "blocked": 0,
            "last_modified": "2018-03-14"
        })
    );
    // NAV's blank date reads as null.
    let c = call(
        &p,
        "nav_customer",
        json!({"company": COMPANY, "customer_no": "20000"}),
    )
    .await
    .unwrap();
    assert_eq!(c["last_modified"], Value::Null);
    assert_eq!(c["credit_limit"], "0.00000000000000000000");

    // What went over the wire: a read-only login named for the adapter, the company quoted as
    // an identifier, the customer number as a typed parameter.
    {
        let log = d.log();
        let login = &log.logins[0];
        assert_eq!(
            (
                login.user.as_str(),
                login.password.as_str(),
                login.database.as_str()
            ),
            (USER, PASSWORD, "NAV")
        );
        assert!(login.read_only, "application intent read-only");
        assert_eq!(login.app_name, "legacy-mcp");
        let req = &log.requests[0];
        assert!(req.rpc, "sent as sp_executesql");
        assert!(
            req.sql
                .contains("FROM [CRONUS International Ltd_$Customer]")
        );
        assert!(req.sql.contains("WHERE [No_] = @P1"), "{}", req.sql);
        // The customer number, then the row cap: a `one: true` tool asks for a page of two (to
        // tell "exactly one" from "more than one") and one row more.
        assert_eq!(req.declared, "@P1 nvarchar(4000),@P2 int");
        assert_eq!(
            req.params,
            vec![
                ("@P1".to_string(), s("10000")),
                ("@P2".to_string(), Val::Int(3))
            ]
        );
        // One connection served both calls.
        assert_eq!(log.connections, 1);
    }

    // A company outside the allow-list never reaches the server.
    let m = fails(
        &p,
        "nav_customer",
        json!({"company": "x]; DROP TABLE t; --", "customer_no": "1"}),
    )
    .await;
    assert!(m.contains("company"), "{m}");
    assert_eq!(d.log().requests.len(), 2);

    // Ledger entries: the optional flag bound as NULL when left out, as bit when given.
    let all = call(
        &p,
        "nav_customer_ledger",
        json!({"company": COMPANY, "customer_no": "10000"}),
    )
    .await
    .unwrap();
    let items = all["rows"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert_eq!(items[2]["Due Date"], Value::Null);
    assert_eq!(items[0]["Posting Date"], "2018-01-01");
    let open = call(
        &p,
        "nav_customer_ledger",
        json!({"company": COMPANY, "customer_no": "10000", "only_open": true}),
    )
    .await
    .unwrap();
    let nos: Vec<i64> = open["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["Entry No_"].as_i64().unwrap())
        .collect();
    assert_eq!(nos, vec![1, 3, 5]);
    let req = d.log().requests.last().unwrap().clone();
    assert_eq!(req.param(2), &Val::Bit(true));
    assert!(req.declared.contains("@P2 bit"), "{}", req.declared);
}

#[tokio::test(flavor = "multi_thread")]
async fn keyset_cursors_page_through_a_nav_table_reading_each_answer_to_its_end() {
    let d = nav_double().await;
    let dir = nav_mapping(&d, "");
    let p = pipeline(dir.path());
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut args = json!({"company": COMPANY, "description_prefix": "Bicycle%"});
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        let page = call(&p, "nav_items", args).await.unwrap();
        for i in page["rows"].as_array().unwrap() {
            seen.push(i["No_"].as_str().unwrap().to_string());
        }
        match page.get("next_cursor").and_then(|c| c.as_str()) {
            Some(c) => {
                assert_eq!(page["truncated"], true);
                cursor = Some(c.to_string());
            }
            None => break,
        }
    }
    let expected: Vec<String> = (1..=120).map(|i| format!("{:04}", 1000 + i)).collect();
    assert_eq!(seen, expected, "every item once, in key order");
    let log = d.log();
    // Pages of 50: the server was asked for one row more than a page, so every answer was
    // read to its end and one connection served all three pages.
    assert_eq!(log.requests[0].param(2), &Val::Int(51));
    assert_eq!(log.attentions, 0);
    assert_eq!(log.connections, 1);
    let second = &log.requests[1];
    assert!(second.sql.contains("ORDER BY [No_]"), "{}", second.sql);
    assert_eq!(second.param(2), &s("1050"));
    assert_eq!(second.param(3), &Val::Int(51));
}

// ---------------------------------------------------------------------------------------------
// A generic source for the rest.

fn source(d: &TdsDouble, extra: &str, tools: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"
{source}
tools:
  probe:
    description: One row of every type the double sends.
    source: erp
    sql: SELECT * FROM probe WHERE id = :id AND day = :day AND at < :at AND flag = :flag AND ratio < :ratio
    parameters:
      id: {{type: integer}}
      day: {{type: date}}
      at: {{type: string}}
      flag: {{type: boolean}}
      ratio: {{type: number}}
    columns:
      i: {{type: integer}}
      b: {{type: integer}}
      d: {{type: decimal}}
      n: {{type: string}}
      t: {{type: datetime}}
      old: {{type: datetime}}
      day: {{type: date}}
      f: {{type: boolean}}
      x: {{type: number}}
      bin: {{type: binary}}
      nothing: {{type: string}}
      d_as_text: {{type: string}}
      i_as_decimal: {{type: decimal}}
    result: {{one: true}}
  lookup:
    description: Customers by name.
    source: erp
    sql: SELECT no, name FROM customers WHERE name = :name
    parameters:
      name: {{type: string}}
    columns:
      no: {{type: string}}
      name: {{type: string}}
{tools}"#,
        source = d.source_yaml(
            USER,
            "${file:secret}",
            &format!("    database: ERP\n{extra}")
        )
    );
    std::fs::write(dir.path().join("m.yaml"), text).unwrap();
    std::fs::write(dir.path().join("secret"), PASSWORD).unwrap();
    dir
}

fn probe_reply() -> Reply {
    let t = NaiveDate::from_ymd_opt(2026, 11, 20)
        .unwrap()
        .and_hms_nano_opt(14, 30, 5, 123_456_700)
        .unwrap();
    Reply::Rows {
        columns: vec![
            col("i", ColType::Int),
            col("b", ColType::BigInt),
            col(
                "d",
                ColType::Decimal {
                    precision: 38,
                    scale: 20,
                },
            ),
            col("n", ColType::NVarChar(40)),
            col("t", ColType::DateTime2 { scale: 7 }),
            col("old", ColType::DateTime),
            col("day", ColType::Date),
            col("f", ColType::Bit),
            col("x", ColType::Float),
            col("bin", ColType::VarBinary(16)),
            col("nothing", ColType::NVarChar(10)),
            col(
                "d_as_text",
                ColType::Decimal {
                    precision: 10,
                    scale: 2,
                },
            ),
            col("i_as_decimal", ColType::Int),
        ],
        rows: vec![vec![
            Val::Int(-2_147_483_648),
            Val::BigInt(9_007_199_254_740_993),
            dec("-98765432109876543.21098765432109876543"),
            s("Zoë ＆ 東京   "),
            Val::DateTime2(t),
            Val::DateTime(dt(1999, 12, 31) + chrono::Duration::milliseconds(86_399_997)),
            Val::Date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()),
            Val::Bit(true),
            Val::Float(0.1),
            Val::Bytes(vec![0, 1, 2, 254, 255]),
            Val::Null,
            Val::Dec {
                value: -1050,
                scale: 2,
            },
            Val::Int(42),
        ]],
    }
}

fn generic_handler(req: &Request) -> Reply {
    if req.sql.contains("FROM probe") {
        return probe_reply();
    }
    if req.sql.contains("FROM customers") {
        return Reply::Rows {
            columns: vec![
                col("no", ColType::NVarChar(20)),
                col("name", ColType::NVarChar(50)),
            ],
            rows: vec![vec![s("C1"), req.param(1).clone()]],
        };
    }
    if req.sql.contains("FROM slow") {
        return Reply::Slow(
            Duration::from_secs(3),
            Box::new(Reply::Rows {
                columns: vec![col("one", ColType::Int)],
                rows: vec![vec![Val::Int(1)]],
            }),
        );
    }
    if req.sql.contains("FROM missing") {
        return Reply::Error {
            number: 208,
            class: 16,
            message: "Invalid object name 'missing'.".into(),
        };
    }
    if req.sql.contains("FROM contended") {
        return Reply::Error {
            number: 1205,
            class: 13,
            message: "Transaction (Process ID 51) was deadlocked on lock resources with another process and has been chosen as the deadlock victim. Rerun the transaction.".into(),
        };
    }
    if req.sql.contains("FROM flaky") {
        return Reply::Drop;
    }
    if req.sql.contains("FROM wide") {
        return Reply::Rows {
            columns: vec![col("one", ColType::NVarChar(20))],
            rows: vec![vec![s("not an int")]],
        };
    }
    panic!("the test double has no answer for {}", req.sql)
}

const MORE_TOOLS: &str = r#"
  slow:
    description: Takes three seconds.
    source: erp
    sql: SELECT one FROM slow
    columns:
      one: {type: integer}
    result: {one: true}
  missing:
    description: Reads a table that is not there.
    source: erp
    sql: SELECT one FROM missing
    columns:
      one: {type: integer}
  contended:
    description: Loses a deadlock.
    source: erp
    sql: SELECT one FROM contended
    columns:
      one: {type: integer}
  flaky:
    description: The connection drops.
    source: erp
    sql: SELECT one FROM flaky
    columns:
      one: {type: integer}
"#;

async fn generic_double() -> TdsDouble {
    TdsDouble::start(&[(USER, PASSWORD)], "ERPINST", generic_handler).await
}

#[tokio::test(flavor = "multi_thread")]
async fn every_tds_type_reads_as_typed_json_and_parameters_go_typed() {
    let d = generic_double().await;
    let dir = source(&d, "", "");
    let p = pipeline(dir.path());
    let out = call(
        &p,
        "probe",
        json!({
            "id": 7,
            "day": "2026-11-20",
            "at": "2026-11-20T14:30:00",
            "flag": false,
            "ratio": 0.25
        }),
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        json!({
            "i": -2_147_483_648i64,
            "b": 9_007_199_254_740_993i64,
            "d": "-98765432109876543.21098765432109876543",
            "n": "Zoë ＆ 東京",
            "t": "2026-11-20T14:30:05.123456700",
            "old": "1999-12-31T23:59:59.997",
            "day": "2024-02-29",
            "f": true,
            "x": 0.1,
            "bin": "AAEC/v8=",
            "nothing": null,
            "d_as_text": "-10.50",
            "i_as_decimal": "42"
        })
    );
    let req = d.log().requests[0].clone();
    assert_eq!(
        req.declared,
        "@P1 bigint,@P2 date,@P3 nvarchar(4000),@P4 bit,@P5 float(53),@P6 int"
    );
    assert_eq!(req.param(1), &Val::BigInt(7));
    assert_eq!(
        req.param(2),
        &Val::Date(NaiveDate::from_ymd_opt(2026, 11, 20).unwrap())
    );
    assert_eq!(req.param(4), &Val::Bit(false));
    assert_eq!(req.param(5), &Val::Float(0.25));
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_arguments_arrive_as_inert_parameter_values() {
    let d = generic_double().await;
    let dir = source(&d, "", "");
    let p = pipeline(dir.path());
    for hostile in ["' OR 1=1 --", "1; DROP TABLE customers", "]; SHUTDOWN; --"] {
        let out = call(&p, "lookup", json!({"name": hostile})).await.unwrap();
        assert_eq!(out["rows"][0]["name"], hostile);
        let req = d.log().requests.last().unwrap().clone();
        assert_eq!(
            req.sql,
            "SET ROWCOUNT @P2;\nSELECT no, name FROM customers WHERE name = @P1\n;SET ROWCOUNT 0"
        );
        assert_eq!(req.param(1), &s(hostile));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_are_clear_and_leave_the_connection_in_service() {
    let d = generic_double().await;
    let dir = source(&d, "", MORE_TOOLS);
    let p = pipeline(dir.path());
    let m = fails(&p, "missing", json!({})).await;
    assert_eq!(
        m,
        "source `erp` answered with an error: SQL Server error 208: Invalid object name 'missing'."
    );
    let m = fails(&p, "contended", json!({})).await;
    assert!(m.contains("deadlock victim (SQL Server error 1205)"), "{m}");
    assert!(m.contains("try again"), "{m}");
    call(&p, "lookup", json!({"name": "x"})).await.unwrap();
    assert_eq!(
        d.log().connections,
        1,
        "errors below severity 20 keep the session"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_is_a_login_error_that_shows_no_secret() {
    let d = TdsDouble::start(&[(USER, "another")], "X", generic_handler).await;
    let dir = source(&d, "", "");
    let p = pipeline(dir.path());
    let m = fails(&p, "lookup", json!({"name": "x"})).await;
    assert_eq!(
        m,
        "source `erp` refused the login (SQL Server error 18456); the adapter's database credentials need attention"
    );
    assert!(!m.contains(PASSWORD));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_query_times_out_and_its_connection_is_discarded() {
    let d = generic_double().await;
    let dir = source(&d, "    query_timeout: 1s\n", MORE_TOOLS);
    let p = pipeline(dir.path());
    call(&p, "lookup", json!({"name": "warm"})).await.unwrap();
    let started = Instant::now();
    let m = fails(&p, "slow", json!({})).await;
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "timed out in time"
    );
    assert!(m.contains("timed out after 1s"), "{m}");
    call(&p, "lookup", json!({"name": "next"})).await.unwrap();
    // The timed-out connection was not reused: the next call opened a new one.
    assert_eq!(d.log().connections, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_pool_answers_busy_after_a_bounded_wait() {
    let d = generic_double().await;
    let dir = source(
        &d,
        "    pool_size: 1\n    pool_timeout: 200ms\n",
        MORE_TOOLS,
    );
    let p = pipeline(dir.path());
    let p2 = p.clone();
    let slow = tokio::spawn(async move { call(&p2, "slow", json!({})).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let m = fails(&p, "lookup", json!({"name": "x"})).await;
    assert!(m.contains("is busy: all 1 connections"), "{m}");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(slow.await.unwrap().unwrap()["one"], 1);
    call(&p, "lookup", json!({"name": "x"})).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn dropped_connections_and_restarts_cost_at_most_one_call() {
    let d = generic_double().await;
    let dir = source(&d, "    connect_timeout: 2s\n", MORE_TOOLS);
    let p = pipeline(dir.path());
    call(&p, "lookup", json!({"name": "warm"})).await.unwrap();

    // The server drops the connection mid-request: a temporary error, and the next call
    // reconnects.
    let m = fails(&p, "flaky", json!({})).await;
    assert!(m.contains("unreachable"), "{m}");
    assert!(m.contains("temporary"), "{m}");
    call(&p, "lookup", json!({"name": "again"})).await.unwrap();

    // A restart while the adapter is idle costs nothing: the pooled connection is found dead
    // on use and the read is asked again on a new one.
    d.stop();
    d.restart().await;
    let out = call(&p, "lookup", json!({"name": "after restart"}))
        .await
        .unwrap();
    assert_eq!(out["rows"][0]["name"], "after restart");

    // While the server is down, calls fail fast and say it is temporary.
    d.stop();
    let started = Instant::now();
    let m = fails(&p, "lookup", json!({"name": "down"})).await;
    assert!(m.contains("unreachable"), "{m}");
    assert!(started.elapsed() < Duration::from_secs(3));
    // It comes back: the next call connects, without restarting the adapter.
    d.restart().await;
    let out = call(&p, "lookup", json!({"name": "back"})).await.unwrap();
    assert_eq!(out["rows"][0]["name"], "back");
    let log = d.log();
    // The dropped request went out twice: on the pooled connection, then once on a new one.
    let flaky = log
        .requests
        .iter()
        .filter(|r| r.sql.contains("flaky"))
        .count();
    assert_eq!(flaky, 2);
    assert_eq!(log.connections, 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_named_instance_is_found_through_the_sql_server_browser() {
    let d = generic_double().await;
    // `port` with `instance` is the Browser's port; the double answers it on its own port
    // number over UDP.
    let dir = source(&d, "    instance: ERPINST\n", "");
    let p = pipeline(dir.path());
    call(&p, "lookup", json!({"name": "x"})).await.unwrap();
    assert_eq!(d.log().browser_lookups, vec!["ERPINST".to_string()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn required_encryption_against_a_server_without_tls_is_a_settings_error() {
    let d = generic_double().await;
    let dir = source(&d, "", "");
    let yaml = std::fs::read_to_string(dir.path().join("m.yaml"))
        .unwrap()
        .replace("    encryption: off\n", "");
    std::fs::write(dir.path().join("m.yaml"), yaml).unwrap();
    let p = pipeline(dir.path());
    let m = fails(&p, "lookup", json!({"name": "x"})).await;
    assert!(m.contains("cannot be used as configured"), "{m}");
    assert!(m.contains("encryption"), "{m}");
    assert!(d.log().logins.is_empty(), "no login without TLS");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_value_that_does_not_fit_its_column_is_a_clear_error() {
    let d = generic_double().await;
    let dir = source(
        &d,
        "",
        r#"
  wide:
    description: Declares the wrong type.
    source: erp
    sql: SELECT one FROM wide
    columns:
      one: {type: integer}
  wide_masked:
    description: The same column, masked by this tool.
    source: erp
    sql: SELECT one FROM wide
    columns:
      one: {type: integer, mask: secret}
masking:
  secret: {strategy: redact}
"#,
    );
    let p = pipeline(dir.path());
    let m = fails(&p, "wide", json!({})).await;
    assert!(m.contains("column `one`"), "{m}");
    assert!(
        m.contains("is not a integer") || m.contains("not an integer"),
        "{m}"
    );
    // Masked by the tool: the plan withholds the column, so the value is described, not quoted.
    let masked = fails(&p, "wide_masked", json!({})).await;
    assert!(masked.contains("column `one`"), "{masked}");
    assert!(masked.contains("not quoted"), "{masked}");
    assert!(!masked.contains("not an int"), "{masked}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_reads_nav_over_mcp_through_the_binary() {
    let d = nav_double().await;
    let dir = nav_mapping(&d, "");
    let yaml = std::fs::read_to_string(dir.path().join("nav.yaml"))
        .unwrap()
        .replace("${file:nav.secret}", "${env:NAV_SQL_PASSWORD}");
    std::fs::write(dir.path().join("nav.yaml"), yaml).unwrap();
    let client =
        support::stdio_client_with_env(dir.path(), &[], &[("NAV_SQL_PASSWORD", PASSWORD)]).await;
    let tools = client.list_all_tools().await.unwrap();
    let ledger = tools
        .iter()
        .find(|t| t.name == "nav_customer_ledger")
        .unwrap();
    let schema = serde_json::to_value(&ledger.input_schema).unwrap();
    assert_eq!(schema["properties"]["company"]["enum"][0], COMPANY);
    let out = client
        .call_tool(
            serde_json::from_value(json!({
                "name": "nav_customer",
                "arguments": {"company": COMPANY, "customer_no": "10000"}
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    let structured = out.structured_content.unwrap();
    assert_eq!(structured["name"], "Möbel-Meier & Söhne");
    assert_eq!(
        structured["credit_limit"],
        "123456789012345678.12345678901234567890"
    );
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn introspect_writes_a_nav_table_mapping_that_checks_and_answers() {
    let d = nav_double().await;
    let dir = nav_mapping(&d, "");
    let run = |table: &str| {
        tokio::process::Command::new(support::bin())
            .args([
                "introspect",
                "--source",
                "nav",
                "--table",
                table,
                "--mappings",
            ])
            .arg(dir.path())
            .output()
    };
    let out = run(&format!("{COMPANY}$Customer")).await.unwrap();
    let yaml = support::succeeded(out);
    assert!(
        yaml.contains("FROM [CRONUS International Ltd_$Customer] WHERE [No_] = :no"),
        "{yaml}"
    );
    assert!(
        yaml.contains("Credit Limit (LCY)\": {type: decimal"),
        "{yaml}"
    );
    assert!(
        yaml.contains("Last Date Modified\": {type: datetime"),
        "{yaml}"
    );
    std::fs::write(dir.path().join("generated.yaml"), &yaml).unwrap();
    let p = pipeline(dir.path());
    let c = call(
        &p,
        "get_cronus_international_ltd_customer",
        json!({"no": "10000"}),
    )
    .await
    .unwrap();
    assert_eq!(c["Name"], "Möbel-Meier & Söhne");
    assert_eq!(
        c["Credit Limit (LCY)"],
        "123456789012345678.12345678901234567890"
    );

    // A table that is not there: a clear error, exit status 1.
    let out = run("dbo.NoSuchTable").await.unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no table or view `NoSuchTable` in schema `dbo`"),
        "{err}"
    );
}

/// The generic source over TLS: `tls` replaces `encryption: off`; the double's certificate is
/// in the mapping directory as `navsql.pem`.
fn tls_source(d: &TdsDouble, tls: &str) -> tempfile::TempDir {
    let dir = source(d, "", "");
    let yaml = std::fs::read_to_string(dir.path().join("m.yaml"))
        .unwrap()
        .replace("    encryption: off\n", tls);
    std::fs::write(dir.path().join("m.yaml"), yaml).unwrap();
    std::fs::copy(
        support::root().join("fixtures/tls/double.pem"),
        dir.path().join("navsql.pem"),
    )
    .unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn a_self_signed_certificate_is_trusted_only_when_the_mapping_says_so() {
    let d = TdsDouble::start_tls(&[(USER, PASSWORD)], "X", generic_handler).await;

    // Encryption required (the default) and the system's roots: the handshake is refused.
    let dir = tls_source(&d, "");
    let m = fails(&pipeline(dir.path()), "lookup", json!({"name": "x"})).await;
    assert!(
        m.contains("cannot be used as configured: TLS with 127.0.0.1"),
        "{m}"
    );
    assert!(m.contains("certificate was rejected"), "{m}");
    assert!(
        m.contains("name the server's certificate in `ca_certificate`"),
        "{m}"
    );
    assert!(!m.contains("Config::"), "{m}");
    assert!(
        d.log().logins.is_empty(),
        "no password sent to an untrusted server"
    );

    // The server's own certificate named in the mapping: the whole session in TLS.
    let dir = tls_source(&d, "    ca_certificate: navsql.pem\n");
    let out = call(&pipeline(dir.path()), "lookup", json!({"name": "ca"}))
        .await
        .unwrap();
    assert_eq!(out["rows"][0]["name"], "ca");

    // The explicit opt-in to trust any certificate.
    let dir = tls_source(&d, "    trust_server_certificate: true\n");
    let out = call(&pipeline(dir.path()), "lookup", json!({"name": "any"}))
        .await
        .unwrap();
    assert_eq!(out["rows"][0]["name"], "any");

    // Only the login encrypted, as old servers without a certificate of their own allow.
    let dir = tls_source(
        &d,
        "    encryption: login_only\n    ca_certificate: navsql.pem\n",
    );
    let out = call(&pipeline(dir.path()), "lookup", json!({"name": "login"}))
        .await
        .unwrap();
    assert_eq!(out["rows"][0]["name"], "login");

    let log = d.log();
    assert_eq!(log.encryption, vec!["full", "full", "full", "login_only"]);
    assert_eq!(log.logins.len(), 3);
    assert!(log.logins.iter().all(|l| l.password == PASSWORD));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_accepts_but_never_answers_costs_only_the_connect_timeout() {
    // A listener that takes the connection and says nothing (a hung server, a wrong port
    // behind a firewall that accepts).
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let d = generic_double().await;
    let dir = source(&d, "    connect_timeout: 1s\n", "");
    let yaml = std::fs::read_to_string(dir.path().join("m.yaml"))
        .unwrap()
        .replace(&format!("port: {}", d.port), &format!("port: {port}"));
    std::fs::write(dir.path().join("m.yaml"), yaml).unwrap();
    let started = Instant::now();
    let m = fails(&pipeline(dir.path()), "lookup", json!({"name": "x"})).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "bounded by connect_timeout"
    );
    assert!(
        m.contains(&format!(
            "127.0.0.1:{port} did not complete the login within 1s"
        )),
        "{m}"
    );
    assert!(m.contains("temporary"), "{m}");
    hold.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_double_answers_a_sql_batch_as_sql_server_does() {
    // The adapter always sends RPCs; this checks the double's SQLBatch path with tiberius
    // directly, so the double is trustworthy for clients that batch.
    use tokio_util::compat::TokioAsyncWriteCompatExt;
    let d = generic_double().await;
    let mut config = tiberius::Config::new();
    config.host("127.0.0.1");
    config.port(d.port);
    config.authentication(tiberius::AuthMethod::sql_server(USER, PASSWORD));
    config.encryption(tiberius::EncryptionLevel::NotSupported);
    let tcp = tokio::net::TcpStream::connect(d.addr()).await.unwrap();
    let mut client = tiberius::Client::connect(config, tcp.compat_write())
        .await
        .unwrap();
    let rows = client
        .simple_query("SELECT one FROM contended")
        .await
        .map(|_| ())
        .unwrap_err();
    assert!(rows.to_string().contains("deadlock victim"), "{rows}");
    let row = client
        .simple_query("SELECT * FROM probe")
        .await
        .unwrap()
        .into_row()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.get::<i32, _>("i"), Some(-2_147_483_648));
    assert_eq!(row.get::<&str, _>("n"), Some("Zoë ＆ 東京   "));
    let log = d.log();
    assert!(!log.requests[0].rpc);
    assert_eq!(log.requests[1].sql, "SELECT * FROM probe");
}

/// `nvarchar(max)` and `varbinary(max)` columns (declared as 2 GB, sent as PLP chunks): a call
/// costs what the values hold, never what the declaration allows. Fifty rows of three `max`
/// columns read a hundred times through the binary keep its peak RSS small; a value within
/// `max_text_length` comes back whole, and one over it is a clear error, never cut.
#[tokio::test(flavor = "multi_thread")]
async fn max_columns_cost_what_their_values_hold_and_are_never_cut() {
    let notes = vec![
        col("k", ColType::Int),
        col("a", ColType::NVarCharMax),
        col("bin", ColType::VarBinaryMax),
        col("c", ColType::NVarCharMax),
    ];
    let big = vec![col("k", ColType::Int), col("text", ColType::NVarCharMax)];
    let d = TdsDouble::start(&[(USER, PASSWORD)], "ERPINST", move |req: &Request| {
        let sql = req.sql.as_str();
        if sql.contains("FROM notes") {
            let rows = (1..=50)
                .map(|k| {
                    vec![
                        Val::Int(k),
                        Val::Str("a".repeat(k as usize)),
                        Val::Bytes(vec![k as u8; 300]),
                        Val::Str("c".repeat(5000)),
                    ]
                })
                .collect();
            return Reply::Rows {
                columns: notes.clone(),
                rows,
            };
        }
        // 900,000 characters fit the default max_text_length (1 MiB); 2,000,000 do not.
        let n = if sql.contains("FROM fits") {
            900_000
        } else {
            2_000_000
        };
        Reply::Rows {
            columns: big.clone(),
            rows: vec![vec![Val::Int(1), Val::Str("x".repeat(n))]],
        }
    })
    .await;
    let dir = source(
        &d,
        "    pool_size: 1\n",
        r#"
  notes:
    description: Fifty rows of max columns.
    source: erp
    sql: SELECT k, a, bin, c FROM notes
    columns:
      k: {type: integer}
      a: {type: string}
      bin: {type: binary}
      c: {type: string}
    limit: 50
  fits:
    description: One long value within max_text_length.
    source: erp
    sql: SELECT k, text FROM fits
    columns:
      k: {type: integer}
      text: {type: string}
  big:
    description: One value over max_text_length.
    source: erp
    sql: SELECT k, text FROM big
    columns:
      k: {type: integer}
      text: {type: string}
"#,
    );
    let p = pipeline(dir.path());
    let fits = call(&p, "fits", json!({})).await.unwrap();
    assert_eq!(fits["rows"][0]["text"].as_str().unwrap().len(), 900_000);
    let m = fails(&p, "big", json!({})).await;
    assert!(m.contains("longer than max_text_length"), "{m}");
    assert!(m.contains("column `text`"), "{m}");
    // Through the binary, a hundred times: the server's peak RSS.
    let path = dir.path().to_path_buf();
    let (peak_kb, last) =
        tokio::task::spawn_blocking(move || support::calls_through_binary(&path, "notes", 100))
            .await
            .unwrap();
    let rows = support::fifty_wide_rows(&last, peak_kb);
    assert!(rows[0]["bin"].is_string(), "{}", rows[0]);
}
