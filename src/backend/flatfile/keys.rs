//! The keys of a `kind: flatfile` source (the export directory and each exported table's
//! layout: format, framing, record types, fields) and of a tool on one (table, filters, order). Read by `mapping::kind_keys` once the
//! source's kind is known; `config.rs` compiles them.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::mapping::field_type::FieldType;
use crate::mapping::shorthand::{Condition, OrderKey};
use crate::mapping::units::DurationText;

/// The keys of a tool on a flatfile source: which table, filtered and ordered how.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlatfileToolKeys {
    /// The table to read.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub table: Option<Spanned<String>>,
    /// Filters on fields, bound from parameters. `field: param` means equality.
    #[serde(default, rename = "where")]
    #[schemars(with = "IndexMap<String, Condition>")]
    pub filter: IndexMap<String, Spanned<Condition>>,
    /// Sort keys; `field` ascending, `-field` descending.
    #[serde(default)]
    #[schemars(with = "Vec<OrderKey>")]
    pub order_by: Vec<Spanned<OrderKey>>,
}

/// The keys of a flatfile source.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlatfileKeys {
    /// The export directory, relative to the mapping file. `${env:NAME}` allowed.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub directory: Option<Spanned<String>>,
    /// A file modified more recently than this is taken to be still being written
    /// and is not read (default 0s: no wait).
    #[serde(default)]
    pub stable_for: Option<DurationText>,
    /// The exported tables, by name.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, TableDef>")]
    pub tables: IndexMap<String, Spanned<TableDef>>,
}

/// Layout of a flat file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// Delimited text (`delimiter`, `quote`, `header`).
    Csv,
    /// Columns at fixed byte positions, one record per line.
    FixedWidth,
}

/// How the records of a fixed-width file are delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Framing {
    Lines,
    Fixed,
    Rdw,
}

/// The variant of record descriptor words a `framing: rdw` file uses.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RdwDef {
    /// Whether the length in each word counts the 4 header bytes (`includes_header`, IBM's
    /// way and the default) or only the record after it (`excludes_header`).
    #[serde(default)]
    pub length: RdwLength,
    /// The byte order of the length: `big` (IBM, the default) or `little` (written by some PC
    /// conversion tools).
    #[serde(default)]
    pub byte_order: ByteOrder,
    /// Variable blocked (RECFM=VB): records are grouped in blocks, each preceded by a block
    /// descriptor word (BDW) written like the RDWs. Default false.
    #[serde(default)]
    pub blocked: bool,
}

/// What the length in a record descriptor word counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RdwLength {
    #[default]
    IncludesHeader,
    ExcludesHeader,
}

/// The byte order of a binary length.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ByteOrder {
    #[default]
    Big,
    Little,
}

/// Character encoding of a flat file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    #[serde(rename = "utf-8")]
    Utf8,
    #[serde(rename = "windows-1252")]
    Windows1252,
    #[serde(rename = "iso-8859-1")]
    Iso88591,
    /// DOS United States (IBM PC).
    #[serde(rename = "cp437")]
    Cp437,
    /// DOS Western Europe (DOS-era ERPs in Europe).
    #[serde(rename = "cp850")]
    Cp850,
    /// EBCDIC USA/Canada (AS/400, IBM i).
    #[serde(rename = "cp037")]
    Cp037,
    /// EBCDIC International.
    #[serde(rename = "cp500")]
    Cp500,
    /// EBCDIC Latin 1 open systems (z/OS UNIX).
    #[serde(rename = "cp1047")]
    Cp1047,
    /// EBCDIC Germany/Austria.
    #[serde(rename = "cp273")]
    Cp273,
}

impl Encoding {
    /// One byte per character, each byte a character (all but utf-8).
    pub fn single_byte(self) -> bool {
        self != Encoding::Utf8
    }

    /// IBM EBCDIC: digits are 0xF0..0xF9, the space is 0x40.
    pub fn ebcdic(self) -> bool {
        matches!(
            self,
            Encoding::Cp037 | Encoding::Cp500 | Encoding::Cp1047 | Encoding::Cp273
        )
    }
}

/// What to do with bytes that are not valid in the declared encoding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecodeErrors {
    /// Fail the call, naming file, record and byte offset (default).
    #[default]
    Fail,
    /// Replace each bad sequence with U+FFFD and carry on.
    Replace,
}

