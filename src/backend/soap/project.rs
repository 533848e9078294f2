//! From a SOAP answer to rows: follow the response path from `Body` (local names, so prefixes
//! never matter; `href="#id"` references of rpc/encoded answers are followed to their
//! `multiRef` element), optionally into a document carried as text (Sage X3 `resultXml`), then
//! read each column from its path inside the row element and type it.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;

use serde_json::Value as Json;

use super::client::Answer;
use super::fault::open_envelope;
use super::types::{FieldPath, Operation, SoapError, SoapSettings};
use super::xml::{self, Element};
use crate::backend::soap::operation_keys::EmbeddedFormat;
use crate::backend::sql::{CellRules, Column, parse_cell, parse_datetime};
use crate::mapping::model::FieldType;
use crate::value::Value;

/// The rows of one page, and how many the answer holds. Every row is read and typed (a bad
/// value anywhere fails the call, as before), but only the page's rows are kept: a long answer
/// costs the memory of one page of rows, not of all of them.
pub struct Page {
    offset: u64,
    limit: u64,
    pub total: u64,
    pub rows: Vec<Vec<Value>>,
}

impl Page {
    pub fn new(offset: u64, limit: u64) -> Page {
        Page {
            offset,
            limit,
            total: 0,
            rows: Vec::new(),
        }
    }

    fn push(&mut self, row: Vec<Value>) {
        if self.total >= self.offset && (self.rows.len() as u64) < self.limit {
            self.rows.push(row);
        }
        self.total += 1;
    }
}

/// Every row the answer holds, in document order, kept as one `Page`. Runs on a blocking thread; `stop` turns
/// true when the call is abandoned, and the reading and the projection stop there.
pub fn rows(
    a: &Answer,
    op: &Operation,
    s: &SoapSettings,
    stop: &AtomicBool,
    mut page: Page,
) -> Result<Page, SoapError> {
    let body = open_envelope(a, s, stop)?;
    let refs = Refs::index(&body, stop);
    let mut reached = vec![&body];
    for step in &op.rows.steps {
        reached = reached
            .into_iter()
            .flat_map(|e| refs.follow(e).children.iter())
            .filter(|c| step == "*" || c.name == *step)
            .map(|c| refs.follow(c))
            .collect();
    }
    let fail = |m: String| SoapError::Call(format!("source `{}`: {m}", s.name));
    match &op.rows.embedded {
        None => {
            for (i, e) in reached.iter().enumerate() {
                page.push(xml_row(e, op, &refs).map_err(|m| fail(format!("row {}: {m}", i + 1)))?);
            }
            Ok(page)
        }
        Some((EmbeddedFormat::Xml, steps)) => {
            let mut docs = Vec::new();
            for e in &reached {
                let doc = xml::parse_bounded(&e.text, &s.bounds(stop)).map_err(|x| {
                    fail(format!(
                        "the embedded XML in <{}> cannot be used: {x}",
                        e.name
                    ))
                })?;
                docs.push(doc);
            }
            let none = Refs::unlimited(stop);
            for doc in &docs {
                let mut at = vec![doc];
                for step in steps {
                    at = at
                        .into_iter()
                        .flat_map(|e| e.children.iter())
                        .filter(|c| step == "*" || c.name == *step)
                        .collect();
                }
                for e in at {
                    let n = page.total + 1;
                    page.push(xml_row(e, op, &none).map_err(|m| fail(format!("row {n}: {m}")))?);
                }
            }
            Ok(page)
        }
        Some((EmbeddedFormat::Json, steps)) => {
            for e in &reached {
                let doc: Json = serde_json::from_str(&e.text).map_err(|x| {
                    fail(format!(
                        "the embedded JSON in <{}> cannot be used: {x}",
                        e.name
                    ))
                })?;
                for item in json_walk(vec![&doc], steps) {
                    let n = page.total + 1;
                    page.push(json_row(item, op).map_err(|m| fail(format!("row {n}: {m}")))?);
                }
            }
            Ok(page)
        }
    }
}

/// Elements with an `id`, for `href="#id"` (SOAP-encoded multiRef answers), and the budget of
/// element visits the projection may spend. References let a small answer cost a great deal:
/// 16,000 rows pointing at one element with 150,000 children took 40 s of CPU to read
/// (2.4 billion visits). A projection may visit `VISITS_PER_ELEMENT` times the answer's
/// elements (plus a floor); past that the answer is refused.
struct Refs<'a> {
    ids: HashMap<&'a str, &'a Element>,
    left: std::cell::Cell<u64>,
    /// The call was abandoned: every later visit is refused.
    stop: &'a AtomicBool,
}

/// Element visits allowed per element of the answer (a legitimate answer visits each of its
/// elements once per field step that passes through it: a few times).
const VISITS_PER_ELEMENT: u64 = 64;
/// Visits allowed whatever the answer's size.
const VISITS_FLOOR: u64 = 1_000_000;

