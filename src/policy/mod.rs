//! Import and export policies: named, ordered rules evaluated purely over one route.
//!
//! A [`Policy`] is a list of [`Rule`]s and a default [`Verdict`]. Each rule has conditions
//! ([`Match`], all of which must hold) and [`Action`]s. Evaluation walks the rules in order;
//! for each rule whose conditions hold it applies the actions in order. Accept or Reject
//! ends the evaluation with that verdict; a rule without either only modifies the route
//! and evaluation goes on with the next rule, which sees the modified route. When no rule
//! decides, the policy's default does. So a policy reads like Junos `policy-statement`
//! terms, or FRR route-map entries with `on-match next`.
//!
//! The RIB applies one policy on import from each neighbor (the route as it came in) and
//! one on export to each neighbor (the route as it would go out); a [`RouteView`] names the
//! neighbor in question either way. The built-in policies `accept` and `reject`
//! ([`Policy::accept_all`], [`Policy::reject_all`], [`Policy::builtin`]) can be named
//! wherever a policy can.
//!
//! Evaluation is pure: no I/O, no clock, no logging, no state kept between calls (a
//! per-thread text buffer for AS-path regexes is reused, see [`aspath_regex`]). It changes
//! the attribute set in place, or through a [`Cow`] that copies it only when an action
//! really changes something ([`Policy::evaluate_cow`]), which suits interned sets.
//!
//! Next hops: the IPv4 NEXT_HOP lives in [`PathAttributes::next_hop`], while the next hop
//! of the other families travels in MP_REACH_NLRI and the RIB keeps it beside the set. So
//! that one rule serves every family, the policy reads the next hop from
//! [`RouteView::next_hop`] and never writes one into the attributes: a SetNextHop action
//! comes back in [`Outcome::next_hop`], and the RIB stores it where the route's family
//! keeps its next hop.
//!
//! Caching: the outcome depends on the attributes, the neighbor, the family, the next hop
//! and the [`EvalContext`], and on the prefix only when [`Policy::depends_on_prefix`]; the
//! path identifier is never read. A RIB can therefore evaluate once per attribute set and
//! apply the result to every prefix of a batch that shares it.

pub mod action;
pub mod aspath_regex;
pub mod community;
pub mod matcher;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

pub use action::{Action, NextHopAction};
pub use aspath_regex::AsPathRegex;
pub use community::{
    format_community, format_ext_community, parse_community, parse_ext_community, parse_large_community,
    CommunityMatch, LargeCommunityMatch,
};
pub use matcher::{Match, PrefixMatch};

use crate::rib::PeerInfo;
use crate::wire::{Family, PathAttributes, Prefix};
use action::{AttrsMut, Effect};
use aspath_regex::PathText;

/// Name of the built-in policy that accepts every route unchanged.
pub const ACCEPT: &str = "accept";
/// Name of the built-in policy that rejects every route.
pub const REJECT: &str = "reject";

/// The route under evaluation, apart from its attributes.
#[derive(Debug, Clone, Copy)]
pub struct RouteView<'a> {
    pub prefix: Prefix,
    /// ADD-PATH identifier (0 without); no condition reads it.
    pub path_id: u32,
    /// Where the route came from (import) or where it goes (export).
    pub neighbor: &'a PeerInfo,
    pub family: Family,
    /// The route's next hop: NEXT_HOP for IPv4 unicast, the MP_REACH_NLRI next hop (its
    /// global address) for the other families; `None` when there is none (a route tern
    /// originates before export, say). [`Match::NextHop`] reads it.
    pub next_hop: Option<IpAddr>,
}