/// One exported file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TableDef {
    /// The file name inside the source directory (no `..`, no absolute paths).
    #[schemars(with = "String")]
    pub file: Spanned<String>,
    #[schemars(with = "FileFormat")]
    pub format: Spanned<FileFormat>,
    /// Default utf-8.
    #[serde(default)]
    pub encoding: Option<Encoding>,
    /// Default fail.
    #[serde(default)]
    pub decode_errors: DecodeErrors,
    /// csv: one character, default `,`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub delimiter: Option<Spanned<String>>,
    /// csv: one character, default `"`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub quote: Option<Spanned<String>>,
    /// csv: whether the first record names the columns (default true).
    #[serde(default)]
    pub header: Option<bool>,
    /// fixed_width: records shorter than the layout are an error (default) unless this is true,
    /// in which case missing columns read as blank.
    #[serde(default)]
    pub allow_short_records: bool,
    /// fixed_width: how records are delimited: `lines` (a line end after each, CRLF or LF;
    /// the default), `fixed` (no line ends: every record is `record_length` bytes, as
    /// mainframe and AS/400 files are) or `rdw` (each record starts with a 4-byte record
    /// descriptor word giving its length, as variable-length mainframe files do).
    #[serde(default)]
    pub framing: Option<Framing>,
    /// fixed_width with `framing: rdw`: how the descriptor words are written, when not as
    /// IBM writes them (big-endian length including the 4 header bytes, no blocks).
    #[serde(default)]
    #[schemars(with = "Option<RdwDef>")]
    pub rdw: Option<Spanned<RdwDef>>,
    /// fixed_width with `framing: fixed`: the record length (LRECL) in bytes; default the end
    /// of the last field.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub record_length: Option<Spanned<u32>>,
    /// Fields that identify a record; the first one is indexed for fast lookups.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub key: Vec<Spanned<String>>,
    /// fixed_width, multi-record files: this table reads only the records whose type code
    /// (the bytes at `start`..`start + length - 1`) is `value`. Other tables may read the same
    /// file's other record types; a record of a type no table declares is an error.
    #[serde(default)]
    #[schemars(with = "Option<RecordTypeDef>")]
    pub record_type: Option<Spanned<RecordTypeDef>>,
    /// fixed_width, multi-segment files: tables of the same file whose records follow a
    /// record of this table and belong to it (a company record followed by its contacts):
    /// each row of this table carries, under each child table's name, the list of that
    /// child's records up to the next record of this table.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub children: Vec<Spanned<String>>,
    /// fixed_width: record types in the file that no table reads, skipped on purpose.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub other_record_types: Vec<Spanned<String>>,
    /// fixed_width: the file starts with a header record of this type; a file without it is
    /// incomplete.
    #[serde(default)]
    #[schemars(with = "Option<RecordTypeDef>")]
    pub header_record: Option<Spanned<RecordTypeDef>>,
    /// fixed_width: the file ends with a trailer record whose control totals are verified
    /// whenever the file is indexed; a file without it, or whose totals do not match, is
    /// incomplete.
    #[serde(default)]
    #[schemars(with = "Option<TrailerDef>")]
    pub trailer_record: Option<Spanned<TrailerDef>>,
    /// What calls get while the file is incomplete (its trailer is missing or does not match,
    /// it is still being written, or it is gone): `fail` (an error saying why; the default) or
    /// `last_complete` (answers from the last version that verified, with a notice saying so).
    #[serde(default)]
    pub when_incomplete: WhenIncomplete,
    /// The typed fields, in output order.
    #[schemars(with = "IndexMap<String, FieldDef>")]
    pub fields: IndexMap<String, Spanned<FieldDef>>,
}

/// A record type code: where it is in the record and what it reads.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordTypeDef {
    /// 1-based byte position of the type code.
    #[schemars(with = "u32")]
    pub start: Spanned<u32>,
    /// Width of the type code in bytes.
    #[schemars(with = "u32")]
    pub length: Spanned<u32>,
    /// The code, as text in the file's encoding; padded with spaces to `length`.
    #[schemars(with = "String")]
    pub value: Spanned<String>,
}

/// A trailer record and the control totals it carries.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrailerDef {
    /// Which records are the trailer.
    #[schemars(with = "RecordTypeDef")]
    pub record_type: Spanned<RecordTypeDef>,
    /// The trailer's own fields (same keys as a table's fields).
    #[serde(default)]
    #[schemars(with = "IndexMap<String, FieldDef>")]
    pub fields: IndexMap<String, Spanned<FieldDef>>,
    /// The trailer field that holds the number of records.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub count: Option<Spanned<String>>,
    /// What `count` counts: `data_records` (every record but the header and trailer; the
    /// default), `all_records` (header and trailer included) or `table_records` (only this
    /// table's record type).
    #[serde(default)]
    pub counts: CountRule,
    /// Control totals: trailer field -> the table field it is the sum of.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, String>")]
    pub sums: IndexMap<String, Spanned<String>>,
}

/// What a trailer's record count counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CountRule {
    #[default]
    DataRecords,
    AllRecords,
    TableRecords,
}

/// What calls get while an export is incomplete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WhenIncomplete {
    /// An error saying why (default).
    #[default]
    Fail,
    /// The last version that verified, with a notice naming its age and what is wrong now.
    LastComplete,
}

/// How string fields are trimmed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trim {
    /// Leading and trailing padding removed (default): white space, LOW-VALUES (NUL), and
    /// HIGH-VALUES in EBCDIC files.
    #[default]
    Both,
    Left,
    Right,
    None,
}

