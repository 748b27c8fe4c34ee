//! Export: what each peer is sent, grouped by attribute set, encoded once per batch.
//!
//! For a best path offered to peer Q the rules are applied in this order:
//! 1. Q must carry the family, and never gets a path back from itself.
//! 2. Well-known communities: NO_ADVERTISE goes nowhere; NO_EXPORT and NO_EXPORT_SUBCONFED
//!    stay inside the AS (RFC 1997).
//! 3. iBGP to iBGP only through a route reflector: the source or Q is a client (RFC 4456).
//! 4. Attributes for the session: towards eBGP, our AS prepended, the next hop set to our
//!    address on the session, LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST removed, and a MED
//!    learned from another AS not passed on (RFC 4271 §5.1.4); towards iBGP, LOCAL_PREF
//!    present (default 100), next hop kept unless `next_hop_self` or the route is our own,
//!    and when reflecting ORIGINATOR_ID set and our cluster id prepended to CLUSTER_LIST.
//! 5. The export policy; with none, RFC 8212: nothing to eBGP, everything to iBGP.
//!
//! Pending announcements are grouped by the resulting attribute set; a cache keyed by the
//! source set's address and the source peer makes that one transformation per set per
//! batch, not per prefix. There is no stored Adj-RIB-Out: whether a withdrawal is due is
//! decided by running the same rules over the previous best path.

use std::net::IpAddr;
use std::sync::Arc;

use slog::{warn, Logger};

use super::engine::{Peer, PeerRules};
use super::intern::{Attrs, RouteAttrs};
use super::table::{KeyMap, Path};
use super::{PeerInfo, DEFAULT_LOCAL_PREF, LOCAL};
use crate::channels::{Control, Mailbox, RunnerMsg};
use crate::fsm::Stop;
use crate::policy::{EvalContext, RouteView, Verdict};
use crate::wire::attrs::{NO_ADVERTISE, NO_EXPORT, NO_EXPORT_SUBCONFED};
use crate::wire::{Ctx, Family, Message, NextHop, Nlri, Prefix, Update, UpdateEncoder};

/// Announcements waiting for the end of the batch, sharing one attribute set.
struct Group {
    family: Family,
    attrs: RouteAttrs,
    /// First and last entry of this group's prefixes in [`PeerOut::arena`].
    first: u32,
    last: u32,
    count: u32,
    /// The next group whose fingerprint collided with this one's.
    next: Option<usize>,
}

/// No entry.
const NONE: u32 = u32::MAX;

/// The sending side of one Established peer.
pub struct PeerOut {
    out: Mailbox,
    ctx: Ctx,
    families: Vec<Family>,
    local_addr: IpAddr,
    groups: Vec<Group>,
    /// Every pending prefix of every group, each linked to the next of its group: one
    /// buffer for the batch instead of an allocation per attribute set.
    arena: Vec<(Nlri, u32)>,
    /// Prefixes of one group, gathered at flush.
    scratch: Vec<Nlri>,
    /// Groups by fingerprint of (family, attributes), the first of a collision chain.
    by_attrs: KeyMap<u64, usize>,
    /// (source set address, source peer, family) → group, or `None` when not exported.
    cache: KeyMap<(usize, u32, u16), Option<usize>>,
    /// Keeps the source sets of the cache alive until the flush, so addresses stay unique.
    pinned: Vec<Attrs>,
    /// The last cache entry used: consecutive prefixes usually share their set (a dense
    /// table sends a thousand per UPDATE), and this skips the hash lookup for them.
    last: Option<((usize, u32, u16), Option<usize>)>,
    withdrawn: Vec<(Family, Nlri)>,
    /// ROUTE-REFRESH markers to send after the pending UPDATEs.
    markers: Vec<crate::wire::RouteRefresh>,
    /// Send End-of-RIB for every family at the next flush (after the initial table).
    pub end_of_rib: bool,
    /// The peer supports enhanced route refresh (BoRR/EoRR, RFC 7313).
    pub enhanced_refresh: bool,
    /// RFC 8950 was negotiated: IPv4 routes may go with an IPv6 next hop.
    pub v4_over_v6: bool,
}

