//! One field of a flat-file table from its mapping: storage and codec, place in the record
//! (fixed start and length, or a CSV column), the date pivot year. Below the table compiler
//! (`config.rs`) and the record-type compiler (`config_records.rs`), which both compile fields.

use serde_saphyr::Spanned;

use super::keys::{ByteOrder, DateFormat, FieldDef, Storage};
use crate::mapping::load::FileProblems;
use crate::mapping::model::FieldType;

use super::codec::FieldCodec;
use super::table::{Field, Place};

pub(super) fn compile_field(
    name: &str,
    f: &Spanned<FieldDef>,
    csv: bool,
    header: bool,
    here: &str,
    p: &mut FileProblems<'_>,
) -> Field {
    let def = &f.value;
    let mut kind = def
        .kind
        .as_ref()
        .map(|k| k.value)
        .unwrap_or(FieldType::String);
    if let (Some(k), FieldType::Datetime | FieldType::Time | FieldType::Binary) = (&def.kind, kind)
    {
        p.at(
            &k.referenced,
            format!("{here}.type"),
            format!(
                "type `{}` is for SQL columns; a flat-file field is string, integer, decimal, number, boolean or date",
                kind.name()
            ),
        );
        kind = FieldType::String;
    }
    let place = if csv {
        csv_place(name, f, header, here, p)
    } else {
        fixed_place(f, here, p)
    };
    if def.scale.is_some() && kind != FieldType::Decimal {
        p.at(&f.referenced, here, "`scale` applies to type decimal only");
    }
    let sep = |s: &Option<Spanned<String>>, key: &str, p: &mut FileProblems<'_>| -> Option<char> {
        let s = s.as_ref()?;
        let mut chars = s.value.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Some(c),
            _ => {
                p.at(
                    &s.referenced,
                    format!("{here}.{key}"),
                    "must be exactly one character",
                );
                None
            }
        }
    };
    let decimal_separator = sep(&def.decimal_separator, "decimal_separator", p).unwrap_or('.');
    let group_separator = sep(&def.group_separator, "group_separator", p);
    if Some(decimal_separator) == group_separator {
        p.at(
            &f.referenced,
            here,
            "decimal_separator and group_separator must differ",
        );
    }
    let strings = |v: &Option<Vec<String>>, d: &[&str]| {
        v.clone()
            .unwrap_or_else(|| d.iter().map(|s| s.to_string()).collect())
    };
    Field {
        name: name.to_string(),
        place,
        codec: FieldCodec {
            kind,
            trim: def.trim,
            scale: def.scale,
            decimal_separator,
            group_separator,
            date_format: def.date_format,
            true_values: strings(&def.true_values, &["Y", "J", "1", "true", "X"]),
            false_values: strings(&def.false_values, &["N", "0", "false", ""]),
            pivot_year: pivot_year(def, here, p),
            storage: storage(f, kind, csv, here, p),
            sign: def.sign.unwrap_or_default(),
            signed: def.signed.unwrap_or(true),
            little_endian: def.byte_order == Some(ByteOrder::Little),
        },
        description: def.description.clone(),
        mask: def.mask.as_ref().map(|m| m.value.clone()),
        // A field masked in its table is withheld from errors from the start, also for tools
        // that only filter on it and never return it (tools that mask it in their result add
        // themselves when compiled).
        withheld: std::sync::Arc::new(std::sync::atomic::AtomicBool::new(def.mask.is_some())),
        when: None,
    }
}

fn pivot_year(def: &FieldDef, here: &str, p: &mut FileProblems<'_>) -> u32 {
    let Some(y) = &def.pivot_year else { return 50 };
    let two_digit = matches!(def.date_format, DateFormat::Yymmdd | DateFormat::Yyddd);
    if !two_digit || y.value > 99 {
        p.at(
            &y.referenced,
            format!("{here}.pivot_year"),
            "`pivot_year` (0 to 99) applies to dates with two-digit years: date_format yymmdd or yyddd",
        );
    }
    y.value.min(99)
}

