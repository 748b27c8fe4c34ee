//! Idle KEEPALIVEs, sent by the clock thread on behalf of parked runners.
//!
//! An idle Established session needs one thing every keepalive interval: 19 bytes to the
//! peer. Waking the session's runner for that costs a thread wake-up per KEEPALIVE, which
//! with a thousand idle peers is most of tern's idle CPU. So a runner that parks with
//! nothing queued for its peer grants the clock its keepalive [`Duty`]: the Established
//! connection's [`QuickWriter`], the keepalive deadline and the interval. At each tick the
//! clock sends the KEEPALIVEs that are due, with a write that never blocks, and moves their
//! deadlines on. (FRR's bgpd has a keepalive thread for the same reason.)
//!
//! The duty also covers the hold timer. The peer's KEEPALIVEs are counted by the reader
//! without waking the runner ([`Activity`]), so the runner's hold deadline goes stale while
//! it sleeps. When that deadline comes, the clock looks at the reader's last KEEPALIVE
//! first, and only wakes the runner if the hold time has really run out (or another timer
//! is due); otherwise it moves the runner's wake-up to the real expiry.
//!
//! The runner stays the owner of its connection and FSM:
//! - it revokes the duty as soon as it wakes, for whatever reason, under the same lock the
//!   clock writes under, so the clock never writes while the runner may;
//! - the revocation tells it how many KEEPALIVEs went out and when the last one did; its
//!   FSM then restarts the keepalive timer from that moment and its counters include them;
//! - a KEEPALIVE the socket cannot take at once (a full send buffer), or takes only part
//!   of, is handed back: the duty ends and the runner is woken to send it, or the rest of
//!   it, itself.
//!
//! Deadlines are milliseconds since the clock's [`crate::clock::Epoch`].

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use slog::{debug, trace, Logger};

use std::sync::Arc;

use crate::clock::NEVER;
use crate::connection::QuickWriter;
use crate::fsm::ConnId;
use crate::session::reader::Activity;

/// A whole KEEPALIVE message (RFC 4271 §4.4): the marker, length 19 and type 4.
pub const KEEPALIVE: [u8; 19] = {
    let mut m = [0xff; 19];
    m[16] = 0;
    m[17] = 19;
    m[18] = 4;
    m
};

/// A runner's keepalive duty, shared with the clock.
pub struct Duty {
    /// The granted keepalive deadline; [`NEVER`] while the runner holds the duty. Written
    /// only under the lock, read by the clock's scan without it.
    due_ms: AtomicU64,
    inner: Mutex<Inner>,
}

/// What a connection gives the clock: its writer, its logger and its reader's activity.
pub struct Handles {
    pub writer: Box<dyn QuickWriter>,
    pub log: Logger,
    pub activity: Arc<Activity>,
}

/// The timers a runner grants, in milliseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub conn: ConnId,
    pub keepalive_ms: u64,
    pub interval_ms: u64,
    /// The FSM's hold deadline and the hold time.
    pub hold: Option<(u64, u64)>,
    /// The runner's earliest other deadline ([`NEVER`] if none).
    pub other_ms: u64,
}

#[derive(Default)]
struct Inner {
    /// The connection the handles belong to.
    conn: ConnId,
    handles: Option<Handles>,
    interval_ms: u64,
    /// While granted: the hold deadline and time, and the runner's other deadlines.
    hold: Option<(u64, u64)>,
    other_ms: u64,
    /// KEEPALIVEs sent since the last revocation, and when the last one left.
    sent: u64,
    last_sent_ms: u64,
    /// What the socket did not take of a KEEPALIVE: the runner writes it before anything.
    leftover: Vec<u8>,
}

/// What the clock did while it held the duty.
#[derive(Debug, PartialEq, Eq)]
pub struct Reclaimed {
    pub conn: ConnId,
    pub sent: u64,
    pub last_sent_ms: u64,
    pub leftover: Vec<u8>,
}

/// The outcome of [`Duty::send_due`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Nothing was due (or the runner is busy with the duty right now).
    Nothing,
    /// A KEEPALIVE went out.
    Keepalive,
    /// The duty was handed back: wake the runner.
    WakeRunner,
}

