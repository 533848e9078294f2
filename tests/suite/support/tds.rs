//! A TDS TEST DOUBLE: a stand-in for SQL Server, for tests only.
//!
//! No SQL Server runs on the machines these tests run on, so this speaks just enough of MS-TDS
//! 7.4 for a real client (tiberius, inside the adapter) to connect and query: PRELOGIN (with
//! TLS when started with `start_tls`: the handshake wrapped in PRELOGIN packets, then either the
//! whole session or only the login encrypted, as the client asks), LOGIN7 -> LOGINACK (or error
//! 18456), SQLBatch, RPC `sp_executesql` with
//! typed parameters, ATTENTION (cancel) -> DONE(ATTN), and answers written as COLMETADATA /
//! ROW / DONE token streams for int, bigint, decimal, nvarchar, datetime2, datetime, date, bit,
//! float, varbinary and NULL; ERROR tokens; slow answers; dropped connections. It also answers
//! the SQL Server Browser's instance lookup (SSRP over UDP) on the same port number.
//!
//! It executes no SQL: each request is handed to the test's handler, which decides the answer
//! (usually by looking at the statement and filtering an in-memory table by the bound
//! parameters). Every login and request is recorded so tests can check what went on the wire.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinHandle;

/// A value on the wire, as sent in a parameter or a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Int(i32),
    BigInt(i64),
    /// An exact decimal: `value` scaled by 10^-`scale`.
    Dec {
        value: i128,
        scale: u8,
    },
    Str(String),
    DateTime2(NaiveDateTime),
    /// The old `datetime` type (1/300 s ticks), as NAV uses.
    DateTime(NaiveDateTime),
    Date(NaiveDate),
    Time(NaiveTime),
    Bit(bool),
    Float(f64),
    Bytes(Vec<u8>),
}

impl Val {
    /// The value as text, for handlers that compare loosely.
    pub fn text(&self) -> String {
        match self {
            Val::Null => String::new(),
            Val::Int(i) => i.to_string(),
            Val::BigInt(i) => i.to_string(),
            Val::Dec { value, scale } => {
                let d = 10i128.pow(*scale as u32);
                if *scale == 0 {
                    value.to_string()
                } else {
                    let sign = if *value < 0 { "-" } else { "" };
                    format!(
                        "{sign}{}.{:0w$}",
                        (value / d).abs(),
                        (value % d).abs(),
                        w = *scale as usize
                    )
                }
            }
            Val::Str(s) => s.clone(),
            Val::DateTime2(t) | Val::DateTime(t) => t.to_string(),
            Val::Date(d) => d.to_string(),
            Val::Time(t) => t.to_string(),
            Val::Bit(b) => (*b as u8).to_string(),
            Val::Float(f) => f.to_string(),
            Val::Bytes(b) => format!("{b:?}"),
        }
    }
}

/// A result column's declared type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ColType {
    Int,
    BigInt,
    Decimal {
        precision: u8,
        scale: u8,
    },
    /// nvarchar(n), n in characters (at most 4000).
    NVarChar(u16),
    DateTime2 {
        scale: u8,
    },
    DateTime,
    Date,
    Bit,
    Float,
    VarBinary(u16),
    /// nvarchar(max): declared as 2 GB, sent as a partially length-prefixed (PLP) value.
    NVarCharMax,
    /// varbinary(max), the same way.
    VarBinaryMax,
}

#[derive(Debug, Clone)]
pub struct Col {
    pub name: String,
    pub ty: ColType,
}

pub fn col(name: &str, ty: ColType) -> Col {
    Col {
        name: name.into(),
        ty,
    }
}

/// What the double answers to one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// One result set.
    Rows {
        columns: Vec<Col>,
        rows: Vec<Vec<Val>>,
    },
    /// A statement without a result set (`rows` affected).
    Done(u64),
    /// An ERROR token (`number`, severity `class`), then DONE with the error bit.
    Error {
        number: i32,
        class: u8,
        message: String,
    },
    /// Wait, then answer.
    Slow(Duration, Box<Reply>),
    /// Close the connection without answering.
    Drop,
}

/// A request as the double decoded it.
#[derive(Debug, Clone)]
pub struct Request {
    pub sql: String,
    /// `sp_executesql`'s parameter declaration (`@P1 bigint,@P2 nvarchar(4000)`); empty for a
    /// batch.
    pub declared: String,
    /// `@P1..` with their values, in order.
    pub params: Vec<(String, Val)>,
    pub rpc: bool,
}

impl Request {
    pub fn param(&self, n: usize) -> &Val {
        &self.params[n - 1].1
    }
}

