//! The RIB thread: one owner for every route table, fed by batches.
//!
//! Runners send [`RibMsg::Updates`] with all the UPDATEs one read produced; the RIB applies
//! import rules and policy once per attribute set, updates the tables, re-runs the decision
//! for the prefixes that changed, and collects the changes per peer grouped by attribute
//! set. At the end of each batch it encodes them into as few UPDATEs as fit and sends each
//! runner one `RunnerMsg::Export` with the bytes. No per-prefix message crosses a thread.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use slog::{debug, info, warn, Logger};

use super::decision::{self, Candidate, DecisionConfig};
use super::export::{Env, PeerOut, Route};
use super::intern::{Attrs, Interner, RouteAttrs};
use super::table::{Change, Key, Many, Path, Table};
use super::table::{KeyMap, PrefixMap};
use super::{PeerId, PeerInfo, LOCAL};
use crate::channels::Mailbox;
use crate::policy::Policy;
use crate::wire::{Ctx, Family, Nlri, PathAttributes, Prefix, RefreshSubtype, RouteRefresh, Update};

/// How the RIB treats one neighbor's routes (the routing parts of its configuration).
#[derive(Debug, Clone, PartialEq)]
pub struct PeerRules {
    /// `None`: RFC 8212 — an eBGP neighbor accepts nothing, an iBGP one everything.
    pub import: Option<Arc<Policy>>,
    /// `None`: RFC 8212 — an eBGP neighbor is sent nothing, an iBGP one everything.
    pub export: Option<Arc<Policy>>,
    pub next_hop_self: bool,
    pub route_reflector_client: bool,
    /// Accept paths that contain our own AS up to this many times.
    pub allow_own_as: u8,
    /// eBGP: the first AS of the path must be the neighbor's.
    pub enforce_first_as: bool,
    /// Above this many prefixes the session is stopped (Cease / Maximum Number of Prefixes).
    pub max_prefixes: Option<u32>,
    /// Log a warning when the peer's prefixes reach this share of `max_prefixes` (percent).
    pub max_prefixes_warning: u8,
    /// Restart the session this long after it was stopped for too many prefixes.
    pub max_prefixes_restart: Option<std::time::Duration>,
    /// Keep what the peer sent before import policy (the pre-policy Adj-RIB-In), so that a
    /// policy change or a soft reset in is applied from it, without asking the peer.
    pub soft_reconfiguration_inbound: bool,
    /// To a peer that takes path identifiers (ADD-PATH send): `None` sends every path of a
    /// prefix, `Some(n)` the best `n` in decision order.
    pub add_path_send_max: Option<u16>,
}

impl Default for PeerRules {
    fn default() -> PeerRules {
        PeerRules {
            import: None,
            export: None,
            next_hop_self: false,
            route_reflector_client: false,
            allow_own_as: 0,
            enforce_first_as: true,
            max_prefixes: None,
            max_prefixes_warning: 90,
            max_prefixes_restart: None,
            soft_reconfiguration_inbound: false,
            add_path_send_max: None,
        }
    }
}

/// The best-N ADD-PATH receivers of a family with their N, and the ranked paths of one
/// prefix before a change.
type BestN = (Vec<(PeerId, usize)>, Vec<Path>);

/// Into the RIB thread.
pub enum RibMsg {
    AddPeer {
        info: PeerInfo,
        rules: PeerRules,
    },
    /// New rules for a configured peer, applied without a session reset: export changes
    /// by sending the difference, import changes by asking the peer for a route refresh.
    SetRules {
        id: PeerId,
        rules: PeerRules,
    },
    RemovePeer {
        id: PeerId,
    },
    /// The session is Established: its runner, encoding context and local address.
    Up {
        id: PeerId,
        asn: u32,
        router_id: Ipv4Addr,
        out: Mailbox,
        ctx: Ctx,
        families: Vec<Family>,
        local_addr: IpAddr,
        /// Both sides support enhanced route refresh (RFC 7313).
        enhanced_refresh: bool,
        /// RFC 8950 negotiated: IPv4 routes may carry an IPv6 next hop.
        extended_next_hop: bool,
    },
    /// The peer sent a ROUTE-REFRESH (a request, or the BoRR/EoRR around its own refresh).
    Refresh {
        id: PeerId,
        refresh: RouteRefresh,
    },
    /// Send the peer the whole table again (soft reset out).
    SoftOut {
        id: PeerId,
    },
    /// Apply the import rules again to the peer's routes (soft reset in): from the stored
    /// pre-policy Adj-RIB-In when there is one, otherwise by asking for a ROUTE-REFRESH.
    SoftIn {
        id: PeerId,
    },
    Down {
        id: PeerId,
    },
    Updates {
        id: PeerId,
        updates: Vec<Update>,
        /// The reader's credit, returned once these are processed.
        credit: Option<crate::channels::Credit>,
    },
    /// Originate (or replace) a prefix with these attributes.
    Originate {
        prefix: Prefix,
        attrs: PathAttributes,
    },
    WithdrawOrigin {
        prefix: Prefix,
    },
    Query(Query, Sender<Answer>),
    /// Stop telling the FIB thread about changes: the router is shutting down, and the
    /// withdrawals of peers going down must not become kernel route deletions (the FIB
    /// thread removes tern's routes itself, or keeps them with `keep_on_exit`).
    DetachFib,
    Exit,
}

/// Read-only questions, answered from the thread that owns the tables.
#[derive(Debug, Clone)]
pub enum Query {
    /// The selected path of an exact prefix, with all candidates.
    Lookup(Prefix),
    /// Counts: prefixes per family, paths, interned attribute sets.
    Summary,
    /// Routes of one view of the RIB (`ternctl show route`).
    Routes(super::query::RouteQuery),
    /// How many prefixes each peer has in the RIB.
    PeerPrefixes,
}