impl PeerOut {
    pub fn new(out: Mailbox, ctx: Ctx, families: Vec<Family>, local_addr: IpAddr) -> PeerOut {
        PeerOut {
            out,
            ctx,
            families,
            local_addr,
            groups: Vec::new(),
            by_attrs: KeyMap::default(),
            arena: Vec::new(),
            scratch: Vec::new(),
            cache: KeyMap::default(),
            pinned: Vec::new(),
            last: None,
            withdrawn: Vec::new(),
            markers: Vec::new(),
            end_of_rib: false,
            enhanced_refresh: false,
            v4_over_v6: false,
        }
    }

    /// Tells the runner to stop the session: the peer sent more than its limit.
    pub fn max_prefixes_exceeded(&self, family: Family, limit: u32, restart: Option<std::time::Duration>) {
        let _ = self.out.send(RunnerMsg::Control(Control::Stop(Stop::max_prefixes(family, limit, restart))));
    }

    /// Encodes everything pending and hands it to the runner in one message.
    pub fn flush(&mut self, log: &Logger) {
        if self.groups.is_empty() && self.withdrawn.is_empty() && !self.end_of_rib && self.markers.is_empty() {
            return;
        }
        // About 8 octets per prefix plus the attributes of each group.
        let mut bytes =
            Vec::with_capacity(self.arena.len() * 8 + self.groups.len() * 64 + self.withdrawn.len() * 8 + 64);
        let mut updates = 0usize;
        let mut prefixes = 0usize;
        for family in [Family::IPV4_UNICAST, Family::IPV6_UNICAST] {
            let w: Vec<Nlri> = self.withdrawn.iter().filter(|(f, _)| *f == family).map(|(_, n)| *n).collect();
            if !w.is_empty() {
                updates += UpdateEncoder::withdraw(&self.ctx, family, &w, &mut bytes);
                prefixes += w.len();
            }
        }
        for g in self.groups.drain(..) {
            self.scratch.clear();
            let mut at = g.first;
            while at != NONE {
                let (n, next) = self.arena[at as usize];
                self.scratch.push(n);
                at = next;
            }
            match UpdateEncoder::new(&self.ctx, g.family, &g.attrs.attrs, g.attrs.mp_next_hop()) {
                Ok(enc) => {
                    updates += enc.announce(&self.scratch, &mut bytes);
                    prefixes += self.scratch.len();
                }
                Err(e) => {
                    warn!(log, "routes not sent: attributes too large for the session"; "error" => %e, "prefixes" => g.count)
                }
            }
        }
        self.arena.clear();
        if std::mem::take(&mut self.end_of_rib) {
            for family in &self.families {
                if Message::Update(Update::end_of_rib(*family)).encode(&self.ctx, &mut bytes).is_ok() {
                    updates += 1;
                }
            }
        }
        for m in self.markers.drain(..) {
            if crate::wire::Message::RouteRefresh(m).encode(&self.ctx, &mut bytes).is_ok() {
                updates += 1;
            }
        }
        self.withdrawn.clear();
        self.by_attrs.clear();
        self.cache.clear();
        self.last = None;
        self.pinned.clear();
        if !bytes.is_empty() {
            let _ = self.out.send(RunnerMsg::Export { bytes, updates, prefixes });
        }
    }
}

fn has_community(attrs: &RouteAttrs, c: u32) -> bool {
    attrs.attrs.communities.contains(&c)
}

/// What export needs to know about this router.
pub struct Env<'a> {
    pub local: &'a PeerInfo,
    pub cluster_id: std::net::Ipv4Addr,
}

/// A route offered for export: the best path of a prefix and where it came from.
pub struct Route<'a> {
    pub family: Family,
    pub prefix: Prefix,
    pub path: &'a Path,
    pub src: &'a PeerInfo,
    /// The ADD-PATH identifier to send it under (0 to peers that take one path).
    pub path_id: u32,
}

