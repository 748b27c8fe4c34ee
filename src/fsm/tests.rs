//! FSM tables on a manual clock. Nothing here sleeps: time is an input.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use super::*;
use crate::wire::{AddPathDirection, Family, Open};

fn cfg(local_asn: u32, id: u8, remote_asn: u32) -> SessionConfig {
    let mut c = SessionConfig::new(local_asn, Ipv4Addr::new(0, 0, 0, id), Some(remote_asn));
    c.hold_time = 6;
    c.keepalive = Duration::from_secs(3);
    c.connect_retry = Duration::from_secs(1);
    c.idle_hold = Duration::ZERO;
    c.idle_hold_jitter = Some((0.75, 1.0));
    c.add_path = vec![(Family::IPV4_UNICAST, AddPathDirection::Receive)];
    c
}

fn r1() -> SessionConfig {
    cfg(4200000001, 1, 4200000002)
}

fn r2() -> SessionConfig {
    cfg(4200000002, 2, 4200000001)
}

/// One FSM on a manual clock.
struct One {
    fsm: Fsm,
    now: Instant,
}

impl One {
    fn new(cfg: SessionConfig) -> One {
        One { fsm: Fsm::new(cfg, 7), now: Instant::now() }
    }

    fn input(&mut self, input: Input) -> Vec<Action> {
        let mut out = Vec::new();
        self.fsm.handle(self.now, input, &mut out);
        out
    }

    /// Ticks every 100 ms for `d`, as the clock thread would, collecting the actions.
    fn run(&mut self, d: Duration) -> Vec<Action> {
        let end = self.now + d;
        let mut out = Vec::new();
        while self.now < end {
            self.now += Duration::from_millis(100);
            self.fsm.handle(self.now, Input::Tick, &mut out);
        }
        out
    }

    /// Starts and brings an inbound connection to Established; returns its id.
    fn establish(&mut self, peer: &SessionConfig) -> ConnId {
        self.input(Input::ManualStart);
        let conn = self.fsm.next_conn_id();
        self.input(Input::TcpConnected { conn, direction: Direction::Inbound });
        self.input(Input::Message { conn, message: Message::Open(local_open(peer)) });
        let out = self.input(Input::Message { conn, message: Message::Keepalive });
        assert!(out.iter().any(|a| matches!(a, Action::Established { .. })), "{out:?}");
        assert_eq!(self.fsm.state(), State::Established);
        conn
    }
}

fn sent(out: &[Action]) -> Vec<(ConnId, Message)> {
    out.iter()
        .filter_map(|a| match a {
            Action::Send { conn, message } => Some((*conn, message.clone())),
            _ => None,
        })
        .collect()
}

fn notifications(out: &[Action]) -> Vec<(u8, u8)> {
    sent(out)
        .into_iter()
        .filter_map(|(_, m)| match m {
            Message::Notification(n) => Some((n.code, n.subcode)),
            _ => None,
        })
        .collect()
}

fn transitions(out: &[Action]) -> Vec<(State, State)> {
    out.iter()
        .filter_map(|a| match a {
            Action::Transition { from, to, .. } => Some((*from, *to)),
            _ => None,
        })
        .collect()
}

fn keepalives(out: &[Action]) -> usize {
    sent(out).iter().filter(|(_, m)| *m == Message::Keepalive).count()
}

#[test]
fn manual_start_connects_and_a_second_start_is_ignored() {
    let mut h = One::new(r1());
    let out = h.input(Input::ManualStart);
    assert!(matches!(out[0], Action::Connect { .. }));
    assert_eq!(transitions(&out), [(State::Idle, State::Connect)]);
    let out = h.input(Input::ManualStart);
    assert_eq!(out, [Action::Note(Note::Ignored { event: "manual start", state: State::Connect })]);
}

#[test]
fn passive_waits_in_active_without_connecting() {
    let mut c = r1();
    c.passive = true;
    let mut h = One::new(c);
    let out = h.input(Input::ManualStart);
    assert!(!out.iter().any(|a| matches!(a, Action::Connect { .. })));
    assert_eq!(h.fsm.state(), State::Active);
    assert!(!h.run(Duration::from_secs(10)).iter().any(|a| matches!(a, Action::Connect { .. })));
    h.establish(&r2());
}

