//! The `[policy.NAME]` sections: named policies of ordered rules.
//!
//! ```toml
//! [policy.customers-in]
//! default = "reject"                  # when no rule decides; "accept" or "reject"
//!
//! [[policy.customers-in.rule]]
//! name = "tag"                        # optional, shown in errors and by ternctl
//! match.prefix = ["10.0.0.0/8 le 24"] # conditions: all must hold
//! match.not.community = ["65000:666"] # `not` holds when its conditions do not
//! set.local_pref = 200                # actions, applied in a fixed order
//! set.community.add = ["65000:100"]
//! action = "accept"                   # accept | reject | next (the default)
//! ```
//!
//! Each `match` key becomes one [`Match`], each `set` key one or more [`Action`]s, using the
//! policy module's own parsers for prefixes, communities and regexes. Conditions are kept
//! in the order of [`MATCH_KEYS`] (the `not` ones after the others), actions in the order
//! of [`SET_KEYS`] with the community lists as replace, remove, add; the verdict comes last.
//! The printer ([`super::print`]) writes a policy back in exactly this form.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

use super::walk::{Errors, Node, Table};
use crate::policy::{
    parse_community, parse_ext_community, parse_large_community, Action, CommunityMatch, LargeCommunityMatch, Match,
    NextHopAction, Policy, PrefixMatch, Rule, Verdict,
};
use crate::wire::{Family, Origin, Prefix};

/// The keys of a `[policy.NAME]` table.
pub(super) const POLICY_KEYS: &[&str] = &["default", "rule"];
/// The keys of one rule.
pub(super) const RULE_KEYS: &[&str] = &["name", "match", "set", "action"];
/// The conditions, in the order a rule checks and the printer writes them.
pub(super) const MATCH_KEYS: &[&str] = &[
    "prefix",
    "family",
    "neighbor",
    "neighbor_as",
    "origin_as",
    "as_path_contains",
    "as_path_length",
    "as_path_regex",
    "community",
    "large_community",
    "ext_community",
    "next_hop",
    "origin",
];
/// The actions, in the order a rule applies and the printer writes them.
pub(super) const SET_KEYS: &[&str] =
    &["local_pref", "med", "origin", "next_hop", "community", "large_community", "prepend"];
/// The keys of `set.community` and `set.large_community`, in the order they apply.
pub(super) const LIST_ACTION_KEYS: &[&str] = &["replace", "remove", "add"];

/// The address families by their configuration names (those of [`Family`]'s `Display`).
pub(super) const FAMILIES: &[Family] =
    &[Family::IPV4_UNICAST, Family::IPV6_UNICAST, Family::IPV4_MULTICAST, Family::IPV6_MULTICAST];

const ORIGINS: &[Origin] = &[Origin::Igp, Origin::Egp, Origin::Incomplete];

/// The policies of the `[policy]` section that are free of mistakes, and the names of all
/// of them (so that a neighbor naming a policy with a mistake is not told that it does not
/// exist).
#[derive(Debug)]
pub(super) struct Policies {
    pub valid: BTreeMap<String, Arc<Policy>>,
    pub names: BTreeSet<String>,
}

pub(super) fn policies(node: Option<Node>, e: &mut Errors) -> Policies {
    let mut out = Policies { valid: BTreeMap::new(), names: BTreeSet::new() };
    let Some(section) = node.and_then(|n| n.table(e, "a table of named policies ([policy.NAME])")) else {
        return out;
    };
    for (name, name_span, node) in section.entries() {
        out.names.insert(name.to_string());
        if Policy::builtin(name).is_some() {
            e.report(
                &name_span,
                &node.key,
                format!("\"{name}\" is a built-in policy and cannot be redefined; choose another name"),
            );
            continue;
        }
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            e.report(
                &name_span,
                &node.key,
                format!("{name:?} is not a valid policy name: use letters, digits, '-' and '_'"),
            );
            continue;
        }
        if let Some(p) = policy(name, &node, e) {
            out.valid.insert(name.to_string(), Arc::new(p));
        }
    }
    out
}

