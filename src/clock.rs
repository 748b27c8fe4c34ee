//! The clock thread: one for the whole router, ticking at a fixed resolution.
//!
//! Runners register a [`Wakeup`] (deadline in milliseconds since [`Epoch`], a pending flag
//! and the tick's `now`) and their mailbox. On every tick the clock reads each deadline and
//! delivers the tick to the runners that are due: it writes `now` into their `Wakeup`, sets
//! the pending flag and unparks them, which they handle as `RunnerMsg::Tick(now)`; a runner
//! that has not consumed its previous tick is not sent another. No channel message is
//! involved, so a tick costs the runner one wake-up. The
//! FSM compares its timer deadlines with the `now` it is given, so lateness is at most one
//! resolution. Parked runners of idle sessions are not woken for their KEEPALIVEs, nor for
//! a hold timer the peer's KEEPALIVEs have pushed back: the clock sends and checks those
//! itself through their keepalive duty (`crate::keepalive`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{select, tick, Receiver};
use slog::{debug, Logger};

use crate::channels::{ClockMsg, Mailbox, Wakeup};
use crate::keepalive::Sent;

/// No deadline.
pub const NEVER: u64 = u64::MAX;

/// The reference point for deadlines stored as integers.
#[derive(Debug, Clone, Copy)]
pub struct Epoch(pub Instant);

impl Epoch {
    pub fn now() -> Epoch {
        Epoch(Instant::now())
    }

    /// `t` as milliseconds since the epoch, rounded down.
    pub fn millis(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.0).as_millis() as u64
    }

    /// `t` as microseconds since the epoch (a tick's `now`).
    pub fn micros(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.0).as_micros() as u64
    }

    /// The instant `micros` after the epoch.
    pub fn at_micros(&self, micros: u64) -> Instant {
        self.0 + Duration::from_micros(micros)
    }

    /// Publishes a deadline, rounded down so that it is never reported later than it is.
    pub fn store(&self, slot: &AtomicU64, deadline: Option<Instant>) {
        slot.store(deadline.map_or(NEVER, |t| self.millis(t)), Ordering::Relaxed);
    }
}

pub fn run(resolution: Duration, epoch: Epoch, rx: Receiver<ClockMsg>, log: Logger) {
    let ticker = tick(resolution);
    let mut runners: Vec<(u64, Arc<Wakeup>, Mailbox)> = Vec::new();
    debug!(log, "clock started"; "resolution_ms" => resolution.as_millis() as u64);
    loop {
        select! {
            recv(rx) -> msg => match msg {
                Ok(ClockMsg::Register { id, wakeup, tx }) => runners.push((id, wakeup, tx)),
                Ok(ClockMsg::Unregister(id)) => runners.retain(|(i, _, _)| *i != id),
                Ok(ClockMsg::Exit) | Err(_) => break,
            },
            recv(ticker) -> _ => {
                // The time of the tick as it is handled, not as it was scheduled: after a
                // stall, timers (and the KEEPALIVEs sent here) count from the real time.
                let now = Instant::now();
                let now_ms = epoch.millis(now);
                for (_, wakeup, tx) in &runners {
                    let deadline = wakeup.deadline.load(Ordering::Relaxed);
                    let mut due = deadline <= now_ms;
                    if due && wakeup.keepalive.postpone(&wakeup.deadline, deadline, now_ms) {
                        due = false;
                    }
                    if wakeup.keepalive.is_due(now_ms) {
                        due |= wakeup.keepalive.send_due(now_ms) == Sent::WakeRunner;
                    }
                    if due && !wakeup.pending.load(Ordering::Acquire) {
                        wakeup.tick_at.store(epoch.micros(now), Ordering::Relaxed);
                        wakeup.pending.store(true, Ordering::Release);
                        tx.wake();
                    }
                }
            }
        }
    }
    debug!(log, "clock stopped");
}