#[test]
fn connect_failure_waits_in_active_then_retries() {
    let mut h = One::new(r1());
    let out = h.input(Input::ManualStart);
    let Action::Connect { conn } = out[0] else { panic!("{out:?}") };
    h.input(Input::TcpFailed { conn });
    assert_eq!(h.fsm.state(), State::Active);
    let out = h.run(Duration::from_millis(900));
    assert!(out.is_empty(), "{out:?}");
    let out = h.run(Duration::from_millis(100));
    let Some(Action::Connect { conn: again }) = out.first() else { panic!("{out:?}") };
    assert_ne!(*again, conn);
    assert_eq!(transitions(&out), [(State::Active, State::Connect)]);
    // The old attempt completing late is closed, not used.
    let out = h.input(Input::TcpConnected { conn, direction: Direction::Outbound });
    assert_eq!(out, [Action::Close { conn }]);
}

#[test]
fn open_exchange_follows_rfc4271() {
    let mut h = One::new(r1());
    let out = h.input(Input::ManualStart);
    let Action::Connect { conn } = out[0] else { panic!() };
    let out = h.input(Input::TcpConnected { conn, direction: Direction::Outbound });
    assert_eq!(sent(&out), [(conn, Message::Open(local_open(&r1())))]);
    assert_eq!(transitions(&out), [(State::Connect, State::OpenSent)]);
    let out = h.input(Input::Message { conn, message: Message::Open(local_open(&r2())) });
    assert_eq!(sent(&out), [(conn, Message::Keepalive)]);
    assert_eq!(transitions(&out), [(State::OpenSent, State::OpenConfirm)]);
    let out = h.input(Input::Message { conn, message: Message::Keepalive });
    let Some(Action::Established { negotiated, .. }) = out.first() else { panic!("{out:?}") };
    assert_eq!(negotiated.peer_asn, 4200000002);
    assert_eq!(h.fsm.negotiated().unwrap().hold_time, 6);
}

#[test]
fn keepalives_leave_every_three_seconds_and_hold_expiry_sends_4_0() {
    let mut h = One::new(r1());
    let conn = h.establish(&r2());
    // The peer keeps quiet: keepalives at 3 s; at 6 s the hold timer expires.
    let out = h.run(Duration::from_millis(5900));
    assert_eq!(keepalives(&out), 1);
    assert!(notifications(&out).is_empty());
    let out = h.run(Duration::from_millis(100));
    assert_eq!(notifications(&out), [(HOLD_TIMER_EXPIRED, 0)]);
    assert!(out.contains(&Action::Close { conn }));
    assert!(out.iter().any(|a| matches!(a, Action::Down { cause: Cause::HoldTimerExpired })));
    assert_eq!(h.fsm.state(), State::Idle);
}

#[test]
fn keepalives_from_the_peer_keep_the_session_up() {
    let mut h = One::new(r1());
    let conn = h.establish(&r2());
    let mut ours = 0;
    for _ in 0..20 {
        ours += keepalives(&h.run(Duration::from_secs(3)));
        let out = h.input(Input::Message { conn, message: Message::Keepalive });
        assert!(out.is_empty());
    }
    assert_eq!(h.fsm.state(), State::Established);
    assert_eq!(ours, 20);
}

#[test]
fn keepalives_sent_elsewhere_restart_the_keepalive_timer() {
    let mut h = One::new(r1());
    let conn = h.establish(&r2());
    let idle = h.fsm.idle_timers().expect("an Established session has a keepalive timer");
    let due = h.now + Duration::from_secs(3);
    let hold = (h.now + Duration::from_secs(6), Duration::from_secs(6));
    assert_eq!(idle, IdleTimers { conn, keepalive: (due, Duration::from_secs(3)), hold: Some(hold) });
    assert_eq!(h.fsm.next_deadline(), Some(due));
    assert_eq!(h.fsm.next_deadline_except_idle(), None, "nothing else runs");
    // The clock sent one at 2.5 s: none from the FSM until 5.5 s.
    h.now += Duration::from_millis(2500);
    assert!(h.input(Input::KeepaliveSent { conn }).is_empty());
    assert_eq!(h.fsm.idle_timers().map(|k| k.keepalive.0), Some(h.now + Duration::from_secs(3)));
    assert_eq!(keepalives(&h.run(Duration::from_millis(2900))), 0);
    assert_eq!(keepalives(&h.run(Duration::from_millis(100))), 1);
    // Unknown connections are ignored.
    assert!(h.input(Input::KeepaliveSent { conn: conn + 9 }).is_empty());
}

