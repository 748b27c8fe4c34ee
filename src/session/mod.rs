//! The session runner: one thread per peer that owns the peer's FSM and its connections and
//! turns the FSM's actions into I/O.
//!
//! The runner waits on its input channel and its tick channel, feeds each event to
//! [`Fsm::handle`] with the current time, and executes the returned actions in order:
//! spawning connector threads, encoding and writing messages, closing connections, logging
//! transitions, publishing the peer's status. It never blocks for longer than a connection's
//! write timeout on anything but its own input, so keepalives leave on time whatever else
//! happens.
//!
//! Closing is graceful: after the last message the runner shuts down its write side and
//! lets the reader drain until the peer closes too (or [`CLOSE_GRACE`] passes), so a
//! NOTIFICATION is not lost to a TCP reset.

pub mod reader;
pub mod status;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, Sender, TryRecvError};

use crate::channels::Mailbox;
use slog::{debug, info, o, trace, warn, Logger};

use crate::channels::{Control, ReadEvent, RunnerMsg, Wakeup};
use crate::clock::Epoch;
use crate::clock::NEVER;
use crate::connection::{Connection, SocketOpts, Transport};
use crate::fsm::{Action, ConnId, Direction, Fsm, Input, Note, State};
use crate::keepalive::{Grant, Handles};
use crate::rib::RibMsg;
use crate::threads::Threads;
use crate::wire::{Ctx, Message, Update};
use status::{PeerCell, PeerStatus};

/// Batches of UPDATEs (one read each, up to 64 KiB of messages) a reader may have on their
/// way to the RIB before it stops reading.
pub const READ_BATCHES_IN_FLIGHT: usize = 8;

/// Message counters are published within this (KEEPALIVE counts are live: see
/// [`status::LiveCounters`]).
pub const COUNTERS_EVERY: Duration = Duration::from_secs(1);

/// How long a closed connection may linger for the peer to read our last message.
pub const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Everything a runner needs, handed over when it is spawned.
pub struct RunnerSetup {
    pub name: String,
    pub address: IpAddr,
    pub port: u16,
    pub opts: SocketOpts,
    pub fsm: Fsm,
    pub transport: Arc<dyn Transport>,
    pub rx: Receiver<RunnerMsg>,
    pub tx: Sender<RunnerMsg>,
    pub wakeup: Arc<Wakeup>,
    pub epoch: Epoch,
    pub status: Arc<PeerCell>,
    pub threads: Threads,
    pub log: Logger,
    /// This peer's id in the RIB, and the way there.
    pub peer_id: crate::rib::PeerId,
    pub rib: Sender<RibMsg>,
}

struct Live {
    conn: Box<dyn Connection>,
    direction: Direction,
    reader: Option<JoinHandle<()>>,
    /// KEEPALIVEs the reader absorbed, and how many of them the FSM has seen.
    activity: Arc<reader::Activity>,
    keepalives_seen: u64,
    /// Flow control of this connection's reader towards the RIB.
    credits: Arc<crate::channels::Credits>,
    out: Vec<u8>,
    log: Logger,
}

struct Closing {
    id: ConnId,
    conn: Box<dyn Connection>,
    reader: Option<JoinHandle<()>>,
    credits: Arc<crate::channels::Credits>,
    deadline: Instant,
}

struct Runner {
    s: RunnerSetup,
    /// This runner's own mailbox, for the readers and connectors it starts.
    mailbox: Mailbox,
    /// UPDATEs of the current batch, for the RIB.
    updates: Vec<Update>,

    state: Arc<AtomicU8>,
    conns: HashMap<ConnId, Live>,
    closing: Vec<Closing>,
    connectors: Vec<(ConnId, JoinHandle<()>)>,
    actions: Vec<Action>,
    status: PeerStatus,
    /// Something an operator waits for changed (state, error): publish now.
    dirty: bool,
    /// Only counters changed: publish at a tick, within [`COUNTERS_EVERY`].
    stale: bool,
    published: Instant,
    exit: bool,
}

