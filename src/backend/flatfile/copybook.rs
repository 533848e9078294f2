//! `legacy-mcp import-copybook`: a COBOL copybook turned into a fixed-width table layout.
//!
//! The subset old export programs use: level numbers and group items; `PIC X`, `A`, `9`, `S9`
//! with `V` (implied decimals) and repeat counts; `USAGE DISPLAY` (zoned when signed),
//! `COMP-3` / `PACKED-DECIMAL` (packed), `COMP` / `COMP-0` / `COMP-4` / `BINARY` (binary, up
//! to 38 digits in 16 bytes), `COMP-5` (binary in the writing machine's byte order:
//! `--native-binary little` for files written on a PC); `SIGN LEADING`
//! and `SEPARATE`; fixed `OCCURS n` on items and groups (fields numbered `_1`, `_2`, ...);
//! `REDEFINES` (an item laid over another; an `01` record redefining another is another record
//! type, written as its own table over the same file, told apart by the level-88 value on
//! its first field when every record has one); `FILLER`; other level 88s and `VALUE` clauses
//! are ignored. `OCCURS DEPENDING ON` ending the record imports for files whose records carry
//! their length (rdw, lines). Everything else (other `OCCURS DEPENDING ON`, `P` after the
//! digits, `COMP-1`/`COMP-2`
//! floats, unknown picture symbols, binary items over 38 digits) is reported, every one in one
//! run with its line; with `--unsupported filler` those of known length become FILLER (their
//! bytes kept, no field) and the rest of the copybook imports.
//!
//! Why one file of about 1,000 lines (tests apart): one grammar, parsed in one pass. Clauses,
//! levels, REDEFINES, OCCURS and the byte layout they add up to depend on each other's state
//! as the parser walks the entries; split apart, half-built layouts would cross files.

use std::fmt::Write;

/// One elementary field of a record.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyField {
    pub name: String,
    /// 0-based byte offset.
    pub start: usize,
    pub length: usize,
    pub kind: &'static str,
    pub scale: u32,
    pub storage: &'static str,
    pub signed: bool,
    pub sign_leading: bool,
    /// Level-88 single values declared on this item.
    pub codes: Vec<String>,
    /// Laid out (its bytes are counted) but not imported: a clause the importer does not take.
    pub unsupported: bool,
    /// Under an item that is redefined, or that REDEFINES another: the redefined item's line
    /// and which layout over its bytes this is (0 the original, 1 the first REDEFINES, ...).
    pub alternative: Option<(usize, usize)>,
    /// Read only when another field (by name) has a value: the chosen layout of a REDEFINES.
    pub when: Option<(String, String)>,
    /// COMP-5: binary in the byte order of the machine that wrote the file.
    pub native: bool,
}

/// One record layout (an `01` level).
#[derive(Debug, Clone, PartialEq)]
pub struct CopyRecord {
    pub name: String,
    pub length: usize,
    pub fields: Vec<CopyField>,
    /// The record's type code (from a level-88 on its first field): byte offset, value.
    pub record_type: Option<(usize, usize, String)>,
    /// What the import decided that a reader of the mapping should check, as YAML comments.
    pub notes: Vec<String>,
    /// Ends with an `OCCURS DEPENDING ON` table: records vary in length.
    pub variable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Usage {
    Display,
    Packed,
    Binary,
    /// COMP-5: binary in the machine's byte order (big-endian on a mainframe, little-endian
    /// when written on a PC).
    Native,
    /// COMP-1 (4 bytes) or COMP-2 (8 bytes): not supported, but of known length.
    Float(usize),
}

/// A clause the importer does not support, where it is, and the bytes it takes when that is
/// known (then `--unsupported filler` can make it FILLER and import the rest).
#[derive(Debug, Clone, PartialEq)]
pub struct Unsupported {
    pub line: usize,
    pub what: String,
    pub length: Option<usize>,
}

/// What the parser found that it does not support, gathered over the whole copybook so that
/// one run lists every problem (a real copybook took 24 runs when each stopped at the first).
#[derive(Default)]
struct Found(Vec<Unsupported>, Vec<(usize, usize)>);

impl Found {
    fn add(&mut self, line: usize, what: String, length: Option<usize>) {
        self.0.push(Unsupported { line, what, length });
    }

