//! `legacy-mcp introspect`: a table's catalogue metadata (columns with their SQL types, the
//! primary key) turned into a mapping skeleton: a lookup tool by primary key and a paged list
//! tool with optional filters, typed parameters and result columns, ready for `check`.
//!
//! Column types come from describing `SELECT * FROM t WHERE 1 = 0` (what the driver reports
//! for a real result set, portable across drivers); the key from `SQLPrimaryKeys`.

use std::fmt::Write;

use odbc_api::{DataType, ResultSetMetadata};

use super::OdbcSource;
use super::pool::Worker;
use crate::backend::sql::SqlError;
use crate::mapping::model::FieldType;

/// What the catalogue says about one table.
#[derive(Debug)]
pub struct TableInfo {
    pub table: String,
    /// (name, type, SQL type as the driver reported it)
    pub columns: Vec<(String, FieldType, String)>,
    pub key: Vec<String>,
    pub quote: char,
}

impl OdbcSource {
    pub async fn describe(&self, table: &str) -> Result<TableInfo, SqlError> {
        let table = table.to_string();
        let settings = self.settings.clone();
        // A private worker: introspection is a one-off command, not served traffic.
        let pool = super::pool::Pool::start(settings);
        pool.run(move |w| describe(w, &table)).await
    }
}

fn describe(w: &mut Worker, table: &str) -> Result<TableInfo, SqlError> {
    let s = w.settings.clone();
    let fail = |e: odbc_api::Error| SqlError::Driver {
        src: s.name.clone(),
        code: "SQLSTATE HY000".into(),
        message: s.scrub(&e.to_string()),
    };
    w.connection()?;
    let quote = w.quote;
    let conn = w.conn.as_ref().expect("just connected");
    let (open, close) = if quote == '[' {
        ('[', ']')
    } else {
        (quote, quote)
    };
    let quoted = table
        .split('.')
        .map(|part| {
            format!(
                "{open}{}{close}",
                part.replace(close, &format!("{close}{close}"))
            )
        })
        .collect::<Vec<_>>()
        .join(".");
    let mut cursor = conn
        .execute(&format!("SELECT * FROM {quoted} WHERE 1 = 0"), (), None)
        .map_err(fail)?
        .ok_or_else(|| SqlError::Data {
            src: s.name.clone(),
            message: format!("`{table}` returned no result set"),
        })?;
    let mut columns = Vec::new();
    let n = cursor.num_result_cols().map_err(fail)?;
    for i in 1..=n as u16 {
        let name = cursor.col_name(i).map_err(fail)?;
        let dt = cursor.col_data_type(i).map_err(fail)?;
        columns.push((name, field_type(dt), format!("{dt:?}")));
    }
    drop(cursor);
    let (schema, name) = match table.rsplit_once('.') {
        Some((s, t)) => (Some(s), t),
        None => (None, table),
    };
    let mut key: Vec<(i16, String)> = Vec::new();
    if let Ok(rows) = conn.primary_keys(None, schema, name) {
        for row in rows.flatten() {
            let column =
                String::from_utf8_lossy(row.column.as_bytes().unwrap_or_default()).into_owned();
            key.push((row.key_seq, column));
        }
    }
    key.sort();
    Ok(TableInfo {
        table: table.to_string(),
        columns,
        key: key.into_iter().map(|k| k.1).collect(),
        quote,
    })
}

/// The mapping type for a driver-reported SQL type.
pub fn field_type(dt: DataType) -> FieldType {
    match dt {
        DataType::Integer | DataType::SmallInt | DataType::TinyInt | DataType::BigInt => {
            FieldType::Integer
        }
        DataType::Numeric {
            scale: 0,
            precision,
        }
        | DataType::Decimal {
            scale: 0,
            precision,
        } if precision <= 18 => FieldType::Integer,
        DataType::Numeric { .. } | DataType::Decimal { .. } => FieldType::Decimal,
        DataType::Float { .. } | DataType::Real | DataType::Double => FieldType::Number,
        DataType::Bit => FieldType::Boolean,
        DataType::Date => FieldType::Date,
        DataType::Time { .. } => FieldType::Time,
        DataType::Timestamp { .. } => FieldType::Datetime,
        DataType::Binary { .. } | DataType::Varbinary { .. } | DataType::LongVarbinary { .. } => {
            FieldType::Binary
        }
        _ => FieldType::String,
    }
}

/// `Search Name` → `search_name`: a parameter or tool name agents can type.
fn ident(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("c_{out}")
    } else {
        out
    }
}

fn q(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialise")
}

