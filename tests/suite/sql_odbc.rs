//! ODBC sources against real databases over real connections: SQLite through its ODBC driver,
//! PostgreSQL through psqlODBC and MariaDB through MariaDB Connector/ODBC, each loaded with
//! fixtures/erp-sql/schema.sql and queried through mappings/examples/odbc-generic.
//!
//! PostgreSQL is expected on 127.0.0.1:5432 (user postgres, database test) and MariaDB on
//! 127.0.0.1:3306 (root, no password, database test); scripts/test installs the drivers and
//! starts the servers where they are missing.

use crate::support;

use support::{call, pipeline};

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use legacy_mcp::backend::odbc::driver;
use legacy_mcp::pipeline::{CallError, Pipeline};
use odbc_api::ConnectionOptions;
use serde_json::{Value, json};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Db {
    Sqlite,
    Postgres,
    Mariadb,
}

const ALL: [Db; 3] = [Db::Sqlite, Db::Postgres, Db::Mariadb];
const PG: &str =
    "Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=5432;Database=test;Uid=postgres";
const MARIA: &str = "Driver={MariaDB Unicode};Server=127.0.0.1;Port=3306;Database=test;User=root";

fn sqlite_file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = support::root().join("target/test-sqlite");
        std::fs::create_dir_all(&dir).unwrap();
        // Files of earlier runs (each run has its own, named by process id).
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let _ = std::fs::remove_file(e.path());
        }
        dir.join(format!("erp-{}.db", std::process::id()))
    })
}

impl Db {
    /// A connection of the test's own (schema setup), outside the adapter.
    fn admin(self) -> odbc_api::Connection<'static> {
        odbc_api::environment()
            .unwrap()
            .connect_with_connection_string(
                &format!("{};", driver::resolve(&self.connection_string())),
                ConnectionOptions::default(),
            )
            .unwrap_or_else(|e| panic!("connect to {self:?}: {e}"))
    }

    fn connection_string(self) -> String {
        match self {
            Db::Sqlite => format!("Driver={{SQLite3}};Database={}", sqlite_file().display()),
            Db::Postgres => PG.into(),
            Db::Mariadb => MARIA.into(),
        }
    }

    /// Whether DECIMAL(38,20) is stored exactly (SQLite keeps NUMERIC as REAL or INTEGER).
    fn exact_decimals(self) -> bool {
        self != Db::Sqlite
    }

    fn dialect(self, sql: &str) -> String {
        let (ts, blob, text, date) = match self {
            Db::Sqlite => ("TIMESTAMP", "BLOB", "TEXT", "'2026-01-01'"),
            Db::Postgres => ("TIMESTAMP", "BYTEA", "TEXT", "DATE '2026-01-01'"),
            Db::Mariadb => ("DATETIME(6)", "LONGBLOB", "LONGTEXT", "DATE '2026-01-01'"),
        };
        sql.replace("{TIMESTAMP}", ts)
            .replace("{BLOB}", blob)
            .replace("{TEXT}", text)
            .replace("{LEDGER_DATE}", date)
    }
}

/// Load the fixture schema into `db`, once per test process.
fn load(db: Db) {
    static LOADED: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    let label = match db {
        Db::Sqlite => "sqlite",
        Db::Postgres => "postgres",
        Db::Mariadb => "mariadb",
    };
    if loaded.contains(&label) {
        return;
    }
    let schema = std::fs::read_to_string(support::root().join("fixtures/erp-sql/schema.sql"))
        .expect("schema.sql");
    let conn = db.admin();
    for stmt in db.dialect(&schema).split("\n;\n") {
        let sql: String = stmt
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        if sql.trim().is_empty() {
            continue;
        }
        conn.execute(&sql, (), None)
            .unwrap_or_else(|e| panic!("{db:?}: {sql}\n{e}"));
    }
    loaded.push(label);
}

/// A mapping directory: the example mapping with its connection string filled in, plus
/// extra tools appended.
fn mapping(db: Db, source_extra: &str, extra_tools: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let original =
        std::fs::read_to_string(support::root().join("mappings/examples/odbc-generic/erp.yaml"))
            .unwrap();
    // Source settings given here replace the example's own.
    let overridden: Vec<&str> = source_extra
        .lines()
        .filter_map(|l| l.split(':').next())
        .collect();
    let kept: Vec<&str> = original
        .lines()
        .filter(|l| !overridden.iter().any(|k| l.starts_with(&format!("{k}:"))))
        .collect();
    let text = (kept.join("\n") + "\n")
        .replace(
            "${env:ERP_ODBC}",
            &format!("\"{}\"", db.connection_string()),
        )
        .replace(
            "    max_rows: 1000\n",
            &format!("    max_rows: 1000\n{source_extra}"),
        )
        .replace("\nresources:", &format!("{extra_tools}\nresources:"));
    std::fs::write(dir.path().join("erp.yaml"), text).unwrap();
    dir
}