impl<'a> Refs<'a> {
    fn index(body: &'a Element, stop: &'a AtomicBool) -> Refs<'a> {
        fn walk<'a>(e: &'a Element, m: &mut HashMap<&'a str, &'a Element>, n: &mut u64) {
            *n += 1;
            if let Some(id) = e.attr("id") {
                m.insert(id, e);
            }
            for c in &e.children {
                walk(c, m, n);
            }
        }
        let (mut m, mut n) = (HashMap::new(), 0);
        walk(body, &mut m, &mut n);
        Refs {
            ids: m,
            left: std::cell::Cell::new(n.saturating_mul(VISITS_PER_ELEMENT) + VISITS_FLOOR),
            stop,
        }
    }

    /// A budget for an answer without references (an embedded document).
    fn unlimited(stop: &'a AtomicBool) -> Refs<'a> {
        Refs {
            ids: HashMap::new(),
            left: std::cell::Cell::new(u64::MAX),
            stop,
        }
    }

    /// Spend `n` visits, or say the answer is too costly.
    fn spend(&self, n: usize) -> Result<(), String> {
        if crate::backend::abandon::is_set(self.stop) {
            return Err("the call was abandoned (timed out or cancelled) while reading".into());
        }
        let left = self.left.get();
        if (n as u64) > left {
            return Err("the answer's references make it too costly to read (it revisits the same elements far more often than it has elements); nothing of it was used".into());
        }
        self.left.set(left - n as u64);
        Ok(())
    }

    /// The element itself, or the one its `href` points at (a few hops at most: a cycle of
    /// references must not loop).
    fn follow(&self, mut e: &'a Element) -> &'a Element {
        for _ in 0..8 {
            match e.attr("href").and_then(|h| h.strip_prefix('#')) {
                Some(id) if e.children.is_empty() => match self.ids.get(id) {
                    Some(target) => e = target,
                    None => return e,
                },
                _ => return e,
            }
        }
        e
    }
}

fn xml_row(row: &Element, op: &Operation, refs: &Refs) -> Result<Vec<Value>, String> {
    op.fields
        .iter()
        .zip(op.columns.iter())
        .map(|(f, c)| xml_field(row, c, f, refs))
        .collect()
}

/// One column of a result element: the text its path reaches, typed; or, for a column with
/// `fields:`, every record element its path reaches as an object of its own fields, so that a
/// line that omits an element gets null there instead of its neighbour's value.
fn xml_field(row: &Element, c: &Column, f: &FieldPath, refs: &Refs) -> Result<Value, String> {
    if f.present {
        return Ok(Value::Bool(true));
    }
    let mut found = vec![row];
    for step in &f.steps {
        let mut next = Vec::new();
        for e in found {
            let children = &refs.follow(e).children;
            refs.spend(children.len())?;
            next.extend(
                children
                    .iter()
                    .filter(|x| x.name == *step)
                    .map(|x| refs.follow(x)),
            );
        }
        found = next;
    }
    if let Some(record) = &f.record {
        return records(found, record, c, |e, rc, rf| xml_field(e, rc, rf, refs));
    }
    let texts: Vec<Option<&str>> = found
        .iter()
        .map(|e| match &f.attr {
            Some(a) => e.attr(a),
            None if e.is_nil() => None,
            None => Some(e.text.as_str()),
        })
        .collect();
    typed(c, f, texts)
}

fn json_walk<'a>(mut at: Vec<&'a Json>, steps: &[String]) -> Vec<&'a Json> {
    // Arrays along the way are stepped through: each item counts.
    let flatten = |v: Vec<&'a Json>| -> Vec<&'a Json> {
        v.into_iter()
            .flat_map(|j| match j {
                Json::Array(items) => items.iter().collect(),
                other => vec![other],
            })
            .collect()
    };
    for step in steps {
        at = flatten(at)
            .into_iter()
            .filter_map(|j| j.get(step))
            .collect();
    }
    flatten(at)
}

fn json_row(row: &Json, op: &Operation) -> Result<Vec<Value>, String> {
    op.fields
        .iter()
        .zip(op.columns.iter())
        .map(|(f, c)| json_field(row, c, f))
        .collect()
}

/// One column of an embedded JSON row; `fields:` makes every item the path reaches a record.
fn json_field(row: &Json, c: &Column, f: &FieldPath) -> Result<Value, String> {
    if f.present {
        return Ok(Value::Bool(true));
    }
    let mut found = vec![row];
    for step in f.steps.iter().chain(f.attr.iter()) {
        found = found.into_iter().filter_map(|j| j.get(step)).collect();
    }
    let found = if f.repeated || f.record.is_some() {
        json_walk(found, &[])
    } else {
        found
    };
    if let Some(record) = &f.record {
        return records(found, record, c, json_field);
    }
    let texts: Vec<Option<String>> = found
        .iter()
        .map(|j| match j {
            Json::Null => None,
            Json::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        })
        .collect();
    typed(c, f, texts.iter().map(|t| t.as_deref()).collect())
}