#[derive(Debug, Clone)]
pub enum Answer {
    Route(Option<RouteInfo>),
    Summary {
        ipv4: usize,
        ipv6: usize,
        paths: usize,
        attribute_sets: usize,
    },
    /// The routes found, in prefix order, and whether `limit` cut the list short.
    Routes {
        routes: Vec<RouteInfo>,
        truncated: bool,
    },
    PeerPrefixes(Vec<(PeerId, u64)>),
}

/// One prefix as `ternctl show route` would show it.
#[derive(Debug, Clone)]
pub struct RouteInfo {
    pub prefix: Prefix,
    /// Candidates as (peer name, peer address, path id, attributes, selected).
    pub paths: Vec<(String, IpAddr, u32, Attrs, bool)>,
    pub reason: &'static str,
}

pub(crate) struct Peer {
    pub info: Arc<PeerInfo>,
    pub rules: PeerRules,
    pub up: Option<PeerOut>,
    pub prefixes: u64,
    /// The pre-policy Adj-RIB-In, with `soft_reconfiguration_inbound`.
    pub adj_in: Option<super::adjin::AdjIn>,
}

pub struct Rib {
    pub(crate) local: Arc<PeerInfo>,
    pub(crate) decision: DecisionConfig,
    pub(crate) cluster_id: Ipv4Addr,
    pub(crate) peers: KeyMap<PeerId, Peer>,
    pub(crate) v4: Table<u64>,
    pub(crate) v6: Table<(u128, u8)>,
    pub(crate) interner: Interner,
    /// Prefixes whose best path changed since the last flush: a second change of the same
    /// prefix flushes first, so that what peers receive keeps the order of events.
    touched_v4: PrefixMap<u64, ()>,
    touched_v6: PrefixMap<(u128, u8), ()>,
    /// Routes of a peer that is refreshing them (RFC 7313), by (peer, AFI): what has not
    /// been re-sent by the End-of-RIB-Refresh is removed then.
    stale: HashMap<(PeerId, u16), std::collections::HashSet<(Prefix, u32)>>,
    /// Per family (IPv4, IPv6): the peers that are up and take the best path only, and
    /// how many take every path (ADD-PATH). Rebuilt when a peer goes up or down, so the
    /// per-prefix export loop allocates nothing.
    best_only: [Vec<PeerId>; 2],
    all_paths: [usize; 2],
    /// The kernel route installer, when `[fib]` is enabled, and the prefixes whose
    /// selected paths may have changed since it was last told.
    fib: Option<Sender<crate::fib::FibMsg>>,
    fib_dirty: Vec<Prefix>,
    log: Logger,
}

impl Rib {
    pub fn new(asn: u32, router_id: Ipv4Addr, decision: DecisionConfig, log: Logger) -> Rib {
        Rib {
            local: Arc::new(PeerInfo::local(asn, router_id)),
            decision,
            cluster_id: router_id,
            peers: KeyMap::default(),
            v4: Table::default(),
            v6: Table::default(),
            interner: Interner::default(),
            touched_v4: PrefixMap::default(),
            touched_v6: PrefixMap::default(),
            stale: HashMap::new(),
            best_only: [Vec::new(), Vec::new()],
            all_paths: [0, 0],
            fib: None,
            fib_dirty: Vec::new(),
            log,
        }
    }

    /// Sends the selected next hops of every changed prefix to the FIB thread from now on.
    pub fn set_fib(&mut self, fib: Sender<crate::fib::FibMsg>) {
        self.fib = Some(fib);
    }

    pub fn run(mut self, rx: Receiver<RibMsg>) {
        info!(self.log, "rib started");
        while let Ok(msg) = rx.recv() {
            if !self.handle(msg) {
                break;
            }
        }
        info!(self.log, "rib stopped");
    }

    /// Handles one message; false to stop.
    pub fn handle(&mut self, msg: RibMsg) -> bool {
        match msg {
            RibMsg::AddPeer { info, rules } => {
                let adj_in = rules.soft_reconfiguration_inbound.then(super::adjin::AdjIn::default);
                self.peers.insert(info.id, Peer { info: Arc::new(info), rules, up: None, prefixes: 0, adj_in });
            }
            RibMsg::SetRules { id, rules } => self.set_rules(id, rules),
            RibMsg::RemovePeer { id } => {
                self.peer_down(id);
                self.peers.remove(&id);
                self.peers_changed();
            }
            RibMsg::Up { id, asn, router_id, out, ctx, families, local_addr, enhanced_refresh, extended_next_hop } => {
                let mut out = PeerOut::new(out, ctx, families, local_addr);
                out.enhanced_refresh = enhanced_refresh;
                out.v4_over_v6 = extended_next_hop;
                self.peer_up(id, asn, router_id, out)
            }
            RibMsg::Refresh { id, refresh } => self.refresh(id, refresh),
            RibMsg::SoftOut { id } => {
                let families =
                    self.peers.get(&id).and_then(|p| p.up.as_ref()).map(|o| o.families().to_vec()).unwrap_or_default();
                for family in families {
                    self.resend(id, family);
                }
            }
            RibMsg::SoftIn { id } => self.soft_in(id),
            RibMsg::Down { id } => self.peer_down(id),
            RibMsg::Updates { id, updates, credit: _credit } => {
                for u in updates {
                    self.update(id, u);
                }
            }
            RibMsg::Originate { prefix, attrs } => {
                let family = family_of(&prefix);
                let attrs = self.interner.intern(RouteAttrs::new(attrs, None));
                self.insert(family, prefix, Path { attrs, peer: LOCAL, path_id: 0 });
            }
            RibMsg::WithdrawOrigin { prefix } => self.remove(family_of(&prefix), prefix, LOCAL, 0),
            RibMsg::Query(q, reply) => {
                let _ = reply.send(self.query(q));
            }
            RibMsg::DetachFib => {
                self.fib = None;
                self.fib_dirty.clear();
            }
            RibMsg::Exit => return false,
        }
        self.flush();
        true
    }

