//! The admin socket's client side: connect, send one request line, read one response line.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, Context};

use super::proto::{Request, Response};

/// Sends `request` to the daemon on `socket` and returns its response as the JSON line it
/// sent and as parsed.
pub fn call(socket: &Path, request: &Request, timeout: Duration) -> anyhow::Result<(String, Response)> {
    let stream = UnixStream::connect(socket).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
            anyhow!(
                "no tern daemon is listening on {} ({e}); is ternd running, and is this its [admin] socket?",
                socket.display()
            )
        }
        std::io::ErrorKind::PermissionDenied => {
            anyhow!("permission denied on {}: ternctl must run as root or in the socket's group", socket.display())
        }
        _ => anyhow!("cannot connect to {}: {e}", socket.display()),
    })?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut line = serde_json::to_string(request)?;
    line.push('\n');
    (&stream).write_all(line.as_bytes()).with_context(|| format!("cannot send the request to {}", socket.display()))?;
    let mut answer = String::new();
    BufReader::new(&stream)
        .read_line(&mut answer)
        .with_context(|| format!("no answer from the daemon on {}", socket.display()))?;
    if answer.is_empty() {
        return Err(anyhow!("the daemon on {} closed the connection without answering", socket.display()));
    }
    let answer = answer.trim_end().to_string();
    let parsed =
        serde_json::from_str(&answer).with_context(|| format!("the daemon sent an invalid answer: {answer}"))?;
    Ok((answer, parsed))
}
