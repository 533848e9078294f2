//! `legacy-mcp introspect` on an ODBC source: a table's catalogue metadata (columns with their
//! SQL types, the primary key), for `sql::introspect::skeleton`.
//!
//! Column types come from describing `SELECT * FROM t WHERE 1 = 0` (what the driver reports
//! for a real result set, portable across drivers); the key from `SQLPrimaryKeys`.

use odbc_api::{DataType, ResultSetMetadata};

use super::OdbcSource;
use super::pool::Worker;
use crate::backend::sql::SqlError;
use crate::backend::sql::introspect::{ColumnInfo, TableInfo};
use crate::mapping::model::FieldType;

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
    let conn = w.connection()?;
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
        let short_text = matches!(
            dt,
            DataType::Char { .. }
                | DataType::Varchar { .. }
                | DataType::WChar { .. }
                | DataType::WVarchar { .. }
        );
        columns.push(ColumnInfo {
            name,
            kind: field_type(dt),
            sql_type: sql_type(&dt),
            short_text,
        });
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

/// The column's type as SQL writes it (`VARCHAR(5)`, `DECIMAL(12,2)`), for descriptions.
fn sql_type(dt: &DataType) -> String {
    let sized = |name: &str, n: &Option<std::num::NonZeroUsize>| match n {
        Some(n) => format!("{name}({n})"),
        None => name.to_string(),
    };
    match dt {
        DataType::Char { length } => sized("CHAR", length),
        DataType::Varchar { length } => sized("VARCHAR", length),
        DataType::WChar { length } => sized("NCHAR", length),
        DataType::WVarchar { length } => sized("NVARCHAR", length),
        DataType::LongVarchar { .. } | DataType::WLongVarchar { .. } => "TEXT".into(),
        DataType::Decimal { precision, scale } => format!("DECIMAL({precision},{scale})"),
        DataType::Numeric { precision, scale } => format!("NUMERIC({precision},{scale})"),
        DataType::Integer => "INTEGER".into(),
        DataType::SmallInt => "SMALLINT".into(),
        DataType::TinyInt => "TINYINT".into(),
        DataType::BigInt => "BIGINT".into(),
        DataType::Real => "REAL".into(),
        DataType::Float { .. } | DataType::Double => "DOUBLE".into(),
        DataType::Bit => "BIT".into(),
        DataType::Date => "DATE".into(),
        DataType::Time { .. } => "TIME".into(),
        DataType::Timestamp { .. } => "TIMESTAMP".into(),
        DataType::Binary { .. } | DataType::Varbinary { .. } | DataType::LongVarbinary { .. } => {
            "BINARY".into()
        }
        other => format!("{other:?}").to_ascii_uppercase(),
    }
}