/// What evaluation decided about a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Accept,
    Reject,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Accept => "accept",
            Verdict::Reject => "reject",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The result of [`Policy::evaluate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub verdict: Verdict,
    /// The next hop SetNextHop actions left, when it differs from [`RouteView::next_hop`];
    /// `None` when the next hop stays. The RIB writes it where the family keeps its next
    /// hop: [`PathAttributes::next_hop`] for an IPv4 address on IPv4 unicast, the
    /// MP_REACH_NLRI next hop otherwise. Meaningless when the verdict is Reject.
    pub next_hop: Option<IpAddr>,
}

impl Outcome {
    pub fn accepted(&self) -> bool {
        self.verdict == Verdict::Accept
    }
}

/// What evaluation needs to know about this router and the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalContext {
    /// Our AS, which `Prepend { asn: None, .. }` prepends.
    pub local_asn: u32,
    /// Our address on the session (export) that SetNextHop(SelfAddress) puts in; without
    /// one that action changes nothing. It should be of the route's family.
    pub self_next_hop: Option<IpAddr>,
}

/// One step of a policy: when all conditions hold, the actions apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// A name for operators (shown by `ternctl` and in errors); the position otherwise.
    pub name: Option<String>,
    /// All must hold; an empty list always holds.
    pub matches: Vec<Match>,
    /// Applied in order. Evaluation ends at an Accept or Reject (later actions in the rule
    /// never apply, which [`Rule::check`] reports); without one it goes on with the next rule.
    pub actions: Vec<Action>,
}

impl Rule {
    pub fn new(matches: Vec<Match>, actions: Vec<Action>) -> Rule {
        Rule { name: None, matches, actions }
    }

    pub fn named(mut self, name: impl Into<String>) -> Rule {
        self.name = Some(name.into());
        self
    }

    /// Mistakes that make part of the rule meaningless: empty lists in conditions, actions
    /// after Accept or Reject, a community listed twice.
    pub fn check(&self) -> Result<(), String> {
        for m in &self.matches {
            m.check()?;
        }
        for (i, a) in self.actions.iter().enumerate() {
            a.check()?;
            if let (Some(v), Some(next)) = (a.verdict(), self.actions.get(i + 1)) {
                return Err(format!("{next:?} comes after {v}, which ends the evaluation, so it would never apply"));
            }
        }
        Ok(())
    }

    /// Whether all conditions hold. Cheap conditions go first, so that a rule whose prefix
    /// does not match never renders the AS path for its regex (conditions are pure, so the
    /// order cannot change the answer).
    fn holds(&self, route: &RouteView, attrs: &PathAttributes, next_hop: Option<IpAddr>, text: &mut PathText) -> bool {
        let mut check = |costly: bool| {
            self.matches.iter().filter(|m| m.is_costly() == costly).all(|m| m.holds(route, attrs, next_hop, text))
        };
        check(false) && check(true)
    }
}

/// A named import or export policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub name: String,
    pub rules: Vec<Rule>,
    /// The verdict when no rule decides.
    pub default: Verdict,
}

impl Policy {
    /// A policy from configuration: refuses an empty name, the names of the built-ins, and
    /// what [`Rule::check`] finds, with a message that names the policy and the rule.
    pub fn new(name: impl Into<String>, rules: Vec<Rule>, default: Verdict) -> Result<Policy, String> {
        let name = name.into();
        if name.is_empty() {
            return Err("a policy needs a name".into());
        }
        if Policy::builtin(&name).is_some() {
            return Err(format!("policy {name:?}: the name is that of a built-in policy"));
        }
        for (i, rule) in rules.iter().enumerate() {
            rule.check().map_err(|e| match &rule.name {
                Some(r) => format!("policy {name:?}, rule {r:?}: {e}"),
                None => format!("policy {name:?}, rule {}: {e}", i + 1),
            })?;
        }
        Ok(Policy { name, rules, default })
    }

    /// The built-in `accept`: every route, unchanged.
    pub fn accept_all() -> Policy {
        Policy { name: ACCEPT.into(), rules: Vec::new(), default: Verdict::Accept }
    }

    /// The built-in `reject`: no route.
    pub fn reject_all() -> Policy {
        Policy { name: REJECT.into(), rules: Vec::new(), default: Verdict::Reject }
    }

    /// The built-in policy of that name, if there is one.
    pub fn builtin(name: &str) -> Option<Policy> {
        match name {
            ACCEPT => Some(Policy::accept_all()),
            REJECT => Some(Policy::reject_all()),
            _ => None,
        }
    }

    /// Evaluates the policy for one route, changing `attrs` in place as the actions of the
    /// rules that apply say. A next hop change is not written into `attrs` but returned in
    /// [`Outcome::next_hop`] (see the module notes). After a Reject, `attrs` may hold
    /// changes made by earlier rules and should be dropped.
    pub fn evaluate(&self, route: &RouteView, attrs: &mut PathAttributes, ctx: &EvalContext) -> Outcome {
        self.run(route, attrs, ctx)
    }

    /// As [`Policy::evaluate`], over an attribute set that is copied only when an action
    /// changes it: pass `Cow::Borrowed(&shared)`; it comes back `Owned` exactly when the
    /// route needs a different set.
    pub fn evaluate_cow(&self, route: &RouteView, attrs: &mut Cow<'_, PathAttributes>, ctx: &EvalContext) -> Outcome {
        self.run(route, attrs, ctx)
    }

    fn run(&self, route: &RouteView, attrs: &mut impl AttrsMut, ctx: &EvalContext) -> Outcome {
        let mut next_hop = route.next_hop;
        let mut text = PathText::new();
        let verdict = 'rules: {
            for rule in &self.rules {
                if !rule.holds(route, attrs.read(), next_hop, &mut text) {
                    continue;
                }
                for action in &rule.actions {
                    match action.apply(attrs, ctx, &mut next_hop) {
                        Effect::Done => {}
                        Effect::PathChanged => text.invalidate(),
                        Effect::Stop(verdict) => break 'rules verdict,
                    }
                }
            }
            self.default
        };
        Outcome { verdict, next_hop: next_hop.filter(|_| next_hop != route.next_hop) }
    }

    /// True when some condition reads the prefix; when false, the outcome is the same for
    /// every prefix that shares the attributes, neighbor, family and next hop, and the RIB
    /// may evaluate once per attribute set.
    pub fn depends_on_prefix(&self) -> bool {
        self.rules.iter().any(|r| r.matches.iter().any(Match::reads_prefix))
    }

    /// True when some action may change the attributes or the next hop; when false,
    /// evaluation never writes, so the RIB needs no copy of the shared set (and
    /// [`Policy::evaluate_cow`] over a borrowed one never makes one).
    pub fn modifies(&self) -> bool {
        self.rules.iter().any(|r| r.actions.iter().any(Action::modifies))
    }
}
