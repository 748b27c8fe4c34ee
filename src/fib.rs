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

/// How often failed routes are tried again when nothing else happens.
pub const RETRY_EVERY: Duration = Duration::from_secs(10);
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
    failed: HashMap<Prefix, (NextHops, String)>,
    stats: FibStats,
    last_retry: Instant,
    log: Logger,
}

/// Opens the kernel table (and removes routes an earlier run left); the thread body is
/// [`run`]. Fails when the table cannot be opened, so the daemon can refuse to start.
pub fn open(settings: FibSettings, log: &Logger) -> anyhow::Result<Fib> {
    let s = kfib::Settings { table: settings.table, metric: settings.metric, protocol: kfib::PROTO_BGP };
    let mut fib =
        Fib::open(s).map_err(|e| anyhow::anyhow!("cannot open the kernel routing table {}: {e}", settings.table))?;
    match fib.flush_own() {
        Ok(0) => {}
        Ok(n) => {
            info!(log, "removed routes an earlier run left in the kernel"; "routes" => n, "table" => settings.table)
        }
        Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {}
        Err(e) => warn!(log, "cannot remove routes an earlier run left in the kernel"; "error" => %e),
    }
    Ok(fib)
}

pub fn run(fib: Fib, settings: FibSettings, rx: Receiver<FibMsg>, log: Logger) {
    info!(log, "fib started"; "table" => settings.table, "metric" => settings.metric);
    let mut st = State {
        fib,
        pending: HashMap::new(),
        failed: HashMap::new(),
        stats: FibStats::default(),
        last_retry: Instant::now(),
        log,
    };
    loop {
        let msg = if st.failed.is_empty() {
            rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            rx.recv_timeout(RETRY_EVERY)
        };
        match msg {
            Ok(FibMsg::Exit) | Err(RecvTimeoutError::Disconnected) => break,
            Ok(m) => {
                if !st.message(m) {
                    break;
                }
                // Coalesce whatever else has queued before touching the kernel.
                while let Ok(m) = rx.try_recv() {
                    if !st.message(m) {
                        st.apply();
                        return st.exit(settings);
                    }
                }
                st.apply();
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        if !st.failed.is_empty() && st.last_retry.elapsed() >= RETRY_EVERY {
            st.retry();
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
                    self.pending.insert(prefix, hops);
                }
            }
            FibMsg::Query(prefixes, reply) => {
                let states = prefixes
                    .iter()
                    .map(|p| {
                        if self.pending.contains_key(p) {
                            KernelState::Pending
                        } else if let Some((_, e)) = self.failed.get(p) {
                            KernelState::Failed(e.clone())
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
        self.write(pending);
        debug!(self.log, "fib batch applied"; "routes" => n, "failing" => self.failed.len());
        if !self.failed.is_empty() && self.last_retry.elapsed() >= RETRY_AFTER_CHANGE {
            // Something changed: routes that failed may go in now (a next hop became
            // reachable through a route just installed). At most once a second, so that
            // many unreachable routes do not turn every batch into a full retry.
            self.retry();
        }
    }

    fn retry(&mut self) {
        self.last_retry = Instant::now();
        let again: Vec<(Prefix, NextHops)> = self.failed.drain().map(|(p, (h, _))| (p, h)).collect();
        let n = again.len();
        self.write(again);
        if n > 0 {
            debug!(self.log, "retried routes the kernel refused"; "routes" => n, "still_failing" => self.failed.len());
        }
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
                    warn!(self.log, "kernel routing socket failed; will retry"; "error" => %e);
                    for (p, h) in chunk {
                        self.failed.insert(*p, (h.clone(), e.to_string()));
                    }
                    self.stats.errors += chunk.len() as u64;
                    continue;
                }
            };
            let mut failed_idx = failures.iter().map(|(i, _)| *i).peekable();
            for (i, (_, h)) in chunk.iter().enumerate() {
                if failed_idx.peek() == Some(&i) {
                    failed_idx.next();
                    continue;
                }
                match h {
                    NextHops::None => self.stats.removed += 1,
                    _ => self.stats.installed += 1,
                }
            }
            for (i, e) in failures {
                let (p, h) = &chunk[i];
                self.stats.errors += 1;
                if !self.failed.contains_key(p) {
                    warn!(self.log, "kernel refused a route; will retry"; "prefix" => %p, "next_hops" => ?h.as_slice(), "error" => %e);
                }
                self.failed.insert(*p, (h.clone(), e.to_string()));
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