    /// Where an `OCCURS DEPENDING ON` item (laid out at its most) ends: (its line, end byte).
    fn odo_end(&mut self, line: usize, end: usize) {
        self.1.push((line, end));
    }
}

/// One statement (a data description entry), with the line it started on.
struct Entry {
    line: usize,
    level: u32,
    name: String,
    redefines: Option<String>,
    pic: Option<String>,
    usage: Option<Usage>,
    occurs: usize,
    /// `OCCURS ... DEPENDING ON`: the count varies per record.
    depending: bool,
    sign_leading: bool,
    sign_separate: bool,
    /// The single-literal values of the level-88 conditions under this item (`88 IS-HEADER
    /// VALUE 'HD'`): in a file of several record types, the type codes.
    codes: Vec<String>,
}

/// Parse a copybook into its record layouts; any clause it does not support is an error.
pub fn parse(text: &str) -> Result<Vec<CopyRecord>, String> {
    parse_with(text, false, false).map(|(records, _)| records)
}

/// Parse a copybook, listing every unsupported clause in one error. With `filler`, clauses of
/// known length become FILLER (their bytes counted, no field) and the rest imports; what became
/// FILLER is returned to be reported.
pub fn parse_with(
    text: &str,
    filler: bool,
    variable: bool,
) -> Result<(Vec<CopyRecord>, Vec<Unsupported>), String> {
    let mut found = Found::default();
    let mut records = records(text, &mut found)?;
    accept_trailing_odo(&mut records, &mut found, variable);
    if found.0.is_empty() {
        return Ok((records, Vec::new()));
    }
    if filler && found.0.iter().all(|u| u.length.is_some()) {
        return Ok((records, found.0));
    }
    let mut m = format!("{} clause(s) are not supported:", found.0.len());
    for u in &found.0 {
        let _ = write!(m, "\n  line {}: {}", u.line, u.what);
        match u.length {
            Some(n) => {
                let _ = write!(m, " ({n} bytes: `--unsupported filler` makes it FILLER)");
            }
            None => m.push_str(" (its length is unknown: rewrite or remove it in the copybook)"),
        }
    }
    Err(m)
}

fn records(text: &str, found: &mut Found) -> Result<Vec<CopyRecord>, String> {
    let entries = entries(text, found)?;
    let mut records: Vec<CopyRecord> = Vec::new();
    let mut i = 0;
    while i < entries.len() {
        let e = &entries[i];
        if e.level != 1 {
            if records.is_empty() {
                // A copybook of fields without an 01: one record named for the first field.
                let (fields, end, next) = layout(&entries, i, 0, None, 0, found)?;
                records.push(record("record".into(), end, fields, &entries));
                i = next;
                continue;
            }
            return Err(format!(
                "line {}: level {} after the record ended",
                e.line, e.level
            ));
        }
        let (mut fields, mut end, next) = layout(&entries, i + 1, 0, e.usage, 1, found)?;
        if let Some(pic) = &e.pic {
            // An 01 with a picture: the record is one field.
            let f = elementary(e, pic, 0, None, found)?;
            end = f.length;
            fields = vec![f];
        }
        records.push(record(ident(&e.name), end, fields, &entries));
        i = next;
    }
    if records.is_empty() {
        return Err("no data description entries found".into());
    }
    // Type codes mean something only when every record type of the file has one.
    if records.len() < 2 || records.iter().any(|r| r.record_type.is_none()) {
        for r in &mut records {
            r.record_type = None;
        }
    }
    Ok(records)
}

fn record(name: String, length: usize, fields: Vec<CopyField>, entries: &[Entry]) -> CopyRecord {
    let mut r = CopyRecord {
        name,
        length,
        record_type: None,
        fields,
        notes: Vec::new(),
        variable: false,
    };
    choose_alternatives(&mut r, entries);
    unique_names(&mut r);
    r.record_type = type_code(&r.fields);
    r
}

/// Layouts over the same bytes (an item and the items that REDEFINE it) become fields read
/// `when` a type field before them has a value: the field with one level-88 value per layout,
/// the values taken in order (TAXPAYER-TYPE with `S` and `N` before TAXPAYER-STR and
/// TAXPAYER-NUM REDEFINES TAXPAYER-STR). Without such a field only the first layout is
/// imported and a note says what was left out, so the mapping still checks.
fn choose_alternatives(r: &mut CopyRecord, entries: &[Entry]) {
    let mut groups: Vec<usize> = r
        .fields
        .iter()
        .filter_map(|f| f.alternative.map(|a| a.0))
        .collect();
    groups.sort_unstable();
    groups.dedup();
    for group in groups {
        let members = |f: &CopyField| f.alternative.filter(|a| a.0 == group).map(|a| a.1);
        let mut layouts: Vec<usize> = r.fields.iter().filter_map(members).collect();
        layouts.sort_unstable();
        layouts.dedup();
        let name = entries
            .iter()
            .find(|e| e.line == group)
            .map_or_else(|| format!("line {group}"), |e| e.name.clone());
        if layouts.len() < 2 {
            // One layout with fields (the other a FILLER): nothing overlaps.
            continue;
        }
        let first = r
            .fields
            .iter()
            .position(|f| members(f).is_some())
            .unwrap_or(0);
        let gate = r.fields[..first]
            .iter()
            .rev()
            .find(|f| {
                f.alternative.is_none() && f.kind == "string" && f.codes.len() == layouts.len()
            })
            .map(|f| (f.name.clone(), f.codes.clone()));
        match gate {
            Some((gate, codes)) => {
                let mut chosen = Vec::new();
                for f in &mut r.fields {
                    if let Some(k) = members(f) {
                        let i = layouts.iter().position(|l| *l == k).unwrap_or(0);
                        f.when = Some((gate.clone(), codes[i].clone()));
                        chosen.push(format!("{} when {gate} = {:?}", f.name, codes[i]));
                    }
                }
                r.notes.push(format!(
                    "{name} and its REDEFINES: each layout is read when `{gate}` has the level-88 value in the same order ({}); check the pairs",
                    chosen.join(", ")
                ));
            }
            None => {
                let left: Vec<String> = r
                    .fields
                    .iter()
                    .filter(|f| members(f).is_some_and(|k| k != layouts[0]))
                    .map(|f| f.name.clone())
                    .collect();
                r.fields
                    .retain(|f| members(f).is_none_or(|k| k == layouts[0]));
                r.notes.push(format!(
                    "{name} is redefined, and no field before it has one level-88 value per layout to choose by: only the first layout is imported; left out: {}. Add them with `when: {{type_field: value}}`",
                    left.join(", ")
                ));
            }
        }
        for f in &mut r.fields {
            if members(f).is_some() {
                f.alternative = None;
            }
        }
    }
}

/// Field names are YAML keys: the same name twice in a record (CITY under HOME and under
/// WORK) gets a number.
fn unique_names(r: &mut CopyRecord) {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for f in &mut r.fields {
        let n = seen.entry(f.name.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            f.name = format!("{}_{}", f.name, n);
        }
    }
}

/// A record's type code: the one value of the level-88 under its first field.
fn type_code(fields: &[CopyField]) -> Option<(usize, usize, String)> {
    let first = fields.iter().min_by_key(|f| f.start)?;
    match first.codes.as_slice() {
        [code] if first.kind == "string" => Some((first.start, first.length, code.clone())),
        _ => None,
    }
}

/// Lay out the children of a group: entries from `from` while their level is above `parent`.
/// Returns the fields, the end offset, and the index of the first entry after the group.
fn layout(
    entries: &[Entry],
    from: usize,
    start: usize,
    usage: Option<Usage>,
    parent: u32,
    found: &mut Found,
) -> Result<(Vec<CopyField>, usize, usize), String> {
    let mut fields = Vec::new();
    let mut at = start;
    let mut end = start;
    // Where each named item started and ended, for REDEFINES.
    // Name, start, line, how many REDEFINES it has so far, its fields.
    #[allow(clippy::type_complexity)]
    let mut placed: Vec<(String, usize, usize, usize, std::ops::Range<usize>)> = Vec::new();
    let mut i = from;
    while i < entries.len() && entries[i].level > parent {
        let e = &entries[i];
        let level = e.level;
        let from_here = match &e.redefines {
            Some(target) => placed
                .iter()
                .rev()
                .find(|p| p.0.eq_ignore_ascii_case(target))
                .map(|p| p.1)
                .ok_or_else(|| {
                    format!(
                        "line {}: REDEFINES {target}: no such item before it in this group",
                        e.line
                    )
                })?,
            None => at,
        };
        let usage = e.usage.or(usage);
        let mut next = i + 1;
        let mut item_len = 0;
        let first_field = fields.len();
        for n in 0..e.occurs.max(1) {
            let suffix = (e.occurs > 0).then(|| format!("_{}", n + 1));
            let item_start = from_here + n * item_len;
            // COMP-1 and COMP-2 items have no picture: elementary all the same.
            let float = matches!(e.usage, Some(Usage::Float(_))).then_some(String::new());
            match e.pic.as_ref().or(float.as_ref()) {
                Some(pic) => {
                    // An unsupported clause is reported once, not once per occurrence.
                    let mut quiet = Found::default();
                    let mut f = elementary(
                        e,
                        pic,
                        item_start,
                        usage,
                        if n == 0 { &mut *found } else { &mut quiet },
                    )?;
                    item_len = f.length;
                    if let Some(s) = &suffix {
                        f.name.push_str(s);
                    }
                    if !e.name.eq_ignore_ascii_case("FILLER") && !f.unsupported {
                        fields.push(f);
                    }
                }
                None => {
                    let mut quiet = Found::default();
                    let (mut children, child_end, after) = layout(
                        entries,
                        i + 1,
                        item_start,
                        usage,
                        level,
                        if n == 0 { &mut *found } else { &mut quiet },
                    )?;
                    item_len = child_end - item_start;
                    next = after;
                    if let Some(s) = &suffix {
                        for c in &mut children {
                            c.name.push_str(s);
                        }
                    }
                    fields.extend(children);
                }
            }
        }
        let item_end = from_here + item_len * e.occurs.max(1);
        if e.depending {
            found.odo_end(e.line, item_end);
        }
        // Layouts over the same bytes: the redefined item's fields are layout 0, each
        // REDEFINES the next (fields already under an inner REDEFINES keep theirs).
        if let Some(target) = &e.redefines
            && let Some(t) = placed
                .iter_mut()
                .rev()
                .find(|p| p.0.eq_ignore_ascii_case(target))
        {
            t.3 += 1;
            let (line, layout, range) = (t.2, t.3, t.4.clone());
            for f in &mut fields[range] {
                f.alternative.get_or_insert((line, 0));
            }
            for f in &mut fields[first_field..] {
                f.alternative.get_or_insert((line, layout));
            }
        }
        placed.push((
            e.name.clone(),
            from_here,
            e.line,
            0,
            first_field..fields.len(),
        ));
        if e.redefines.is_none() {
            at = item_end;
        }
        end = end.max(item_end);
        i = next;
        if e.pic.is_some() && i < entries.len() && entries[i].level > level {
            return Err(format!(
                "line {}: level {} under the elementary item {} (which has a PIC)",
                entries[i].line, entries[i].level, e.name
            ));
        }
    }
    Ok((fields, end, i))
}

/// An elementary item from its picture and usage.
fn elementary(
    e: &Entry,
    pic: &str,
    start: usize,
    usage: Option<Usage>,
    found: &mut Found,
) -> Result<CopyField, String> {
    let bad = |m: &str| format!("line {}: PIC {pic}: {m}", e.line);
    // Problems that still leave the layout readable: reported together at the end.
    let mut problems: Vec<String> = Vec::new();
    let mut scaled = false;
    let mut leading_p = 0u32;
    let mut digits = 0usize;
    let mut scale = 0u32;
    let mut chars = 0usize;
    let mut signed = false;
    let mut after_v = false;
    let mut alpha = false;
    let mut edited = false;
    let up = pic.to_ascii_uppercase();
    let b = up.as_bytes();
    let mut k = 0;
    while k < b.len() {
        let c = b[k];
        k += 1;
        let mut count = 1usize;
        if k < b.len() && b[k] == b'(' {
            let close = up[k..]
                .find(')')
                .ok_or_else(|| bad("unclosed repeat count"))?;
            count = up[k + 1..k + close]
                .parse()
                .map_err(|_| bad("the repeat count is not a number"))?;
            k += close + 1;
        }
        match c {
            b'X' | b'A' => {
                alpha = true;
                chars += count;
            }
            b'9' => {
                digits += count;
                chars += count;
                if after_v {
                    scale += count as u32;
                }
            }
            b'S' => signed = true,
            b'V' => after_v = true,
            // P positions hold no byte: the length is known. Before the digits they are
            // assumed zeros after the decimal point (PPP999 is .000ddd): a larger scale.
            b'P' if digits == 0 => leading_p += count as u32,
            b'P' => scaled = true,
            b'Z' | b'*' | b',' | b'.' | b'+' | b'-' | b'B' | b'0' | b'/' | b'$' => {
                edited = true;
                chars += count;
            }
            _ => {
                problems.push(format!("`{}` is not a picture symbol", c as char));
                chars += count;
            }
        }
    }
    if scaled {
        problems.push(
            "P after the digits (a power-of-ten multiplier) is not supported; P before them is"
                .into(),
        );
    }
    if leading_p > 0 {
        // Every digit is then after the point.
        scale = leading_p + digits as u32;
    }
    let usage = usage.unwrap_or(Usage::Display);
    let numeric = digits > 0 && !alpha && !edited;
    if !numeric && !matches!(usage, Usage::Display | Usage::Float(_)) {
        return Err(bad("COMP and COMP-3 need a numeric picture"));
    }
    if let Usage::Float(n) = usage {
        let what = if n == 4 { "COMP-1" } else { "COMP-2" };
        problems.push(format!("{what} (floating point) is not supported"));
    }
    let name = ident(&e.name);
    // Unknown picture symbols and over-long binary items leave the length unknown.
    let mut known = !problems.iter().any(|p| p.contains("picture symbol"));
    let field = if !numeric && !matches!(usage, Usage::Float(_)) {
        CopyField {
            name,
            start,
            length: chars,
            kind: "string",
            scale: 0,
            storage: "text",
            signed: false,
            sign_leading: false,
            codes: e.codes.clone(),
            unsupported: false,
            alternative: None,
            when: None,
            native: usage == Usage::Native,
        }
    } else {
        let (length, storage) = match usage {
            // A separate sign takes a byte of its own, with or without `S` in the picture.
            Usage::Display if e.sign_separate => (digits + 1, "text"),
            Usage::Display if signed => (digits, "zoned"),
            Usage::Display => (digits, "text"),
            Usage::Packed => (digits / 2 + 1, "packed"),
            Usage::Float(n) => (n, "binary"),
            Usage::Binary | Usage::Native => match digits {
                1..=4 => (2, "binary"),
                5..=9 => (4, "binary"),
                10..=18 => (8, "binary"),
                19..=38 => (16, "binary"),
                _ => {
                    problems.push("a binary item of more than 38 digits is not supported".into());
                    known = false;
                    (16, "binary")
                }
            },
        };
        let kind = if scale > 0 || digits > 18 {
            "decimal"
        } else {
            "integer"
        };
        CopyField {
            name,
            start,
            length,
            kind,
            scale,
            storage,
            signed: signed || e.sign_separate,
            sign_leading: e.sign_leading && !e.sign_separate,
            codes: e.codes.clone(),
            unsupported: false,
            alternative: None,
            when: None,
            native: usage == Usage::Native,
        }
    };
    if problems.is_empty() {
        return Ok(field);
    }
    found.add(
        e.line,
        format!("{} PIC {pic}: {}", e.name, problems.join("; ")),
        known.then_some(field.length),
    );
    Ok(CopyField {
        unsupported: true,
        ..field
    })
}

/// An `OCCURS DEPENDING ON` table at the very end of its record (nothing after it at any
/// level, the common case) only makes records shorter: in a file whose records carry their
/// length (`--framing rdw` or `lines`) it imports at its most, with `allow_short_records`, and
/// the occurrences a record does not have read as null. Anywhere else, or in fixed-length
/// framing, it stays unsupported, and the message says which case it is.
fn accept_trailing_odo(records: &mut [CopyRecord], found: &mut Found, variable: bool) {
    for &(line, end) in &found.1.clone() {
        let Some(r) = records
            .iter_mut()
            .find(|r| r.length == end && r.fields.iter().all(|f| f.start < end))
        else {
            continue;
        };
        let Some(u) = found
            .0
            .iter_mut()
            .position(|u| u.line == line && u.what.contains("DEPENDING ON"))
        else {
            continue;
        };
        if variable {
            found.0.remove(u);
            r.variable = true;
            r.notes.push(format!(
                "line {line}: OCCURS DEPENDING ON at the end of the record: laid out at its most; a record with fewer occurrences is shorter, and the occurrences it lacks read as null"
            ));
        } else {
            found.0[u].what.push_str(
                " in fixed-length records (it ends the record: import with --framing rdw or lines if each record carries its length)",
            );
        }
    }
}

/// The copybook's statements, with sequence areas, comments and level 88/66 entries removed.
fn entries(text: &str, found: &mut Found) -> Result<Vec<Entry>, String> {
    let mut statements: Vec<(usize, String)> = Vec::new();
    let mut current = String::new();
    let mut started = 0;
    for (n, raw) in text.lines().enumerate() {
        let line = code_area(raw);
        let t = line.trim();
        if t.is_empty() || t.starts_with('*') {
            continue;
        }
        if current.is_empty() {
            started = n + 1;
        }
        current.push(' ');
        current.push_str(t);
        // A statement ends with a period followed by a space or the end of the line.
        while let Some(end) = statement_end(&current) {
            let stmt = current[..end].trim().to_string();
            current = current[end + 1..].to_string();
            if !stmt.is_empty() {
                statements.push((started, stmt));
            }
            started = n + 1;
        }
    }
    if !current.trim().is_empty() {
        return Err(format!(
            "line {started}: the entry `{}` does not end with a period",
            current.trim()
        ));
    }
    let mut out: Vec<Entry> = Vec::new();
    for (line, stmt) in statements {
        if let Some(e) = entry(line, &stmt, found)? {
            out.push(e);
        } else if let (Some(code), Some(item)) = (condition_value(&stmt), out.last_mut()) {
            item.codes.push(code);
        }
    }
    Ok(out)
}

/// Fixed-format source keeps code in columns 8 to 72 (1-6 sequence numbers, 7 an indicator).
fn code_area(raw: &str) -> String {
    let b = raw.as_bytes();
    let fixed = b.len() > 6
        && b[..6].iter().all(|c| c.is_ascii_digit() || *c == b' ')
        && matches!(b[6], b' ' | b'*' | b'-' | b'/');
    if !fixed {
        return raw.to_string();
    }
    if matches!(b[6], b'*' | b'/') {
        return String::new();
    }
    raw.chars().skip(7).take(65).collect()
}

fn statement_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut quote: Option<u8> = None;
    for (i, &c) in b.iter().enumerate() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'\'' || c == b'"' => quote = Some(c),
            None if c == b'.' && b.get(i + 1).is_none_or(|n| n.is_ascii_whitespace()) => {
                return Some(i);
            }
            None => {}
        }
    }
    None
}