fn policy(name: &str, node: &Node, e: &mut Errors) -> Option<Policy> {
    let t = node.table(e, "a table with default and [[rule]]s")?;
    t.check_keys(e, POLICY_KEYS);
    let default = match t.get("default") {
        Some(n) => verdict(&n, e),
        None => Some(Verdict::Reject),
    };
    let mut rules = Some(Vec::new());
    if let Some(n) = t.get("rule") {
        let tables = n.tables(e, "an array of rule tables ([[policy.NAME.rule]])");
        let mut names: Vec<(String, String)> = Vec::new();
        for r in tables {
            let parsed = rule(&r, &mut names, e);
            match (&mut rules, parsed) {
                (Some(list), Some(r)) => list.push(r),
                _ => rules = None,
            }
        }
    }
    match Policy::new(name, rules?, default?) {
        Ok(p) => Some(p),
        // Every rule was checked already; this is a safety net.
        Err(m) => node.fail(e, m),
    }
}

fn verdict(n: &Node, e: &mut Errors) -> Option<Verdict> {
    n.parse(e, "\"accept\" or \"reject\"", |s| match s {
        "accept" => Ok(Verdict::Accept),
        "reject" => Ok(Verdict::Reject),
        _ => Err(format!("{s:?} is not a verdict: expected \"accept\" or \"reject\"")),
    })
}

/// One rule; `names` collects the rule names seen so far in the policy (with their keys).
fn rule(t: &Table, names: &mut Vec<(String, String)>, e: &mut Errors) -> Option<Rule> {
    t.check_keys(e, RULE_KEYS);
    let mut ok = true;
    let name = match t.get("name") {
        Some(n) => match n.str(e, "a rule name (a string)") {
            Some("") => n.fail(e, "a rule name must not be empty"),
            Some(s) => {
                if let Some((_, other)) = names.iter().find(|(seen, _)| seen == s) {
                    ok = false;
                    n.fail::<()>(e, format!("rule name {s:?} is also used by {other}"));
                }
                names.push((s.to_string(), t.key.clone()));
                Some(s.to_string())
            }
            None => {
                ok = false;
                None
            }
        },
        None => None,
    };
    let matches = match t.get("match") {
        Some(n) => n.table(e, "a table of conditions").and_then(|m| conditions(&m, true, e)),
        None => Some(Vec::new()),
    };
    let mut actions = match t.get("set") {
        Some(n) => n.table(e, "a table of actions").and_then(|s| set(&s, e)),
        None => Some(Vec::new()),
    };
    if let Some(n) = t.get("action") {
        let verdict = n.parse(e, "\"accept\", \"reject\" or \"next\"", |s| match s {
            "accept" => Ok(Some(Action::Accept)),
            "reject" => Ok(Some(Action::Reject)),
            "next" => Ok(None),
            _ => Err(format!("{s:?} is not an action: expected \"accept\", \"reject\" or \"next\"")),
        });
        match verdict {
            Some(Some(a)) => actions.iter_mut().for_each(|l| l.push(a.clone())),
            Some(None) => {}
            None => ok = false,
        }
    }
    let mut rule = Rule::new(matches?, actions?);
    rule.name = name;
    if !ok {
        return None;
    }
    // The conditions and actions were checked one by one; this catches what only the
    // whole rule shows.
    if let Err(m) = rule.check() {
        e.report(&t.span, &t.key, m);
        return None;
    }
    Some(rule)
}

/// The conditions of a `match` table (or of its `not` table when `top` is false).
fn conditions(t: &Table, top: bool, e: &mut Errors) -> Option<Vec<Match>> {
    let valid: Vec<&str> = MATCH_KEYS.iter().copied().chain(top.then_some("not")).collect();
    t.check_keys(e, &valid);
    let mut out = Some(Vec::new());
    for &key in MATCH_KEYS {
        if let Some(n) = t.get(key) {
            let m = condition(key, &n, e).and_then(|m| match m.check() {
                Ok(()) => Some(m),
                Err(msg) => n.fail(e, msg),
            });
            match (&mut out, m) {
                (Some(list), Some(m)) => list.push(m),
                _ => out = None,
            }
        }
    }
    if top {
        if let Some(n) = t.get("not") {
            let negated = n.table(e, "a table of conditions that must not hold").and_then(|t| conditions(&t, false, e));
            match (&mut out, negated) {
                (Some(list), Some(neg)) => list.extend(neg.into_iter().map(|m| !m)),
                _ => out = None,
            }
        }
    }
    out
}