/// The identifier a path is sent under to ADD-PATH peers: stable for as long as the path
/// exists, and distinct between paths of one prefix (the source peer in the upper half, the
/// source's own identifier in the lower; sources with identifiers above 65535 for the same
/// prefix could collide).
pub fn tx_path_id(path: &Path) -> u32 {
    (path.peer << 16) | (path.path_id & 0xffff)
}

/// Steps 1-5 of the module comment: the attributes the route is sent to `peer` with, or
/// `None`.
fn transform(q: &PeerInfo, rules: &PeerRules, out: &PeerOut, env: &Env, route: &Route) -> Option<RouteAttrs> {
    let Route { family, prefix, path, src, .. } = *route;
    let (local, cluster_id) = (env.local, env.cluster_id);
    if !out.families.contains(&family) || src.id == q.id {
        return None;
    }
    let a = &path.attrs;
    if has_community(a, NO_ADVERTISE)
        || (q.ebgp && (has_community(a, NO_EXPORT) || has_community(a, NO_EXPORT_SUBCONFED)))
    {
        return None;
    }
    let reflecting = !q.ebgp && !src.ebgp && src.id != LOCAL;
    if reflecting && !(src.rr_client || q.rr_client) {
        return None;
    }
    let mut r = (**a).clone();
    let self_v4 = match out.local_addr {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(v6) => v6.to_ipv4_mapped(),
    };
    let self_v6 = match out.local_addr {
        IpAddr::V6(v6) => v6,
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
    };
    let next_hop_self = q.ebgp || rules.next_hop_self || src.id == LOCAL;
    if q.ebgp {
        r.attrs.as_path.get_or_insert_with(Default::default).prepend(local.asn, 1);
        r.attrs.local_pref = None;
        r.attrs.originator_id = None;
        r.attrs.cluster_list.clear();
        if src.id != LOCAL {
            r.attrs.med = None;
        }
    } else {
        r.attrs.local_pref = Some(r.attrs.local_pref.unwrap_or(DEFAULT_LOCAL_PREF));
        if reflecting {
            r.attrs.originator_id = Some(r.attrs.originator_id.unwrap_or(src.router_id));
            r.attrs.cluster_list.insert(0, cluster_id);
        }
    }
    if r.attrs.origin.is_none() {
        r.attrs.origin = Some(crate::wire::Origin::Igp);
    }
    // An IPv4 route over an IPv6 session: with RFC 8950 its next hop is our IPv6 address
    // (in MP_REACH_NLRI); without it, only an IPv4 address will do.
    let v6_self_for_v4 = out.v4_over_v6 && self_v4.is_none();
    if next_hop_self {
        if family == Family::IPV4_UNICAST {
            if v6_self_for_v4 {
                r.attrs.next_hop = None;
                r.set_mp_next_hop(Some(NextHop::V6(self_v6)));
            } else {
                r.attrs.next_hop = self_v4;
                r.set_mp_next_hop(None);
            }
        } else {
            r.set_mp_next_hop(Some(NextHop::V6(self_v6)));
        }
    }
    if family != Family::IPV4_UNICAST {
        // MP_REACH_NLRI carries the next hop; a NEXT_HOP attribute would be noise.
        r.attrs.next_hop = None;
        if r.mp_next_hop().is_none() {
            r.set_mp_next_hop(Some(NextHop::V6(self_v6)));
        }
    } else if matches!(r.mp_next_hop(), Some(NextHop::V6(_) | NextHop::V6LinkLocal(..))) && !out.v4_over_v6 {
        // Learned with an IPv6 next hop (RFC 8950) for a peer that cannot take one.
        r.set_mp_next_hop(None);
        r.attrs.next_hop = self_v4;
        self_v4?;
    } else if r.attrs.next_hop.is_none() && r.mp_next_hop().is_none() {
        if v6_self_for_v4 {
            r.set_mp_next_hop(Some(NextHop::V6(self_v6)));
        } else {
            r.attrs.next_hop = self_v4;
        }
    }
    if family == Family::IPV4_UNICAST && r.attrs.next_hop.is_none() && r.mp_next_hop().is_none() {
        // An IPv4 route over an IPv6 session without RFC 8950: there is no next hop to give.
        return None;
    }
    let policy = match (&rules.export, q.ebgp) {
        (Some(p), _) => p.clone(),
        (None, true) => return None,
        (None, false) => return Some(r),
    };
    let ctx = EvalContext { local_asn: local.asn, self_next_hop: Some(out.local_addr) };
    let next_hop = match r.mp_next_hop() {
        Some(NextHop::V4(a)) => Some(IpAddr::V4(a)),
        Some(NextHop::V6(a) | NextHop::V6LinkLocal(a, _)) => Some(IpAddr::V6(a)),
        None => r.attrs.next_hop.map(IpAddr::V4),
    };
    let view = RouteView { prefix, path_id: path.path_id, neighbor: q, family, next_hop };
    let outcome = policy.evaluate(&view, &mut r.attrs, &ctx);
    if outcome.verdict != Verdict::Accept {
        return None;
    }
    if let Some(addr) = outcome.next_hop {
        let mut nh = r.mp_next_hop();
        super::import::set_next_hop(&mut r.attrs, &mut nh, family, addr);
        r.set_mp_next_hop(nh);
        // The policy's next hop follows the same rules as ours: an IPv6 next hop for an
        // IPv4 route only with RFC 8950, and then in MP_REACH_NLRI alone.
        if family == Family::IPV4_UNICAST && matches!(r.mp_next_hop(), Some(NextHop::V6(_) | NextHop::V6LinkLocal(..)))
        {
            if !out.v4_over_v6 {
                return None;
            }
            r.attrs.next_hop = None;
        }
    }
    Some(r)
}