/// Date layouts found in ERP exports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DateFormat {
    /// `2026-11-20` (default).
    #[default]
    Iso,
    /// `20261120`.
    Yyyymmdd,
    /// `20.11.2026`.
    #[serde(rename = "dd.mm.yyyy")]
    DdMmYyyy,
    /// `11/20/2026`.
    #[serde(rename = "mm/dd/yyyy")]
    MmDdYyyy,
    /// `20/11/2026`.
    #[serde(rename = "dd/mm/yyyy")]
    DdMmYyyySlash,
    /// JD Edwards Julian: century (0 = 19xx, 1 = 20xx), year, day of year: `114001` is
    /// 2014-01-01.
    Cyyddd,
    /// Two-digit year and day of year: `26324` (with `pivot_year`).
    Yyddd,
    /// `261120` (with `pivot_year`).
    Yymmdd,
}

/// How a fixed-width number is stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Storage {
    #[default]
    Text,
    Zoned,
    Packed,
    Binary,
}

/// Where a zoned number's overpunched sign is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignPosition {
    #[default]
    Trailing,
    Leading,
}

/// One field of a table.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// Default string.
    #[serde(rename = "type", default)]
    #[schemars(with = "Option<FieldType>")]
    pub kind: Option<Spanned<FieldType>>,
    /// fixed_width: 1-based byte position of the first byte.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub start: Option<Spanned<u32>>,
    /// fixed_width: width in bytes.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub length: Option<Spanned<u32>>,
    /// csv: the header name of the column (default: the field name when `header` is true).
    #[serde(default)]
    pub column: Option<String>,
    /// csv: the 1-based column number, for files without a header row.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub index: Option<Spanned<u32>>,
    /// string: trimming (default both).
    #[serde(default)]
    pub trim: Trim,
    /// decimal: implied decimal places when the text has no separator (`00012345`, scale 2 is
    /// 123.45), and the scale of the result.
    #[serde(default)]
    pub scale: Option<u32>,
    /// decimal/number: the decimal separator, `.` (default) or `,`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub decimal_separator: Option<Spanned<String>>,
    /// decimal/number/integer: a thousands separator to ignore, e.g. `.` or `'`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub group_separator: Option<Spanned<String>>,
    /// date: the layout (default iso). Blank, all-zero and all-nine dates read as null.
    #[serde(default)]
    pub date_format: DateFormat,
    /// date with a two-digit year (`yymmdd`, `yyddd`): years below this are 20YY, the others
    /// 19YY (default 50).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub pivot_year: Option<Spanned<u32>>,
    /// fixed_width integer, decimal, number or date: how the number is stored: `text` (digits
    /// as characters, the default), `zoned` (COBOL DISPLAY with the sign overpunched on the
    /// last digit, or the first with `sign: leading`), `packed` (COMP-3: two digits a byte, the
    /// sign in the last nibble) or `binary` (COMP/COMP-4: a big-endian integer of 1 to 8 bytes, or 16 for 19 to 38 digits; `byte_order: little` for COMP-5 from a PC).
    /// `scale` gives the implied decimal places of all of them.
    #[serde(default)]
    #[schemars(with = "Option<Storage>")]
    pub storage: Option<Spanned<Storage>>,
    /// zoned: where the overpunched sign is: `trailing` (default) or `leading`.
    #[serde(default)]
    pub sign: Option<SignPosition>,
    /// binary: whether the integer is signed two's complement (default true; PIC S9) or
    /// unsigned (PIC 9).
    #[serde(default)]
    pub signed: Option<bool>,
    /// binary: the byte order, `big` (COMP, COMP-4, BINARY, and COMP-5 on a mainframe; the
    /// default) or `little` (COMP-5 written on a PC: GnuCOBOL, Micro Focus on x86).
    #[serde(default)]
    pub byte_order: Option<ByteOrder>,
    /// boolean: texts read as true (default `Y`, `J`, `1`, `true`, `X`).
    #[serde(default)]
    pub true_values: Option<Vec<String>>,
    /// boolean: texts read as false (default `N`, `0`, `false`, and blank).
    #[serde(default)]
    pub false_values: Option<Vec<String>>,
    /// What the field means, shown to agents in output schemas.
    #[serde(default)]
    pub description: Option<String>,
    /// A masking policy (from `masking:`) applied wherever this field is returned.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub mask: Option<Spanned<String>>,
    /// fixed_width: read this field only in records where another field has this value
    /// (`when: {taxpayer_type: N}`); it is null in the others. How a COBOL `REDEFINES` chosen
    /// by a type field is mapped: fields over the same bytes must each have `when` on the same
    /// field, with different values.
    #[serde(default)]
    #[schemars(with = "Option<IndexMap<String, String>>")]
    pub when: Option<Spanned<IndexMap<String, String>>>,
}
