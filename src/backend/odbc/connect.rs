//! Opening an ODBC connection: what its database takes (`Traits`, learnt by the name it gives
//! itself), the session modes, and driver failures before they are worded. Below the pool
//! (which opens connections) and the query code (which words failures).

use odbc_api::{Connection, ConnectionOptions};

use super::settings::OdbcSettings;
use crate::backend::sql::SqlError;

/// A driver failure before it is worded: SQLSTATE and the driver's (scrubbed) message.
pub(super) struct Failure {
    pub(super) state: String,
    pub(super) message: String,
}

pub(super) fn failure(s: &OdbcSettings, e: odbc_api::Error) -> Failure {
    let (state, message) = match &e {
        odbc_api::Error::Diagnostics { record, .. } => {
            let text = record.to_string();
            let message = text
                .split_once("Message: ")
                .map_or(text.as_str(), |x| x.1)
                .to_string();
            (record.state.as_str().to_string(), message)
        }
        other => ("HY000".to_string(), other.to_string()),
    };
    Failure {
        state,
        message: s.scrub(&message),
    }
}

impl Failure {
    pub(super) fn lost_connection(&self) -> bool {
        self.state.starts_with("08") || self.state == "57P01"
    }

    pub(super) fn timed_out(&self) -> bool {
        matches!(self.state.as_str(), "HYT00" | "HYT01" | "HY008" | "57014")
    }

    pub(super) fn into_error(self, s: &OdbcSettings, connecting: bool) -> SqlError {
        let src = s.name.clone();
        let m = self.message.to_ascii_lowercase();
        let login = self.state == "28000"
            || m.contains("password authentication failed")
            || m.contains("access denied")
            || m.contains("login failed");
        if login {
            return SqlError::Login {
                src,
                code: format!("SQLSTATE {}", self.state),
            };
        }
        match self.state.as_str() {
            _ if self.timed_out() => SqlError::Timeout {
                src,
                seconds: s.query_timeout.as_secs(),
            },
            "40001" | "40P01" => SqlError::Deadlock {
                src,
                code: format!("SQLSTATE {}", self.state),
            },
            st if connecting || st.starts_with("08") => SqlError::Unreachable {
                src,
                detail: format!("SQLSTATE {}: {}", self.state, self.message),
            },
            _ => SqlError::Driver {
                src,
                code: format!("SQLSTATE {}", self.state),
                message: self.message,
            },
        }
    }
}

/// What a connection's database takes, learnt by the name it gives itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct Traits {
    /// `LIMIT n` at the end of a query.
    pub limit_clause: bool,
    /// `NULLS FIRST` in an `ORDER BY` (needed where NULLs sort last).
    pub nulls_first_clause: bool,
    /// The statements that make the session read-only and read-write again, where the
    /// database has them. A plain query runs in a read-only session, so a `SELECT` that writes
    /// anyway (PostgreSQL's `WITH d AS (DELETE ...) SELECT`, `nextval`, a function that
    /// inserts) is refused by the database itself, not only by legacy-mcp's statement check.
    pub session_modes: Option<SessionModes>,
}

/// `SET ...` statements for a session's access mode.
#[derive(Debug, Clone, Copy)]
pub struct SessionModes {
    pub read_only: &'static str,
    pub read_write: &'static str,
}

impl Traits {
    /// The traits of a database by the name it gives itself (`SQL_DBMS_NAME`).
    pub fn of(dbms: &str) -> Traits {
        let dbms = dbms.to_ascii_lowercase();
        let session_modes = if dbms.contains("postgresql") {
            Some(SessionModes {
                read_only: "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
                read_write: "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
            })
        } else if dbms.contains("mysql") || dbms.contains("mariadb") {
            Some(SessionModes {
                read_only: "SET SESSION TRANSACTION READ ONLY",
                read_write: "SET SESSION TRANSACTION READ WRITE",
            })
        } else if dbms.contains("sqlite") {
            Some(SessionModes {
                read_only: "PRAGMA query_only = ON",
                read_write: "PRAGMA query_only = OFF",
            })
        } else {
            None
        };
        Traits {
            limit_clause: ["postgresql", "mysql", "mariadb", "sqlite"]
                .iter()
                .any(|name| dbms.contains(name)),
            // SQLite sorts NULLs first anyway; PostgreSQL needs the clause.
            nulls_first_clause: dbms.contains("postgresql"),
            session_modes,
        }
    }
}

/// Open a connection; also learn the driver's identifier quote character and the database's
/// `Traits`.
pub fn connect(s: &OdbcSettings) -> Result<(Connection<'static>, char, Traits), SqlError> {
    let env = odbc_api::environment().map_err(|e| failure(s, e).into_error(s, true))?;
    let options = ConnectionOptions {
        login_timeout_sec: Some(s.login_timeout.as_secs().max(1) as u32),
        packet_size: None,
    };
    // MariaDB Connector/ODBC 3.1 reads the last attribute past the string's given length
    // (seen as user `root\x7F`); a closing `;` ends it where it should.
    let text = if s.connection_string.ends_with(';') {
        s.connection_string.clone()
    } else {
        format!("{};", s.connection_string)
    };
    let conn = env
        .connect_with_connection_string(&text, options)
        .map_err(|e| failure(s, e).into_error(s, true))?;
    let quote = conn
        .identifier_quote_char()
        .ok()
        .flatten()
        .filter(|c| !c.is_whitespace())
        .unwrap_or('"');
    let dbms = conn.database_management_system_name().unwrap_or_default();
    Ok((conn, quote, Traits::of(&dbms)))
}