fn entry(line: usize, stmt: &str, found: &mut Found) -> Result<Option<Entry>, String> {
    let words: Vec<&str> = stmt.split_whitespace().collect();
    let level: u32 = words
        .first()
        .and_then(|w| w.parse().ok())
        .ok_or_else(|| format!("line {line}: `{stmt}` does not start with a level number"))?;
    if level == 88 || level == 66 {
        return Ok(None);
    }
    let mut e = Entry {
        line,
        level,
        name: "FILLER".into(),
        redefines: None,
        pic: None,
        usage: None,
        occurs: 0,
        depending: false,
        sign_leading: false,
        sign_separate: false,
        codes: Vec::new(),
    };
    let mut k = 1;
    if let Some(w) = words.get(1)
        && !is_clause(w)
    {
        e.name = w.to_string();
        k = 2;
    }
    while k < words.len() {
        let w = words[k].to_ascii_uppercase();
        k += 1;
        let next = |k: usize| {
            words
                .get(k)
                .map(|s| s.to_string())
                .ok_or_else(|| format!("line {line}: `{w}` needs a value"))
        };
        match w.as_str() {
            "REDEFINES" => {
                e.redefines = Some(next(k)?);
                k += 1;
            }
            "PIC" | "PICTURE" => {
                if words.get(k).is_some_and(|s| s.eq_ignore_ascii_case("IS")) {
                    k += 1;
                }
                e.pic = Some(next(k)?);
                k += 1;
            }
            "USAGE" | "IS" | "TIMES" | "CHARACTER" => {}
            "DISPLAY" => e.usage = Some(Usage::Display),
            "COMP-3" | "COMPUTATIONAL-3" | "PACKED-DECIMAL" => e.usage = Some(Usage::Packed),
            "COMP" | "COMP-0" | "COMP-4" | "COMPUTATIONAL" | "COMPUTATIONAL-0"
            | "COMPUTATIONAL-4" | "BINARY" => e.usage = Some(Usage::Binary),
            "COMP-5" | "COMPUTATIONAL-5" => e.usage = Some(Usage::Native),
            "COMP-1" | "COMPUTATIONAL-1" => e.usage = Some(Usage::Float(4)),
            "COMP-2" | "COMPUTATIONAL-2" => e.usage = Some(Usage::Float(8)),
            "OCCURS" => {
                e.occurs = next(k)?
                    .parse()
                    .map_err(|_| format!("line {line}: OCCURS needs a fixed count"))?;
                k += 1;
                if words[k..]
                    .iter()
                    .any(|w| w.eq_ignore_ascii_case("DEPENDING"))
                {
                    // Laid out at its most (`OCCURS 1 TO 5`: 5) to find the problems after it;
                    // the records of such a file vary in length, so it cannot become FILLER.
                    if words.get(k).is_some_and(|w| w.eq_ignore_ascii_case("TO"))
                        && let Some(max) = words.get(k + 1).and_then(|w| w.parse().ok())
                    {
                        e.occurs = max;
                    }
                    e.depending = true;
                    found.add(
                        line,
                        format!(
                            "{} OCCURS DEPENDING ON (variable length) is not supported",
                            e.name
                        ),
                        None,
                    );
                }
            }
            "SIGN" => {}
            "LEADING" => e.sign_leading = true,
            "TRAILING" => e.sign_leading = false,
            "SEPARATE" => e.sign_separate = true,
            // VALUE, JUSTIFIED, SYNC and the like do not change the layout.
            "VALUE" | "VALUES" => break,
            _ => {}
        }
    }
    Ok(Some(e))
}

