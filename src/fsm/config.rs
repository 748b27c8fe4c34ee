//! What one session needs to know about itself and its peer: the pure FSM's configuration.
//!
//! The daemon's configuration file and the library API both end up here. Nothing in this
//! struct changes while a session runs; a reload that changes a field listed in
//! [`SessionConfig::reset_fields`] restarts the session, any other change applies in place.

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::wire::{AddPathDirection, Family};

#[derive(Debug, Clone, PartialEq)]
pub struct SessionConfig {
    pub local_asn: u32,
    pub local_id: Ipv4Addr,
    /// The peer's AS; `None` accepts any (useful for ad-hoc tests and route servers' clients).
    pub remote_asn: Option<u32>,
    /// Wait for the peer to connect instead of connecting (RFC 4271 §8.1.1 PassiveTcpEstablishment).
    pub passive: bool,
    /// Proposed hold time in seconds: 0, or 3 and above.
    pub hold_time: u16,
    /// Interval between KEEPALIVEs when the proposed hold time is the negotiated one.
    pub keepalive: Duration,
    pub connect_retry: Duration,
    /// Idle time before an automatic restart after a failure; doubled per further failure
    /// while the peer keeps failing (DampPeerOscillations), up to [`MAX_IDLE_HOLD`].
    pub idle_hold: Duration,
    /// Each idle-hold wait is multiplied by a random factor in this range (the reference log
    /// uses 0.75..1.0).
    pub idle_hold_jitter: Option<(f64, f64)>,
    pub connect_retry_jitter: Option<(f64, f64)>,
    /// RFC 4271 DelayOpen: wait this long for the peer's OPEN before sending ours.
    pub delay_open: Option<Duration>,
    /// Resolve a collision with an Established session by BGP identifier too, instead of
    /// always keeping the Established one.
    pub deterministic_collision_resolution: bool,
    /// Families offered with the multiprotocol capability.
    pub families: Vec<Family>,
    /// ADD-PATH offered per family.
    pub add_path: Vec<(Family, AddPathDirection)>,
    pub extended_message: bool,
    pub route_refresh: bool,
    /// RFC 8950: offer IPv4 unicast routes with an IPv6 next hop (the extended next hop
    /// encoding capability for IPv4 unicast over IPv6).
    pub extended_next_hop: bool,
    /// Offer the graceful restart capability with no families (RFC 4724 §3, "restart
    /// aware"): tern keeps no forwarding state across a restart, but peers that send
    /// End-of-RIB only to GR speakers (FRR 8) then send it, and answer route refresh.
    pub graceful_restart_aware: bool,
}

/// Ceiling of the idle-hold back-off.
pub const MAX_IDLE_HOLD: Duration = Duration::from_secs(120);
/// A session that stays Established this long forgets its earlier failures.
pub const STABLE_AFTER: Duration = Duration::from_secs(60);
/// Hold timer while waiting for the peer's OPEN (RFC 4271 §8.2.2 suggests 4 minutes).
pub const LARGE_HOLD: Duration = Duration::from_secs(240);

impl SessionConfig {
    /// Defaults in the spirit of RFC 4271 §10: hold 90 s, keepalive 30 s, connect retry
    /// 30 s, IPv4 unicast with route refresh.
    pub fn new(local_asn: u32, local_id: Ipv4Addr, remote_asn: Option<u32>) -> SessionConfig {
        SessionConfig {
            local_asn,
            local_id,
            remote_asn,
            passive: false,
            hold_time: 90,
            keepalive: Duration::from_secs(30),
            connect_retry: Duration::from_secs(30),
            idle_hold: Duration::from_secs(1),
            idle_hold_jitter: Some((0.75, 1.0)),
            connect_retry_jitter: None,
            delay_open: None,
            deterministic_collision_resolution: false,
            families: vec![Family::IPV4_UNICAST],
            add_path: Vec::new(),
            extended_message: false,
            route_refresh: true,
            extended_next_hop: false,
            graceful_restart_aware: true,
        }
    }

    /// Whether the peer is in another AS (unknown counts as external).
    pub fn is_ebgp(&self) -> bool {
        self.remote_asn != Some(self.local_asn)
    }

    /// Fields whose change forces the session to restart (RFC 4271 gives no way to change
    /// them on a live session: they are in the OPEN or decide who the peer is).
    pub fn reset_fields() -> &'static [&'static str] {
        &[
            "local_asn",
            "local_id",
            "remote_asn",
            "passive",
            "hold_time",
            "families",
            "add_path",
            "extended_message",
            "route_refresh",
        ]
    }

    /// Whether going from `self` to `new` needs a session reset.
    pub fn needs_reset(&self, new: &SessionConfig) -> bool {
        self.local_asn != new.local_asn
            || self.local_id != new.local_id
            || self.remote_asn != new.remote_asn
            || self.passive != new.passive
            || self.hold_time != new.hold_time
            || self.families != new.families
            || self.add_path != new.add_path
            || self.extended_message != new.extended_message
            || self.route_refresh != new.route_refresh
    }
}