fn condition(key: &str, n: &Node, e: &mut Errors) -> Option<Match> {
    const PREFIXES: &str = "a list of prefixes such as \"10.0.0.0/8 le 24\" or {prefix, ge, le} tables";
    Some(match key {
        "prefix" => Match::Prefix(n.list(e, PREFIXES, prefix_match)?),
        "family" => Match::Family(family(n, e)?),
        "neighbor" => Match::Neighbor(n.list(e, "a list of IP addresses", |n, e| address(n, e))?),
        "neighbor_as" => Match::NeighborAs(n.list(e, "a list of AS numbers", |n, e| any_asn(n, e))?),
        "origin_as" => Match::OriginAs(any_asn(n, e)?),
        "as_path_contains" => Match::AsPathContains(any_asn(n, e)?),
        "as_path_length" => as_path_length(n, e)?,
        "as_path_regex" => n.parse(e, "an AS path regular expression (a string)", Match::as_path_regex)?,
        "community" => Match::Community(n.list(e, "a list of community patterns such as \"65000:*\"", |n, e| {
            n.parse(e, "a community pattern such as \"65000:1\" or \"65000:*\"", |s| s.parse::<CommunityMatch>())
        })?),
        "large_community" => Match::LargeCommunity(n.list(e, "a list of large community patterns", |n, e| {
            n.parse(e, "a large community pattern such as \"65000:1:*\"", |s| s.parse::<LargeCommunityMatch>())
        })?),
        "ext_community" => Match::ExtCommunity(n.list(e, "a list of extended communities", |n, e| {
            n.parse(e, "an extended community such as \"rt:65000:1\"", parse_ext_community)
        })?),
        "next_hop" => Match::NextHop(n.list(e, "a list of prefixes or addresses", |n, e| {
            n.parse(e, "a prefix or an address", |s| match s.parse::<IpAddr>() {
                Ok(a) => Ok(host_prefix(a)),
                Err(_) => s.parse::<Prefix>().map_err(String::from),
            })
        })?),
        "origin" => Match::Origin(origin(n, e)?),
        _ => unreachable!("condition key {key} is not in MATCH_KEYS"),
    })
}

fn prefix_match(n: &Node, e: &mut Errors) -> Option<PrefixMatch> {
    if let Some(t) = n.value.is_table().then(|| n.table(e, "")).flatten() {
        t.check_keys(e, &["prefix", "ge", "le"]);
        let prefix = t
            .require(e, &["prefix", "ge", "le"], "prefix", "a prefix such as \"10.0.0.0/8\"")
            .and_then(|p| p.parse(e, "a prefix such as \"10.0.0.0/8\"", |s| s.parse::<Prefix>().map_err(String::from)));
        let ge = t.get("ge").map(|g| g.int(e, 0u8, 128)).map_or(Some(None), |g| g.map(Some));
        let le = t.get("le").map(|g| g.int(e, 0u8, 128)).map_or(Some(None), |g| g.map(Some));
        let (prefix, ge, le) = (prefix?, ge?, le?);
        return match PrefixMatch::new(prefix, ge, le) {
            Ok(m) => Some(m),
            Err(msg) => n.fail(e, msg),
        };
    }
    n.parse(e, "a prefix such as \"10.0.0.0/8 le 24\" or a {prefix, ge, le} table", |s| s.parse::<PrefixMatch>())
}

fn as_path_length(n: &Node, e: &mut Errors) -> Option<Match> {
    const WHAT: &str = "a path length or a {min, max} table";
    if let Some(t) = n.value.is_table().then(|| n.table(e, WHAT)).flatten() {
        t.check_keys(e, &["min", "max"]);
        let min = t.get("min").map(|g| g.int(e, 0u16, 1000)).map_or(Some(None), |g| g.map(Some));
        let max = t.get("max").map(|g| g.int(e, 0u16, 1000)).map_or(Some(None), |g| g.map(Some));
        let (min, max) = (min?, max?);
        if min.is_none() && max.is_none() {
            return n.fail(e, "expected min, max or both");
        }
        return match Match::as_path_length(min.map(usize::from), max.map(usize::from)) {
            Ok(m) => Some(m),
            Err(msg) => n.fail(e, msg),
        };
    }
    let len = usize::from(n.int_as(e, 0u16, 1000, WHAT)?);
    Some(Match::AsPathLength { min: Some(len), max: Some(len) })
}

/// The actions of a `set` table.
fn set(t: &Table, e: &mut Errors) -> Option<Vec<Action>> {
    t.check_keys(e, SET_KEYS);
    let mut out = Some(Vec::new());
    for &key in SET_KEYS {
        let Some(n) = t.get(key) else { continue };
        let actions = set_one(key, &n, e).and_then(|list| {
            for a in &list {
                if let Err(msg) = a.check() {
                    return n.fail(e, msg);
                }
            }
            Some(list)
        });
        match (&mut out, actions) {
            (Some(list), Some(a)) => list.extend(a),
            _ => out = None,
        }
    }
    out
}

