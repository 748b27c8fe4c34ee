//! Import: which routes from a peer are accepted, before and through its import policy.
//!
//! Checks that reject a whole attribute set (every prefix it carries):
//! - AS_PATH loop: our own AS more often than `allow_own_as` (RFC 4271 §9.1.2);
//! - eBGP with `enforce_first_as`: the path must start with the neighbor's AS
//!   (RFC 4271 §6.3, treat-as-withdraw per RFC 7606 §7.2);
//! - route reflection loops: our identifier as ORIGINATOR_ID, or our cluster id in
//!   CLUSTER_LIST (RFC 4456 §8).
//!
//! Then GRACEFUL_SHUTDOWN (RFC 8326) lowers LOCAL_PREF to 0, and the import policy runs:
//! with none configured, RFC 8212 rejects everything from an eBGP neighbor.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use super::engine::Peer;
use super::PeerInfo;
use crate::policy::{EvalContext, Policy, RouteView, Verdict};
use crate::wire::attrs::GRACEFUL_SHUTDOWN;
use crate::wire::{Family, NextHop, Nlri, PathAttributes};

pub fn check(peer: &Peer, local: &PeerInfo, cluster_id: Ipv4Addr, attrs: &PathAttributes) -> Result<(), &'static str> {
    if let Some(path) = &attrs.as_path {
        let own = path.segments().flat_map(|s| s.asns.iter()).filter(|&&a| a == local.asn).count();
        if own > usize::from(peer.rules.allow_own_as) {
            return Err("AS_PATH contains our AS (loop)");
        }
        if peer.info.ebgp && peer.rules.enforce_first_as && path.first_as() != Some(peer.info.asn) {
            return Err("the first AS of the path is not the neighbor's (enforce_first_as)");
        }
    }
    if attrs.originator_id == Some(local.router_id) {
        return Err("ORIGINATOR_ID is our identifier (reflection loop)");
    }
    if attrs.cluster_list.contains(&cluster_id) {
        return Err("CLUSTER_LIST contains our cluster id (reflection loop)");
    }
    Ok(())
}

/// Changes every route gets before policy.
pub fn prepare(attrs: &mut PathAttributes) {
    if attrs.communities.contains(&GRACEFUL_SHUTDOWN) {
        attrs.local_pref = Some(0);
    }
}

/// The import policy to run, `None` when every route is accepted unchanged.
pub fn policy(peer: &Peer) -> Option<Arc<Policy>> {
    match &peer.rules.import {
        Some(p) if p.rules.is_empty() && p.default == Verdict::Accept => None,
        Some(p) => Some(p.clone()),
        None if peer.info.ebgp => Some(Arc::new(Policy::reject_all())),
        None => None,
    }
}

pub fn eval_context(local: &PeerInfo) -> EvalContext {
    EvalContext { local_asn: local.asn, self_next_hop: None }
}

/// Runs `policy` over one route. `None` when rejected; otherwise the new next hop, if the
/// policy set one (`attrs` may have been changed too).
pub fn apply(
    policy: &Policy,
    neighbor: &PeerInfo,
    family: Family,
    nlri: Nlri,
    attrs: &mut PathAttributes,
    mp_next_hop: Option<NextHop>,
    ctx: &EvalContext,
) -> Option<Option<IpAddr>> {
    let next_hop = match mp_next_hop {
        Some(NextHop::V4(a)) => Some(IpAddr::V4(a)),
        Some(NextHop::V6(a) | NextHop::V6LinkLocal(a, _)) => Some(IpAddr::V6(a)),
        None => attrs.next_hop.map(IpAddr::V4),
    };
    let view = RouteView { prefix: nlri.prefix, path_id: nlri.path_id, neighbor, family, next_hop };
    let outcome = policy.evaluate(&view, attrs, ctx);
    (outcome.verdict == Verdict::Accept).then_some(outcome.next_hop)
}

/// Writes a next hop a policy set where the family keeps it.
pub fn set_next_hop(attrs: &mut PathAttributes, mp_next_hop: &mut Option<NextHop>, family: Family, next_hop: IpAddr) {
    match (family == Family::IPV4_UNICAST, next_hop) {
        // An IPv4 route with an IPv4 next hop: NEXT_HOP, even if it had an RFC 8950 one.
        (true, IpAddr::V4(a)) => {
            attrs.next_hop = Some(a);
            *mp_next_hop = None;
        }
        (false, IpAddr::V4(a)) => *mp_next_hop = Some(NextHop::V4(a)),
        (_, IpAddr::V6(a)) => *mp_next_hop = Some(NextHop::V6(a)),
    }
}
