//! Receive-side accounting: which IPv4 unicast prefixes are currently announced, and how
//! they arrived.
//!
//! [`PrefixSet`] keeps one bitmap per prefix length up to /24 (2 MiB for all /24s, half that
//! for /23s, and so on: under 4 MiB in all, allocated per length on first use) and a hash
//! set for longer prefixes, so a full table costs one bit test per prefix and a
//! re-announcement is not counted twice.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

use crate::wire::{Family, Nlri, Update};

/// Longest prefix length kept in a bitmap.
const BITMAP_MAX_LEN: u8 = 24;

/// A set of IPv4 prefixes.
#[derive(Default)]
pub struct PrefixSet {
    bitmaps: Vec<Vec<u64>>,
    long: HashSet<(Ipv4Addr, u8)>,
    len: usize,
}

impl PrefixSet {
    pub fn new() -> PrefixSet {
        PrefixSet { bitmaps: vec![Vec::new(); usize::from(BITMAP_MAX_LEN) + 1], long: HashSet::new(), len: 0 }
    }

    /// Word and bit of a prefix of length `len` (at most [`BITMAP_MAX_LEN`]).
    fn slot(&mut self, addr: Ipv4Addr, len: u8) -> (&mut u64, u64) {
        let bitmap = &mut self.bitmaps[usize::from(len)];
        if bitmap.is_empty() {
            bitmap.resize((1usize << len).div_ceil(64), 0);
        }
        let index = if len == 0 { 0 } else { (u32::from(addr) >> (32 - len)) as usize };
        (&mut bitmap[index / 64], 1 << (index % 64))
    }

    /// Adds a prefix; true when it was not there yet.
    pub fn insert(&mut self, addr: Ipv4Addr, len: u8) -> bool {
        let new = if len <= BITMAP_MAX_LEN {
            let (word, bit) = self.slot(addr, len);
            let new = *word & bit == 0;
            *word |= bit;
            new
        } else {
            self.long.insert((addr, len))
        };
        self.len += usize::from(new);
        new
    }

    /// Removes a prefix; true when it was there.
    pub fn remove(&mut self, addr: Ipv4Addr, len: u8) -> bool {
        let was = if len <= BITMAP_MAX_LEN {
            let (word, bit) = self.slot(addr, len);
            let was = *word & bit != 0;
            *word &= !bit;
            was
        } else {
            self.long.remove(&(addr, len))
        };
        self.len -= usize::from(was);
        was
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// What a receiver has seen so far.
#[derive(Default)]
pub struct Counters {
    /// Distinct IPv4 unicast prefixes announced and not withdrawn.
    pub prefixes: PrefixSet,
    pub updates: u64,
    /// UPDATEs that announced at least one IPv4 unicast prefix.
    pub announcing_updates: u64,
    /// IPv4 unicast prefixes announced, re-announcements included.
    pub announced: u64,
    pub withdrawn: u64,
    pub end_of_rib: bool,
}

fn v4(n: &Nlri) -> Option<(Ipv4Addr, u8)> {
    match n.prefix.addr() {
        IpAddr::V4(a) => Some((a, n.prefix.len())),
        IpAddr::V6(_) => None,
    }
}

impl Counters {
    pub fn new() -> Counters {
        Counters { prefixes: PrefixSet::new(), ..Counters::default() }
    }

    /// Accounts for one UPDATE: IPv4 unicast NLRI in the UPDATE's own fields and in
    /// MP_REACH_NLRI / MP_UNREACH_NLRI.
    pub fn update(&mut self, u: &Update) {
        self.updates += 1;
        if u.is_end_of_rib() == Some(Family::IPV4_UNICAST) {
            self.end_of_rib = true;
            return;
        }
        let v4_family = |f: Family| f == Family::IPV4_UNICAST;
        let unreach = u.mp_unreach.iter().filter(|m| v4_family(m.family)).flat_map(|m| &m.withdrawn);
        for (addr, len) in u.withdrawn.iter().chain(unreach).filter_map(v4) {
            self.withdrawn += 1;
            self.prefixes.remove(addr, len);
        }
        let reach = u.mp_reach.iter().filter(|m| v4_family(m.family)).flat_map(|m| &m.nlri);
        let before = self.announced;
        for (addr, len) in u.nlri.iter().chain(reach).filter_map(v4) {
            self.announced += 1;
            self.prefixes.insert(addr, len);
        }
        self.announcing_updates += u64::from(self.announced > before);
    }

    /// Average IPv4 unicast prefixes per announcing UPDATE.
    pub fn prefixes_per_update(&self) -> f64 {
        if self.announcing_updates == 0 {
            0.0
        } else {
            self.announced as f64 / self.announcing_updates as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Prefix;

    #[test]
    fn counts_distinct_prefixes_across_lengths() {
        let mut s = PrefixSet::new();
        let a = Ipv4Addr::new(10, 1, 2, 0);
        assert!(s.insert(a, 24));
        assert!(!s.insert(a, 24));
        assert!(s.insert(a, 23));
        assert!(s.insert(Ipv4Addr::new(10, 1, 2, 128), 25));
        assert!(s.insert(Ipv4Addr::UNSPECIFIED, 0));
        assert!(s.insert(Ipv4Addr::new(255, 255, 255, 255), 32));
        assert_eq!(s.len(), 5);
        assert!(s.remove(a, 24));
        assert!(!s.remove(a, 24));
        assert!(s.remove(Ipv4Addr::new(10, 1, 2, 128), 25));
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn withdrawals_and_reannouncements() {
        let p = |c| Nlri::new(Prefix::v4(10, 0, c, 0, 24));
        let mut c = Counters::new();
        c.update(&Update { nlri: vec![p(1), p(2), p(3)], ..Update::default() });
        c.update(&Update { nlri: vec![p(3), p(4)], withdrawn: vec![p(1)], ..Update::default() });
        assert_eq!((c.prefixes.len(), c.announced, c.withdrawn, c.announcing_updates), (3, 5, 1, 2));
        c.update(&Update::end_of_rib(Family::IPV4_UNICAST));
        assert!(c.end_of_rib);
        assert_eq!(c.prefixes_per_update(), 2.5);
    }
}