    fn query(&self, q: Query) -> Answer {
        match q {
            Query::Lookup(prefix) => Answer::Route(self.dest(&prefix).map(|d| {
                let selected: Vec<&Path> = d.selected().collect();
                let paths = d
                    .paths()
                    .iter()
                    .map(|p| {
                        let info = id_info(&self.peers, &self.local, p.peer);
                        let sel = selected.contains(&p);
                        (info.name.clone(), info.address, p.path_id, p.attrs.clone(), sel)
                    })
                    .collect();
                RouteInfo { prefix, paths, reason: d.step().describe() }
            })),
            Query::Summary => Answer::Summary {
                ipv4: self.v4.len(),
                ipv6: self.v6.len(),
                paths: self.v4.routes.values().map(|d| d.paths().len()).sum::<usize>()
                    + self.v6.routes.values().map(|d| d.paths().len()).sum::<usize>(),
                attribute_sets: self.interner.len(),
            },
            Query::Routes(q) => self.routes(&q),
            Query::PeerPrefixes => Answer::PeerPrefixes(self.peers.iter().map(|(id, p)| (*id, p.prefixes)).collect()),
        }
    }

    /// The best path of every prefix of `family`.
    fn bests(&self, family: Family) -> Vec<(Prefix, Path)> {
        match family.afi {
            crate::wire::AFI_IPV6 => {
                self.v6.routes.iter().filter_map(|(k, d)| Some((k.prefix(), d.best()?.clone()))).collect()
            }
            _ => self.v4.routes.iter().filter_map(|(k, d)| Some((k.prefix(), d.best()?.clone()))).collect(),
        }
    }

    fn peer_up(&mut self, id: PeerId, asn: u32, router_id: Ipv4Addr, out: PeerOut) {
        let local_asn = self.local.asn;
        let Some(peer) = self.peers.get_mut(&id) else { return };
        let info = Arc::make_mut(&mut peer.info);
        info.router_id = router_id;
        info.asn = asn;
        info.ebgp = asn != local_asn;
        info!(self.log, "peer up, sending the table"; "peer" => %peer.info.address, "families" => ?out.families());
        let families = out.families().to_vec();
        peer.up = Some(out);
        self.peers_changed();
        // The initial table: every selected route this peer may have, then End-of-RIB.
        for family in families {
            self.queue_table(id, family);
        }
        if let Some(out) = self.peers.get_mut(&id).and_then(|p| p.up.as_mut()) {
            out.end_of_rib = true;
        }
    }

    /// Queues every selected route of `family` for `id` (every path, to an ADD-PATH peer).
    fn queue_table(&mut self, id: PeerId, family: Family) {
        let all = self.peers.get(&id).and_then(|p| p.up.as_ref()).is_some_and(|o| o.all_paths(family));
        let limit = self.peers.get(&id).and_then(|p| p.rules.add_path_send_max);
        let (peers, local, decision) = (&self.peers, &self.local, &self.decision);
        let pick = |k: Prefix, d: &super::table::Dest| -> Vec<(Prefix, Path, u32)> {
            match (all, limit) {
                (true, None) => d.paths().iter().map(|p| (k, p.clone(), super::export::tx_path_id(p))).collect(),
                (true, Some(n)) => rank(d.paths(), usize::from(n), peers, local, decision)
                    .into_iter()
                    .map(|p| {
                        let id = super::export::tx_path_id(&p);
                        (k, p, id)
                    })
                    .collect(),
                (false, _) => d.best().map(|p| (k, p.clone(), 0)).into_iter().collect(),
            }
        };
        let routes: Vec<(Prefix, Path, u32)> = match family.afi {
            crate::wire::AFI_IPV6 => self.v6.routes.iter().flat_map(|(k, d)| pick(k.prefix(), d)).collect(),
            _ => self.v4.routes.iter().flat_map(|(k, d)| pick(k.prefix(), d)).collect(),
        };
        let env = Env { local: &self.local, cluster_id: self.cluster_id };
        for (prefix, path, path_id) in routes {
            let src = id_info(&self.peers, &self.local, path.peer).clone();
            let Some(peer) = self.peers.get_mut(&id) else { return };
            super::export::offer(peer, &env, &Route { family, prefix, path: &path, src: &src, path_id });
        }
    }

