//! Read-only views of the RIB for operators (`ternctl show route`): the Loc-RIB with every
//! candidate path, one neighbor's Adj-RIB-In (the paths it sent that passed import), and
//! its Adj-RIB-Out, computed by running the export rules over the selected paths (the
//! RIB does not keep a copy of what it sent; the same rules decide what is sent).
//!
//! A query names a family (or both), and optionally a prefix looked up exactly or by
//! longest match; without a prefix it lists the view in prefix order up to a limit.

use super::engine::{family_of, id_info, rank, Answer, Rib, RouteInfo};
use super::export::{self, Env, Route};
use super::intern::Shared;
use super::table::{Dest, Key, Path, Table};
use super::PeerId;
use crate::wire::{Family, Prefix};

/// Which table a route query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RibView {
    /// Every prefix with all candidate paths and the selection.
    Loc,
    /// The paths one neighbor sent, after import policy.
    In(PeerId),
    /// What tern sends one neighbor, after export rules.
    Out(PeerId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteQuery {
    pub view: RibView,
    /// `None`: both IPv4 and IPv6 unicast.
    pub family: Option<Family>,
    pub prefix: Option<Prefix>,
    /// With a prefix: the most specific route covering it instead of that exact prefix.
    pub longest_match: bool,
    /// At most this many prefixes in a listing.
    pub limit: usize,
}

impl Rib {
    pub(crate) fn routes(&self, q: &RouteQuery) -> Answer {
        let mut routes = Vec::new();
        let mut truncated = false;
        if let Some(prefix) = q.prefix {
            let family = family_of(&prefix);
            if q.family.is_none_or(|f| f == family) {
                routes.extend(self.find(q, prefix));
            }
        } else {
            for family in [Family::IPV4_UNICAST, Family::IPV6_UNICAST] {
                if q.family.is_some_and(|f| f != family) {
                    continue;
                }
                let keys: Vec<Prefix> = match family.afi {
                    crate::wire::AFI_IPV6 => sorted(&self.v6),
                    _ => sorted(&self.v4),
                };
                for prefix in keys {
                    if routes.len() == q.limit {
                        truncated = true;
                        break;
                    }
                    if let Some(r) = self.dest(&prefix).and_then(|d| self.view(q.view, prefix, d)) {
                        routes.push(r);
                    }
                }
            }
        }
        Answer::Routes { routes, truncated }
    }

    /// The exact prefix, or the longest one covering it that the view holds.
    fn find(&self, q: &RouteQuery, prefix: Prefix) -> Option<RouteInfo> {
        if !q.longest_match {
            return self.dest(&prefix).and_then(|d| self.view(q.view, prefix, d));
        }
        (0..=prefix.len()).rev().find_map(|len| {
            let covering = Prefix::new(prefix.addr(), len)?;
            self.dest(&covering).and_then(|d| self.view(q.view, covering, d))
        })
    }

    /// The prefix as `view` sees it, or `None` when the view has nothing for it.
    fn view(&self, view: RibView, prefix: Prefix, d: &Dest) -> Option<RouteInfo> {
        let selected: Vec<&Path> = d.selected().collect();
        let entry = |p: &Path, attrs| {
            let info = id_info(&self.peers, &self.local, p.peer);
            (info.name.clone(), info.address, p.path_id, attrs, selected.contains(&p))
        };
        let paths: Vec<_> = match view {
            RibView::Loc => d.paths().iter().map(|p| entry(p, p.attrs.clone())).collect(),
            RibView::In(id) => d.paths().iter().filter(|p| p.peer == id).map(|p| entry(p, p.attrs.clone())).collect(),
            RibView::Out(id) => {
                let peer = self.peers.get(&id)?;
                let out = peer.up.as_ref()?;
                let family = family_of(&prefix);
                let env = Env { local: &self.local, cluster_id: self.cluster_id };
                // Every path (or the best N) to an ADD-PATH receiver, the best one to anyone else.
                let sent: Vec<Path> = match (out.all_paths(family), peer.rules.add_path_send_max) {
                    (true, None) => d.paths().to_vec(),
                    (true, Some(n)) => rank(d.paths(), usize::from(n), &self.peers, &self.local, &self.decision),
                    (false, _) => d.best().cloned().into_iter().collect(),
                };
                sent.iter()
                    .filter_map(|p| {
                        let src = id_info(&self.peers, &self.local, p.peer);
                        let route = Route { family, prefix, path: p, src, path_id: export::tx_path_id(p) };
                        export::exported(peer, &env, &route).map(|a| entry(p, Shared::detached(a)))
                    })
                    .collect()
            }
        };
        (!paths.is_empty()).then(|| RouteInfo { prefix, paths, reason: d.step().describe() })
    }
}

fn sorted<K: Key>(table: &Table<K>) -> Vec<Prefix> {
    let mut keys: Vec<K> = table.routes.keys().copied().collect();
    keys.sort_unstable();
    keys.into_iter().map(K::prefix).collect()
}
