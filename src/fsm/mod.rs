//! The BGP finite state machine of one peer (RFC 4271 §8), pure.
//!
//! [`Fsm::handle`] takes the time and one [`Input`] and appends [`Action`]s for the session
//! runner to carry out: connect, send, close, hand routes on, report a transition. There
//! are no sockets, threads or clocks in here; timers are deadlines compared with the `now`
//! of each call, and tests drive the machine with a manual clock.
//!
//! A peer may have two TCP connections at once while a collision is being resolved
//! (RFC 4271 §6.8): one it accepted and one it initiated. Each [`Conn`] carries its own
//! progress (DelayOpen wait, OpenSent, OpenConfirm, Established) and timers (hold,
//! keepalive, delay-open); the session's [`State`] is derived from them in one place,
//! [`Fsm::sync_state`], which reports every change with its [`Cause`]. Session-wide timers
//! are connect-retry and idle-hold.
//!
//! Optional RFC 4271 behaviours supported: passive TCP establishment, DelayOpen, idle-hold
//! with jitter and back-off while the peer keeps failing (DampPeerOscillations),
//! connect-retry jitter, and collision detection against an Established session by
//! identifier (`deterministic_collision_resolution`). Unexpected messages get the RFC 6608
//! FSM Error subcode of the state they arrive in.

pub mod config;
pub mod negotiate;

use std::time::{Duration, Instant};

pub use config::SessionConfig;
pub use negotiate::{local_open, negotiate, Negotiated};

use crate::wire::notification::*;
use crate::wire::{DecodeError, Message, Notification, RouteRefresh, Update};

/// Identifies one TCP connection of a peer for its whole life.
pub type ConnId = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The peer connected to us.
    Inbound,
    /// We connected to the peer.
    Outbound,
}

impl Direction {
    pub fn name(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// The session states of RFC 4271 §8.2.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    Idle,
    Connect,
    Active,
    OpenSent,
    OpenConfirm,
    Established,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Connect => "connect",
            State::Active => "active",
            State::OpenSent => "open sent",
            State::OpenConfirm => "open confirm",
            State::Established => "established",
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How a session is stopped from outside the protocol: the Cease NOTIFICATION to send
/// (RFC 4486, with an RFC 9003 message where it has one) and whether, and how soon, the
/// session starts again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    pub notification: Notification,
    /// `None`: stay down. `Some(d)`: start again after `d` (and at least the idle-hold time).
    pub restart: Option<Duration>,
}

impl Stop {
    /// Administrative Shutdown: the session stays down.
    pub fn shutdown(message: Option<String>) -> Stop {
        Stop { notification: Notification::cease(CEASE_ADMIN_SHUTDOWN, message.as_deref()), restart: None }
    }

    /// Administrative Reset: the session comes back after the idle-hold time.
    pub fn reset(message: Option<String>) -> Stop {
        Stop { notification: Notification::cease(CEASE_ADMIN_RESET, message.as_deref()), restart: Some(Duration::ZERO) }
    }

    /// Peer De-configured: the neighbor was removed from the configuration.
    pub fn deconfigured() -> Stop {
        Stop { notification: Notification::cease(CEASE_PEER_DECONFIGURED, None), restart: None }
    }

    /// Maximum Number of Prefixes Reached, with the RFC 4486 data; the session stays down
    /// unless `restart` says when to try again.
    pub fn max_prefixes(family: crate::wire::Family, limit: u32, restart: Option<Duration>) -> Stop {
        Stop { notification: Notification::max_prefixes(family, limit), restart }
    }

