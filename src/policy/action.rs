//! Actions of a rule: the verdict, and changes to the route's attributes and next hop.
//!
//! An action that would leave the attributes as they are does not touch them: evaluation
//! over a borrowed attribute set ([`super::Policy::evaluate_cow`]) copies the set only when
//! something really changes, so a policy that sets LOCAL_PREF 200 on routes that already
//! carry it keeps them on the same interned set.

use std::borrow::Cow;
use std::net::IpAddr;

use super::community::{CommunityMatch, LargeCommunityMatch};
use super::{EvalContext, Verdict};
use crate::wire::{AsPath, LargeCommunity, Origin, PathAttributes};

/// Where SetNextHop points the route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NextHopAction {
    /// This address.
    Address(IpAddr),
    /// Our own address on the session ([`EvalContext::self_next_hop`]); nothing changes
    /// when the context has none.
    SelfAddress,
}

/// One action of a rule. Actions run in order; Accept and Reject end the evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Accept,
    Reject,
    SetLocalPref(u32),
    SetMed(u32),
    SetOrigin(Origin),
    /// Changes the next hop, which evaluation reports in [`super::Outcome::next_hop`]
    /// rather than writing into the attributes (see [`super::Policy::evaluate`]).
    SetNextHop(NextHopAction),
    /// Appends each community the route does not carry yet.
    AddCommunities(Vec<u32>),
    /// Removes every community matching any of the patterns.
    RemoveCommunities(Vec<CommunityMatch>),
    /// Replaces all communities by these (an empty list removes them all).
    ReplaceCommunities(Vec<u32>),
    AddLargeCommunities(Vec<LargeCommunity>),
    RemoveLargeCommunities(Vec<LargeCommunityMatch>),
    ReplaceLargeCommunities(Vec<LargeCommunity>),
    /// Prepends an AS `count` times to the AS_PATH; `asn: None` is our own AS
    /// ([`EvalContext::local_asn`]). A route without AS_PATH gets one.
    Prepend {
        asn: Option<u32>,
        count: u8,
    },
}

/// What applying one action did, as far as evaluation cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Nothing evaluation needs to know about (the attributes may have changed).
    Done,
    /// The AS_PATH changed: a rendered copy of it is stale.
    PathChanged,
    /// Evaluation ends with this verdict.
    Stop(Verdict),
}

impl Action {
    /// The verdict of a terminating action.
    pub fn verdict(&self) -> Option<Verdict> {
        match self {
            Action::Accept => Some(Verdict::Accept),
            Action::Reject => Some(Verdict::Reject),
            _ => None,
        }
    }

    /// Whether the action may change the attributes or the next hop.
    pub fn modifies(&self) -> bool {
        self.verdict().is_none()
    }

    /// A mistake in the action's values: a repeated community in an add or replace list.
    pub fn check(&self) -> Result<(), String> {
        fn no_repeats<T: PartialEq>(list: &[T], show: impl Fn(&T) -> String) -> Result<(), String> {
            for (i, v) in list.iter().enumerate() {
                if list[..i].contains(v) {
                    return Err(format!("{} is listed twice", show(v)));
                }
            }
            Ok(())
        }
        match self {
            Action::AddCommunities(l) | Action::ReplaceCommunities(l) => {
                no_repeats(l, |&c| format!("community {}", super::format_community(c)))
            }
            Action::AddLargeCommunities(l) | Action::ReplaceLargeCommunities(l) => {
                no_repeats(l, |c| format!("large community {c}"))
            }
            _ => Ok(()),
        }
    }

    pub(crate) fn apply(&self, attrs: &mut impl AttrsMut, ctx: &EvalContext, next_hop: &mut Option<IpAddr>) -> Effect {
        match self {
            Action::Accept => return Effect::Stop(Verdict::Accept),
            Action::Reject => return Effect::Stop(Verdict::Reject),
            Action::SetLocalPref(v) => {
                if attrs.read().local_pref != Some(*v) {
                    attrs.write().local_pref = Some(*v);
                }
            }
            Action::SetMed(v) => {
                if attrs.read().med != Some(*v) {
                    attrs.write().med = Some(*v);
                }
            }
            Action::SetOrigin(o) => {
                if attrs.read().origin != Some(*o) {
                    attrs.write().origin = Some(*o);
                }
            }
            Action::SetNextHop(NextHopAction::Address(a)) => *next_hop = Some(*a),
            Action::SetNextHop(NextHopAction::SelfAddress) => {
                if let Some(a) = ctx.self_next_hop {
                    *next_hop = Some(a);
                }
            }
            Action::AddCommunities(add) => {
                if add.iter().any(|c| !attrs.read().communities.contains(c)) {
                    add_missing(&mut attrs.write().communities, add);
                }
            }
            Action::RemoveCommunities(pats) => {
                let hit = |c: &u32| pats.iter().any(|m| m.matches(*c));
                if attrs.read().communities.iter().any(hit) {
                    attrs.write().communities.retain(|c| !hit(c));
                }
            }
            Action::ReplaceCommunities(new) => {
                if attrs.read().communities != *new {
                    let list = &mut attrs.write().communities;
                    list.clear();
                    add_missing(list, new);
                }
            }
            Action::AddLargeCommunities(add) => {
                if add.iter().any(|c| !attrs.read().large_communities.contains(c)) {
                    add_missing(&mut attrs.write().large_communities, add);
                }
            }
            Action::RemoveLargeCommunities(pats) => {
                let hit = |c: &LargeCommunity| pats.iter().any(|m| m.matches(c));
                if attrs.read().large_communities.iter().any(hit) {
                    attrs.write().large_communities.retain(|c| !hit(c));
                }
            }
            Action::ReplaceLargeCommunities(new) => {
                if attrs.read().large_communities != *new {
                    let list = &mut attrs.write().large_communities;
                    list.clear();
                    add_missing(list, new);
                }
            }
            Action::Prepend { asn, count } => {
                if *count == 0 {
                    return Effect::Done;
                }
                let asn = asn.unwrap_or(ctx.local_asn);
                attrs.write().as_path.get_or_insert_with(AsPath::empty).prepend(asn, usize::from(*count));
                return Effect::PathChanged;
            }
        }
        Effect::Done
    }
}

fn add_missing<T: Copy + PartialEq>(list: &mut Vec<T>, add: &[T]) {
    for v in add {
        if !list.contains(v) {
            list.push(*v);
        }
    }
}

/// Attributes that evaluation reads freely and writes only when an action changes them.
pub(crate) trait AttrsMut {
    fn read(&self) -> &PathAttributes;
    fn write(&mut self) -> &mut PathAttributes;
}

impl AttrsMut for PathAttributes {
    fn read(&self) -> &PathAttributes {
        self
    }

    fn write(&mut self) -> &mut PathAttributes {
        self
    }
}

impl AttrsMut for Cow<'_, PathAttributes> {
    fn read(&self) -> &PathAttributes {
        self
    }

    /// Copies a borrowed set on the first write.
    fn write(&mut self) -> &mut PathAttributes {
        self.to_mut()
    }
}
