//! What every SQL backend (ODBC, SQL Server) shares: the parsed statement, the bound query a
//! tool call produces, keyset paging, typed columns and how driver text becomes typed values,
//! and the errors an agent can act on.
//!
//! - `statement.rs` `:name` parameters and `{{name}}` identifier fragments
//! - `compile.rs`   a tool on a SQL source, and its plan (bound into a `SqlQuery`)
//! - `keys.rs`      the keys every SQL kind takes: a source's (pool, caps) and a tool's (sql)
//! - `config.rs`    those source keys -> settings, read alike by every SQL kind
//! - `introspect.rs` table metadata -> a mapping skeleton

pub mod compile;
pub mod config;
pub mod introspect;
pub mod keys;
pub mod statement;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use crate::mapping::model::FieldType;
use crate::value::Value;
pub use statement::{Placeholders, Statement};
// Declared result columns are shared with SOAP tools: they live below both, in `rows`.
pub use super::rows::Column;

/// A tool call's SQL with every value bound.
#[derive(Debug, Clone)]
pub struct SqlQuery {
    pub statement: Arc<Statement>,
    /// Identifier fragments, already checked against their allow-list.
    pub idents: HashMap<String, String>,
    /// Value parameters; an optional one the caller left out is `Null`.
    pub params: HashMap<String, Value>,
    pub columns: Arc<[Column]>,
    /// Keyset columns (indexes into `columns`); empty for offset paging.
    pub key: Vec<usize>,
    /// Resume after this key (keyset paging).
    pub after: Option<Vec<Value>>,
    /// Rows to skip (offset paging).
    pub offset: u64,
    /// Rows to return; one more is read to know whether the result is truncated.
    pub limit: u64,
}

impl SqlQuery {
    /// Whether running the statement twice is harmless: a plain query. A statement that may
    /// change data (`allow_writes: true`, a procedure call) is sent once, never retried.
    pub fn may_repeat(&self) -> bool {
        self.statement.change().is_none()
    }
}

/// How a backend writes placeholders and quotes identifiers.
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    pub placeholders: Placeholders,
    pub open_quote: char,
    pub close_quote: char,
    /// The database takes `LIMIT n` at the end of a query (PostgreSQL, MySQL/MariaDB,
    /// SQLite): the row cap is sent with the query, so the server (and a driver that buffers
    /// whole results) stops there.
    pub limit_clause: bool,
    /// The database sorts NULLs last in ascending order unless told `NULLS FIRST`
    /// (PostgreSQL; SQLite takes the clause too). Keyset order puts NULL keys first, so the
    /// first page shows them (see `pipeline::check_keys`); MySQL/MariaDB and SQL Server sort
    /// them first already.
    pub nulls_first_clause: bool,
}

impl Dialect {
    fn quote(&self, name: &str) -> String {
        let c = self.close_quote;
        format!(
            "{}{}{c}",
            self.open_quote,
            name.replace(c, &format!("{c}{c}"))
        )
    }
}

impl SqlQuery {
    /// Rows to read past before keeping any: a cursor's offset, unless keyset paging resumes
    /// by key.
    pub fn skip(&self) -> u64 {
        if self.key.is_empty() { self.offset } else { 0 }
    }

    /// Rows a backend needs at most: those skipped, the page, and one more to know whether the
    /// result is truncated.
    pub fn rows_wanted(&self) -> u64 {
        self.skip() + self.limit + 1
    }