#[test]
fn keepalive_zero_sends_none_but_keeps_the_hold_timer() {
    let mut mine = r1();
    mine.keepalive = Duration::ZERO;
    let mut h = One::new(mine);
    h.establish(&r2());
    assert_eq!(h.fsm.negotiated().unwrap().keepalive, None);
    assert_eq!(h.fsm.idle_timers(), None);
    let out = h.run(Duration::from_millis(5900));
    assert_eq!(keepalives(&out), 0);
    assert_eq!(notifications(&h.run(Duration::from_millis(100))), [(HOLD_TIMER_EXPIRED, 0)]);
}

#[test]
fn hold_time_zero_means_no_keepalives_and_no_hold_timer() {
    let mut mine = r1();
    mine.hold_time = 0;
    let mut h = One::new(mine);
    h.establish(&r2());
    assert_eq!(h.fsm.negotiated().unwrap().keepalive, None);
    let out = h.run(Duration::from_secs(600));
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(h.fsm.state(), State::Established);
    assert_eq!(h.fsm.idle_timers(), None, "nothing for the clock to send");
}

#[test]
fn delay_open_waits_for_the_peer_or_the_timer() {
    let mut mine = r1();
    mine.delay_open = Some(Duration::from_secs(2));
    mine.passive = true;
    let mut h = One::new(mine.clone());
    h.input(Input::ManualStart);
    let conn = h.fsm.next_conn_id();
    let out = h.input(Input::TcpConnected { conn, direction: Direction::Inbound });
    assert!(sent(&out).is_empty(), "no OPEN while DelayOpen runs");
    assert_eq!(h.fsm.state(), State::Active);
    // The peer's OPEN first: OPEN and KEEPALIVE together, straight to OpenConfirm.
    let out = h.input(Input::Message { conn, message: Message::Open(local_open(&r2())) });
    assert_eq!(sent(&out), [(conn, Message::Open(local_open(&mine))), (conn, Message::Keepalive)]);
    assert_eq!(h.fsm.state(), State::OpenConfirm);

    // The timer first: OPEN at 2 s.
    let mut h = One::new(mine.clone());
    h.input(Input::ManualStart);
    let conn = h.fsm.next_conn_id();
    h.input(Input::TcpConnected { conn, direction: Direction::Inbound });
    assert!(h.run(Duration::from_millis(1900)).is_empty());
    let out = h.run(Duration::from_millis(100));
    assert_eq!(sent(&out), [(conn, Message::Open(local_open(&mine)))]);
    assert_eq!(h.fsm.state(), State::OpenSent);
}

#[test]
fn no_new_attempt_while_a_connection_is_up_even_with_delay_open() {
    let mut mine = r1();
    mine.delay_open = Some(Duration::from_secs(5));
    let mut h = One::new(mine);
    let out = h.input(Input::ManualStart);
    let Action::Connect { conn: attempt } = out[0] else { panic!("{out:?}") };
    // The peer's connection arrives first and waits out DelayOpen; our attempt fails.
    let inbound = h.fsm.next_conn_id();
    h.input(Input::TcpConnected { conn: inbound, direction: Direction::Inbound });
    h.input(Input::TcpFailed { conn: attempt });
    let out = h.run(Duration::from_secs(4));
    assert!(!out.iter().any(|a| matches!(a, Action::Connect { .. })), "{out:?}");
    assert_eq!(h.fsm.state(), State::Active);
}