/// The mapping skeleton for `info`, on source `source`.
pub fn skeleton(source: &str, info: &TableInfo) -> String {
    let (open, close) = if info.quote == '[' {
        ('[', ']')
    } else {
        (info.quote, info.quote)
    };
    let qi = |n: &str| {
        format!(
            "{open}{}{close}",
            n.replace(close, &format!("{close}{close}"))
        )
    };
    let base = ident(info.table.rsplit('.').next().unwrap_or(&info.table));
    let table = info.table.split('.').map(qi).collect::<Vec<_>>().join(".");
    let select = info
        .columns
        .iter()
        .map(|c| qi(&c.0))
        .collect::<Vec<_>>()
        .join(", ");
    let kind_of = |n: &str| {
        info.columns
            .iter()
            .find(|c| c.0 == n)
            .map_or(FieldType::String, |c| c.1)
    };
    let param_type = |k: FieldType| match k {
        FieldType::Integer => "integer",
        FieldType::Number => "number",
        FieldType::Boolean => "boolean",
        FieldType::Date => "date",
        _ => "string",
    };
    let mut columns = String::new();
    for (name, kind, sql) in &info.columns {
        let _ = writeln!(
            columns,
            "      {}: {{type: {}, description: {}}}",
            q(name),
            kind.name(),
            q(&format!("{sql} column {name}"))
        );
    }
    let mut out = format!(
        "# Generated by `legacy-mcp introspect --source {source} --table {}`.\n# Review the descriptions: they are what agents read to choose a tool.\nversion: 1\ntools:\n",
        info.table
    );
    if !info.key.is_empty() {
        let mut params = String::new();
        let mut wheres = Vec::new();
        for k in &info.key {
            let p = ident(k);
            let _ = writeln!(
                params,
                "      {p}: {{type: {}, description: {}}}",
                param_type(kind_of(k)),
                q(&format!("The {k} of the row."))
            );
            wheres.push(format!("{} = :{p}", qi(k)));
        }
        let _ = write!(
            out,
            "  get_{base}:\n    description: {}\n    source: {source}\n    sql: {}\n    parameters:\n{params}    columns:\n{columns}    result: {{one: true}}\n",
            q(&format!(
                "One row of {} by its primary key ({}).",
                info.table,
                info.key.join(", ")
            )),
            q(&format!(
                "SELECT {select} FROM {table} WHERE {}",
                wheres.join(" AND ")
            )),
        );
    }
    // Optional equality filters on up to three text columns outside the key.
    let filters: Vec<&str> = info
        .columns
        .iter()
        .filter(|c| {
            let short_text = ["Char", "Varchar", "WChar", "WVarchar"]
                .iter()
                .any(|t| c.2.starts_with(&format!("{t} ")));
            short_text && !info.key.contains(&c.0)
        })
        .map(|c| c.0.as_str())
        .take(3)
        .collect();
    let mut params = String::new();
    let mut wheres = Vec::new();
    for f in &filters {
        let p = ident(f);
        let _ = writeln!(
            params,
            "      {p}: {{type: string, required: false, description: {}}}",
            q(&format!("Only rows whose {f} equals this."))
        );
        // The CAST gives the NULL test a type (PostgreSQL cannot infer one for `? IS NULL`).
        wheres.push(format!(
            "(CAST(:{p} AS VARCHAR(255)) IS NULL OR {} = :{p})",
            qi(f)
        ));
    }
    let mut list = format!(
        "  list_{base}:\n    description: {}\n    source: {source}\n    sql: {}\n",
        q(&format!(
            "Rows of {}{}{}, paged; follow next_cursor for more.",
            info.table,
            if filters.is_empty() {
                String::new()
            } else {
                format!(", optionally filtered by {}", filters.join(", "))
            },
            if info.key.is_empty() {
                String::new()
            } else {
                format!(", in `{}` order", info.key.join(", "))
            }
        )),
        q(&format!(
            "SELECT {select} FROM {table}{}",
            if wheres.is_empty() {
                String::new()
            } else {
                format!(" WHERE {}", wheres.join(" AND "))
            }
        )),
    );
    if !params.is_empty() {
        let _ = write!(list, "    parameters:\n{params}");
    }
    let _ = write!(list, "    columns:\n{columns}");
    if !info.key.is_empty() {
        let keys: Vec<String> = info.key.iter().map(|k| q(k)).collect();
        let _ = writeln!(list, "    key: [{}]", keys.join(", "));
    }
    out.push_str(&list);
    out.push_str("    limit: 50\n");
    out
}
