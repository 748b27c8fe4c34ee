//! The messages that cross thread boundaries in the session engine, and the map of who
//! sends what across the whole router. The session engine's enums are here; the RIB's input
//! ([`crate::rib::RibMsg`]), the FIB thread's ([`crate::fib::FibMsg`]) and the admin
//! socket's ([`crate::control::server::Command`]) live beside the thread that owns them.
//!
//! ```text
//!   ternd main loop (owns Router and Config) ◄── Command ── admin server (1) ── a thread per
//!    │        ▲                                                                ternctl client
//!    │        └── Signal (SIGHUP reload, SIGTERM/SIGINT stop) ── signal thread (1)
//!    │   Router::add/remove_neighbor, set_rules, shutdown, ...
//!    ├─ clock (1) ── tick: now in the Wakeup + unpark, only to runners due ──► session runner
//!    │        └── idle KEEPALIVEs, written for parked runners (keepalive::Duty) ──► socket
//!    ├─ dispatcher (1 per listen address) ── RunnerMsg::Accepted ─────► runner of that peer
//!    ├─ session runner (1 per peer) ◄── RunnerMsg::Read ── reader (1 per live connection)
//!    │        ▲   ◄── RunnerMsg::Connected ── connector (short-lived, per outbound attempt)
//!    │        ├── RunnerMsg::Control ◄── Router (start, stop, reset, shutdown)
//!    │        ├── RibMsg::Updates (every UPDATE of one read) ──► rib (1)
//!    │        └── RunnerMsg::Export (encoded UPDATEs, one batch) ◄── rib
//!    ├─ rib ── FibMsg::Changes (selected next hops of the prefixes a batch touched) ──► fib (1)
//!    ├─ Router ── RibMsg::Query / FibMsg::Query, answered on a one-shot channel
//!    └─ status: each runner publishes an Arc<PeerStatus> snapshot for readers (KEEPALIVE
//!       counts are atomics, counted by readers, runners and the clock)
//! ```
//!
//! Each peer's state is owned by its runner thread; everyone else sends it messages, all on
//! the runner's one input channel. The clock does not wake idle runners: each runner
//! publishes its next deadline in a [`Wakeup`] and the clock sends a tick only to those that
//! are due and have no tick waiting. A parked runner of an Established session also hands
//! the clock its keepalive duty ([`crate::keepalive`]): the clock sends its KEEPALIVEs and
//! checks its hold timer against the reader's last KEEPALIVE, so an idle session costs one
//! reader wake-up and one 19-byte write per keepalive interval, and its runner sleeps.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{SendError, Sender};
use std::thread::Thread;

use crate::connection::Connection;
use crate::fsm::{ConnId, Stop};
use crate::wire::{DecodeError, Decoded};

/// The way into a session runner: its crossbeam channel and its thread.
///
/// Sending unparks the runner, which drains the channel with `try_recv` and parks when it
/// is empty. A blocking crossbeam `recv` spins and yields several times before it sleeps;
/// for two thousand mostly idle threads (a runner and a reader per peer) that spinning cost
/// more CPU than all their real work, so the runner parks directly instead (measured in
/// `benches/sessions.rs`).
#[derive(Debug, Clone)]
pub struct Mailbox {
    tx: Sender<RunnerMsg>,
    thread: Thread,
}

impl Mailbox {
    pub fn new(tx: Sender<RunnerMsg>, thread: Thread) -> Mailbox {
        Mailbox { tx, thread }
    }

    pub fn send(&self, msg: RunnerMsg) -> Result<(), SendError<RunnerMsg>> {
        let sent = self.tx.send(msg);
        self.thread.unpark();
        sent
    }

    /// Wakes the runner without a message (the clock's tick, published in its [`Wakeup`]).
    pub fn wake(&self) {
        self.thread.unpark();
    }
}

/// Into a session runner.
pub enum RunnerMsg {
    /// A connection the dispatcher accepted from this peer's address.
    Accepted(Box<dyn Connection>),
    /// The outcome of an outbound attempt started for the FSM's `Connect { conn }`.
    Connected {
        conn: ConnId,
        result: io::Result<Box<dyn Connection>>,
    },
    /// What a connection's reader produced from one read: every whole message in it.
    Read {
        conn: ConnId,
        events: Vec<ReadEvent>,
        /// Held while the batch's UPDATEs are on their way to and through the RIB.
        credit: Option<Credit>,
    },
    /// From the RIB: encoded UPDATEs for the Established connection, sent as they are.
    Export {
        bytes: Vec<u8>,
        updates: usize,
        prefixes: usize,
    },
    Control(Control),
    /// From the clock: the time now; a timer of this runner is due.
    Tick(Instant),
}

