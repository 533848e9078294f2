//! MCP over stdio, behind a small guard. rmcp silently drops lines that are not JSON; the
//! JSON-RPC spec (and an integrator debugging a pipe) wants an answer. The guard reads stdin line
//! by line with a size bound, answers unparsable or oversized lines itself with a JSON-RPC error
//! (`id: null`), and passes the rest to rmcp. Plain tool calls of the initialised session are
//! answered by the guard itself (`direct.rs`), each in a task of its own. One writer task owns
//! stdout so rmcp's responses and the guard's lines never interleave within a line.

use rmcp::ServiceExt;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use super::Server;
use super::live::STDIO;
use super::{direct, entrance};

/// Serve MCP on this process's stdin/stdout until stdin closes.
pub async fn serve(server: Server, max_request_bytes: usize) -> anyhow::Result<()> {
    serve_on(server, input(), output(), max_request_bytes).await
}

type Input = Box<dyn AsyncRead + Unpin + Send>;
type Output = Box<dyn AsyncWrite + Unpin + Send>;

/// Stdin, read on the runtime's own threads when it is a pipe or a socket (as an MCP client
/// starts us). tokio's `stdin()` reads on its blocking pool: two thread hand-overs per line,
/// measured as most of a cached call's cost over stdio (docs/performance.md). A terminal or a
/// file keeps the portable path.
fn input() -> Input {
    #[cfg(unix)]
    if let Some(r) = polled(
        std::io::stdin().as_fd(),
        |fd| tokio::net::unix::pipe::Receiver::from_owned_fd(fd).map(|r| Box::new(r) as Input),
        |s| Box::new(s) as Input,
    ) {
        return r;
    }
    Box::new(tokio::io::stdin())
}

/// Stdout, as `input()` reads stdin.
fn output() -> Output {
    #[cfg(unix)]
    if let Some(w) = polled(
        std::io::stdout().as_fd(),
        |fd| tokio::net::unix::pipe::Sender::from_owned_fd(fd).map(|w| Box::new(w) as Output),
        |s| Box::new(s) as Output,
    ) {
        return w;
    }
    Box::new(tokio::io::stdout())
}

/// `fd` as a stream the runtime polls, built by `pipe` or `socket`, when it is one of those.
#[cfg(unix)]
fn polled<T>(
    fd: std::os::fd::BorrowedFd<'_>,
    pipe: impl FnOnce(std::os::fd::OwnedFd) -> std::io::Result<T>,
    socket: impl FnOnce(tokio::net::UnixStream) -> T,
) -> Option<T> {
    match unix_stream(fd)? {
        Stream::Pipe(fd) => pipe(fd).ok(),
        Stream::Socket(s) => Some(socket(s)),
    }
}

#[cfg(unix)]
use std::os::fd::AsFd;

#[cfg(unix)]
enum Stream {
    Pipe(std::os::fd::OwnedFd),
    Socket(tokio::net::UnixStream),
}

/// A duplicate of `fd` the runtime can poll, when it is a pipe or a Unix socket. The duplicate
/// shares the descriptor's non-blocking flag; nothing else in the process uses stdin or stdout
/// while serving (logs go to stderr).
#[cfg(unix)]
fn unix_stream(fd: std::os::fd::BorrowedFd<'_>) -> Option<Stream> {
    use std::os::unix::fs::FileTypeExt;
    let fd = fd.try_clone_to_owned().ok()?;
    let kind = std::fs::File::from(fd.try_clone().ok()?)
        .metadata()
        .ok()?
        .file_type();
    if kind.is_fifo() {
        return Some(Stream::Pipe(fd));
    }
    if kind.is_socket() {
        let s = std::os::unix::net::UnixStream::from(fd);
        s.set_nonblocking(true).ok()?;
        return tokio::net::UnixStream::from_std(s).ok().map(Stream::Socket);
    }
    None
}

