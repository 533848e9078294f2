//! One query on a pooled connection: the mapping's statement with `@P1..` placeholders sent as
//! `sp_executesql` with typed parameters, rows streamed (skipping a cursor's offset, reading
//! one row past the limit to know about truncation), and failures sorted into what an agent can
//! act on and what the pool must do with the connection.
//!
//! The server is told how many rows are wanted (`SET ROWCOUNT`, the one row cap that applies to
//! any SELECT, whatever its ORDER BY): it stops there, so the answer is always read to its end
//! and the connection is clean for the next call. Cancelling an answer half-read instead
//! (ATTENTION) is unreliable once the server has sent it all, and dropping the connection would
//! cost a login per truncated page.

use futures_util::TryStreamExt;
use tiberius::{QueryItem, ToSql};
use tokio::net::TcpStream;
use tokio_util::compat::Compat;

use super::settings::MssqlSettings;
use super::types;
use crate::backend::rows::RowSet;
use crate::backend::sql::{Dialect, Placeholders, Rows, SqlError, SqlQuery};
use crate::mapping::model::FieldType;
use crate::value::Value;

/// A connection to SQL Server, as the pool hands it out.
pub type Connection = tiberius::Client<Compat<TcpStream>>;

/// SQL Server has no `LIMIT`; its row cap goes as `SET ROWCOUNT`.
const DIALECT: Dialect = Dialect {
    placeholders: Placeholders::AtP,
    open_quote: '[',
    close_quote: ']',
    limit_clause: false,
    nulls_first_clause: false,
};

/// What went wrong, before it is worded: decides whether the connection is kept.
#[derive(Debug)]
pub enum Failure {
    /// The query ran past `query_timeout` (the pool's deadline or tiberius' round trip bound).
    Timeout,
    /// No connection within `connect_timeout`.
    ConnectTimeout,
    /// The network or the server went away: refused, reset, closed mid-answer.
    Lost(String),
    /// TLS could not be set up, or the server and the settings disagree on encryption.
    Tls(String),
    /// An ERROR token from the server.
    Server {
        code: u32,
        class: u8,
        message: String,
    },
    /// The answer does not fit the mapping: a missing column, a value of the wrong type.
    Data(String),
}

impl From<tiberius::error::Error> for Failure {
    fn from(e: tiberius::error::Error) -> Failure {
        use tiberius::error::Error as E;
        match e {
            E::Io {
                kind: std::io::ErrorKind::TimedOut,
                ..
            } => Failure::Timeout,
            E::Io { message, .. } => Failure::Lost(message),
            E::Server(t) => Failure::Server {
                code: t.code(),
                class: t.class(),
                message: t.message().to_string(),
            },
            // tiberius' advice names its own API; the mapping's keys are added when worded.
            E::Tls(m) => Failure::Tls(
                m.split(". To connect anyway")
                    .next()
                    .unwrap_or("")
                    .to_string(),
            ),
            E::Protocol(m) if m.contains("encryption level") => Failure::Tls(m.into_owned()),
            E::Routing { host, port } => Failure::Tls(format!(
                "the server redirects connections to {host}:{port}, which this adapter does not follow; point `host` there"
            )),
            other => Failure::Lost(other.to_string()),
        }
    }
}

impl Failure {
    /// The connection broke: this one and the idle ones are dropped.
    pub fn lost_connection(&self) -> bool {
        matches!(self, Failure::Lost(_))
    }

    /// The exchange ended cleanly despite the failure: the connection may be reused. Server
    /// errors below severity 20 leave the session intact; tiberius drains what is left of the
    /// answer before the next request.
    pub fn connection_usable(&self) -> bool {
        matches!(self, Failure::Server { class, .. } if *class < 20)
    }