#[test]
fn unexpected_messages_get_the_rfc6608_subcode_of_their_state() {
    let update = Message::Update(Update::default());
    let rr = Message::RouteRefresh(RouteRefresh::request(Family::IPV4_UNICAST));
    let open = Message::Open(local_open(&r2()));
    // (how far to bring the session, message, expected NOTIFICATION)
    let table: Vec<(u8, Message, (u8, u8))> = vec![
        (0, Message::Keepalive, (FSM_ERROR, FSM_UNEXPECTED_IN_OPENSENT)),
        (0, update.clone(), (FSM_ERROR, FSM_UNEXPECTED_IN_OPENSENT)),
        (0, rr.clone(), (FSM_ERROR, FSM_UNEXPECTED_IN_OPENSENT)),
        (1, open.clone(), (FSM_ERROR, FSM_UNEXPECTED_IN_OPENCONFIRM)),
        (1, update.clone(), (FSM_ERROR, FSM_UNEXPECTED_IN_OPENCONFIRM)),
        (1, rr, (FSM_ERROR, FSM_UNEXPECTED_IN_OPENCONFIRM)),
        (2, open, (FSM_ERROR, FSM_UNEXPECTED_IN_ESTABLISHED)),
    ];
    for (depth, message, want) in table {
        let mut h = One::new(r1());
        h.input(Input::ManualStart);
        let conn = h.fsm.next_conn_id();
        h.input(Input::TcpConnected { conn, direction: Direction::Inbound });
        if depth >= 1 {
            h.input(Input::Message { conn, message: Message::Open(local_open(&r2())) });
        }
        if depth >= 2 {
            h.input(Input::Message { conn, message: Message::Keepalive });
        }
        let out = h.input(Input::Message { conn, message: message.clone() });
        assert_eq!(notifications(&out), [want], "depth {depth} {message:?}");
        assert!(out.contains(&Action::Close { conn }));
        assert_eq!(h.fsm.state(), State::Idle, "depth {depth}");
        assert_eq!(depth == 2, out.iter().any(|a| matches!(a, Action::Down { .. })));
    }
    // In DelayOpen only an OPEN is expected; anything else is an unspecific FSM error.
    let mut mine = r1();
    mine.delay_open = Some(Duration::from_secs(5));
    let mut h = One::new(mine);
    h.input(Input::ManualStart);
    let conn = h.fsm.next_conn_id();
    h.input(Input::TcpConnected { conn, direction: Direction::Inbound });
    let out = h.input(Input::Message { conn, message: Message::Keepalive });
    assert_eq!(notifications(&out), [(FSM_ERROR, 0)]);
}

#[test]
fn a_bad_open_is_refused_with_its_notification() {
    let mut h = One::new(r1());
    h.input(Input::ManualStart);
    let conn = h.fsm.next_conn_id();
    h.input(Input::TcpConnected { conn, direction: Direction::Inbound });
    let wrong_as = local_open(&cfg(65099, 2, 4200000001));
    let out = h.input(Input::Message { conn, message: Message::Open(wrong_as) });
    assert_eq!(notifications(&out), [(OPEN_MESSAGE_ERROR, BAD_PEER_AS)]);
    assert!(matches!(out.last(), Some(Action::Transition { to: State::Idle, cause: Cause::OpenRejected(_), .. })));
}

#[test]
fn decode_errors_send_their_notification() {
    let mut h = One::new(r1());
    let conn = h.establish(&r2());
    let error = DecodeError::malformed_attribute_list("test");
    let out = h.input(Input::DecodeError { conn, error });
    assert_eq!(notifications(&out), [(UPDATE_MESSAGE_ERROR, MALFORMED_ATTRIBUTE_LIST)]);
    assert!(out.iter().any(|a| matches!(a, Action::Down { cause: Cause::DecodeError(_) })));
}

#[test]
fn updates_and_refreshes_are_handed_on_in_established() {
    let mut h = One::new(r1());
    let conn = h.establish(&r2());
    let out = h.input(Input::Message { conn, message: Message::Update(Update::default()) });
    assert_eq!(out, [Action::Update(Update::default())]);
    let rr = RouteRefresh::request(Family::IPV4_UNICAST);
    let out = h.input(Input::Message { conn, message: Message::RouteRefresh(rr) });
    assert_eq!(out, [Action::RouteRefresh(rr)]);
    // An UPDATE restarts the hold timer just like a KEEPALIVE.
    h.run(Duration::from_secs(5));
    h.input(Input::Message { conn, message: Message::Update(Update::default()) });
    assert!(notifications(&h.run(Duration::from_secs(5))).is_empty());
}

#[test]
fn manual_stop_sends_administrative_shutdown_and_stays_down() {
    let mut h = One::new(r1());
    let conn = h.establish(&r2());
    let out = h.input(Input::ManualStop(Stop::shutdown(Some("maintenance".into()))));
    let msgs = sent(&out);
    let [(c, Message::Notification(n))] = msgs.as_slice() else { panic!("{out:?}") };
    let c = *c;
    assert_eq!((c, n.code, n.subcode), (conn, CEASE, CEASE_ADMIN_SHUTDOWN));
    assert_eq!(n.shutdown_message().as_deref(), Some("maintenance"));
    assert!(out.iter().any(|a| matches!(a, Action::Down { .. })));
    assert_eq!(h.fsm.state(), State::Idle);
    assert!(h.run(Duration::from_secs(300)).is_empty());
}