pub async fn serve_on(
    server: Server,
    input: impl AsyncRead + Unpin + Send + 'static,
    output: impl AsyncWrite + Unpin + Send + 'static,
    max_request_bytes: usize,
) -> anyhow::Result<()> {
    let (mut to_rmcp, rmcp_in) = tokio::io::duplex(64 * 1024);
    let (rmcp_out, from_rmcp) = tokio::io::duplex(64 * 1024);
    let (errors_tx, errors_rx) = mpsc::channel::<String>(64);

    let writer = tokio::spawn(write_out(output, from_rmcp, errors_rx));
    let live = server.live();
    let who = std::sync::Arc::new(server.default_principal().clone());
    let reader = tokio::spawn(async move {
        let mut input = BufReader::new(input);
        let mut line = Vec::new();
        loop {
            match read_bounded_line(&mut input, &mut line, max_request_bytes).await {
                Ok(Line::Eof) => break,
                Ok(Line::TooLong) => {
                    let msg = format!(
                        "request too large: a message may be at most {max_request_bytes} bytes"
                    );
                    let _ = errors_tx.send(error_line(-32600, &msg)).await;
                }
                Ok(Line::Complete) => {
                    let text = line.strip_suffix(b"\n").unwrap_or(&line);
                    let text = text.strip_suffix(b"\r").unwrap_or(text);
                    if text.iter().all(|b| b.is_ascii_whitespace()) {
                        continue;
                    }
                    if text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
                        // A batch: refused per request, each error with its request's id.
                        let answer = match serde_json::from_slice::<Vec<serde_json::Value>>(text) {
                            Ok(batch) => entrance::batch_refusal(&batch).to_string(),
                            Err(e) => error_line(-32700, &format!("parse error: {e}")),
                        };
                        let _ = errors_tx.send(answer).await;
                        continue;
                    }
                    if let Some(call) = direct::parse(text) {
                        let state = live.current();
                        if let Some(session) = live.session(STDIO)
                            && call.answerable(&state)
                        {
                            let (out, who) = (errors_tx.clone(), who.clone());
                            tokio::spawn(async move {
                                let answer = call.answer(&state, &who, &session).await;
                                let line = String::from_utf8(answer).expect("JSON is UTF-8");
                                let _ = out.send(line).await;
                            });
                            continue;
                        }
                    } else if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(text) {
                        let _ = errors_tx
                            .send(error_line(-32700, &format!("parse error: {e}")))
                            .await;
                        continue;
                    }
                    if to_rmcp.write_all(text).await.is_err()
                        || to_rmcp.write_all(b"\n").await.is_err()
                    {
                        break;
                    }
                }
                Err(e) => {
                    tracing::error!("reading stdin: {e}");
                    break;
                }
            }
        }
        // Dropping `to_rmcp` closes rmcp's input, which ends the service.
    });

    let running = server.serve((rmcp_in, rmcp_out)).await?;
    let _ = running.waiting().await;
    reader.abort();
    let _ = writer.await;
    Ok(())
}

fn error_line(code: i64, message: &str) -> String {
    json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}}).to_string()
}

enum Line {
    Complete,
    TooLong,
    Eof,
}

/// Read one line into `buf` without ever holding more than `max` bytes of it; a longer line is
/// consumed and dropped.
async fn read_bounded_line(
    input: &mut (impl AsyncBufReadExt + Unpin),
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Line> {
    buf.clear();
    let mut too_long = false;
    loop {
        let chunk = input.fill_buf().await?;
        if chunk.is_empty() {
            return Ok(if too_long {
                Line::TooLong
            } else if buf.is_empty() {
                Line::Eof
            } else {
                Line::Complete
            });
        }
        let (take, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        if !too_long {
            if buf.len() + take > max + 2 {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(&chunk[..take]);
            }
        }
        input.consume(take);
        if done {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Complete
            });
        }
    }
}

/// The only writer of stdout: whole lines from rmcp and from the guard (its errors and its
/// direct answers).
async fn write_out(
    mut output: impl AsyncWrite + Unpin,
    from_rmcp: impl AsyncRead + Unpin,
    mut errors: mpsc::Receiver<String>,
) {
    let mut lines = BufReader::new(from_rmcp).lines();
    let mut errors_open = true;
    loop {
        let line = tokio::select! {
            l = lines.next_line() => match l {
                Ok(Some(l)) => l,
                _ => break,
            },
            e = errors.recv(), if errors_open => match e {
                Some(e) => e,
                None => { errors_open = false; continue; }
            },
        };
        if output.write_all(line.as_bytes()).await.is_err()
            || output.write_all(b"\n").await.is_err()
            || output.flush().await.is_err()
        {
            break;
        }
    }
}
