//! SQL text from a mapping, parsed once at load time into pieces: plain text, named parameters
//! (`:customer_no`, bound as real parameters) and identifier fragments (`{{company}}` inside a
//! quoted identifier, filled from an allow-list). The SQL itself is never rewritten beyond
//! replacing those markers, so what the integrator tested in their SQL tool is what runs.

use std::sync::LazyLock;

use regex::Regex;

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Param(String),
    /// A fragment of a delimited identifier; `close` is the delimiter that ends it (`]`, `"`
    /// or `` ` ``), doubled inside the value as SQL requires.
    Ident {
        name: String,
        close: char,
    },
}

/// A parsed statement.
#[derive(Debug, Clone)]
pub struct Statement {
    pieces: Vec<Piece>,
    /// The SQL has an `ORDER BY` outside any parentheses.
    pub ordered: bool,
    /// Why the statement is not a plain query, if it is not (see `Statement::change`).
    change: Option<String>,
    /// It calls a stored procedure (`EXEC`, `EXECUTE`, `CALL`), whose effect the SQL does
    /// not show.
    pub procedure: bool,
    /// A `LIMIT` may be appended: a query with no row limit, offset or locking clause of its
    /// own at the top level.
    pub open_ended: bool,
}

/// Words that make a statement change data (or may: a procedure call), wherever they stand
/// outside strings, comments and quoted identifiers: `WITH d AS (DELETE ...) SELECT` too.
const CHANGING: &[&str] = &[
    "INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "TRUNCATE", "DROP", "ALTER", "CREATE", "INTO",
    "EXEC", "EXECUTE", "CALL", "COPY",
];

/// How a plain query starts.
const QUERY_STARTS: &[&str] = &["SELECT", "WITH", "VALUES", "TABLE"];

/// How a placeholder is written for the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholders {
    /// ODBC: `?`, one per occurrence.
    Question,
    /// SQL Server RPC (`sp_executesql`): `@P1`, one per distinct parameter.
    AtP,
}

/// A statement ready to send: its text and, per placeholder, the parameter it binds.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub sql: String,
    pub binds: Vec<String>,
}

// Compiled once: a catalogue of a thousand SQL tools compiled them a thousand times each
// (1.3 s of `check`, most of it building these automata).
static ORDERED: LazyLock<Regex> = LazyLock::new(|| static_regex(r"(?i)\border\s+by\b"));
static PROCEDURE: LazyLock<Regex> =
    LazyLock::new(|| static_regex(r"(?i)^\s*(exec|execute|call)\b"));
static OPEN_ENDED: LazyLock<Regex> =
    LazyLock::new(|| static_regex(r"(?i)\b(limit|fetch|offset|top|for|into)\b|;"));

fn static_regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("static regex")
}

impl Statement {
    pub fn parse(text: &str) -> Result<Statement, String> {
        let mut p = Parser {
            chars: text.chars().collect(),
            at: 0,
            pieces: Vec::new(),
            text: String::new(),
            depth: 0,
            top_level: String::new(),
            code: String::new(),
        };
        p.run()?;
        let ordered = ORDERED.is_match(&p.top_level);
        Ok(Statement {
            pieces: p.pieces,
            ordered,
            change: change(&p.code),
            procedure: PROCEDURE.is_match(&p.code),
            open_ended: !OPEN_ENDED.is_match(&p.top_level),
        })
    }

    /// Why this statement is not a plain query (`None` for one): what it starts with, a word
    /// that changes data, or a second statement. SQL tools are read-only unless the mapping
    /// says `allow_writes: true`.
    pub fn change(&self) -> Option<&str> {
        self.change.as_deref()
    }

    /// Names of the value parameters, each once, in order of first use.
    pub fn params(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for p in &self.pieces {
            if let Piece::Param(n) = p
                && !out.contains(&n.as_str())
            {
                out.push(n);
            }
        }
        out
    }

    /// Names of the identifier fragments.
    pub fn idents(&self) -> Vec<&str> {
        self.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Ident { name, .. } => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The SQL for the driver. `ident` gives the (already allow-listed) value of a fragment.
    pub fn render(&self, style: Placeholders, ident: &dyn Fn(&str) -> String) -> Rendered {
        let mut sql = String::new();
        let mut binds: Vec<String> = Vec::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => sql.push_str(t),
                Piece::Param(n) => match style {
                    Placeholders::Question => {
                        sql.push('?');
                        binds.push(n.clone());
                    }
                    Placeholders::AtP => {
                        let i = match binds.iter().position(|b| b == n) {
                            Some(i) => i,
                            None => {
                                binds.push(n.clone());
                                binds.len() - 1
                            }
                        };
                        sql.push_str(&format!("@P{}", i + 1));
                    }
                },
                Piece::Ident { name, close } => {
                    let value = ident(name);
                    sql.push_str(&value.replace(*close, &format!("{close}{close}")));
                }
            }
        }
        Rendered { sql, binds }
    }
}