#[test]
fn admin_reset_comes_back_after_idle_hold() {
    let mut mine = r1();
    mine.idle_hold = Duration::from_secs(4);
    let mut h = One::new(mine);
    h.establish(&r2());
    let out = h.input(Input::ManualStop(Stop::reset(None)));
    assert_eq!(notifications(&out), [(CEASE, CEASE_ADMIN_RESET)]);
    // Jitter 0.75..1.0 of 4 s: no earlier than 3 s, no later than 4 s.
    assert!(h.run(Duration::from_millis(2900)).is_empty());
    let out = h.run(Duration::from_millis(1100));
    assert!(out.iter().any(|a| matches!(a, Action::Connect { .. })), "{out:?}");
}

#[test]
fn idle_hold_backs_off_while_the_peer_keeps_failing_and_caps() {
    let mut mine = r1();
    mine.idle_hold = Duration::from_secs(1);
    mine.idle_hold_jitter = None;
    mine.passive = true;
    let mut h = One::new(mine);
    h.input(Input::ManualStart);
    let mut waits = Vec::new();
    for _ in 0..10 {
        let conn = h.fsm.next_conn_id();
        h.input(Input::TcpConnected { conn, direction: Direction::Inbound });
        h.input(Input::TcpFailed { conn });
        assert_eq!(h.fsm.state(), State::Idle);
        let start = h.now;
        while h.fsm.state() == State::Idle {
            h.run(Duration::from_millis(100));
        }
        waits.push(h.now.duration_since(start).as_secs());
    }
    assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 120, 120, 120]);
}

/// A started machine (idle hold 1 s, no jitter) whose peer connected and dropped three times.
fn failed_three_times(mut cfg: SessionConfig) -> One {
    cfg.idle_hold = Duration::from_secs(1);
    cfg.idle_hold_jitter = None;
    let mut h = One::new(cfg);
    h.input(Input::ManualStart);
    for _ in 0..3 {
        let conn = h.fsm.next_conn_id();
        h.input(Input::TcpConnected { conn, direction: Direction::Inbound });
        h.input(Input::TcpFailed { conn });
        h.run(Duration::from_secs(10));
    }
    assert_eq!(h.fsm.failures, 3);
    h
}

#[test]
fn a_stable_session_forgets_earlier_failures() {
    let mut mine = r1();
    mine.hold_time = 0;
    let mut h = failed_three_times(mine);
    let conn = h.fsm.next_conn_id();
    h.input(Input::TcpConnected { conn, direction: Direction::Inbound });
    let mut peer = r2();
    peer.hold_time = 0;
    h.input(Input::Message { conn, message: Message::Open(local_open(&peer)) });
    h.input(Input::Message { conn, message: Message::Keepalive });
    h.run(config::STABLE_AFTER);
    assert_eq!(h.fsm.failures, 0);
}

#[test]
fn a_stable_session_forgets_earlier_failures_without_ticks() {
    // An idle runner gets no ticks while the clock keeps its session alive: the drop
    // itself must see that the session was up long enough.
    let mut h = failed_three_times(r1());
    let conn = h.establish(&r2());
    h.now += config::STABLE_AFTER;
    h.input(Input::TcpFailed { conn });
    assert_eq!(h.fsm.failures, 1, "only this drop counts");
    let start = h.now;
    while h.fsm.state() == State::Idle {
        h.run(Duration::from_millis(100));
    }
    assert_eq!(h.now.duration_since(start), Duration::from_secs(1), "back to the base idle hold");
}

#[test]
fn connections_are_refused_while_stopped_and_duplicates_are_refused() {
    let mut h = One::new(r1());
    let conn = h.fsm.next_conn_id();
    let out = h.input(Input::TcpConnected { conn, direction: Direction::Inbound });
    assert_eq!(notifications(&out), [(CEASE, CEASE_CONNECTION_REJECTED)]);
    h.input(Input::ManualStart);
    let a = h.fsm.next_conn_id();
    h.input(Input::TcpConnected { conn: a, direction: Direction::Inbound });
    let b = h.fsm.next_conn_id();
    let out = h.input(Input::TcpConnected { conn: b, direction: Direction::Inbound });
    assert_eq!(notifications(&out), [(CEASE, CEASE_CONNECTION_REJECTED)]);
    assert_eq!(h.fsm.state(), State::OpenSent);
}