/// Runs a peer's session until it is told to exit.
pub fn run(s: RunnerSetup) {
    // Woken in bursts by the clock: do not preempt it (see the platform function).
    let batch = tern_platform::process::set_batch_scheduling();
    let state = Arc::new(AtomicU8::new(State::Idle as u8));
    let st = state.clone();
    let log = s.log.new(o!(
        "unit" => "session_runner",
        "fsm_state" => slog::FnValue(move |_| state_name(st.load(Ordering::Relaxed))),
    ));
    let status = PeerStatus::new(s.name.clone(), s.address);
    let mailbox = Mailbox::new(s.tx.clone(), std::thread::current());
    let mut r = Runner {
        s: RunnerSetup { log, ..s },
        mailbox,
        updates: Vec::new(),

        state,
        conns: HashMap::new(),
        closing: Vec::new(),
        connectors: Vec::new(),
        actions: Vec::new(),
        status,
        dirty: true,
        stale: false,
        published: Instant::now(),
        exit: false,
    };
    info!(r.s.log, "starting peer state machine"; "params" => ?r.s.fsm.config());
    if let Err(e) = batch {
        debug!(r.s.log, "batch scheduling not available"; "error" => %e);
    }
    r.run();
}

fn state_name(v: u8) -> &'static str {
    [State::Idle, State::Connect, State::Active, State::OpenSent, State::OpenConfirm, State::Established]
        .into_iter()
        .find(|s| *s as u8 == v)
        .map_or("unknown", State::name)
}

impl Runner {
    fn run(&mut self) {
        while !self.exit {
            let flushing = self.conns.values().any(|c| !c.out.is_empty());
            // Drain the mailbox; when it is empty, park until a sender unparks us (unless
            // bytes wait for the socket: then the next flush blocks at most the write
            // timeout instead).
            let event = if self.s.wakeup.pending.load(Ordering::Acquire) {
                let at = self.s.wakeup.tick_at.load(Ordering::Relaxed);
                Some(RunnerMsg::Tick(self.s.epoch.at_micros(at)))
            } else {
                match self.s.rx.try_recv() {
                    Ok(m) => Some(m),
                    Err(TryRecvError::Empty) => {
                        if !flushing {
                            std::thread::park();
                        }
                        None
                    }
                    Err(TryRecvError::Disconnected) => Some(exit_now()),
                }
            };
            self.reclaim_keepalives();
            self.absorb_keepalives();
            match event {
                Some(RunnerMsg::Tick(now)) => {
                    self.s.wakeup.pending.store(false, Ordering::Release);
                    self.feed(now, Input::Tick);
                    self.reap_closing(now, false);
                    if self.stale && now.saturating_duration_since(self.published) >= COUNTERS_EVERY {
                        self.publish();
                    }
                }
                Some(m) => self.message(m),
                None => {}
            }
            self.flush_all();
            if self.dirty {
                self.publish();
            }
            let closing = self.closing.iter().map(|c| c.deadline).min();
            let publish = self.stale.then(|| self.published + COUNTERS_EVERY);
            let next = self.delegate_idle_timers(closing.into_iter().chain(publish).min());
            self.s.epoch.store(&self.s.wakeup.deadline, next);
        }
        self.shutdown();
    }