impl Default for Duty {
    fn default() -> Duty {
        Duty { due_ms: AtomicU64::new(NEVER), inner: Mutex::default() }
    }
}

impl Duty {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runner: takes the duty back, so the clock no longer writes, and returns what the
    /// clock sent since it was granted (`None` if nothing).
    pub fn revoke(&self) -> Option<Reclaimed> {
        let mut inner = self.lock();
        inner.hold = None;
        self.due_ms.store(NEVER, Ordering::Relaxed);
        if inner.handles.is_none() || (inner.sent == 0 && inner.leftover.is_empty()) {
            return None;
        }
        let sent = std::mem::take(&mut inner.sent);
        let leftover = std::mem::take(&mut inner.leftover);
        Some(Reclaimed { conn: inner.conn, sent, last_sent_ms: inner.last_sent_ms, leftover })
    }

    /// Runner: hands the clock the idle timers of connection `grant.conn`. `handles` is
    /// called only when the duty has none for this connection yet. Returns false (the
    /// runner keeps its timers) if they could not be made.
    pub fn grant(&self, grant: Grant, handles: impl FnOnce() -> io::Result<Handles>) -> bool {
        let mut inner = self.lock();
        if inner.handles.is_none() || inner.conn != grant.conn {
            match handles() {
                Ok(h) => {
                    *inner = Inner { conn: grant.conn, handles: Some(h), ..Inner::default() };
                }
                Err(_) => {
                    *inner = Inner::default();
                    self.due_ms.store(NEVER, Ordering::Relaxed);
                    return false;
                }
            }
        }
        inner.interval_ms = grant.interval_ms.max(1);
        inner.hold = grant.hold;
        inner.other_ms = grant.other_ms;
        self.due_ms.store(grant.keepalive_ms, Ordering::Relaxed);
        true
    }

    /// Clock: the runner's wake-up `deadline` (read from `wakeup`) is due at `now_ms`. If
    /// it is the hold timer and the peer's KEEPALIVEs have pushed the real expiry past
    /// `now_ms`, and nothing else is due, moves the wake-up to the runner's real next
    /// deadline and returns true: no need to wake it. Never blocks. The move happens under
    /// the duty's lock, which the runner takes before it publishes a new deadline, so it
    /// cannot overwrite a newer one.
    pub fn postpone(&self, wakeup: &AtomicU64, deadline: u64, now_ms: u64) -> bool {
        let Ok(mut guard) = self.inner.try_lock() else { return false };
        let inner = &mut *guard;
        let (Some((hold_due, hold_ms)), Some(handles)) = (inner.hold, &inner.handles) else { return false };
        if hold_due != deadline || inner.other_ms <= now_ms {
            return false;
        }
        let expiry = handles.activity.last_ms.load(Ordering::Relaxed).saturating_add(hold_ms);
        if expiry <= now_ms {
            return false;
        }
        let later = expiry.min(inner.other_ms);
        if wakeup.compare_exchange(deadline, later, Ordering::Relaxed, Ordering::Relaxed).is_err() {
            return false;
        }
        inner.hold = Some((expiry, hold_ms));
        true
    }

    /// Runner: the connection is gone or no longer Established; drops the writer.
    pub fn clear(&self) {
        let mut inner = self.lock();
        if inner.handles.is_none() {
            return;
        }
        *inner = Inner::default();
        self.due_ms.store(NEVER, Ordering::Relaxed);
    }

    /// Clock: whether a KEEPALIVE is due at `now_ms` (no lock taken).
    pub fn is_due(&self, now_ms: u64) -> bool {
        self.due_ms.load(Ordering::Relaxed) <= now_ms
    }

