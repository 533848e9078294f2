//! From the mapping's `kind: flatfile` source to compiled tables: every layout problem is
//! reported with its YAML position (overlapping or missing columns, unsafe file names, ...).

use crate::backend::kind::{Backend, SourceKind, SourceSpec};
use std::path::{Component, Path};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indexmap::IndexMap;
use serde_saphyr::Spanned;

use super::keys::{ByteOrder, FieldDef, FileFormat, Framing as ModelFraming, RdwLength, TableDef};
use crate::mapping::interpolate::interpolate;
use crate::mapping::load::FileProblems;
use crate::mapping::mask::Policies;
use crate::mapping::model::{FieldType, SourceDef};
use crate::mapping::shape;

use super::FlatfileSource;
use super::config_fields::compile_field;
use super::keys::FlatfileKeys;
use super::table::{Field, Format, Framing, Place, Rdw, Table, When};
use crate::value::Value;

/// `kind: flatfile`.
pub struct Flatfile;

impl SourceKind for Flatfile {
    const NAME: &'static str = "flatfile";
    type Keys = (FlatfileKeys,);
    type ToolKeys = (super::keys::FlatfileToolKeys,);
    fn compile(
        s: &SourceSpec<'_>,
        (keys,): Self::Keys,
        p: &mut FileProblems<'_>,
    ) -> Arc<dyn Backend> {
        check_masks(s.name, &keys, s.policies, p);
        Arc::new(compile(s.name, s.def, keys, s.dir, p))
    }
}

pub fn compile(
    name: &str,
    def: &SourceDef,
    keys: FlatfileKeys,
    base_dir: &Path,
    p: &mut FileProblems<'_>,
) -> FlatfileSource {
    let here = format!("sources.{name}");
    let dir = match &keys.directory {
        None => {
            p.at(
                &def.kind.referenced,
                &here,
                "a flatfile source needs `directory:` (the folder of exports, relative to this file)",
            );
            base_dir.to_path_buf()
        }
        Some(d) => match interpolate(&d.value, base_dir) {
            Ok(text) => base_dir.join(text),
            Err(e) => {
                p.at(&d.referenced, format!("{here}.directory"), e);
                base_dir.to_path_buf()
            }
        },
    };
    if keys.tables.is_empty() {
        p.at(
            &def.kind.referenced,
            &here,
            "a flatfile source needs at least one entry under `tables:`",
        );
    }
    let stable_for = keys.stable_for.map(|d| d.0).unwrap_or(Duration::ZERO);
    let mut tables: Vec<(String, Table)> = keys
        .tables
        .iter()
        .map(|(tname, t)| {
            let path = format!("{here}.tables.{tname}");
            (
                tname.clone(),
                compile_table(tname, t, &dir, stable_for, &path, p),
            )
        })
        .collect();
    super::config_records::link_siblings(&mut tables, &keys.tables, &here, p);
    let mut tables = tables
        .into_iter()
        .map(|(tname, table)| (tname, Arc::new(table)))
        .collect::<IndexMap<_, _>>();
    link_children(&mut tables, &keys.tables, &here, p);
    FlatfileSource {
        name: name.to_string(),
        tables,
    }
}