    fn message(&mut self, msg: RunnerMsg) {
        let now = Instant::now();
        match msg {
            RunnerMsg::Accepted(conn) => {
                let id = self.s.fsm.next_conn_id();
                if let Err(e) = conn.apply(&self.s.opts) {
                    warn!(self.s.log, "cannot set socket options on accepted connection, closing"; "error" => %e);
                    conn.close();
                    return;
                }
                debug!(self.s.log, "accepted inbound connection"; "peer" => %conn.peer_addr(), "connection_id" => id);
                self.adopt(now, id, conn, Direction::Inbound);
            }
            RunnerMsg::Connected { conn: id, result } => {
                if let Some(i) = self.connectors.iter().position(|(c, _)| *c == id) {
                    let (_, handle) = self.connectors.swap_remove(i);
                    let _ = handle.join();
                }
                match result {
                    Ok(conn) => {
                        info!(self.s.log, "outbound connection established"; "local" => %conn.local_addr(), "peer" => %conn.peer_addr(), "connection_id" => id);
                        self.adopt(now, id, conn, Direction::Outbound);
                    }
                    Err(e) => {
                        debug!(self.s.log, "outbound connection failed"; "error" => %e, "connection_id" => id);
                        self.status.last_error = Some(format!("connect: {e}"));
                        self.feed(now, Input::TcpFailed { conn: id });
                    }
                }
            }
            RunnerMsg::Read { conn, events, credit } => {
                for event in events {
                    self.read_event(now, conn, event);
                }
                if !self.updates.is_empty() {
                    let updates = std::mem::take(&mut self.updates);
                    let _ = self.s.rib.send(RibMsg::Updates { id: self.s.peer_id, updates, credit });
                }
            }
            RunnerMsg::Export { bytes, updates, prefixes } => {
                let Some(live) = self.s.fsm.established_conn().and_then(|c| self.conns.get_mut(&c)) else { return };
                trace!(
                    live.log,
                    "sending {} updates ({} prefixes, {} octets) from the rib",
                    updates,
                    prefixes,
                    bytes.len()
                );
                if live.out.is_empty() {
                    live.out = bytes;
                } else {
                    live.out.extend_from_slice(&bytes);
                }
                self.status.sent.update += updates as u64;
                self.status.prefixes_sent += prefixes as u64;
                self.stale = true;
            }
            RunnerMsg::Tick(_) => unreachable!("ticks are handled in the loop"),
            RunnerMsg::Control(c) => {
                debug!(self.s.log, "received control"; "control" => ?c);
                match c {
                    Control::Start => self.feed(now, Input::ManualStart),
                    Control::SoftIn => self.request_refresh(),
                    Control::Stop(stop) => self.feed(now, Input::ManualStop(stop)),
                    Control::Exit(stop) => {
                        info!(self.s.log, "session runner received shutdown request");
                        self.feed(now, Input::ManualStop(stop));
                        self.exit = true;
                    }
                }
            }
        }
    }

    /// Takes a new connection in; the FSM decides whether it stays.
    fn adopt(&mut self, now: Instant, id: ConnId, conn: Box<dyn Connection>, direction: Direction) {
        let log = self.s.log.new(o!(
            "connection_id" => id,
            "direction" => direction.name(),
            "connection_local" => conn.local_addr().to_string(),
            "connection_peer" => conn.peer_addr().to_string(),
        ));
        let activity = Arc::new(reader::Activity { counters: self.s.status.live.clone(), ..Default::default() });
        self.conns.insert(
            id,
            Live {
                conn,
                direction,
                reader: None,
                activity,
                keepalives_seen: 0,
                credits: crate::channels::Credits::new(READ_BATCHES_IN_FLIGHT),
                out: Vec::new(),
                log,
            },
        );
        self.feed(now, Input::TcpConnected { conn: id, direction });
        let Some(live) = self.conns.get_mut(&id) else { return };
        match live.conn.reader() {
            Ok(stream) => {
                let (tx, cfg) = (self.mailbox.clone(), self.s.fsm.config().clone());
                let (activity, epoch, credits) = (live.activity.clone(), self.s.epoch, live.credits.clone());
                let name = format!("tern-rd-{}", self.s.address);
                let spawned =
                    self.s.threads.spawn(name, move || reader::run(id, stream, cfg, tx, activity, epoch, credits));
                match spawned {
                    Ok(h) => live.reader = Some(h),
                    Err(e) => {
                        warn!(live.log, "cannot start reader thread"; "error" => %e);
                        self.feed(now, Input::TcpFailed { conn: id });
                    }
                }
            }
            Err(e) => {
                warn!(live.log, "cannot clone connection for reading"; "error" => %e);
                self.feed(now, Input::TcpFailed { conn: id });
            }
        }
    }

