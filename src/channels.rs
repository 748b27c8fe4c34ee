//! Every message that crosses a thread boundary in tern, and the map of who sends what.
//!
//! ```text
//!             Router::shutdown / stop / reload
//!   caller ─────────────────────────────────────► runners, dispatchers, clock
//!    │
//!    ├─ clock (1) ── Tick(now), only to runners with a due deadline ──► session runner
//!    ├─ dispatcher (1 per listen address) ── RunnerMsg::Accepted ─────► runner of that peer
//!    ├─ session runner (1 per peer) ◄── RunnerMsg::Read ── reader (1 per live connection)
//!    │        ▲   ◄── RunnerMsg::Connected ── connector (short-lived, per outbound attempt)
//!    │        └── RunnerMsg::Control ◄── Router (start, stop, reset, shutdown)
//!    └─ status: each runner publishes an Arc<PeerStatus> snapshot for readers
//! ```
//!
//! Each peer's state is owned by its runner thread; everyone else sends it messages. The
//! clock does not wake idle runners: each runner publishes its next deadline in an atomic
//! and the clock sends a tick only to those that are due, so an idle router with a thousand
//! sessions wakes a handful of threads per tick instead of all of them.

use std::io;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::Sender;

use crate::connection::Connection;
use crate::fsm::{ConnId, Stop};
use crate::wire::{DecodeError, Decoded};

/// Into a session runner.
pub enum RunnerMsg {
    /// A connection the dispatcher accepted from this peer's address.
    Accepted(Box<dyn Connection>),
    /// The outcome of an outbound attempt started for the FSM's `Connect { conn }`.
    Connected {
        conn: ConnId,
        result: io::Result<Box<dyn Connection>>,
    },
    /// What a connection's reader produced.
    Read {
        conn: ConnId,
        event: ReadEvent,
    },
    Control(Control),
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
    /// Stop and end the runner thread.
    Exit(Stop),
}

/// From the clock to a runner: the time now.
#[derive(Debug, Clone, Copy)]
pub struct Tick(pub Instant);

/// Into the clock thread.
pub enum ClockMsg {
    /// Tick `tx` whenever `deadline` (milliseconds since the clock's epoch) has passed.
    Register {
        id: u64,
        deadline: Arc<AtomicU64>,
        tx: Sender<Tick>,
    },
    Unregister(u64),
    Exit,
}
