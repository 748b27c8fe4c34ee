//! The pre-policy Adj-RIB-In of one peer (`soft_reconfiguration_inbound`): every route as
//! the peer sent it, before import rules and policy, so that a policy change or a soft
//! reset in is applied from here instead of asking the peer (RFC 4271 §3.2 leaves keeping
//! it to the implementation; RFC 2918 route refresh is the alternative).
//!
//! A route costs a key and an interned attribute reference; the attribute sets themselves
//! are shared with the Loc-RIB's when policy did not change them.

use super::intern::Attrs;
use super::table::{Key, KeyMap};
use crate::wire::{Family, Nlri, Prefix};

/// Routes by (table key, path id): the keys are the route table's own ([`Key`]).
#[derive(Debug, Default)]
pub struct AdjIn {
    v4: KeyMap<(u64, u32), Attrs>,
    v6: KeyMap<((u128, u8), u32), Attrs>,
    /// Something was received since the table was (re)created: it reflects the peer.
    pub filled: bool,
}

impl AdjIn {
    pub fn insert(&mut self, prefix: Prefix, path_id: u32, attrs: Attrs) {
        if let Some(k) = u64::from_prefix(&prefix) {
            self.v4.insert((k, path_id), attrs);
        } else if let Some(k) = <(u128, u8)>::from_prefix(&prefix) {
            self.v6.insert((k, path_id), attrs);
        }
    }

    pub fn remove(&mut self, prefix: Prefix, path_id: u32) {
        if let Some(k) = u64::from_prefix(&prefix) {
            self.v4.remove(&(k, path_id));
        } else if let Some(k) = <(u128, u8)>::from_prefix(&prefix) {
            self.v6.remove(&(k, path_id));
        }
    }

    /// Every (prefix, path id) stored for `family`.
    pub fn keys(&self, family: Family) -> Vec<(Prefix, u32)> {
        if family == Family::IPV6_UNICAST {
            self.v6.keys().map(|&(k, id)| (k.prefix(), id)).collect()
        } else {
            self.v4.keys().map(|&(k, id)| (k.prefix(), id)).collect()
        }
    }

    /// The stored routes grouped by attribute set and family, ready to be imported again.
    pub fn groups(&self) -> Vec<(Attrs, Family, Vec<Nlri>)> {
        let mut by_set: KeyMap<(usize, u16), (Attrs, Family, Vec<Nlri>)> = KeyMap::default();
        let mut add = |attrs: &Attrs, family: Family, nlri: Nlri| {
            by_set
                .entry((std::sync::Arc::as_ptr(attrs) as usize, family.afi))
                .or_insert_with(|| (attrs.clone(), family, Vec::new()))
                .2
                .push(nlri);
        };
        for (&(k, path_id), attrs) in &self.v4 {
            add(attrs, Family::IPV4_UNICAST, Nlri::with_path_id(k.prefix(), path_id));
        }
        for (&(k, path_id), attrs) in &self.v6 {
            add(attrs, Family::IPV6_UNICAST, Nlri::with_path_id(k.prefix(), path_id));
        }
        by_set.into_values().collect()
    }
}