    fn read_event(&mut self, now: Instant, conn: ConnId, event: ReadEvent) {
        if let Some(i) = self.closing.iter().position(|c| c.id == conn) {
            if matches!(event, ReadEvent::Closed(_)) {
                let c = self.closing.swap_remove(i);
                finish_close(c);
            }
            return;
        }
        match event {
            ReadEvent::Message(decoded) => {
                let kind = decoded.message.message_type();
                self.count(kind, false);
                if let Some(live) = self.conns.get(&conn) {
                    debug!(live.log, "recv {} message", kind.name(); "message" => kind.name(), "message_contents" => %Contents(&decoded.message));
                    for fault in &decoded.faults {
                        warn!(live.log, "malformed attribute repaired (RFC 7606)"; "fault" => %fault);
                    }
                }
                self.status.attribute_faults += decoded.faults.len() as u64;
                match &decoded.message {
                    Message::Update(u) => {
                        let (a, w) = u.prefix_counts();
                        self.status.prefixes_announced += a as u64;
                        self.status.prefixes_withdrawn += w as u64;
                        if let Some(family) = u.is_end_of_rib().filter(|f| !self.status.end_of_rib.contains(f)) {
                            info!(self.s.log, "end-of-rib received: the peer's initial table is complete"; "family" => %family);
                            self.status.end_of_rib.push(family);
                            self.dirty = true;
                        }
                    }
                    Message::Notification(n) => {
                        info!(self.s.log, "received notification: {}", n; "connection_id" => conn);
                        self.status.last_notification_received = Some(n.clone());
                        self.dirty = true;
                    }
                    _ => {}
                }
                self.feed(now, Input::Message { conn, message: decoded.message });
            }
            ReadEvent::Error(error) => {
                warn!(self.s.log, "malformed message from peer"; "error" => %error, "connection_id" => conn);
                self.status.last_error = Some(error.to_string());
                self.feed(now, Input::DecodeError { conn, error });
            }
            ReadEvent::Closed(err) => {
                if let Some(live) = self.conns.get(&conn) {
                    info!(live.log, "connection closed by peer"; "error" => err.as_ref().map(|e| e.to_string()));
                }
                self.feed(now, Input::TcpFailed { conn });
            }
        }
    }

    /// Takes the keepalive duty back from the clock (see `crate::keepalive`) and tells the
    /// FSM when the clock last sent one; a KEEPALIVE the socket took only part of is
    /// finished first.
    #[inline(never)]
    fn reclaim_keepalives(&mut self) {
        let Some(r) = self.s.wakeup.keepalive.revoke() else { return };
        let Some(live) = self.conns.get_mut(&r.conn) else { return };
        if !r.leftover.is_empty() {
            let mut out = r.leftover;
            out.append(&mut live.out);
            live.out = out;
        }
        if r.sent > 0 {
            let at = self.s.epoch.0 + Duration::from_millis(r.last_sent_ms);
            self.feed(at, Input::KeepaliveSent { conn: r.conn });
        }
    }