/// A LOGIN7 as the double decoded it.
#[derive(Debug, Clone)]
pub struct Login {
    pub user: String,
    pub password: String,
    pub database: String,
    pub app_name: String,
    pub read_only: bool,
}

/// What happened, for tests to check.
#[derive(Debug, Default)]
pub struct Log {
    pub connections: usize,
    pub logins: Vec<Login>,
    pub requests: Vec<Request>,
    pub attentions: usize,
    pub browser_lookups: Vec<String>,
    /// Per connection, the encryption agreed in PRELOGIN: `none`, `login_only` or `full`.
    pub encryption: Vec<&'static str>,
}

pub type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

struct Shared {
    tls: Option<Arc<rustls::ServerConfig>>,
    users: Vec<(String, String)>,
    instance: String,
    handler: Handler,
    log: Mutex<Log>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

/// A running double on 127.0.0.1. Dropping it stops it.
pub struct TdsDouble {
    pub port: u16,
    shared: Arc<Shared>,
}

impl TdsDouble {
    /// Start on a free port; `users` are the SQL logins it accepts; `instance` is the named
    /// instance its SQL Server Browser answers for.
    pub async fn start(
        users: &[(&str, &str)],
        instance: &str,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> TdsDouble {
        Self::start_with(None, users, instance, handler).await
    }

    /// Like `start`, offering TLS with the self-signed certificate in fixtures/tls/.
    pub async fn start_tls(
        users: &[(&str, &str)],
        instance: &str,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> TdsDouble {
        Self::start_with(Some(server_tls()), users, instance, handler).await
    }

    async fn start_with(
        tls: Option<Arc<rustls::ServerConfig>>,
        users: &[(&str, &str)],
        instance: &str,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> TdsDouble {
        let shared = Arc::new(Shared {
            tls,
            users: users
                .iter()
                .map(|(u, p)| (u.to_string(), p.to_string()))
                .collect(),
            instance: instance.to_string(),
            handler: Arc::new(handler),
            log: Mutex::new(Log::default()),
            tasks: Mutex::new(Vec::new()),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let d = TdsDouble { port, shared };
        d.serve(listener).await;
        d
    }

    async fn serve(&self, listener: TcpListener) {
        let shared = self.shared.clone();
        let port = self.port;
        let accept = tokio::spawn({
            let shared = shared.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    shared.log.lock().unwrap().connections += 1;
                    let s = shared.clone();
                    let task = tokio::spawn(async move {
                        let _ = connection(stream, s).await;
                    });
                    shared.tasks.lock().unwrap().push(task);
                }
            }
        });
        let mut tasks = vec![accept];
        // The browser shares the port number (UDP and TCP ports are separate); if it is taken,
        // named-instance tests cannot run, but everything else can.
        if let Ok(udp) = UdpSocket::bind(("127.0.0.1", port)).await {
            tasks.push(tokio::spawn(browser(udp, shared.clone(), port)));
        }
        shared.tasks.lock().unwrap().extend(tasks);
    }

    /// Stop listening and drop every connection, as a stopped server does.
    pub fn stop(&self) {
        for t in self.shared.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    /// Listen again on the same port, as a restarted server does.
    pub async fn restart(&self) {
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot listen on {} again: {e}", self.port),
            }
        };
        self.serve(listener).await;
    }

    pub fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.shared.log.lock().unwrap()
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The `sources:` section of a mapping with one mssql source `erp` on this double
    /// (encryption off); `extra` is further source keys, indented by four spaces.
    pub fn source_yaml(&self, user: &str, password: &str, extra: &str) -> String {
        format!(
            "sources:\n  erp:\n    kind: mssql\n    host: 127.0.0.1\n    port: {}\n    user: {user}\n    password: {password}\n    encryption: off\n{extra}",
            self.port
        )
    }
}

impl Drop for TdsDouble {
    fn drop(&mut self) {
        self.stop();
    }
}

// ---------------------------------------------------------------------------------------------
// Packets

const BATCH: u8 = 0x01;
const RPC: u8 = 0x03;
const REPLY: u8 = 0x04;
const ATTENTION: u8 = 0x06;
const LOGIN7: u8 = 0x10;
const PRELOGIN: u8 = 0x12;
const PACKET: usize = 4096;

/// The connection: plain TCP, or TLS driven by hand (rustls' sans-I/O API), because TDS wraps
/// the TLS handshake in its own PRELOGIN packets and may drop TLS again after the login.
struct Wire {
    tcp: TcpStream,
    tls: Option<rustls::ServerConnection>,
    /// Decrypted bytes not yet consumed.
    plain: Vec<u8>,
}

impl Wire {
    async fn read_exact(&mut self, out: &mut [u8]) -> std::io::Result<()> {
        if self.tls.is_none() {
            self.tcp.read_exact(out).await?;
            return Ok(());
        }
        while self.plain.len() < out.len() {
            let tls = self.tls.as_mut().unwrap();
            let mut buf = [0u8; 16384];
            match tls.reader().read(&mut buf) {
                Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    self.plain.extend_from_slice(&buf[..n]);
                    continue;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            self.feed().await?;
        }
        let rest = self.plain.split_off(out.len());
        out.copy_from_slice(&self.plain);
        self.plain = rest;
        Ok(())
    }

    /// Read TLS records from the socket into rustls.
    async fn feed(&mut self) -> std::io::Result<()> {
        let mut raw = [0u8; 16384];
        let n = self.tcp.read(&mut raw).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let tls = self.tls.as_mut().unwrap();
        let mut rd = &raw[..n];
        while !rd.is_empty() {
            tls.read_tls(&mut rd)?;
            tls.process_new_packets().map_err(invalid)?;
        }
        self.flush_tls().await
    }

    async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self.tls.as_mut() {
            None => {
                self.tcp.write_all(bytes).await?;
                self.tcp.flush().await
            }
            Some(tls) => {
                tls.writer().write_all(bytes)?;
                self.flush_tls().await
            }
        }
    }

    async fn flush_tls(&mut self) -> std::io::Result<()> {
        let Some(tls) = self.tls.as_mut() else {
            return Ok(());
        };
        let mut out = Vec::new();
        while tls.wants_write() {
            tls.write_tls(&mut out)?;
        }
        self.tcp.write_all(&out).await
    }

    /// The TLS handshake, each flight inside PRELOGIN packets (MS-TDS 3.3.5.1).
    async fn handshake(&mut self, config: Arc<rustls::ServerConfig>) -> std::io::Result<()> {
        let mut tls = rustls::ServerConnection::new(config).map_err(invalid)?;
        while tls.is_handshaking() {
            if tls.wants_write() {
                let mut out = Vec::new();
                while tls.wants_write() {
                    tls.write_tls(&mut out)?;
                }
                write_message(self, PRELOGIN, &out).await?;
                continue;
            }
            let (ty, payload) = read_message(self).await?;
            if ty != PRELOGIN {
                return Err(std::io::ErrorKind::InvalidData.into());
            }
            let mut rd = &payload[..];
            while !rd.is_empty() {
                tls.read_tls(&mut rd)?;
                tls.process_new_packets().map_err(invalid)?;
            }
        }
        self.tls = Some(tls);
        // Anything rustls still has to say goes out as plain TLS records.
        self.flush_tls().await
    }
}

fn invalid(e: impl std::error::Error + Send + Sync + 'static) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, e)
}

/// The fixture certificate and key, as a TLS server configuration.
fn server_tls() -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tls");
    let certs = CertificateDer::pem_file_iter(dir.join("double.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join("double.key")).unwrap();
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    // No session tickets: nothing is sent after the handshake that the client must read.
    config.send_tls13_tickets = 0;
    Arc::new(config)
}

/// One message: the packets up to end-of-message, joined.
async fn read_message(s: &mut Wire) -> std::io::Result<(u8, Vec<u8>)> {
    let mut payload = Vec::new();
    loop {
        let mut h = [0u8; 8];
        s.read_exact(&mut h).await?;
        let len = u16::from_be_bytes([h[2], h[3]]) as usize;
        let mut body = vec![0u8; len.saturating_sub(8)];
        s.read_exact(&mut body).await?;
        payload.extend_from_slice(&body);
        if h[1] & 0x01 != 0 {
            return Ok((h[0], payload));
        }
    }
}

async fn write_message(s: &mut Wire, ty: u8, payload: &[u8]) -> std::io::Result<()> {
    let chunks: Vec<&[u8]> = if payload.is_empty() {
        vec![&[]]
    } else {
        payload.chunks(PACKET - 8).collect()
    };
    let n = chunks.len();
    let mut out = Vec::with_capacity(payload.len() + 8 * n);
    for (i, c) in chunks.into_iter().enumerate() {
        let last = i + 1 == n;
        out.push(ty);
        out.push(if last { 0x01 } else { 0x00 });
        out.extend_from_slice(&((c.len() + 8) as u16).to_be_bytes());
        out.extend_from_slice(&[0, 51, (i + 1) as u8, 0]);
        out.extend_from_slice(c);
    }
    s.write_all(&out).await
}

/// The ENCRYPTION byte of a client's PRELOGIN: 0 off (login only), 1 on, 2 not supported,
/// 3 required.
fn client_encryption(p: &[u8]) -> u8 {
    let mut i = 0;
    while i + 5 <= p.len() && p[i] != 0xFF {
        if p[i] == 0x01 {
            let at = u16::from_be_bytes([p[i + 1], p[i + 2]]) as usize;
            return p.get(at).copied().unwrap_or(2);
        }
        i += 5;
    }
    2
}

async fn connection(tcp: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let mut s = Wire {
        tcp,
        tls: None,
        plain: Vec::new(),
    };
    let mut login_only = false;
    loop {
        let (ty, payload) = read_message(&mut s).await?;
        match ty {
            PRELOGIN => {
                // With TLS on offer: the client's "off" means the login only, "not
                // supported" means none, anything else the whole session.
                let agreed = match (&shared.tls, client_encryption(&payload)) {
                    (None, _) | (Some(_), 2) => 2,
                    (Some(_), 0) => 0,
                    (Some(_), _) => 1,
                };
                write_message(&mut s, REPLY, &prelogin_reply(agreed)).await?;
                let mode = match agreed {
                    0 => "login_only",
                    1 => "full",
                    _ => "none",
                };
                shared.log.lock().unwrap().encryption.push(mode);
                if let (Some(config), 0 | 1) = (&shared.tls, agreed) {
                    s.handshake(config.clone()).await?;
                    login_only = agreed == 0;
                }
            }
            LOGIN7 => {
                if login_only {
                    // ENCRYPT_OFF: only the login packet travels in TLS.
                    s.tls = None;
                }
                let login = parse_login(&payload);
                let ok = shared
                    .users
                    .iter()
                    .any(|(u, p)| *u == login.user && *p == login.password);
                let user = login.user.clone();
                let database = login.database.clone();
                shared.log.lock().unwrap().logins.push(login);
                if ok {
                    write_message(&mut s, REPLY, &login_ack(&database)).await?;
                } else {
                    let mut t = Tokens::default();
                    t.error(18456, 14, &format!("Login failed for user '{user}'."));
                    t.done(0x02, 0);
                    write_message(&mut s, REPLY, &t.0).await?;
                    return Ok(());
                }
            }
            BATCH | RPC => {
                let req = if ty == RPC {
                    parse_rpc(&payload)
                } else {
                    parse_batch(&payload)
                };
                let rpc = req.rpc;
                shared.log.lock().unwrap().requests.push(req.clone());
                let mut reply = (shared.handler)(&req);
                while let Reply::Slow(d, r) = reply {
                    tokio::time::sleep(d).await;
                    reply = *r;
                }
                if let Reply::Drop = reply {
                    return Ok(());
                }
                if let (Some(cap), Reply::Rows { rows, .. }) = (row_cap(&req), &mut reply) {
                    rows.truncate(cap);
                }
                write_message(&mut s, REPLY, &answer(&reply, rpc)).await?;
            }
            ATTENTION => {
                shared.log.lock().unwrap().attentions += 1;
                let mut t = Tokens::default();
                t.done(0x20, 0);
                write_message(&mut s, REPLY, &t.0).await?;
            }
            _ => return Ok(()),
        }
    }
}

/// `SET ROWCOUNT @Pn;` at the start of a statement caps its rows, as SQL Server does.
fn row_cap(req: &Request) -> Option<usize> {
    let rest = req.sql.strip_prefix("SET ROWCOUNT @P")?;
    let n: usize = rest[..rest.find(';')?].parse().ok()?;
    match req.params.get(n.checked_sub(1)?)?.1 {
        Val::Int(i) if i > 0 => Some(i as usize),
        Val::BigInt(i) if i > 0 => Some(i as usize),
        _ => None,
    }
}

/// SSRP: `0x04 INSTANCE` -> `0x05 len "ServerName;...;tcp;PORT;;"`.
async fn browser(udp: UdpSocket, shared: Arc<Shared>, port: u16) {
    let mut buf = [0u8; 512];
    while let Ok((n, from)) = udp.recv_from(&mut buf).await {
        if n < 2 || buf[0] != 0x04 {
            continue;
        }
        let name = String::from_utf8_lossy(&buf[1..n])
            .trim_end_matches('\0')
            .to_string();
        shared
            .log
            .lock()
            .unwrap()
            .browser_lookups
            .push(name.clone());
        if !name.eq_ignore_ascii_case(&shared.instance) {
            continue;
        }
        let text = format!(
            "ServerName;DOUBLE;InstanceName;{};IsClustered;No;Version;15.0.2000.5;tcp;{port};;",
            shared.instance
        );
        let mut reply = vec![0x05];
        reply.extend_from_slice(&(text.len() as u16).to_le_bytes());
        reply.extend_from_slice(text.as_bytes());
        let _ = udp.send_to(&reply, from).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Handshake

fn prelogin_reply(encryption: u8) -> Vec<u8> {
    // Options: VERSION, ENCRYPTION, INSTOPT, THREADID, MARS, terminator.
    let data: [&[u8]; 5] = [
        &[15, 0, 0x07, 0xD0, 0, 0],
        &[encryption],
        &[0],
        &[0, 0, 0, 0],
        &[0],
    ];
    let mut out = Vec::new();
    let mut offset = (data.len() * 5 + 1) as u16;
    for (token, d) in data.iter().enumerate() {
        out.push(token as u8);
        out.extend_from_slice(&offset.to_be_bytes());
        out.extend_from_slice(&(d.len() as u16).to_be_bytes());
        offset += d.len() as u16;
    }
    out.push(0xFF);
    for d in data {
        out.extend_from_slice(d);
    }
    out
}

fn parse_login(p: &[u8]) -> Login {
    let u16at = |i: usize| u16::from_le_bytes([p[i], p[i + 1]]) as usize;
    let field = |at: usize| -> Vec<u8> {
        let (off, chars) = (u16at(at), u16at(at + 2));
        p.get(off..off + chars * 2).unwrap_or_default().to_vec()
    };
    let text = |b: Vec<u8>| ucs2(&b);
    // The password is obfuscated: each byte's nibbles swapped, then XORed with 0xA5.
    let password: Vec<u8> = field(44)
        .into_iter()
        .map(|b| {
            let x = b ^ 0xA5;
            x.rotate_left(4)
        })
        .collect();
    Login {
        user: text(field(40)),
        password: ucs2(&password),
        app_name: text(field(48)),
        database: text(field(68)),
        read_only: p[26] & 0x20 != 0,
    }
}

fn login_ack(database: &str) -> Vec<u8> {
    let mut t = Tokens::default();
    let db = if database.is_empty() {
        "master"
    } else {
        database
    };
    t.env_change(1, db, "master");
    t.env_change(4, "4096", "4096");
    // LOGINACK: interface, TDS 7.4, program name, version.
    let name = "Microsoft SQL Server";
    let mut body = vec![1u8];
    body.extend_from_slice(&0x7400_0004u32.to_be_bytes());
    b_varchar(&mut body, name);
    body.extend_from_slice(&[15, 0, 0x07, 0xD0]);
    t.0.push(0xAD);
    t.0.extend_from_slice(&(body.len() as u16).to_le_bytes());
    t.0.extend_from_slice(&body);
    t.done(0, 0);
    t.0
}

// ---------------------------------------------------------------------------------------------
// Requests

fn skip_all_headers(p: &[u8]) -> usize {
    u32::from_le_bytes([p[0], p[1], p[2], p[3]]) as usize
}

fn parse_batch(p: &[u8]) -> Request {
    Request {
        sql: ucs2(&p[skip_all_headers(p)..]),
        declared: String::new(),
        params: Vec::new(),
        rpc: false,
    }
}

fn parse_rpc(p: &[u8]) -> Request {
    let mut r = Reader {
        b: p,
        at: skip_all_headers(p),
    };
    let id = r.u16();
    assert_eq!(id, 0xFFFF, "the double knows only sp_executesql by id");
    assert_eq!(r.u16(), 10, "the double knows only sp_executesql (10)");
    r.u16(); // option flags
    let mut params = Vec::new();
    while r.at < p.len() {
        let n = r.u8() as usize;
        let name = ucs2(r.take(n * 2));
        r.u8(); // status flags
        params.push((name, r.typed_value()));
    }
    let mut params = params.into_iter();
    let sql = params.next().map(|(_, v)| v.text()).unwrap_or_default();
    let declared = params.next().map(|(_, v)| v.text()).unwrap_or_default();
    Request {
        sql,
        declared,
        params: params.collect(),
        rpc: true,
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        s
    }
    fn u8(&mut self) -> u8 {
        self.take(1)[0]
    }
    fn u16(&mut self) -> u16 {
        let b = self.take(2);
        u16::from_le_bytes([b[0], b[1]])
    }
    fn u32(&mut self) -> u32 {
        let b = self.take(4);
        u32::from_le_bytes(b.try_into().unwrap())
    }
    fn uint(&mut self, n: usize) -> u64 {
        let mut v = 0u64;
        for (i, b) in self.take(n).iter().enumerate() {
            v |= (*b as u64) << (8 * i);
        }
        v
    }

    /// TYPE_INFO and the value after it (MS-TDS 2.2.5.4 / 2.2.5.5).
    fn typed_value(&mut self) -> Val {
        let ty = self.u8();
        match ty {
            0x1F => Val::Null,
            0x26 => {
                self.u8();
                match self.u8() {
                    0 => Val::Null,
                    1 => Val::Int(self.u8() as i32),
                    2 => Val::Int(self.u16() as i16 as i32),
                    4 => Val::Int(self.u32() as i32),
                    _ => Val::BigInt(self.uint(8) as i64),
                }
            }
            0x68 => {
                self.u8();
                match self.u8() {
                    0 => Val::Null,
                    _ => Val::Bit(self.u8() != 0),
                }
            }
            0x6D => {
                self.u8();
                match self.u8() {
                    0 => Val::Null,
                    4 => Val::Float(f32::from_bits(self.u32()) as f64),
                    _ => Val::Float(f64::from_bits(self.uint(8))),
                }
            }
            0x6A | 0x6C => {
                self.u8();
                self.u8();
                let scale = self.u8();
                match self.u8() as usize {
                    0 => Val::Null,
                    n => {
                        let positive = self.u8() == 1;
                        let mut v = 0i128;
                        for (i, b) in self.take(n - 1).iter().enumerate() {
                            v |= (*b as i128) << (8 * i);
                        }
                        Val::Dec {
                            value: if positive { v } else { -v },
                            scale,
                        }
                    }
                }
            }
            0xE7 | 0xA5 => {
                let max = self.u16();
                if ty == 0xE7 {
                    self.take(5); // collation
                }
                let bytes = if max == 0xFFFF {
                    self.plp()
                } else {
                    match self.u16() {
                        0xFFFF => None,
                        n => Some(self.take(n as usize).to_vec()),
                    }
                };
                match (bytes, ty) {
                    (None, _) => Val::Null,
                    (Some(b), 0xE7) => Val::Str(ucs2(&b)),
                    (Some(b), _) => Val::Bytes(b),
                }
            }
            0x28 => match self.u8() {
                0 => Val::Null,
                _ => Val::Date(date_from(self.uint(3))),
            },
            0x29 => {
                let scale = self.u8();
                match self.u8() as usize {
                    0 => Val::Null,
                    n => Val::Time(time_from(self.uint(n), scale)),
                }
            }
            0x2A => {
                let scale = self.u8();
                match self.u8() as usize {
                    0 => Val::Null,
                    n => {
                        let t = time_from(self.uint(n - 3), scale);
                        Val::DateTime2(date_from(self.uint(3)).and_time(t))
                    }
                }
            }
            0x6F => {
                self.u8();
                match self.u8() {
                    0 => Val::Null,
                    _ => {
                        let days = self.u32() as i32;
                        let ticks = self.u32();
                        Val::DateTime(datetime_from(days, ticks))
                    }
                }
            }
            other => panic!("the TDS double does not decode parameter type 0x{other:02X}"),
        }
    }

    /// A PLP value: total length (or NULL), then chunks up to a zero-length terminator.
    fn plp(&mut self) -> Option<Vec<u8>> {
        let total = self.uint(8);
        if total == u64::MAX {
            return None;
        }
        let mut out = Vec::new();
        loop {
            let n = self.u32() as usize;
            if n == 0 {
                return Some(out);
            }
            out.extend_from_slice(self.take(n));
        }
    }
}

fn ucs2(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

fn day_one() -> NaiveDate {
    NaiveDate::from_ymd_opt(1, 1, 1).unwrap()
}

fn date_from(days: u64) -> NaiveDate {
    day_one() + chrono::Duration::days(days as i64)
}

fn time_from(units: u64, scale: u8) -> NaiveTime {
    let nanos = units as u128 * 10u128.pow(9 - scale as u32);
    NaiveTime::MIN + chrono::Duration::nanoseconds(nanos as i64)
}

fn datetime_from(days: i32, ticks: u32) -> NaiveDateTime {
    let base = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
    let ms = (ticks as i64 * 10 + 1) / 3;
    (base + chrono::Duration::days(days as i64)).and_time(NaiveTime::MIN)
        + chrono::Duration::milliseconds(ms)
}

// ---------------------------------------------------------------------------------------------
// Answers

#[derive(Default)]
struct Tokens(Vec<u8>);

impl Tokens {
    fn done(&mut self, status: u16, rows: u64) {
        self.done_kind(0xFD, status, rows);
    }

    fn done_kind(&mut self, token: u8, status: u16, rows: u64) {
        self.0.push(token);
        self.0.extend_from_slice(&status.to_le_bytes());
        self.0.extend_from_slice(&0xC1u16.to_le_bytes()); // SELECT
        self.0.extend_from_slice(&rows.to_le_bytes());
    }

    fn env_change(&mut self, ty: u8, new: &str, old: &str) {
        let mut body = vec![ty];
        b_varchar(&mut body, new);
        b_varchar(&mut body, old);
        self.0.push(0xE3);
        self.0.extend_from_slice(&(body.len() as u16).to_le_bytes());
        self.0.extend_from_slice(&body);
    }

    fn error(&mut self, number: i32, class: u8, message: &str) {
        let mut body = Vec::new();
        body.extend_from_slice(&number.to_le_bytes());
        body.push(1); // state
        body.push(class);
        let units: Vec<u16> = message.encode_utf16().collect();
        body.extend_from_slice(&(units.len() as u16).to_le_bytes());
        for u in units {
            body.extend_from_slice(&u.to_le_bytes());
        }
        b_varchar(&mut body, "DOUBLE");
        b_varchar(&mut body, "");
        body.extend_from_slice(&1i32.to_le_bytes()); // line
        self.0.push(0xAA);
        self.0.extend_from_slice(&(body.len() as u16).to_le_bytes());
        self.0.extend_from_slice(&body);
    }

    fn col_metadata(&mut self, cols: &[Col]) {
        self.0.push(0x81);
        self.0.extend_from_slice(&(cols.len() as u16).to_le_bytes());
        for c in cols {
            self.0.extend_from_slice(&0u32.to_le_bytes()); // user type
            self.0.extend_from_slice(&0x0001u16.to_le_bytes()); // nullable
            type_info(&mut self.0, c.ty);
            b_varchar(&mut self.0, &c.name);
        }
    }

    fn row(&mut self, cols: &[Col], vals: &[Val]) {
        self.0.push(0xD1);
        for (c, v) in cols.iter().zip(vals) {
            value(&mut self.0, c.ty, v);
        }
    }
}

fn b_varchar(out: &mut Vec<u8>, s: &str) {
    let units: Vec<u16> = s.encode_utf16().collect();
    out.push(units.len() as u8);
    for u in units {
        out.extend_from_slice(&u.to_le_bytes());
    }
}

const COLLATION: [u8; 5] = [0x09, 0x04, 0xD0, 0x00, 0x34]; // Latin1_General_CI_AS

fn decimal_len(precision: u8) -> u8 {
    match precision {
        0..=9 => 5,
        10..=19 => 9,
        20..=28 => 13,
        _ => 17,
    }
}

fn time_len(scale: u8) -> usize {
    match scale {
        0..=2 => 3,
        3..=4 => 4,
        _ => 5,
    }
}

fn type_info(out: &mut Vec<u8>, ty: ColType) {
    match ty {
        ColType::Int => out.extend_from_slice(&[0x26, 4]),
        ColType::BigInt => out.extend_from_slice(&[0x26, 8]),
        ColType::Bit => out.extend_from_slice(&[0x68, 1]),
        ColType::Float => out.extend_from_slice(&[0x6D, 8]),
        ColType::Decimal { precision, scale } => {
            out.extend_from_slice(&[0x6A, decimal_len(precision), precision, scale])
        }
        ColType::NVarChar(n) => {
            out.push(0xE7);
            out.extend_from_slice(&(n * 2).to_le_bytes());
            out.extend_from_slice(&COLLATION);
        }
        ColType::DateTime2 { scale } => out.extend_from_slice(&[0x2A, scale]),
        ColType::DateTime => out.extend_from_slice(&[0x6F, 8]),
        ColType::Date => out.push(0x28),
        ColType::VarBinary(n) => {
            out.push(0xA5);
            out.extend_from_slice(&n.to_le_bytes());
        }
        // `max` is the length 0xFFFF: the server promises nothing below 2 GB.
        ColType::NVarCharMax => {
            out.push(0xE7);
            out.extend_from_slice(&0xFFFFu16.to_le_bytes());
            out.extend_from_slice(&COLLATION);
        }
        ColType::VarBinaryMax => {
            out.push(0xA5);
            out.extend_from_slice(&0xFFFFu16.to_le_bytes());
        }
    }
}

/// A PLP value as SQL Server sends one: the total length (all ones for NULL), then chunks of
/// at most 8,000 bytes, each with its length, then a zero-length terminator.
fn plp(out: &mut Vec<u8>, bytes: Option<&[u8]>) {
    let Some(bytes) = bytes else {
        out.extend_from_slice(&u64::MAX.to_le_bytes());
        return;
    };
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    for chunk in bytes.chunks(8000) {
        out.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&0u32.to_le_bytes());
}

fn value(out: &mut Vec<u8>, ty: ColType, v: &Val) {
    match (ty, v) {
        (ColType::NVarCharMax | ColType::VarBinaryMax, Val::Null) => return plp(out, None),
        (ColType::NVarCharMax, Val::Str(s)) => {
            let bytes: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
            return plp(out, Some(&bytes));
        }
        (ColType::VarBinaryMax, Val::Bytes(b)) => return plp(out, Some(b)),
        _ => {}
    }
    let null16 = matches!(ty, ColType::NVarChar(_) | ColType::VarBinary(_));
    if *v == Val::Null {
        if null16 {
            out.extend_from_slice(&0xFFFFu16.to_le_bytes());
        } else {
            out.push(0);
        }
        return;
    }
    match (ty, v) {
        (ColType::Int, Val::Int(i)) => {
            out.push(4);
            out.extend_from_slice(&i.to_le_bytes());
        }
        (ColType::BigInt, Val::BigInt(i)) => {
            out.push(8);
            out.extend_from_slice(&i.to_le_bytes());
        }
        (ColType::Bit, Val::Bit(b)) => out.extend_from_slice(&[1, *b as u8]),
        (ColType::Float, Val::Float(f)) => {
            out.push(8);
            out.extend_from_slice(&f.to_le_bytes());
        }
        (ColType::Decimal { precision, .. }, Val::Dec { value, .. }) => {
            let len = decimal_len(precision);
            out.push(len);
            out.push(if *value < 0 { 0 } else { 1 });
            out.extend_from_slice(&value.unsigned_abs().to_le_bytes()[..len as usize - 1]);
        }
        (ColType::NVarChar(_), Val::Str(s)) => {
            let units: Vec<u16> = s.encode_utf16().collect();
            out.extend_from_slice(&((units.len() * 2) as u16).to_le_bytes());
            for u in units {
                out.extend_from_slice(&u.to_le_bytes());
            }
        }
        (ColType::VarBinary(_), Val::Bytes(b)) => {
            out.extend_from_slice(&(b.len() as u16).to_le_bytes());
            out.extend_from_slice(b);
        }
        (ColType::DateTime2 { scale }, Val::DateTime2(t)) => {
            let n = time_len(scale);
            out.push((n + 3) as u8);
            let units = t.time().num_seconds_from_midnight() as u64 * 10u64.pow(scale as u32)
                + t.time().nanosecond() as u64 / 10u64.pow(9 - scale as u32);
            out.extend_from_slice(&units.to_le_bytes()[..n]);
            let days = (t.date() - day_one()).num_days() as u32;
            out.extend_from_slice(&days.to_le_bytes()[..3]);
        }
        (ColType::DateTime, Val::DateTime(t)) => {
            out.push(8);
            let base = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
            let days = (t.date() - base).num_days() as i32;
            let ms = t.time().num_seconds_from_midnight() as u64 * 1000
                + t.time().nanosecond() as u64 / 1_000_000;
            let ticks = (ms * 3 + 5) / 10;
            out.extend_from_slice(&days.to_le_bytes());
            out.extend_from_slice(&(ticks as u32).to_le_bytes());
        }
        (ColType::Date, Val::Date(d)) => {
            out.push(3);
            let days = (*d - day_one()).num_days() as u32;
            out.extend_from_slice(&days.to_le_bytes()[..3]);
        }
        (ty, v) => panic!("the TDS double cannot write {v:?} as {ty:?}"),
    }
}

/// The token stream for a reply. RPCs end as SQL Server ends them (DONEINPROC, RETURNSTATUS,
/// DONEPROC); batches with DONE.
fn answer(reply: &Reply, rpc: bool) -> Vec<u8> {
    let mut t = Tokens::default();
    let (rows, error) = match reply {
        Reply::Rows { columns, rows } => {
            t.col_metadata(columns);
            for r in rows {
                t.row(columns, r);
            }
            (rows.len() as u64, false)
        }
        Reply::Done(n) => (*n, false),
        Reply::Error {
            number,
            class,
            message,
        } => {
            t.error(*number, *class, message);
            (0, true)
        }
        Reply::Slow(..) | Reply::Drop => unreachable!("handled by the connection loop"),
    };
    let status = if error { 0x02 } else { 0x10 };
    if rpc {
        t.done_kind(0xFF, status, rows);
        t.0.push(0x79);
        t.0.extend_from_slice(&(error as i32).to_le_bytes());
        t.done_kind(0xFE, if error { 0x02 } else { 0 }, 0);
    } else {
        t.done(status, rows);
    }
    t.0
}
