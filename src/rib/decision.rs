//! The decision process (RFC 4271 §9.1.2.2): which path of a prefix is best, and why.
//!
//! [`decide`] takes the feasible paths of one prefix (the RIB has already dropped those that
//! fail §9.1.2.1: unresolvable NEXT_HOP, AS loop, rejected by import policy) and runs the RFC's
//! *elimination* process: each step keeps only the paths that are best on one criterion, and
//! the step at which one path is left is the reason shown by `ternctl show route`. It is not a
//! pairwise comparator: MED is only compared between paths from the same neighbor AS, which
//! makes "a beats b" non-transitive (A beats B on router id, B beats C on router id, C beats A
//! on MED), so a comparator picks a different winner depending on the order paths arrived in.
//! Elimination over the whole set does not depend on the order of the input, and neither does
//! anything else here: every remaining tie is broken by a key, and only candidates equal in
//! every key (the same peer and ADD-PATH path id, i.e. the same path) fall back to the lower
//! index.
//!
//! | step | keeps the paths with | missing value |
//! |---|---|---|
//! | 1 [`Step::LocalPref`] | highest LOCAL_PREF (§9.1.2.2 preamble / §9.1.1) | [`DEFAULT_LOCAL_PREF`] |
//! | 2 [`Step::AsPathLength`] | shortest AS_PATH (a): an AS_SET counts 1, confed segments 0 | no AS_PATH counts 0 |
//! | 3 [`Step::Origin`] | lowest ORIGIN (b): IGP < EGP < INCOMPLETE | INCOMPLETE |
//! | 4 [`Step::Med`] | lowest MED among paths with the same neighbor AS (c) | 0 |
//! | 5 [`Step::ExternalOverInternal`] | locally originated, else eBGP, else iBGP (d) | |
//! | — | (e) lowest IGP cost to the NEXT_HOP: skipped, tern runs no IGP | |
//! | 6 [`Step::RouterId`] | lowest BGP identifier of the sender, ORIGINATOR_ID if present (f, RFC 4456 §9) | |
//! | 7 [`Step::ClusterListLength`] | shortest CLUSTER_LIST (RFC 4456 §9) | empty |
//! | 8 [`Step::NeighborAddress`] | lowest peer address (g); IPv4 sorts before IPv6 | |
//! | 9 [`Step::PathId`] | lowest ADD-PATH path id, then lowest [`PeerId`](super::PeerId) | |
//!
//! Choices the RIB must know about:
//!
//! - **Neighbor AS** (step 4, and ECMP grouping) is the first AS of the AS_PATH when it
//!   starts with an AS_SEQUENCE, else the AS of the peer the path came from. For iBGP and
//!   locally originated paths that is our own AS, as §9.1.2.2 c asks for routes originated
//!   inside the AS or with an AS_PATH that is empty or starts with an AS_SET. tern has no
//!   confederations; a path starting with a confederation segment also falls back to the
//!   peer's AS.
//! - **Locally originated paths** ([`LOCAL`]) win step 5 over eBGP and iBGP alike: they have
//!   no next hop to reach. They usually win step 2 already (empty AS_PATH). A LOCAL_PREF on
//!   them still ranks above all of this, as in the RFC.
//! - **ECMP.** The paths left after step 5 may all be used: [`Decision::multipath`] holds those
//!   with the best path's neighbor AS (any AS with [`DecisionConfig::multipath_relax`]),
//!   ordered best first by steps 6–9 and cut at [`DecisionConfig::max_paths`]. Step 5 leaves
//!   only eBGP, only iBGP or only local paths; a locally originated best path is never shared.
//!   Paths from the same peer (ADD-PATH) may share a next hop; the FIB merges those.
//!
//! Cost: with k paths left after a step, each step is one or two passes over k indices,
//! except MED which sorts them by (neighbor AS, MED) when it has to group, and the tie-breaks
//! of steps 6–9 which sort the survivors of step 5 once: O(n log n) in all, O(n) for the usual
//! two or three paths. One candidate returns at once. Up to 64 candidates are tracked in an
//! array on the stack; above that one `Vec` holds them and is handed back as the multipath
//! set. The result holds a single selected path inline ([`Multipath`]) and allocates only
//! when ECMP selects several. So: no allocation for up to 64 candidates unless ECMP selects
//! several paths, and never more than one.

use std::cmp::Reverse;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::ops::Deref;

use super::{PeerId, PeerInfo, DEFAULT_LOCAL_PREF, LOCAL};
use crate::wire::{AsPath, Origin, PathAttributes};

/// One feasible path of a prefix: who sent it, its attributes and its ADD-PATH id (0 when the
/// session does not receive ADD-PATH).
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub peer: &'a PeerInfo,
    pub attrs: &'a PathAttributes,
    pub path_id: u32,
}