async fn each_db(test: impl AsyncFn(Db, Pipeline)) {
    for db in ALL {
        tokio::task::spawn_blocking(move || load(db)).await.unwrap();
        let dir = mapping(db, "", "");
        test(db, pipeline(dir.path())).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_become_exact_typed_json_on_every_database() {
    each_db(async |db, p| {
        let c = call(&p, "get_customer", json!({"customer_no": "C10000"}))
            .await
            .unwrap();
        assert_eq!(c["customer_no"], "C10000", "{db:?}: CHAR padding trimmed");
        assert_eq!(c["name"], "Müller Maschinenbau GmbH", "{db:?}");
        assert_eq!(c["address"]["city"], "Köln", "{db:?}");
        assert_eq!(c["blocked_since"], Value::Null, "{db:?}");
        assert_eq!(c["created_at"], "2019-03-01T08:15:30", "{db:?}");
        assert_eq!(c["active"], true, "{db:?}");
        assert_eq!(c["notes"], "Key account", "{db:?}");
        if db.exact_decimals() {
            assert_eq!(
                c["credit_limit"], "123456789012345678.12345678901234567890",
                "{db:?}: DECIMAL(38,20) digit for digit"
            );
        } else {
            assert!(c["credit_limit"].is_string(), "{db:?}");
        }

        let tiny = call(&p, "get_customer", json!({"customer_no": "C10001"}))
            .await
            .unwrap();
        assert_eq!(tiny["name"], "Ærø Fisk ApS", "{db:?}");
        assert_eq!(tiny["blocked_since"], "2024-02-29", "{db:?}");
        assert_eq!(tiny["active"], false, "{db:?}");
        assert_eq!(tiny["notes"], Value::Null, "{db:?}");
        if db.exact_decimals() {
            assert_eq!(tiny["credit_limit"], "0.00000000000000000001", "{db:?}");
        }

        // The NAV-style "no date" sentinel is null (null_dates in the example source).
        let tokyo = call(&p, "get_customer", json!({"customer_no": "C10002"}))
            .await
            .unwrap();
        assert_eq!(tokyo["name"], "東京商事", "{db:?}");
        assert_eq!(tokyo["blocked_since"], Value::Null, "{db:?}");
        if db.exact_decimals() {
            assert_eq!(
                tokyo["credit_limit"], "-98765.43210000000000000000",
                "{db:?}"
            );
        }

        let lines = call(&p, "order_lines", json!({"order_no": 101003}))
            .await
            .unwrap();
        assert_eq!(lines["count"], 2, "{db:?}");
        assert_eq!(lines["rows"][0]["description"], "Front Wheel", "{db:?}");
        if db.exact_decimals() {
            assert_eq!(lines["rows"][0]["unit_price"], "100.1250", "{db:?}");
            assert_eq!(lines["rows"][1]["quantity"], "1.0000", "{db:?}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_arguments_are_inert_values() {
    each_db(async |db, p| {
        for hostile in ["' OR 1=1--", "1;DROP x", "C10000'--"] {
            let err = call(&p, "get_customer", json!({"customer_no": hostile}))
                .await
                .unwrap_err();
            assert!(
                matches!(&err, CallError::Caller(m) if m.starts_with("not found")),
                "{db:?}: {err:?}"
            );
        }
        let none = call(
            &p,
            "find_customers",
            json!({"name_prefix": "%' OR 1=1; DROP TABLE erp_items; --"}),
        )
        .await
        .unwrap();
        assert_eq!(none["count"], 0, "{db:?}");
        // The table is still there.
        let lines = call(&p, "order_lines", json!({"order_no": 101001}))
            .await
            .unwrap();
        assert_eq!(lines["count"], 1, "{db:?}");
        // O'Brien's apostrophe is data, found by a bound prefix.
        let obrien = call(&p, "find_customers", json!({"name_prefix": "O'Br%"}))
            .await
            .unwrap();
        assert_eq!(obrien["rows"][0]["name"], "O'Brien & Sons", "{db:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn keyset_cursors_walk_a_large_table_without_gaps() {
    each_db(async |db, p| {
        let mut seen = Vec::new();
        let mut args = json!({"customer_no": "C10000"});
        for page in 0..3 {
            let r = call(&p, "customer_ledger", args.clone()).await.unwrap();
            assert_eq!(r["count"], 100, "{db:?} page {page}");
            assert_eq!(r["truncated"], true, "{db:?}");
            for row in r["rows"].as_array().unwrap() {
                seen.push(row["entry_no"].as_i64().unwrap());
            }
            args["cursor"] = r["next_cursor"].clone();
        }
        let expected: Vec<i64> = (1..=300).map(|i| i * 3).collect();
        assert_eq!(
            seen, expected,
            "{db:?}: every third entry, in order, no gaps"
        );

        // Optional parameters bind as NULL; a page of two, then the rest.
        let first = call(&p, "find_customers", json!({"name_prefix": "%"}))
            .await
            .unwrap();
        assert_eq!(first["count"], 2, "{db:?}");
        assert_eq!(first["truncated"], true, "{db:?}");
        let rest = call(
            &p,
            "find_customers",
            json!({"name_prefix": "%", "cursor": first["next_cursor"]}),
        )
        .await
        .unwrap();
        let nos: Vec<&str> = first["rows"]
            .as_array()
            .unwrap()
            .iter()
            .chain(rest["rows"].as_array().unwrap())
            .map(|r| r["no"].as_str().unwrap())
            .collect();
        assert_eq!(nos, ["C10000", "C10001", "C10002", "C10003"], "{db:?}");
        assert_eq!(rest["truncated"], false, "{db:?}");
        let cork = call(
            &p,
            "find_customers",
            json!({"name_prefix": "%", "city": "Cork"}),
        )
        .await
        .unwrap();
        assert_eq!(cork["count"], 1, "{db:?}");
    })
    .await;
}

const SLOW_PG: &str = r#"
  slow:
    description: Sleeps on the server.
    source: erp
    sql: "SELECT pg_sleep(:seconds) IS NULL AS slept"
    parameters:
      seconds: {type: number}
    columns:
      slept: {type: boolean}
    result: {one: true}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_query_times_out_and_the_connection_serves_the_next_call() {
    load(Db::Postgres);
    let dir = mapping(
        Db::Postgres,
        "    pool_size: 1\n    query_timeout: 1s\n",
        SLOW_PG,
    );
    let p = pipeline(dir.path());
    let started = Instant::now();
    let err = call(&p, "slow", json!({"seconds": 10})).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "cancelled in time"
    );
    let CallError::Caller(m) = err else {
        panic!("{err:?}")
    };
    assert!(m.contains("timed out after 1s"), "{m}");
    let ok = call(&p, "get_customer", json!({"customer_no": "C10003"}))
        .await
        .unwrap();
    assert_eq!(ok["name"], "O'Brien & Sons");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_pool_answers_busy_after_a_bounded_wait() {
    load(Db::Postgres);
    let dir = mapping(
        Db::Postgres,
        "    pool_size: 1\n    pool_timeout: 200ms\n",
        SLOW_PG,
    );
    let p = pipeline(dir.path());
    let p2 = p.clone();
    let slow = tokio::spawn(async move { call(&p2, "slow", json!({"seconds": 1.5})).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let err = call(&p, "get_customer", json!({"customer_no": "C10000"}))
        .await
        .unwrap_err();
    let CallError::Caller(m) = err else {
        panic!("{err:?}")
    };
    assert!(m.contains("is busy"), "{m}");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(slow.await.unwrap().unwrap()["slept"].is_boolean());
    // Free again.
    call(&p, "get_customer", json!({"customer_no": "C10000"}))
        .await
        .unwrap();
}

fn one_source(conn: &str) -> tempfile::TempDir {
    one_source_with(
        conn,
        "login_timeout: 3s",
        r#"
  one:
    description: Selects one.
    source: erp
    sql: SELECT 1 AS one
    columns:
      one: {type: integer}
    result: {one: true}
"#,
    )
}

/// Run `statements` on `db` over the test's own connection (table setup and clean-up).
async fn admin_sql(db: Db, statements: Vec<String>) {
    tokio::task::spawn_blocking(move || {
        let conn = db.admin();
        for s in statements {
            conn.execute(&s, (), None)
                .unwrap_or_else(|e| panic!("{db:?}: {}\n{e}", &s[..80.min(s.len())]));
        }
    })
    .await
    .unwrap();
}

/// A mapping with the one source `erp` on `conn` (plus `settings`, one YAML line) and `tools`.
fn one_source_with(conn: &str, settings: &str, tools: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "sources:\n  erp:\n    kind: odbc\n    connection_string: \"{conn}\"\n    {settings}\ntools:{tools}"
    );
    std::fs::write(dir.path().join("m.yaml"), text).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_failures_are_clear_and_never_show_the_password() {
    let secret = "S3cr3t-Pa55";
    let dir = one_source(&format!("{MARIA};Password={secret}"));
    let p = pipeline(dir.path());
    let err = call(&p, "one", json!({})).await.unwrap_err().to_string();
    assert!(err.contains("refused the login"), "{err}");
    assert!(!err.contains(secret), "{err}");

    let dir = one_source(&format!(
        "Driver={{PostgreSQL Unicode}};Server=127.0.0.1;Port=1;Database=test;Uid=postgres;Pwd={secret}"
    ));
    let p = pipeline(dir.path());
    let err = call(&p, "one", json!({})).await.unwrap_err().to_string();
    assert!(err.contains("unreachable"), "{err}");
    assert!(err.contains("temporary"), "{err}");
    assert!(!err.contains(secret), "{err}");

    let dir = one_source("Driver={No Such Driver};Server=x");
    let p = pipeline(dir.path());
    let err = call(&p, "one", json!({})).await.unwrap_err().to_string();
    assert!(err.contains("SQLSTATE"), "{err}");
}

/// A private PostgreSQL cluster, stopped and started by the test. Needs root (to run the server
/// as the postgres user) and the server binaries; the test says so and passes vacuously
/// otherwise, which scripts/test never lets happen on a Debian machine as root.
struct PrivatePg {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl PrivatePg {
    fn create() -> Option<PrivatePg> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .find(|b| b.join("initdb").is_file())?;
        let dir = tempfile::tempdir().ok()?;
        std::process::Command::new("chown")
            .arg("postgres")
            .arg(dir.path())
            .status()
            .ok()
            .filter(|s| s.success())?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = PrivatePg { dir, bin, port };
        pg.as_postgres(&["initdb", "-D", &pg.data(), "-A", "trust", "-U", "postgres"])
            .then_some(pg)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn as_postgres(&self, args: &[&str]) -> bool {
        let tool = self.bin.join(args[0]);
        std::process::Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(tool)
            .args(&args[1..])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn start(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        assert!(self.as_postgres(&[
            "pg_ctl",
            "-D",
            &self.data(),
            "-o",
            &opts,
            "-l",
            &log,
            "-w",
            "start"
        ]));
    }

    fn stop(&self) {
        assert!(self.as_postgres(&["pg_ctl", "-D", &self.data(), "-m", "fast", "-w", "stop"]));
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        self.as_postgres(&["pg_ctl", "-D", &self.data(), "-m", "immediate", "stop"]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_restart_costs_one_failed_call_not_a_restart() {
    let pg = tokio::task::spawn_blocking(PrivatePg::create)
        .await
        .unwrap()
        .expect("a private PostgreSQL cluster needs root and the server binaries (/usr/lib/postgresql/*/bin/initdb, Debian's postgresql package: scripts/test installs it)");
    pg.start();
    let dir = one_source(&format!(
        "Driver={{PostgreSQL Unicode}};Server=127.0.0.1;Port={};Database=postgres;Uid=postgres",
        pg.port
    ));
    let p = pipeline(dir.path());
    // Several pooled connections: concurrent calls open one per worker.
    let all = |p: Pipeline| async move {
        let calls = (0..4).map(|_| {
            let p = p.clone();
            tokio::spawn(async move { call(&p, "one", json!({})).await.map_err(|e| e.to_string()) })
        });
        let mut out = Vec::new();
        for c in calls {
            out.push(c.await.unwrap());
        }
        out
    };
    assert!(all(p.clone()).await.iter().all(Result::is_ok));
    pg.stop();
    let err = call(&p, "one", json!({})).await.unwrap_err().to_string();
    assert!(err.contains("temporary"), "{err}");
    pg.start();
    // The broken connection was dropped with the failure: the next call reconnects.
    assert_eq!(call(&p, "one", json!({})).await.unwrap()["one"], 1);
    // A restart behind the pool's back: every pooled connection is dead, and no call fails
    // for it (each dead one is replaced and the query asked again).
    assert!(all(p.clone()).await.iter().all(Result::is_ok));
    pg.stop();
    pg.start();
    let after = all(p.clone()).await;
    assert!(after.iter().all(Result::is_ok), "{after:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_sees_typed_sql_tools_over_mcp() {
    load(Db::Postgres);
    let client = support::stdio_client_with_env(
        &support::root().join("mappings/examples/odbc-generic"),
        &[],
        &[("ERP_ODBC", PG)],
    )
    .await;
    let tools = client.list_all_tools().await.unwrap();
    let get = tools.iter().find(|t| t.name == "get_customer").unwrap();
    let schema = serde_json::to_value(&get.output_schema).unwrap();
    assert_eq!(schema["properties"]["created_at"]["format"], "date-time");
    let out = client
        .call_tool(
            serde_json::from_value(
                json!({"name": "get_customer", "arguments": {"customer_no": "C10000"}}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let structured = out.structured_content.unwrap();
    assert_eq!(
        structured["credit_limit"],
        "123456789012345678.12345678901234567890"
    );
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn introspect_writes_a_mapping_that_checks_and_answers() {
    for db in [Db::Postgres, Db::Mariadb] {
        load(db);
        let dir = mapping(db, "", "");
        let out = std::process::Command::new(support::bin())
            .args([
                "introspect",
                "--source",
                "erp",
                "--table",
                "erp_items",
                "--mappings",
            ])
            .arg(dir.path())
            .output()
            .unwrap();
        let skeleton = support::succeeded(out);
        assert!(skeleton.contains("get_erp_items:"), "{skeleton}");
        assert!(
            skeleton.contains("unit_price\": {type: decimal, description: \"Unit price ("),
            "{skeleton}"
        );
        // Readable types, never the driver library's own spelling (`Varchar { length: .. }`).
        assert!(!skeleton.contains("{ length"), "{skeleton}");
        std::fs::write(dir.path().join("items.yaml"), &skeleton).unwrap();
        let p = pipeline(dir.path());
        let item = call(&p, "get_erp_items", json!({"no": "1100"}))
            .await
            .unwrap();
        assert_eq!(item["unit_price"], "100.1250", "{db:?}");
        let list = call(&p, "list_erp_items", json!({"description": "Bicycle"}))
            .await
            .unwrap();
        assert_eq!(list["count"], 1, "{db:?}");
        // A description is filtered by its start.
        let list = call(&p, "list_erp_items", json!({"description": "Bicy%"}))
            .await
            .unwrap();
        assert_eq!(list["count"], 1, "{db:?}: {list}");
    }
}

/// Each worker keeps a tool's statement prepared. A table dropped and created again with another
/// column type leaves PostgreSQL's plan for it stale ("cached plan must not change result
/// type"): the call prepares the statement again and answers, rather than failing once.
#[tokio::test(flavor = "multi_thread")]
async fn a_statement_prepared_before_a_schema_change_still_answers() {
    for db in ALL {
        let table = format!("plan_probe_{}", std::process::id());
        let run = move |sql: String| {
            tokio::task::spawn_blocking(move || {
                let conn = db.admin();
                for s in sql.split(';').filter(|s| !s.trim().is_empty()) {
                    conn.execute(s, (), None)
                        .unwrap_or_else(|e| panic!("{db:?}: {s}\n{e}"));
                }
            })
        };
        let create = |kind: &str, v: &str| {
            format!(
                "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (k INTEGER, v {kind}); \
                 INSERT INTO {table} VALUES (1, '{v}')"
            )
        };
        run(create("VARCHAR(10)", "short")).await.unwrap();
        let dir = one_source_with(
            &db.connection_string(),
            "pool_size: 1",
            &format!(
                r#"
  probe:
    description: The probe row's value.
    source: erp
    sql: SELECT v FROM {table} WHERE k = :k
    parameters:
      k: {{type: integer}}
    columns:
      v: {{type: string}}
    result: {{one: true}}
"#
            ),
        );
        let p = pipeline(dir.path());
        let first = call(&p, "probe", json!({"k": 1})).await.unwrap();
        assert_eq!(first["v"], "short", "{db:?}");
        run(create("VARCHAR(40)", "a longer value than before"))
            .await
            .unwrap();
        let second = call(&p, "probe", json!({"k": 1})).await;
        assert_eq!(
            second.map(|v| v["v"].clone()).map_err(|e| e.to_string()),
            Ok(json!("a longer value than before")),
            "{db:?}"
        );
        run(format!("DROP TABLE {table}")).await.unwrap();
    }
}

/// Values longer than any block buffer (PostgreSQL `text` and unbounded `varchar`, MariaDB
/// `LONGTEXT`, SQLite `TEXT`; psqlODBC reports 8190 and 255 characters for the first two, and
/// the old bulk fetch cut them there with `truncated: false`) come back whole, beside short ones
/// in the same result; a value over `max_text_length` is an error naming the column, never a
/// shorter value.
#[tokio::test(flavor = "multi_thread")]
async fn long_values_come_back_whole_or_as_a_clear_error() {
    let long = "x".repeat(100_000) + "END";
    let medium = "é".repeat(20_000) + "END";
    for db in ALL {
        let table = format!("long_probe_{}", std::process::id());
        let unbounded = match db {
            Db::Postgres => "VARCHAR",
            Db::Mariadb => "LONGTEXT",
            Db::Sqlite => "TEXT",
        };
        let text = if db == Db::Mariadb {
            "LONGTEXT"
        } else {
            "TEXT"
        };
        let setup = [
            format!("DROP TABLE IF EXISTS {table}"),
            format!("CREATE TABLE {table} (k INTEGER, t {text}, v {unbounded})"),
            format!("INSERT INTO {table} VALUES (1, 'short', 'short')"),
            format!("INSERT INTO {table} VALUES (2, '{long}', '{medium}')"),
            format!("INSERT INTO {table} VALUES (3, 'after', 'after')"),
        ];
        admin_sql(db, setup.to_vec()).await;
        let tools = format!(
            r#"
  probe:
    description: Every probe row.
    source: erp
    sql: SELECT k, t, v FROM {table} ORDER BY k
    columns:
      k: {{type: integer}}
      t: {{type: string}}
      v: {{type: string}}
    result: {{}}
  one:
    description: One probe row.
    source: erp
    sql: SELECT k, t, v FROM {table} WHERE k = :k
    parameters:
      k: {{type: integer}}
    columns:
      k: {{type: integer}}
      t: {{type: string}}
      v: {{type: string}}
    result: {{one: true}}
"#
        );
        let dir = one_source_with(&db.connection_string(), "pool_size: 1", &tools);
        let p = pipeline(dir.path());
        for _ in 0..2 {
            // Twice: the second call takes the row-by-row path the worker learnt.
            let all = call(&p, "probe", json!({})).await.unwrap();
            let rows = all["rows"].as_array().unwrap();
            assert_eq!(rows.len(), 3, "{db:?}");
            assert_eq!(all["truncated"], false, "{db:?}");
            assert_eq!(rows[0]["t"], "short", "{db:?}");
            assert_eq!(rows[1]["t"].as_str().unwrap().len(), long.len(), "{db:?}");
            assert_eq!(rows[1]["t"], long.as_str(), "{db:?}");
            assert_eq!(rows[1]["v"], medium.as_str(), "{db:?}");
            assert_eq!(rows[2]["v"], "after", "{db:?}");
        }
        let one = call(&p, "one", json!({"k": 2})).await.unwrap();
        assert_eq!(one["t"], long.as_str(), "{db:?}");
        let short = call(&p, "one", json!({"k": 1})).await.unwrap();
        assert_eq!(short["t"], "short", "{db:?}");

        let capped = one_source_with(&db.connection_string(), "max_text_length: 50KiB", &tools);
        let p = pipeline(capped.path());
        let err = call(&p, "probe", json!({})).await.unwrap_err().to_string();
        assert!(
            err.contains("column `t` is longer than max_text_length"),
            "{db:?}: {err}"
        );
        admin_sql(db, vec![format!("DROP TABLE {table}")]).await;
    }
}

/// A keyset cursor holds the last row's key. Here the key is a column the tool does not return
/// (a masked key is refused by `check`: paging by it would rank the hidden values), so the
/// caller never sees it; the cursor must not carry it in a form the caller can read, and a
/// cursor the caller altered or wrote (the old cursors were base64 JSON, so a written key made
/// the cursor an oracle) is refused with a clear error.
#[tokio::test(flavor = "multi_thread")]
async fn keyset_cursors_are_sealed_and_show_no_hidden_key() {
    use base64::Engine;
    let db = Db::Sqlite;
    tokio::task::spawn_blocking(move || load(db)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"sources:
  erp:
    kind: odbc
    connection_string: "{}"
tools:
  customers_by_ref:
    description: Customer names in number order, paged; the numbers are not shown.
    source: erp
    sql: SELECT no, name FROM erp_customers WHERE name LIKE :name_prefix
    parameters:
      name_prefix: {{type: string}}
    columns:
      no: {{type: string}}
      name: {{type: string}}
    key: ["no"]
    limit: 2
    result:
      fields:
        name: name
"#,
        db.connection_string()
    );
    std::fs::write(dir.path().join("m.yaml"), text).unwrap();
    let p = pipeline(dir.path());
    let first = call(&p, "customers_by_ref", json!({"name_prefix": "%"}))
        .await
        .unwrap();
    assert_eq!(first["truncated"], true);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&cursor)
        .unwrap();
    let shown = String::from_utf8_lossy(&raw);
    assert!(
        !shown.contains("C1000"),
        "the cursor shows the hidden key: {shown}"
    );
    assert!(!cursor.contains("C1000"));
    for row in first["rows"].as_array().unwrap() {
        assert!(row.get("no").is_none(), "{row}");
    }

    // The sealed cursor continues the walk.
    let rest = call(
        &p,
        "customers_by_ref",
        json!({"name_prefix": "%", "cursor": cursor}),
    )
    .await
    .unwrap();
    assert_eq!(rest["count"], 2);

    // A cursor written by the caller (the old, readable format, naming a key to probe after)
    // and one with a flipped byte are refused, naming nothing.
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(r#"{"o":0,"v":"","a":"0","k":["C10001"]}"#);
    let mut flipped = raw.clone();
    flipped[20] ^= 0x20;
    let flipped = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(flipped);
    for bad in [forged, flipped] {
        let err = call(
            &p,
            "customers_by_ref",
            json!({"name_prefix": "%", "cursor": bad}),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(err.contains("is not a cursor this server issued"), "{err}");
    }
}

/// A NUL inside a string argument: drivers cut the bound value there, so
/// `"C10000\u0000-PUBLIC"` passed the pattern `.*-PUBLIC` and customer C10000 came back. It is
/// refused before the pattern, on every database, and nothing is asked of the backend.
#[tokio::test(flavor = "multi_thread")]
async fn a_nul_in_an_argument_is_refused_not_cut_by_the_driver() {
    for db in ALL {
        tokio::task::spawn_blocking(move || load(db)).await.unwrap();
        let dir = one_source_with(
            &db.connection_string(),
            "pool_size: 1",
            r#"
  public_customer:
    description: A customer whose public reference is given.
    source: erp
    sql: SELECT no, name FROM erp_customers WHERE no = :ref
    parameters:
      ref: {type: string, pattern: ".*-PUBLIC"}
    columns:
      no: {type: string}
      name: {type: string}
    result: {one: true}
"#,
        );
        let p = pipeline(dir.path());
        let err = call(&p, "public_customer", json!({"ref": "C10000\u{0}-PUBLIC"}))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("control character U+0000"), "{db:?}: {err}");
        assert!(!err.contains("Müller"), "{db:?}: {err}");
    }
}

/// A SQL tool that changes data says so (`allow_writes: true`): it is annotated destructive,
/// runs once per call (never retried, never cached), and its `RETURNING` rows come back.
#[tokio::test(flavor = "multi_thread")]
async fn a_declared_sql_write_runs_once_and_is_annotated_destructive() {
    let db = Db::Postgres;
    let table = format!("write_probe_{}", std::process::id());
    admin_sql(
        db,
        vec![
            format!("DROP TABLE IF EXISTS {table}"),
            format!("CREATE TABLE {table} (k INTEGER, hits INTEGER)"),
            format!("INSERT INTO {table} VALUES (1, 0)"),
        ],
    )
    .await;
    let dir = one_source_with(
        &db.connection_string(),
        "pool_size: 1",
        &format!(
            r#"
  hit:
    description: Counts a hit on a probe row.
    source: erp
    sql: UPDATE {table} SET hits = hits + 1 WHERE k = :k RETURNING k, hits
    allow_writes: true
    confirm: never
    parameters:
      k: {{type: integer}}
    columns:
      k: {{type: integer}}
      hits: {{type: integer}}
    result: {{one: true}}
"#
        ),
    );
    let p = pipeline(dir.path());
    let tool = p.catalog().tools["hit"].clone();
    assert!(tool.writes && tool.annotations.destructive && !tool.annotations.read_only);
    for n in 1..=2 {
        let r = call(&p, "hit", json!({"k": 1})).await.unwrap();
        assert_eq!(r["hits"], n);
    }
    admin_sql(db, vec![format!("DROP TABLE {table}")]).await;
}

/// `limit: 5` over two million rows: the row cap goes to the database with the query
/// (`LIMIT ?`, bound), so neither the server nor psqlODBC (which reads a whole result before
/// the first fetch) holds the table. Before, this one call raised the server's peak RSS to
/// 431 MB; the bound checked here is generous (150 MB), the measured peak is about 47 MB.
#[test]
fn a_small_limit_over_a_huge_table_stays_small_in_memory() {
    let table = format!("huge_probe_{}", std::process::id());
    let conn = Db::Postgres.admin();
    conn.execute(&format!("DROP TABLE IF EXISTS {table}"), (), None)
        .unwrap();
    conn.execute(
        &format!("CREATE TABLE {table} AS SELECT g AS k, md5(g::text) AS v FROM generate_series(1, 2000000) g"),
        (),
        None,
    )
    .unwrap();
    let dir = one_source_with(
        PG,
        "pool_size: 1",
        &format!(
            r#"
  huge:
    description: Everything, five rows a page.
    source: erp
    sql: SELECT k, v FROM {table}
    columns:
      k: {{type: integer}}
      v: {{type: string}}
    limit: 5
"#
        ),
    );
    let (peak_kb, answer) = support::calls_through_binary(dir.path(), "huge", 1);
    conn.execute(&format!("DROP TABLE {table}"), (), None)
        .unwrap();
    let result = &answer["result"]["structuredContent"];
    assert_eq!(result["count"], 5, "{answer}");
    assert_eq!(result["truncated"], true);
    assert!(peak_kb < 150_000, "peak RSS {peak_kb} kB for five rows");
}

/// Keyset paging over a key column with NULLs: `k > ?` drops NULL-keyed rows from every later
/// page, and the last page said `truncated: false` with rows lost. The keyset order puts NULL
/// keys first on every database, so the first page meets them and the call is refused with a
/// clear error instead; SQL that leaves them out pages through every other row.
#[tokio::test(flavor = "multi_thread")]
async fn keyset_paging_over_null_keys_is_refused_not_lossy() {
    for db in ALL {
        let table = format!("null_keys_{}", std::process::id());
        let mut setup = vec![
            format!("DROP TABLE IF EXISTS {table}"),
            format!("CREATE TABLE {table} (k INTEGER, v VARCHAR(10))"),
        ];
        for (k, v) in [
            ("1", "a"),
            ("NULL", "x"),
            ("2", "b"),
            ("3", "c"),
            ("NULL", "y"),
        ] {
            setup.push(format!("INSERT INTO {table} VALUES ({k}, '{v}')"));
        }
        admin_sql(db, setup).await;
        let tools = format!(
            r#"
  all_rows:
    description: Every row, by key, two a page.
    source: erp
    sql: SELECT k, v FROM {table}
    columns:
      k: {{type: integer}}
      v: {{type: string}}
    key: [k]
    limit: 2
  keyed_rows:
    description: The rows that have a key, by key, two a page.
    source: erp
    sql: SELECT k, v FROM {table} WHERE k IS NOT NULL
    columns:
      k: {{type: integer}}
      v: {{type: string}}
    key: [k]
    limit: 2
"#
        );
        let dir = one_source_with(&db.connection_string(), "pool_size: 1", &tools);
        let p = pipeline(dir.path());
        let err = call(&p, "all_rows", json!({}))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("pages by key column `k`, and some rows hold NULL there"),
            "{db:?}: {err}"
        );
        let mut seen = Vec::new();
        let mut args = json!({});
        loop {
            let r = call(&p, "keyed_rows", args.clone()).await.unwrap();
            for row in r["rows"].as_array().unwrap() {
                seen.push(row["v"].as_str().unwrap().to_string());
            }
            if r["truncated"] == false {
                break;
            }
            args["cursor"] = r["next_cursor"].clone();
        }
        assert_eq!(seen, ["a", "b", "c"], "{db:?}");
        admin_sql(db, vec![format!("DROP TABLE {table}")]).await;
    }
}

/// A plain query runs in a read-only session, so a `SELECT` that writes anyway (through a
/// function that inserts) is refused by the database itself; a tool with `allow_writes: true`
/// on the same source still writes (its session is switched to read-write for it, and back).
/// PostgreSQL and MariaDB; SQLite gets `PRAGMA query_only` the same way but has no `SELECT`
/// that writes, so it is checked to read as before.
#[tokio::test(flavor = "multi_thread")]
async fn a_select_that_writes_is_refused_by_a_read_only_session() {
    let pid = std::process::id();
    let (table, func) = (format!("ro_probe_{pid}"), format!("ro_sneak_{pid}"));
    for db in [Db::Postgres, Db::Mariadb] {
        let create_function = match db {
            Db::Postgres => format!(
                "CREATE FUNCTION {func}() RETURNS integer AS $$ INSERT INTO {table} VALUES (2) RETURNING 1 $$ LANGUAGE sql"
            ),
            _ => format!(
                "CREATE FUNCTION {func}() RETURNS INT MODIFIES SQL DATA BEGIN INSERT INTO {table} VALUES (2); RETURN 1; END"
            ),
        };
        admin_sql(
            db,
            vec![
                format!("DROP TABLE IF EXISTS {table}"),
                format!("DROP FUNCTION IF EXISTS {func}"),
                format!("CREATE TABLE {table} (k INTEGER)"),
                create_function,
            ],
        )
        .await;
        let dir = one_source_with(
            &db.connection_string(),
            "pool_size: 1",
            &format!(
                r#"
  sneak:
    description: A query that writes through a function.
    source: erp
    sql: SELECT {func}() AS n
    columns:
      n: {{type: integer}}
    result: {{one: true}}
  add:
    description: Adds a row.
    source: erp
    sql: INSERT INTO {table} VALUES (:k)
    allow_writes: true
    confirm: never
    parameters:
      k: {{type: integer}}
    columns:
      k: {{type: integer}}
  count:
    description: Counts the rows.
    source: erp
    sql: SELECT count(*) AS n FROM {table}
    columns:
      n: {{type: integer}}
    result: {{one: true}}
"#
            ),
        );
        let p = pipeline(dir.path());
        for round in 1..=2 {
            let err = call(&p, "sneak", json!({})).await.unwrap_err().to_string();
            assert!(
                err.to_ascii_lowercase().contains("read-only transaction")
                    || err.to_ascii_lowercase().contains("read only transaction"),
                "{db:?} round {round}: {err}"
            );
            call(&p, "add", json!({"k": round}))
                .await
                .unwrap_or_else(|e| panic!("{db:?}: the declared write runs: {e}"));
        }
        let n = call(&p, "count", json!({})).await.unwrap();
        assert_eq!(n["n"], 2, "{db:?}: only the two declared writes landed");
        admin_sql(
            db,
            vec![
                format!("DROP FUNCTION {func}"),
                format!("DROP TABLE {table}"),
            ],
        )
        .await;
    }
    // SQLite: the pragma is set and reading works as before.
    tokio::task::spawn_blocking(|| load(Db::Sqlite))
        .await
        .unwrap();
    let dir = mapping(Db::Sqlite, "", "");
    let p = pipeline(dir.path());
    let r = call(&p, "find_customers", json!({"name_prefix": "%"})).await;
    assert!(r.is_ok(), "{r:?}");
}

/// A driver that reports a column size of about a billion characters (MariaDB Connector/ODBC
/// for `LONGTEXT`: 1,073,741,823, checked with pyodbc) costs a call no more memory than a small
/// column: 100 calls reading 50 rows of three `LONGTEXT` columns keep the server's peak RSS
/// small (block buffers are at most 4 KiB a cell; sized from the report, one block would be
/// 600 GB). The values come back whole.
#[test]
fn a_column_reported_as_a_billion_characters_costs_no_memory() {
    let table = format!("longtext_probe_{}", std::process::id());
    let conn = Db::Mariadb.admin();
    conn.execute(&format!("DROP TABLE IF EXISTS {table}"), (), None)
        .unwrap();
    conn.execute(
        &format!(
            "CREATE TABLE {table} (k INTEGER PRIMARY KEY, a LONGTEXT, b LONGTEXT, c LONGTEXT)"
        ),
        (),
        None,
    )
    .unwrap();
    for k in 1..=50 {
        conn.execute(
            &format!("INSERT INTO {table} VALUES ({k}, REPEAT('a', {k}), 'b', REPEAT('c', 5000))"),
            (),
            None,
        )
        .unwrap();
    }
    let dir = one_source_with(
        MARIA,
        "pool_size: 1",
        &format!(
            r#"
  wide:
    description: Fifty rows of LONGTEXT columns.
    source: erp
    sql: SELECT k, a, b, c FROM {table} ORDER BY k
    columns:
      k: {{type: integer}}
      a: {{type: string}}
      b: {{type: string}}
      c: {{type: string}}
    limit: 50
"#
        ),
    );
    let (peak_kb, last) = support::calls_through_binary(dir.path(), "wide", 100);
    conn.execute(&format!("DROP TABLE {table}"), (), None)
        .unwrap();
    support::fifty_wide_rows(&last, peak_kb);
}