/// `88 NAME VALUE 'HD'` (one quoted literal, no THRU, no list): the literal.
fn condition_value(stmt: &str) -> Option<String> {
    let words: Vec<&str> = stmt.split_whitespace().collect();
    if words.first() != Some(&"88") {
        return None;
    }
    let upper = stmt.to_ascii_uppercase();
    let at = upper.find(" VALUE")?;
    let rest = stmt[at + 6..].trim_start_matches(|c: char| c.is_ascii_alphabetic());
    let rest = rest.trim();
    let rest = rest
        .strip_prefix("IS ")
        .or_else(|| rest.strip_prefix("ARE "))
        .unwrap_or(rest)
        .trim();
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let body = &rest[1..];
    let end = body.find(quote)?;
    body[end + 1..]
        .trim()
        .is_empty()
        .then(|| body[..end].to_string())
}

fn is_clause(w: &str) -> bool {
    matches!(
        w.to_ascii_uppercase().as_str(),
        "PIC" | "PICTURE" | "REDEFINES" | "USAGE" | "COMP" | "COMP-3" | "OCCURS" | "VALUE"
    )
}

/// `ORDER-NO` → `order_no`.
fn ident(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("f_{s}")
    } else {
        s
    }
}

/// Whether a fixed-length file of `size` bytes holds whole records of the copybook's layout
/// (its longest record). If not, what record length the file does divide into nearby, and
/// which fields of the layout end around where the two part: the places to look for an item
/// whose size the copybook gets wrong (a COMP item's digits, a SIGN SEPARATE byte, a FILLER).
pub fn fits_file(records: &[CopyRecord], size: u64) -> Result<(), String> {
    let Some(longest) = records.iter().max_by_key(|r| r.length) else {
        return Ok(());
    };
    let len = longest.length as u64;
    if len == 0 || size.is_multiple_of(len) {
        return Ok(());
    }
    let mut m = format!(
        "the file is {size} bytes, not a whole number of the copybook's {len}-byte records ({} and {} bytes over)",
        size / len,
        size % len
    );
    // The nearest record length that does divide the file, a few bytes either way.
    let near = (1..=64u64)
        .flat_map(|d| [len + d, len.saturating_sub(d)])
        .find(|l| *l > 0 && size.is_multiple_of(*l) && size / l > 1);
    match near {
        Some(l) if l == len + 1 || l == len + 2 => {
            let _ = write!(
                m,
                "; it divides into {l}-byte records: each record likely ends with a line end (use --framing lines)"
            );
        }
        Some(l) => {
            let (more, d) = if l > len {
                ("longer", l - len)
            } else {
                ("shorter", len - l)
            };
            let _ = write!(
                m,
                "; it divides into {l}-byte records, {d} bytes {more} than the copybook's"
            );
            let parts = (l.min(len)) as usize;
            if let Some(f) = longest.fields.iter().rev().find(|f| f.start < parts) {
                let _ = write!(
                    m,
                    ": the two part at or before byte {} (field {} at bytes {}..{}); look there for an item whose size is wrong",
                    parts + 1,
                    f.name,
                    f.start + 1,
                    f.start + f.length
                );
            }
        }
        None => m.push_str("; check that the copybook is the one for this file"),
    }
    Err(m)
}

