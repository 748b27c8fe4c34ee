//! Deterministic full-table generators: the route streams of the codec benchmark, the
//! full-table benchmark and `tern-load`.
//!
//! Two shapes, both IPv4 unicast and reproducible from a seed (xorshift64*):
//! - [`dense`]: few attribute sets (AS paths of 2 or 3 hops, MED on half, 4 next hops), each
//!   with a run of consecutive /24s from 1.0.0.0 on, the way a route server or a
//!   default-free peer with few next hops packs a table: about 1,000 prefixes per UPDATE.
//! - [`diverse`]: many distinct attribute sets (AS paths of 1 to 8 hops mixing 2- and
//!   4-octet AS numbers, communities on a third, MED on half, 64 next hops), the prefixes
//!   (/20 to /24, all distinct) spread over them at random: mostly one or two per UPDATE.
//!
//! AS numbers inside the paths are drawn from 64512..65512 and 200000..4200000; a router
//! under test must use an AS outside both ranges, or loop detection drops some routes.
//! Next hops count up from [`Params::next_hop`].

use std::collections::HashSet;
use std::net::Ipv4Addr;

use crate::wire::{AsPath, Nlri, Origin, PathAttributes, Prefix, Segment, SegmentKind};

/// One attribute set and the prefixes that carry it.
pub type Batch = (PathAttributes, Vec<Nlri>);

/// Ranges the path AS numbers are drawn from (see the module comment).
pub const PATH_AS_RANGES: [std::ops::Range<u32>; 2] = [64_512..65_512, 200_000..4_200_000];

/// First address of the generated prefixes.
const FIRST_ADDR: u32 = 0x0100_0000;
/// Generated prefixes stay below 224.0.0.0 (multicast).
const ADDR_LIMIT: u64 = 0xe000_0000;

/// Next hops a dense table uses, counting up from [`Params::next_hop`].
pub const DENSE_NEXT_HOPS: u32 = 4;
/// Next hops a diverse table uses.
pub const DIVERSE_NEXT_HOPS: u32 = 64;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// Number of distinct prefixes.
    pub prefixes: usize,
    /// Number of distinct attribute sets (at most `prefixes`).
    pub sets: usize,
    /// The lowest next hop; the others follow it.
    pub next_hop: Ipv4Addr,
    pub seed: u64,
    /// An AS put in front of every path (the sender's own, on an eBGP session).
    pub first_as: Option<u32>,
}

impl Params {
    /// The dense defaults: one attribute set per 2,000 prefixes (500 for a million).
    pub fn dense(prefixes: usize) -> Params {
        Params {
            prefixes,
            sets: prefixes.div_ceil(2_000).max(1),
            next_hop: Ipv4Addr::new(198, 18, 0, 1),
            seed: 0x5eed_0001,
            first_as: None,
        }
    }

    /// The diverse defaults: 3 attribute sets per 10 prefixes (300,000 for a million).
    pub fn diverse(prefixes: usize) -> Params {
        Params { sets: (prefixes * 3 / 10).max(1), seed: 0x5eed_0002, ..Params::dense(prefixes) }
    }
}

/// Largest number of prefixes [`dense`] can make (consecutive /24s below 224.0.0.0).
pub const MAX_DENSE_PREFIXES: usize = ((ADDR_LIMIT - FIRST_ADDR as u64) >> 8) as usize;
/// Largest number of prefixes [`diverse`] is sure to fit below 224.0.0.0 (each takes at
/// most a /20's worth of addresses, 742 on average).
pub const MAX_DIVERSE_PREFIXES: usize = 4_000_000;

/// xorshift64* (Vigna): small, fast and good enough to vary a benchmark's input.
pub struct Rng(pub u64);

impl Rng {
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (the modulo bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }

    fn asn(&mut self) -> u32 {
        let [two, four] = &PATH_AS_RANGES;
        if self.chance(2) {
            two.start + self.below(u64::from(two.end - two.start)) as u32 // 2-octet (private range, as on many edges)
        } else {
            four.start + self.below(u64::from(four.end - four.start)) as u32 // 4-octet
        }
    }
}

fn attrs(rng: &mut Rng, p: &Params, hops: usize, communities: usize, med: bool, next_hops: u32) -> PathAttributes {
    let asns = p.first_as.into_iter().chain((0..hops).map(|_| rng.asn())).collect();
    PathAttributes {
        origin: Some(if rng.chance(10) { Origin::Incomplete } else { Origin::Igp }),
        as_path: Some(AsPath::from_segments(vec![Segment { kind: SegmentKind::Sequence, asns }])),
        next_hop: Some(Ipv4Addr::from(u32::from(p.next_hop) + rng.below(u64::from(next_hops)) as u32)),
        med: med.then(|| rng.below(1_000) as u32),
        communities: (0..communities).map(|_| ((rng.asn() & 0xffff) << 16) | rng.below(1_000) as u32).collect(),
        ..PathAttributes::default()
    }
}

