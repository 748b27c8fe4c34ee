//! Interned attribute sets: one shared, immutable copy per distinct combination (BIRD's
//! trick). A route is a prefix plus an [`Attrs`] reference; a full table with a few hundred
//! distinct sets stores each set once.
//!
//! The interner holds one reference to every set; [`Interner::purge`] drops the sets that
//! nothing else references any more, and the RIB calls it after large withdrawals.

use std::collections::HashSet;
use std::sync::Arc;

use crate::wire::{NextHop, PathAttributes};

/// What a route carries besides its prefix: the path attributes and, for families carried
/// in MP_REACH_NLRI, the next hop from there (IPv4 unicast keeps it in `attrs.next_hop`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouteAttrs {
    pub attrs: PathAttributes,
    pub mp_next_hop: Option<NextHop>,
}

pub type Attrs = Arc<RouteAttrs>;

#[derive(Debug, Default)]
pub struct Interner {
    set: HashSet<Attrs>,
}

impl Interner {
    /// The shared copy of `value`, created when it is new.
    pub fn intern(&mut self, value: RouteAttrs) -> Attrs {
        if let Some(shared) = self.set.get(&value) {
            return shared.clone();
        }
        let shared = Arc::new(value);
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
        let a = i.intern(RouteAttrs { attrs: pa.clone(), mp_next_hop: None });
        let b = i.intern(RouteAttrs { attrs: pa.clone(), mp_next_hop: None });
        assert!(Arc::ptr_eq(&a, &b));
        pa.med = Some(5);
        let c = i.intern(RouteAttrs { attrs: pa, mp_next_hop: None });
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(i.len(), 2);
        drop(c);
        i.purge();
        assert_eq!(i.len(), 1);
    }
}
