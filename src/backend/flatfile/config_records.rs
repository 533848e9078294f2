//! The multi-record half of `config.rs`: `record_type`, `other_record_types`, `header_record`
//! and `trailer_record` compiled into `Records`, and the tables that read one file made to
//! know each other's record types and share its header and trailer.

use std::sync::Arc;

use indexmap::IndexMap;
use serde_saphyr::Spanned;

use super::keys::{CountRule, Encoding, RecordTypeDef, TableDef, TrailerDef};
use crate::mapping::load::FileProblems;
use crate::mapping::model::FieldType;

use super::config_fields::compile_field;
use super::records::{Records, Sum, Trailer, TypeCode, type_code};
use super::table::{Field, Place, Table};

/// A table's own record types, header and trailer as its mapping declares them.
pub fn compile(
    t: &Spanned<TableDef>,
    fields: &[Field],
    here: &str,
    p: &mut FileProblems<'_>,
) -> Records {
    let def = &t.value;
    let encoding = def.encoding.unwrap_or(Encoding::Utf8);
    if def.format.value == super::keys::FileFormat::Csv {
        for (key, given) in [
            (
                "record_type",
                def.record_type.as_ref().map(|s| &s.referenced),
            ),
            (
                "header_record",
                def.header_record.as_ref().map(|s| &s.referenced),
            ),
            (
                "trailer_record",
                def.trailer_record.as_ref().map(|s| &s.referenced),
            ),
            (
                "other_record_types",
                def.other_record_types.first().map(|s| &s.referenced),
            ),
        ] {
            if let Some(at) = given {
                p.at(
                    at,
                    format!("{here}.{key}"),
                    format!("`{key}` applies to format fixed_width only"),
                );
            }
        }
        return Records::default();
    }
    let code = |d: &Spanned<RecordTypeDef>, key: &str, p: &mut FileProblems<'_>| {
        one_code(d, encoding, &format!("{here}.{key}"), p)
    };
    let own = def
        .record_type
        .as_ref()
        .and_then(|d| code(d, "record_type", p));
    let header = def
        .header_record
        .as_ref()
        .and_then(|d| code(d, "header_record", p));
    let others = other_types(def, own.as_ref(), encoding, here, p);
    let trailer = def.trailer_record.as_ref().and_then(|tr| {
        let code = code(&tr.value.record_type, "trailer_record.record_type", p)?;
        let trailer = compile_trailer(
            tr,
            code,
            own.clone(),
            fields,
            &format!("{here}.trailer_record"),
            p,
        );
        Some(Arc::new(trailer))
    });
    let records = Records {
        own,
        others,
        header,
        trailer,
    };
    check_distinct(&records, t, here, p);
    records
}

fn one_code(
    d: &Spanned<RecordTypeDef>,
    encoding: Encoding,
    here: &str,
    p: &mut FileProblems<'_>,
) -> Option<TypeCode> {
    let def = &d.value;
    if def.start.value == 0 {
        p.at(
            &def.start.referenced,
            format!("{here}.start"),
            "`start` counts from 1",
        );
        return None;
    }
    if def.length.value == 0 || def.value.value.is_empty() {
        p.at(
            &d.referenced,
            here,
            "a record type needs a `length` of at least 1 and a `value`",
        );
        return None;
    }
    let start = def.start.value as usize - 1;
    type_code(&def.value.value, start, def.length.value as usize, encoding)
        .map_err(|m| p.at(&def.value.referenced, format!("{here}.value"), m))
        .ok()
}

fn other_types(
    def: &TableDef,
    own: Option<&TypeCode>,
    encoding: Encoding,
    here: &str,
    p: &mut FileProblems<'_>,
) -> Vec<TypeCode> {
    let path = format!("{here}.other_record_types");
    def.other_record_types
        .iter()
        .filter_map(|v| {
            let Some(own) = own else {
                p.at(
                    &v.referenced,
                    &path,
                    "`other_record_types` needs `record_type`, which says where the type code is",
                );
                return None;
            };
            type_code(&v.value, own.start, own.bytes.len(), encoding)
                .map_err(|m| p.at(&v.referenced, &path, m))
                .ok()
        })
        .collect()
}

