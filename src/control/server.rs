//! The admin socket's server side: one thread accepts, and one short-lived thread per
//! client connection reads request lines, hands each to the daemon's main loop and writes
//! the answer back. Nothing here touches the router.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{bail, Context};
use crossbeam_channel::{bounded, Sender};
use slog::{debug, warn, Logger};

use super::proto::{Request, Response};

/// One request for the daemon's main loop, with where its answer goes. `abandoned` is
/// set when the client was told the daemon did not answer in time: the main loop then
/// skips the request instead of carrying it out behind the operator's back.
pub struct Command {
    pub request: Request,
    pub reply: Sender<Response>,
    pub abandoned: Arc<AtomicBool>,
}

/// How a refusal for lack of capacity starts (ternctl exits 3 on it: no answer).
pub const BUSY: &str = "the daemon is busy";

/// Clients served at once; more are told to come back later.
const MAX_CLIENTS: usize = 16;
/// A request line longer than this is refused (the largest real one is a few hundred bytes).
const MAX_LINE: usize = 64 * 1024;
/// How long a client may take to send a line, and the daemon to answer.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Server {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    join: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds `path` (mode 0660) and starts accepting. A socket file left by a daemon that
    /// is gone is replaced; one a live daemon answers on is an error.
    pub fn start(path: &Path, commands: Sender<Command>, log: Logger) -> anyhow::Result<Server> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the admin socket's directory {}", dir.display()))?;
        }
        if path.exists() {
            if UnixStream::connect(path).is_ok() {
                bail!("another daemon is answering on the admin socket {}", path.display());
            }
            std::fs::remove_file(path)
                .with_context(|| format!("cannot remove the stale admin socket {}", path.display()))?;
        }
        let listener =
            UnixListener::bind(path).with_context(|| format!("cannot bind the admin socket {}", path.display()))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
            .with_context(|| format!("cannot set the mode of the admin socket {}", path.display()))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let join = std::thread::Builder::new()
            .name("tern-admin".into())
            .spawn(move || accept_loop(listener, commands, flag, log))
            .context("cannot start the admin socket thread")?;
        Ok(Server { path: path.to_path_buf(), stop, join: Some(join) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops accepting, waits for the accept thread and removes the socket file.
    pub fn stop(mut self) {
        self.shut();
    }

    fn shut(&mut self) {
        let Some(join) = self.join.take() else { return };
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept. If that is impossible (someone removed the socket
        // file), the thread is left to end with the process rather than hang shutdown.
        if UnixStream::connect(&self.path).is_ok() {
            let _ = join.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shut();
    }
}

fn accept_loop(listener: UnixListener, commands: Sender<Command>, stop: Arc<AtomicBool>, log: Logger) {
    let clients = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let mut stream = match stream {
            Ok(s) => s,
            Err(e) => {
                warn!(log, "admin socket accept failed"; "error" => %e);
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        if clients.load(Ordering::SeqCst) >= MAX_CLIENTS {
            let busy = Response::Error(format!("{BUSY}: it is serving {MAX_CLIENTS} clients; try again"));
            let _ = writeln!(stream, "{}", busy.to_line());
            continue;
        }
        clients.fetch_add(1, Ordering::SeqCst);
        let (commands, clients2, log2) = (commands.clone(), clients.clone(), log.clone());
        let spawned = std::thread::Builder::new().name("tern-admin-client".into()).spawn(move || {
            serve(stream, &commands, &log2);
            clients2.fetch_sub(1, Ordering::SeqCst);
        });
        if let Err(e) = spawned {
            clients.fetch_sub(1, Ordering::SeqCst);
            warn!(log, "cannot start a thread for an admin client"; "error" => %e);
        }
    }
}

/// Answers request lines until the client closes, times out or sends garbage.
fn serve(stream: UnixStream, commands: &Sender<Command>, log: &Logger) {
    let _ = stream.set_read_timeout(Some(CLIENT_TIMEOUT));
    let _ = stream.set_write_timeout(Some(CLIENT_TIMEOUT));
    let Ok(write_half) = stream.try_clone() else { return };
    let mut out = std::io::BufWriter::new(write_half);
    let mut reader = BufReader::new(stream).take(MAX_LINE as u64 + 1);
    let mut line = String::new();
    loop {
        line.clear();
        reader.set_limit(MAX_LINE as u64 + 1);
        match reader.read_line(&mut line) {
            Ok(0) => return,
            Ok(_) if line.len() > MAX_LINE => {
                let _ = writeln!(out, "{}", Response::Error(format!("request longer than {MAX_LINE} bytes")).to_line());
                let _ = out.flush();
                return;
            }
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return,
            Err(_) => return,
        }
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        let response = match serde_json::from_str::<Request>(text) {
            Ok(request) => {
                debug!(log, "admin request"; "request" => text);
                ask(commands, request)
            }
            Err(e) => Response::Error(format!("not a valid request: {e}")),
        };
        if writeln!(out, "{}", response.to_line()).and_then(|_| out.flush()).is_err() {
            return;
        }
    }
}

fn ask(commands: &Sender<Command>, request: Request) -> Response {
    let (tx, rx) = bounded(1);
    let abandoned = Arc::new(AtomicBool::new(false));
    if commands.send(Command { request, reply: tx, abandoned: abandoned.clone() }).is_err() {
        return Response::Error("the daemon is shutting down".into());
    }
    rx.recv_timeout(CLIENT_TIMEOUT).unwrap_or_else(|_| {
        abandoned.store(true, Ordering::SeqCst);
        Response::Error("the daemon did not answer in time and will not carry the request out; try again".into())
    })
}