/// Flow control from the RIB back to a connection's reader: a reader may have only a few
/// batches of UPDATEs in flight; it waits for a [`Credit`] before sending another, so a peer
/// that sends faster than the RIB can take is slowed down by TCP instead of filling memory
/// with decoded routes. Only the reader waits: the runner passes credits on and never
/// blocks, so keepalives leave on time.
#[derive(Debug)]
pub struct Credits {
    /// Batches in flight, and whether the connection is closing (then nobody waits).
    in_flight: std::sync::Mutex<(usize, bool)>,
    returned: std::sync::Condvar,
    limit: usize,
}

impl Credits {
    pub fn new(limit: usize) -> Arc<Credits> {
        Arc::new(Credits {
            in_flight: std::sync::Mutex::new((0, false)),
            returned: std::sync::Condvar::new(),
            limit: limit.max(1),
        })
    }

    /// Waits until fewer than `limit` batches are in flight (or the connection is closing),
    /// then takes a credit.
    pub fn acquire(self: &Arc<Credits>) -> Credit {
        let mut n = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        while n.0 >= self.limit && !n.1 {
            n = self.returned.wait(n).unwrap_or_else(|e| e.into_inner());
        }
        n.0 += 1;
        Credit(self.clone())
    }

    /// The connection is closing: a reader waiting for a credit goes on at once, so that
    /// joining it cannot wait for batches queued behind the close (a deadlock otherwise).
    pub fn close(&self) {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).1 = true;
        self.returned.notify_all();
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).0
    }
}

/// One batch's credit; returned when dropped, wherever the batch ends.
#[derive(Debug)]
pub struct Credit(Arc<Credits>);

impl Drop for Credit {
    fn drop(&mut self) {
        let mut n = self.0.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        n.0 = n.0.saturating_sub(1);
        self.0.returned.notify_one();
    }
}

/// From a reader thread: one decoded message, the error that ended decoding, or EOF.
pub enum ReadEvent {
    Message(Box<Decoded>),
    Error(DecodeError),
    Closed(Option<io::Error>),
}

/// From the operator, through the router.
#[derive(Debug, Clone, PartialEq)]
pub enum Control {
    Start,
    Stop(Stop),
    /// Ask the peer to send its routes again (ROUTE-REFRESH, RFC 2918): soft reset in.
    SoftIn,
    /// Stop and end the runner thread.
    Exit(Stop),
}

/// What a runner shares with the clock: when it next needs a tick, whether one is already
/// on its way (so a busy runner never has ticks piling up), and the keepalive duty it hands
/// the clock while it is parked.
pub struct Wakeup {
    /// Milliseconds since the clock's epoch; `u64::MAX` for never.
    pub deadline: AtomicU64,
    /// A tick is waiting for the runner; `tick_at` is its `now` (microseconds since the
    /// clock's epoch). The clock delivers a tick by setting these and unparking the runner:
    /// no channel message, so a tick costs one wake-up and nothing else.
    pub pending: AtomicBool,
    pub tick_at: AtomicU64,
    pub keepalive: crate::keepalive::Duty,
}

impl Default for Wakeup {
    fn default() -> Wakeup {
        Wakeup {
            deadline: AtomicU64::new(u64::MAX),
            pending: AtomicBool::new(false),
            tick_at: AtomicU64::new(0),
            keepalive: crate::keepalive::Duty::default(),
        }
    }
}

/// Into the clock thread.
pub enum ClockMsg {
    /// Send `RunnerMsg::Tick` on `tx` whenever `wakeup`'s deadline has passed.
    Register {
        id: u64,
        wakeup: Arc<Wakeup>,
        tx: Mailbox,
    },
    Unregister(u64),
    Exit,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_reader_waits_for_a_returned_credit() {
        let credits = Credits::new(2);
        let first = credits.acquire();
        let _second = credits.acquire();
        assert_eq!(credits.in_flight(), 2);
        let (tx, rx) = crossbeam_channel::bounded(1);
        let c = credits.clone();
        let waiter = std::thread::spawn(move || {
            let third = c.acquire();
            tx.send(()).unwrap();
            drop(third);
        });
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err(), "a third credit while two are out");
        drop(first);
        assert!(rx.recv_timeout(Duration::from_secs(5)).is_ok(), "the returned credit lets it go");
        waiter.join().unwrap();
        assert_eq!(credits.in_flight(), 1);
    }

    #[test]
    fn closing_releases_a_waiting_reader() {
        let credits = Credits::new(1);
        let _held = credits.acquire();
        let c = credits.clone();
        let waiter = std::thread::spawn(move || drop(c.acquire()));
        credits.close();
        waiter.join().unwrap();
    }
}
