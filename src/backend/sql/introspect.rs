//! `legacy-mcp introspect`: what a SQL source's catalogue says about one table, turned into a
//! mapping skeleton: a lookup tool by primary key and a paged list tool with optional filters,
//! typed parameters and result columns, ready for `check`. Each SQL backend fills `TableInfo`
//! its own way (ODBC's catalogue functions, SQL Server's INFORMATION_SCHEMA).

use std::fmt::Write;

use crate::mapping::model::FieldType;

// What a table looks like is the introspect interface every kind may fill (`kind::Backend`).
pub use crate::backend::kind::{ColumnInfo, TableInfo};

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

/// How the list tool filters on a column.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Filter {
    /// `LIKE`, for names and descriptions: an agent knows how they start.
    Prefix,
    /// `=`, for places, codes and states.
    Equals,
}

/// What a column's name says it holds, for choosing filters.
fn filter_for(name: &str) -> Option<Filter> {
    let n = name.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| n.contains(w));
    if has(&["name", "descr", "title", "text"]) {
        Some(Filter::Prefix)
    } else if has(&[
        "city", "country", "state", "region", "zip", "postal", "status", "type", "category",
        "group", "currency",
    ]) {
        Some(Filter::Equals)
    } else {
        None
    }
}

/// Up to three filters for the list tool: bounded text columns outside the key, names and
/// descriptions first, then places and codes; when the names say nothing, the first text
/// columns by equality.
fn filters(info: &TableInfo) -> Vec<(&str, Filter)> {
    let candidates: Vec<&ColumnInfo> = info
        .columns
        .iter()
        .filter(|c| c.short_text && !info.key.contains(&c.name))
        .collect();
    let mut chosen: Vec<(&str, Filter)> = Vec::new();
    for want in [Filter::Prefix, Filter::Equals] {
        for c in &candidates {
            if filter_for(&c.name) == Some(want) {
                chosen.push((c.name.as_str(), want));
            }
        }
    }
    if chosen.is_empty() {
        chosen = candidates
            .iter()
            .map(|c| (c.name.as_str(), Filter::Equals))
            .collect();
    }
    chosen.truncate(3);
    chosen
}

/// `customer_id` → `Customer id`, `CustomerNo` → `Customer no`: a column name as words.
fn human(name: &str) -> String {
    let mut words = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c == '_' || c == ' ' || c == '-' {
            if !words.ends_with(' ') && !words.is_empty() {
                words.push(' ');
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower {
            words.push(' ');
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        words.extend(c.to_lowercase());
    }
    let words = words.trim().to_string();
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => name.to_string(),
    }
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
pub(crate) fn q(text: &str) -> String {
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
        .map(|c| qi(&c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let kind_of = |n: &str| {
        info.columns
            .iter()
            .find(|c| c.name == n)
            .map_or(FieldType::String, |c| c.kind)
    };
    let param_type = |k: FieldType| match k {
        FieldType::Integer => "integer",
        FieldType::Number => "number",
        FieldType::Boolean => "boolean",
        FieldType::Date => "date",
        _ => "string",
    };
    let mut columns = String::new();
    for c in &info.columns {
        let _ = writeln!(
            columns,
            "      {}: {{type: {}, description: {}}}",
            q(&c.name),
            c.kind.name(),
            q(&format!("{} ({})", human(&c.name), c.sql_type))
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
    // Optional filters on up to three text columns outside the key: names and descriptions by
    // their start, places and codes by equality; other text columns only when none is either.
    let filters = filters(info);
    let mut params = String::new();
    let mut wheres = Vec::new();
    for (f, how) in &filters {
        let p = ident(f);
        let (test, description) = match how {
            Filter::Prefix => (
                "LIKE",
                format!(
                    "Only rows whose {f} starts with this: the start followed by %, e.g. \"Bi%\"."
                ),
            ),
            Filter::Equals => ("=", format!("Only rows whose {f} equals this.")),
        };
        let _ = writeln!(
            params,
            "      {p}: {{type: string, required: false, description: {}}}",
            q(&description)
        );
        // The CAST gives the NULL test a type (PostgreSQL cannot infer one for `? IS NULL`).
        wheres.push(format!(
            "(CAST(:{p} AS VARCHAR(255)) IS NULL OR {} {test} :{p})",
            qi(f)
        ));
    }
    let filters: Vec<&str> = filters.iter().map(|(f, _)| *f).collect();
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

#[cfg(test)]
mod naming_tests {
    use super::*;

    fn col(name: &str, short_text: bool) -> ColumnInfo {
        ColumnInfo {
            name: name.into(),
            kind: FieldType::String,
            sql_type: "VARCHAR(30)".into(),
            short_text,
        }
    }

    #[test]
    fn names_read_as_words() {
        assert_eq!(human("customer_id"), "Customer id");
        assert_eq!(human("CustomerNo"), "Customer no");
        assert_eq!(human("No_"), "No");
        assert_eq!(human("ship-to city"), "Ship to city");
    }

    /// Names and descriptions by their start first, then places and codes by equality; the
    /// key and unbounded text never; other text columns only when the names say nothing.
    #[test]
    fn list_filters_follow_what_the_names_say() {
        let info = TableInfo {
            table: "customers".into(),
            columns: vec![
                col("customer_id", true),
                col("phone", true),
                col("city", true),
                col("company_name", true),
                col("notes", false),
                col("country", true),
            ],
            key: vec!["customer_id".into()],
            quote: '"',
        };
        assert_eq!(
            filters(&info),
            vec![
                ("company_name", Filter::Prefix),
                ("city", Filter::Equals),
                ("country", Filter::Equals)
            ]
        );
        let plain = TableInfo {
            columns: vec![col("a", true), col("b", true)],
            key: vec![],
            ..info
        };
        assert_eq!(
            filters(&plain),
            vec![("a", Filter::Equals), ("b", Filter::Equals)]
        );
    }
}