/// Give each table with `children:` its child tables: others of the same file, each with a
/// record type of its own, one level deep (a child has no children, a root is nobody's child),
/// without masks (a child's values are nested in its root's rows, where masks do not reach yet).
fn link_children(
    tables: &mut IndexMap<String, Arc<Table>>,
    defs: &IndexMap<String, Spanned<TableDef>>,
    here: &str,
    p: &mut FileProblems<'_>,
) {
    let is_child = |name: &str| {
        defs.values()
            .any(|d| d.value.children.iter().any(|c| c.value == name))
    };
    for (root, def) in defs {
        let mut found = Vec::new();
        for c in &def.value.children {
            let at = format!("{here}.tables.{root}.children");
            let mut say = |m: String| p.at(&c.referenced, at.clone(), m);
            let Some(child) = tables.get(&c.value) else {
                say(format!("`{}` is not a table of this source", c.value));
                continue;
            };
            let problem = if c.value == *root {
                Some("a table cannot be its own child".to_string())
            } else if child.file_name != tables[root].file_name {
                Some(format!(
                    "`{}` reads another file; children are records of the same file",
                    c.value
                ))
            } else if child.records.own.is_none() || tables[root].records.own.is_none() {
                Some("both tables need a `record_type`: it is how a child record is told from its root".into())
            } else if !defs[&c.value].value.children.is_empty() || is_child(root) {
                Some("one level of children only: a child has no children of its own, and a root is nobody's child".into())
            } else if child.fields.iter().any(|f| f.mask.is_some()) {
                Some(format!(
                    "`{}` masks a field; masks on a child's fields are not supported yet (mask them in a tool of its own, or leave the field out)",
                    c.value
                ))
            } else if tables[root].fields.iter().any(|f| f.name == c.value) {
                Some(format!(
                    "`{}` is also a field of this table; the list of children is named after the child table",
                    c.value
                ))
            } else {
                None
            };
            match problem {
                Some(m) => say(m),
                None => found.push(child.clone()),
            }
        }
        if found.is_empty() {
            continue;
        }
        if let Some(t) = tables.get_mut(root).and_then(Arc::get_mut) {
            t.children = found;
        }
    }
}

fn framing(def: &TableDef, record_len: usize, here: &str, p: &mut FileProblems<'_>) -> Framing {
    let given = def.record_length.as_ref();
    match def.framing.unwrap_or(ModelFraming::Lines) {
        ModelFraming::Fixed => {
            let len = given.map_or(record_len, |l| l.value as usize);
            if len < record_len || len == 0 {
                p.at(
                    given.map_or(&def.format.referenced, |l| &l.referenced),
                    format!("{here}.record_length"),
                    format!(
                        "`record_length` ({len}) is shorter than the layout, whose last field ends at byte {record_len}"
                    ),
                );
            }
            Framing::Fixed(len.max(record_len).max(1))
        }
        other => {
            if let Some(l) = given {
                p.at(
                    &l.referenced,
                    format!("{here}.record_length"),
                    "`record_length` applies to `framing: fixed` (records without line ends)",
                );
            }
            if other == ModelFraming::Rdw {
                Framing::Rdw(def.rdw.as_ref().map_or_else(Rdw::default, |r| Rdw {
                    excludes_header: r.value.length == RdwLength::ExcludesHeader,
                    little_endian: r.value.byte_order == ByteOrder::Little,
                    blocked: r.value.blocked,
                }))
            } else {
                if let Some(r) = &def.rdw {
                    p.at(
                        &r.referenced,
                        format!("{here}.rdw"),
                        "`rdw` applies to `framing: rdw` (records behind descriptor words)",
                    );
                }
                Framing::Lines
            }
        }
    }
}

