//! Interned attribute sets: one shared, immutable copy per distinct combination (BIRD's
//! trick). A route is a prefix plus an [`Attrs`] reference; a full table with a few hundred
//! distinct sets stores each set once.
//!
//! The interner holds one reference to every set; [`Interner::purge`] drops the sets that
//! nothing else references any more, and the RIB calls it after large withdrawals.
//!
//! Each set is hashed once, into a 64-bit [`fingerprint`] stored beside it: growing the
//! interner's table, and grouping sets for export, then work on that integer instead of
//! walking every field again (a table of 300k distinct sets rehashed them all with SipHash
//! at every doubling). The fingerprint is foldhash, seeded at random per process, so a
//! peer cannot aim for collisions; collisions are still resolved by full comparison.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Arc, OnceLock};

use crate::wire::{NextHop, PathAttributes};

/// What a route carries besides its prefix: the path attributes and, for families carried
/// in MP_REACH_NLRI, the next hop from there (IPv4 unicast keeps it in `attrs.next_hop`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouteAttrs {
    pub attrs: PathAttributes,
    /// Boxed: IPv4 unicast routes, most of any table, have none, and an inline one would
    /// cost every attribute set 32 octets.
    mp_next_hop: Option<Box<NextHop>>,
}

impl RouteAttrs {
    pub fn new(attrs: PathAttributes, mp_next_hop: Option<NextHop>) -> RouteAttrs {
        RouteAttrs { attrs, mp_next_hop: mp_next_hop.map(Box::new) }
    }

    /// The next hop from MP_REACH_NLRI, for families other than IPv4 unicast.
    pub fn mp_next_hop(&self) -> Option<NextHop> {
        self.mp_next_hop.as_deref().copied()
    }

    pub fn set_mp_next_hop(&mut self, next_hop: Option<NextHop>) {
        self.mp_next_hop = next_hop.map(Box::new);
    }
}

/// A structural hash of a route's attributes, the same for equal values in one process.
pub fn fingerprint(value: &RouteAttrs) -> u64 {
    static SEED: OnceLock<foldhash::quality::RandomState> = OnceLock::new();
    SEED.get_or_init(foldhash::quality::RandomState::default).hash_one(value)
}

/// An interned set: the attributes and their fingerprint.
#[derive(Debug, PartialEq, Eq)]
pub struct Shared {
    fp: u64,
    route: RouteAttrs,
}

impl Shared {
    /// A set outside the interner: a view computed for display (what a peer is sent).
    pub fn detached(route: RouteAttrs) -> Attrs {
        Arc::new(Shared { fp: fingerprint(&route), route })
    }

    pub fn fingerprint(&self) -> u64 {
        self.fp
    }
}

impl std::ops::Deref for Shared {
    type Target = RouteAttrs;

    fn deref(&self) -> &RouteAttrs {
        &self.route
    }
}

/// Hashes by the stored fingerprint only.
impl Hash for Shared {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.fp);
    }
}

pub type Attrs = Arc<Shared>;

#[derive(Debug, Default)]
pub struct Interner {
    set: HashSet<Attrs, std::hash::BuildHasherDefault<super::table::KeyHasher>>,
}

impl Interner {
    /// The shared copy of `value`, created when it is new.
    pub fn intern(&mut self, value: RouteAttrs) -> Attrs {
        let shared = Shared { fp: fingerprint(&value), route: value };
        if let Some(existing) = self.set.get(&shared) {
            return existing.clone();
        }
        let shared = Arc::new(shared);
        self.set.insert(shared.clone());
        shared
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Forgets sets that only the interner still references.
    pub fn purge(&mut self) {
        self.set.retain(|a| Arc::strong_count(a) > 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{AsPath, Origin};

    #[test]
    fn equal_sets_share_one_copy_and_unused_ones_go() {
        let mut i = Interner::default();
        let mut pa = PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::sequence([65001])),
            ..Default::default()
        };
        let a = i.intern(RouteAttrs::new(pa.clone(), None));
        let b = i.intern(RouteAttrs::new(pa.clone(), None));
        assert!(Arc::ptr_eq(&a, &b));
        pa.med = Some(5);
        let c = i.intern(RouteAttrs::new(pa, None));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(i.len(), 2);
        drop(c);
        i.purge();
        assert_eq!(i.len(), 1);
    }
}
