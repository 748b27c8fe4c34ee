use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::wire::attrs::{GRACEFUL_SHUTDOWN, NO_ADVERTISE, NO_EXPORT, NO_EXPORT_SUBCONFED};
use crate::wire::{AsPath, LargeCommunity, Origin, Segment, SegmentKind};

const CTX: EvalContext = EvalContext { local_asn: 65000, self_next_hop: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))) };

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn pfx(s: &str) -> Prefix {
    s.parse().unwrap()
}

fn peer() -> PeerInfo {
    PeerInfo {
        id: 1,
        name: "r2".into(),
        address: ip("192.0.2.2"),
        asn: 65002,
        router_id: Ipv4Addr::new(2, 2, 2, 2),
        ebgp: true,
        rr_client: false,
    }
}

fn view<'a>(neighbor: &'a PeerInfo, prefix: &str) -> RouteView<'a> {
    let prefix = pfx(prefix);
    let family = if prefix.addr().is_ipv4() { Family::IPV4_UNICAST } else { Family::IPV6_UNICAST };
    let next_hop = Some(if prefix.addr().is_ipv4() { ip("192.0.2.2") } else { ip("2001:db8::2") });
    RouteView { prefix, path_id: 0, neighbor, family, next_hop }
}

fn attrs(path: &[u32]) -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::sequence(path.iter().copied())),
        next_hop: Some(Ipv4Addr::new(192, 0, 2, 2)),
        communities: vec![c(65002, 100), NO_EXPORT],
        large_communities: vec![lc(65002, 1, 2)],
        ext_communities: vec![0x0002_fdea_0000_0064],
        ..PathAttributes::default()
    }
}

fn c(high: u16, low: u16) -> u32 {
    u32::from(high) << 16 | u32::from(low)
}

fn lc(global: u32, local1: u32, local2: u32) -> LargeCommunity {
    LargeCommunity { global, local1, local2 }
}

fn run(policy: &Policy, route: &RouteView, attrs: &mut PathAttributes) -> Verdict {
    policy.evaluate(route, attrs, &CTX).verdict
}

/// Whether `m` holds for the route: a policy that accepts on it and rejects otherwise.
fn holds(m: Match, route: &RouteView, a: &PathAttributes) -> bool {
    let policy = Policy::new("p", vec![Rule::new(vec![m], vec![Action::Accept])], Verdict::Reject).unwrap();
    run(&policy, route, &mut a.clone()) == Verdict::Accept
}

/// Applies `actions` to `a` (accepting) and returns the result.
fn apply(actions: Vec<Action>, a: &PathAttributes) -> (PathAttributes, Outcome) {
    let p = peer();
    let policy = Policy::new("p", vec![Rule::new(vec![], actions)], Verdict::Accept).unwrap();
    let mut a = a.clone();
    let outcome = policy.evaluate(&view(&p, "10.1.0.0/16"), &mut a, &CTX);
    (a, outcome)
}

fn seg(kind: SegmentKind, asns: &[u32]) -> Segment {
    Segment { kind, asns: asns.to_vec() }
}

#[test]
fn prefix_ge_le_table() {
    let m: PrefixMatch = "10.0.0.0/8 ge 16 le 24".parse().unwrap();
    for (p, want) in [
        ("10.1.0.0/16", true),
        ("10.1.2.0/24", true),
        ("10.255.0.0/20", true),
        ("10.0.0.0/8", false),
        ("10.1.2.128/25", false),
        ("10.0.0.0/15", false),
        ("11.0.0.0/16", false),
        ("2001:db8::/32", false),
    ] {
        assert_eq!(m.matches(&pfx(p)), want, "10.0.0.0/8 ge 16 le 24 against {p}");
    }
    let exact = PrefixMatch::exact(pfx("10.0.0.0/8"));
    assert!(exact.matches(&pfx("10.0.0.0/8")));
    assert!(!exact.matches(&pfx("10.0.0.0/9")));
    assert!(!exact.matches(&pfx("0.0.0.0/0")));
    // `ge` alone runs to the full width, `le` alone starts at the prefix length.
    let ge: PrefixMatch = "10.0.0.0/8 ge 24".parse().unwrap();
    assert!(ge.matches(&pfx("10.9.9.9/32")) && ge.matches(&pfx("10.9.9.0/24")) && !ge.matches(&pfx("10.9.0.0/23")));
    let le: PrefixMatch = "10.0.0.0/8 le 16".parse().unwrap();
    assert!(le.matches(&pfx("10.0.0.0/8")) && le.matches(&pfx("10.9.0.0/16")) && !le.matches(&pfx("10.9.9.0/24")));
    // The default route: `0.0.0.0/0 le 32` is every IPv4 prefix.
    let any: PrefixMatch = "0.0.0.0/0 le 32".parse().unwrap();
    assert!(any.matches(&pfx("0.0.0.0/0")) && any.matches(&pfx("203.0.113.7/32")) && !any.matches(&pfx("::/0")));
    let v6: PrefixMatch = "2001:db8::/32 ge 48 le 64".parse().unwrap();
    assert!(v6.matches(&pfx("2001:db8:1::/48")) && !v6.matches(&pfx("2001:db9::/48")));
    assert!(!v6.matches(&pfx("2001:db8:1:2:3::/80")));
}