fn compile_table(
    name: &str,
    t: &Spanned<TableDef>,
    dir: &Path,
    stable_for: Duration,
    here: &str,
    p: &mut FileProblems<'_>,
) -> Table {
    let def = &t.value;
    check_file_name(&def.file, &format!("{here}.file"), p);
    let csv = def.format.value == FileFormat::Csv;
    let header = def.header.unwrap_or(true);
    let mut fields = Vec::new();
    for (fname, f) in &def.fields {
        let fpath = format!("{here}.fields.{fname}");
        fields.push(compile_field(fname, f, csv, header, &fpath, p));
    }
    if def.fields.is_empty() {
        p.at(
            &t.referenced,
            here,
            "a table needs at least one entry under `fields:`",
        );
    }
    link_conditions(def, &mut fields, csv, here, p);
    if !csv {
        check_overlaps(def, here, p);
    }
    let format = if csv {
        Format::Csv {
            delimiter: one_byte(
                def.delimiter.as_ref(),
                b',',
                &format!("{here}.delimiter"),
                p,
            ),
            quote: one_byte(def.quote.as_ref(), b'"', &format!("{here}.quote"), p),
            header,
        }
    } else {
        for (key, spanned) in [("delimiter", &def.delimiter), ("quote", &def.quote)] {
            if let Some(s) = spanned {
                p.at(
                    &s.referenced,
                    format!("{here}.{key}"),
                    format!("`{key}` applies to format csv only"),
                );
            }
        }
        let record_len = fields
            .iter()
            .map(|f: &Field| match f.place {
                Place::Fixed { start, length } => start + length,
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        Format::FixedWidth {
            allow_short: def.allow_short_records,
            record_len,
            framing: framing(def, record_len, here, p),
        }
    };
    if csv {
        for (key, given) in [
            ("framing", def.framing.is_some()),
            ("record_length", def.record_length.is_some()),
            ("rdw", def.rdw.is_some()),
        ] {
            if given {
                p.at(
                    &t.referenced,
                    format!("{here}.{key}"),
                    format!("`{key}` applies to format fixed_width only"),
                );
            }
        }
    }
    let mut index_field = None;
    for (i, k) in def.key.iter().enumerate() {
        match fields.iter().position(|f| f.name == k.value) {
            Some(fi) if fields[fi].when.is_some() => p.at(
                &k.referenced,
                format!("{here}.key"),
                format!(
                    "key field `{}` is read only `when` another field has a value; a key is a field every record has",
                    k.value
                ),
            ),
            Some(fi) if i == 0 => index_field = Some(fi),
            Some(_) => {}
            None => p.at(
                &k.referenced,
                format!("{here}.key"),
                format!(
                    "key field `{}` is not one of this table's fields ({})",
                    k.value,
                    names(&fields)
                ),
            ),
        }
    }
    let records = super::config_records::compile(t, &fields, here, p);
    if let (
        Format::FixedWidth {
            framing: Framing::Fixed(len),
            ..
        },
        Some(trailer),
    ) = (format, &records.trailer)
        && trailer.record_len > len
    {
        p.at(
            &t.referenced,
            format!("{here}.trailer_record"),
            format!(
                "the trailer's layout ends at byte {} but records are {len} bytes (record_length)",
                trailer.record_len
            ),
        );
    }
    Table {
        name: name.to_string(),
        file_name: def.file.value.clone(),
        path: dir.join(&def.file.value),
        dir: dir.to_path_buf(),
        format,
        encoding: def.encoding.unwrap_or(super::keys::Encoding::Utf8),
        decode_errors: def.decode_errors,
        fields,
        index_field,
        stable_for,
        records,
        children: Vec::new(),
        when_incomplete: def.when_incomplete,
        view: Mutex::new(Default::default()),
    }
}

fn names(fields: &[Field]) -> String {
    fields
        .iter()
        .map(|f| f.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Export file names are plain relative paths: no absolute path, no `..`.
fn check_file_name(file: &Spanned<String>, here: &str, p: &mut FileProblems<'_>) {
    let path = Path::new(&file.value);
    let unsafe_part = path
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
    if file.value.is_empty()
        || unsafe_part
        || file.value.contains('\\') && file.value.contains("..")
    {
        p.at(
            &file.referenced,
            here,
            format!(
                "`{}` must be a file name inside the source directory (no absolute path, no `..`)",
                file.value
            ),
        );
    }
}

fn one_byte(s: Option<&Spanned<String>>, default: u8, here: &str, p: &mut FileProblems<'_>) -> u8 {
    let Some(s) = s else { return default };
    let text = if s.value == "\\t" {
        "\t"
    } else {
        s.value.as_str()
    };
    match text.as_bytes() {
        [b] if b.is_ascii() => *b,
        _ => {
            p.at(
                &s.referenced,
                here,
                format!("must be one ASCII character, got `{}`", s.value),
            );
            default
        }
    }
}

/// Two fixed-width fields covering the same bytes is almost always a typo in `start`.
/// Resolve each field's `when: {field: value}`: the named field is another plain (not itself
/// conditional) string or integer field of the table, and the value reads as its type.
fn link_conditions(
    def: &TableDef,
    fields: &mut [Field],
    csv: bool,
    here: &str,
    p: &mut FileProblems<'_>,
) {
    for (i, (fname, f)) in def.fields.iter().enumerate() {
        let Some(w) = &f.value.when else { continue };
        let at = format!("{here}.fields.{fname}.when");
        let mut say = |m: String| p.at(&w.referenced, at.clone(), m);
        if csv {
            say("`when` applies to fixed_width fields (records whose layouts share bytes)".into());
            continue;
        }
        let [(gate, value)] = w.value.iter().collect::<Vec<_>>()[..] else {
            say(
                "`when` names one field and the value it must have: `when: {record_kind: N}`"
                    .into(),
            );
            continue;
        };
        let Some(g) = def.fields.get_index_of(gate.as_str()) else {
            say(format!(
                "`when` names `{gate}`, which is not one of this table's fields ({})",
                names(fields)
            ));
            continue;
        };
        if g == i || def.fields[g].value.when.is_some() {
            say(format!(
                "`when` names `{gate}`, which is this field or is itself read only `when` something holds; name a field every record has"
            ));
            continue;
        }
        let value = match fields[g].kind() {
            FieldType::String => Value::Str(value.clone()),
            FieldType::Integer => match value.trim().parse::<i64>() {
                Ok(n) => Value::Int(n),
                Err(_) => {
                    say(format!(
                        "`{gate}` is an integer field, and `{value}` is not an integer"
                    ));
                    continue;
                }
            },
            other => {
                say(format!(
                    "`when` names `{gate}`, a {} field; name a string or integer field (a record kind or type code)",
                    other.name()
                ));
                continue;
            }
        };
        let field = &mut fields[i];
        // Agents read when the field is there, not only that it may be null.
        let note = format!(
            "Only in records whose `{gate}` is `{value}`; null in the others.",
            value = value.to_text()
        );
        field.description = Some(match field.description.take() {
            Some(d) => format!("{d} ({note})"),
            None => note,
        });
        field.when = Some(When { field: g, value });
    }
}

/// Two fields of the same bytes are alternatives when each is read `when` the same field has
/// a different value.
fn alternatives(a: &FieldDef, b: &FieldDef) -> bool {
    let key = |f: &FieldDef| {
        let w = f.when.as_ref()?;
        (w.value.len() == 1).then(|| w.value.first().map(|(k, v)| (k.clone(), v.clone())))?
    };
    match (key(a), key(b)) {
        (Some((ga, va)), Some((gb, vb))) => ga == gb && va != vb,
        _ => false,
    }
}

fn check_overlaps(def: &TableDef, here: &str, p: &mut FileProblems<'_>) {
    let mut spans: Vec<(u32, u32, &str, &Spanned<FieldDef>)> = def
        .fields
        .iter()
        .filter_map(|(n, f)| {
            let (s, l) = (
                f.value.start.as_ref()?.value,
                f.value.length.as_ref()?.value,
            );
            (s > 0 && l > 0).then_some((s, s + l, n.as_str(), f))
        })
        .collect();
    spans.sort_by_key(|s| s.0);
    // Every earlier field that reaches into `b`, not only the one before it: alternatives
    // (REDEFINES) stack several fields over the same bytes.
    for (j, b) in spans.iter().enumerate() {
        let Some(a) = spans[..j]
            .iter()
            .find(|a| b.0 < a.1 && !alternatives(&a.3.value, &b.3.value))
        else {
            continue;
        };
        {
            p.at(
                &b.3.referenced,
                format!("{here}.fields.{}", b.2),
                format!(
                    "field `{}` (bytes {}..{}) overlaps field `{}` (bytes {}..{}); check `start`, or, for two layouts of the same bytes (a COBOL REDEFINES), read each `when` the same type field has a different value",
                    b.2,
                    b.0,
                    b.1 - 1,
                    a.2,
                    a.0,
                    a.1 - 1
                ),
            );
        }
    }
}

/// Every `mask:` on a table field must name a policy. (A field no tool returns is still
/// checked: the mistake would surface the day a tool starts returning it.)
pub fn check_masks(name: &str, keys: &FlatfileKeys, policies: &Policies, p: &mut FileProblems<'_>) {
    for (table, t) in &keys.tables {
        for (field, f) in &t.value.fields {
            if let Some(mask) = &f.value.mask {
                let path = format!("sources.{name}.tables.{table}.fields.{field}.mask");
                shape::policy(policies, &mask.value, &mask.referenced, &path, p);
            }
        }
    }
}