/// Options for the generated mapping.
pub struct Options {
    pub source: String,
    pub file: Option<String>,
    pub encoding: String,
    pub framing: String,
    pub from: String,
    /// COMP-5 items are little-endian (the file was written on a PC).
    pub native_little: bool,
}

/// The mapping: a flatfile source with one table per record type, and a list tool for each.
pub fn to_yaml(records: &[CopyRecord], o: &Options) -> String {
    let mut out = format!(
        "# Generated by `legacy-mcp import-copybook {}`. Set `directory` and `file` to the export;\n# review types and add descriptions: they are what agents read.\nversion: 1\nsources:\n  {}:\n    kind: flatfile\n    directory: .\n    tables:\n",
        o.from, o.source
    );
    // Record types told apart by a code share one file; otherwise each record is its own file.
    let shared = records.iter().all(|r| r.record_type.is_some());
    if shared {
        out.push_str(
            "      # One file of several record types. If one type is a header or trailer, move it\n      # to `header_record` / `trailer_record` on one table, with the trailer's control totals\n      # (`count`, `sums`): then every read is verified against them.\n",
        );
    }
    for r in records {
        let first = if shared { &records[0] } else { r };
        let file = o
            .file
            .clone()
            .unwrap_or_else(|| format!("{}.DAT", first.name.to_ascii_uppercase()));
        let _ = write!(
            out,
            "      {}:\n        file: {}\n        format: fixed_width\n        encoding: {}\n        framing: {}\n",
            r.name, file, o.encoding, o.framing
        );
        if o.framing == "fixed" {
            // Every record of a file is as long as its longest layout.
            let length = if shared {
                records.iter().map(|r| r.length).max().unwrap_or(r.length)
            } else {
                r.length
            };
            let _ = writeln!(out, "        record_length: {length}");
        }
        if let Some((start, length, value)) = &r.record_type {
            let _ = writeln!(
                out,
                "        record_type: {{start: {}, length: {length}, value: {}}}",
                start + 1,
                yaml_string(value)
            );
        }
        if r.variable {
            out.push_str("        allow_short_records: true\n");
        }
        for note in &r.notes {
            let _ = writeln!(out, "        # {note}");
        }
        out.push_str("        fields:\n");
        for f in &r.fields {
            let mut attrs = vec![
                format!("start: {}", f.start + 1),
                format!("length: {}", f.length),
            ];
            if f.kind != "string" {
                attrs.push(format!("type: {}", f.kind));
            }
            if f.storage != "text" {
                attrs.push(format!("storage: {}", f.storage));
            }
            if f.scale > 0 {
                attrs.push(format!("scale: {}", f.scale));
            }
            if f.storage == "zoned" && f.sign_leading {
                attrs.push("sign: leading".into());
            }
            if f.storage == "binary" && !f.signed {
                attrs.push("signed: false".into());
            }
            if f.native && o.native_little {
                attrs.push("byte_order: little".into());
            }
            if let Some((gate, value)) = &f.when {
                attrs.push(format!("when: {{{gate}: {}}}", yaml_string(value)));
            }
            let _ = writeln!(out, "          {}: {{{}}}", f.name, attrs.join(", "));
        }
    }
    out.push_str("tools:\n");
    for r in records {
        let _ = write!(
            out,
            "  list_{}:\n    description: \"Records of {} from the export, in file order, 50 per page.\"\n    source: {}\n    table: {}\n",
            r.name, r.name, o.source, r.name
        );
    }
    out
}