    /// Tells ADD-PATH peers about one path of `prefix` that was added, replaced or removed.
    fn export_path(&mut self, family: Family, prefix: Prefix, path: &Path, removed: bool) {
        let ids: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.rules.add_path_send_max.is_none() && p.up.as_ref().is_some_and(|o| o.all_paths(family)))
            .map(|(id, _)| *id)
            .collect();
        if ids.is_empty() {
            return;
        }
        let src = id_info(&self.peers, &self.local, path.peer).clone();
        let path_id = super::export::tx_path_id(path);
        for id in ids {
            let env = Env { local: &self.local, cluster_id: self.cluster_id };
            let route = Route { family, prefix, path, src: &src, path_id };
            let peer = self.peers.get_mut(&id).expect("peer");
            if removed {
                super::export::withdraw_if_sent(peer, &env, &route);
            } else if !super::export::offer(peer, &env, &route) {
                if let Some(out) = peer.up.as_mut() {
                    out.withdraw(family, Nlri::with_path_id(prefix, path_id));
                }
            }
        }
    }

    fn any_add_path(&self, family: Family) -> bool {
        self.all_paths[fi(family)] > 0
    }

    /// Rebuilds the per-family peer lists after a peer went up or down.
    fn peers_changed(&mut self) {
        for (i, family) in [Family::IPV4_UNICAST, Family::IPV6_UNICAST].into_iter().enumerate() {
            let mut ids: Vec<PeerId> = self
                .peers
                .iter()
                .filter(|(_, p)| p.up.as_ref().is_some_and(|o| !o.all_paths(family)))
                .map(|(id, _)| *id)
                .collect();
            ids.sort_unstable();
            self.best_only[i] = ids;
            self.all_paths[i] =
                self.peers.values().filter(|p| p.up.as_ref().is_some_and(|o| o.all_paths(family))).count();
        }
    }

    /// Sends `family` to `id` again, between BoRR and EoRR when the peer supports them.
    fn resend(&mut self, id: PeerId, family: Family) {
        let Some(enhanced) =
            self.peers.get(&id).and_then(|p| p.up.as_ref()).filter(|o| o.carries(family)).map(|o| o.enhanced_refresh)
        else {
            return;
        };
        if enhanced {
            self.flush();
            if let Some(out) = self.peers.get_mut(&id).and_then(|p| p.up.as_mut()) {
                out.refresh_marker(family, RefreshSubtype::BeginRefresh);
            }
            self.flush();
        }
        self.queue_table(id, family);
        if enhanced {
            if let Some(out) = self.peers.get_mut(&id).and_then(|p| p.up.as_mut()) {
                out.refresh_marker(family, RefreshSubtype::EndRefresh);
            }
        }
    }

    /// A ROUTE-REFRESH from the peer.
    fn refresh(&mut self, id: PeerId, rr: RouteRefresh) {
        let address = self.peers.get(&id).map(|p| p.info.address);
        match rr.subtype {
            RefreshSubtype::Request => {
                debug!(self.log, "route refresh requested"; "peer" => ?address, "family" => %rr.family);
                self.resend(id, rr.family);
            }
            // RFC 7313 §4: the peer re-sends its routes; those it does not re-send by the
            // EoRR are stale and go.
            RefreshSubtype::BeginRefresh => {
                let mut keys = self.paths_of(id, rr.family);
                // With a pre-policy table, routes import refused are stale candidates too:
                // they must leave it as well when the peer does not send them again.
                if let Some(adj) = self.peers.get(&id).and_then(|p| p.adj_in.as_ref()) {
                    keys.extend(adj.keys(rr.family));
                }
                self.stale.insert((id, rr.family.afi), keys);
            }
            RefreshSubtype::EndRefresh => {
                let Some(stale) = self.stale.remove(&(id, rr.family.afi)) else { return };
                if !stale.is_empty() {
                    info!(self.log, "removing routes not refreshed"; "peer" => ?address, "count" => stale.len());
                }
                if let Some(adj) = self.peers.get_mut(&id).and_then(|p| p.adj_in.as_mut()) {
                    for &(prefix, path_id) in &stale {
                        adj.remove(prefix, path_id);
                    }
                }
                for (prefix, path_id) in stale {
                    self.remove(rr.family, prefix, id, path_id);
                }
            }
            RefreshSubtype::Reserved(_) => {}
        }
    }

    /// Every (prefix, path id) the peer has in `family`.
    fn paths_of(&self, id: PeerId, family: Family) -> std::collections::HashSet<(Prefix, u32)> {
        let pick = |k: Prefix, d: &super::table::Dest| {
            d.paths().iter().filter(|p| p.peer == id).map(|p| (k, p.path_id)).collect::<Vec<_>>()
        };
        match family.afi {
            crate::wire::AFI_IPV6 => self.v6.routes.iter().flat_map(|(k, d)| pick(k.prefix(), d)).collect(),
            _ => self.v4.routes.iter().flat_map(|(k, d)| pick(k.prefix(), d)).collect(),
        }
    }

    fn set_rules(&mut self, id: PeerId, rules: PeerRules) {
        let Some(peer) = self.peers.get_mut(&id) else { return };
        let old = std::mem::replace(&mut peer.rules, rules);
        Arc::make_mut(&mut peer.info).rr_client = peer.rules.route_reflector_client;
        match (peer.rules.soft_reconfiguration_inbound, peer.adj_in.is_some()) {
            (true, false) => peer.adj_in = Some(Default::default()),
            (false, true) => peer.adj_in = None,
            _ => {}
        }
        let Some(out) = peer.up.as_ref() else { return };
        let import_changed = old.import != peer.rules.import
            || old.allow_own_as != peer.rules.allow_own_as
            || old.enforce_first_as != peer.rules.enforce_first_as;
        if import_changed || (peer.rules.soft_reconfiguration_inbound && !old.soft_reconfiguration_inbound) {
            let stored = peer.adj_in.as_ref().is_some_and(|a| a.filled);
            if stored {
                info!(self.log, "import rules changed, applying them to the stored routes"; "peer" => %peer.info.address);
                self.soft_in(id);
            } else {
                // Also fills a pre-policy table that was just switched on.
                info!(self.log, "import rules changed, asking the peer for its routes again"; "peer" => %peer.info.address);
                out.request_refresh();
            }
        }
        let Some(peer) = self.peers.get(&id) else { return };
        let Some(out) = peer.up.as_ref() else { return };
        let export_changed = old.export != peer.rules.export
            || old.next_hop_self != peer.rules.next_hop_self
            || old.route_reflector_client != peer.rules.route_reflector_client;
        if !export_changed {
            return;
        }
        info!(self.log, "export rules changed, sending the difference"; "peer" => %peer.info.address);
        let families = out.families().to_vec();
        let limit = peer.rules.add_path_send_max;
        for family in families {
            let all = self.peers.get(&id).and_then(|p| p.up.as_ref()).is_some_and(|o| o.all_paths(family));
            // What the peer may hold: the best path under id 0, or to an ADD-PATH receiver
            // every path (or the best N) under its own identifier.
            let routes: Vec<(Prefix, Path, u32)> = if all {
                let (peers, local, decision) = (&self.peers, &self.local, &self.decision);
                let pick = |k: Prefix, d: &super::table::Dest| -> Vec<(Prefix, Path, u32)> {
                    let paths = match limit {
                        None => d.paths().to_vec(),
                        Some(n) => rank(d.paths(), usize::from(n), peers, local, decision),
                    };
                    paths
                        .into_iter()
                        .map(|p| {
                            let tx = super::export::tx_path_id(&p);
                            (k, p, tx)
                        })
                        .collect()
                };
                match family.afi {
                    crate::wire::AFI_IPV6 => self.v6.routes.iter().flat_map(|(k, d)| pick(k.prefix(), d)).collect(),
                    _ => self.v4.routes.iter().flat_map(|(k, d)| pick(k.prefix(), d)).collect(),
                }
            } else {
                self.bests(family).into_iter().map(|(p, path)| (p, path, 0)).collect()
            };
            let env = Env { local: &self.local, cluster_id: self.cluster_id };
            for (prefix, path, path_id) in routes {
                let src = id_info(&self.peers, &self.local, path.peer).clone();
                let Some(peer) = self.peers.get_mut(&id) else { return };
                super::export::reexport(peer, &old, &env, &Route { family, prefix, path: &path, src: &src, path_id });
            }
        }
    }

    /// Soft reset in: runs the import rules again over the stored pre-policy routes, or asks
    /// the peer for a route refresh when none are stored.
    fn soft_in(&mut self, id: PeerId) {
        let Some(peer) = self.peers.get(&id) else { return };
        let Some(out) = peer.up.as_ref() else { return };
        let Some(adj) = peer.adj_in.as_ref().filter(|a| a.filled) else {
            out.request_refresh();
            return;
        };
        let groups = adj.groups();
        debug!(self.log, "re-applying import rules to the stored routes"; "peer" => %peer.info.address, "sets" => groups.len());
        for (attrs, family, nlri) in groups {
            if self.peers.get(&id).is_none_or(|p| p.up.is_none()) {
                break; // stopped half way (max-prefix)
            }
            self.announce(id, family, attrs.attrs.clone(), attrs.mp_next_hop(), nlri);
        }
    }

    fn peer_down(&mut self, id: PeerId) {
        let Some(peer) = self.peers.get_mut(&id) else { return };
        let was_up = peer.up.take().is_some();
        if let Some(adj) = peer.adj_in.as_mut() {
            *adj = Default::default();
        }
        if !was_up && peer.prefixes == 0 {
            return;
        }
        peer.prefixes = 0;
        if was_up {
            self.peers_changed();
        }
        let Some(peer) = self.peers.get(&id) else { return };
        info!(self.log, "peer down, withdrawing its routes"; "peer" => %peer.info.address);
        let mut gone: Vec<(Family, Prefix, Path)> = Vec::new();
        let mut best_n = Vec::new();
        for family in [Family::IPV4_UNICAST, Family::IPV6_UNICAST] {
            if self.any_add_path(family) {
                for (prefix, path_id) in self.paths_of(id, family) {
                    gone.extend(self.find_path(prefix, id, path_id).map(|p| (family, prefix, p)));
                    if let Some(before) = self.best_n_before(family, prefix) {
                        best_n.push((family, prefix, before));
                    }
                }
            }
        }
        let mut changes: Vec<(Family, Prefix, Change)> = Vec::new();
        let (peers, local, decision) = (&self.peers, &self.local, &self.decision);
        let gone_v4 = self.v4.remove_peer(
            id,
            |m| decide(m, peers, local, decision),
            |k, c| changes.push((Family::IPV4_UNICAST, k.prefix(), c)),
        );
        let gone_v6 = self.v6.remove_peer(
            id,
            |m| decide(m, peers, local, decision),
            |k, c| changes.push((Family::IPV6_UNICAST, k.prefix(), c)),
        );
        if self.fib.is_some() {
            self.fib_dirty.extend(gone_v4.into_iter().map(Key::prefix));
            self.fib_dirty.extend(gone_v6.into_iter().map(Key::prefix));
        }
        for (family, prefix, change) in changes {
            self.export(family, prefix, change);
        }
        for (family, prefix, path) in gone {
            self.export_path(family, prefix, &path, true);
        }
        for (family, prefix, before) in best_n {
            self.best_n_after(family, prefix, Some(before));
        }
        self.interner.purge();
    }

    fn update(&mut self, id: PeerId, u: Update) {
        let Some(peer) = self.peers.get(&id) else { return };
        if peer.up.is_none() {
            warn!(self.log, "update from a peer that is not up, ignored"; "peer" => %peer.info.address);
            return;
        }
        if let Some(family) = u.is_end_of_rib() {
            debug!(self.log, "end-of-rib received"; "peer" => %peer.info.address, "family" => %family);
            return;
        }
        if let Some(adj) = self.peers.get_mut(&id).and_then(|p| p.adj_in.as_mut()) {
            adj.filled = true;
            for n in &u.withdrawn {
                adj.remove(n.prefix, n.path_id);
            }
            if let Some(mp) = &u.mp_unreach {
                for n in &mp.withdrawn {
                    adj.remove(n.prefix, n.path_id);
                }
            }
        }
        for n in &u.withdrawn {
            self.remove(Family::IPV4_UNICAST, n.prefix, id, n.path_id);
        }
        if let Some(mp) = &u.mp_unreach {
            for n in &mp.withdrawn {
                self.remove(mp.family, n.prefix, id, n.path_id);
            }
        }
        let Update { mut attrs, nlri, mp_reach, .. } = u;
        super::import::prepare(&mut attrs);
        if self.peers.get(&id).is_some_and(|p| p.adj_in.is_some()) {
            if !nlri.is_empty() {
                let shared = self.interner.intern(RouteAttrs::new(attrs.clone(), None));
                if let Some(adj) = self.peers.get_mut(&id).and_then(|p| p.adj_in.as_mut()) {
                    for n in &nlri {
                        adj.insert(n.prefix, n.path_id, shared.clone());
                    }
                }
            }
            if let Some(mp) = &mp_reach {
                let shared = self.interner.intern(RouteAttrs::new(attrs.clone(), Some(mp.next_hop)));
                if let Some(adj) = self.peers.get_mut(&id).and_then(|p| p.adj_in.as_mut()) {
                    for n in &mp.nlri {
                        adj.insert(n.prefix, n.path_id, shared.clone());
                    }
                }
            }
        }
        if !nlri.is_empty() {
            self.announce(id, Family::IPV4_UNICAST, attrs.clone(), None, nlri);
        }
        if let Some(mp) = mp_reach.filter(|_| self.peers.get(&id).is_some_and(|p| p.up.is_some())) {
            self.announce(id, mp.family, attrs, Some(mp.next_hop), mp.nlri);
        }
    }

    /// Import rules and policy, then the tables: once per attribute set, unless the import
    /// policy looks at prefixes.
    fn announce(
        &mut self,
        id: PeerId,
        family: Family,
        attrs: PathAttributes,
        mp_next_hop: Option<crate::wire::NextHop>,
        nlri: Vec<Nlri>,
    ) {
        let peer = &self.peers[&id];
        let verdict = super::import::check(peer, &self.local, self.cluster_id, &attrs);
        if let Err(reason) = verdict {
            debug!(self.log, "routes not accepted"; "peer" => %peer.info.address, "reason" => reason, "prefixes" => nlri.len());
            for n in nlri {
                self.remove(family, n.prefix, id, n.path_id);
            }
            return;
        }
        let policy = super::import::policy(peer);
        let ctx = super::import::eval_context(&self.local);
        let mut accepted: Vec<(Nlri, Attrs)> = Vec::with_capacity(nlri.len());
        let mut rejected: Vec<Nlri> = Vec::new();
        match policy {
            None => {
                let shared = self.interner.intern(RouteAttrs::new(attrs, mp_next_hop));
                accepted.extend(nlri.into_iter().map(|n| (n, shared.clone())));
            }
            Some(p) if !p.depends_on_prefix() => {
                let (mut a, mut nh) = (attrs, mp_next_hop);
                match super::import::apply(&p, &peer.info, family, nlri[0], &mut a, nh, &ctx) {
                    Some(change) => {
                        if let Some(addr) = change {
                            super::import::set_next_hop(&mut a, &mut nh, family, addr);
                        }
                        let shared = self.interner.intern(RouteAttrs::new(a, nh));
                        accepted.extend(nlri.into_iter().map(|n| (n, shared.clone())));
                    }
                    None => rejected = nlri,
                }
            }
            Some(p) => {
                for n in nlri {
                    let (mut a, mut nh) = (attrs.clone(), mp_next_hop);
                    match super::import::apply(&p, &peer.info, family, n, &mut a, nh, &ctx) {
                        Some(change) => {
                            if let Some(addr) = change {
                                super::import::set_next_hop(&mut a, &mut nh, family, addr);
                            }
                            accepted.push((n, self.interner.intern(RouteAttrs::new(a, nh))));
                        }
                        None => rejected.push(n),
                    }
                }
            }
        }
        for n in rejected {
            if let Some(stale) = self.stale.get_mut(&(id, family.afi)) {
                stale.remove(&(n.prefix, n.path_id));
            }
            self.remove(family, n.prefix, id, n.path_id);
        }
        let (max, warn_pct, restart) = {
            let r = &self.peers[&id].rules;
            (r.max_prefixes, r.max_prefixes_warning, r.max_prefixes_restart)
        };
        for (n, attrs) in accepted {
            let added = self.insert(family, n.prefix, Path { attrs, peer: id, path_id: n.path_id });
            if !added {
                continue;
            }
            let peer = self.peers.get_mut(&id).expect("peer");
            peer.prefixes += 1;
            let Some(limit) = max else { continue };
            if peer.prefixes == u64::from(limit) * u64::from(warn_pct) / 100 {
                warn!(self.log, "prefix count nearing the limit"; "peer" => %peer.info.address, "prefixes" => peer.prefixes, "limit" => limit);
            }
            if peer.prefixes > u64::from(limit) {
                warn!(self.log, "maximum number of prefixes exceeded, stopping the session"; "peer" => %peer.info.address, "limit" => limit);
                if let Some(out) = &peer.up {
                    out.max_prefixes_exceeded(family, limit, restart);
                }
                self.peer_down(id);
                return;
            }
        }
    }

    /// Inserts a path; true when it is a new path (not a replacement).
    fn insert(&mut self, family: Family, prefix: Prefix, path: Path) -> bool {
        if let Some(stale) = self.stale.get_mut(&(path.peer, family.afi)) {
            stale.remove(&(prefix, path.path_id));
        }
        let best_n = self.best_n_before(family, prefix);
        let new = self.insert_path(family, prefix, path);
        self.best_n_after(family, prefix, best_n);
        new
    }

    /// The best-N ADD-PATH receivers of `family` and the paths of `prefix` they have now,
    /// ranked (empty when there are no such receivers).
    fn best_n_before(&self, family: Family, prefix: Prefix) -> Option<BestN> {
        if !self.any_add_path(family) {
            return None;
        }
        let ids: Vec<(PeerId, usize)> = self
            .peers
            .iter()
            .filter_map(|(id, p)| {
                let n = p.rules.add_path_send_max?;
                p.up.as_ref().filter(|o| o.all_paths(family)).map(|_| (*id, usize::from(n)))
            })
            .collect();
        let most = ids.iter().map(|(_, n)| *n).max()?;
        Some((ids, self.ranked(prefix, most)))
    }

    /// Sends each best-N receiver the difference between its best paths before and now.
    fn best_n_after(&mut self, family: Family, prefix: Prefix, before: Option<BestN>) {
        let Some((ids, old)) = before else { return };
        let most = ids.iter().map(|(_, n)| *n).max().unwrap_or(0);
        let new = self.ranked(prefix, most);
        if old == new {
            return;
        }
        for (id, n) in ids {
            let (old, new) = (&old[..n.min(old.len())], &new[..n.min(new.len())]);
            for path in old.iter().filter(|p| !new.contains(p)) {
                let path_id = super::export::tx_path_id(path);
                // Replaced under the same identifier: the new announcement does it.
                if new.iter().any(|q| super::export::tx_path_id(q) == path_id) {
                    continue;
                }
                if let Some(out) = self.peers.get_mut(&id).and_then(|p| p.up.as_mut()) {
                    out.withdraw(family, Nlri::with_path_id(prefix, path_id));
                }
            }
            for path in new.iter().filter(|p| !old.contains(p)) {
                let src = id_info(&self.peers, &self.local, path.peer).clone();
                let env = Env { local: &self.local, cluster_id: self.cluster_id };
                let path_id = super::export::tx_path_id(path);
                let Some(peer) = self.peers.get_mut(&id) else { continue };
                if !super::export::offer(peer, &env, &Route { family, prefix, path, src: &src, path_id }) {
                    if let Some(out) = peer.up.as_mut() {
                        out.withdraw(family, Nlri::with_path_id(prefix, path_id));
                    }
                }
            }
        }
    }

    /// The paths of `prefix` in decision order, at most `n`.
    fn ranked(&self, prefix: Prefix, n: usize) -> Vec<Path> {
        self.dest(&prefix).map(|d| rank(d.paths(), n, &self.peers, &self.local, &self.decision)).unwrap_or_default()
    }

    fn insert_path(&mut self, family: Family, prefix: Prefix, path: Path) -> bool {
        let add_path = self.any_add_path(family).then(|| path.clone());
        let (peers, local, decision) = (&self.peers, &self.local, &self.decision);
        let (new, change) = match family.afi {
            crate::wire::AFI_IPV6 => match <(u128, u8)>::from_prefix(&prefix) {
                Some(k) => self.v6.upsert(k, path, |m| decide(m, peers, local, decision)),
                None => return false,
            },
            _ => match u64::from_prefix(&prefix) {
                Some(k) => self.v4.upsert(k, path, |m| decide(m, peers, local, decision)),
                None => return false,
            },
        };
        if self.fib.is_some() {
            self.fib_dirty.push(prefix);
        }
        if let Some(change) = change {
            self.export(family, prefix, change);
        }
        if let Some(path) = add_path {
            self.export_path(family, prefix, &path, false);
        }
        new
    }

    fn remove(&mut self, family: Family, prefix: Prefix, peer: PeerId, path_id: u32) {
        let best_n = self.best_n_before(family, prefix);
        self.remove_path(family, prefix, peer, path_id);
        self.best_n_after(family, prefix, best_n);
    }

    fn remove_path(&mut self, family: Family, prefix: Prefix, peer: PeerId, path_id: u32) {
        let add_path = if self.any_add_path(family) { self.find_path(prefix, peer, path_id) } else { None };
        let (peers, local, decision) = (&self.peers, &self.local, &self.decision);
        let removed = match family.afi {
            crate::wire::AFI_IPV6 => <(u128, u8)>::from_prefix(&prefix)
                .map(|k| self.v6.remove(k, peer, path_id, |m| decide(m, peers, local, decision))),
            _ => u64::from_prefix(&prefix)
                .map(|k| self.v4.remove(k, peer, path_id, |m| decide(m, peers, local, decision))),
        };
        let Some((was_there, change)) = removed else { return };
        if was_there {
            if let Some(p) = self.peers.get_mut(&peer) {
                p.prefixes = p.prefixes.saturating_sub(1);
            }
            // The selected set may have changed even where the best path did not (ECMP).
            if self.fib.is_some() {
                self.fib_dirty.push(prefix);
            }
        }
        if let Some(change) = change {
            self.export(family, prefix, change);
        }
        if let Some(path) = add_path {
            self.export_path(family, prefix, &path, true);
        }
    }

    fn find_path(&self, prefix: Prefix, peer: PeerId, path_id: u32) -> Option<Path> {
        self.dest(&prefix)?.paths().iter().find(|p| p.peer == peer && p.path_id == path_id).cloned()
    }

    /// The paths of a prefix, from the table of its family.
    pub(crate) fn dest(&self, prefix: &Prefix) -> Option<&super::table::Dest> {
        match prefix.addr() {
            IpAddr::V4(_) => self.v4.get(&u64::from_prefix(prefix)?),
            IpAddr::V6(_) => self.v6.get(&<(u128, u8)>::from_prefix(prefix)?),
        }
    }

    /// Offers a changed best path to every peer that is up.
    fn export(&mut self, family: Family, prefix: Prefix, change: Change) {
        let again = match family.afi {
            crate::wire::AFI_IPV6 => {
                <(u128, u8)>::from_prefix(&prefix).is_some_and(|k| self.touched_v6.insert(k, ()).is_some())
            }
            _ => u64::from_prefix(&prefix).is_some_and(|k| self.touched_v4.insert(k, ()).is_some()),
        };
        if again {
            self.flush();
            self.export(family, prefix, change);
            return;
        }
        let ids = std::mem::take(&mut self.best_only[fi(family)]);
        let before_src = change.before.as_ref().map(|p| id_info(&self.peers, &self.local, p.peer).clone());
        let after_src = change.after.as_ref().map(|p| id_info(&self.peers, &self.local, p.peer).clone());
        for &id in &ids {
            let env = Env { local: &self.local, cluster_id: self.cluster_id };
            let Some(peer) = self.peers.get_mut(&id) else { continue };
            match (&change.after, &after_src) {
                (Some(path), Some(src))
                    if super::export::offer(peer, &env, &Route { family, prefix, path, src, path_id: 0 }) => {}
                _ => {
                    if let (Some(path), Some(src)) = (&change.before, &before_src) {
                        super::export::withdraw_if_sent(peer, &env, &Route { family, prefix, path, src, path_id: 0 });
                    }
                }
            }
        }
        self.best_only[fi(family)] = ids;
    }

    /// Encodes and sends what each peer has pending.
    fn flush(&mut self) {
        self.touched_v4.clear();
        self.touched_v6.clear();
        self.flush_fib();
        for peer in self.peers.values_mut() {
            if let Some(out) = peer.up.as_mut() {
                out.flush(&self.log);
            }
        }
    }
}