    /// Clock: sends the KEEPALIVE if it is due at `now_ms`. Never blocks: a runner holding
    /// the lock is awake and keeps its own timer. Logs after letting go of the lock.
    pub fn send_due(&self, now_ms: u64) -> Sent {
        let Ok(mut guard) = self.inner.try_lock() else { return Sent::Nothing };
        let inner = &mut *guard;
        if self.due_ms.load(Ordering::Relaxed) > now_ms {
            return Sent::Nothing;
        }
        self.due_ms.store(NEVER, Ordering::Relaxed);
        let Some(Handles { writer, log, activity }) = &inner.handles else { return Sent::WakeRunner };
        let (conn, log) = (inner.conn, log.clone());
        let written = writer.try_write(&KEEPALIVE);
        if matches!(written, Ok(n) if n > 0) {
            activity.counters.keepalives_sent.fetch_add(1, Ordering::Relaxed);
            inner.sent += 1;
            inner.last_sent_ms = now_ms;
        }
        let outcome = match written {
            Ok(n) if n == KEEPALIVE.len() => {
                self.due_ms.store(now_ms + inner.interval_ms, Ordering::Relaxed);
                Sent::Keepalive
            }
            Ok(n) if n > 0 => {
                inner.leftover = KEEPALIVE[n..].to_vec();
                Sent::WakeRunner
            }
            _ => Sent::WakeRunner,
        };
        drop(guard);
        match written {
            Ok(n) if n == KEEPALIVE.len() => {
                trace!(log, "send keepalive message (by the clock thread)"; "message" => "keepalive", "connection_id" => conn)
            }
            Ok(0) => {
                debug!(log, "the socket cannot take a keepalive now: the runner sends it"; "connection_id" => conn)
            }
            Ok(n) => {
                debug!(log, "the socket took part of a keepalive: the runner sends the rest"; "connection_id" => conn, "octets" => n)
            }
            Err(e) => {
                debug!(log, "keepalive write failed: the runner takes over"; "connection_id" => conn, "error" => %e)
            }
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex as StdMutex};

    /// A writer that takes at most `room` bytes per write and records them.
    #[derive(Clone, Default)]
    struct Fake {
        wire: Arc<StdMutex<Vec<u8>>>,
        room: Arc<StdMutex<Option<usize>>>,
        broken: Arc<StdMutex<bool>>,
    }

    impl QuickWriter for Fake {
        fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
            if *self.broken.lock().unwrap() {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            let n = self.room.lock().unwrap().map_or(buf.len(), |r| r.min(buf.len()));
            self.wire.lock().unwrap().extend_from_slice(&buf[..n]);
            Ok(n)
        }
    }

    fn handles(fake: &Fake) -> io::Result<Handles> {
        Ok(Handles { writer: Box::new(fake.clone()), log: crate::log::discard(), activity: Arc::default() })
    }

    fn grant(conn: ConnId, due: u64) -> Grant {
        Grant { conn, keepalive_ms: due, interval_ms: 3000, hold: None, other_ms: NEVER }
    }

    fn granted(fake: &Fake, due: u64) -> Duty {
        let duty = Duty::default();
        assert!(duty.grant(grant(7, due), || handles(fake)));
        duty
    }

    #[test]
    fn keepalive_bytes_are_a_valid_message() {
        let mut out = Vec::new();
        crate::wire::Message::Keepalive.encode(&crate::wire::Ctx::pre_open(), &mut out).unwrap();
        assert_eq!(out, KEEPALIVE);
    }

    #[test]
    fn sends_when_due_then_every_interval_and_reports_on_revoke() {
        let fake = Fake::default();
        let duty = granted(&fake, 1000);
        assert!(!duty.is_due(999));
        assert_eq!(duty.send_due(999), Sent::Nothing);
        assert!(duty.is_due(1000));
        assert_eq!(duty.send_due(1000), Sent::Keepalive);
        assert_eq!(duty.send_due(1100), Sent::Nothing, "next one is an interval later");
        assert_eq!(duty.send_due(4000), Sent::Keepalive);
        assert_eq!(fake.wire.lock().unwrap().len(), 38);
        let r = duty.revoke().expect("two were sent");
        assert_eq!(r, Reclaimed { conn: 7, sent: 2, last_sent_ms: 4000, leftover: Vec::new() });
        assert_eq!(duty.send_due(100_000), Sent::Nothing, "revoked: the clock no longer sends");
        assert_eq!(duty.revoke(), None, "nothing new");
    }

    #[test]
    fn a_full_socket_hands_the_keepalive_back() {
        let fake = Fake::default();
        *fake.room.lock().unwrap() = Some(0);
        let duty = granted(&fake, 10);
        assert_eq!(duty.send_due(10), Sent::WakeRunner);
        assert!(!duty.is_due(1_000_000), "handed back: not retried by the clock");
        assert_eq!(duty.revoke(), None, "nothing went out");
        assert!(fake.wire.lock().unwrap().is_empty());
    }

    #[test]
    fn a_partial_write_leaves_the_rest_to_the_runner() {
        let fake = Fake::default();
        *fake.room.lock().unwrap() = Some(5);
        let duty = granted(&fake, 10);
        assert_eq!(duty.send_due(10), Sent::WakeRunner);
        let r = duty.revoke().expect("a keepalive is under way");
        assert_eq!(r.sent, 1);
        let mut wire = fake.wire.lock().unwrap().clone();
        wire.extend_from_slice(&r.leftover);
        assert_eq!(wire, KEEPALIVE, "what the clock wrote and what the runner must write make one message");
    }

    #[test]
    fn a_broken_connection_wakes_the_runner() {
        let fake = Fake::default();
        *fake.broken.lock().unwrap() = true;
        let duty = granted(&fake, 10);
        assert_eq!(duty.send_due(10), Sent::WakeRunner);
        assert!(!duty.is_due(u64::MAX - 1));
    }

    #[test]
    fn a_new_connection_gets_a_new_writer_and_clear_drops_it() {
        let (a, b) = (Fake::default(), Fake::default());
        let duty = granted(&a, 10);
        assert_eq!(duty.send_due(10), Sent::Keepalive);
        assert!(duty.grant(grant(8, 20), || handles(&b)));
        assert_eq!(duty.send_due(20), Sent::Keepalive);
        assert_eq!(a.wire.lock().unwrap().len(), 19);
        assert_eq!(b.wire.lock().unwrap().len(), 19);
        assert_eq!(duty.revoke().map(|r| (r.conn, r.sent)), Some((8, 1)), "counts restart with the connection");
        assert!(!duty.grant(grant(9, 30), || Err(io::ErrorKind::Other.into())));
        duty.clear();
        assert_eq!(duty.send_due(u64::MAX - 1), Sent::Nothing);
    }

    #[test]
    fn the_hold_timer_waits_for_the_readers_last_keepalive() {
        let fake = Fake::default();
        let activity = Arc::new(Activity::default());
        let duty = Duty::default();
        let a = activity.clone();
        let h = move || Ok(Handles { writer: Box::new(fake.clone()), log: crate::log::discard(), activity: a });
        let g = Grant { conn: 1, keepalive_ms: 3000, interval_ms: 3000, hold: Some((9000, 9000)), other_ms: 20_000 };
        assert!(duty.grant(g, h));
        let wakeup = AtomicU64::new(9000);
        let postpone = |at: u64, now: u64| {
            wakeup.store(at, Ordering::Relaxed);
            duty.postpone(&wakeup, at, now).then(|| wakeup.load(Ordering::Relaxed))
        };
        // No KEEPALIVE from the peer since the runner looked: the hold time is up.
        assert_eq!(postpone(9000, 9000), None);
        // One came at 7 s: the real expiry is 16 s.
        activity.last_ms.store(7000, Ordering::Relaxed);
        assert_eq!(postpone(9000, 9000), Some(16_000));
        assert_eq!(postpone(9000, 9100), None, "the deadline is no longer the hold timer");
        assert_eq!(postpone(16_000, 16_000), None, "then it runs out");
        // Another of the runner's timers comes first.
        activity.last_ms.store(15_000, Ordering::Relaxed);
        assert_eq!(postpone(16_000, 16_000), Some(20_000));
        assert_eq!(postpone(24_000, 21_000), None);
        // The runner published a new deadline meanwhile: it stays.
        activity.last_ms.store(30_000, Ordering::Relaxed);
        wakeup.store(25_000, Ordering::Relaxed);
        assert!(!duty.postpone(&wakeup, 24_000, 24_000));
        assert_eq!(wakeup.load(Ordering::Relaxed), 25_000);
        // Revoked: the runner is awake and decides.
        duty.revoke();
        assert_eq!(postpone(39_000, 39_000), None);
    }
}