/// The attributes `route` is sent to `peer` with under its current rules, or `None` when
/// it is not sent (for display: `ternctl show route --out`).
pub fn exported(peer: &Peer, env: &Env, route: &Route) -> Option<RouteAttrs> {
    transform(&peer.info, &peer.rules, peer.up.as_ref()?, env, route)
}

fn prefix_dependent(peer: &Peer) -> bool {
    prefix_dependent_rules(&peer.rules)
}

fn prefix_dependent_rules(rules: &PeerRules) -> bool {
    rules.export.as_ref().is_some_and(|p| p.depends_on_prefix())
}

/// What this batch already decided for a (source set, source peer, family): `Some(group)`
/// (`Some(None)`: not exported), or `None` when it must be worked out.
fn cached(peer: &Peer, key: (usize, u32, u16)) -> Option<Option<usize>> {
    if prefix_dependent(peer) {
        return None;
    }
    peer.up.as_ref().and_then(|o| match o.last {
        Some((k, g)) if k == key => Some(g),
        _ => o.cache.get(&key).copied(),
    })
}

/// Queues the route for `peer` if the rules let it through; true when queued.
pub fn offer(peer: &mut Peer, env: &Env, route: &Route) -> bool {
    let Route { family, prefix, path, src, path_id } = *route;
    let nlri = Nlri::with_path_id(prefix, path_id);
    let key = (Arc::as_ptr(&path.attrs) as usize, src.id, family.afi);
    let group = match cached(peer, key) {
        Some(g) => g,
        None => {
            let Some(out) = peer.up.as_ref() else { return false };
            let result = transform(&peer.info, &peer.rules, out, env, route);
            let out = peer.up.as_mut().expect("peer is up");
            // With a policy that ignores prefixes, one source set makes one group: no need
            // to fingerprint the result (two sources that come out equal just share less).
            let by_value = prefix_dependent_rules(&peer.rules);
            let group =
                result.map(|attrs| if by_value { out.group_for(family, attrs) } else { out.new_group(family, attrs) });
            if !prefix_dependent(peer) {
                let out = peer.up.as_mut().expect("peer is up");
                out.cache.insert(key, group);
                out.pinned.push(path.attrs.clone());
            }
            group
        }
    };
    let out = peer.up.as_mut().expect("peer is up");
    if !prefix_dependent_rules(&peer.rules) {
        out.last = Some((key, group));
    }
    let Some(g) = group else { return false };
    out.push(g, nlri);
    true
}