impl Rib {
    /// Tells the FIB thread the selected next hops of every prefix marked since the last
    /// flush (none: the prefix has no usable path any more, or only our own).
    fn flush_fib(&mut self) {
        let Some(fib) = &self.fib else { return };
        if self.fib_dirty.is_empty() {
            return;
        }
        let mut dirty = std::mem::take(&mut self.fib_dirty);
        dirty.sort_unstable();
        dirty.dedup();
        let mut hops: Vec<IpAddr> = Vec::new();
        let changes: Vec<(Prefix, crate::fib::NextHops)> = dirty
            .iter()
            .map(|prefix| {
                hops.clear();
                for path in self.dest(prefix).into_iter().flat_map(|d| d.selected()) {
                    if path.peer == LOCAL {
                        // Our own origination: the kernel route is the operator's business.
                        hops.clear();
                        break;
                    }
                    if let Some(h) = kernel_next_hop(prefix, path) {
                        if !hops.contains(&h) {
                            hops.push(h);
                        }
                    }
                }
                (*prefix, crate::fib::NextHops::from_slice(&hops))
            })
            .collect();
        dirty.clear();
        self.fib_dirty = dirty;
        let _ = fib.send(crate::fib::FibMsg::Changes(changes));
    }
}

/// The gateway a path's route is installed with: of the prefix's own family (an IPv4 route
/// over an IPv6 next hop is not installed), the global address of an IPv6 pair.
fn kernel_next_hop(prefix: &Prefix, path: &Path) -> Option<IpAddr> {
    use crate::wire::NextHop;
    let a = &path.attrs;
    match prefix.addr() {
        IpAddr::V4(_) => match a.mp_next_hop() {
            Some(NextHop::V4(h)) => Some(IpAddr::V4(h)),
            Some(_) => None,
            None => a.attrs.next_hop.map(IpAddr::V4),
        },
        IpAddr::V6(_) => match a.mp_next_hop() {
            Some(NextHop::V6(h) | NextHop::V6LinkLocal(h, _)) => Some(IpAddr::V6(h)),
            _ => None,
        },
    }
}

