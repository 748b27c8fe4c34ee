//! Routing information: what each peer sent (Adj-RIB-In), what tern picked (Loc-RIB), and
//! what it tells each peer (Adj-RIB-Out), owned by one thread and fed by batches.
//!
//! The types here are shared by the pure parts: [`decision`] (best path, RFC 4271 §9.1.2)
//! and `crate::policy` (import and export rules) see a route as a [`PeerInfo`] plus a
//! `PathAttributes`, never the tables themselves.

pub(crate) mod adjin;
pub mod decision;
pub mod engine;
pub(crate) mod export;
pub(crate) mod import;
pub mod intern;
pub mod query;
pub mod table;

pub use engine::{Answer, PeerRules, Query, Rib, RibMsg, RouteInfo};
pub use query::{RibView, RouteQuery};

use std::net::{IpAddr, Ipv4Addr};

/// Index of a peer in the RIB; [`LOCAL`] stands for routes tern originates itself.
pub type PeerId = u32;

/// The pseudo-peer of locally originated routes.
pub const LOCAL: PeerId = 0;

/// Default LOCAL_PREF for routes that carry none (RFC 4271 §5.1.5 leaves it local).
pub const DEFAULT_LOCAL_PREF: u32 = 100;

/// What the decision process and policies need to know about where a route came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    pub id: PeerId,
    pub name: String,
    /// The neighbor's address; unspecified for [`LOCAL`].
    pub address: IpAddr,
    pub asn: u32,
    /// The BGP identifier the peer sent in its OPEN (ours for [`LOCAL`]).
    pub router_id: Ipv4Addr,
    /// External peer (another AS).
    pub ebgp: bool,
    /// A route reflector client of ours (RFC 4456).
    pub rr_client: bool,
}

impl PeerInfo {
    /// The pseudo-peer for routes this router originates.
    pub fn local(asn: u32, router_id: Ipv4Addr) -> PeerInfo {
        PeerInfo {
            id: LOCAL,
            name: "local".into(),
            address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            asn,
            router_id,
            ebgp: false,
            rr_client: false,
        }
    }
}
