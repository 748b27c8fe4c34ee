//! What a runner publishes about its peer for everyone else to read: an immutable
//! [`PeerStatus`] behind an `Arc`, swapped whole. Readers never see a half-updated view and
//! never hold a lock while they look at it.
//!
//! KEEPALIVE counts are the exception: an idle session's runner sleeps while its reader
//! counts the peer's KEEPALIVEs and the clock sends its own (`crate::keepalive`), so those
//! two counters are atomics ([`LiveCounters`]) that [`PeerCell::load`] folds in.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use crate::fsm::{Negotiated, State};
use crate::wire::Notification;

/// A published, read-only value: `load` hands out the current `Arc`, `publish` replaces it.
#[derive(Debug)]
pub struct Snapshot<T>(RwLock<Arc<T>>);

impl<T> Snapshot<T> {
    pub fn new(value: T) -> Arc<Snapshot<T>> {
        Arc::new(Snapshot(RwLock::new(Arc::new(value))))
    }

    pub fn load(&self) -> Arc<T> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn publish(&self, value: T) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(value);
    }
}

/// KEEPALIVEs in and out, counted by whichever thread handles them.
#[derive(Debug, Default)]
pub struct LiveCounters {
    pub keepalives_received: AtomicU64,
    pub keepalives_sent: AtomicU64,
}

/// A peer's published status and its [`LiveCounters`].
#[derive(Debug)]
pub struct PeerCell {
    snapshot: Snapshot<PeerStatus>,
    pub live: Arc<LiveCounters>,
}

impl PeerCell {
    pub fn new(status: PeerStatus) -> Arc<PeerCell> {
        Arc::new(PeerCell { snapshot: Snapshot(RwLock::new(Arc::new(status))), live: Arc::default() })
    }

    pub fn publish(&self, status: PeerStatus) {
        self.snapshot.publish(status);
    }

    /// The latest status, with the KEEPALIVE counts as of now.
    pub fn load(&self) -> Arc<PeerStatus> {
        let status = self.snapshot.load();
        let received = self.live.keepalives_received.load(Ordering::Relaxed);
        let sent = self.live.keepalives_sent.load(Ordering::Relaxed);
        if (status.received.keepalive, status.sent.keepalive) == (received, sent) {
            return status;
        }
        let mut now = (*status).clone();
        now.received.keepalive = received;
        now.sent.keepalive = sent;
        Arc::new(now)
    }
}

/// Messages by type, in and out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageCounts {
    pub open: u64,
    pub update: u64,
    pub notification: u64,
    pub keepalive: u64,
    pub route_refresh: u64,
}

impl MessageCounts {
    pub fn total(&self) -> u64 {
        self.open + self.update + self.notification + self.keepalive + self.route_refresh
    }

    pub fn count(&mut self, kind: crate::wire::MessageType) {
        use crate::wire::MessageType::*;
        match kind {
            Open => self.open += 1,
            Update => self.update += 1,
            Notification => self.notification += 1,
            Keepalive => self.keepalive += 1,
            RouteRefresh => self.route_refresh += 1,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PeerStatus {
    pub name: String,
    pub address: IpAddr,
    pub state: State,
    /// When the state last changed.
    pub since: SystemTime,
    pub established_at: Option<SystemTime>,
    /// Local and remote address of the Established connection.
    pub connection: Option<(SocketAddr, SocketAddr)>,
    pub negotiated: Option<Arc<Negotiated>>,
    pub received: MessageCounts,
    pub sent: MessageCounts,
    /// Prefixes announced and withdrawn by the peer, over the session's life.
    pub prefixes_announced: u64,
    pub prefixes_withdrawn: u64,
    /// Prefixes sent to the peer (announcements and withdrawals) from the RIB.
    pub prefixes_sent: u64,
    /// Malformed attributes repaired under RFC 7606 (treat-as-withdraw, discard).
    pub attribute_faults: u64,
    pub last_error: Option<String>,
    pub last_notification_sent: Option<Notification>,
    pub last_notification_received: Option<Notification>,
    pub established_count: u64,
    /// Families for which the peer sent End-of-RIB (RFC 4724 §2) in the current session:
    /// its initial table is complete.
    pub end_of_rib: Vec<crate::wire::Family>,
}

impl PeerStatus {
    pub fn new(name: String, address: IpAddr) -> PeerStatus {
        PeerStatus {
            name,
            address,
            state: State::Idle,
            since: SystemTime::now(),
            established_at: None,
            connection: None,
            negotiated: None,
            received: MessageCounts::default(),
            sent: MessageCounts::default(),
            prefixes_announced: 0,
            prefixes_withdrawn: 0,
            prefixes_sent: 0,
            attribute_faults: 0,
            last_error: None,
            last_notification_sent: None,
            last_notification_received: None,
            established_count: 0,
            end_of_rib: Vec::new(),
        }
    }
}