/// See `Statement::change`; `code` is the SQL outside strings, comments and quoted names.
fn change(code: &str) -> Option<String> {
    let trimmed = code.trim().trim_end_matches(';').trim_end();
    if trimmed.contains(';') {
        return Some("it holds more than one statement (a `;` inside)".into());
    }
    let words: Vec<String> = trimmed
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase)
        .collect();
    let first = words.first().map(String::as_str).unwrap_or("");
    if !QUERY_STARTS.contains(&first) {
        return Some(format!("it starts with `{first}`, not `SELECT` or `WITH`"));
    }
    words
        .iter()
        .find(|w| CHANGING.contains(&w.as_str()))
        .map(|w| format!("it contains `{w}`"))
}

struct Parser {
    chars: Vec<char>,
    at: usize,
    pieces: Vec<Piece>,
    text: String,
    depth: i32,
    /// Text outside strings, comments, identifiers and parentheses, to find `ORDER BY`.
    top_level: String,
    /// Text outside strings, comments and identifiers (parentheses included), to tell a
    /// query from a statement that changes data.
    code: String,
}

impl Parser {
    fn peek(&self, n: usize) -> Option<char> {
        self.chars.get(self.at + n).copied()
    }

    fn flush(&mut self) {
        if !self.text.is_empty() {
            self.pieces
                .push(Piece::Text(std::mem::take(&mut self.text)));
        }
    }

    fn run(&mut self) -> Result<(), String> {
        while let Some(c) = self.peek(0) {
            match c {
                '\'' => self.quoted('\'', None)?,
                '"' => self.quoted('"', Some('"'))?,
                '`' => self.quoted('`', Some('`'))?,
                '[' => self.quoted(']', Some(']'))?,
                '-' if self.peek(1) == Some('-') => {
                    self.code.push(' ');
                    self.until("\n")
                }
                '/' if self.peek(1) == Some('*') => {
                    self.code.push(' ');
                    self.until("*/")
                }
                ':' if self.peek(1) == Some(':') => {
                    // PostgreSQL cast `x::int`: not a parameter.
                    self.text.push_str("::");
                    self.at += 2;
                }
                ':' if self
                    .peek(1)
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && !self.prev_is_word() =>
                {
                    self.at += 1;
                    let name = self.word();
                    self.flush();
                    self.code.push(' ');
                    self.pieces.push(Piece::Param(name));
                }
                '?' => {
                    return Err("write parameters by name (`:customer_no`), not `?`".into());
                }
                '{' if self.peek(1) == Some('{') => {
                    return Err(
                        "`{{name}}` must sit inside a quoted identifier, e.g. `[{{company}}$Customer]` or `\"{{company}}\"`, so the value is quoted as an identifier"
                            .into(),
                    );
                }
                _ => {
                    match c {
                        '(' => self.depth += 1,
                        ')' => self.depth -= 1,
                        _ => {}
                    }
                    if self.depth == 0 && c != ')' {
                        self.top_level.push(c);
                    }
                    self.code.push(c);
                    self.text.push(c);
                    self.at += 1;
                }
            }
        }
        self.flush();
        Ok(())
    }

    fn prev_is_word(&self) -> bool {
        self.at > 0 && {
            let p = self.chars[self.at - 1];
            p.is_alphanumeric() || p == '_'
        }
    }

    fn word(&mut self) -> String {
        let mut w = String::new();
        while let Some(c) = self
            .peek(0)
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        {
            w.push(c);
            self.at += 1;
        }
        w
    }

    /// Copy a comment up to and including `end` (or the end of the text).
    fn until(&mut self, end: &str) {
        let end: Vec<char> = end.chars().collect();
        while self.at < self.chars.len() {
            if self.chars[self.at..].starts_with(&end) {
                self.text.extend(end.iter());
                self.at += end.len();
                return;
            }
            self.text.push(self.chars[self.at]);
            self.at += 1;
        }
    }