impl Candidate<'_> {
    fn local_pref(&self) -> u32 {
        self.attrs.local_pref.unwrap_or(DEFAULT_LOCAL_PREF)
    }

    fn as_path_len(&self) -> usize {
        self.attrs.as_path.as_ref().map_or(0, AsPath::path_len)
    }

    fn origin(&self) -> Origin {
        self.attrs.origin.unwrap_or(Origin::Incomplete)
    }

    /// RFC 4271 §9.1.2.2 c: a missing MULTI_EXIT_DISC is the lowest value.
    fn med(&self) -> u32 {
        self.attrs.med.unwrap_or(0)
    }

    /// The AS whose MEDs this path's MED is compared with (see the module notes).
    fn neighbor_as(&self) -> u32 {
        self.attrs.as_path.as_ref().and_then(AsPath::first_as).unwrap_or(self.peer.asn)
    }

    fn is_local(&self) -> bool {
        self.peer.id == LOCAL
    }

    /// Step 5 rank, lowest wins: locally originated, eBGP, iBGP.
    fn source_rank(&self) -> u8 {
        match (self.is_local(), self.peer.ebgp) {
            (true, _) => 0,
            (false, true) => 1,
            (false, false) => 2,
        }
    }

    /// RFC 4456 §9: a reflected route is compared by its ORIGINATOR_ID.
    fn bgp_id(&self) -> Ipv4Addr {
        self.attrs.originator_id.unwrap_or(self.peer.router_id)
    }

    /// Steps 6–9 as one lexicographic key.
    fn tie_break(&self) -> (Ipv4Addr, usize, IpAddr, u32, PeerId) {
        (self.bgp_id(), self.attrs.cluster_list.len(), self.peer.address, self.path_id, self.peer.id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionConfig {
    /// Compare MED between paths from different neighbor ASes too.
    pub always_compare_med: bool,
    /// Most paths to install for ECMP; 1 (or 0) means no ECMP.
    pub max_paths: usize,
    /// ECMP across neighbor ASes (paths must still tie up to step 5).
    pub multipath_relax: bool,
}

impl Default for DecisionConfig {
    fn default() -> DecisionConfig {
        DecisionConfig { always_compare_med: false, max_paths: 1, multipath_relax: false }
    }
}

/// The step that decided, numbered as in the module table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// There was one candidate.
    Only,
    LocalPref,
    AsPathLength,
    Origin,
    Med,
    ExternalOverInternal,
    RouterId,
    ClusterListLength,
    NeighborAddress,
    PathId,
}

impl Step {
    /// 1–9 in decision order; 0 for [`Step::Only`].
    pub fn number(self) -> u8 {
        match self {
            Step::Only => 0,
            Step::LocalPref => 1,
            Step::AsPathLength => 2,
            Step::Origin => 3,
            Step::Med => 4,
            Step::ExternalOverInternal => 5,
            Step::RouterId => 6,
            Step::ClusterListLength => 7,
            Step::NeighborAddress => 8,
            Step::PathId => 9,
        }
    }

    /// What the winner had, for operators.
    pub fn describe(self) -> &'static str {
        match self {
            Step::Only => "only path",
            Step::LocalPref => "highest LOCAL_PREF",
            Step::AsPathLength => "shortest AS_PATH",
            Step::Origin => "lowest ORIGIN",
            Step::Med => "lowest MED",
            Step::ExternalOverInternal => "locally originated, then eBGP over iBGP",
            Step::RouterId => "lowest BGP identifier or ORIGINATOR_ID",
            Step::ClusterListLength => "shortest CLUSTER_LIST",
            Step::NeighborAddress => "lowest neighbor address",
            Step::PathId => "lowest ADD-PATH path id",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Index of the best path in the candidate slice.
    pub best: usize,
    /// The step at which only `best` was left.
    pub step: Step,
    /// Indices of all selected paths, best first; just `[best]` without ECMP. Used as a
    /// `&[usize]`; `Vec::from` or `to_vec()` when an owned `Vec` is needed.
    pub multipath: Multipath,
}

/// The selected paths of a [`Decision`], best first. Reads as a `&[usize]` (it derefs to
/// one) and compares with slices, arrays and `Vec`s; holding the single-path case inline is
/// what keeps [`decide`] from allocating for every prefix of a table load.
#[derive(Clone)]
pub struct Multipath(Repr);

#[derive(Clone)]
enum Repr {
    One(usize),
    Many(Vec<usize>),
}

impl Multipath {
    fn one(i: usize) -> Multipath {
        Multipath(Repr::One(i))
    }

    fn from_slice(s: &[usize]) -> Multipath {
        match s {
            [i] => Multipath::one(*i),
            _ => Multipath(Repr::Many(s.to_vec())),
        }
    }

    fn from_vec(v: Vec<usize>) -> Multipath {
        match v[..] {
            [i] => Multipath::one(i),
            _ => Multipath(Repr::Many(v)),
        }
    }
}

impl Deref for Multipath {
    type Target = [usize];

    fn deref(&self) -> &[usize] {
        match &self.0 {
            Repr::One(i) => std::slice::from_ref(i),
            Repr::Many(v) => v,
        }
    }
}

impl<'a> IntoIterator for &'a Multipath {
    type Item = &'a usize;
    type IntoIter = std::slice::Iter<'a, usize>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl From<Multipath> for Vec<usize> {
    fn from(m: Multipath) -> Vec<usize> {
        match m.0 {
            Repr::One(i) => vec![i],
            Repr::Many(v) => v,
        }
    }
}

impl fmt::Debug for Multipath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Multipath {
    fn eq(&self, other: &Multipath) -> bool {
        **self == **other
    }
}

impl Eq for Multipath {}

impl PartialEq<[usize]> for Multipath {
    fn eq(&self, other: &[usize]) -> bool {
        **self == *other
    }
}

impl PartialEq<Vec<usize>> for Multipath {
    fn eq(&self, other: &Vec<usize>) -> bool {
        **self == other[..]
    }
}

impl<const N: usize> PartialEq<[usize; N]> for Multipath {
    fn eq(&self, other: &[usize; N]) -> bool {
        **self == other[..]
    }
}

/// Candidates tracked on the stack; more take one `Vec`.
const INLINE: usize = 64;

/// Runs the decision process over `candidates`; `None` when there are none.
pub fn decide(candidates: &[Candidate], cfg: &DecisionConfig) -> Option<Decision> {
    match candidates.len() {
        0 => None,
        1 => Some(Decision { best: 0, step: Step::Only, multipath: Multipath::one(0) }),
        n if n <= INLINE => {
            let mut buf = [0usize; INLINE];
            let set = &mut buf[..n];
            set.iter_mut().enumerate().for_each(|(i, s)| *s = i);
            let (step, len) = select(candidates, cfg, set);
            Some(Decision { best: set[0], step, multipath: Multipath::from_slice(&set[..len]) })
        }
        n => {
            let mut set: Vec<usize> = (0..n).collect();
            let (step, len) = select(candidates, cfg, &mut set);
            set.truncate(len);
            Some(Decision { best: set[0], step, multipath: Multipath::from_vec(set) })
        }
    }
}

/// Runs the steps over `set` (indices into `c`, at least two). Leaves the best path in
/// `set[0]` and the multipath set, best first, in `set[..len]`; returns the deciding step and
/// `len`.
fn select(c: &[Candidate], cfg: &DecisionConfig, set: &mut [usize]) -> (Step, usize) {
    let mut len = set.len();

    len = keep_min(set, len, |i| Reverse(c[i].local_pref()));
    if len == 1 {
        return (Step::LocalPref, 1);
    }
    len = keep_min(set, len, |i| c[i].as_path_len());
    if len == 1 {
        return (Step::AsPathLength, 1);
    }
    len = keep_min(set, len, |i| c[i].origin());
    if len == 1 {
        return (Step::Origin, 1);
    }
    len = keep_lowest_med(c, set, len, cfg.always_compare_med);
    if len == 1 {
        return (Step::Med, 1);
    }
    len = keep_min(set, len, |i| c[i].source_rank());
    if len == 1 {
        return (Step::ExternalOverInternal, 1);
    }
    // (e) IGP cost to the NEXT_HOP: tern runs no IGP, every next hop costs the same.

    // Steps 6-9 are plain lexicographic keys: sorting once orders the ECMP set, and the
    // first key in which the best path differs from the runner-up is where it alone was left.
    let set = &mut set[..len];
    set.sort_unstable_by(|&a, &b| c[a].tie_break().cmp(&c[b].tie_break()).then(a.cmp(&b)));
    let (best, next) = (&c[set[0]], &c[set[1]]);
    let step = if best.bgp_id() != next.bgp_id() {
        Step::RouterId
    } else if best.attrs.cluster_list.len() != next.attrs.cluster_list.len() {
        Step::ClusterListLength
    } else if best.peer.address != next.peer.address {
        Step::NeighborAddress
    } else {
        Step::PathId
    };

    if cfg.max_paths <= 1 || best.is_local() {
        return (step, 1);
    }
    if !cfg.multipath_relax {
        let nas = best.neighbor_as();
        len = keep(set, len, |i| c[i].neighbor_as() == nas);
    }
    (step, len.min(cfg.max_paths))
}

/// Keeps, in order, the indices of `set[..len]` for which `f` holds; returns their count.
fn keep(set: &mut [usize], len: usize, f: impl Fn(usize) -> bool) -> usize {
    let mut out = 0;
    for r in 0..len {
        let i = set[r];
        if f(i) {
            set[out] = i;
            out += 1;
        }
    }
    out
}

/// Keeps the indices of `set[..len]` with the lowest `key`; returns their count.
fn keep_min<K: Ord>(set: &mut [usize], len: usize, key: impl Fn(usize) -> K) -> usize {
    let Some(min) = set[..len].iter().map(|&i| key(i)).min() else { return 0 };
    keep(set, len, |i| key(i) == min)
}

/// Step 4: drops every path whose MED is above the lowest MED of its neighbor AS (of all
/// paths with `always`).
fn keep_lowest_med(c: &[Candidate], set: &mut [usize], len: usize, always: bool) -> usize {
    let first_as = c[set[0]].neighbor_as();
    if always || set[1..len].iter().all(|&i| c[i].neighbor_as() == first_as) {
        return keep_min(set, len, |i| c[i].med());
    }
    // Group by neighbor AS: sorted by (AS, MED), the first path of each group has its lowest
    // MED. The order of `set` changes, which nothing after this depends on.
    let s = &mut set[..len];
    s.sort_unstable_by_key(|&i| (c[i].neighbor_as(), c[i].med()));
    let mut out = 0;
    let mut group: Option<(u32, u32)> = None;
    for r in 0..len {
        let i = s[r];
        let (nas, med) = (c[i].neighbor_as(), c[i].med());
        match group {
            Some((g, min)) if g == nas => {
                if med != min {
                    continue;
                }
            }
            _ => group = Some((nas, med)),
        }
        s[out] = i;
        out += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;

    use super::*;
    use crate::wire::SegmentKind;

    struct Path {
        peer: PeerInfo,
        attrs: PathAttributes,
        path_id: u32,
    }

    fn ebgp(id: PeerId, asn: u32, rid: [u8; 4]) -> PeerInfo {
        PeerInfo {
            id,
            name: format!("p{id}"),
            address: IpAddr::V4(Ipv4Addr::new(10, 0, 0, id as u8)),
            asn,
            router_id: Ipv4Addr::from(rid),
            ebgp: true,
            rr_client: false,
        }
    }

    fn ibgp(id: PeerId, rid: [u8; 4]) -> PeerInfo {
        PeerInfo { ebgp: false, ..ebgp(id, LOCAL_AS, rid) }
    }

    const LOCAL_AS: u32 = 65000;

    fn local() -> PeerInfo {
        PeerInfo::local(LOCAL_AS, Ipv4Addr::new(9, 9, 9, 9))
    }

    fn attrs(path: &[u32]) -> PathAttributes {
        PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::sequence(path.iter().copied())),
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
            ..PathAttributes::default()
        }
    }

    fn path(peer: PeerInfo, attrs: PathAttributes) -> Path {
        Path { peer, attrs, path_id: 0 }
    }

    fn cands(paths: &[Path]) -> Vec<Candidate<'_>> {
        paths.iter().map(|p| Candidate { peer: &p.peer, attrs: &p.attrs, path_id: p.path_id }).collect()
    }

    fn run(paths: &[Path], cfg: &DecisionConfig) -> Decision {
        decide(&cands(paths), cfg).unwrap()
    }

    fn run_default(paths: &[Path]) -> Decision {
        run(paths, &DecisionConfig::default())
    }

    /// Asserts the winner and step, in the given order and reversed.
    fn assert_decides(paths: Vec<Path>, best: usize, step: Step) {
        let d = run_default(&paths);
        assert_eq!((d.best, d.step), (best, step), "{d:?}");
        assert_eq!(d.multipath, [best]);
        let n = paths.len();
        let mut rev = paths;
        rev.reverse();
        let d = run_default(&rev);
        assert_eq!((d.best, d.step), (n - 1 - best, step), "reversed: {d:?}");
    }

    #[test]
    fn empty_and_only() {
        assert_eq!(decide(&[], &DecisionConfig::default()), None);
        let d = run_default(&[path(ebgp(1, 1, [1, 1, 1, 1]), attrs(&[1]))]);
        assert_eq!(d, Decision { best: 0, step: Step::Only, multipath: Multipath::one(0) });
        assert_eq!(d.multipath, vec![0]);
        assert_eq!(Vec::from(d.multipath), vec![0]);
    }

    #[test]
    fn default_config() {
        let cfg = DecisionConfig::default();
        assert!(!cfg.always_compare_med && !cfg.multipath_relax);
        assert_eq!(cfg.max_paths, 1);
    }

    #[test]
    fn steps_are_numbered_and_described() {
        let all = [
            Step::Only,
            Step::LocalPref,
            Step::AsPathLength,
            Step::Origin,
            Step::Med,
            Step::ExternalOverInternal,
            Step::RouterId,
            Step::ClusterListLength,
            Step::NeighborAddress,
            Step::PathId,
        ];
        for (n, s) in all.iter().enumerate() {
            assert_eq!(usize::from(s.number()), n);
            assert!(!s.describe().is_empty());
        }
        assert_eq!(Step::LocalPref.describe(), "highest LOCAL_PREF");
    }

    #[test]
    fn local_pref_decides_before_path_length() {
        let long = PathAttributes { local_pref: Some(200), ..attrs(&[1, 2, 3]) };
        assert_decides(
            vec![path(ibgp(1, [1, 1, 1, 1]), attrs(&[1])), path(ibgp(2, [2, 2, 2, 2]), long)],
            1,
            Step::LocalPref,
        );
    }

    #[test]
    fn missing_local_pref_is_the_default() {
        let lp = |v| PathAttributes { local_pref: Some(v), ..attrs(&[1]) };
        // 99 < default 100: the path without LOCAL_PREF wins, though its router id is higher.
        assert_decides(
            vec![path(ibgp(1, [1, 1, 1, 1]), lp(99)), path(ibgp(2, [2, 2, 2, 2]), attrs(&[1]))],
            1,
            Step::LocalPref,
        );
        assert_decides(
            vec![path(ibgp(1, [1, 1, 1, 1]), attrs(&[1])), path(ibgp(2, [2, 2, 2, 2]), lp(101))],
            1,
            Step::LocalPref,
        );
        // An explicit 100 ties with a missing one; the router id decides.
        assert_decides(
            vec![path(ibgp(1, [3, 3, 3, 3]), lp(100)), path(ibgp(2, [2, 2, 2, 2]), attrs(&[1]))],
            1,
            Step::RouterId,
        );
    }

    #[test]
    fn shortest_as_path() {
        assert_decides(
            vec![path(ebgp(1, 1, [1, 1, 1, 1]), attrs(&[1, 2, 3])), path(ebgp(2, 2, [2, 2, 2, 2]), attrs(&[2, 3]))],
            1,
            Step::AsPathLength,
        );
    }

    #[test]
    fn as_set_counts_one_and_missing_as_path_zero() {
        // [1 {2 3 4}] has length 2 and beats [5 6 7].
        let mut set = attrs(&[1]);
        set.as_path.as_mut().unwrap().push_segment(SegmentKind::Set, vec![2, 3, 4]);
        assert_decides(
            vec![path(ebgp(1, 5, [1, 1, 1, 1]), attrs(&[5, 6, 7])), path(ebgp(2, 1, [2, 2, 2, 2]), set)],
            1,
            Step::AsPathLength,
        );
        // An iBGP path without AS_PATH (originated by the peer) beats one that has an AS.
        let none = PathAttributes { as_path: None, ..attrs(&[]) };
        assert_decides(
            vec![path(ibgp(1, [1, 1, 1, 1]), attrs(&[1])), path(ibgp(2, [2, 2, 2, 2]), none)],
            1,
            Step::AsPathLength,
        );
    }

    #[test]
    fn lowest_origin_and_missing_is_incomplete() {
        let o = |origin| PathAttributes { origin, ..attrs(&[1]) };
        let p = |id, origin| path(ibgp(id, [id as u8; 4]), o(origin));
        assert_decides(vec![p(1, Some(Origin::Egp)), p(2, Some(Origin::Igp))], 1, Step::Origin);
        assert_decides(vec![p(1, None), p(2, Some(Origin::Egp))], 1, Step::Origin);
        assert_decides(vec![p(1, Some(Origin::Incomplete)), p(2, Some(Origin::Egp))], 1, Step::Origin);
        // Missing ties with INCOMPLETE; the router id decides.
        assert_decides(vec![p(1, Some(Origin::Incomplete)), p(2, None)], 0, Step::RouterId);
    }

    #[test]
    fn lowest_med_within_a_neighbor_as() {
        let med = |m| PathAttributes { med: m, ..attrs(&[1, 9]) };
        assert_decides(
            vec![path(ebgp(1, 1, [1, 1, 1, 1]), med(Some(10))), path(ebgp(2, 1, [2, 2, 2, 2]), med(Some(5)))],
            1,
            Step::Med,
        );
        // A missing MED is 0, the best.
        assert_decides(
            vec![path(ebgp(1, 1, [1, 1, 1, 1]), med(Some(1))), path(ebgp(2, 1, [2, 2, 2, 2]), med(None))],
            1,
            Step::Med,
        );
        assert_decides(
            vec![path(ebgp(1, 1, [2, 2, 2, 2]), med(Some(0))), path(ebgp(2, 1, [1, 1, 1, 1]), med(None))],
            1,
            Step::RouterId,
        );
    }

    /// A (AS 1, MED 10), B (AS 2, MED 5), C (AS 1, MED 5), router ids 1, 2, 3: pairwise, A
    /// beats B (router id), B beats C (router id), C beats A (MED). Elimination: MED drops A
    /// (C is lower in AS 1), then B beats C on router id, in every order.
    fn non_transitive() -> Vec<Path> {
        let p = |id: PeerId, asn, med| {
            path(ebgp(id, asn, [id as u8; 4]), PathAttributes { med: Some(med), ..attrs(&[asn, 9]) })
        };
        vec![p(1, 1, 10), p(2, 2, 5), p(3, 1, 5)]
    }

    #[test]
    fn med_non_transitive_example_is_order_independent() {
        for always in [false, true] {
            let cfg = DecisionConfig { always_compare_med: always, ..DecisionConfig::default() };
            for order in permutations(3) {
                let base = non_transitive();
                let paths: Vec<Path> = order.iter().map(|&i| clone_path(&base[i])).collect();
                let d = run(&paths, &cfg);
                assert_eq!(paths[d.best].peer.id, 2, "order {order:?}");
                assert_eq!(d.step, Step::RouterId, "order {order:?}");
            }
        }
    }

    #[test]
    fn always_compare_med_compares_across_ases() {
        let p = |id: PeerId, asn, med| {
            path(ebgp(id, asn, [id as u8; 4]), PathAttributes { med: Some(med), ..attrs(&[asn]) })
        };
        let paths = vec![p(1, 1, 10), p(2, 2, 5)];
        let d = run_default(&paths);
        assert_eq!((d.best, d.step), (0, Step::RouterId));
        let cfg = DecisionConfig { always_compare_med: true, ..DecisionConfig::default() };
        let d = run(&paths, &cfg);
        assert_eq!((d.best, d.step), (1, Step::Med));
    }

    #[test]
    fn ibgp_paths_without_as_path_share_the_local_as_for_med() {
        // Both iBGP routes originated inside our AS: their MEDs are compared.
        let p = |id: PeerId, med| path(ibgp(id, [id as u8; 4]), PathAttributes { med: Some(med), ..attrs(&[]) });
        assert_decides(vec![p(1, 20), p(2, 10)], 1, Step::Med);
    }

    #[test]
    fn external_over_internal_and_local_over_both() {
        // The iBGP path has the lower router id but loses to eBGP.
        assert_decides(
            vec![path(ibgp(1, [1, 1, 1, 1]), attrs(&[7])), path(ebgp(2, 7, [2, 2, 2, 2]), attrs(&[7]))],
            1,
            Step::ExternalOverInternal,
        );
        // A route another iBGP speaker originated (empty AS_PATH) against our own.
        assert_decides(
            vec![path(ibgp(1, [1, 1, 1, 1]), attrs(&[])), path(local(), attrs(&[]))],
            1,
            Step::ExternalOverInternal,
        );
        // Local over eBGP at step 5 (a prepended local route, to reach step 5 at all).
        assert_decides(
            vec![path(ebgp(1, 7, [1, 1, 1, 1]), attrs(&[7])), path(local(), attrs(&[LOCAL_AS]))],
            1,
            Step::ExternalOverInternal,
        );
    }

    #[test]
    fn lowest_router_id_or_originator_id() {
        assert_decides(
            vec![path(ebgp(1, 1, [10, 0, 0, 2]), attrs(&[1])), path(ebgp(2, 2, [10, 0, 0, 1]), attrs(&[2]))],
            1,
            Step::RouterId,
        );
        // The reflected path's ORIGINATOR_ID (9.9.9.9) counts, not its reflector's 1.1.1.1.
        let reflected = PathAttributes {
            originator_id: Some(Ipv4Addr::new(9, 9, 9, 9)),
            cluster_list: vec![Ipv4Addr::new(1, 1, 1, 1)],
            ..attrs(&[1])
        };
        assert_decides(
            vec![path(ibgp(1, [1, 1, 1, 1]), reflected), path(ibgp(2, [2, 2, 2, 2]), attrs(&[1]))],
            1,
            Step::RouterId,
        );
    }

    #[test]
    fn shortest_cluster_list() {
        let refl = |n: u8| PathAttributes {
            originator_id: Some(Ipv4Addr::new(5, 5, 5, 5)),
            cluster_list: (0..n).map(|i| Ipv4Addr::new(1, 1, 1, i)).collect(),
            ..attrs(&[1])
        };
        assert_decides(
            vec![path(ibgp(1, [1, 1, 1, 1]), refl(2)), path(ibgp(2, [2, 2, 2, 2]), refl(1))],
            1,
            Step::ClusterListLength,
        );
    }

    #[test]
    fn lowest_neighbor_address() {
        // Two sessions to the same router (same BGP identifier).
        let mut a = ebgp(1, 1, [1, 1, 1, 1]);
        a.address = "10.0.0.9".parse().unwrap();
        let b = ebgp(2, 1, [1, 1, 1, 1]);
        assert_decides(vec![path(a, attrs(&[1])), path(b, attrs(&[1]))], 1, Step::NeighborAddress);
        // IPv4 before IPv6.
        let mut v6 = ebgp(3, 1, [1, 1, 1, 1]);
        v6.address = "2001:db8::1".parse().unwrap();
        assert_decides(
            vec![path(v6, attrs(&[1])), path(ebgp(4, 1, [1, 1, 1, 1]), attrs(&[1]))],
            1,
            Step::NeighborAddress,
        );
    }

    #[test]
    fn lowest_path_id() {
        let p = |path_id| Path { path_id, ..path(ibgp(1, [1, 1, 1, 1]), attrs(&[1])) };
        assert_decides(vec![p(7), p(3), p(5)], 1, Step::PathId);
    }

    #[test]
    fn identical_candidates_pick_the_first() {
        let p = || path(ebgp(1, 1, [1, 1, 1, 1]), attrs(&[1]));
        let d = run_default(&[p(), p(), p()]);
        assert_eq!((d.best, d.step), (0, Step::PathId));
        let cfg = DecisionConfig { max_paths: 4, ..DecisionConfig::default() };
        assert_eq!(run(&[p(), p(), p()], &cfg).multipath, [0, 1, 2]);
    }

    /// Three equal eBGP paths: two from neighbor AS 1 (router ids 3 and 1), one from AS 2
    /// (router id 2), and an iBGP path and a higher-MED AS 1 path that must never be chosen.
    fn ecmp_paths() -> Vec<Path> {
        let p = |peer, asn| path(peer, attrs(&[asn, 9]));
        vec![
            p(ebgp(1, 1, [3, 3, 3, 3]), 1),
            p(ebgp(2, 2, [2, 2, 2, 2]), 2),
            p(ibgp(3, [0, 0, 0, 1]), 1),
            p(ebgp(4, 1, [1, 1, 1, 1]), 1),
            path(ebgp(5, 1, [0, 0, 0, 2]), PathAttributes { med: Some(1), ..attrs(&[1, 9]) }),
        ]
    }

    #[test]
    fn ecmp_same_neighbor_as() {
        let paths = ecmp_paths();
        let cfg = DecisionConfig { max_paths: 2, ..DecisionConfig::default() };
        let d = run(&paths, &cfg);
        assert_eq!((d.best, d.step), (3, Step::RouterId));
        assert_eq!(d.multipath, [3, 0], "AS 2 is not shared without multipath_relax");
        let cfg = DecisionConfig { max_paths: 8, ..cfg };
        assert_eq!(run(&paths, &cfg).multipath, [3, 0]);
        // Without ECMP, only the best.
        assert_eq!(run_default(&paths).multipath, [3]);
    }

    #[test]
    fn ecmp_relax_and_cap() {
        let paths = ecmp_paths();
        let relax = |max_paths| DecisionConfig { max_paths, multipath_relax: true, ..DecisionConfig::default() };
        assert_eq!(run(&paths, &relax(3)).multipath, [3, 1, 0]);
        assert_eq!(run(&paths, &relax(8)).multipath, [3, 1, 0]);
        assert_eq!(run(&paths, &relax(2)).multipath, [3, 1]);
        assert_eq!(run(&paths, &relax(1)).multipath, [3]);
        assert_eq!(run(&paths, &relax(0)).multipath, [3]);
        // Cap among four equal paths from one AS: the three best by router id.
        let four: Vec<Path> =
            [4u8, 2, 3, 1].iter().map(|&r| path(ebgp(PeerId::from(r), 1, [r; 4]), attrs(&[1]))).collect();
        let cfg = DecisionConfig { max_paths: 3, ..DecisionConfig::default() };
        assert_eq!(run(&four, &cfg).multipath, [3, 1, 2]);
    }

    #[test]
    fn ecmp_never_shares_a_local_best() {
        let paths = vec![path(ibgp(1, [1, 1, 1, 1]), attrs(&[])), path(local(), attrs(&[])), path(local(), attrs(&[]))];
        let cfg = DecisionConfig { max_paths: 4, multipath_relax: true, ..DecisionConfig::default() };
        let d = run(&paths, &cfg);
        assert_eq!((d.best, d.multipath.len()), (1, 1));
    }

    #[test]
    fn more_candidates_than_inline() {
        // 100 eBGP paths in AS 1 with distinct router ids, the best (lowest) in the middle.
        let paths: Vec<Path> = (0..100u32)
            .map(|i| {
                let rid = ((i * 37) % 100 + 1) as u8;
                path(ebgp(i + 1, 1, [10, 0, 0, rid]), attrs(&[1]))
            })
            .collect();
        let best = paths.iter().position(|p| p.peer.router_id == Ipv4Addr::new(10, 0, 0, 1)).unwrap();
        let cfg = DecisionConfig { max_paths: 3, ..DecisionConfig::default() };
        let d = run(&paths, &cfg);
        assert_eq!((d.best, d.step), (best, Step::RouterId));
        let rids: Vec<u8> = d.multipath.iter().map(|&i| paths[i].peer.router_id.octets()[3]).collect();
        assert_eq!(rids, [1, 2, 3]);
        assert_eq!(run_default(&paths).multipath, [best]);
    }

    // ---- Property: order independence, and agreement with a literal reading of the RFC. ----

    fn clone_path(p: &Path) -> Path {
        Path { peer: p.peer.clone(), attrs: p.attrs.clone(), path_id: p.path_id }
    }

    fn permutations(n: usize) -> Vec<Vec<usize>> {
        fn go(rest: &mut Vec<usize>, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
            if rest.is_empty() {
                out.push(cur.clone());
                return;
            }
            for k in 0..rest.len() {
                let x = rest.remove(k);
                cur.push(x);
                go(rest, cur, out);
                cur.pop();
                rest.insert(k, x);
            }
        }
        let mut out = Vec::new();
        go(&mut (0..n).collect(), &mut Vec::new(), &mut out);
        out
    }

    /// xorshift64*: deterministic, good enough to pick test cases.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
            xs[self.below(xs.len())].clone()
        }
    }

    /// Peers chosen to collide: 1 and 3 share a router id, 5 speaks over IPv6 with the same
    /// router id as 4, 2 and 1 share a neighbor AS.
    fn peer_pool() -> Vec<PeerInfo> {
        let mut p5 = ibgp(5, [3, 3, 3, 3]);
        p5.address = "2001:db8::5".parse().unwrap();
        vec![
            local(),
            ebgp(1, 1, [1, 1, 1, 1]),
            ebgp(2, 1, [2, 2, 2, 2]),
            ebgp(3, 2, [1, 1, 1, 1]),
            ibgp(4, [3, 3, 3, 3]),
            p5,
        ]
    }

    /// A random path from `peer`. A `plain` one has LOCAL_PREF, ORIGIN and MED unset and a
    /// one-AS path, so that sets of plain paths reach the late tie-breaks.
    fn random_path(rng: &mut Rng, peer: &PeerInfo, path_id: u32, plain: bool) -> Path {
        let mut a = attrs(&[]);
        let first = if peer.ebgp { peer.asn } else { rng.pick(&[1, 2, 3]) };
        let mut asns = vec![first];
        if !plain {
            a.local_pref = rng.pick(&[None, None, Some(100), Some(200)]);
            a.origin =
                rng.pick(&[None, Some(Origin::Igp), Some(Origin::Igp), Some(Origin::Egp), Some(Origin::Incomplete)]);
            a.med = rng.pick(&[None, Some(0), Some(5), Some(10)]);
            asns.extend((0..rng.below(2)).map(|_| 9));
        }
        a.as_path = match (peer.id == LOCAL, rng.below(6)) {
            (true, 0) => None,
            (true, _) => Some(AsPath::empty()),
            (false, 0) if !peer.ebgp => Some(AsPath::empty()),
            (false, 1) if !plain => {
                let mut p = AsPath::sequence(asns);
                p.push_segment(SegmentKind::Set, vec![7, 8]);
                Some(p)
            }
            _ => Some(AsPath::sequence(asns)),
        };
        if !peer.ebgp && peer.id != LOCAL && rng.below(2) == 0 {
            a.originator_id = Some(rng.pick(&[Ipv4Addr::new(1, 1, 1, 1), Ipv4Addr::new(4, 4, 4, 4)]));
            a.cluster_list = (0..rng.below(3)).map(|i| Ipv4Addr::new(10, 9, 9, i as u8)).collect();
        }
        Path { peer: peer.clone(), attrs: a, path_id }
    }

    /// 1..=max paths with distinct (peer, path id), as a RIB holds them.
    fn random_set(rng: &mut Rng, pool: &[PeerInfo], max: usize) -> Vec<Path> {
        let n = 1 + rng.below(max);
        let plain = rng.below(2) == 0;
        // A third of the sets come from iBGP peers only, as behind route reflectors.
        let pool: Vec<&PeerInfo> = match rng.below(3) {
            0 => pool.iter().filter(|p| !p.ebgp && p.id != LOCAL).collect(),
            _ => pool.iter().collect(),
        };
        let mut out: Vec<Path> = Vec::new();
        while out.len() < n.min(3 * pool.len()) {
            let peer = pool[rng.below(pool.len())];
            let path_id = rng.below(3) as u32;
            if !out.iter().any(|p| p.peer.id == peer.id && p.path_id == path_id) {
                out.push(random_path(rng, peer, path_id, plain));
            }
        }
        out
    }

    /// The RFC read literally: filter the set step by step, no sorting, no shortcuts.
    fn reference(c: &[Candidate], cfg: &DecisionConfig) -> (usize, Step, Vec<usize>) {
        if c.len() == 1 {
            return (0, Step::Only, vec![0]);
        }
        fn filter<K: Ord + Copy>(s: &mut Vec<usize>, key: impl Fn(usize) -> K) {
            let min = s.iter().map(|&i| key(i)).min().unwrap();
            s.retain(|&i| key(i) == min);
        }
        let mut s: Vec<usize> = (0..c.len()).collect();
        let mut decided = None;
        let mut note = |s: &Vec<usize>, step| {
            if s.len() == 1 && decided.is_none() {
                decided = Some(step);
            }
        };
        filter(&mut s, |i| u32::MAX - c[i].local_pref());
        note(&s, Step::LocalPref);
        filter(&mut s, |i| c[i].as_path_len());
        note(&s, Step::AsPathLength);
        filter(&mut s, |i| c[i].origin());
        note(&s, Step::Origin);
        let same_group = |i: usize, j: usize| cfg.always_compare_med || c[i].neighbor_as() == c[j].neighbor_as();
        let before = s.clone();
        s.retain(|&i| !before.iter().any(|&j| same_group(i, j) && c[j].med() < c[i].med()));
        note(&s, Step::Med);
        filter(&mut s, |i| match (c[i].peer.id == LOCAL, c[i].peer.ebgp) {
            (true, _) => 0,
            (false, true) => 1,
            (false, false) => 2,
        });
        note(&s, Step::ExternalOverInternal);
        let survivors = s.clone();
        filter(&mut s, |i| c[i].bgp_id());
        note(&s, Step::RouterId);
        filter(&mut s, |i| c[i].attrs.cluster_list.len());
        note(&s, Step::ClusterListLength);
        filter(&mut s, |i| c[i].peer.address);
        note(&s, Step::NeighborAddress);
        filter(&mut s, |i| (c[i].path_id, c[i].peer.id));
        let step = decided.unwrap_or(Step::PathId);
        let best = s[0];

        let mut multi: Vec<usize> = if cfg.max_paths <= 1 || c[best].peer.id == LOCAL {
            vec![best]
        } else {
            survivors
                .into_iter()
                .filter(|&i| cfg.multipath_relax || c[i].neighbor_as() == c[best].neighbor_as())
                .collect()
        };
        multi.sort_by(|&a, &b| match (a == best, b == best) {
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            _ => c[a].tie_break().cmp(&c[b].tie_break()).then(a.cmp(&b)),
        });
        multi.truncate(cfg.max_paths.max(1));
        (best, step, multi)
    }

    fn configs() -> Vec<DecisionConfig> {
        let mut out = Vec::new();
        for always_compare_med in [false, true] {
            for multipath_relax in [false, true] {
                for max_paths in [1, 2, 4] {
                    out.push(DecisionConfig { always_compare_med, max_paths, multipath_relax });
                }
            }
        }
        out
    }

    /// What a candidate is, whatever its index: the RIB holds one path per (peer, path id).
    fn identity(c: &Candidate) -> (PeerId, u32) {
        (c.peer.id, c.path_id)
    }

    #[test]
    fn every_order_gives_the_same_decision() {
        let pool = peer_pool();
        let cfgs = configs();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut steps_seen = std::collections::HashSet::new();
        for _ in 0..400 {
            let paths = random_set(&mut rng, &pool, 6);
            let c = cands(&paths);
            for cfg in &cfgs {
                let d = decide(&c, cfg).unwrap();
                let (rb, rs, rm) = reference(&c, cfg);
                assert_eq!((d.best, d.step, d.multipath.to_vec()), (rb, rs, rm), "reference, {cfg:?}");
                steps_seen.insert(d.step);
                // Every order under a quarter of the configurations, to stay fast.
                if rng.below(4) != 0 {
                    continue;
                }
                let want =
                    (identity(&c[d.best]), d.step, d.multipath.iter().map(|&i| identity(&c[i])).collect::<Vec<_>>());
                for order in permutations(c.len()) {
                    let perm: Vec<Candidate> = order.iter().map(|&i| c[i]).collect();
                    let d = decide(&perm, cfg).unwrap();
                    let got = (
                        identity(&perm[d.best]),
                        d.step,
                        d.multipath.iter().map(|&i| identity(&perm[i])).collect::<Vec<_>>(),
                    );
                    assert_eq!(got, want, "order {order:?}, {cfg:?}");
                }
            }
        }
        // The generator reaches every step, so the property covers all of them.
        assert_eq!(steps_seen.len(), 10, "{steps_seen:?}");
    }

    #[test]
    fn large_sets_agree_with_the_reference() {
        let pool = peer_pool();
        let mut rng = Rng(0x0123_4567_89ab_cdef);
        for _ in 0..30 {
            // Up to 18 distinct (peer, path id) pairs exist in the pool; repeat peers under
            // more path ids to go past the inline limit.
            let n = 60 + rng.below(20);
            let mut paths: Vec<Path> = (0..n)
                .map(|k| random_path(&mut rng, &pool[k % pool.len()], (k / pool.len()) as u32, k % 2 == 0))
                .collect();
            for cfg in &configs() {
                for _ in 0..3 {
                    let c = cands(&paths);
                    let d = decide(&c, cfg).unwrap();
                    let (rb, rs, rm) = reference(&c, cfg);
                    assert_eq!((d.best, d.step, d.multipath.to_vec()), (rb, rs, rm), "{cfg:?}");
                    // Shuffle (Fisher-Yates) and go again.
                    for k in (1..paths.len()).rev() {
                        paths.swap(k, rng.below(k + 1));
                    }
                }
            }
        }
    }
}
