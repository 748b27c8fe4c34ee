//! The FIB thread: installs the RIB's best routes into the host's kernel routing table.
//!
//! The RIB sends [`FibMsg::Changes`] after each batch it processed: for every prefix whose
//! selected paths may have changed, the next hops it now has (none: remove it). The FIB
//! thread coalesces whatever has queued up (a prefix changed ten times in a burst is
//! written once, with its last value) and applies it through `tern_platform::fib` in large
//! batches, so a full table goes in at netlink speed rather than one syscall per route.
//!
//! A route the kernel refuses (say its next hop is on no connected network) is logged,
//! counted and kept in a small failure list; the list is tried again after each applied
//! batch (something changed) and every [`RETRY_EVERY`] otherwise, and never stops tern.
//! Nothing is stored per installed route: a best route is "in the kernel" unless it is
//! pending or failed, which is what `ternctl show route` reports.
//!
//! On start the thread removes routes of its protocol that an earlier run left in the table;
//! on exit it removes its own unless told to keep them (`fib.keep_on_exit`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use slog::{debug, info, warn, Logger};
use tern_platform::fib::{self as kfib, Change, Fib, Route};

use crate::wire::Prefix;

/// The first wait before failed routes are tried again; it doubles while they keep
/// failing, up to [`RETRY_MAX`], and starts over when a retry installs something.
pub const RETRY_EVERY: Duration = Duration::from_secs(10);
pub const RETRY_MAX: Duration = Duration::from_secs(300);
/// At most this many failed routes are tried per round (the rest wait for the next).
const RETRY_ROUND: usize = 65_536;
/// After a batch, failed routes are tried again if they were not in the last this long.
const RETRY_AFTER_CHANGE: Duration = Duration::from_secs(1);
/// Changes applied per kernel call (the platform pipelines within a call).
const CHUNK: usize = 16_384;

/// Where and how routes are installed (`[fib]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FibSettings {
    pub table: u32,
    pub metric: u32,
    /// Leave tern's routes in the kernel when it stops.
    pub keep_on_exit: bool,
}

/// The next hops of a prefix's selected paths: none (remove the route), one, or several
/// (a multipath route). One next hop, the common case, needs no allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextHops {
    None,
    One(IpAddr),
    Many(Box<[IpAddr]>),
}

impl NextHops {
    pub fn from_slice(hops: &[IpAddr]) -> NextHops {
        match hops {
            [] => NextHops::None,
            [one] => NextHops::One(*one),
            many => NextHops::Many(many.into()),
        }
    }

    pub fn as_slice(&self) -> &[IpAddr] {
        match self {
            NextHops::None => &[],
            NextHops::One(h) => std::slice::from_ref(h),
            NextHops::Many(h) => h,
        }
    }
}

pub enum FibMsg {
    /// Prefixes whose selected next hops may have changed, with their current ones.
    Changes(Vec<(Prefix, NextHops)>),
    /// The kernel state of these prefixes, in order.
    Query(Vec<Prefix>, Sender<Vec<KernelState>>),
    /// Counters for metrics and `ternctl`.
    Stats(Sender<FibStats>),
    Exit,
}

/// Whether a best route is in the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelState {
    /// Installed (or removed, for a prefix without next hops).
    Synced,
    /// Waiting to be written.
    Pending,
    /// The kernel refused it; tried again later.
    Failed(String),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FibStats {
    /// Routes written (installs and replacements) since start.
    pub installed: u64,
    pub removed: u64,
    /// Kernel refusals since start, retries included.
    pub errors: u64,
    /// Routes the kernel refuses now.
    pub failing: u64,
}

struct State {
    fib: Fib,
    pending: HashMap<Prefix, NextHops>,
    /// Routes the kernel refused: their next hops, the error, and whether it was logged.
    failed: HashMap<Prefix, Failure>,
    stats: FibStats,
    /// When failed routes are tried next, and the wait after that (doubling up to
    /// [`RETRY_MAX`] while they keep failing).
    next_retry: Instant,
    retry_wait: Duration,
    leftover: std::collections::HashSet<Prefix>,
    adopt_until: Instant,
    log: Logger,
}

struct Failure {
    hops: NextHops,
    error: String,
}

/// The kernel table, opened, with what an earlier run left in it.
pub struct Opened {
    fib: Fib,
    /// With `keep_on_exit`: the routes an earlier run left, kept (no forwarding gap) until
    /// they are written again or [`ADOPT_GRACE`] has passed.
    leftover: Vec<Prefix>,
}