    pub fn subcode(&self) -> u8 {
        self.notification.subcode
    }
}

/// The events of RFC 4271 §8.1 that tern uses, as inputs.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Event 1 (or 4/5 with passive establishment): the operator starts the session.
    ManualStart,
    /// Event 2: the operator stops (or resets) the session.
    ManualStop(Stop),
    /// Time passes: timers whose deadline is due fire (events 9-13).
    Tick,
    /// Events 16/17: a TCP connection is up, initiated by us or accepted from the peer.
    TcpConnected { conn: ConnId, direction: Direction },
    /// Event 18: an outbound attempt failed, or a live connection closed.
    TcpFailed { conn: ConnId },
    /// Events 19-28: a message arrived on a connection.
    Message { conn: ConnId, message: Message },
    /// Events 21, 22, 25: a message could not be decoded; the error is the NOTIFICATION.
    DecodeError { conn: ConnId, error: DecodeError },
    /// A KEEPALIVE went out on `conn` at `now` without the FSM asking (the clock sends them
    /// for a parked runner): the keepalive timer restarts from then (RFC 4271 §4.4).
    KeepaliveSent { conn: ConnId },
}

/// Why the session changed state, for the log line and `ternctl`.
#[derive(Debug, Clone, PartialEq)]
pub enum Cause {
    ManualStart,
    ManualStop(u8),
    IdleHoldExpired,
    ConnectRetryExpired,
    TcpConnected(Direction),
    ConnectFailed,
    TcpClosed,
    DelayOpenExpired,
    OpenReceived,
    KeepaliveReceived,
    HoldTimerExpired,
    NotificationReceived(Notification),
    OpenRejected(Notification),
    DecodeError(Notification),
    FsmError(Notification),
    CollisionLost,
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cause::ManualStart => write!(f, "manual start"),
            Cause::ManualStop(sub) => write!(f, "manual stop ({})", describe(CEASE, *sub)),
            Cause::IdleHoldExpired => write!(f, "idle hold timer expired, automatic start"),
            Cause::ConnectRetryExpired => write!(f, "connect retry timer expired"),
            Cause::TcpConnected(d) => write!(f, "tcp connection up ({})", d.name()),
            Cause::ConnectFailed => write!(f, "tcp connection attempt failed"),
            Cause::TcpClosed => write!(f, "tcp connection closed"),
            Cause::DelayOpenExpired => write!(f, "delay open timer expired"),
            Cause::OpenReceived => write!(f, "open received"),
            Cause::KeepaliveReceived => write!(f, "keepalive received"),
            Cause::HoldTimerExpired => write!(f, "hold timer expired"),
            Cause::NotificationReceived(n) => write!(f, "notification received: {n}"),
            Cause::OpenRejected(n) => write!(f, "open rejected: {n}"),
            Cause::DecodeError(n) => write!(f, "malformed message: {n}"),
            Cause::FsmError(n) => write!(f, "unexpected message: {n}"),
            Cause::CollisionLost => write!(f, "connection collision resolved against this connection"),
        }
    }
}

/// Something worth a log line that is not a state change.
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    /// A collision was resolved: `kept` survives, `closed` got Cease / Connection Collision
    /// Resolution. `reason` says why, naming the winner correctly.
    Collision { kept: ConnId, kept_direction: Direction, closed: ConnId, reason: String },
    /// An event that this state does not act on.
    Ignored { event: &'static str, state: State },
    /// A message for a connection the FSM no longer tracks (for example the loser of a
    /// collision, whose NOTIFICATION crosses ours).
    UnknownConnection { conn: ConnId, event: &'static str },
    /// A connection refused: the session is stopped, or one of that direction exists.
    Rejected { conn: ConnId, direction: Direction, reason: &'static str },
}

/// What the runner must do, in order.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Start an outbound connection attempt with this id.
    Connect {
        conn: ConnId,
    },
    Send {
        conn: ConnId,
        message: Message,
    },
    /// Close the connection (after sending whatever was queued before this action).
    Close {
        conn: ConnId,
    },
    Transition {
        from: State,
        to: State,
        cause: Cause,
    },
    /// The session reached Established on `conn` with these parameters.
    Established {
        conn: ConnId,
        negotiated: Box<Negotiated>,
    },
    /// The session left Established: everything learned from the peer is gone.
    Down {
        cause: Cause,
    },
    /// An UPDATE arrived in Established.
    Update(Update),
    /// A ROUTE-REFRESH arrived in Established.
    RouteRefresh(RouteRefresh),
    Note(Note),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    /// TCP is up and the DelayOpen timer runs; no OPEN sent yet.
    DelayOpen,
    OpenSent,
    OpenConfirm,
    Established,
}

/// See [`Fsm::idle_timers`]: deadlines with their intervals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdleTimers {
    pub conn: ConnId,
    pub keepalive: (Instant, Duration),
    pub hold: Option<(Instant, Duration)>,
}

