//! An async pool of SQL Server connections.
//!
//! A semaphore with one permit per connection bounds the work in flight; a caller that cannot
//! get a permit within `pool_timeout` is told the source is busy. A connection goes back to the
//! pool only after a query that ran to a clean end. One whose query timed out, was cancelled or
//! broke is dropped (tiberius leaves such a connection out of step with the server), and when
//! a connection breaks the idle ones are dropped too: after a server restart they are all dead,
//! and the call is retried once on a new connection, so a restart costs no failed call when the
//! server is back, and one when it is not.

use std::sync::{Arc, Mutex};

use tiberius::{AuthMethod, Client, Config, EncryptionLevel, SqlBrowser};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_util::compat::TokioAsyncWriteCompatExt;

use super::query::{self, Connection, Failure};
use super::settings::{Login, MssqlSettings, Tls, Trust};
use crate::backend::rows::RowSet;
use crate::backend::sql::{self, SqlError, SqlQuery};

pub struct Pool {
    settings: MssqlSettings,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

impl Pool {
    pub fn new(settings: MssqlSettings) -> Pool {
        Pool {
            permits: Arc::new(Semaphore::new(settings.pool_size as usize)),
            idle: Mutex::new(Vec::new()),
            settings,
        }
    }

    pub fn settings(&self) -> &MssqlSettings {
        &self.settings
    }

    pub async fn run(&self, q: SqlQuery) -> Result<RowSet, SqlError> {
        let s = &self.settings;
        let _permit = sql::permit(&self.permits, s.pool_timeout, &s.name, s.pool_size).await?;
        let pooled = self.idle.lock().expect("pool lock").pop();
        let reused = pooled.is_some();
        let conn = match pooled {
            Some(c) => c,
            None => self.connect().await.map_err(|f| f.into_error(s, true))?,
        };
        match self.attempt(conn, &q).await {
            Err(f) if reused && f.lost_connection() && q.may_repeat() => {
                // The pooled connection died while idle (the server restarted, a firewall
                // dropped it); nothing was read, so the read is simply asked again.
                self.idle.lock().expect("pool lock").clear();
                let conn = self.connect().await.map_err(|f| f.into_error(s, true))?;
                self.attempt(conn, &q)
                    .await
                    .map_err(|f| f.into_error(s, false))
            }
            Err(f) => Err(f.into_error(s, false)),
            Ok(rows) => Ok(rows),
        }
    }

    /// Busy connections and pool size.
    pub fn usage(&self) -> (usize, usize) {
        let size = self.settings.pool_size as usize;
        (size - self.permits.available_permits().min(size), size)
    }

    /// `SELECT 1` on an idle connection (or a new one) within the query timeout; a
    /// connection that answers goes back to the pool.
    pub async fn probe(&self) -> Result<(), SqlError> {
        let s = &self.settings;
        let _permit = sql::permit(&self.permits, s.pool_timeout, &s.name, s.pool_size).await?;
        let pooled = self.idle.lock().expect("pool lock").pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => self.connect().await.map_err(|f| f.into_error(s, true))?,
        };
        let ping = async {
            let stream = conn.simple_query("SELECT 1").await?;
            stream.into_results().await
        };
        match tokio::time::timeout(s.query_timeout, ping).await {
            Ok(Ok(_)) => {
                self.idle.lock().expect("pool lock").push(conn);
                Ok(())
            }
            Ok(Err(e)) => Err(Failure::from(e).into_error(s, true)),
            Err(_) => Err(Failure::Timeout.into_error(s, false)),
        }
    }

    /// One query on `conn`, within the query timeout; the connection goes back to the pool only
    /// if the exchange ended cleanly.
    async fn attempt(&self, mut conn: Connection, q: &SqlQuery) -> Result<RowSet, Failure> {
        let s = &self.settings;
        let outcome = tokio::time::timeout(s.query_timeout, query::execute(&mut conn, s, q)).await;
        match outcome {
            // Dropping the future mid-answer leaves the connection unusable: `conn` is dropped.
            Err(_) => Err(Failure::Timeout),
            Ok(Ok(rows)) => {
                self.idle.lock().expect("pool lock").push(conn);
                Ok(rows)
            }
            Ok(Err(f)) => {
                if f.lost_connection() {
                    self.idle.lock().expect("pool lock").clear();
                } else if f.connection_usable() {
                    self.idle.lock().expect("pool lock").push(conn);
                }
                Err(f)
            }
        }
    }

    /// TCP (through the SQL Server Browser for a named instance), TLS and login, all within
    /// `connect_timeout`.
    async fn connect(&self) -> Result<Connection, Failure> {
        let s = &self.settings;
        let config = tiberius_config(s);
        // tiberius' own handshake timeout and this deadline are the same length; whichever
        // fires, a server that took the TCP connection and then said nothing is reported as
        // a login that did not complete, one that never answered the SYN as no connection.
        let connected = std::sync::atomic::AtomicBool::new(false);
        let open = async {
            let tcp = TcpStream::connect_named(&config).await?;
            tcp.set_nodelay(true)?;
            connected.store(true, std::sync::atomic::Ordering::Relaxed);
            Client::connect(config, tcp.compat_write()).await
        };
        match tokio::time::timeout(s.connect_timeout, open).await {
            Err(_) if connected.load(std::sync::atomic::Ordering::Relaxed) => Err(Failure::Timeout),
            Err(_) => Err(Failure::ConnectTimeout),
            Ok(r) => r.map_err(Failure::from),
        }
    }
}

fn tiberius_config(s: &MssqlSettings) -> Config {
    let mut c = Config::new();
    c.host(&s.host);
    if let Some(p) = s.port {
        c.port(p);
    }
    if let Some(i) = &s.instance {
        c.instance_name(i);
    }
    if let Some(d) = &s.database {
        c.database(d);
    }
    c.application_name("legacy-mcp");
    c.authentication(match &s.login {
        Login::Sql { user, password } => AuthMethod::sql_server(user, password),
        #[cfg(windows)]
        Login::Integrated => AuthMethod::Integrated,
        // `check` refuses integrated logins on other platforms; this is never reached.
        #[cfg(not(windows))]
        Login::Integrated => AuthMethod::sql_server("", ""),
    });
    c.encryption(match s.tls {
        Tls::Required => EncryptionLevel::Required,
        Tls::LoginOnly => EncryptionLevel::Off,
        Tls::Off => EncryptionLevel::NotSupported,
    });
    match &s.trust {
        Trust::System => {}
        Trust::File(path) => c.trust_cert_ca(path.display()),
        Trust::Any => c.trust_cert(),
    }
    c.readonly(s.read_only);
    // The pool applies its own deadlines (`connect_timeout`, `query_timeout`) around
    // tiberius' calls; tiberius' per-round-trip command timeout is set to the same bound so
    // a stalled server surfaces as a timeout on that connection.
    c.handshake_timeout(Some(s.connect_timeout));
    c.command_timeout(Some(s.query_timeout));
    c
}