/// A `fields:` column: every element (or JSON item) its path reached as one record, each field
/// read from that element by `read`.
fn records<T: Copy>(
    found: Vec<T>,
    record: &[(Column, FieldPath)],
    c: &Column,
    read: impl Fn(T, &Column, &FieldPath) -> Result<Value, String>,
) -> Result<Value, String> {
    found
        .into_iter()
        .map(|e| {
            record
                .iter()
                .map(|(rc, rf)| {
                    read(e, rc, rf)
                        .map(|v| (rc.name.clone(), v))
                        .map_err(|m| format!("in `{}`: {m}", c.name))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Record)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Value::List)
}

/// The column's value from the texts its path reached (`None`: nil or a missing attribute).
fn typed(c: &Column, f: &FieldPath, texts: Vec<Option<&str>>) -> Result<Value, String> {
    let one = |t: Option<&str>| -> Result<Value, String> {
        match t {
            None => Ok(Value::Null),
            // An empty element is an empty string, but no number or date.
            Some(t) if t.trim().is_empty() && c.kind != FieldType::String => Ok(Value::Null),
            Some(t) => cell(c.kind, t).map_err(|e| c.value_error(e)),
        }
    };
    if f.repeated {
        return texts
            .into_iter()
            .map(one)
            .collect::<Result<_, _>>()
            .map(Value::List);
    }
    one(texts.into_iter().next().flatten())
}

/// XML Schema lexical forms: dates and times may carry a zone (`Z`, `+01:00`); a date-time
/// with a zone is given in UTC.
fn cell(kind: FieldType, text: &str) -> Result<Value, String> {
    let t = text.trim();
    match kind {
        FieldType::Datetime => {
            if let Ok(z) = chrono::DateTime::parse_from_rfc3339(t) {
                return Ok(Value::DateTime(z.naive_utc()));
            }
            parse_datetime(t)
                .map(Value::DateTime)
                .ok_or_else(|| format!("`{t}` is not a datetime"))
        }
        FieldType::Date => {
            let d = t.get(..10).unwrap_or(t);
            parse_cell(kind, d, &CellRules::default()).map_err(|_| format!("`{t}` is not a date"))
        }
        FieldType::Binary => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(t)
                .map(Value::Bytes)
                .map_err(|_| "the value is not base64".to_string())
        }
        _ => parse_cell(kind, text, &CellRules::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::soap::RowPath;
    use std::sync::Arc;

    #[test]
    fn multiref_answers_resolve() {
        let body = r##"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
          <ns1:getItemsResponse xmlns:ns1="urn:x"><getItemsReturn href="#id0"/></ns1:getItemsResponse>
          <multiRef id="id0"><item href="#id1"/><item href="#id2"/></multiRef>
          <multiRef id="id1"><no>1000</no><price>12.50</price><tags><t>a</t><t>b</t></tags></multiRef>
          <multiRef id="id2"><no>1001</no><price xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/></multiRef>
        </soapenv:Body></soapenv:Envelope>"##;
        let col = |n: &str, k| Column {
            name: n.into(),
            kind: k,
            description: None,
            withheld: false,
        };
        let op = Operation {
            element: "getItems".into(),
            ns: None,
            action: String::new(),
            qualified: true,
            body: vec![],
            rows: RowPath {
                steps: vec![
                    "getItemsResponse".into(),
                    "getItemsReturn".into(),
                    "item".into(),
                ],
                embedded: None,
            },
            columns: Arc::from(vec![
                col("no", FieldType::String),
                col("price", FieldType::Decimal),
                col("tags", FieldType::String),
            ]),
            fields: vec![
                FieldPath {
                    present: false,
                    steps: vec!["no".into()],
                    attr: None,
                    repeated: false,
                    record: None,
                },
                FieldPath {
                    present: false,
                    steps: vec!["price".into()],
                    attr: None,
                    repeated: false,
                    record: None,
                },
                FieldPath {
                    present: false,
                    steps: vec!["tags".into(), "t".into()],
                    attr: None,
                    repeated: true,
                    record: None,
                },
            ],
        };
        let a = Answer {
            status: 200,
            content_type: "text/xml".into(),
            body: body.into(),
            ntlm: None,
        };
        let s = crate::backend::soap::config::test_settings();
        // A page of one row past the first: both rows are read and counted, one is kept.
        let second = rows(&a, &op, &s, &Default::default(), Page::new(1, 1)).unwrap();
        assert_eq!((second.total, second.rows.len()), (2, 1));
        assert_eq!(second.rows[0][0], Value::Str("1001".into()));
        let page = rows(&a, &op, &s, &Default::default(), Page::new(0, 10)).unwrap();
        assert_eq!(page.total, 2);
        let rows = page.rows;
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][0], Value::Str("1000".into()));
        assert_eq!(rows[0][1].to_json(), serde_json::json!("12.50"));
        assert_eq!(rows[0][2].to_json(), serde_json::json!(["a", "b"]));
        assert_eq!(rows[1][1], Value::Null);
        assert_eq!(rows[1][2].to_json(), serde_json::json!([]));
    }

    #[test]
    fn zoned_dates() {
        assert_eq!(
            cell(FieldType::Datetime, "2026-11-20T10:00:00+01:00")
                .unwrap()
                .to_json(),
            serde_json::json!("2026-11-20T09:00:00")
        );
        assert_eq!(
            cell(FieldType::Date, "2026-11-20Z").unwrap().to_json(),
            serde_json::json!("2026-11-20")
        );
    }
}