/// One TCP connection of the peer and its timers.
#[derive(Debug, Clone)]
struct Conn {
    id: ConnId,
    direction: Direction,
    progress: Progress,
    delay_open: Option<Instant>,
    hold: Option<Instant>,
    hold_time: Option<Duration>,
    keepalive: Option<Instant>,
    keepalive_interval: Option<Duration>,
    negotiated: Option<Negotiated>,
}

/// The state machine of one peer.
#[derive(Debug)]
pub struct Fsm {
    cfg: SessionConfig,
    state: State,
    started: bool,
    conns: Vec<Conn>,
    pending_connect: Option<ConnId>,
    next_id: ConnId,
    connect_retry: Option<Instant>,
    idle_hold: Option<Instant>,
    /// Consecutive failures, for the idle-hold back-off.
    failures: u32,
    /// After a stop with an explicit restart delay (max-prefix, operator): until then the
    /// session stays down, and refuses the peer's connections too.
    held_until: Option<Instant>,
    /// While stopped by the operator (Administrative Shutdown), the NOTIFICATION that said
    /// so: the peer's connections are refused with it, so the peer keeps seeing why
    /// (RFC 9003 message included) rather than a bare Connection Rejected.
    down_because: Option<Notification>,
    established_at: Option<Instant>,
    rng: u64,
}