    /// Before parking: lets the clock send the Established session's KEEPALIVEs and watch
    /// its hold timer while nothing else is queued for the peer. Returns the deadline the
    /// runner must be woken at.
    // Not inlined (nor `reclaim_keepalives`): inside `run` they grow its frame past one more
    // stack page, 4 KiB more resident memory per peer.
    #[inline(never)]
    fn delegate_idle_timers(&mut self, other: Option<Instant>) -> Option<Instant> {
        let duty = &self.s.wakeup.keepalive;
        let idle = (!self.exit).then(|| self.s.fsm.idle_timers()).flatten();
        let live = idle.and_then(|t| self.conns.get(&t.conn)).filter(|l| l.out.is_empty());
        let (Some(t), Some(live)) = (idle, live) else {
            duty.clear();
            return [self.s.fsm.next_deadline(), other].into_iter().flatten().min();
        };
        let epoch = self.s.epoch;
        let other = [self.s.fsm.next_deadline_except_idle(), other].into_iter().flatten().min();
        let grant = Grant {
            conn: t.conn,
            keepalive_ms: epoch.millis(t.keepalive.0),
            interval_ms: t.keepalive.1.as_millis() as u64,
            hold: t.hold.map(|(due, time)| (epoch.millis(due), time.as_millis() as u64)),
            other_ms: other.map_or(NEVER, |d| epoch.millis(d)),
        };
        let granted = duty.grant(grant, || {
            Ok(Handles { writer: live.conn.quick_writer()?, log: live.log.clone(), activity: live.activity.clone() })
        });
        if granted {
            [t.hold.map(|h| h.0), other].into_iter().flatten().min()
        } else {
            [self.s.fsm.next_deadline(), other].into_iter().flatten().min()
        }
    }

    /// Hands the FSM the KEEPALIVEs the readers took in since the last wake, each with its
    /// arrival time so the hold timer restarts from when it really came.
    fn absorb_keepalives(&mut self) {
        let mut seen = Vec::new();
        for (id, live) in &mut self.conns {
            let n = live.activity.keepalives.load(Ordering::Acquire);
            if n != live.keepalives_seen {
                live.keepalives_seen = n;
                seen.push((*id, self.s.epoch.0 + Duration::from_millis(live.activity.last_ms.load(Ordering::Relaxed))));
            }
        }
        for (conn, at) in seen {
            self.feed(at, Input::Message { conn, message: Message::Keepalive });
        }
    }

    fn feed(&mut self, now: Instant, input: Input) {
        let mut actions = std::mem::take(&mut self.actions);
        self.s.fsm.handle(now, input, &mut actions);
        for action in actions.drain(..) {
            self.execute(now, action);
        }
        self.actions = actions;
    }

    fn execute(&mut self, now: Instant, action: Action) {
        match action {
            Action::Connect { conn } => self.connect(conn),
            Action::Send { conn, message } => self.send(conn, message),
            Action::Close { conn } => self.close(now, conn),
            Action::Transition { from, to, cause } => {
                info!(self.s.log, "fsm transition {} -> {}", from, to; "cause" => %cause);
                self.state.store(to as u8, Ordering::Relaxed);
                self.status.state = to;
                self.status.since = SystemTime::now();
                self.dirty = true;
            }
            Action::Established { conn, negotiated } => {
                let live = self.conns.get(&conn);
                info!(self.s.log, "session established";
                    "peer_asn" => negotiated.peer_asn, "peer_id" => %negotiated.peer_id,
                    "hold_time" => negotiated.hold_time, "families" => ?negotiated.families,
                    "connection_id" => conn, "direction" => live.map(|l| l.direction.name()));
                self.status.connection = live.map(|l| (l.conn.local_addr(), l.conn.peer_addr()));
                self.status.negotiated = Some(Arc::new((*negotiated).clone()));
                self.status.established_at = Some(SystemTime::now());
                self.status.established_count += 1;
                self.status.end_of_rib.clear();
                self.dirty = true;
                if let Some(live) = live {
                    let _ = self.s.rib.send(RibMsg::Up {
                        id: self.s.peer_id,
                        asn: negotiated.peer_asn,
                        router_id: negotiated.peer_id,
                        out: self.mailbox.clone(),
                        ctx: negotiated.tx_ctx(),
                        families: negotiated.families.clone(),
                        local_addr: live.conn.local_addr().ip(),
                        enhanced_refresh: negotiated.enhanced_route_refresh,
                        extended_next_hop: negotiated.extended_next_hop,
                    });
                }
            }
            Action::Down { cause } => {
                info!(self.s.log, "session down"; "cause" => %cause);
                self.updates.clear();
                let _ = self.s.rib.send(RibMsg::Down { id: self.s.peer_id });
                self.status.connection = None;
                self.status.negotiated = None;
                self.status.established_at = None;
                self.status.last_error = Some(cause.to_string());
                self.dirty = true;
            }
            Action::Update(update) => self.updates.push(update),
            Action::RouteRefresh(refresh) => {
                debug!(self.s.log, "route refresh from the peer"; "refresh" => %refresh);
                let _ = self.s.rib.send(RibMsg::Refresh { id: self.s.peer_id, refresh });
            }
            Action::Note(note) => self.note(note),
        }
    }