#[test]
fn prefix_match_ranges_are_checked_and_print_back() {
    for (text, error) in [
        ("10.0.0.0/8 ge 7", "ge 7 is shorter than the prefix length 8"),
        ("10.0.0.0/8 le 33", "le 33 is longer than an address (32 bits)"),
        ("10.0.0.0/8 ge 24 le 16", "le 16 is shorter than ge 24"),
        ("2001:db8::/32 le 129", "le 129 is longer than an address (128 bits)"),
        ("10.0.0.0/8 ge 16 ge 17", "ge given twice"),
        ("10.0.0.0/8 ge", "ge needs a length"),
        ("10.0.0.0/8 upto 9", "expected ge or le"),
        ("10.0.0.1/8", "host bits set"),
    ] {
        let e = text.parse::<PrefixMatch>().unwrap_err();
        assert!(e.contains(error), "{text}: {e}");
    }
    assert!(PrefixMatch::new(pfx("10.0.0.0/8"), Some(8), Some(8)).is_ok());
    for text in ["10.0.0.0/8", "10.0.0.0/8 ge 16", "10.0.0.0/8 le 16", "10.0.0.0/8 ge 16 le 24"] {
        assert_eq!(text.parse::<PrefixMatch>().unwrap().to_string(), text);
    }
}

#[test]
fn every_condition_holds_and_fails() {
    let p = peer();
    let route = view(&p, "10.1.0.0/16");
    let a = attrs(&[65002, 65010, 65020]);
    let cases: Vec<(Match, bool)> = vec![
        (Match::Prefix(vec!["192.168.0.0/16 le 32".parse().unwrap(), "10.0.0.0/8 ge 16".parse().unwrap()]), true),
        (Match::Prefix(vec!["10.0.0.0/8".parse().unwrap()]), false),
        (Match::Neighbor(vec![ip("192.0.2.9"), ip("192.0.2.2")]), true),
        (Match::Neighbor(vec![ip("192.0.2.9")]), false),
        (Match::NeighborAs(vec![65002]), true),
        (Match::NeighborAs(vec![65003]), false),
        (Match::AsPathContains(65010), true),
        (Match::AsPathContains(65011), false),
        (Match::OriginAs(65020), true),
        (Match::OriginAs(65002), false),
        (Match::as_path_length(Some(3), Some(3)).unwrap(), true),
        (Match::as_path_length(None, Some(2)).unwrap(), false),
        (Match::as_path_length(Some(4), None).unwrap(), false),
        (Match::as_path_regex("^65002_").unwrap(), true),
        (Match::as_path_regex("^65010_").unwrap(), false),
        (Match::Community(vec![CommunityMatch::Exact(c(65002, 100))]), true),
        (Match::Community(vec![CommunityMatch::Exact(c(65002, 101))]), false),
        (Match::Community(vec!["no-export".parse().unwrap()]), true),
        (Match::Community(vec!["65002:*".parse().unwrap()]), true),
        (Match::Community(vec!["65003:*".parse().unwrap()]), false),
        (Match::Community(vec!["*:100".parse().unwrap()]), true),
        (Match::Community(vec!["*:101".parse().unwrap()]), false),
        (Match::LargeCommunity(vec![LargeCommunityMatch::exact(lc(65002, 1, 2))]), true),
        (Match::LargeCommunity(vec!["65002:*:2".parse().unwrap()]), true),
        (Match::LargeCommunity(vec!["65002:2:*".parse().unwrap()]), false),
        (Match::ExtCommunity(vec![parse_ext_community("rt:65002:100").unwrap()]), true),
        (Match::ExtCommunity(vec![parse_ext_community("rt:65002:101").unwrap()]), false),
        (Match::NextHop(vec![pfx("192.0.2.0/24")]), true),
        (Match::NextHop(vec![pfx("192.0.3.0/24"), pfx("2001:db8::/32")]), false),
        (Match::Origin(Origin::Igp), true),
        (Match::Origin(Origin::Incomplete), false),
        (Match::Family(Family::IPV4_UNICAST), true),
        (Match::Family(Family::IPV6_UNICAST), false),
        (!Match::Family(Family::IPV6_UNICAST), true),
        (!Match::Origin(Origin::Igp), false),
    ];
    for (m, want) in cases {
        assert_eq!(holds(m.clone(), &route, &a), want, "{m:?}");
    }
}