    /// The SQL to send and the values for its placeholders, in order. With a key, the mapping's
    /// query is wrapped so rows come in key order and resume after the cursor's key.
    pub fn render(&self, d: Dialect) -> (String, Vec<Value>) {
        let r = self.statement.render(d.placeholders, &|name| {
            self.idents.get(name).cloned().unwrap_or_default()
        });
        let mut binds: Vec<Value> = r
            .binds
            .iter()
            .map(|n| self.params.get(n).cloned().unwrap_or(Value::Null))
            .collect();
        // The row cap as a bound value, when the database takes it and the query has none.
        let cap = |sql: &mut String, binds: &mut Vec<Value>| {
            if d.limit_clause && self.statement.open_ended && self.may_repeat() {
                binds.push(Value::Int(self.rows_wanted().min(i64::MAX as u64) as i64));
                sql.push_str("\nLIMIT ?");
            }
        };
        if self.key.is_empty() {
            let mut sql = r.sql;
            cap(&mut sql, &mut binds);
            return (sql, binds);
        }
        let keys: Vec<String> = self
            .key
            .iter()
            .map(|&i| d.quote(&self.columns[i].name))
            .collect();
        let mut sql = format!("SELECT * FROM (\n{}\n) legacy_mcp_q", r.sql);
        if let Some(after) = &self.after {
            let mut next = |v: &Value| -> String {
                binds.push(v.clone());
                match d.placeholders {
                    Placeholders::Question => "?".into(),
                    Placeholders::AtP => format!("@P{}", binds.len()),
                }
            };
            // (k1 > a) OR (k1 = a AND k2 > b) OR ...
            let mut ors = Vec::new();
            for i in 0..keys.len() {
                let mut ands = Vec::new();
                for j in 0..i {
                    ands.push(format!("{} = {}", keys[j], next(&after[j])));
                }
                ands.push(format!("{} > {}", keys[i], next(&after[i])));
                ors.push(format!("({})", ands.join(" AND ")));
            }
            sql.push_str(&format!(" WHERE {}", ors.join(" OR ")));
        }
        let suffix = if d.nulls_first_clause {
            " NULLS FIRST"
        } else {
            ""
        };
        let order: Vec<String> = keys.iter().map(|k| format!("{k}{suffix}")).collect();
        sql.push_str(&format!(" ORDER BY {}", order.join(", ")));
        cap(&mut sql, &mut binds);
        (sql, binds)
    }
}

/// Rows collected from a result stream: the offset still to skip (offset paging), the limit to
/// keep, and whether a row past the limit was seen.
pub struct Rows {
    skip: u64,
    limit: u64,
    rows: Vec<Vec<Value>>,
    truncated: bool,
}

impl Rows {
    pub fn new(q: &SqlQuery) -> Rows {
        Rows {
            skip: q.skip(),
            limit: q.limit,
            rows: Vec::new(),
            truncated: false,
        }
    }

    /// Count a row being skipped; true while there are rows left to skip.
    pub fn skipping(&mut self) -> bool {
        if self.skip > 0 {
            self.skip -= 1;
            return true;
        }
        false
    }

    /// Add a row; true when the limit is passed and no more rows are wanted.
    pub fn push(&mut self, row: Vec<Value>) -> bool {
        if self.rows.len() as u64 >= self.limit {
            self.truncated = true;
            return true;
        }
        self.rows.push(row);
        false
    }

    pub fn finish(self) -> super::rows::RowSet {
        super::rows::RowSet {
            rows: self.rows,
            truncated: self.truncated,
            version: String::new(),
            notice: None,
        }
    }
}

/// A permit to use one of a pool's `pool` connections, waiting at most `wait`; then the
/// source is busy.
pub async fn permit(
    permits: &Arc<tokio::sync::Semaphore>,
    wait: Duration,
    src: &str,
    pool: u32,
) -> Result<tokio::sync::OwnedSemaphorePermit, SqlError> {
    let started = Instant::now();
    tokio::time::timeout(wait, permits.clone().acquire_owned())
        .await
        .ok()
        .and_then(|p| p.ok())
        .ok_or_else(|| SqlError::Busy {
            src: src.to_string(),
            pool,
            waited_ms: started.elapsed().as_millis(),
        })
}

/// How driver text becomes a typed value.
#[derive(Debug, Clone, Default)]
pub struct CellRules {
    /// Remove trailing blanks (CHAR padding) from strings.
    pub trim_padding: bool,
    /// Dates meaning "no date" (NAV's 1753-01-01).
    pub null_dates: Vec<NaiveDate>,
}

/// Parse one cell as the driver rendered it (ODBC's character conversions; ISO layouts).
pub fn parse_cell(kind: FieldType, text: &str, rules: &CellRules) -> Result<Value, String> {
    let t = text.trim();
    let fail = || format!("`{}` is not a {}", excerpt(text), kind.name());
    let not_sentinel = |d: NaiveDate| !rules.null_dates.contains(&d);
    Ok(match kind {
        FieldType::String => Value::Str(if rules.trim_padding {
            text.trim_end_matches(' ').to_string()
        } else {
            text.to_string()
        }),
        FieldType::Integer => Value::Int(t.parse().map_err(|_| fail())?),
        FieldType::Number => Value::Num(t.parse().map_err(|_| fail())?),
        FieldType::Decimal => Value::DecText(canonical_decimal(t).ok_or_else(fail)?),
        FieldType::Boolean => match t.to_ascii_lowercase().as_str() {
            "1" | "t" | "true" | "y" | "yes" => Value::Bool(true),
            "0" | "f" | "false" | "n" | "no" => Value::Bool(false),
            _ => return Err(fail()),
        },
        FieldType::Date => {
            let d = parse_datetime(t).map(|x| x.date()).ok_or_else(fail)?;
            if not_sentinel(d) {
                Value::Date(d)
            } else {
                Value::Null
            }
        }
        FieldType::Datetime => {
            let x = parse_datetime(t).ok_or_else(fail)?;
            if not_sentinel(x.date()) {
                Value::DateTime(x)
            } else {
                Value::Null
            }
        }
        FieldType::Time => Value::Time(parse_time(t).ok_or_else(fail)?),
        FieldType::Binary => Value::Bytes(text.as_bytes().to_vec()),
    })
}