/// Queues a withdrawal of the route's prefix for `peer` if the route (the previous best)
/// was sent to it.
pub fn withdraw_if_sent(peer: &mut Peer, env: &Env, route: &Route) {
    let Route { family, prefix, path, src, path_id } = *route;
    let key = (Arc::as_ptr(&path.attrs) as usize, src.id, family.afi);
    let sent = match cached(peer, key) {
        Some(g) => g.is_some(),
        None => {
            let Some(out) = peer.up.as_ref() else { return };
            transform(&peer.info, &peer.rules, out, env, route).is_some()
        }
    };
    if sent {
        if let Some(out) = peer.up.as_mut() {
            out.withdrawn.push((family, Nlri::with_path_id(prefix, path_id)));
        }
    }
}

/// After `peer`'s rules changed from `old`: offers the route under the new rules, and
/// withdraws it when the old rules sent it and the new ones do not.
pub fn reexport(peer: &mut Peer, old: &PeerRules, env: &Env, route: &Route) {
    let was_sent = match peer.up.as_ref() {
        Some(out) => transform(&peer.info, old, out, env, route).is_some(),
        None => return,
    };
    if !offer(peer, env, route) && was_sent {
        if let Some(out) = peer.up.as_mut() {
            out.withdrawn.push((route.family, Nlri::with_path_id(route.prefix, route.path_id)));
        }
    }
}

impl PeerOut {
    /// Appends a prefix to group `g`.
    fn push(&mut self, g: usize, nlri: Nlri) {
        let at = self.arena.len() as u32;
        self.arena.push((nlri, NONE));
        let group = &mut self.groups[g];
        if group.last == NONE {
            group.first = at;
        } else {
            self.arena[group.last as usize].1 = at;
        }
        group.last = at;
        group.count += 1;
    }

    fn new_group(&mut self, family: Family, attrs: RouteAttrs) -> usize {
        self.groups.push(Group { family, attrs, first: NONE, last: NONE, count: 0, next: None });
        self.groups.len() - 1
    }

    /// The group for `attrs`, created when new: found by fingerprint, confirmed by value.
    fn group_for(&mut self, family: Family, attrs: RouteAttrs) -> usize {
        let fp = super::intern::fingerprint(&attrs) ^ u64::from(family.afi);
        let head = self.by_attrs.get(&fp).copied();
        let mut at = head;
        while let Some(i) = at {
            let g = &self.groups[i];
            if g.family == family && g.attrs == attrs {
                return i;
            }
            at = g.next;
        }
        self.groups.push(Group { family, attrs, first: NONE, last: NONE, count: 0, next: head });
        let i = self.groups.len() - 1;
        self.by_attrs.insert(fp, i);
        i
    }

    /// Whether the peer takes every path of a prefix in this family (ADD-PATH send).
    pub fn all_paths(&self, family: Family) -> bool {
        self.ctx.add_path.contains(family)
    }

    /// Queues a withdrawal whatever was sent before (for ADD-PATH paths whose previous
    /// attributes are gone; withdrawing something never sent is harmless).
    pub fn withdraw(&mut self, family: Family, nlri: Nlri) {
        self.withdrawn.push((family, nlri));
    }

    /// Whether the peer takes this family.
    pub fn carries(&self, family: Family) -> bool {
        self.families.contains(&family)
    }

    pub fn families(&self) -> &[Family] {
        &self.families
    }

    /// Asks the runner to send the peer ROUTE-REFRESH requests (soft reset in).
    pub fn request_refresh(&self) {
        let _ = self.out.send(RunnerMsg::Control(Control::SoftIn));
    }

    /// Queues a Beginning- or End-of-RIB-Refresh marker (RFC 7313) after what is pending.
    pub fn refresh_marker(&mut self, family: Family, subtype: crate::wire::RefreshSubtype) {
        self.markers.push(crate::wire::RouteRefresh { family, subtype });
    }
}