#[test]
fn conditions_on_missing_attributes_fail_quietly() {
    let p = peer();
    let mut route = view(&p, "10.1.0.0/16");
    route.next_hop = None;
    let bare = PathAttributes::default();
    for m in [
        Match::AsPathContains(65002),
        Match::OriginAs(65002),
        Match::Community(vec!["*:100".parse().unwrap()]),
        Match::NextHop(vec![pfx("0.0.0.0/0")]),
        Match::Origin(Origin::Igp),
        Match::as_path_regex("65002").unwrap(),
    ] {
        assert!(!holds(m.clone(), &route, &bare), "{m:?}");
    }
    // No AS_PATH is the empty path: length 0, and `^$` matches it.
    assert!(holds(Match::as_path_length(None, Some(0)).unwrap(), &route, &bare));
    assert!(holds(Match::as_path_regex("^$").unwrap(), &route, &bare));
}

#[test]
fn as_path_length_counts_as_best_path_does() {
    let p = peer();
    let route = view(&p, "10.1.0.0/16");
    let mut a = attrs(&[]);
    a.as_path = Some(AsPath::from_segments(vec![
        seg(SegmentKind::ConfedSequence, &[64512, 64513]),
        seg(SegmentKind::Sequence, &[65002]),
        seg(SegmentKind::Set, &[65010, 65011, 65012]),
    ]));
    assert!(holds(Match::as_path_length(Some(2), Some(2)).unwrap(), &route, &a));
    assert!(holds(Match::AsPathContains(64513), &route, &a), "confederation members count as contained");
    assert!(!holds(Match::OriginAs(65012), &route, &a), "a path ending in a set has no origin AS");
    assert!(Match::as_path_length(Some(3), Some(2)).unwrap_err().contains("minimum 3 is above maximum 2"));
}

#[test]
fn as_path_regex_table() {
    let path = |segments: Vec<Segment>| Some(AsPath::from_segments(segments));
    let seq = |asns: &[u32]| Some(AsPath::sequence(asns.iter().copied()));
    let empty = Some(AsPath::empty());
    let with_set = path(vec![seg(SegmentKind::Sequence, &[65001, 65002]), seg(SegmentKind::Set, &[65003, 65004])]);
    let confed = path(vec![seg(SegmentKind::ConfedSequence, &[64512]), seg(SegmentKind::Sequence, &[65001])]);
    let table: Vec<(&str, Option<AsPath>, bool)> = vec![
        ("^$", empty.clone(), true),
        ("^$", None, true),
        ("^$", seq(&[65001]), false),
        ("^65001_", seq(&[65001, 65002]), true),
        ("^65001_", seq(&[65001]), true),
        ("^65001_", seq(&[650012]), false),
        ("^65001_", seq(&[65002, 65001]), false),
        ("_65001$", seq(&[65002, 65001]), true),
        ("_65001$", seq(&[65001, 65002]), false),
        ("_65001_", seq(&[65002, 65001, 65003]), true),
        ("_65001_", seq(&[165001]), false),
        ("_65001_", seq(&[650011]), false),
        ("_(65001|65002)_", seq(&[7, 65002, 9]), true),
        ("_(65001|65002)_", seq(&[7, 65003, 9]), false),
        (".*", empty.clone(), true),
        (".*", seq(&[1, 2, 3]), true),
        ("6500", seq(&[65001]), true),
        ("^65001_65002_", seq(&[65001, 65002, 65003]), true),
        ("^65001 65002$", seq(&[65001, 65002]), true),
        ("^[0-9]+$", seq(&[65001]), true),
        ("^[0-9]+$", seq(&[65001, 65002]), false),
        (r"^\d+_\d+$", seq(&[1, 2]), true),
        // Sets render in braces, and `_` is a boundary at a brace.
        ("_65003_", with_set.clone(), true),
        ("_65004_", with_set.clone(), true),
        // The text ends in `}`: like OriginAs, `$` finds no last AS after a set.
        ("_65004$", with_set.clone(), false),
        (r"\{65003 65004\}$", with_set.clone(), true),
        ("_65002_", with_set.clone(), true),
        ("^65001 65002 65003", with_set.clone(), false),
        // Confederation sequences render in parentheses.
        (r"^\(64512\)_65001$", confed.clone(), true),
        ("_64512_", confed.clone(), true),
        ("^65001", confed.clone(), false),
        // `_` inside a bracket class is a literal.
        ("^[_0-9 ]+$", seq(&[1, 2]), true),
    ];
    for (pattern, path, want) in table {
        let re = AsPathRegex::new(pattern).unwrap();
        assert_eq!(re.is_match(path.as_ref()), want, "{pattern:?} against {path:?}");
    }
}