fn excerpt(text: &str) -> String {
    let mut s: String = text.chars().take(40).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s
}

/// `12.50`, `-.5`, `+3`, `1.5E-3` → `12.50`, `-0.5`, `3`, `0.0015`: every digit kept, nothing
/// rounded (drivers for REAL-backed numerics, such as SQLite's, answer in exponent form).
pub fn canonical_decimal(t: &str) -> Option<String> {
    let (neg, body) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], body[i + 1..].parse::<i32>().ok()?),
        None => (body, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    // All digits with the point `point` places from the left, then shifted by the exponent.
    let all = format!("{int}{frac}");
    let point = int.len() as i64 + exp as i64;
    if !(-400..=400).contains(&point) {
        return None;
    }
    let (mut int, frac) = if point <= 0 {
        (
            String::new(),
            format!("{}{all}", "0".repeat(-point as usize)),
        )
    } else if point as usize >= all.len() {
        (
            format!("{all}{}", "0".repeat(point as usize - all.len())),
            String::new(),
        )
    } else {
        (
            all[..point as usize].to_string(),
            all[point as usize..].to_string(),
        )
    };
    // Exponent forms carry a meaningless trailing zero (`1.0e-20`).
    let frac = if exp != 0 {
        frac.trim_end_matches('0').to_string()
    } else {
        frac
    };
    int = int.trim_start_matches('0').to_string();
    if int.is_empty() {
        int.push('0');
    }
    let zero = int == "0" && frac.bytes().all(|b| b == b'0');
    let mut out = String::with_capacity(int.len() + frac.len() + 2);
    if neg && !zero {
        out.push('-');
    }
    out.push_str(&int);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(&frac);
    }
    Some(out)
}

/// `2026-11-20`, `2026-11-20 14:30:00`, `2026-11-20T14:30:00.1234567`.
pub fn parse_datetime(t: &str) -> Option<NaiveDateTime> {
    let (date, time) = match t.find([' ', 'T']) {
        Some(i) => (&t[..i], Some(t[i + 1..].trim())),
        None => (t, None),
    };
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let tm = match time {
        Some(x) if !x.is_empty() => parse_time(x)?,
        _ => NaiveTime::MIN,
    };
    Some(d.and_time(tm))
}