fn set_one(key: &str, n: &Node, e: &mut Errors) -> Option<Vec<Action>> {
    Some(match key {
        "local_pref" => vec![Action::SetLocalPref(n.int(e, 0u32, u32::MAX)?)],
        "med" => vec![Action::SetMed(n.int(e, 0u32, u32::MAX)?)],
        "origin" => vec![Action::SetOrigin(origin(n, e)?)],
        "next_hop" => vec![Action::SetNextHop(n.parse(e, "\"self\" or an IP address", |s| {
            if s == "self" {
                return Ok(NextHopAction::SelfAddress);
            }
            s.parse().map(NextHopAction::Address).map_err(|_| format!("{s:?} is neither \"self\" nor an IP address"))
        })?)],
        "community" => community_actions(n, e, false)?,
        "large_community" => community_actions(n, e, true)?,
        "prepend" => vec![prepend(n, e)?],
        _ => unreachable!("set key {key} is not in SET_KEYS"),
    })
}

/// `set.community = { replace, remove, add }` or the same for large communities.
fn community_actions(n: &Node, e: &mut Errors, large: bool) -> Option<Vec<Action>> {
    let t = n.table(e, "a table with replace, remove and add lists")?;
    t.check_keys(e, LIST_ACTION_KEYS);
    let mut out = Some(Vec::new());
    for &key in LIST_ACTION_KEYS {
        let Some(n) = t.get(key) else { continue };
        let action = if large { large_community_action(key, &n, e) } else { community_action(key, &n, e) };
        let action = action.and_then(|a| match &a {
            Action::AddCommunities(l) if l.is_empty() => n.fail(e, "an empty list adds nothing"),
            Action::RemoveCommunities(l) if l.is_empty() => n.fail(e, "an empty list removes nothing"),
            Action::AddLargeCommunities(l) if l.is_empty() => n.fail(e, "an empty list adds nothing"),
            Action::RemoveLargeCommunities(l) if l.is_empty() => n.fail(e, "an empty list removes nothing"),
            _ => match a.check() {
                Ok(()) => Some(a),
                Err(msg) => n.fail(e, msg),
            },
        });
        match (&mut out, action) {
            (Some(list), Some(a)) => list.push(a),
            _ => out = None,
        }
    }
    out
}

fn community_action(key: &str, n: &Node, e: &mut Errors) -> Option<Action> {
    let exact = |n: &Node, e: &mut Errors| n.parse(e, "a community such as \"65000:1\"", parse_community);
    Some(match key {
        "replace" => Action::ReplaceCommunities(n.list(e, "a list of communities", exact)?),
        "add" => Action::AddCommunities(n.list(e, "a list of communities", exact)?),
        _ => Action::RemoveCommunities(n.list(e, "a list of community patterns", |n, e| {
            n.parse(e, "a community pattern such as \"65000:*\"", |s| s.parse::<CommunityMatch>())
        })?),
    })
}

fn large_community_action(key: &str, n: &Node, e: &mut Errors) -> Option<Action> {
    let exact = |n: &Node, e: &mut Errors| n.parse(e, "a large community such as \"65000:1:2\"", parse_large_community);
    Some(match key {
        "replace" => Action::ReplaceLargeCommunities(n.list(e, "a list of large communities", exact)?),
        "add" => Action::AddLargeCommunities(n.list(e, "a list of large communities", exact)?),
        _ => Action::RemoveLargeCommunities(n.list(e, "a list of large community patterns", |n, e| {
            n.parse(e, "a large community pattern such as \"65000:*:*\"", |s| s.parse::<LargeCommunityMatch>())
        })?),
    })
}

/// `prepend = COUNT` (our own AS) or `prepend = { asn = ASN, count = COUNT }`.
fn prepend(n: &Node, e: &mut Errors) -> Option<Action> {
    const WHAT: &str = "a count from 1 to 255 or an {asn, count} table";
    if let Some(t) = n.value.is_table().then(|| n.table(e, WHAT)).flatten() {
        t.check_keys(e, &["asn", "count"]);
        let asn = t.get("asn").map(|a| any_asn(&a, e)).map_or(Some(None), |a| a.map(Some));
        let count = t.get("count").map(|c| c.int(e, 1u8, 255)).unwrap_or(Some(1));
        return Some(Action::Prepend { asn: asn?, count: count? });
    }
    Some(Action::Prepend { asn: None, count: n.int_as(e, 1u8, 255, WHAT)? })
}

