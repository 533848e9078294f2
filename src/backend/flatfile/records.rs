//! Multi-record files: which layout each record has (its type code), the header and trailer
//! records around the data, and the trailer's control totals checked against what the file
//! really holds. A file whose totals do not match is incomplete, and is never answered from.

use rust_decimal::Decimal;

use super::keys::{CountRule, DecodeErrors, Encoding};
use crate::value::Value;

use super::codec::decode;
use super::error::FlatError;
pub use super::record_types::{Kind, Records, Sum, Trailer, TypeCode};
use super::table::{Line, RecordAt, Table};

/// Counts and sums gathered while a version of the file is read whole, then compared with
/// what its header and trailer promise.
pub struct Audit<'t> {
    table: &'t Table,
    records: u64,
    data: u64,
    own: u64,
    sums: Vec<Decimal>,
    trailer: Option<(RecordAt, Vec<Value>)>,
}

impl<'t> Audit<'t> {
    pub fn new(table: &'t Table) -> Self {
        let sums = table.records.trailer.as_ref().map_or(0, |t| t.sums.len());
        Audit {
            table,
            records: 0,
            data: 0,
            own: 0,
            sums: vec![Decimal::ZERO; sums],
            trailer: None,
        }
    }

    /// Take one record into the counts; its position is checked against header and trailer.
    pub fn see(&mut self, kind: Kind, line: &Line<'_>, at: RecordAt) -> Result<(), FlatError> {
        let t = self.table;
        let records = &t.records;
        self.records += 1;
        if let Some((trailer_at, _)) = &self.trailer {
            return Err(t.problem(
                at,
                format!(
                    "a record after the trailer record (record {}): the file holds more than one export, or the trailer is misplaced",
                    trailer_at.number
                ),
            ));
        }
        if let Some(h) = &records.header
            && (self.records == 1) != (kind == Kind::Header)
        {
            return Err(if self.records == 1 {
                t.incomplete(format!(
                    "it does not start with its header record ({})",
                    h.describe()
                ))
            } else {
                t.problem(
                    at,
                    "a second header record: the file holds more than one export".into(),
                )
            });
        }
        match kind {
            Kind::Header => {}
            Kind::Trailer => self.trailer = Some((at, self.read_trailer(line, at)?)),
            Kind::Own | Kind::Other => {
                self.data += 1;
                self.add_sums(line, at)?;
            }
        }
        Ok(())
    }

    fn read_trailer(&self, line: &Line<'_>, at: RecordAt) -> Result<Vec<Value>, FlatError> {
        let t = self.table;
        let trailer = t
            .records
            .trailer
            .as_ref()
            .expect("a trailer record needs a trailer");
        if let Line::Fixed(bytes) = line
            && bytes.len() < trailer.record_len
        {
            return Err(t.problem(
                at,
                format!(
                    "the trailer record is {} bytes long but its layout needs {}",
                    bytes.len(),
                    trailer.record_len
                ),
            ));
        }
        (0..trailer.fields.len())
            .map(|fi| t.decode_with(&trailer.fields[fi], line, None, at))
            .collect()
    }

    fn add_sums(&mut self, line: &Line<'_>, at: RecordAt) -> Result<(), FlatError> {
        let (Some(trailer), Line::Fixed(record)) = (&self.table.records.trailer, line) else {
            return Ok(());
        };
        if !trailer.counts_as_table(record) {
            return Ok(());
        }
        self.own += 1;
        for (total, sum) in self.sums.iter_mut().zip(&trailer.sums) {
            let value = self.table.decode_with(&sum.field, line, None, at)?;
            *total += amount(&value).unwrap_or(Decimal::ZERO);
        }
        Ok(())
    }

    /// After the last record: the trailer must be there and agree with what was read.
    pub fn finish(self) -> Result<(), FlatError> {
        let t = self.table;
        let Some(trailer) = &t.records.trailer else {
            if t.records.header.is_some() && self.records == 0 {
                return Err(t.incomplete("it is empty: not even its header record".into()));
            }
            return Ok(());
        };
        let Some((_, values)) = self.trailer else {
            return Err(t.incomplete(format!(
                "it has no trailer record ({}) after its {} records: the export was cut off or is still being written",
                trailer.code.describe(),
                self.records
            )));
        };
        if let Some(ci) = trailer.count {
            let (have, what) = match trailer.counts {
                CountRule::DataRecords => (self.data, "data records"),
                CountRule::AllRecords => (self.records, "records in all"),
                CountRule::TableRecords => (self.own, "records of the counted type"),
            };
            let said = amount(&values[ci]);
            if said != Some(Decimal::from(have)) {
                return Err(t.incomplete(format!(
                    "its trailer's `{}` says {} but the file holds {have} {what}",
                    trailer.fields[ci].name,
                    values[ci].to_text()
                )));
            }
        }
        for (sum, total) in trailer.sums.iter().zip(&self.sums) {
            let ti = sum.trailer_field;
            if amount(&values[ti]) != Some(*total) {
                return Err(t.incomplete(format!(
                    "its trailer's `{}` says {} but `{}` of its {} records sums to {total}",
                    trailer.fields[ti].name,
                    values[ti].to_text(),
                    sum.field.name,
                    self.own
                )));
            }
        }
        Ok(())
    }
}

/// A number as an exact decimal (scale-insensitive in comparisons).
fn amount(v: &Value) -> Option<Decimal> {
    match v {
        Value::Int(i) => Some(Decimal::from(*i)),
        Value::Dec(d) => Some(d.normalize()),
        _ => None,
    }
}

/// The type code of `text` in `encoding`, padded with spaces to `length`.
pub fn type_code(
    text: &str,
    start: usize,
    length: usize,
    encoding: Encoding,
) -> Result<TypeCode, String> {
    let mut bytes = super::codec::encode(text, encoding).map_err(|c| {
        format!(
            "`{c}` cannot be written in {}",
            super::table::encoding_name(encoding)
        )
    })?;
    if bytes.len() > length {
        return Err(format!(
            "`{text}` is {} bytes in {} but `length` is {length}",
            bytes.len(),
            super::table::encoding_name(encoding)
        ));
    }
    let space = super::codec::encode(" ", encoding)
        .ok()
        .and_then(|s| s.first().copied())
        .unwrap_or(b' ');
    let significant = bytes.len();
    bytes.resize(length, space);
    Ok(TypeCode {
        start,
        bytes,
        significant,
        space,
        text: text.to_string(),
    })
}

impl Records {
    /// The message for a record whose type code nobody declared.
    pub fn unknown(&self, table: &Table, record: &[u8], at: RecordAt) -> FlatError {
        let own = self
            .own
            .as_ref()
            .expect("only typed tables meet unknown records");
        let found = record
            .get(own.start..(own.start + own.bytes.len()).min(record.len()))
            .unwrap_or_default();
        let known: Vec<String> = std::iter::once(own)
            .chain(&self.others)
            .chain(&self.header)
            .chain(self.trailer.as_ref().map(|t| &t.code))
            .map(|c| format!("`{}`", c.text))
            .collect();
        FlatError::Record {
            file: table.file_name.clone(),
            record: at.number,
            offset: at.offset,
            message: format!(
                "record type `{}` (bytes {}-{}) is not one the mapping declares ({}); give it a table with `record_type`, list it under `other_record_types`, or check `record_type.start`",
                decode(found, table.encoding, DecodeErrors::Replace).unwrap_or_default(),
                own.start + 1,
                own.start + own.bytes.len(),
                known.join(", ")
            ),
        }
    }
}