#[test]
fn after_an_administrative_shutdown_the_peer_is_refused_with_its_message() {
    let mut h = One::new(r1());
    h.establish(&r2());
    h.input(Input::ManualStop(Stop::shutdown(Some("maintenance".into()))));
    let conn = h.fsm.next_conn_id();
    let out = h.input(Input::TcpConnected { conn, direction: Direction::Inbound });
    let sent: Vec<&Notification> = out
        .iter()
        .filter_map(|a| match a {
            Action::Send { message: Message::Notification(n), .. } => Some(n),
            _ => None,
        })
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].code, sent[0].subcode), (CEASE, CEASE_ADMIN_SHUTDOWN));
    assert_eq!(sent[0].shutdown_message().as_deref(), Some("maintenance"));
    // Started again and stopped for another reason: back to Connection Rejected.
    h.input(Input::ManualStart);
    h.input(Input::ManualStop(Stop::deconfigured()));
    let conn = h.fsm.next_conn_id();
    let out = h.input(Input::TcpConnected { conn, direction: Direction::Inbound });
    assert_eq!(notifications(&out), [(CEASE, CEASE_CONNECTION_REJECTED)]);
}

#[test]
fn the_peer_may_connect_while_we_wait_out_idle_hold() {
    let mut mine = r1();
    mine.idle_hold = Duration::from_secs(30);
    mine.idle_hold_jitter = None;
    let mut h = One::new(mine);
    h.establish(&r2());
    let conn = h.fsm.established_conn().unwrap();
    h.input(Input::TcpFailed { conn });
    assert_eq!(h.fsm.state(), State::Idle);
    // Our own restart waits 30 s, but the peer's connection is taken at once.
    let inbound = h.fsm.next_conn_id();
    let out = h.input(Input::TcpConnected { conn: inbound, direction: Direction::Inbound });
    assert_eq!(sent(&out), [(inbound, Message::Open(local_open(&r1())))]);
    assert_eq!(h.fsm.state(), State::OpenSent);
    assert!(!h.run(Duration::from_secs(40)).iter().any(|a| matches!(a, Action::Connect { .. })));
}

#[test]
fn a_restart_delay_holds_the_session_down_even_against_the_peer() {
    let mut h = One::new(r1());
    h.establish(&r2());
    let stop = Stop::max_prefixes(crate::wire::Family::IPV4_UNICAST, 10, Some(Duration::from_secs(5)));
    h.input(Input::ManualStop(stop));
    h.run(Duration::from_secs(1));
    let conn = h.fsm.next_conn_id();
    let out = h.input(Input::TcpConnected { conn, direction: Direction::Inbound });
    assert_eq!(notifications(&out), [(CEASE, CEASE_CONNECTION_REJECTED)]);
    assert!(!h.run(Duration::from_millis(3900)).iter().any(|a| matches!(a, Action::Connect { .. })));
    let out = h.run(Duration::from_millis(200));
    assert!(out.iter().any(|a| matches!(a, Action::Connect { .. })), "back by itself after 5 s: {out:?}");
}

#[test]
fn a_new_connection_loses_against_an_established_session() {
    let mut h = One::new(r1());
    let est = h.establish(&r2());
    let conn = h.fsm.next_conn_id();
    let out = h.input(Input::TcpConnected { conn, direction: Direction::Outbound });
    // Not the pending attempt: closed silently.
    assert_eq!(out, [Action::Close { conn }]);
    h.fsm.pending_connect = Some(conn);
    let out = h.input(Input::TcpConnected { conn, direction: Direction::Outbound });
    assert_eq!(notifications(&out), [(CEASE, CEASE_CONNECTION_COLLISION)]);
    assert!(out
        .iter()
        .any(|a| matches!(a, Action::Note(Note::Collision { kept, closed, .. }) if *kept == est && *closed == conn)));
    assert_eq!(h.fsm.state(), State::Established);
}

