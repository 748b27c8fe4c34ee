//! The route table of one address family: every prefix with its candidate paths (the
//! post-policy Adj-RIB-In of all peers, stored once) and which of them are selected
//! (Loc-RIB).
//!
//! Memory per route is the budget a full table is judged by, so the layout is compact:
//! - keys are integers (`u64` for IPv4: address and length; `(u128, u8)` for IPv6), not
//!   18-octet `Prefix` values;
//! - a prefix with a single path (the common case) stores it inline: a [`Path`] is an
//!   interned attribute reference plus peer and path id, 16 octets, and the whole slot
//!   ([`Dest`]) is those same 16 octets;
//! - only prefixes with several paths allocate, and they keep the decision with them.
//!
//! The hash function is a multiply-shift over the integer key: keys are not chosen by an
//! attacker in a way that matters here (a peer can already send a million prefixes), and it
//! is several times faster than SipHash on the hot path. IPv4 tables hash by chunks
//! ([`V4Hasher`]): sixteen neighbouring prefixes of one length share a randomly placed run
//! of buckets, so a table that arrives in address order, as full tables do, is written
//! into a few cache lines per sixteen prefixes instead of one cold line per prefix.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::decision::Step;
use super::intern::Attrs;
use super::PeerId;
use crate::wire::Prefix;

/// One candidate path of a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub attrs: Attrs,
    pub peer: PeerId,
    pub path_id: u32,
}

/// The paths of one prefix and the outcome of the decision over them.
#[derive(Debug, Clone)]
pub enum Dest {
    One(Path),
    Many(Box<Many>),
}

#[derive(Debug, Clone)]
pub struct Many {
    pub paths: Vec<Path>,
    /// Selected paths, best first (several with ECMP); empty when none is usable.
    pub selected: Vec<u16>,
    pub step: Step,
}

impl Dest {
    pub fn paths(&self) -> &[Path] {
        match self {
            Dest::One(p) => std::slice::from_ref(p),
            Dest::Many(m) => &m.paths,
        }
    }

    pub fn best(&self) -> Option<&Path> {
        match self {
            Dest::One(p) => Some(p),
            Dest::Many(m) => m.selected.first().map(|&i| &m.paths[usize::from(i)]),
        }
    }

    /// The deciding step for the best path.
    pub fn step(&self) -> Step {
        match self {
            Dest::One(_) => Step::Only,
            Dest::Many(m) => m.step,
        }
    }

    /// All selected paths (ECMP), best first.
    pub fn selected(&self) -> impl Iterator<Item = &Path> {
        let (one, many) = match self {
            Dest::One(p) => (Some(p), None),
            Dest::Many(m) => (None, Some(m.selected.iter().map(|&i| &m.paths[usize::from(i)]))),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }
}

/// Integer keys for prefixes of one family.
pub trait Key: Copy + Eq + Hash + Ord + std::fmt::Debug {
    /// How tables of these keys hash them.
    type Hasher: Hasher + Default;
    fn from_prefix(p: &Prefix) -> Option<Self>;
    fn prefix(self) -> Prefix;
}

/// IPv4: address in the upper 32 bits, length in the low byte.
impl Key for u64 {
    type Hasher = V4Hasher;

    fn from_prefix(p: &Prefix) -> Option<u64> {
        match p.addr() {
            IpAddr::V4(a) => Some((u64::from(u32::from(a)) << 8) | u64::from(p.len())),
            IpAddr::V6(_) => None,
        }
    }

    fn prefix(self) -> Prefix {
        Prefix::new(IpAddr::V4(Ipv4Addr::from((self >> 8) as u32)), self as u8).expect("valid IPv4 key")
    }
}

impl Key for (u128, u8) {
    type Hasher = KeyHasher;

    fn from_prefix(p: &Prefix) -> Option<(u128, u8)> {
        match p.addr() {
            IpAddr::V6(a) => Some((u128::from(a), p.len())),
            IpAddr::V4(_) => None,
        }
    }

    fn prefix(self) -> Prefix {
        Prefix::new(IpAddr::V6(Ipv6Addr::from(self.0)), self.1).expect("valid IPv6 key")
    }
}

/// Multiply-shift hashing for integer keys (see the module comment).
#[derive(Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        // Fold the high bits down: hashbrown takes its bucket index from the low bits and
        // its tag from the top seven.
        let h = self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h ^ (h >> 29)
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(w));
        }
    }

    fn write_u8(&mut self, v: u8) {
        self.write_u64(u64::from(v));
    }

    fn write_u16(&mut self, v: u16) {
        self.write_u64(u64::from(v));
    }

    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }

    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(23) ^ v).wrapping_mul(0x2545_f491_4f6c_dd1d);
    }

    fn write_u128(&mut self, v: u128) {
        self.write_u64(v as u64);
        self.write_u64((v >> 64) as u64);
    }
}