/// A YAML double-quoted string (type codes may be digits or have spaces).
fn yaml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copybook_with_every_usage() {
        let cpy = "      * Order record\n\
       000100 01  ORDER-REC.\n\
       000200     05  ORDER-NO      PIC X(8).\n\
       000300     05  AMOUNT        PIC S9(7)V99 COMP-3.\n\
       000400     05  QTY           PIC S9(5).\n\
       000500         88 QTY-ZERO   VALUE 0.\n\
       000600     05  COUNT-B       PIC 9(4) COMP.\n\
       000700     05  LINES OCCURS 2 TIMES.\n\
       000800         10 ITEM       PIC X(3).\n\
       000900         10 PRICE      PIC 9(3)V9.\n\
       001000     05  FILLER        PIC X(2).\n\
       001100     05  ALT REDEFINES FILLER PIC XX.\n";
        let r = parse(cpy).unwrap();
        assert_eq!(r.len(), 1);
        let rec = &r[0];
        assert_eq!(rec.name, "order_rec");
        let got: Vec<(String, usize, usize, &str, &str)> = rec
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.start, f.length, f.kind, f.storage))
            .collect();
        assert_eq!(
            got,
            vec![
                ("order_no".into(), 0, 8, "string", "text"),
                ("amount".into(), 8, 5, "decimal", "packed"),
                ("qty".into(), 13, 5, "integer", "zoned"),
                ("count_b".into(), 18, 2, "integer", "binary"),
                ("item_1".into(), 20, 3, "string", "text"),
                ("price_1".into(), 23, 4, "decimal", "text"),
                ("item_2".into(), 27, 3, "string", "text"),
                ("price_2".into(), 30, 4, "decimal", "text"),
                ("alt".into(), 34, 2, "string", "text"),
            ]
        );
        assert_eq!(rec.length, 36);
    }

    #[test]
    fn unsupported_clauses_name_their_line() {
        let e = parse("01 R.\n  05 N PIC 9(3) OCCURS 5 DEPENDING ON X.\n").unwrap_err();
        assert!(e.contains("\n  line 2: N OCCURS DEPENDING ON"), "{e}");
        let e = parse("01 R.\n  05 F COMP-2.\n").unwrap_err();
        assert!(e.contains("floating point"), "{e}");
        let e = parse("01 R.\n  05 F PIC 9(3)\n").unwrap_err();
        assert!(e.contains("does not end with a period"), "{e}");
    }
}