pub(crate) fn id_info<'a>(peers: &'a KeyMap<PeerId, Peer>, local: &'a Arc<PeerInfo>, id: PeerId) -> &'a Arc<PeerInfo> {
    if id == LOCAL {
        local
    } else {
        peers.get(&id).map_or(local, |p| &p.info)
    }
}

/// Index of a family in the per-family arrays.
fn fi(family: Family) -> usize {
    usize::from(family.afi == crate::wire::AFI_IPV6)
}

pub(crate) fn family_of(prefix: &Prefix) -> Family {
    match prefix.addr() {
        IpAddr::V4(_) => Family::IPV4_UNICAST,
        IpAddr::V6(_) => Family::IPV6_UNICAST,
    }
}

/// The paths in decision order (RFC 4271 §9.1.2.2 applied again to what is left after each
/// pick), at most `n`: what a best-N ADD-PATH receiver is sent.
pub(crate) fn rank(
    paths: &[Path],
    n: usize,
    peers: &KeyMap<PeerId, Peer>,
    local: &Arc<PeerInfo>,
    cfg: &DecisionConfig,
) -> Vec<Path> {
    let mut rest: Vec<&Path> = paths.iter().collect();
    let mut out = Vec::with_capacity(n.min(paths.len()));
    while out.len() < n && !rest.is_empty() {
        let candidates: Vec<Candidate> = rest
            .iter()
            .map(|p| Candidate { peer: id_info(peers, local, p.peer), attrs: &p.attrs.attrs, path_id: p.path_id })
            .collect();
        let Some(d) = decision::decide(&candidates, cfg) else { break };
        out.push(rest.remove(d.best).clone());
    }
    out
}

/// Runs the decision over the paths of one prefix.
fn decide(m: &mut Many, peers: &KeyMap<PeerId, Peer>, local: &Arc<PeerInfo>, cfg: &DecisionConfig) {
    let candidates: Vec<Candidate> = m
        .paths
        .iter()
        .map(|p| Candidate { peer: id_info(peers, local, p.peer), attrs: &p.attrs.attrs, path_id: p.path_id })
        .collect();
    match decision::decide(&candidates, cfg) {
        Some(d) => {
            m.selected = d.multipath.iter().map(|&i| i as u16).collect();
            m.step = d.step;
        }
        None => m.selected.clear(),
    }
}