#[test]
fn deterministic_resolution_can_replace_an_established_session() {
    let mut mine = r1();
    mine.deterministic_collision_resolution = true;
    mine.passive = true;
    let mut h = One::new(mine);
    let old = h.establish(&r2());
    // r1 (id 1) has the lower identifier: the connection the peer initiated wins. Here both
    // are inbound in spirit; make the new one outbound so that the inbound established one wins.
    let conn = h.fsm.next_conn_id();
    h.fsm.pending_connect = Some(conn);
    h.input(Input::TcpConnected { conn, direction: Direction::Outbound });
    let out = h.input(Input::Message { conn, message: Message::Open(local_open(&r2())) });
    assert_eq!(sent(&out), [(conn, Message::Notification(Notification::cease(CEASE_CONNECTION_COLLISION, None)))]);
    assert_eq!(h.fsm.established_conn(), Some(old));

    // With the identifiers swapped, the new outbound connection wins and the established
    // session is torn down.
    let mut mine = r2();
    mine.deterministic_collision_resolution = true;
    mine.passive = true;
    let mut h = One::new(mine);
    let old = h.establish(&r1());
    let conn = h.fsm.next_conn_id();
    h.fsm.pending_connect = Some(conn);
    h.input(Input::TcpConnected { conn, direction: Direction::Outbound });
    let out = h.input(Input::Message { conn, message: Message::Open(local_open(&r1())) });
    assert_eq!(notifications(&out), [(CEASE, CEASE_CONNECTION_COLLISION)]);
    assert!(out.contains(&Action::Close { conn: old }));
    assert!(out.iter().any(|a| matches!(a, Action::Down { cause: Cause::CollisionLost })));
    assert_eq!(h.fsm.state(), State::OpenConfirm);
}

/// Two FSMs joined by an in-memory network that delivers every action at once.
struct Pair {
    a: One,
    b: One,
    /// (side, conn) -> (other side, conn there)
    links: HashMap<(usize, ConnId), (usize, ConnId)>,
    /// Every NOTIFICATION sent: (side, conn, code, subcode).
    notes: Vec<(usize, ConnId, u8, u8)>,
    log: Vec<(usize, Action)>,
}

impl Pair {
    fn new(a: SessionConfig, b: SessionConfig) -> Pair {
        Pair { a: One::new(a), b: One::new(b), links: HashMap::new(), notes: Vec::new(), log: Vec::new() }
    }

    fn side(&mut self, s: usize) -> &mut One {
        if s == 0 {
            &mut self.a
        } else {
            &mut self.b
        }
    }

    /// Delivers inputs breadth-first until the network is quiet. Connect attempts are
    /// queued in `connects` so a test can choose when they complete.
    fn pump(&mut self, mut queue: Vec<(usize, Input)>, connects: &mut Vec<(usize, ConnId)>) {
        while !queue.is_empty() {
            let mut next = Vec::new();
            for (s, input) in queue {
                let out = self.side(s).input(input);
                for action in out {
                    self.log.push((s, action.clone()));
                    match action {
                        Action::Connect { conn } => connects.push((s, conn)),
                        Action::Send { conn, message } => {
                            if let Message::Notification(n) = &message {
                                self.notes.push((s, conn, n.code, n.subcode));
                            }
                            if let Some(&(o, oc)) = self.links.get(&(s, conn)) {
                                next.push((o, Input::Message { conn: oc, message }));
                            }
                        }
                        Action::Close { conn } => {
                            if let Some((o, oc)) = self.links.remove(&(s, conn)) {
                                self.links.remove(&(o, oc));
                                next.push((o, Input::TcpFailed { conn: oc }));
                            }
                        }
                        _ => {}
                    }
                }
            }
            queue = next;
        }
    }

    /// Completes an outbound attempt of side `s`: the other side accepts it.
    fn complete(&mut self, s: usize, conn: ConnId) -> Vec<(usize, Input)> {
        let o = 1 - s;
        let oc = self.side(o).fsm.next_conn_id();
        self.links.insert((s, conn), (o, oc));
        self.links.insert((o, oc), (s, conn));
        vec![
            (s, Input::TcpConnected { conn, direction: Direction::Outbound }),
            (o, Input::TcpConnected { conn: oc, direction: Direction::Inbound }),
        ]
    }
}