#[cfg(test)]
mod real_copybook_tests {
    use super::*;

    fn fields(cpy: &str) -> Vec<(String, usize, usize, &'static str, u32)> {
        parse(cpy).unwrap()[0]
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.start, f.length, f.kind, f.scale))
            .collect()
    }

    /// COMP-0 is binary (it was read as text), 19 to 38 binary digits take 16 bytes, P before
    /// the digits is a scale, COMP-5 is marked native.
    #[test]
    fn usages_real_copybooks_contain() {
        let got = fields(
            "01 R.\n 05 A PIC S9(4) COMP-0.\n 05 B PIC 9(20) BINARY.\n 05 C PIC PPP99.\n 05 D PIC SVPP9(3) COMP-3.\n 05 E PIC S9(9) COMP-5.\n",
        );
        assert_eq!(
            got,
            vec![
                ("a".into(), 0, 2, "integer", 0),
                ("b".into(), 2, 16, "decimal", 0),
                ("c".into(), 18, 2, "decimal", 5),
                ("d".into(), 20, 2, "decimal", 5),
                ("e".into(), 22, 4, "integer", 0),
            ]
        );
        let r = parse("01 R.\n 05 E PIC S9(9) COMP-5.\n 05 F PIC S9(9) COMP.\n").unwrap();
        assert!(r[0].fields[0].native && !r[0].fields[1].native);
    }

    /// OCCURS DEPENDING ON ending the record imports when records carry their length; in
    /// fixed-length framing, or with anything after it, it stays unsupported and says why.
    #[test]
    fn occurs_depending_on_at_the_end_of_a_variable_record() {
        let tail = "01 R.\n 05 K PIC X(2).\n 05 CNT PIC 9.\n 05 LINES OCCURS 1 TO 3 DEPENDING ON CNT.\n  10 ITEM PIC X(4).\n";
        let (records, _) = parse_with(tail, false, true).unwrap();
        let r = &records[0];
        assert!(r.variable);
        assert_eq!(r.length, 15);
        assert_eq!(r.fields.last().unwrap().name, "item_3");
        let e = parse_with(tail, false, false).unwrap_err();
        assert!(e.contains("import with --framing rdw or lines"), "{e}");
        let middle = format!("{tail} 05 AFTER PIC X.\n");
        let e = parse_with(&middle, false, true).unwrap_err();
        assert!(e.contains("line 4: LINES OCCURS DEPENDING ON"), "{e}");
        assert!(!e.contains("--framing rdw"), "{e}");
    }

    /// A REDEFINES without a type field to choose by: the first layout only, and a note that
    /// names what was left out; names used twice in a record get a number.
    #[test]
    fn redefines_without_a_type_field_and_names_used_twice() {
        let cpy = "01 R.\n 05 K PIC X(2).\n 05 S PIC X(4).\n 05 N REDEFINES S PIC 9(4).\n 05 HOME.\n  10 CITY PIC X(3).\n 05 WORK.\n  10 CITY PIC X(3).\n";
        let r = &parse(cpy).unwrap()[0];
        let names: Vec<&str> = r.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["k", "s", "city", "city_2"]);
        assert!(r.fields.iter().all(|f| f.when.is_none()));
        assert_eq!(r.notes.len(), 1);
        assert!(r.notes[0].contains("left out: n."), "{}", r.notes[0]);
    }
}