pub fn parse_time(t: &str) -> Option<NaiveTime> {
    // Fractions past nanoseconds (none seen, but cheap to allow) are cut by chrono's %.f.
    NaiveTime::parse_from_str(t, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M"))
        .ok()
}

/// A key value carried in a cursor (its JSON form) back to a typed value for binding.
pub fn key_value(kind: FieldType, j: &serde_json::Value) -> Option<Value> {
    use base64::Engine;
    if j.is_null() {
        return Some(Value::Null);
    }
    match kind {
        FieldType::Integer => j.as_i64().map(Value::Int),
        FieldType::Number => j.as_f64().map(Value::Num),
        FieldType::Boolean => j.as_bool().map(Value::Bool),
        FieldType::Binary => base64::engine::general_purpose::STANDARD
            .decode(j.as_str()?)
            .ok()
            .map(Value::Bytes),
        _ => parse_cell(kind, j.as_str()?, &CellRules::default()).ok(),
    }
}

/// A SQL backend's failure, worded for the agent. Temporary ones say so. No message carries a
/// credential: backends scrub driver text before building these.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SqlError {
    #[error("source `{src}` is unreachable ({detail}); this is temporary: try again in a moment")]
    Unreachable { src: String, detail: String },
    #[error(
        "source `{src}` refused the login ({code}); the adapter's database credentials need attention"
    )]
    Login { src: String, code: String },
    #[error(
        "the query on source `{src}` timed out after {seconds}s and was cancelled; narrow the arguments or try again later"
    )]
    Timeout { src: String, seconds: u64 },
    #[error(
        "source `{src}` is busy: all {pool} connections stayed in use for {waited_ms} ms; try again in a moment"
    )]
    Busy {
        src: String,
        pool: u32,
        waited_ms: u128,
    },
    #[error(
        "source `{src}` chose this query as a deadlock victim ({code}); this is temporary: try again"
    )]
    Deadlock { src: String, code: String },
    #[error(
        "source `{src}` cannot be used as configured: {message}; the adapter's settings for it need attention"
    )]
    Config { src: String, message: String },
    #[error("source `{src}` answered with an error: {code}: {message}")]
    Driver {
        src: String,
        /// `SQLSTATE 42S02` (ODBC) or `SQL Server error 208` (TDS).
        code: String,
        message: String,
    },
    #[error("source `{src}`: {message}")]
    Data { src: String, message: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_keep_every_digit() {
        let wide = "123456789012345678.12345678901234567890";
        assert_eq!(canonical_decimal(wide).unwrap(), wide);
        assert_eq!(canonical_decimal("-.50").unwrap(), "-0.50");
        assert_eq!(canonical_decimal("+007").unwrap(), "7");
        assert_eq!(canonical_decimal("-0.00").unwrap(), "0.00");
        assert_eq!(
            canonical_decimal("1.0e-20").unwrap(),
            "0.00000000000000000001"
        );
        assert_eq!(canonical_decimal("-9.87654321E4").unwrap(), "-98765.4321");
        assert_eq!(canonical_decimal("1e5").unwrap(), "100000");
        assert!(canonical_decimal("1e").is_none());
        assert!(canonical_decimal(".").is_none());
    }

    #[test]
    fn sentinel_dates_read_as_null() {
        let rules = CellRules {
            trim_padding: true,
            null_dates: vec![NaiveDate::from_ymd_opt(1753, 1, 1).unwrap()],
        };
        let v = parse_cell(FieldType::Datetime, "1753-01-01 00:00:00.000", &rules).unwrap();
        assert_eq!(v, Value::Null);
        let v = parse_cell(FieldType::Date, "2024-02-29", &rules).unwrap();
        assert_eq!(v.to_json(), "2024-02-29");
        let v = parse_cell(FieldType::String, "AB   ", &rules).unwrap();
        assert_eq!(v, Value::Str("AB".into()));
    }

    #[test]
    fn keyset_wraps_the_query() {
        let q = SqlQuery {
            statement: Arc::new(Statement::parse("SELECT a, b FROM t WHERE c = :c").unwrap()),
            idents: HashMap::new(),
            params: [("c".to_string(), Value::Int(1))].into(),
            columns: vec![
                Column {
                    name: "a".into(),
                    kind: FieldType::String,
                    description: None,
                    withheld: false,
                },
                Column {
                    name: "b".into(),
                    kind: FieldType::Integer,
                    description: None,
                    withheld: false,
                },
            ]
            .into(),
            key: vec![0, 1],
            after: Some(vec![Value::Str("x".into()), Value::Int(5)]),
            offset: 0,
            limit: 10,
        };
        let d = Dialect {
            placeholders: Placeholders::AtP,
            open_quote: '[',
            close_quote: ']',
            limit_clause: false,
            nulls_first_clause: false,
        };
        let (sql, binds) = q.render(d);
        assert_eq!(
            sql,
            "SELECT * FROM (\nSELECT a, b FROM t WHERE c = @P1\n) legacy_mcp_q WHERE ([a] > @P2) OR ([a] = @P3 AND [b] > @P4) ORDER BY [a], [b]"
        );
        assert_eq!(binds.len(), 4);
        // Where the database takes `LIMIT`, the row cap (page, one more) goes with it, bound.
        let d = Dialect {
            placeholders: Placeholders::Question,
            open_quote: '"',
            close_quote: '"',
            limit_clause: true,
            nulls_first_clause: false,
        };
        let (sql, binds) = q.render(d);
        assert!(sql.ends_with("ORDER BY \"a\", \"b\"\nLIMIT ?"), "{sql}");
        assert_eq!(binds.last(), Some(&Value::Int(11)));
        // A query with a limit of its own, or one that writes, is left as it is.
        for text in [
            "SELECT a FROM t LIMIT 3",
            "SELECT a FROM t FETCH FIRST 3 ROWS ONLY",
        ] {
            let own = SqlQuery {
                statement: Arc::new(Statement::parse(text).unwrap()),
                key: vec![],
                after: None,
                ..q.clone()
            };
            assert_eq!(own.render(d).0, text);
        }
        let plain = SqlQuery {
            key: vec![],
            after: None,
            offset: 20,
            ..q.clone()
        };
        let (sql, binds) = plain.render(d);
        assert_eq!(sql, "SELECT a, b FROM t WHERE c = ?\nLIMIT ?");
        assert_eq!(binds, vec![Value::Int(1), Value::Int(31)]);
    }
}