pub type KeyMap<K, V> = HashMap<K, V, BuildHasherDefault<KeyHasher>>;

/// A map keyed by prefixes of one family, hashed the way [`Key::Hasher`] says.
pub type PrefixMap<K, V> = HashMap<K, V, BuildHasherDefault<<K as Key>::Hasher>>;

/// Hashes IPv4 keys (`address << 8 | length`) by chunks: the prefix's index among the
/// prefixes of its length (`address >> (32 - length)`) is split into a chunk (all but the
/// low four bits), hashed with the length, and a position in the chunk (the low four bits),
/// kept. hashbrown takes the bucket from the low bits, so the sixteen prefixes of a chunk
/// get consecutive buckets from a random start: locality for address-ordered input. At
/// most sixteen keys share a home, whatever the input; but a chunk whose home is taken by
/// another moves as a whole, so at high load a miss probes like a table of one-sixteenth
/// the slots (a few groups, mostly in the same cache lines), and removing from a full
/// chunk leaves a tombstone rather than an empty slot. The tag (hashbrown's top seven
/// bits of a `usize`) gets the position mixed in, so that the sixteen differ.
#[derive(Default, Clone, Copy)]
pub struct V4Hasher(u64);

impl Hasher for V4Hasher {
    fn finish(&self) -> u64 {
        let key = self.0;
        let len = (key & 0xff) as u32;
        let addr = (key >> 8) as u32;
        let index = if len == 0 { 0 } else { u64::from(addr >> (32 - len.min(32))) };
        let chunk = (((index >> 4) << 8) | u64::from(len)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mixed = chunk ^ (chunk >> 29);
        let pos = index & 0xf;
        let hash = ((mixed & !0xf) | pos) ^ (pos << 57);
        // hashbrown's tag comes from the top of a usize: bits 25..31 on 32-bit targets.
        if cfg!(target_pointer_width = "32") {
            hash ^ (pos << 25)
        } else {
            hash
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut other = KeyHasher(self.0);
        other.write(bytes);
        self.0 = other.0;
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// What changed for a prefix: the selected paths before and after, when they differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub before: Option<Path>,
    pub after: Option<Path>,
}

/// The table of one family.
pub struct Table<K: Key> {
    pub routes: PrefixMap<K, Dest>,
}

impl<K: Key> Default for Table<K> {
    fn default() -> Table<K> {
        Table { routes: PrefixMap::default() }
    }
}

impl<K: Key> Table<K> {
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    pub fn get(&self, key: &K) -> Option<&Dest> {
        self.routes.get(key)
    }

    /// Adds or replaces the path of `(path.peer, path.path_id)`; `decide` re-runs the
    /// decision when the prefix has several paths. Returns whether the path is new, and the
    /// best path's change, if any.
    pub fn upsert(&mut self, key: K, path: Path, decide: impl FnOnce(&mut Many)) -> (bool, Option<Change>) {
        use std::collections::hash_map::Entry;
        match self.routes.entry(key) {
            Entry::Vacant(v) => {
                let after = Some(path.clone());
                v.insert(Dest::One(path));
                (true, Some(Change { before: None, after }))
            }
            Entry::Occupied(mut o) => {
                let dest = o.get_mut();
                let before = dest.best().cloned();
                let mut new = true;
                match dest {
                    Dest::One(p) if p.peer == path.peer && p.path_id == path.path_id => {
                        *p = path;
                        new = false;
                    }
                    Dest::One(p) => {
                        let old = p.clone();
                        let mut many =
                            Box::new(Many { paths: vec![old, path], selected: Vec::new(), step: Step::Only });
                        decide(&mut many);
                        *dest = Dest::Many(many);
                    }
                    Dest::Many(m) => {
                        match m.paths.iter_mut().find(|p| p.peer == path.peer && p.path_id == path.path_id) {
                            Some(p) => {
                                *p = path;
                                new = false;
                            }
                            None => m.paths.push(path),
                        }
                        decide(m);
                    }
                }
                let after = dest.best().cloned();
                (new, (before != after).then_some(Change { before, after }))
            }
        }
    }

    /// Removes the path of `(peer, path_id)`. Returns whether it was there, and the best
    /// path's change, if any.
    pub fn remove(
        &mut self,
        key: K,
        peer: PeerId,
        path_id: u32,
        decide: impl FnOnce(&mut Many),
    ) -> (bool, Option<Change>) {
        use std::collections::hash_map::Entry;
        let Entry::Occupied(mut o) = self.routes.entry(key) else { return (false, None) };
        let dest = o.get_mut();
        let before = dest.best().cloned();
        match dest {
            Dest::One(p) if p.peer == peer && p.path_id == path_id => {
                o.remove();
                return (true, Some(Change { before, after: None }));
            }
            Dest::One(_) => return (false, None),
            Dest::Many(m) => {
                let Some(i) = m.paths.iter().position(|p| p.peer == peer && p.path_id == path_id) else {
                    return (false, None);
                };
                m.paths.swap_remove(i);
                if m.paths.len() == 1 {
                    let last = m.paths.pop().expect("one path left");
                    *dest = Dest::One(last);
                } else {
                    decide(m);
                }
            }
        }
        let after = dest.best().cloned();
        (true, (before != after).then_some(Change { before, after }))
    }

    /// Removes every path of `peer`, calling `changed` for each prefix whose best changed.
    /// Removes every path of `peer`; `changed` hears of each best-path change. Returns the
    /// keys of every prefix the peer had a path for (the selected set of each may have
    /// changed even where the best path did not).
    pub fn remove_peer(
        &mut self,
        peer: PeerId,
        mut decide: impl FnMut(&mut Many),
        mut changed: impl FnMut(K, Change),
    ) -> Vec<K> {
        let keys: Vec<K> =
            self.routes.iter().filter(|(_, d)| d.paths().iter().any(|p| p.peer == peer)).map(|(k, _)| *k).collect();
        for &key in &keys {
            let ids: Vec<u32> =
                self.routes[&key].paths().iter().filter(|p| p.peer == peer).map(|p| p.path_id).collect();
            let before = self.routes[&key].best().cloned();
            for id in ids {
                self.remove(key, peer, id, &mut decide);
            }
            let after = self.routes.get(&key).and_then(|d| d.best().cloned());
            if before != after {
                changed(key, Change { before, after });
            }
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        for p in ["0.0.0.0/0", "10.1.0.0/16", "255.255.255.255/32"] {
            let p: Prefix = p.parse().unwrap();
            assert_eq!(u64::from_prefix(&p).unwrap().prefix(), p);
        }
        let p: Prefix = "2001:db8::/32".parse().unwrap();
        assert_eq!(<(u128, u8)>::from_prefix(&p).unwrap().prefix(), p);
        assert!(u64::from_prefix(&p).is_none());
    }

    #[test]
    fn v4_hashing_keeps_neighbours_together_and_tags_apart() {
        let hash = |p: &str| {
            let mut h = V4Hasher::default();
            u64::from_prefix(&p.parse().unwrap()).unwrap().hash(&mut h);
            h.finish()
        };
        let low = |h: u64| h & ((1 << 57) - 1);
        // 16 consecutive /24s: consecutive buckets, distinct tags.
        let chunk: Vec<u64> = (0..16).map(|i| hash(&format!("10.0.{i}.0/24"))).collect();
        for (i, h) in chunk.iter().enumerate() {
            assert_eq!(low(*h), low(chunk[0]) + i as u64, "{i}");
        }
        let tags: std::collections::HashSet<u64> = chunk.iter().map(|h| h >> 57).collect();
        assert_eq!(tags.len(), 16);
        // The next chunk, and the same addresses at another length, start elsewhere.
        assert_ne!(low(hash("10.0.16.0/24")), low(chunk[15]) + 1);
        assert_ne!(low(hash("10.0.0.0/23")) >> 4, low(chunk[0]) >> 4);
        // Every length hashes (0 and 32 included) and the map works with them.
        let mut m: PrefixMap<u64, u8> = PrefixMap::default();
        for (i, p) in ["0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/32", "255.255.255.255/32"].iter().enumerate() {
            m.insert(u64::from_prefix(&p.parse().unwrap()).unwrap(), i as u8);
        }
        assert_eq!(m.len(), 4);
        assert_eq!(m[&u64::from_prefix(&"10.0.0.0/32".parse().unwrap()).unwrap()], 2);
    }

    #[test]
    fn a_single_path_takes_no_allocation_beyond_the_slot() {
        // The Box of the many-path case fits beside the Arc's niche: a slot is 16 octets.
        assert_eq!(std::mem::size_of::<Path>(), 16);
        assert_eq!(std::mem::size_of::<Dest>(), 16);
    }
}