fn compile_trailer(
    tr: &Spanned<TrailerDef>,
    code: TypeCode,
    table_type: Option<TypeCode>,
    table_fields: &[Field],
    here: &str,
    p: &mut FileProblems<'_>,
) -> Trailer {
    let def = &tr.value;
    let fields: Vec<Field> = def
        .fields
        .iter()
        .map(|(name, f)| compile_field(name, f, false, false, &format!("{here}.fields.{name}"), p))
        .collect();
    let record_len = fields
        .iter()
        .map(|f| match f.place {
            Place::Fixed { start, length } => start + length,
            _ => 0,
        })
        .max()
        .unwrap_or(0)
        .max(code.start + code.bytes.len());
    let numeric = |f: &Field| matches!(f.kind(), FieldType::Integer | FieldType::Decimal);
    // `key` is where the name was written (`count`, `sums`), for the message and the path.
    let find = |name: &Spanned<String>,
                among: &[Field],
                what: &str,
                key: &str,
                p: &mut FileProblems<'_>| {
        let found = among.iter().position(|f| f.name == name.value);
        let say = |m: String, p: &mut FileProblems<'_>| {
            p.at(&name.referenced, format!("{here}.{key}"), m)
        };
        match found {
            Some(i) if numeric(&among[i]) => Some(i),
            Some(_) => {
                say(
                    format!(
                        "`{}` (in `{key}`) must be an integer or decimal field",
                        name.value
                    ),
                    p,
                );
                None
            }
            None if among.is_empty() => {
                say(
                    format!(
                        "`{}` (in `{key}`) is not declared: add it under the trailer's `fields:`",
                        name.value
                    ),
                    p,
                );
                None
            }
            None => {
                let names: Vec<&str> = among.iter().map(|f| f.name.as_str()).collect();
                say(
                    format!(
                        "`{}` (in `{key}`) is not one of the {what} ({})",
                        name.value,
                        names.join(", ")
                    ),
                    p,
                );
                None
            }
        }
    };
    let count = def
        .count
        .as_ref()
        .and_then(|c| find(c, &fields, "trailer's fields", "count", p));
    if def.count.is_none() && def.counts != CountRule::DataRecords {
        p.at(
            &tr.referenced,
            format!("{here}.counts"),
            "`counts` needs `count` (the trailer field holding the count)",
        );
    }
    let sums = sums(&def.sums, &fields, table_fields, &find, p);
    if count.is_none() && sums.is_empty() && def.count.is_none() && def.sums.is_empty() {
        p.at(
            &tr.referenced,
            here,
            "a trailer record needs `count` or `sums`: the control totals that prove the file complete",
        );
    }
    Trailer {
        code,
        fields,
        record_len,
        count,
        counts: def.counts,
        table_type,
        sums,
    }
}

type Find<'a> =
    dyn Fn(&Spanned<String>, &[Field], &str, &str, &mut FileProblems<'_>) -> Option<usize> + 'a;

fn sums(
    declared: &IndexMap<String, Spanned<String>>,
    trailer_fields: &[Field],
    table_fields: &[Field],
    find: &Find<'_>,
    p: &mut FileProblems<'_>,
) -> Vec<Sum> {
    declared
        .iter()
        .filter_map(|(total, of)| {
            let named = Spanned {
                value: total.clone(),
                referenced: of.referenced,
                defined: of.defined,
            };
            let ti = find(&named, trailer_fields, "trailer's fields", "sums", p);
            let fi = find(of, table_fields, "table's fields", "sums", p);
            Some(Sum {
                trailer_field: ti?,
                field: table_fields[fi?].clone(),
            })
        })
        .collect()
}

/// A type code used for two purposes makes every record of it ambiguous.
fn check_distinct(r: &Records, t: &Spanned<TableDef>, here: &str, p: &mut FileProblems<'_>) {
    let codes: Vec<(&str, &TypeCode)> = r
        .own
        .iter()
        .map(|c| ("record_type", c))
        .chain(r.header.iter().map(|c| ("header_record", c)))
        .chain(r.trailer.iter().map(|tr| ("trailer_record", &tr.code)))
        .chain(r.others.iter().map(|c| ("other_record_types", c)))
        .collect();
    for (i, (a, ca)) in codes.iter().enumerate() {
        for (b, cb) in &codes[i + 1..] {
            if ca.start == cb.start && ca.bytes == cb.bytes {
                p.at(
                    &t.referenced,
                    here,
                    format!("`{a}` and `{b}` both use the type code `{}`", ca.text),
                );
            }
        }
    }
}

/// Tables that read the same file: each skips the others' record types, and the header and
/// trailer (declared on one of them) apply to all, so none can answer from a partial file.
pub fn link_siblings(
    tables: &mut [(String, Table)],
    defs: &IndexMap<String, Spanned<TableDef>>,
    here: &str,
    p: &mut FileProblems<'_>,
) {
    for i in 0..tables.len() {
        let file = tables[i].1.file_name.clone();
        let siblings: Vec<usize> = (0..tables.len())
            .filter(|&j| j != i && tables[j].1.file_name == file)
            .collect();
        if siblings.is_empty() {
            continue;
        }
        let mut others = Vec::new();
        for &j in &siblings {
            let r = &tables[j].1.records;
            others.extend(r.own.iter().cloned());
            others.extend(r.others.iter().cloned());
        }
        // Header and trailer: declared once per file, on any one of its tables.
        for &j in &siblings {
            if j < i {
                continue;
            }
            let (name_j, def_j) = (&tables[j].0, &defs[&tables[j].0]);
            let (mine, theirs) = (&tables[i].1.records, &tables[j].1.records);
            for (key, clash, at) in [
                (
                    "header_record",
                    mine.header.is_some() && theirs.header.is_some(),
                    def_j.value.header_record.as_ref().map(|s| s.referenced),
                ),
                (
                    "trailer_record",
                    mine.trailer.is_some() && theirs.trailer.is_some(),
                    def_j.value.trailer_record.as_ref().map(|s| s.referenced),
                ),
            ] {
                if let (true, Some(at)) = (clash, at) {
                    p.at(
                        &at,
                        format!("{here}.tables.{name_j}.{key}"),
                        format!(
                            "`{file}` already has its `{key}` declared on table `{}`; declare it once: it applies to every table reading the file",
                            tables[i].0
                        ),
                    );
                }
            }
        }
        let header = siblings
            .iter()
            .find_map(|&j| tables[j].1.records.header.clone());
        let trailer = siblings
            .iter()
            .find_map(|&j| tables[j].1.records.trailer.clone());
        let r = &mut tables[i].1.records;
        r.others.extend(others);
        if r.header.is_none() {
            r.header = header;
        }
        if r.trailer.is_none() {
            r.trailer = trailer;
        }
    }
}