/// The reference log: both routers start at once and connect to each other; the collision
/// is resolved by identifier, the loser gets Cease / Connection Collision Resolution and
/// both end up Established on the connection the higher identifier initiated.
fn reference_collision(a: SessionConfig, b: SessionConfig) {
    let higher = if a.local_id > b.local_id { 0 } else { 1 };
    let mut p = Pair::new(a, b);
    let mut connects = Vec::new();
    p.pump(vec![(0, Input::ManualStart), (1, Input::ManualStart)], &mut connects);
    assert_eq!(connects.len(), 2);
    // b's attempt lands first (as in the log, r1 accepts r2's connection), a's right after.
    let (s0, c0) = connects[1];
    let (s1, c1) = connects[0];
    let mut first = p.complete(s0, c0);
    first.extend(p.complete(s1, c1));
    let mut more = Vec::new();
    p.pump(first, &mut more);
    assert!(more.is_empty());

    assert_eq!(p.a.fsm.state(), State::Established);
    assert_eq!(p.b.fsm.state(), State::Established);
    let ea = p.a.fsm.established_conn().unwrap();
    let eb = p.b.fsm.established_conn().unwrap();
    assert_eq!(p.links.get(&(0, ea)), Some(&(1, eb)), "both sides kept the same TCP connection");
    // The kept connection is the one the higher identifier initiated.
    let kept_initiator = if connects.contains(&(0, ea)) { 0 } else { 1 };
    assert_eq!(kept_initiator, higher);
    // Each side sent exactly one Cease/7, on the losing connection, and nothing else.
    let mut ceases: Vec<_> = p.notes.iter().map(|&(s, _, code, sub)| (s, code, sub)).collect();
    ceases.sort();
    assert_eq!(ceases, [(0, CEASE, CEASE_CONNECTION_COLLISION), (1, CEASE, CEASE_CONNECTION_COLLISION)]);
    // The collision note names the winner correctly on both sides.
    for (s, a) in &p.log {
        if let Action::Note(Note::Collision { reason, .. }) = a {
            let local_higher = *s == higher;
            assert!(
                reason.starts_with(if local_higher {
                    "local identifier is higher"
                } else {
                    "remote identifier is higher"
                }),
                "{reason}"
            );
        }
    }

    // Keepalives flow and hold the session up; shutdown sends Administrative Shutdown.
    for _ in 0..10 {
        let mut q = Vec::new();
        for s in 0..2 {
            p.side(s).now += Duration::from_secs(1);
            q.push((s, Input::Tick));
        }
        let mut none = Vec::new();
        p.pump(q, &mut none);
    }
    assert_eq!(p.a.fsm.state(), State::Established);
    assert_eq!(p.b.fsm.state(), State::Established);
    let mut none = Vec::new();
    p.notes.clear();
    p.pump(vec![(0, Input::ManualStop(Stop::shutdown(None)))], &mut none);
    assert_eq!(p.notes, [(0, ea, CEASE, CEASE_ADMIN_SHUTDOWN)]);
    assert_eq!(p.a.fsm.state(), State::Idle);
    assert_ne!(p.b.fsm.state(), State::Established);
}

#[test]
fn reference_collision_lower_identifier_first() {
    reference_collision(r1(), r2());
}

#[test]
fn reference_collision_higher_identifier_first() {
    reference_collision(r2(), r1());
}

#[test]
fn equal_identifiers_fall_back_to_the_as_number() {
    let mut a = r1();
    let mut b = r2();
    a.local_id = Ipv4Addr::new(10, 0, 0, 1);
    b.local_id = Ipv4Addr::new(10, 0, 0, 1);
    let mut p = Pair::new(a, b);
    let mut connects = Vec::new();
    p.pump(vec![(0, Input::ManualStart), (1, Input::ManualStart)], &mut connects);
    let mut q = p.complete(connects[0].0, connects[0].1);
    q.extend(p.complete(connects[1].0, connects[1].1));
    let mut none = Vec::new();
    p.pump(q, &mut none);
    assert_eq!(p.a.fsm.state(), State::Established);
    // b has the higher AS (4200000002): the connection b initiated survives.
    let eb = p.b.fsm.established_conn().unwrap();
    assert!(connects.contains(&(1, eb)));
}

#[test]
fn open_for_unknown_open_parameters_is_refused() {
    let mut h = One::new(r1());
    h.input(Input::ManualStart);
    let conn = h.fsm.next_conn_id();
    h.input(Input::TcpConnected { conn, direction: Direction::Inbound });
    let mut open: Open = local_open(&r2());
    open.other_params.push((1, vec![1, 2]));
    let out = h.input(Input::Message { conn, message: Message::Open(open) });
    assert_eq!(notifications(&out), [(OPEN_MESSAGE_ERROR, UNSUPPORTED_OPTIONAL_PARAMETER)]);
}
