//! The admin server: a minimal HTTP/1 responder for `/metrics` and `/ready`.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::context::Shared;

/// The longest request head read.
const MAX_HEAD: usize = 8 * 1024;
/// How long a client may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves admin requests until the proxy stops.
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let accepted = tokio::select! {
            _ = shared.stop.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                tokio::spawn(handle(stream, shared.clone()));
            }
            Err(e) => {
                tracing::warn!(error = %e, "admin accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn handle(mut stream: TcpStream, shared: Arc<Shared>) {
    let Ok(Some(path)) = tokio::time::timeout(HEAD_TIMEOUT, read_path(&mut stream)).await else {
        return;
    };
    let (status, body) = respond(&path, &shared);
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain; version=0.0.4; charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// The status line and body for `path`.
fn respond(path: &str, shared: &Shared) -> (&'static str, String) {
    match path.split('?').next().unwrap_or_default() {
        "/metrics" => ("200 OK", shared.metrics.render()),
        "/ready" if shared.ready.load(Relaxed) && !shared.draining.is_cancelled() => {
            ("200 OK", "ready\n".into())
        }
        "/ready" => ("503 Service Unavailable", "not ready\n".into()),
        _ => ("404 Not Found", "try /metrics or /ready\n".into()),
    }
}

/// Reads the request head and returns the path of a `GET`, or `None` for anything else.
async fn read_path(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || head.len() + n > MAX_HEAD {
            return None;
        }
        head.extend_from_slice(chunk.get(..n)?);
    }
    let line = head.split(|b| *b == b'\r').next()?;
    let mut words = std::str::from_utf8(line).ok()?.split(' ');
    match (words.next(), words.next()) {
        (Some("GET"), Some(path)) => Some(path.to_owned()),
        _ => None,
    }
}