/// Stored numbers: only in fixed-width files, only for numeric and date fields, of a length
/// their storage can hold; `sign` and `signed` only where they mean something.
fn storage(
    f: &Spanned<FieldDef>,
    kind: FieldType,
    csv: bool,
    here: &str,
    p: &mut FileProblems<'_>,
) -> Storage {
    let def = &f.value;
    let storage = def.storage.as_ref().map_or(Storage::Text, |s| s.value);
    let at = def
        .storage
        .as_ref()
        .map_or(&f.referenced, |s| &s.referenced);
    let mut say = |m: String| p.at(at, format!("{here}.storage"), m);
    if def.sign.is_some() && storage != Storage::Zoned {
        say("`sign` applies to `storage: zoned`".into());
    }
    if def.signed.is_some() && storage != Storage::Binary {
        say("`signed` applies to `storage: binary`".into());
    }
    if def.byte_order.is_some() && storage != Storage::Binary {
        say("`byte_order` applies to `storage: binary`".into());
    }
    if storage == Storage::Text {
        return storage;
    }
    if csv {
        say("`storage` applies to fixed_width files; a csv field is text".into());
    }
    if !matches!(
        kind,
        FieldType::Integer | FieldType::Decimal | FieldType::Number | FieldType::Date
    ) {
        say(format!(
            "`storage` applies to integer, decimal, number and date fields, not {}",
            kind.name()
        ));
    }
    let length = def.length.as_ref().map_or(0, |l| l.value);
    let (max, what) = match storage {
        Storage::Zoned => (38, "a zoned number holds at most 38 digits"),
        Storage::Packed => (19, "a packed number holds at most 37 digits (19 bytes)"),
        Storage::Binary => (
            16,
            "a binary number is 1 to 16 bytes (2, 4 or 8 for COMP; 16 for 19 to 38 digits)",
        ),
        Storage::Text => unreachable!(),
    };
    if length > max {
        say(format!("`length` is {length}, but {what}"));
    }
    storage
}

fn csv_place(
    name: &str,
    f: &Spanned<FieldDef>,
    header: bool,
    here: &str,
    p: &mut FileProblems<'_>,
) -> Place {
    let def = &f.value;
    if let Some(s) = def.start.as_ref().or(def.length.as_ref()) {
        p.at(
            &s.referenced,
            here,
            "`start` and `length` apply to format fixed_width; csv fields use `column` or `index`",
        );
    }
    match (&def.index, &def.column) {
        (Some(i), _) if i.value == 0 => {
            p.at(
                &i.referenced,
                format!("{here}.index"),
                "`index` counts from 1",
            );
            Place::Column(0)
        }
        (Some(i), _) => Place::Column(i.value as usize - 1),
        (None, Some(c)) if header => Place::Named(c.clone()),
        (None, _) if header => Place::Named(name.to_string()),
        (None, _) => {
            p.at(
                &f.referenced,
                here,
                "the table has `header: false`, so each field needs `index:` (its 1-based column)",
            );
            Place::Column(0)
        }
    }
}

fn fixed_place(f: &Spanned<FieldDef>, here: &str, p: &mut FileProblems<'_>) -> Place {
    let def = &f.value;
    if def.column.is_some() || def.index.is_some() {
        p.at(
            &f.referenced,
            here,
            "`column` and `index` apply to format csv; fixed_width fields use `start` and `length`",
        );
    }
    match (&def.start, &def.length) {
        (Some(s), Some(l)) => {
            if s.value == 0 {
                p.at(
                    &s.referenced,
                    format!("{here}.start"),
                    "`start` counts from 1 (the first byte of the record is 1)",
                );
            }
            if l.value == 0 {
                p.at(
                    &l.referenced,
                    format!("{here}.length"),
                    "`length` must be at least 1",
                );
            }
            Place::Fixed {
                start: s.value.saturating_sub(1) as usize,
                length: l.value as usize,
            }
        }
        _ => {
            p.at(
                &f.referenced,
                here,
                "a fixed_width field needs both `start` (1-based) and `length`",
            );
            Place::Fixed {
                start: 0,
                length: 0,
            }
        }
    }
}