    /// Sends ROUTE-REFRESH requests for every negotiated family, if the peer takes them.
    fn request_refresh(&mut self) {
        let Some(conn) = self.s.fsm.established_conn() else { return };
        let Some(n) = self.s.fsm.negotiated() else { return };
        if !n.route_refresh {
            warn!(
                self.s.log,
                "the peer does not support route refresh: a hard reset is needed to apply new import rules"
            );
            return;
        }
        for family in n.families.clone() {
            self.send(conn, Message::RouteRefresh(crate::wire::RouteRefresh::request(family)));
        }
    }

    fn note(&self, note: Note) {
        let log = &self.s.log;
        match note {
            Note::Collision { kept, kept_direction, closed, reason } => {
                info!(
                    log,
                    "collision resolved: keeping connection {} ({}), closing {}: {}",
                    kept,
                    kept_direction.name(),
                    closed,
                    reason
                )
            }
            Note::Ignored { event, state } => warn!(log, "unexpected fsm event {} in state {}, ignoring", event, state),
            Note::UnknownConnection { conn, event } => {
                warn!(log, "rx {} for unknown connection (connection_id: {}), ignoring", event, conn)
            }
            Note::Rejected { conn, direction, reason } => {
                info!(log, "rejected {} connection {}: {}", direction.name(), conn, reason)
            }
        }
    }

    fn connect(&mut self, conn: ConnId) {
        let remote = SocketAddr::new(self.s.address, self.s.port);
        let timeout =
            (self.s.fsm.config().connect_retry * 2 / 3).clamp(Duration::from_millis(100), Duration::from_secs(10));
        debug!(self.s.log, "connecting to {}", remote; "connection_id" => conn, "timeout_ms" => timeout.as_millis() as u64);
        let (transport, opts, tx) = (self.s.transport.clone(), self.s.opts.clone(), self.mailbox.clone());
        let spawned = self.s.threads.spawn(format!("tern-co-{}", self.s.address), move || {
            let result = transport.connect(remote, &opts, timeout);
            let _ = tx.send(RunnerMsg::Connected { conn, result });
        });
        match spawned {
            Ok(h) => self.connectors.push((conn, h)),
            Err(e) => {
                warn!(self.s.log, "cannot start connector thread"; "error" => %e);
                self.feed(Instant::now(), Input::TcpFailed { conn });
            }
        }
    }

    fn send(&mut self, conn: ConnId, mut message: Message) {
        let ctx = self.s.fsm.conn_negotiated(conn).map_or(Ctx::pre_open(), |n| n.tx_ctx());
        let Some(live) = self.conns.get_mut(&conn) else { return };
        let kind = message.message_type();
        if let Message::Notification(n) = &mut message {
            info!(live.log, "sending notification: {}", n);
            // Data never makes a NOTIFICATION too long to send.
            n.data.truncate(ctx.max_message_len() - crate::wire::HEADER_LEN - 2);
            self.status.last_notification_sent = Some(n.clone());
            self.dirty = true;
        }
        trace!(live.log, "send {} message", kind.name(); "message" => kind.name(), "message_contents" => %Contents(&message));
        if let Err(e) = message.encode(&ctx, &mut live.out) {
            warn!(live.log, "message not sent"; "error" => %e);
            return;
        }
        self.count(kind, true);
    }