/// An AS number as a condition or prepend names it: anything but 0.
fn any_asn(n: &Node, e: &mut Errors) -> Option<u32> {
    n.int_as(e, 1u32, u32::MAX, "an AS number from 1 to 4294967295")
}

fn address(n: &Node, e: &mut Errors) -> Option<IpAddr> {
    n.parse(e, "an IP address", |s| s.parse().map_err(|_| format!("{s:?} is not an IP address")))
}

/// An address as the prefix that holds only it.
pub(super) fn host_prefix(a: IpAddr) -> Prefix {
    let len = if a.is_ipv4() { 32 } else { 128 };
    Prefix::new(a, len).expect("a full-length prefix always fits")
}

pub(super) fn family(n: &Node, e: &mut Errors) -> Option<Family> {
    n.parse(e, "an address family such as \"ipv4-unicast\"", |s| {
        FAMILIES.iter().copied().find(|f| f.to_string() == s).ok_or_else(|| {
            let names: Vec<String> = FAMILIES.iter().map(|f| f.to_string()).collect();
            format!("unknown address family {s:?}: expected one of {}", names.join(", "))
        })
    })
}

pub(super) fn origin(n: &Node, e: &mut Errors) -> Option<Origin> {
    n.parse(e, "\"igp\", \"egp\" or \"incomplete\"", |s| {
        ORIGINS
            .iter()
            .copied()
            .find(|o| o.name() == s)
            .ok_or_else(|| format!("unknown origin {s:?}: expected \"igp\", \"egp\" or \"incomplete\""))
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use toml::de::DeTable;

    use super::*;

    fn parse(text: &str) -> Result<Policies, Vec<String>> {
        let doc = DeTable::parse(text).expect("valid TOML");
        let mut e = Errors::new(Path::new("t.toml"), text);
        let root = Table::root(&doc);
        let p = policies(root.get("policy"), &mut e);
        if e.is_empty() {
            Ok(p)
        } else {
            Err(e.finish().iter().map(|e| e.to_string()).collect())
        }
    }

    #[test]
    fn a_rule_with_conditions_and_actions() {
        let p = parse(
            r#"
[policy.p]
default = "accept"
[[policy.p.rule]]
name = "r"
match.prefix = ["10.0.0.0/8 le 24", { prefix = "192.0.2.0/24", ge = 25 }]
match.not.origin_as = 65001
set.local_pref = 200
set.community.remove = ["65000:*"]
set.community.add = ["65000:1"]
set.prepend = 2
action = "accept"
"#,
        )
        .unwrap();
        let policy = &p.valid["p"];
        assert_eq!(policy.default, Verdict::Accept);
        let rule = &policy.rules[0];
        assert_eq!(rule.name.as_deref(), Some("r"));
        assert_eq!(
            rule.matches,
            vec![
                Match::Prefix(vec![
                    "10.0.0.0/8 le 24".parse().unwrap(),
                    PrefixMatch::new("192.0.2.0/24".parse().unwrap(), Some(25), None).unwrap()
                ]),
                !Match::OriginAs(65001),
            ]
        );
        assert_eq!(
            rule.actions,
            vec![
                Action::SetLocalPref(200),
                Action::RemoveCommunities(vec![CommunityMatch::AnyLow(65000)]),
                Action::AddCommunities(vec![65000 << 16 | 1]),
                Action::Prepend { asn: None, count: 2 },
                Action::Accept,
            ]
        );
    }

    #[test]
    fn mistakes_name_the_key() {
        let errs = parse(
            r#"
[policy.p]
[[policy.p.rule]]
match.community = ["65000:x"]
set.prepend = 0
action = "drop"
"#,
        )
        .unwrap_err();
        assert_eq!(
            errs,
            vec![
                "t.toml:4:20: policy.p.rule[0].match.community[0]: \"x\" in community \"65000:x\" is not a number from 0 to 65535",
                "t.toml:5:15: policy.p.rule[0].set.prepend: 0 is out of range: expected a count from 1 to 255 or an {asn, count} table",
                "t.toml:6:10: policy.p.rule[0].action: \"drop\" is not an action: expected \"accept\", \"reject\" or \"next\"",
            ]
        );
    }

    #[test]
    fn builtin_names_cannot_be_redefined() {
        let errs = parse("[policy.accept]\ndefault = \"reject\"\n").unwrap_err();
        assert_eq!(
            errs,
            vec!["t.toml:1:9: policy.accept: \"accept\" is a built-in policy and cannot be redefined; choose another name"]
        );
    }
}