impl Fsm {
    /// A stopped machine; `seed` drives the timer jitter (any value; tests fix it).
    pub fn new(cfg: SessionConfig, seed: u64) -> Fsm {
        Fsm {
            cfg,
            state: State::Idle,
            started: false,
            conns: Vec::with_capacity(2),
            pending_connect: None,
            next_id: 1,
            connect_retry: None,
            idle_hold: None,
            failures: 0,
            held_until: None,
            down_because: None,
            established_at: None,
            rng: seed | 1,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn config(&self) -> &SessionConfig {
        &self.cfg
    }

    /// Replaces settings that do not need a reset (see [`SessionConfig::needs_reset`]).
    pub fn update_config(&mut self, cfg: SessionConfig) {
        debug_assert!(!self.cfg.needs_reset(&cfg), "update_config with a change that needs a reset");
        self.cfg = cfg;
    }

    /// The parameters of the Established session, if there is one.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.conns.iter().find(|c| c.progress == Progress::Established).and_then(|c| c.negotiated.as_ref())
    }

    /// The negotiated parameters of a connection that has received the peer's OPEN.
    pub fn conn_negotiated(&self, conn: ConnId) -> Option<&Negotiated> {
        self.conns.iter().find(|c| c.id == conn).and_then(|c| c.negotiated.as_ref())
    }

    /// The connection the session is Established on.
    pub fn established_conn(&self) -> Option<ConnId> {
        self.conns.iter().find(|c| c.progress == Progress::Established).map(|c| c.id)
    }

    pub fn established_since(&self) -> Option<Instant> {
        self.established_at
    }

    /// A fresh connection id; the runner takes one for each accepted connection.
    pub fn next_conn_id(&mut self) -> ConnId {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// The earliest deadline of any timer, so that a runner can sleep until then.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.earliest(false)
    }

    /// The Established connection's keepalive and hold timers, which the runner lets the
    /// clock watch while it sleeps (see `crate::keepalive`).
    pub fn idle_timers(&self) -> Option<IdleTimers> {
        let c = self.conns.iter().find(|c| c.progress == Progress::Established)?;
        Some(IdleTimers { conn: c.id, keepalive: (c.keepalive?, c.keepalive_interval?), hold: c.hold.zip(c.hold_time) })
    }

    /// Like [`Fsm::next_deadline`], leaving out the timers of [`Fsm::idle_timers`].
    pub fn next_deadline_except_idle(&self) -> Option<Instant> {
        self.earliest(true)
    }

    fn earliest(&self, except_idle: bool) -> Option<Instant> {
        let conn_timers = self.conns.iter().flat_map(|c| {
            let idle = except_idle && c.progress == Progress::Established && c.keepalive.is_some();
            [c.delay_open, c.hold.filter(|_| !idle), c.keepalive.filter(|_| !idle)]
        });
        [self.connect_retry, self.idle_hold].into_iter().chain(conn_timers).flatten().min()
    }

    /// Feeds one input; actions are appended to `out`.
    pub fn handle(&mut self, now: Instant, input: Input, out: &mut Vec<Action>) {
        match input {
            Input::ManualStart => self.manual_start(now, out),
            Input::ManualStop(stop) => self.manual_stop(now, stop, out),
            Input::Tick => self.tick(now, out),
            Input::TcpConnected { conn, direction } => self.tcp_connected(now, conn, direction, out),
            Input::TcpFailed { conn } => self.tcp_failed(now, conn, out),
            Input::Message { conn, message } => self.message(now, conn, message, out),
            Input::DecodeError { conn, error } => {
                let n = error.notification();
                self.drop_with_notification(now, conn, n.clone(), Cause::DecodeError(n), out);
            }
            Input::KeepaliveSent { conn } => {
                if let Some(c) = self.conns.iter_mut().find(|c| c.id == conn && c.keepalive.is_some()) {
                    c.keepalive = c.keepalive_interval.map(|k| now + k);
                }
            }
        }
    }

    fn manual_start(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.started {
            out.push(Action::Note(Note::Ignored { event: "manual start", state: self.state }));
            return;
        }
        self.started = true;
        self.failures = 0;
        self.idle_hold = None;
        self.held_until = None;
        self.down_because = None;
        self.start(now, out);
        self.sync_state(Cause::ManualStart, out);
    }

    /// Leaves Idle: connect, or wait for the peer when passive.
    fn start(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.cfg.passive {
            self.connect_retry = None;
        } else {
            self.initiate_connect(now, out);
        }
    }

    fn initiate_connect(&mut self, now: Instant, out: &mut Vec<Action>) {
        let conn = self.next_conn_id();
        self.pending_connect = Some(conn);
        out.push(Action::Connect { conn });
        let wait = self.jittered(self.cfg.connect_retry, self.cfg.connect_retry_jitter);
        self.connect_retry = Some(now + wait);
    }

    fn manual_stop(&mut self, now: Instant, stop: Stop, out: &mut Vec<Action>) {
        let subcode = stop.subcode();
        for conn in std::mem::take(&mut self.conns) {
            if conn.progress != Progress::DelayOpen {
                out.push(Action::Send { conn: conn.id, message: Message::Notification(stop.notification.clone()) });
            }
            out.push(Action::Close { conn: conn.id });
            if conn.progress == Progress::Established {
                out.push(Action::Down { cause: Cause::ManualStop(subcode) });
            }
        }
        self.pending_connect = None;
        self.connect_retry = None;
        self.established_at = None;
        self.started = stop.restart.is_some();
        self.idle_hold = match stop.restart {
            Some(after) => Some(now + after.max(self.jittered(self.cfg.idle_hold, self.cfg.idle_hold_jitter))),
            None => None,
        };
        self.held_until = stop.restart.filter(|d| !d.is_zero()).map(|d| now + d);
        self.down_because =
            (stop.restart.is_none() && subcode == CEASE_ADMIN_SHUTDOWN).then(|| stop.notification.clone());
        self.sync_state(Cause::ManualStop(subcode), out);
    }

    fn tick(&mut self, now: Instant, out: &mut Vec<Action>) {
        let due = |t: Option<Instant>| t.is_some_and(|t| t <= now);
        if due(self.idle_hold) {
            self.idle_hold = None;
            if self.started && self.conns.is_empty() {
                self.start(now, out);
                self.sync_state(Cause::IdleHoldExpired, out);
            }
        }
        if due(self.connect_retry) {
            self.connect_retry = None;
            // Connect: the attempt took too long, so it is abandoned (a late success is
            // closed). Active: try again. Either way a new attempt starts (RFC 4271 §8.2.2).
            // The timer only runs while no connection is up.
            if self.started && !self.cfg.passive && self.conns.is_empty() {
                self.initiate_connect(now, out);
                self.sync_state(Cause::ConnectRetryExpired, out);
            }
        }
        let mut i = 0;
        while i < self.conns.len() {
            let c = &mut self.conns[i];
            let id = c.id;
            if due(c.hold) {
                let n = Notification::new(HOLD_TIMER_EXPIRED, UNSPECIFIC, Vec::new());
                self.drop_with_notification(now, id, n, Cause::HoldTimerExpired, out);
                continue;
            }
            if due(c.delay_open) {
                c.delay_open = None;
                c.progress = Progress::OpenSent;
                c.hold = Some(now + config::LARGE_HOLD);
                out.push(Action::Send { conn: id, message: Message::Open(local_open(&self.cfg)) });
                self.connect_retry = None;
                self.sync_state(Cause::DelayOpenExpired, out);
            }
            let c = &mut self.conns[i];
            if due(c.keepalive) {
                out.push(Action::Send { conn: id, message: Message::Keepalive });
                c.keepalive = c.keepalive_interval.map(|k| now + k);
            }
            i += 1;
        }
        if self.established_at.is_some_and(|t| now.duration_since(t) >= config::STABLE_AFTER) {
            self.failures = 0;
        }
    }

    fn tcp_connected(&mut self, now: Instant, conn: ConnId, direction: Direction, out: &mut Vec<Action>) {
        if direction == Direction::Outbound {
            if self.pending_connect != Some(conn) {
                // An attempt abandoned after a timeout or a stop: not ours any more.
                out.push(Action::Close { conn });
                return;
            }
            self.pending_connect = None;
        }
        // A started session waiting out its idle-hold time accepts the peer's connection:
        // the peer is evidently ready, and refusing it can lock both sides into alternating
        // refusals when their idle-hold timers are out of phase (each refusal counting as
        // one more failure). Damping still spaces out our own attempts.
        let reject = if !self.started {
            Some("session is not started")
        } else if self.held_until.is_some_and(|t| now < t) {
            Some("session is held down until its restart delay has passed")
        } else if self.conns.iter().any(|c| c.direction == direction) {
            Some("a connection in this direction exists")
        } else {
            None
        };
        if let Some(reason) = reject {
            let n = match (&self.down_because, self.started) {
                (Some(n), false) => n.clone(),
                _ => Notification::cease(CEASE_CONNECTION_REJECTED, None),
            };
            out.push(Action::Send { conn, message: Message::Notification(n) });
            out.push(Action::Close { conn });
            out.push(Action::Note(Note::Rejected { conn, direction, reason }));
            return;
        }
        // RFC 4271 §6.8: unless configured otherwise, a new connection loses against an
        // Established session straight away.
        if let Some(est) = self.established_conn().filter(|_| !self.cfg.deterministic_collision_resolution) {
            let est_dir = self.conns.iter().find(|c| c.id == est).map_or(direction, |c| c.direction);
            out.push(Action::Send {
                conn,
                message: Message::Notification(Notification::cease(CEASE_CONNECTION_COLLISION, None)),
            });
            out.push(Action::Close { conn });
            out.push(Action::Note(Note::Collision {
                kept: est,
                kept_direction: est_dir,
                closed: conn,
                reason: "the existing session is established".into(),
            }));
            return;
        }
        self.idle_hold = None;
        let mut c = Conn {
            id: conn,
            direction,
            progress: Progress::OpenSent,
            delay_open: None,
            hold: None,
            hold_time: None,
            keepalive: None,
            keepalive_interval: None,
            negotiated: None,
        };
        // RFC 4271 §8.2.2: a connection is up, so ConnectRetryTimer stops, with or without
        // DelayOpen. (An attempt already under way may still complete: that is how both
        // sides' connections meet in a collision.)
        self.connect_retry = None;
        match self.cfg.delay_open {
            Some(wait) => {
                c.progress = Progress::DelayOpen;
                c.delay_open = Some(now + wait);
            }
            None => {
                out.push(Action::Send { conn, message: Message::Open(local_open(&self.cfg)) });
                c.hold = Some(now + config::LARGE_HOLD);
            }
        }
        self.conns.push(c);
        self.sync_state(Cause::TcpConnected(direction), out);
    }

    fn tcp_failed(&mut self, now: Instant, conn: ConnId, out: &mut Vec<Action>) {
        if self.pending_connect == Some(conn) {
            self.pending_connect = None;
            self.sync_state(Cause::ConnectFailed, out);
            return;
        }
        if let Some(c) = self.remove(conn) {
            out.push(Action::Close { conn });
            self.lost(now, c, Cause::TcpClosed, out);
        }
    }

    fn message(&mut self, now: Instant, conn: ConnId, message: Message, out: &mut Vec<Action>) {
        let Some(idx) = self.conns.iter().position(|c| c.id == conn) else {
            let event = message.message_type().name();
            out.push(Action::Note(Note::UnknownConnection { conn, event }));
            return;
        };
        let progress = self.conns[idx].progress;
        match (progress, message) {
            (_, Message::Notification(n)) => {
                if let Some(c) = self.remove(conn) {
                    out.push(Action::Close { conn });
                    self.lost(now, c, Cause::NotificationReceived(n), out);
                }
            }
            (Progress::DelayOpen | Progress::OpenSent, Message::Open(open)) => self.open_received(now, idx, open, out),
            (Progress::OpenConfirm, Message::Keepalive) => {
                let c = &mut self.conns[idx];
                c.progress = Progress::Established;
                c.hold = c.hold_time.map(|h| now + h);
                let negotiated = Box::new(c.negotiated.clone().expect("OpenConfirm without negotiated parameters"));
                self.established_at = Some(now);
                out.push(Action::Established { conn, negotiated });
                self.sync_state(Cause::KeepaliveReceived, out);
            }
            (Progress::Established, Message::Keepalive) => self.restart_hold(idx, now),
            (Progress::Established, Message::Update(update)) => {
                self.restart_hold(idx, now);
                out.push(Action::Update(update));
            }
            (Progress::Established, Message::RouteRefresh(rr)) => {
                if self.cfg.route_refresh {
                    out.push(Action::RouteRefresh(rr));
                } else {
                    out.push(Action::Note(Note::Ignored {
                        event: "route refresh without the capability",
                        state: self.state,
                    }));
                }
            }
            (progress, _) => {
                let subcode = match progress {
                    Progress::OpenSent => FSM_UNEXPECTED_IN_OPENSENT,
                    Progress::OpenConfirm => FSM_UNEXPECTED_IN_OPENCONFIRM,
                    Progress::Established => FSM_UNEXPECTED_IN_ESTABLISHED,
                    Progress::DelayOpen => UNSPECIFIC,
                };
                let n = Notification::new(FSM_ERROR, subcode, Vec::new());
                self.drop_with_notification(now, conn, n.clone(), Cause::FsmError(n), out);
            }
        }
    }

    fn restart_hold(&mut self, idx: usize, now: Instant) {
        let c = &mut self.conns[idx];
        c.hold = c.hold_time.map(|h| now + h);
    }

    fn open_received(&mut self, now: Instant, idx: usize, open: crate::wire::Open, out: &mut Vec<Action>) {
        let conn = self.conns[idx].id;
        let negotiated = match negotiate(&self.cfg, &open) {
            Ok(n) => n,
            Err(n) => return self.drop_with_notification(now, conn, n.clone(), Cause::OpenRejected(n), out),
        };
        if self.resolve_collision(conn, &negotiated, out) == Resolution::ThisLost {
            return;
        }
        let Some(c) = self.conns.iter_mut().find(|c| c.id == conn) else { return };
        if c.progress == Progress::DelayOpen {
            c.delay_open = None;
            out.push(Action::Send { conn, message: Message::Open(local_open(&self.cfg)) });
        }
        out.push(Action::Send { conn, message: Message::Keepalive });
        c.progress = Progress::OpenConfirm;
        c.hold_time = (negotiated.hold_time != 0).then(|| Duration::from_secs(u64::from(negotiated.hold_time)));
        c.hold = c.hold_time.map(|h| now + h);
        c.keepalive_interval = negotiated.keepalive;
        c.keepalive = negotiated.keepalive.map(|k| now + k);
        c.negotiated = Some(negotiated);
        self.connect_retry = None;
        self.sync_state(Cause::OpenReceived, out);
    }

    /// RFC 4271 §6.8 on receipt of an OPEN on `conn` while the peer has another connection:
    /// the one initiated by the speaker with the higher BGP identifier survives (RFC 6286
    /// §2.3: the higher AS number when identifiers are equal).
    ///
    /// Both connections lead to the same configured neighbor, so the identifier in this OPEN
    /// is the peer's identifier on the other connection too ("known by other means" in
    /// §6.8). tern therefore resolves at the first OPEN, whatever state the other connection
    /// is in, rather than waiting for that one's OPEN: no KEEPALIVE is ever sent on a
    /// connection that is about to lose, so the peer cannot reach Established on it.
    fn resolve_collision(&mut self, conn: ConnId, negotiated: &Negotiated, out: &mut Vec<Action>) -> Resolution {
        let Some(other) = self.conns.iter().find(|c| c.id != conn) else { return Resolution::NoCollision };
        let other_id = other.id;
        let other_established = other.progress == Progress::Established;
        let this_dir = self.conns.iter().find(|c| c.id == conn).map(|c| c.direction).unwrap_or(Direction::Inbound);
        let (keep_dir, reason) = if other_established && !self.cfg.deterministic_collision_resolution {
            (other.direction, "the existing session is established".to_string())
        } else {
            let (local, remote) = (u32::from(self.cfg.local_id), u32::from(negotiated.peer_id));
            let (local_wins, why) = if local != remote {
                (
                    local > remote,
                    format!(
                        "{} identifier is higher ({} > {})",
                        if local > remote { "local" } else { "remote" },
                        self.cfg.local_id.max(negotiated.peer_id),
                        self.cfg.local_id.min(negotiated.peer_id)
                    ),
                )
            } else {
                let (la, ra) = (self.cfg.local_asn, negotiated.peer_asn);
                (
                    la > ra,
                    format!(
                        "identifiers are equal; {} AS is higher ({} > {})",
                        if la > ra { "local" } else { "remote" },
                        la.max(ra),
                        la.min(ra)
                    ),
                )
            };
            let keep = if local_wins { Direction::Outbound } else { Direction::Inbound };
            (
                keep,
                format!(
                    "{why}: keeping the connection {} initiated ({})",
                    if local_wins { "we" } else { "the peer" },
                    keep.name()
                ),
            )
        };
        let (kept, closed) = if keep_dir == this_dir { (conn, other_id) } else { (other_id, conn) };
        out.push(Action::Note(Note::Collision { kept, kept_direction: keep_dir, closed, reason }));
        let n = Notification::cease(CEASE_CONNECTION_COLLISION, None);
        out.push(Action::Send { conn: closed, message: Message::Notification(n) });
        out.push(Action::Close { conn: closed });
        let loser = self.remove(closed).expect("collision loser is tracked");
        if loser.progress == Progress::Established {
            self.established_at = None;
            out.push(Action::Down { cause: Cause::CollisionLost });
        }
        self.sync_state(Cause::CollisionLost, out);
        if closed == conn {
            Resolution::ThisLost
        } else {
            Resolution::OtherLost
        }
    }

    /// Sends `n` on `conn`, closes it, and handles the loss.
    fn drop_with_notification(
        &mut self,
        now: Instant,
        conn: ConnId,
        n: Notification,
        cause: Cause,
        out: &mut Vec<Action>,
    ) {
        if let Some(c) = self.remove(conn) {
            out.push(Action::Send { conn, message: Message::Notification(n) });
            out.push(Action::Close { conn });
            self.lost(now, c, cause, out);
        } else {
            out.push(Action::Note(Note::UnknownConnection { conn, event: "error" }));
        }
    }

    fn remove(&mut self, conn: ConnId) -> Option<Conn> {
        let idx = self.conns.iter().position(|c| c.id == conn)?;
        Some(self.conns.swap_remove(idx))
    }

    /// A connection is gone. If the session still has another one it carries on with it;
    /// otherwise the session fails: Idle, with the idle-hold timer for an automatic restart
    /// that backs off while the peer keeps failing.
    fn lost(&mut self, now: Instant, c: Conn, cause: Cause, out: &mut Vec<Action>) {
        if c.progress == Progress::Established {
            // A session that stayed up long enough clears the back-off, even if no tick
            // came in the meantime (an idle runner sleeps while the clock keeps it alive).
            if self.established_at.is_some_and(|t| now.saturating_duration_since(t) >= config::STABLE_AFTER) {
                self.failures = 0;
            }
            self.established_at = None;
            out.push(Action::Down { cause: cause.clone() });
        }
        if !self.conns.is_empty() {
            self.sync_state(cause, out);
            return;
        }
        self.failures = self.failures.saturating_add(1);
        self.pending_connect = None;
        self.connect_retry = None;
        let mut wait = self.cfg.idle_hold;
        if self.failures > 1 {
            let doublings = (self.failures - 1).min(16);
            wait = wait.max(Duration::from_secs(1)).saturating_mul(1 << doublings).min(config::MAX_IDLE_HOLD);
        }
        self.idle_hold = Some(now + self.jittered(wait, self.cfg.idle_hold_jitter));
        self.sync_state(cause, out);
    }

    /// The one place the session state changes: derived from the connections and timers,
    /// reported with its cause.
    fn sync_state(&mut self, cause: Cause, out: &mut Vec<Action>) {
        let best = self.conns.iter().map(|c| c.progress).max_by_key(|p| *p as u8);
        let to = match best {
            Some(Progress::Established) => State::Established,
            Some(Progress::OpenConfirm) => State::OpenConfirm,
            Some(Progress::OpenSent) => State::OpenSent,
            _ if !self.started || self.idle_hold.is_some() => State::Idle,
            // A pending attempt, or an outbound connection waiting out DelayOpen.
            _ if self.pending_connect.is_some() || self.conns.iter().any(|c| c.direction == Direction::Outbound) => {
                State::Connect
            }
            _ => State::Active,
        };
        if to != self.state {
            out.push(Action::Transition { from: self.state, to, cause });
            self.state = to;
        }
    }

    /// `base` scaled by a random factor from `range`.
    fn jittered(&mut self, base: Duration, range: Option<(f64, f64)>) -> Duration {
        let Some((lo, hi)) = range else { return base };
        // xorshift64*: plenty for spreading timers.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let r = (self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64;
        base.mul_f64(lo + (hi - lo) * r)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolution {
    NoCollision,
    ThisLost,
    OtherLost,
}

#[cfg(test)]
mod tests;