    /// Counts a message in or out: KEEPALIVEs in the live counters (which the reader and
    /// the clock count too), the others in the status, to be published.
    fn count(&mut self, kind: crate::wire::MessageType, sent: bool) {
        if kind == crate::wire::MessageType::Keepalive {
            let live = &self.s.status.live;
            let counter = if sent { &live.keepalives_sent } else { &live.keepalives_received };
            counter.fetch_add(1, Ordering::Relaxed);
        } else {
            let counts = if sent { &mut self.status.sent } else { &mut self.status.received };
            counts.count(kind);
            self.stale = true;
        }
    }

    fn close(&mut self, now: Instant, conn: ConnId) {
        let Some(mut live) = self.conns.remove(&conn) else { return };
        flush(&mut live);
        debug!(live.log, "closing connection"; "unsent_bytes" => live.out.len());
        live.conn.shutdown_write();
        let c = Closing {
            id: conn,
            conn: live.conn,
            reader: live.reader,
            credits: live.credits,
            deadline: now + CLOSE_GRACE,
        };
        if c.reader.is_none() {
            finish_close(c);
        } else {
            self.closing.push(c);
        }
    }

    /// Ends lingering connections whose grace period is over (or all, at exit).
    fn reap_closing(&mut self, now: Instant, all: bool) {
        let mut i = 0;
        while i < self.closing.len() {
            if all || self.closing[i].deadline <= now {
                finish_close(self.closing.swap_remove(i));
            } else {
                i += 1;
            }
        }
    }

    fn flush_all(&mut self) {
        for live in self.conns.values_mut() {
            flush(live);
        }
    }

    fn publish(&mut self) {
        self.published = Instant::now();
        self.s.status.publish(self.status.clone());
        self.dirty = false;
        self.stale = false;
    }

    fn shutdown(&mut self) {
        info!(self.s.log, "session runner shutdown start");
        let ids: Vec<ConnId> = self.conns.keys().copied().collect();
        let now = Instant::now();
        for id in ids {
            self.close(now, id);
        }
        self.reap_closing(now, true);
        for (_, handle) in self.connectors.drain(..) {
            debug!(self.s.log, "joining connector thread during shutdown");
            let _ = handle.join();
        }
        // Connectors that finished report on the channel; their connections are dropped.
        while let Ok(msg) = self.s.rx.try_recv() {
            if let RunnerMsg::Connected { result: Ok(conn), .. } | RunnerMsg::Accepted(conn) = msg {
                conn.close();
            }
        }
        self.publish();
        info!(self.s.log, "session runner shutdown complete");
    }
}

/// What the runner does when every sender is gone (the router itself went away).
fn exit_now() -> RunnerMsg {
    RunnerMsg::Control(Control::Exit(crate::fsm::Stop::shutdown(None)))
}

fn flush(live: &mut Live) {
    while !live.out.is_empty() {
        match live.conn.write(&live.out) {
            Ok(0) => return,
            Ok(n) => {
                live.out.drain(..n);
            }
            Err(e) => {
                debug!(live.log, "write failed, dropping unsent data"; "error" => %e, "bytes" => live.out.len());
                live.out.clear();
                return;
            }
        }
    }
}

fn finish_close(c: Closing) {
    c.conn.close();
    c.credits.close();
    if let Some(h) = c.reader {
        let _ = h.join();
    }
}

/// Display of a message for logs, in the spirit of the reference log's `message_contents`.
struct Contents<'a>(&'a Message);

impl std::fmt::Display for Contents<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Message::Open(o) => write!(f, "{o}"),
            Message::Update(u) => write!(f, "{u}"),
            Message::Notification(n) => write!(f, "Notification [ {n} ]"),
            Message::Keepalive => write!(f, "Keepalive"),
            Message::RouteRefresh(r) => write!(f, "{r}"),
        }
    }
}