#[cfg(test)]
mod unsupported_tests {
    use super::*;

    const MIXED: &str = "       01  REC.
           05  A        PIC X(4).
           05  RATE     COMP-1.
           05  SCALED   PIC 9(3)PPP.
           05  B        PIC S9(5) SIGN LEADING SEPARATE.
           05  WEIGHT   COMP-2.
           05  C        PIC 9(4) SIGN TRAILING SEPARATE.
           05  D        PIC X(2).
";

    /// Every unsupported clause in one run, each with its line and what to do; then
    /// `--unsupported filler` imports the rest with their bytes kept as FILLER.
    #[test]
    fn every_unsupported_clause_is_listed_and_filler_imports_the_rest() {
        let e = parse(MIXED).unwrap_err();
        assert!(e.starts_with("3 clause(s) are not supported:"), "{e}");
        for line in [
            "line 3: RATE PIC : COMP-1 (floating point) is not supported (4 bytes",
            "line 4: SCALED PIC 9(3)PPP: P after the digits (a power-of-ten multiplier) is not supported; P before them is (3 bytes",
            "line 6: WEIGHT PIC : COMP-2 (floating point) is not supported (8 bytes",
        ] {
            assert!(e.contains(line), "missing {line:?} in {e}");
        }
        let (records, filled) = parse_with(MIXED, true, false).unwrap();
        assert_eq!(filled.len(), 3);
        let rec = &records[0];
        let at: Vec<(String, usize, usize)> = rec
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.start, f.length))
            .collect();
        // A separate sign is a byte of its own, with or without `S`.
        assert_eq!(
            at,
            vec![
                ("a".into(), 0, 4),
                ("b".into(), 11, 6),
                ("c".into(), 25, 5),
                ("d".into(), 30, 2)
            ]
        );
        assert_eq!(rec.length, 32);
    }

    /// A clause whose length is unknown is never made FILLER.
    #[test]
    fn occurs_depending_on_cannot_become_filler() {
        let text = "01 R.\n  05 N PIC 9(3) OCCURS 1 TO 5 DEPENDING ON X.\n  05 F COMP-1.\n";
        let e = parse_with(text, true, false).unwrap_err();
        assert!(e.contains("line 2: N OCCURS DEPENDING ON"), "{e}");
        assert!(e.contains("its length is unknown"), "{e}");
        assert!(e.contains("line 3: F PIC : COMP-1"), "{e}");
    }
}

/// Property tests: no copybook text makes the parser panic (it is hand-written by integrators
/// and often cut from a larger member).
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn no_text_makes_the_parser_panic(text in "\\PC{0,300}") {
            let _ = parse(&text);
        }

        #[test]
        fn no_copybook_soup_makes_the_parser_panic(lines in proptest::collection::vec(
            prop_oneof![
                Just("       01  REC."), Just("           05  A  PIC X(10)."),
                Just("           05  B  PIC S9(7)V99 COMP-3."), Just("           05  C OCCURS 3 TIMES."),
                Just("             10  D PIC 9(4) COMP."), Just("           05  E REDEFINES A PIC 9(10)."),
                Just("      * comment"), Just("           05  F PIC X(0)."), Just("           05  G PIC 9(99)."),
                Just("           05  H OCCURS 1 TO 5 DEPENDING ON I."), Just("       66  R RENAMES A THRU B."),
                Just("           88  FLAG VALUE 'Y'."), Just("PIC"), Just("."), Just("           05"),
            ],
            0..20,
        )) {
            let _ = parse(&lines.join("\n"));
        }
    }
}
