//! `ternd`: the daemon around the [`Router`](crate::Router) library.
//!
//! The main thread owns the router and the running configuration. It waits on two
//! channels: commands from the admin socket ([`crate::control::server`]) and signals
//! (SIGHUP reloads, SIGTERM and SIGINT shut down), and handles one thing at a time, so a
//! reload never races a request.
//!
//! ```text
//!  signals thread ──Signal──┐
//!                           ├──▶ main loop (Router, Config) ──▶ Router API
//!  admin socket  ──Command──┘
//! ```

pub mod handle;
pub mod metrics;
pub mod reload;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use crossbeam_channel::{select, unbounded, Receiver};
use slog::{error, info, o, warn, Logger};

use crate::config::{self, Config, LogFormat};
use crate::control::server::{Command, Server};
use crate::log::{self as tlog, LevelSwitch};
use crate::Router;

/// The message given to every peer when ternd stops (RFC 9003 shutdown communication).
pub const SHUTDOWN_MESSAGE: &str = "tern is shutting down";

/// What the running daemon holds.
pub struct Daemon {
    pub config_path: PathBuf,
    pub config: Config,
    pub router: Router,
    pub level: LevelSwitch,
    pub started: Instant,
    pub log: Logger,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Reload,
    Stop(i32),
}

/// Loads the configuration or explains, on stderr, why it cannot.
pub fn load(path: &Path) -> Result<Config, String> {
    config::load(path).map_err(|errors| errors.to_string())
}

/// Runs ternd until SIGTERM or SIGINT. Errors before the router is up (configuration,
/// binding, the admin socket) are returned; the caller exits non-zero with them.
pub fn run(config_path: &Path) -> anyhow::Result<()> {
    let config = load(config_path).map_err(|e| anyhow::anyhow!("{}", e.trim_end()))?;
    let level = LevelSwitch::new(config.log.level);
    let format = match config.log.format {
        LogFormat::Term => tlog::Format::Term,
        LogFormat::Json => tlog::Format::Json,
    };
    let log = tlog::daemon(format, level.clone());
    let signals = signal_thread()?;
    info!(log, "ternd starting"; "version" => env!("CARGO_PKG_VERSION"), "config" => %config_path.display());
    let transport = Arc::new(crate::connection::tcp::Tcp);
    let router = Router::start(config.router.clone(), transport, log.clone())?;
    let (cmd_tx, cmd_rx) = unbounded();
    let server = Server::start(&config.admin_socket, cmd_tx, log.new(o!("unit" => "admin")))?;
    info!(log, "admin socket ready"; "path" => %server.path().display());
    let mut d = Daemon { config_path: config_path.to_path_buf(), config, router, level, started: Instant::now(), log };
    for o in &d.config.origins {
        d.router.originate(o.prefix, o.attrs.clone());
    }
    for n in d.config.neighbors.clone() {
        if let Err(e) = d.router.add_neighbor(n) {
            error!(d.log, "cannot start a neighbor"; "error" => format!("{e:#}"));
        }
    }
    let signal = main_loop(&mut d, &cmd_rx, &signals);
    info!(d.log, "shutting down"; "signal" => signal);
    server.stop();
    let Daemon { router, log, .. } = d;
    router.shutdown(Some(SHUTDOWN_MESSAGE.into()));
    info!(log, "ternd stopped");
    Ok(())
}

fn main_loop(d: &mut Daemon, commands: &Receiver<Command>, signals: &Receiver<Signal>) -> i32 {
    loop {
        select! {
            recv(commands) -> cmd => {
                let Ok(cmd) = cmd else { continue };
                if cmd.abandoned.load(std::sync::atomic::Ordering::SeqCst) {
                    warn!(d.log, "admin request skipped: its client gave up waiting"; "request" => ?cmd.request);
                    continue;
                }
                let response = handle::request(d, cmd.request);
                let _ = cmd.reply.send(response);
            }
            recv(signals) -> sig => match sig {
                Ok(Signal::Reload) => {
                    if let Err(e) = reload(d) {
                        error!(d.log, "reload refused, the running configuration stays"; "errors" => e);
                    }
                }
                Ok(Signal::Stop(n)) => return n,
                Err(_) => return 0,
            }
        }
    }
}

/// Re-reads the configuration file and applies the difference; on any error nothing
/// changes. Returns what changed.
pub fn reload(d: &mut Daemon) -> Result<String, String> {
    info!(d.log, "reloading the configuration"; "path" => %d.config_path.display());
    let new = load(&d.config_path)?;
    let plan = reload::plan(&d.config, &new)?;
    let summary = plan.describe();
    for address in &plan.remove {
        if let Err(e) = d.router.remove_neighbor(*address) {
            warn!(d.log, "cannot remove a neighbor"; "neighbor" => %address, "error" => %e);
        }
    }
    // A neighbor that cannot be (re)started is left out of the configuration kept as
    // running, so that the next reload tries it again.
    let mut failed = Vec::new();
    for n in &plan.reset {
        if let Err(e) = d.router.replace_neighbor(n.clone()) {
            error!(d.log, "cannot restart a neighbor"; "neighbor" => %n.address, "error" => format!("{e:#}"));
            failed.push(n.address);
        }
    }
    for n in &plan.add {
        if let Err(e) = d.router.add_neighbor(n.clone()) {
            error!(d.log, "cannot start a neighbor"; "neighbor" => %n.address, "error" => format!("{e:#}"));
            failed.push(n.address);
        }
    }
    for (address, rules) in &plan.rules {
        let _ = d.router.set_rules(*address, rules.clone());
    }
    for (address, off) in &plan.disable {
        let _ = d.router.set_disabled(*address, *off, off.then(|| "disabled in the configuration".to_string()), false);
    }
    for p in &plan.stop_originating {
        d.router.stop_originating(*p);
    }
    for o in &plan.originate {
        d.router.originate(o.prefix, o.attrs.clone());
    }
    if let Some(level) = plan.log_level {
        d.level.set(level);
    }
    let mut new = new;
    new.neighbors.retain(|n| !failed.contains(&n.address));
    d.config = new;
    info!(d.log, "configuration reloaded"; "changes" => &summary);
    if !failed.is_empty() {
        let list: Vec<String> = failed.iter().map(ToString::to_string).collect();
        return Err(format!("{summary}; but these neighbors could not be started (see the log): {}", list.join(", ")));
    }
    Ok(summary)
}

/// A thread turning SIGHUP, SIGTERM and SIGINT into [`Signal`]s. It lives as long as the
/// process: signal handlers are process-wide.
fn signal_thread() -> anyhow::Result<Receiver<Signal>> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals =
        signal_hook::iterator::Signals::new([SIGHUP, SIGTERM, SIGINT]).context("cannot install the signal handlers")?;
    let (tx, rx) = unbounded();
    std::thread::Builder::new()
        .name("tern-signals".into())
        .spawn(move || {
            for s in signals.forever() {
                let sig = if s == SIGHUP { Signal::Reload } else { Signal::Stop(s) };
                if tx.send(sig).is_err() {
                    break;
                }
            }
        })
        .context("cannot start the signal thread")?;
    Ok(rx)
}