/// `p.sets` attribute sets sharing `p.prefixes` consecutive /24s from 1.0.0.0 on, in
/// runs of equal length (the first `prefixes % sets` runs one longer).
pub fn dense(p: &Params) -> Vec<Batch> {
    assert!(p.prefixes <= MAX_DENSE_PREFIXES, "dense tables hold at most {MAX_DENSE_PREFIXES} prefixes");
    let sets = p.sets.clamp(1, p.prefixes.max(1));
    let mut rng = Rng(p.seed);
    let (per_set, longer) = (p.prefixes / sets, p.prefixes % sets);
    let mut next = 0u32;
    (0..sets)
        .map(|s| {
            let hops = 2 + rng.below(2) as usize;
            let med = rng.chance(2);
            let a = attrs(&mut rng, p, hops, 0, med, DENSE_NEXT_HOPS);
            let n = per_set + usize::from(s < longer);
            let nlri = (0..n)
                .map(|_| {
                    let base = FIRST_ADDR + (next << 8);
                    next += 1;
                    Nlri::new(Prefix::new(Ipv4Addr::from(base).into(), 24).expect("a /24 is valid"))
                })
                .collect();
            (a, nlri)
        })
        .collect()
}

/// `p.sets` distinct attribute sets; `p.prefixes` distinct prefixes of /20 to /24 spread
/// over them at random, every set with at least one.
pub fn diverse(p: &Params) -> Vec<Batch> {
    assert!(p.prefixes <= MAX_DIVERSE_PREFIXES, "diverse tables hold at most {MAX_DIVERSE_PREFIXES} prefixes");
    let sets = p.sets.clamp(1, p.prefixes.max(1));
    let mut rng = Rng(p.seed);
    let mut counts = vec![1usize; sets];
    for _ in sets..p.prefixes {
        counts[rng.below(sets as u64) as usize] += 1;
    }
    let mut next_addr: u32 = FIRST_ADDR;
    let mut prefix = |rng: &mut Rng| {
        let len = match rng.below(10) {
            0 => 20,
            1 => 22,
            2 => 23,
            _ => 24,
        };
        let p = Prefix::new(Ipv4Addr::from(next_addr).into(), len).expect("lengths are at most 24");
        next_addr += 1 << (32 - len);
        Nlri::new(p)
    };
    let mut seen = HashSet::with_capacity(sets);
    counts
        .into_iter()
        .map(|n| {
            // Short random paths repeat now and then: draw again until the set is new.
            let a = loop {
                let hops = 1 + rng.below(8) as usize;
                let communities = if rng.chance(3) { 1 + rng.below(4) as usize } else { 0 };
                let med = rng.chance(2);
                let a = attrs(&mut rng, p, hops, communities, med, DIVERSE_NEXT_HOPS);
                if seen.insert(a.clone()) {
                    break a;
                }
            };
            (a, (0..n).map(|_| prefix(&mut rng)).collect())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(batches: &[Batch]) -> (usize, usize) {
        let prefixes: HashSet<Prefix> = batches.iter().flat_map(|(_, n)| n.iter().map(|n| n.prefix)).collect();
        let sets: HashSet<&PathAttributes> = batches.iter().map(|(a, _)| a).collect();
        (prefixes.len(), sets.len())
    }

    #[test]
    fn tables_have_the_asked_for_shape() {
        let d = dense(&Params::dense(10_001));
        assert_eq!(d.len(), 6);
        assert_eq!(d.iter().map(|(_, n)| n.len()).sum::<usize>(), 10_001);
        assert_eq!(count(&d).0, 10_001);
        let v = diverse(&Params::diverse(10_000));
        assert_eq!(count(&v), (10_000, 3_000));
        assert_eq!(v.iter().map(|(_, n)| n.len()).sum::<usize>(), 10_000);
    }

    #[test]
    fn first_as_leads_every_path_and_next_hops_stay_in_range() {
        let p = Params { first_as: Some(4_200_000_100), ..Params::diverse(2_000) };
        for (a, _) in diverse(&p) {
            assert_eq!(a.as_path.as_ref().unwrap().segments().next().unwrap().asns[0], 4_200_000_100);
            let nh = u32::from(a.next_hop.unwrap()) - u32::from(p.next_hop);
            assert!(nh < DIVERSE_NEXT_HOPS);
        }
    }

    #[test]
    fn generation_is_deterministic() {
        assert_eq!(dense(&Params::dense(5_000)), dense(&Params::dense(5_000)));
        assert_eq!(diverse(&Params::diverse(5_000)), diverse(&Params::diverse(5_000)));
    }
}