/// How long routes an earlier run kept (`keep_on_exit`) stay without being learned again.
pub const ADOPT_GRACE: Duration = Duration::from_secs(120);

/// Opens the kernel table; the thread body is [`run`]. Routes an earlier run left are
/// removed, or with `keep_on_exit` kept until relearned or [`ADOPT_GRACE`] has passed.
/// Fails when the table cannot be opened, so the daemon can refuse to start.
pub fn open(settings: FibSettings, log: &Logger) -> anyhow::Result<Opened> {
    let s = kfib::Settings { table: settings.table, metric: settings.metric, protocol: kfib::PROTO_BGP };
    let mut fib =
        Fib::open(s).map_err(|e| anyhow::anyhow!("cannot open the kernel routing table {}: {e}", settings.table))?;
    let mut leftover = Vec::new();
    if settings.keep_on_exit {
        match fib.list_own() {
            Ok(routes) => {
                leftover = routes.iter().filter_map(|r| Prefix::new(r.dst, r.len)).collect();
                if !leftover.is_empty() {
                    info!(log, "keeping the routes an earlier run left until they are learned again";
                        "routes" => leftover.len(), "grace_s" => ADOPT_GRACE.as_secs());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {}
            Err(e) => warn!(log, "cannot list the routes an earlier run left in the kernel"; "error" => %e),
        }
        return Ok(Opened { fib, leftover });
    }
    match fib.flush_own() {
        Ok(0) => {}
        Ok(n) => {
            info!(log, "removed routes an earlier run left in the kernel"; "routes" => n, "table" => settings.table)
        }
        Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {}
        Err(e) => warn!(log, "cannot remove routes an earlier run left in the kernel"; "error" => %e),
    }
    Ok(Opened { fib, leftover })
}

pub fn run(opened: Opened, settings: FibSettings, rx: Receiver<FibMsg>, log: Logger) {
    info!(log, "fib started"; "table" => settings.table, "metric" => settings.metric);
    let now = Instant::now();
    let mut st = State {
        fib: opened.fib,
        pending: HashMap::new(),
        failed: HashMap::new(),
        stats: FibStats::default(),
        next_retry: now + RETRY_EVERY,
        retry_wait: RETRY_EVERY,
        leftover: opened.leftover.into_iter().collect(),
        adopt_until: now + ADOPT_GRACE,
        log,
    };
    loop {
        let mut deadline = None;
        if !st.failed.is_empty() {
            deadline = Some(st.next_retry);
        }
        if !st.leftover.is_empty() {
            deadline = Some(deadline.map_or(st.adopt_until, |d: Instant| d.min(st.adopt_until)));
        }
        let msg = match deadline {
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(d) => rx.recv_deadline(d),
        };
        match msg {
            Ok(FibMsg::Exit) | Err(RecvTimeoutError::Disconnected) => break,
            Ok(m) => {
                let mut exit = !st.message(m);
                // Coalesce whatever else has queued before touching the kernel.
                while !exit {
                    match rx.try_recv() {
                        Ok(m) => exit = !st.message(m),
                        Err(_) => break,
                    }
                }
                st.apply();
                if exit {
                    break;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        let now = Instant::now();
        if !st.failed.is_empty() && now >= st.next_retry {
            st.retry();
        }
        if !st.leftover.is_empty() && now >= st.adopt_until {
            st.drop_leftovers();
        }
    }
    st.exit(settings);
}

impl State {
    /// False on Exit.
    fn message(&mut self, m: FibMsg) -> bool {
        match m {
            FibMsg::Changes(changes) => {
                for (prefix, hops) in changes {
                    self.failed.remove(&prefix);
                    self.leftover.remove(&prefix);
                    self.pending.insert(prefix, hops);
                }
            }
            FibMsg::Query(prefixes, reply) => {
                let states = prefixes
                    .iter()
                    .map(|p| {
                        if self.pending.contains_key(p) {
                            KernelState::Pending
                        } else if let Some(f) = self.failed.get(p) {
                            KernelState::Failed(f.error.clone())
                        } else {
                            KernelState::Synced
                        }
                    })
                    .collect();
                let _ = reply.send(states);
            }
            FibMsg::Stats(reply) => {
                let mut s = self.stats;
                s.failing = self.failed.len() as u64;
                let _ = reply.send(s);
            }
            FibMsg::Exit => return false,
        }
        true
    }

    /// Writes every pending change.
    fn apply(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let pending: Vec<(Prefix, NextHops)> = self.pending.drain().collect();
        let n = pending.len();
        let installed = self.stats.installed;
        self.write(pending);
        debug!(self.log, "fib batch applied"; "routes" => n, "failing" => self.failed.len());
        if !self.failed.is_empty() && self.stats.installed > installed {
            // Something went in: routes that failed may go in now too (a next hop became
            // reachable through a route just installed). Soon, but not at once: a burst of
            // batches makes one retry.
            self.next_retry = self.next_retry.min(Instant::now() + RETRY_AFTER_CHANGE);
            self.retry_wait = RETRY_EVERY;
        }
    }

    /// Tries failed routes again, at most [`RETRY_ROUND`] of them.
    fn retry(&mut self) {
        let keys: Vec<Prefix> = self.failed.keys().take(RETRY_ROUND).copied().collect();
        let again: Vec<(Prefix, NextHops)> =
            keys.iter().filter_map(|p| self.failed.get(p).map(|f| (*p, f.hops.clone()))).collect();
        let before = self.failed.len();
        self.write(again);
        let still = self.failed.len();
        if still < before {
            self.retry_wait = RETRY_EVERY;
        } else {
            self.retry_wait = (self.retry_wait * 2).min(RETRY_MAX);
        }
        self.next_retry = Instant::now() + self.retry_wait;
        debug!(self.log, "retried routes the kernel refused"; "routes" => keys.len(), "still_failing" => still,
            "next_retry_s" => self.retry_wait.as_secs());
    }

    /// Removes the routes an earlier run left that nothing learned again.
    fn drop_leftovers(&mut self) {
        let gone: Vec<(Prefix, NextHops)> = self.leftover.drain().map(|p| (p, NextHops::None)).collect();
        info!(self.log, "removing routes an earlier run left that were not learned again"; "routes" => gone.len());
        self.write(gone);
    }

    fn write(&mut self, routes: Vec<(Prefix, NextHops)>) {
        for chunk in routes.chunks(CHUNK) {
            let batch: Vec<Change> = chunk
                .iter()
                .map(|(p, h)| match h {
                    NextHops::None => Change::Delete { dst: p.addr(), len: p.len() },
                    hops => Change::Replace(Route { dst: p.addr(), len: p.len(), next_hops: hops.as_slice().to_vec() }),
                })
                .collect();
            let failures = match self.fib.apply(&batch) {
                Ok(f) => f,
                Err(e) => {
                    // The socket itself failed: keep everything for a retry.
                    warn!(self.log, "kernel routing socket failed; will retry"; "error" => %e, "routes" => chunk.len());
                    for (p, h) in chunk {
                        self.failed.insert(*p, Failure { hops: h.clone(), error: e.to_string() });
                    }
                    self.stats.errors += chunk.len() as u64;
                    continue;
                }
            };
            let mut failed_idx = failures.iter().map(|(i, _)| *i).peekable();
            for (i, (p, h)) in chunk.iter().enumerate() {
                if failed_idx.peek() == Some(&i) {
                    failed_idx.next();
                    continue;
                }
                self.failed.remove(p);
                match h {
                    NextHops::None => self.stats.removed += 1,
                    _ => self.stats.installed += 1,
                }
            }
            for (i, e) in failures {
                let (p, h) = &chunk[i];
                self.stats.errors += 1;
                // Logged once per route while it keeps failing.
                if !self.failed.contains_key(p) {
                    warn!(self.log, "kernel refused a route; will retry"; "prefix" => %p, "next_hops" => ?h.as_slice(), "error" => %e);
                }
                self.failed.insert(*p, Failure { hops: h.clone(), error: e.to_string() });
            }
        }
    }

    fn exit(mut self, settings: FibSettings) {
        if settings.keep_on_exit {
            info!(self.log, "fib stopped, leaving tern's routes in the kernel (keep_on_exit)");
            return;
        }
        match self.fib.flush_own() {
            Ok(n) => info!(self.log, "fib stopped, routes removed from the kernel"; "routes" => n),
            Err(e) => warn!(self.log, "fib stopped, but tern's routes could not be removed"; "error" => %e),
        }
    }
}
