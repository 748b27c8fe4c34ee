//! Conditions of a rule: what a route must look like for the rule's actions to apply.
//!
//! A [`Match`] reads the route (prefix, family, where it came from or goes to, its next hop)
//! and its attributes and never changes anything. Lists inside one condition are
//! alternatives (any of them); the conditions of a rule must all hold.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use super::aspath_regex::{AsPathRegex, PathText};
use super::community::{CommunityMatch, LargeCommunityMatch};
use super::RouteView;
use crate::wire::{Family, Origin, PathAttributes, Prefix};

/// One condition of a rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Match {
    /// The prefix matches any of these.
    Prefix(Vec<PrefixMatch>),
    /// The neighbor's address is any of these.
    Neighbor(Vec<IpAddr>),
    /// The neighbor's AS is any of these.
    NeighborAs(Vec<u32>),
    /// The AS_PATH holds this AS anywhere, sets and confederation segments included.
    AsPathContains(u32),
    /// The path ends with a sequence whose last AS is this (a path ending in an AS_SET,
    /// or an empty path, has no origin AS and never matches).
    OriginAs(u32),
    /// The path length as best-path selection counts it (RFC 4271 §9.1.2.2 a: an AS_SET
    /// counts one, confederation segments nothing; no AS_PATH counts 0) is within the
    /// bounds, both inclusive.
    AsPathLength { min: Option<usize>, max: Option<usize> },
    /// The path, rendered as text, matches a Cisco / FRR style regular expression.
    AsPathRegex(AsPathRegex),
    /// The route carries a community matching any of these.
    Community(Vec<CommunityMatch>),
    /// The route carries a large community matching any of these.
    LargeCommunity(Vec<LargeCommunityMatch>),
    /// The route carries any of these extended communities.
    ExtCommunity(Vec<u64>),
    /// The next hop lies within any of these prefixes.
    NextHop(Vec<Prefix>),
    /// The ORIGIN attribute is this.
    Origin(Origin),
    /// The route is of this address family.
    Family(Family),
    /// The condition does not hold.
    Not(Box<Match>),
}

impl Match {
    /// An AS path length condition; `min` must not exceed `max`.
    pub fn as_path_length(min: Option<usize>, max: Option<usize>) -> Result<Match, String> {
        if let (Some(lo), Some(hi)) = (min, max) {
            if lo > hi {
                return Err(format!("AS path length: minimum {lo} is above maximum {hi}"));
            }
        }
        Ok(Match::AsPathLength { min, max })
    }

    /// An AS path regex condition: compiles the pattern (see [`AsPathRegex::new`]).
    pub fn as_path_regex(pattern: &str) -> Result<Match, String> {
        AsPathRegex::new(pattern).map(Match::AsPathRegex)
    }

    /// A mistake that makes the condition meaningless: an empty list, which no route
    /// could match.
    pub fn check(&self) -> Result<(), String> {
        let empty = match self {
            Match::Prefix(l) => l.is_empty().then_some("prefix"),
            Match::Neighbor(l) => l.is_empty().then_some("neighbor"),
            Match::NeighborAs(l) => l.is_empty().then_some("neighbor AS"),
            Match::Community(l) => l.is_empty().then_some("community"),
            Match::LargeCommunity(l) => l.is_empty().then_some("large community"),
            Match::ExtCommunity(l) => l.is_empty().then_some("extended community"),
            Match::NextHop(l) => l.is_empty().then_some("next hop"),
            Match::AsPathLength { min: Some(lo), max: Some(hi) } if lo > hi => {
                return Err(format!("AS path length: minimum {lo} is above maximum {hi}"));
            }
            Match::Not(m) => return m.check(),
            _ => None,
        };
        match empty {
            Some(what) => Err(format!("the {what} list is empty, so the condition could never hold")),
            None => Ok(()),
        }
    }

    /// Whether the condition reads the prefix (the RIB caches per attribute set otherwise).
    pub fn reads_prefix(&self) -> bool {
        match self {
            Match::Prefix(_) => true,
            Match::Not(m) => m.reads_prefix(),
            _ => false,
        }
    }

    /// Whether checking costs more than a few comparisons (rendering the path for a regex);
    /// rules check such conditions last.
    pub(crate) fn is_costly(&self) -> bool {
        match self {
            Match::AsPathRegex(_) => true,
            Match::Not(m) => m.is_costly(),
            _ => false,
        }
    }

    /// Whether the condition holds for a route with attributes `attrs` and next hop
    /// `next_hop` (the route's own, or the one an earlier rule set).
    pub(crate) fn holds(
        &self,
        route: &RouteView,
        attrs: &PathAttributes,
        next_hop: Option<IpAddr>,
        text: &mut PathText,
    ) -> bool {
        match self {
            Match::Prefix(list) => list.iter().any(|m| m.matches(&route.prefix)),
            Match::Neighbor(list) => list.contains(&route.neighbor.address),
            Match::NeighborAs(list) => list.contains(&route.neighbor.asn),
            Match::AsPathContains(asn) => attrs.as_path.as_ref().is_some_and(|p| p.contains(*asn)),
            Match::OriginAs(asn) => attrs.as_path.as_ref().and_then(|p| p.origin_as()) == Some(*asn),
            Match::AsPathLength { min, max } => {
                let len = attrs.as_path.as_ref().map_or(0, |p| p.path_len());
                min.is_none_or(|lo| len >= lo) && max.is_none_or(|hi| len <= hi)
            }
            Match::AsPathRegex(re) => re.is_match_text(text.get(attrs.as_path.as_ref())),
            Match::Community(list) => attrs.communities.iter().any(|&c| list.iter().any(|m| m.matches(c))),
            Match::LargeCommunity(list) => attrs.large_communities.iter().any(|c| list.iter().any(|m| m.matches(c))),
            Match::ExtCommunity(list) => attrs.ext_communities.iter().any(|c| list.contains(c)),
            Match::NextHop(list) => next_hop.is_some_and(|nh| list.iter().any(|p| covers(p, nh))),
            Match::Origin(origin) => attrs.origin == Some(*origin),
            Match::Family(family) => route.family == *family,
            Match::Not(m) => !m.holds(route, attrs, next_hop, text),
        }
    }
}