    pub fn into_error(self, s: &MssqlSettings, connecting: bool) -> SqlError {
        let src = s.name.clone();
        match self {
            Failure::Timeout if connecting => SqlError::Unreachable {
                src,
                detail: format!(
                    "{} did not complete the login within {}s",
                    s.address(),
                    s.connect_timeout.as_secs()
                ),
            },
            Failure::Timeout => SqlError::Timeout {
                src,
                seconds: s.query_timeout.as_secs(),
            },
            Failure::ConnectTimeout => SqlError::Unreachable {
                src,
                detail: format!(
                    "no connection to {} within {}s",
                    s.address(),
                    s.connect_timeout.as_secs()
                ),
            },
            Failure::Lost(m) => SqlError::Unreachable {
                src,
                detail: format!("{}: {}", s.address(), s.scrub(&m)),
            },
            Failure::Tls(m) => SqlError::Config {
                src,
                message: format!(
                    "TLS with {}: {}; name the server's certificate in `ca_certificate` (or opt in with `trust_server_certificate: true`), or check `encryption`",
                    s.address(),
                    s.scrub(&m)
                ),
            },
            // 18456: login failed; 18452: untrusted domain login; 4060: cannot open the
            // database the login asked for.
            Failure::Server { code, .. }
                if matches!(code, 18456 | 18452 | 18486 | 18488 | 4060) =>
            {
                SqlError::Login {
                    src,
                    code: format!("SQL Server error {code}"),
                }
            }
            Failure::Server { code: 1205, .. } => SqlError::Deadlock {
                src,
                code: "SQL Server error 1205".into(),
            },
            Failure::Server { code, message, .. } => SqlError::Driver {
                src,
                code: format!("SQL Server error {code}"),
                message: s.scrub(&message),
            },
            Failure::Data(message) => SqlError::Data { src, message },
        }
    }
}

/// Run `q` on `conn`. On success every token of the answer has been read or the server has
/// acknowledged a cancel, so the connection is ready for the next query.
pub async fn execute(
    conn: &mut Connection,
    s: &MssqlSettings,
    q: &SqlQuery,
) -> Result<RowSet, Failure> {
    let (sql, binds) = q.render(DIALECT);
    let mut params: Vec<tiberius::ColumnData<'static>> =
        binds.iter().map(types::parameter).collect();
    let wanted = q.rows_wanted().min(i32::MAX as u64) as i32;
    params.push(tiberius::ColumnData::I32(Some(wanted)));
    let sql = format!(
        "SET ROWCOUNT @P{};\n{}\n;SET ROWCOUNT 0",
        params.len(),
        sql.trim_end().trim_end_matches(';')
    );
    let refs: Vec<&dyn ToSql> = params.iter().map(|p| p as &dyn ToSql).collect();
    let mut stream = conn.query(sql, &refs).await?;
    let mut at: Vec<usize> = Vec::new();
    let mut out = Rows::new(q);
    let mut full = false;
    while let Some(item) = stream.try_next().await? {
        match item {
            QueryItem::Metadata(m) if m.result_index() == 0 => {
                let names: Vec<&str> = m.columns().iter().map(|c| c.name()).collect();
                at = positions(q, &names)?;
            }
            // Statements after the first result set (a mapping's trailing SELECT) are ignored.
            QueryItem::Metadata(_) => {}
            QueryItem::Row(r) if r.result_index() == 0 => {
                // Past the limit (a server that ignored the row cap): read on, keep nothing.
                if full || out.skipping() {
                    continue;
                }
                let mut cells: Vec<Option<tiberius::ColumnData<'static>>> =
                    r.into_iter().map(Some).collect();
                let mut row = Vec::with_capacity(at.len());
                for (k, &i) in at.iter().enumerate() {
                    let data = cells[i].take().expect("each column read once");
                    row.push(cell(s, q, k, data)?);
                }
                full = out.push(row);
            }
            QueryItem::Row(_) => {}
        }
    }
    Ok(out.finish())
}

/// Where each declared column is in the result.
fn positions(q: &SqlQuery, names: &[&str]) -> Result<Vec<usize>, Failure> {
    q.columns
        .iter()
        .map(|c| {
            names
                .iter()
                .position(|n| n.eq_ignore_ascii_case(&c.name))
                .ok_or_else(|| {
                    Failure::Data(format!(
                        "the query returns no column `{}`; it returns: {}",
                        c.name,
                        names.join(", ")
                    ))
                })
        })
        .collect()
}

fn cell(
    s: &MssqlSettings,
    q: &SqlQuery,
    k: usize,
    data: tiberius::ColumnData<'static>,
) -> Result<Value, Failure> {
    let c = &q.columns[k];
    if types::byte_len(&data) > s.max_text {
        return Err(Failure::Data(format!(
            "a value of column `{}` is longer than max_text_length ({} bytes); raise it in the source or select less",
            c.name, s.max_text
        )));
    }
    types::value(c.kind, data, &s.rules).map_err(|m| {
        let hint = if c.kind == FieldType::Binary {
            ""
        } else {
            "; fix the column's `type` in the mapping or CAST it in the SQL"
        };
        Failure::Data(format!("{}{hint}", c.value_error(m)))
    })
}
