//! MCP over stdio, behind a small guard. rmcp silently drops lines that are not JSON; the
//! JSON-RPC spec (and an integrator debugging a pipe) wants an answer. The guard reads stdin line
//! by line with a size bound, answers unparsable or oversized lines itself with a JSON-RPC error
//! (`id: null`), and passes the rest to rmcp. One writer task owns stdout so rmcp's responses and
//! the guard's errors never interleave within a line.

use rmcp::ServiceExt;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use super::Server;

/// Serve MCP on this process's stdin/stdout until stdin closes.
pub async fn serve(server: Server, max_request_bytes: usize) -> anyhow::Result<()> {
    serve_on(
        server,
        tokio::io::stdin(),
        tokio::io::stdout(),
        max_request_bytes,
    )
    .await
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
                    if let Err(e) = serde_json::from_slice::<serde_json::Value>(text) {
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

/// The only writer of stdout: whole lines from rmcp and from the guard.
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