/// `!m` is the negated condition.
impl std::ops::Not for Match {
    type Output = Match;

    fn not(self) -> Match {
        Match::Not(Box::new(self))
    }
}

/// A prefix condition with Junos / FRR `ge` / `le` semantics.
///
/// Without `ge` and `le` only the prefix itself matches. With either, any prefix within it
/// (the same or more specific, same family) matches whose length is from `ge` (default: the
/// prefix's own length) to `le` (default: the full address width when `ge` is given, the
/// prefix's own length otherwise). So `10.0.0.0/8 ge 16 le 24` matches 10.1.0.0/16 and
/// 10.1.2.0/24 but neither 10.0.0.0/8 nor 10.1.2.128/25; `10.0.0.0/8 le 32` is "10/8 or
/// longer".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrefixMatch {
    pub prefix: Prefix,
    pub ge: Option<u8>,
    pub le: Option<u8>,
}

impl PrefixMatch {
    /// Checks the range: `prefix length <= ge <= le <= address width`.
    pub fn new(prefix: Prefix, ge: Option<u8>, le: Option<u8>) -> Result<PrefixMatch, String> {
        let width = width(prefix.addr());
        let len = prefix.len();
        for (name, v) in [("ge", ge), ("le", le)] {
            match v {
                Some(v) if v < len => {
                    return Err(format!("{prefix}: {name} {v} is shorter than the prefix length {len}"));
                }
                Some(v) if v > width => {
                    return Err(format!("{prefix}: {name} {v} is longer than an address ({width} bits)"));
                }
                _ => {}
            }
        }
        if let (Some(ge), Some(le)) = (ge, le) {
            if le < ge {
                return Err(format!("{prefix}: le {le} is shorter than ge {ge}"));
            }
        }
        Ok(PrefixMatch { prefix, ge, le })
    }

    /// Exactly this prefix.
    pub fn exact(prefix: Prefix) -> PrefixMatch {
        PrefixMatch { prefix, ge: None, le: None }
    }

    /// The lengths a matching prefix may have, inclusive.
    pub fn length_range(&self) -> (u8, u8) {
        let len = self.prefix.len();
        let lo = self.ge.unwrap_or(len);
        let hi = self.le.unwrap_or(if self.ge.is_some() { width(self.prefix.addr()) } else { len });
        (lo, hi)
    }

    pub fn matches(&self, p: &Prefix) -> bool {
        let (lo, hi) = self.length_range();
        (lo..=hi).contains(&p.len()) && p.len() >= self.prefix.len() && covers(&self.prefix, p.addr())
    }
}

impl FromStr for PrefixMatch {
    type Err = String;

    /// `PREFIX`, `PREFIX ge N`, `PREFIX le N` or `PREFIX ge N le M`.
    fn from_str(text: &str) -> Result<PrefixMatch, String> {
        let mut words = text.split_whitespace();
        let prefix: Prefix = words.next().ok_or_else(|| "empty prefix".to_string())?.parse()?;
        let (mut ge, mut le) = (None, None);
        while let Some(word) = words.next() {
            let slot = match word {
                "ge" => &mut ge,
                "le" => &mut le,
                _ => return Err(format!("{text:?}: expected ge or le, found {word:?}")),
            };
            if slot.is_some() {
                return Err(format!("{text:?}: {word} given twice"));
            }
            let n = words.next().ok_or_else(|| format!("{text:?}: {word} needs a length"))?;
            *slot = Some(n.parse().map_err(|_| format!("{text:?}: {n:?} is not a prefix length"))?);
        }
        PrefixMatch::new(prefix, ge, le)
    }
}

impl fmt::Display for PrefixMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.prefix)?;
        if let Some(ge) = self.ge {
            write!(f, " ge {ge}")?;
        }
        if let Some(le) = self.le {
            write!(f, " le {le}")?;
        }
        Ok(())
    }
}

fn width(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// Whether `addr` lies within `outer` (same family, same leading bits).
fn covers(outer: &Prefix, addr: IpAddr) -> bool {
    let len = outer.len();
    match (outer.addr(), addr) {
        (IpAddr::V4(o), IpAddr::V4(a)) => {
            let diff = u32::from(o) ^ u32::from(a);
            len == 0 || diff >> (32 - u32::from(len)) == 0
        }
        (IpAddr::V6(o), IpAddr::V6(a)) => {
            let diff = u128::from(o) ^ u128::from(a);
            len == 0 || diff >> (128 - u32::from(len)) == 0
        }
        _ => false,
    }
}
