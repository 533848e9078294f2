//! `legacy-mcp introspect` on an mssql source: a table's columns and primary key from
//! INFORMATION_SCHEMA, for `sql::introspect::skeleton`. The queries go through the source's
//! own pool and binding, so the schema and table names are bound values like any other.

use std::collections::HashMap;
use std::sync::Arc;

use super::MssqlSource;
use crate::backend::sql::introspect::{ColumnInfo, TableInfo};
use crate::backend::sql::{Column, SqlError, SqlQuery, Statement};
use crate::mapping::model::FieldType;
use crate::value::Value;

const COLUMNS: &str = "SELECT COLUMN_NAME, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE \
FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = :schema AND TABLE_NAME = :table ORDER BY ORDINAL_POSITION";

const KEY: &str = "SELECT k.COLUMN_NAME FROM INFORMATION_SCHEMA.TABLE_CONSTRAINTS t \
JOIN INFORMATION_SCHEMA.KEY_COLUMN_USAGE k ON k.CONSTRAINT_NAME = t.CONSTRAINT_NAME \
AND k.TABLE_SCHEMA = t.TABLE_SCHEMA AND k.TABLE_NAME = t.TABLE_NAME \
WHERE t.CONSTRAINT_TYPE = 'PRIMARY KEY' AND t.TABLE_SCHEMA = :schema AND t.TABLE_NAME = :table \
ORDER BY k.ORDINAL_POSITION";

impl MssqlSource {
    /// `table` is `name` (schema dbo) or `schema.name`.
    pub async fn describe(&self, table: &str) -> Result<TableInfo, SqlError> {
        let (schema, name) = table.split_once('.').unwrap_or(("dbo", table));
        let params: HashMap<String, Value> = [
            ("schema".to_string(), Value::Str(schema.into())),
            ("table".to_string(), Value::Str(name.into())),
        ]
        .into();
        let text = |n: &'static str| (n, FieldType::String);
        let int = |n: &'static str| (n, FieldType::Integer);
        let cols = self
            .run(query(
                COLUMNS,
                &[
                    text("COLUMN_NAME"),
                    text("DATA_TYPE"),
                    int("CHARACTER_MAXIMUM_LENGTH"),
                    int("NUMERIC_PRECISION"),
                    int("NUMERIC_SCALE"),
                ],
                &params,
            ))
            .await?;
        if cols.rows.is_empty() {
            return Err(SqlError::Data {
                src: self.settings().name.clone(),
                message: format!(
                    "no table or view `{name}` in schema `{schema}` (INFORMATION_SCHEMA.COLUMNS lists no columns for it); write the table as schema.name if it is not in dbo"
                ),
            });
        }
        let key = self
            .run(query(KEY, &[text("COLUMN_NAME")], &params))
            .await?;
        Ok(TableInfo {
            table: table.to_string(),
            columns: cols.rows.iter().map(|r| column(r)).collect(),
            key: key.rows.iter().map(|r| r[0].to_text()).collect(),
            quote: '[',
        })
    }
}

fn query(sql: &str, columns: &[(&str, FieldType)], params: &HashMap<String, Value>) -> SqlQuery {
    SqlQuery {
        statement: Arc::new(Statement::parse(sql).expect("fixed catalogue query parses")),
        idents: HashMap::new(),
        params: params.clone(),
        columns: columns
            .iter()
            .map(|(n, k)| Column {
                withheld: false,
                name: n.to_string(),
                kind: *k,
                description: None,
            })
            .collect(),
        key: Vec::new(),
        after: None,
        offset: 0,
        limit: 10_000,
    }
}

/// A row of INFORMATION_SCHEMA.COLUMNS as a described column.
fn column(r: &[Value]) -> ColumnInfo {
    let int = |v: &Value| match v {
        Value::Int(i) => Some(*i),
        _ => None,
    };
    let data_type = r[1].to_text().to_ascii_lowercase();
    let (length, precision, scale) = (int(&r[2]), int(&r[3]), int(&r[4]));
    let kind = field_type(&data_type, precision, scale);
    let sql_type = match (length, precision, scale) {
        (Some(-1), ..) => format!("{data_type}(max)"),
        (Some(n), ..) => format!("{data_type}({n})"),
        (None, Some(p), Some(s)) if matches!(data_type.as_str(), "decimal" | "numeric") => {
            format!("{data_type}({p},{s})")
        }
        _ => data_type.clone(),
    };
    let short_text = matches!(
        data_type.as_str(),
        "char" | "varchar" | "nchar" | "nvarchar"
    ) && length.is_some_and(|n| (1..=255).contains(&n));
    ColumnInfo {
        name: r[0].to_text(),
        kind,
        sql_type,
        short_text,
    }
}

/// The mapping type for a SQL Server type name.
pub fn field_type(data_type: &str, precision: Option<i64>, scale: Option<i64>) -> FieldType {
    match data_type {
        "int" | "smallint" | "tinyint" | "bigint" => FieldType::Integer,
        "decimal" | "numeric" if scale == Some(0) && precision.is_some_and(|p| p <= 18) => {
            FieldType::Integer
        }
        "decimal" | "numeric" | "money" | "smallmoney" => FieldType::Decimal,
        "float" | "real" => FieldType::Number,
        "bit" => FieldType::Boolean,
        "date" => FieldType::Date,
        "time" => FieldType::Time,
        "datetime" | "datetime2" | "smalldatetime" | "datetimeoffset" => FieldType::Datetime,
        "binary" | "varbinary" | "image" | "timestamp" | "rowversion" => FieldType::Binary,
        _ => FieldType::String,
    }
}