#[test]
fn the_regex_text_is_the_path_as_printed() {
    let path = AsPath::from_segments(vec![
        seg(SegmentKind::ConfedSet, &[64512, 64513]),
        seg(SegmentKind::ConfedSequence, &[64514]),
        seg(SegmentKind::Sequence, &[0, 9, 10, 65535, 4_200_000_001, u32::MAX]),
        seg(SegmentKind::Set, &[3, 1]),
    ]);
    let mut text = "stale".to_string();
    aspath_regex::render_as_path(Some(&path), &mut text);
    assert_eq!(text, path.to_string());
    assert_eq!(text, "[64512 64513] (64514) 0 9 10 65535 4200000001 4294967295 {3 1}");
    aspath_regex::render_as_path(None, &mut text);
    assert_eq!(text, "");
}

#[test]
fn as_path_regex_errors_quote_the_pattern() {
    let e = AsPathRegex::new("_(65001|65002_").unwrap_err();
    assert!(e.starts_with("invalid AS path regex \"_(65001|65002_\""), "{e}");
    assert!(AsPathRegex::new("65001[").is_err());
    assert!(AsPathRegex::new(r"65001\").is_err());
    // A pattern far too large for a small host is refused, not compiled.
    assert!(AsPathRegex::new("(((((65001|65002){100}){100}){100}))").is_err());
    let re = AsPathRegex::new("^65001_").unwrap();
    assert_eq!(re, AsPathRegex::new("^65001_").unwrap());
    assert_eq!(re.to_string(), "^65001_");
    assert_eq!(format!("{re:?}"), "AsPathRegex(\"^65001_\")");
}

#[test]
fn the_regex_sees_the_path_as_earlier_rules_left_it() {
    let p = peer();
    let route = view(&p, "10.1.0.0/16");
    let policy = Policy::new(
        "p",
        vec![
            // Renders the path once before the prepend...
            Rule::new(vec![Match::as_path_regex("^65000_").unwrap()], vec![Action::Reject]),
            Rule::new(vec![], vec![Action::Prepend { asn: None, count: 2 }]),
            // ...and again after it.
            Rule::new(vec![Match::as_path_regex("^65000_65000_65002$").unwrap()], vec![Action::Accept]),
        ],
        Verdict::Reject,
    )
    .unwrap();
    let mut a = attrs(&[65002]);
    assert_eq!(run(&policy, &route, &mut a), Verdict::Accept);
    // Twice more on the same thread: the reused buffer holds no stale text.
    let mut b = attrs(&[65003]);
    assert_eq!(run(&policy, &route, &mut b), Verdict::Reject);
    let mut a = attrs(&[65002]);
    assert_eq!(run(&policy, &route, &mut a), Verdict::Accept);
}

#[test]
fn every_action_changes_what_it_says() {
    let a = attrs(&[65002]);

    let (b, o) = apply(vec![Action::SetLocalPref(200), Action::SetMed(7), Action::SetOrigin(Origin::Incomplete)], &a);
    assert_eq!((b.local_pref, b.med, b.origin), (Some(200), Some(7), Some(Origin::Incomplete)));
    assert_eq!(o, Outcome { verdict: Verdict::Accept, next_hop: None });

    let (b, _) = apply(vec![Action::AddCommunities(vec![c(65000, 1), NO_EXPORT, c(65000, 2)])], &a);
    assert_eq!(b.communities, [c(65002, 100), NO_EXPORT, c(65000, 1), c(65000, 2)], "no duplicates");
    let (b, _) = apply(vec![Action::RemoveCommunities(vec!["65002:*".parse().unwrap()])], &a);
    assert_eq!(b.communities, [NO_EXPORT]);
    let (b, _) =
        apply(vec![Action::RemoveCommunities(vec!["*:100".parse().unwrap(), "no-export".parse().unwrap()])], &a);
    assert!(b.communities.is_empty());
    let (b, _) = apply(vec![Action::ReplaceCommunities(vec![c(1, 1)])], &a);
    assert_eq!(b.communities, [c(1, 1)]);
    let (b, _) = apply(vec![Action::ReplaceCommunities(vec![])], &a);
    assert!(b.communities.is_empty());

    let (b, _) = apply(vec![Action::AddLargeCommunities(vec![lc(65000, 0, 1), lc(65002, 1, 2)])], &a);
    assert_eq!(b.large_communities, [lc(65002, 1, 2), lc(65000, 0, 1)]);
    let (b, _) = apply(vec![Action::RemoveLargeCommunities(vec!["65002:*:*".parse().unwrap()])], &a);
    assert!(b.large_communities.is_empty());
    let (b, _) = apply(vec![Action::RemoveLargeCommunities(vec!["*:1:3".parse().unwrap()])], &a);
    assert_eq!(b.large_communities, [lc(65002, 1, 2)]);
    let (b, _) = apply(vec![Action::ReplaceLargeCommunities(vec![lc(1, 2, 3)])], &a);
    assert_eq!(b.large_communities, [lc(1, 2, 3)]);

    let (b, _) = apply(vec![Action::Prepend { asn: None, count: 3 }], &a);
    assert_eq!(b.as_path, Some(AsPath::sequence([65000, 65000, 65000, 65002])));
    let (b, _) = apply(vec![Action::Prepend { asn: Some(65099), count: 1 }], &a);
    assert_eq!(b.as_path, Some(AsPath::sequence([65099, 65002])));
    let (b, _) = apply(vec![Action::Prepend { asn: Some(65099), count: 0 }], &a);
    assert_eq!(b.as_path, a.as_path);
    let (b, _) = apply(vec![Action::Prepend { asn: None, count: 1 }], &PathAttributes::default());
    assert_eq!(b.as_path, Some(AsPath::sequence([65000])), "a route without AS_PATH gets one");

    // Everything but the next hop comes out as it went in.
    let (b, o) = apply(vec![Action::SetNextHop(NextHopAction::Address(ip("198.51.100.1")))], &a);
    assert_eq!(b, a, "the next hop is reported, not written");
    assert_eq!(o.next_hop, Some(ip("198.51.100.1")));
}

#[test]
fn next_hop_changes_come_back_in_the_outcome() {
    let p = peer();
    let set_self = Rule::new(vec![], vec![Action::SetNextHop(NextHopAction::SelfAddress)]);
    let policy = Policy::new("p", vec![set_self.clone()], Verdict::Accept).unwrap();
    let route = view(&p, "10.1.0.0/16");
    let mut a = attrs(&[65002]);
    assert_eq!(policy.evaluate(&route, &mut a, &CTX).next_hop, Some(ip("10.0.0.1")));
    let no_self = EvalContext { self_next_hop: None, ..CTX };
    assert_eq!(policy.evaluate(&route, &mut a, &no_self).next_hop, None, "no address: no change");
    let same = EvalContext { self_next_hop: Some(ip("192.0.2.2")), ..CTX };
    assert_eq!(policy.evaluate(&route, &mut a, &same).next_hop, None, "the same address is no change");

    // An IPv6 route: the next hop comes from the view and goes back in the outcome.
    let route6 = view(&p, "2001:db8:1::/48");
    let v6 = EvalContext { self_next_hop: Some(ip("2001:db8::1")), ..CTX };
    let policy = Policy::new(
        "p",
        vec![
            Rule::new(vec![Match::NextHop(vec![pfx("2001:db8::/64")])], vec![]).named("sees the original"),
            set_self,
            // A later rule sees the next hop an earlier one set.
            Rule::new(vec![Match::NextHop(vec![pfx("2001:db8::1/128")])], vec![Action::Accept]),
        ],
        Verdict::Reject,
    )
    .unwrap();
    let o = policy.evaluate(&route6, &mut a, &v6);
    assert_eq!(o, Outcome { verdict: Verdict::Accept, next_hop: Some(ip("2001:db8::1")) });
}

#[test]
fn rules_apply_in_order_and_only_accept_or_reject_end_evaluation() {
    let p = peer();
    let route = view(&p, "10.1.0.0/16");
    let from_65002 = Match::as_path_regex("^65002_").unwrap();
    let policy = Policy::new(
        "import",
        vec![
            Rule::new(vec![Match::Community(vec!["65535:666".parse().unwrap()])], vec![Action::Reject]).named("bh"),
            // Not terminating: sets and goes on.
            Rule::new(
                vec![from_65002.clone()],
                vec![Action::SetLocalPref(150), Action::AddCommunities(vec![c(65000, 1)])],
            ),
            Rule::new(vec![Match::NeighborAs(vec![65002])], vec![Action::SetLocalPref(175)]),
            Rule::new(vec![Match::Prefix(vec!["10.0.0.0/8 le 24".parse().unwrap()])], vec![Action::Accept]),
            Rule::new(vec![], vec![Action::SetMed(1), Action::Accept]).named("never reached for 10/8"),
        ],
        Verdict::Reject,
    )
    .unwrap();

    let mut a = attrs(&[65002, 65010]);
    assert_eq!(run(&policy, &route, &mut a), Verdict::Accept);
    assert_eq!(a.local_pref, Some(175), "a later rule overrides an earlier one");
    assert!(a.communities.contains(&c(65000, 1)));
    assert_eq!(a.med, None, "evaluation ended at the first Accept");

    // The first rule that decides wins, even when later ones would accept.
    let mut a = attrs(&[65002]);
    a.communities.push(c(65535, 666));
    assert_eq!(run(&policy, &route, &mut a), Verdict::Reject);

    // Outside 10/8 the last rule decides.
    let other = view(&p, "192.168.0.0/16");
    let mut a = attrs(&[65002]);
    assert_eq!(run(&policy, &other, &mut a), Verdict::Accept);
    assert_eq!(a.med, Some(1));

    // Rules that only modify fall through to the default.
    let modify_only = Policy::new("m", vec![Rule::new(vec![], vec![Action::SetMed(5)])], Verdict::Reject).unwrap();
    let mut a = attrs(&[65002]);
    assert_eq!(run(&modify_only, &route, &mut a), Verdict::Reject);
    assert_eq!(a.med, Some(5));
    let empty = Policy::new("e", vec![], Verdict::Accept).unwrap();
    assert_eq!(run(&empty, &route, &mut a), Verdict::Accept);
    // A rule without conditions always applies; with several, all must hold.
    let both = Policy::new(
        "b",
        vec![Rule::new(vec![from_65002, Match::Origin(Origin::Egp)], vec![Action::Accept])],
        Verdict::Reject,
    )
    .unwrap();
    assert_eq!(run(&both, &route, &mut attrs(&[65002])), Verdict::Reject);
}

#[test]
fn the_built_in_policies() {
    let p = peer();
    let route = view(&p, "10.1.0.0/16");
    let a = attrs(&[65002]);
    let mut b = a.clone();
    assert_eq!(
        Policy::accept_all().evaluate(&route, &mut b, &CTX),
        Outcome { verdict: Verdict::Accept, next_hop: None }
    );
    assert_eq!(b, a);
    assert_eq!(run(&Policy::reject_all(), &route, &mut b), Verdict::Reject);
    assert_eq!(Policy::builtin("accept"), Some(Policy::accept_all()));
    assert_eq!(Policy::builtin("reject").unwrap().name, "reject");
    assert_eq!(Policy::builtin("Accept"), None);
    for p in [Policy::accept_all(), Policy::reject_all()] {
        assert!(!p.depends_on_prefix() && !p.modifies());
    }
}

#[test]
fn policy_construction_names_the_mistake() {
    let e = Policy::new("accept", vec![], Verdict::Reject).unwrap_err();
    assert!(e.contains("built-in"), "{e}");
    assert!(Policy::new("", vec![], Verdict::Reject).is_err());
    let e = Policy::new("p", vec![Rule::new(vec![], vec![Action::Accept, Action::SetMed(1)])], Verdict::Reject)
        .unwrap_err();
    assert!(e.starts_with("policy \"p\", rule 1: SetMed(1) comes after accept"), "{e}");
    let e = Policy::new(
        "p",
        vec![Rule::new(vec![], vec![]), Rule::new(vec![!Match::Neighbor(vec![])], vec![]).named("x")],
        Verdict::Reject,
    )
    .unwrap_err();
    assert_eq!(e, "policy \"p\", rule \"x\": the neighbor list is empty, so the condition could never hold");
    let e = Policy::new(
        "p",
        vec![Rule::new(vec![], vec![Action::AddCommunities(vec![NO_EXPORT, NO_EXPORT])])],
        Verdict::Reject,
    )
    .unwrap_err();
    assert!(e.ends_with("community no-export is listed twice"), "{e}");
}

#[test]
fn flags_for_the_rib() {
    let prefix = Match::Prefix(vec!["10.0.0.0/8".parse().unwrap()]);
    let p = |rules| Policy::new("p", rules, Verdict::Reject).unwrap();
    let only_attrs =
        p(vec![Rule::new(vec![Match::OriginAs(1), Match::Family(Family::IPV4_UNICAST)], vec![Action::Accept])]);
    assert!(!only_attrs.depends_on_prefix() && !only_attrs.modifies());
    let on_prefix =
        p(vec![Rule::new(vec![Match::OriginAs(1)], vec![]), Rule::new(vec![prefix.clone()], vec![Action::Reject])]);
    assert!(on_prefix.depends_on_prefix() && !on_prefix.modifies());
    let negated = p(vec![Rule::new(vec![!prefix], vec![Action::Accept])]);
    assert!(negated.depends_on_prefix());
    for action in [
        Action::SetMed(1),
        Action::SetNextHop(NextHopAction::SelfAddress),
        Action::Prepend { asn: None, count: 1 },
        Action::RemoveCommunities(vec![CommunityMatch::Exact(NO_EXPORT)]),
    ] {
        assert!(p(vec![Rule::new(vec![], vec![action.clone(), Action::Accept])]).modifies(), "{action:?}");
    }
}

#[test]
fn a_borrowed_set_is_copied_only_when_it_changes() {
    let p = peer();
    let route = view(&p, "10.1.0.0/16");
    let shared = attrs(&[65002]);
    let no_op = Policy::new(
        "p",
        vec![Rule::new(
            vec![],
            vec![
                Action::SetOrigin(Origin::Igp),
                Action::AddCommunities(vec![NO_EXPORT]),
                Action::RemoveCommunities(vec!["65099:*".parse().unwrap()]),
                Action::ReplaceLargeCommunities(vec![lc(65002, 1, 2)]),
                Action::Prepend { asn: None, count: 0 },
                Action::SetNextHop(NextHopAction::SelfAddress),
                Action::Accept,
            ],
        )],
        Verdict::Reject,
    )
    .unwrap();
    let mut cow = Cow::Borrowed(&shared);
    let o = no_op.evaluate_cow(&route, &mut cow, &CTX);
    assert!(matches!(cow, Cow::Borrowed(_)), "nothing changed, nothing copied");
    assert_eq!(o.next_hop, Some(ip("10.0.0.1")));

    let change = Policy::new("p", vec![Rule::new(vec![], vec![Action::SetLocalPref(300)])], Verdict::Accept).unwrap();
    let mut cow = Cow::Borrowed(&shared);
    assert!(change.evaluate_cow(&route, &mut cow, &CTX).accepted());
    assert_eq!(cow.local_pref, Some(300));
    assert!(matches!(cow, Cow::Owned(_)));
    assert_eq!(shared.local_pref, None);
}

#[test]
fn community_syntax() {
    assert_eq!(parse_community("65000:100"), Ok(c(65000, 100)));
    assert_eq!(parse_community("0:0"), Ok(0));
    assert_eq!(parse_community("no-export"), Ok(NO_EXPORT));
    assert_eq!(parse_community("no-advertise"), Ok(NO_ADVERTISE));
    assert_eq!(parse_community("no-export-subconfed"), Ok(NO_EXPORT_SUBCONFED));
    assert_eq!(parse_community("graceful-shutdown"), Ok(GRACEFUL_SHUTDOWN));
    assert_eq!(parse_community("blackhole"), Ok(c(65535, 666)));
    for (bad, error) in [
        ("65536:1", "\"65536\" in community \"65536:1\" is not a number from 0 to 65535"),
        ("1:-1", "\"-1\" in community"),
        ("no_export", "write HIGH:LOW or one of graceful-shutdown"),
        ("1:2:3", "\"2:3\" in community"),
        ("", "is not a community"),
    ] {
        let e = parse_community(bad).unwrap_err();
        assert!(e.contains(error), "{bad:?}: {e}");
    }
    for (text, value) in [("65000:100", c(65000, 100)), ("no-export", NO_EXPORT), ("65535:666", c(65535, 666))] {
        let back = format_community(value);
        assert_eq!(parse_community(&back), Ok(value), "{text} → {back}");
    }
    assert_eq!(format_community(NO_ADVERTISE), "no-advertise");
    assert_eq!(format_community(c(65000, 100)), "65000:100");

    // Wildcards.
    assert_eq!("65000:*".parse(), Ok(CommunityMatch::AnyLow(65000)));
    assert_eq!("*:100".parse(), Ok(CommunityMatch::AnyHigh(100)));
    assert_eq!("no-export".parse(), Ok(CommunityMatch::Exact(NO_EXPORT)));
    assert!("*:*".parse::<CommunityMatch>().unwrap_err().contains("every community"));
    assert!("70000:*".parse::<CommunityMatch>().is_err());
    let any_low = CommunityMatch::AnyLow(65000);
    assert!(any_low.matches(c(65000, 0)) && any_low.matches(c(65000, 65535)) && !any_low.matches(c(65001, 0)));
    let any_high = CommunityMatch::AnyHigh(100);
    assert!(any_high.matches(c(1, 100)) && !any_high.matches(c(100, 1)));
    assert!(CommunityMatch::AnyLow(65535).matches(NO_EXPORT), "well-known communities have high half 65535");
    for text in ["65000:*", "*:100", "no-export", "65000:100"] {
        assert_eq!(text.parse::<CommunityMatch>().unwrap().to_string(), text);
    }
}

#[test]
fn large_and_extended_community_syntax() {
    assert_eq!(parse_large_community("65000:1:2"), Ok(lc(65000, 1, 2)));
    assert_eq!(parse_large_community("4200000001:4294967295:0"), Ok(lc(4_200_000_001, u32::MAX, 0)));
    assert!(parse_large_community("65000:1").unwrap_err().contains("GLOBAL:LOCAL1:LOCAL2"));
    assert!(parse_large_community("65000:1:2:3").is_err());
    assert!(parse_large_community("65000:1:4294967296").unwrap_err().contains("\"4294967296\""));
    let m: LargeCommunityMatch = "65000:*:7".parse().unwrap();
    assert!(m.matches(&lc(65000, 3, 7)) && !m.matches(&lc(65000, 3, 8)) && !m.matches(&lc(65001, 3, 7)));
    assert_eq!(m.to_string(), "65000:*:7");
    assert!("*:*:*".parse::<LargeCommunityMatch>().is_err());
    assert_eq!(LargeCommunityMatch::from(lc(1, 2, 3)).to_string(), "1:2:3");

    for (text, value) in [
        ("rt:65000:100", 0x0002_fde8_0000_0064),
        ("soo:65000:100", 0x0003_fde8_0000_0064),
        ("rt:192.0.2.1:7", 0x0102_c000_0201_0007),
        ("rt:4200000001:7", 0x0202_fa56_ea01_0007),
        ("0x0a0b0c0d0e0f1011", 0x0a0b_0c0d_0e0f_1011),
    ] {
        assert_eq!(parse_ext_community(text), Ok(value), "{text}");
        assert_eq!(format_ext_community(value), text);
    }
    assert_eq!(format_ext_community(0x0202_0000_0064_0007), "0x0202000000640007", "small AS, 4-octet form");
    assert!(parse_ext_community("rt:4200000001:65536").unwrap_err().contains("exceeds 65535"));
    assert!(parse_ext_community("rd:1:1").unwrap_err().contains("neither rt nor soo"));
    assert!(parse_ext_community("rt:1").is_err());
}