    /// A string literal (`ident_close` None) or a delimited identifier, where `{{name}}`
    /// fragments are allowed. The closing character doubled is an escaped one.
    fn quoted(&mut self, close: char, ident_close: Option<char>) -> Result<(), String> {
        self.text.push(self.chars[self.at]);
        self.at += 1;
        self.top_level.push(' ');
        self.code.push(' ');
        loop {
            let Some(c) = self.peek(0) else {
                return Err(format!("unclosed `{close}` in the SQL"));
            };
            if c == close {
                if self.peek(1) == Some(close) {
                    self.text.push_str(&format!("{c}{c}"));
                    self.at += 2;
                    continue;
                }
                self.text.push(c);
                self.at += 1;
                return Ok(());
            }
            if let Some(ic) = ident_close
                && c == '{'
                && self.peek(1) == Some('{')
            {
                self.at += 2;
                let name = self.word();
                if name.is_empty() || self.peek(0) != Some('}') || self.peek(1) != Some('}') {
                    return Err("`{{` must be followed by a parameter name and `}}`".into());
                }
                self.at += 2;
                self.flush();
                self.pieces.push(Piece::Ident { name, close: ic });
                continue;
            }
            self.text.push(c);
            self.at += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(sql: &str, style: Placeholders) -> Rendered {
        Statement::parse(sql)
            .unwrap()
            .render(style, &|n| format!("<{n}]>"))
    }

    #[test]
    fn queries_are_told_from_statements_that_change_data() {
        let change = |sql: &str| Statement::parse(sql).unwrap().change().map(str::to_string);
        for query in [
            "SELECT no, name FROM customers WHERE no = :no",
            "  -- the ledger\n with t AS (SELECT 1 AS x) SELECT x FROM t;",
            "SELECT 'DELETE FROM t; DROP TABLE x' AS note, \"update\" FROM [insert] /* DROP */",
            "select last_update, created_by from t order by last_update",
        ] {
            assert_eq!(change(query), None, "{query}");
        }
        for (sql, why) in [
            (
                "UPDATE customers SET blocked = 1 WHERE no = :no",
                "it starts with `UPDATE`, not `SELECT` or `WITH`",
            ),
            (
                "DELETE FROM t",
                "it starts with `DELETE`, not `SELECT` or `WITH`",
            ),
            (
                "EXEC dbo.GetCustomer :no",
                "it starts with `EXEC`, not `SELECT` or `WITH`",
            ),
            (
                "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
                "it contains `DELETE`",
            ),
            ("SELECT * INTO backup FROM customers", "it contains `INTO`"),
            (
                "SELECT 1; DROP TABLE customers",
                "it holds more than one statement (a `;` inside)",
            ),
            (
                "/* SELECT */ TRUNCATE t",
                "it starts with `TRUNCATE`, not `SELECT` or `WITH`",
            ),
        ] {
            assert_eq!(change(sql).as_deref(), Some(why), "{sql}");
        }
    }

    #[test]
    fn named_parameters_become_placeholders_outside_literals_and_comments() {
        let r = render(
            "SELECT ':no', x::text -- :no\nFROM t /* :a */ WHERE a = :no AND b = :b OR c = :no",
            Placeholders::Question,
        );
        assert_eq!(
            r.sql,
            "SELECT ':no', x::text -- :no\nFROM t /* :a */ WHERE a = ? AND b = ? OR c = ?"
        );
        assert_eq!(r.binds, ["no", "b", "no"]);
        let r = render("WHERE a = :no AND b = :b OR c = :no", Placeholders::AtP);
        assert_eq!(r.sql, "WHERE a = @P1 AND b = @P2 OR c = @P1");
        assert_eq!(r.binds, ["no", "b"]);
    }

    #[test]
    fn identifier_fragments_are_escaped_for_their_quote() {
        let r = render(
            "SELECT * FROM [{{company}}$Customer] JOIN \"{{company}}\" ON 1=1",
            Placeholders::Question,
        );
        assert_eq!(
            r.sql,
            "SELECT * FROM [<company]]>$Customer] JOIN \"<company]>\" ON 1=1"
        );
    }

    #[test]
    fn misuse_is_an_error() {
        assert!(Statement::parse("SELECT * FROM {{t}}").is_err());
        assert!(Statement::parse("SELECT * FROM t WHERE a = ?").is_err());
        assert!(Statement::parse("SELECT 'open").is_err());
        // A question mark inside a literal is only text.
        assert!(Statement::parse("SELECT '?'").is_ok());
    }

    #[test]
    fn top_level_order_by_is_seen_but_not_inside_subqueries() {
        assert!(
            Statement::parse("SELECT a FROM t ORDER BY a")
                .unwrap()
                .ordered
        );
        assert!(
            !Statement::parse("SELECT a FROM (SELECT a FROM t ORDER BY a) q")
                .unwrap()
                .ordered
        );
        assert!(
            !Statement::parse("SELECT 'order by' FROM t")
                .unwrap()
                .ordered
        );
    }
}

/// Property tests: no statement text makes the parser panic, and a value spliced into a string
/// literal or comment never becomes a placeholder (what is inside quotes stays text).
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn no_text_makes_the_parser_panic(text in "\\PC{0,200}") {
            let _ = Statement::parse(&text);
        }

        #[test]
        fn no_sql_soup_makes_the_parser_panic(parts in proptest::collection::vec(
            prop_oneof![
                Just("SELECT "), Just(":p "), Just("'"), Just("\""), Just("--"), Just("\n"),
                Just("/*"), Just("*/"), Just("("), Just(")"), Just(";"), Just("{{t}}"),
                Just("{{"), Just("}}"), Just("::int"), Just("$$"), Just("[x]"), Just("DELETE "),
            ],
            0..40,
        )) {
            let _ = Statement::parse(&parts.concat());
        }

        #[test]
        fn quoted_text_never_binds(inner in "[a-z :]{0,20}") {
            let text = format!("SELECT a FROM t WHERE b = ':{inner}' AND c = :p");
            if let Ok(s) = Statement::parse(&text) {
                let names: Vec<String> = s.params().into_iter().map(str::to_string).collect();
                prop_assert_eq!(names, vec!["p".to_string()]);
            }
        }
    }
}
