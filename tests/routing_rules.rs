//! Routing rules between routers on the in-memory network: route reflection, AS-path loop
//! detection, policy that accepts, rejects and modifies, ECMP, IPv6, and max-prefix.

mod harness;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use harness::{established, ip, pfx, status, wait_for};
use tern::connection::mem::{Mem, MemNetwork};
use tern::connection::Transport;
use tern::policy::{Action, Match, Policy, PrefixMatch, Rule, Verdict};
use tern::rib::RouteInfo;
use tern::wire::notification::{CEASE, CEASE_MAX_PREFIXES};
use tern::wire::{Family, NextHop, PathAttributes, Prefix};
use tern::{NeighborConfig, Router, RouterConfig};

fn net() -> Arc<dyn Transport> {
    Arc::new(Mem(MemNetwork::new()))
}

fn router(t: &Arc<dyn Transport>, asn: u32, id: u8, addrs: &[IpAddr], tweak: impl FnOnce(&mut RouterConfig)) -> Router {
    let mut cfg = RouterConfig::new(asn, Ipv4Addr::new(10, 255, 0, id));
    cfg.listen = addrs.iter().map(|a| SocketAddr::new(*a, 179)).collect();
    tweak(&mut cfg);
    Router::start(cfg, t.clone(), tern::log::from_env()).unwrap()
}

fn neighbor(r: &Router, addr: IpAddr, asn: u32, local: IpAddr) -> NeighborConfig {
    harness::open_neighbor(r, &addr.to_string(), addr, asn, local)
}

fn selected(info: &RouteInfo) -> Vec<&tern::rib::intern::Attrs> {
    info.paths.iter().filter(|p| p.4).map(|p| &p.3).collect()
}

fn up(pairs: &[(&Router, IpAddr)]) {
    assert!(
        wait_for(Duration::from_secs(15), || pairs.iter().all(|(r, a)| established(r, *a))),
        "sessions did not come up"
    );
}

#[test]
fn route_reflector_passes_client_routes_with_originator_and_cluster_list() {
    let t = net();
    let (c1, r1, r2, c2) = (ip("10.1.0.1"), ip("10.1.0.2"), ip("10.1.1.2"), ip("10.1.1.1"));
    let mut rr = router(&t, 65000, 9, &[r1, r2], |c| c.cluster_id = Some(Ipv4Addr::new(10, 255, 255, 9)));
    let mut k1 = router(&t, 65000, 1, &[c1], |_| {});
    let mut k2 = router(&t, 65000, 2, &[c2], |_| {});
    for (addr, local) in [(c1, r1), (c2, r2)] {
        let mut n = neighbor(&rr, addr, 65000, local);
        n.rib.route_reflector_client = true;
        rr.add_neighbor(n).unwrap();
    }
    k1.add_neighbor(neighbor(&k1, r1, 65000, c1)).unwrap();
    k2.add_neighbor(neighbor(&k2, r2, 65000, c2)).unwrap();
    up(&[(&rr, c1), (&rr, c2), (&k1, r1), (&k2, r2)]);

    let p = pfx("192.0.2.0/24");
    k1.announce(p, PathAttributes::default()).unwrap();
    assert!(wait_for(Duration::from_secs(5), || k2.lookup(p).is_some()), "the client never got the reflected route");
    let info = k2.lookup(p).unwrap();
    let a = &selected(&info)[0].attrs;
    assert_eq!(a.originator_id, Some(Ipv4Addr::new(10, 255, 0, 1)), "ORIGINATOR_ID is the originating client");
    assert_eq!(a.cluster_list, vec![Ipv4Addr::new(10, 255, 255, 9)]);
    assert_eq!(a.local_pref, Some(100));
    assert_eq!(a.next_hop, Some(Ipv4Addr::new(10, 1, 0, 1)), "a reflector keeps the next hop");
    assert!(a.as_path.as_ref().is_none_or(|p| p.is_empty()), "no AS is added inside the AS");
    for r in [rr, k1, k2] {
        r.shutdown(None);
    }
}

#[test]
fn ibgp_routes_are_not_passed_between_ibgp_peers_without_reflection() {
    let t = net();
    let (c1, r1, r2, c2) = (ip("10.2.0.1"), ip("10.2.0.2"), ip("10.2.1.2"), ip("10.2.1.1"));
    let mut mid = router(&t, 65000, 9, &[r1, r2], |_| {});
    let mut k1 = router(&t, 65000, 1, &[c1], |_| {});
    let mut k2 = router(&t, 65000, 2, &[c2], |_| {});
    mid.add_neighbor(neighbor(&mid, c1, 65000, r1)).unwrap();
    mid.add_neighbor(neighbor(&mid, c2, 65000, r2)).unwrap();
    k1.add_neighbor(neighbor(&k1, r1, 65000, c1)).unwrap();
    k2.add_neighbor(neighbor(&k2, r2, 65000, c2)).unwrap();
    up(&[(&mid, c1), (&mid, c2), (&k1, r1), (&k2, r2)]);
    let p = pfx("192.0.2.0/24");
    k1.announce(p, PathAttributes::default()).unwrap();
    assert!(wait_for(Duration::from_secs(5), || mid.lookup(p).is_some()));
    std::thread::sleep(Duration::from_millis(300));
    assert!(k2.lookup(p).is_none(), "iBGP split horizon");
    for r in [mid, k1, k2] {
        r.shutdown(None);
    }
}

/// A - B - C - A, all eBGP, with A sending nothing to C directly: C's only path comes via
/// B, and C offers it to A with A's own AS in it. A refuses it, unless `allow_own_as`.
fn loop_scenario(allow_own_as: u8) -> usize {
    let t = net();
    let (ab_a, ab_b, bc_b, bc_c, ca_c, ca_a) =
        (ip("10.3.0.1"), ip("10.3.0.2"), ip("10.3.1.2"), ip("10.3.1.3"), ip("10.3.2.3"), ip("10.3.2.1"));
    let mut a = router(&t, 65001, 1, &[ab_a, ca_a], |_| {});
    let mut b = router(&t, 65002, 2, &[ab_b, bc_b], |_| {});
    let mut c = router(&t, 65003, 3, &[bc_c, ca_c], |_| {});
    a.add_neighbor(neighbor(&a, ab_b, 65002, ab_a)).unwrap();
    let mut to_c = neighbor(&a, ca_c, 65003, ca_a);
    to_c.rib.export = Some(Arc::new(Policy::reject_all()));
    to_c.rib.allow_own_as = allow_own_as;
    a.add_neighbor(to_c).unwrap();
    b.add_neighbor(neighbor(&b, ab_a, 65001, ab_b)).unwrap();
    b.add_neighbor(neighbor(&b, bc_c, 65003, bc_b)).unwrap();
    c.add_neighbor(neighbor(&c, bc_b, 65002, bc_c)).unwrap();
    c.add_neighbor(neighbor(&c, ca_a, 65001, ca_c)).unwrap();
    up(&[(&a, ab_b), (&a, ca_c), (&b, ab_a), (&b, bc_c), (&c, bc_b), (&c, ca_a)]);
    let p = pfx("198.51.100.0/24");
    a.announce(p, PathAttributes::default()).unwrap();
    assert!(wait_for(Duration::from_secs(5), || c.lookup(p).is_some()));
    let expect = if allow_own_as > 0 { 2 } else { 1 };
    wait_for(Duration::from_secs(2), || a.lookup(p).is_some_and(|i| i.paths.len() == expect));
    let n = a.lookup(p).map_or(0, |i| i.paths.len());
    for r in [a, b, c] {
        r.shutdown(None);
    }
    n
}

#[test]
fn as_path_loops_are_refused() {
    assert_eq!(loop_scenario(0), 1, "only the local path: the looped one is refused");
    assert_eq!(loop_scenario(1), 2, "allow_own_as 1 lets it in");
}

#[test]
fn import_policy_accepts_rejects_and_modifies() {
    let t = net();
    let (a, b) = (ip("10.4.0.1"), ip("10.4.0.2"));
    let mut ra = router(&t, 65001, 1, &[a], |_| {});
    let mut rb = router(&t, 65002, 2, &[b], |_| {});
    let wanted = pfx("203.0.113.0/24");
    let policy = Policy::new(
        "from-a",
        vec![Rule::new(
            vec![Match::Prefix(vec![PrefixMatch::new(pfx("203.0.113.0/24"), None, None).unwrap()])],
            vec![Action::SetLocalPref(300), Action::AddCommunities(vec![0xfdea_0007]), Action::Accept],
        )],
        Verdict::Reject,
    )
    .unwrap();
    let mut n = neighbor(&rb, a, 65001, b);
    n.rib.import = Some(Arc::new(policy));
    rb.add_neighbor(n).unwrap();
    ra.add_neighbor(neighbor(&ra, b, 65002, a)).unwrap();
    up(&[(&ra, b), (&rb, a)]);
    ra.announce(wanted, PathAttributes::default()).unwrap();
    ra.announce(pfx("192.0.2.0/24"), PathAttributes::default()).unwrap();
    assert!(wait_for(Duration::from_secs(5), || rb.lookup(wanted).is_some()));
    let info = rb.lookup(wanted).unwrap();
    let got = &selected(&info)[0].attrs;
    assert_eq!(got.local_pref, Some(300));
    assert_eq!(got.communities, vec![0xfdea_0007]);
    std::thread::sleep(Duration::from_millis(200));
    assert!(rb.lookup(pfx("192.0.2.0/24")).is_none(), "the default rejects the rest");
    ra.shutdown(None);
    rb.shutdown(None);
}

#[test]
fn ecmp_selects_two_equal_paths() {
    for max_paths in [1, 2] {
        let t = net();
        let (a1, b1, a2, b2) = (ip("10.5.0.1"), ip("10.5.0.2"), ip("10.5.1.1"), ip("10.5.1.2"));
        let mut x1 = router(&t, 65001, 1, &[a1], |_| {});
        let mut x2 = router(&t, 65001, 2, &[a2], |_| {});
        let mut rb = router(&t, 65002, 3, &[b1, b2], |c| c.decision.max_paths = max_paths);
        x1.add_neighbor(neighbor(&x1, b1, 65002, a1)).unwrap();
        x2.add_neighbor(neighbor(&x2, b2, 65002, a2)).unwrap();
        rb.add_neighbor(neighbor(&rb, a1, 65001, b1)).unwrap();
        rb.add_neighbor(neighbor(&rb, a2, 65001, b2)).unwrap();
        up(&[(&x1, b1), (&x2, b2), (&rb, a1), (&rb, a2)]);
        let p = pfx("198.51.100.0/24");
        x1.announce(p, PathAttributes::default()).unwrap();
        x2.announce(p, PathAttributes::default()).unwrap();
        assert!(wait_for(Duration::from_secs(5), || rb.lookup(p).is_some_and(|i| i.paths.len() == 2)));
        let info = rb.lookup(p).unwrap();
        assert_eq!(selected(&info).len(), max_paths, "max_paths {max_paths}");
        // Without ECMP the lower router id wins (10.255.0.1, x1).
        if max_paths == 1 {
            assert!(info.paths.iter().any(|p| p.4 && p.1 == a1), "{:?}", info.reason);
        }
        for r in [x1, x2, rb] {
            r.shutdown(None);
        }
    }
}

#[test]
fn ipv6_routes_travel_with_an_ipv6_next_hop() {
    let t = net();
    let (a, b) = (ip("fd00::1"), ip("fd00::2"));
    let mut ra = router(&t, 65001, 1, &[a], |_| {});
    let mut rb = router(&t, 65002, 2, &[b], |_| {});
    for (r, peer, local, asn) in [(&mut ra, b, a, 65002), (&mut rb, a, b, 65001)] {
        let mut n = neighbor(r, peer, asn, local);
        n.session.families = vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST];
        r.add_neighbor(n).unwrap();
    }
    up(&[(&ra, b), (&rb, a)]);
    let p = pfx("2001:db8:1::/48");
    ra.announce(p, PathAttributes::default()).unwrap();
    assert!(wait_for(Duration::from_secs(5), || rb.lookup(p).is_some()));
    let info = rb.lookup(p).unwrap();
    let got = selected(&info)[0];
    assert_eq!(got.mp_next_hop(), Some(NextHop::V6("fd00::1".parse().unwrap())));
    assert_eq!(got.attrs.as_path, Some(tern::wire::AsPath::sequence([65001])));
    ra.withdraw(p).unwrap();
    assert!(wait_for(Duration::from_secs(5), || rb.lookup(p).is_none()));
    ra.shutdown(None);
    rb.shutdown(None);
}

#[test]
fn ipv4_routes_over_an_ipv6_session_use_an_ipv6_next_hop_with_rfc_8950() {
    let t = net();
    // A and B peer over IPv6 with the extended next hop capability; B passes the route on
    // to C over IPv4, where it must get an IPv4 next hop again.
    let (a, b6, b4, c) = (ip("fd00:8950::1"), ip("fd00:8950::2"), ip("10.89.50.1"), ip("10.89.50.2"));
    let mut ra = router(&t, 65001, 1, &[a], |_| {});
    let mut rb = router(&t, 65002, 2, &[b6, b4], |_| {});
    let mut rc = router(&t, 65003, 3, &[c], |_| {});
    for (r, peer, local, asn) in [(&mut ra, b6, a, 65002), (&mut rb, a, b6, 65001)] {
        let mut n = neighbor(r, peer, asn, local);
        n.session.families = vec![Family::IPV4_UNICAST];
        n.session.extended_next_hop = true;
        r.add_neighbor(n).unwrap();
    }
    rb.add_neighbor(neighbor(&rb, c, 65003, b4)).unwrap();
    rc.add_neighbor(neighbor(&rc, b4, 65002, c)).unwrap();
    up(&[(&ra, b6), (&rb, a), (&rb, c), (&rc, b4)]);
    assert!(status(&rb, a).negotiated.as_ref().unwrap().extended_next_hop, "RFC 8950 negotiated");
    assert!(!status(&rb, c).negotiated.as_ref().unwrap().extended_next_hop);

    let p = pfx("198.51.100.0/24");
    ra.announce(p, PathAttributes::default()).unwrap();
    assert!(wait_for(Duration::from_secs(5), || rb.lookup(p).is_some() && rc.lookup(p).is_some()));
    let at_b = rb.lookup(p).unwrap();
    let got = selected(&at_b)[0];
    assert_eq!(got.mp_next_hop(), Some(NextHop::V6("fd00:8950::1".parse().unwrap())), "IPv6 next hop for IPv4");
    assert_eq!(got.attrs.next_hop, None);
    let at_c = rc.lookup(p).unwrap();
    let got = selected(&at_c)[0];
    assert_eq!(got.attrs.next_hop, Some("10.89.50.1".parse().unwrap()), "IPv4 next hop towards C");
    assert_eq!(got.mp_next_hop(), None);
    assert_eq!(got.attrs.as_path, Some(tern::wire::AsPath::sequence([65002, 65001])));
    ra.withdraw(p).unwrap();
    assert!(wait_for(Duration::from_secs(5), || rc.lookup(p).is_none()));
    for r in [ra, rb, rc] {
        r.shutdown(None);
    }
}

#[test]
fn max_prefixes_stops_the_session_with_cease_1() {
    let t = net();
    let (a, b) = (ip("10.6.0.1"), ip("10.6.0.2"));
    let mut ra = router(&t, 65001, 1, &[a], |_| {});
    let mut rb = router(&t, 65002, 2, &[b], |_| {});
    ra.add_neighbor(neighbor(&ra, b, 65002, a)).unwrap();
    let mut n = neighbor(&rb, a, 65001, b);
    n.rib.max_prefixes = Some(3);
    rb.add_neighbor(n).unwrap();
    up(&[(&ra, b), (&rb, a)]);
    for i in 0..4u8 {
        ra.announce(Prefix::v4(198, 51, i, 0, 24), PathAttributes::default()).unwrap();
    }
    let stopped = |s: &tern::session::status::PeerStatus| {
        s.last_notification_sent.as_ref().is_some_and(|n| (n.code, n.subcode) == (CEASE, CEASE_MAX_PREFIXES))
    };
    assert!(wait_for(Duration::from_secs(5), || stopped(&status(&rb, a))), "{:#?}", status(&rb, a));
    let n = status(&rb, a).last_notification_sent.clone().unwrap();
    assert_eq!(n.data, [0, 1, 1, 0, 0, 0, 3], "AFI, SAFI and the limit (RFC 4486)");
    assert!(
        wait_for(Duration::from_secs(2), || rb.lookup(Prefix::v4(198, 51, 0, 0, 24)).is_none()),
        "its routes are gone"
    );
    assert_ne!(status(&rb, a).state, tern::fsm::State::Established);
    ra.shutdown(None);
    rb.shutdown(None);
}

fn reject_prefix(p: &str) -> Policy {
    Policy::new(
        "no-p",
        vec![Rule::new(vec![Match::Prefix(vec![PrefixMatch::exact(pfx(p))])], vec![Action::Reject])],
        Verdict::Accept,
    )
    .unwrap()
}

#[test]
fn policy_changes_apply_without_a_session_reset() {
    let t = net();
    let (a, b) = (ip("10.7.0.1"), ip("10.7.0.2"));
    let mut ra = router(&t, 65001, 1, &[a], |_| {});
    let mut rb = router(&t, 65002, 2, &[b], |_| {});
    ra.add_neighbor(neighbor(&ra, b, 65002, a)).unwrap();
    rb.add_neighbor(neighbor(&rb, a, 65001, b)).unwrap();
    up(&[(&ra, b), (&rb, a)]);
    let (p, q) = (pfx("198.51.100.0/24"), pfx("203.0.113.0/24"));
    ra.announce(p, PathAttributes::default()).unwrap();
    ra.announce(q, PathAttributes::default()).unwrap();
    assert!(wait_for(Duration::from_secs(5), || rb.lookup(p).is_some() && rb.lookup(q).is_some()));

    // Export: A stops sending p; B loses p, keeps q.
    let mut rules = neighbor(&ra, b, 65002, a).rib;
    rules.export = Some(Arc::new(reject_prefix("198.51.100.0/24")));
    ra.set_rules(b, rules.clone()).unwrap();
    assert!(wait_for(Duration::from_secs(5), || rb.lookup(p).is_none()), "p withdrawn after the export change");
    assert!(rb.lookup(q).is_some());
    // And back.
    rules.export = Some(Arc::new(Policy::accept_all()));
    ra.set_rules(b, rules).unwrap();
    assert!(wait_for(Duration::from_secs(5), || rb.lookup(p).is_some()), "p back after the export change");

    // Import: B stops accepting q; B asks A for a route refresh and drops q.
    let mut rules = neighbor(&rb, a, 65001, b).rib;
    rules.import = Some(Arc::new(reject_prefix("203.0.113.0/24")));
    rb.set_rules(a, rules).unwrap();
    assert!(wait_for(Duration::from_secs(5), || rb.lookup(q).is_none()), "q dropped after the import change");
    assert!(rb.lookup(p).is_some());
    assert!(
        wait_for(Duration::from_secs(5), || status(&ra, b).received.route_refresh >= 1),
        "the change went through ROUTE-REFRESH"
    );

    for (r, peer) in [(&ra, b), (&rb, a)] {
        assert_eq!(status(r, peer).established_count, 1, "no session was reset");
    }
    // Soft resets both ways keep everything in place.
    rb.soft_reset(a, true).unwrap();
    rb.soft_reset(a, false).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(rb.lookup(p).is_some() && rb.lookup(q).is_none());
    assert!(wait_for(Duration::from_secs(5), || status(&ra, b).received.route_refresh >= 2));
    ra.shutdown(None);
    rb.shutdown(None);
}

#[test]
fn soft_reconfiguration_inbound_applies_import_changes_from_the_stored_routes() {
    let t = net();
    let (a, b) = (ip("10.7.1.1"), ip("10.7.1.2"));
    let mut ra = router(&t, 65001, 1, &[a], |_| {});
    let mut rb = router(&t, 65002, 2, &[b], |_| {});
    ra.add_neighbor(neighbor(&ra, b, 65002, a)).unwrap();
    let mut nb = neighbor(&rb, a, 65001, b);
    nb.rib.soft_reconfiguration_inbound = true;
    nb.rib.import = Some(Arc::new(reject_prefix("203.0.113.0/24")));
    rb.add_neighbor(nb.clone()).unwrap();
    up(&[(&ra, b), (&rb, a)]);
    let (p, q) = (pfx("198.51.100.0/24"), pfx("203.0.113.0/24"));
    ra.announce(p, PathAttributes { med: Some(5), ..Default::default() }).unwrap();
    ra.announce(q, PathAttributes::default()).unwrap();
    assert!(wait_for(Duration::from_secs(5), || rb.lookup(p).is_some()));
    assert!(rb.lookup(q).is_none(), "q is rejected on import");

    // Accepting q now takes it from the stored pre-policy routes: no ROUTE-REFRESH.
    let mut rules = nb.rib.clone();
    rules.import = Some(Arc::new(Policy::accept_all()));
    rb.set_rules(a, rules.clone()).unwrap();
    assert!(wait_for(Duration::from_secs(5), || rb.lookup(q).is_some()), "q accepted from the stored routes");
    // A policy that rewrites: MED 77 on everything, applied to the stored originals.
    rules.import =
        Some(Arc::new(Policy::new("med", vec![Rule::new(vec![], vec![Action::SetMed(77)])], Verdict::Accept).unwrap()));
    rb.set_rules(a, rules.clone()).unwrap();
    assert!(wait_for(Duration::from_secs(5), || { rb.lookup(p).is_some_and(|r| r.paths[0].3.attrs.med == Some(77)) }));
    // Back to accept: the original MED 5 returns, which only the pre-policy copy knows.
    rules.import = Some(Arc::new(Policy::accept_all()));
    rb.set_rules(a, rules).unwrap();
    assert!(wait_for(Duration::from_secs(5), || { rb.lookup(p).is_some_and(|r| r.paths[0].3.attrs.med == Some(5)) }));
    // A withdrawal also leaves the stored copy: rejecting and accepting again does not
    // bring p back.
    ra.withdraw(p).unwrap();
    assert!(wait_for(Duration::from_secs(5), || rb.lookup(p).is_none()));
    rb.soft_reset(a, true).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(rb.lookup(p).is_none() && rb.lookup(q).is_some());
    assert_eq!(status(&ra, b).received.route_refresh, 0, "nothing was asked of the peer");
    assert_eq!(status(&rb, a).established_count, 1);
    ra.shutdown(None);
    rb.shutdown(None);
}

#[test]
fn add_path_carries_two_paths_for_one_prefix() {
    use tern::wire::AddPathDirection;
    let t = net();
    let (x1, r1, x2, r2, r3, c) =
        (ip("10.8.0.1"), ip("10.8.0.2"), ip("10.8.1.1"), ip("10.8.1.2"), ip("10.8.2.2"), ip("10.8.2.3"));
    let mut a1 = router(&t, 65001, 1, &[x1], |_| {});
    let mut a2 = router(&t, 65011, 2, &[x2], |_| {});
    let mut rr = router(&t, 65002, 3, &[r1, r2, r3], |_| {});
    let mut rc = router(&t, 65003, 4, &[c], |_| {});
    a1.add_neighbor(neighbor(&a1, r1, 65002, x1)).unwrap();
    a2.add_neighbor(neighbor(&a2, r2, 65002, x2)).unwrap();
    rr.add_neighbor(neighbor(&rr, x1, 65001, r1)).unwrap();
    rr.add_neighbor(neighbor(&rr, x2, 65011, r2)).unwrap();
    let mut to_c = neighbor(&rr, c, 65003, r3);
    to_c.session.add_path = vec![(Family::IPV4_UNICAST, AddPathDirection::Send)];
    rr.add_neighbor(to_c).unwrap();
    let mut from_r = neighbor(&rc, r3, 65002, c);
    from_r.session.add_path = vec![(Family::IPV4_UNICAST, AddPathDirection::Receive)];
    rc.add_neighbor(from_r).unwrap();
    up(&[(&a1, r1), (&a2, r2), (&rr, x1), (&rr, x2), (&rr, c), (&rc, r3)]);
    let n = status(&rc, r3).negotiated.clone().unwrap();
    assert!(n.add_path_rx.contains(Family::IPV4_UNICAST), "C receives path identifiers");

    let p = pfx("198.51.100.0/24");
    a1.announce(p, PathAttributes::default()).unwrap();
    a2.announce(p, PathAttributes::default()).unwrap();
    assert!(
        wait_for(Duration::from_secs(5), || rc.lookup(p).is_some_and(|i| i.paths.len() == 2)),
        "{:?}",
        rc.lookup(p)
    );
    let info = rc.lookup(p).unwrap();
    let ids: std::collections::HashSet<u32> = info.paths.iter().map(|x| x.2).collect();
    assert_eq!(ids.len(), 2, "two distinct path identifiers");
    let origins: std::collections::HashSet<Option<u32>> =
        info.paths.iter().map(|x| x.3.attrs.as_path.as_ref().and_then(|a| a.origin_as())).collect();
    assert_eq!(origins, [Some(65001), Some(65011)].into_iter().collect());

    a1.withdraw(p).unwrap();
    assert!(
        wait_for(Duration::from_secs(5), || rc.lookup(p).is_some_and(|i| i.paths.len() == 1)),
        "{:?}",
        rc.lookup(p)
    );
    // An export policy change reaches the paths C holds under their own identifiers: a
    // policy refusing p takes the remaining path away, and accepting it brings it back.
    a1.announce(p, PathAttributes::default()).unwrap();
    assert!(wait_for(Duration::from_secs(5), || rc.lookup(p).is_some_and(|i| i.paths.len() == 2)));
    let mut rules = neighbor(&rr, c, 65003, r3).rib;
    rules.export = Some(Arc::new(reject_prefix("198.51.100.0/24")));
    rr.set_rules(c, rules.clone()).unwrap();
    assert!(wait_for(Duration::from_secs(5), || rc.lookup(p).is_none()), "{:?}", rc.lookup(p));
    rules.export = Some(Arc::new(Policy::accept_all()));
    rr.set_rules(c, rules).unwrap();
    assert!(wait_for(Duration::from_secs(5), || rc.lookup(p).is_some_and(|i| i.paths.len() == 2)));
    for r in [a1, a2, rr, rc] {
        r.shutdown(None);
    }
}

#[test]
fn add_path_best_n_sends_the_best_paths_and_moves_up_the_next_one() {
    use tern::wire::AddPathDirection;
    let t = net();
    let (x1, x2, x3) = (ip("10.8.10.1"), ip("10.8.11.1"), ip("10.8.12.1"));
    let (r1, r2, r3, r4, c) = (ip("10.8.10.2"), ip("10.8.11.2"), ip("10.8.12.2"), ip("10.8.13.2"), ip("10.8.13.3"));
    // Three sources in three ASes: equal but for the BGP identifier, so the order is a1
    // (id .1), a2 (id .2), a3 (id .5).
    let mut a1 = router(&t, 65001, 1, &[x1], |_| {});
    let mut a2 = router(&t, 65011, 2, &[x2], |_| {});
    let mut a3 = router(&t, 65021, 5, &[x3], |_| {});
    let mut rr = router(&t, 65002, 3, &[r1, r2, r3, r4], |_| {});
    let mut rc = router(&t, 65003, 4, &[c], |_| {});
    for (src, at, asn, local) in [(&mut a1, r1, 65002, x1), (&mut a2, r2, 65002, x2), (&mut a3, r3, 65002, x3)] {
        let n = neighbor(src, at, asn, local);
        src.add_neighbor(n).unwrap();
    }
    rr.add_neighbor(neighbor(&rr, x1, 65001, r1)).unwrap();
    rr.add_neighbor(neighbor(&rr, x2, 65011, r2)).unwrap();
    rr.add_neighbor(neighbor(&rr, x3, 65021, r3)).unwrap();
    let mut to_c = neighbor(&rr, c, 65003, r4);
    to_c.session.add_path = vec![(Family::IPV4_UNICAST, AddPathDirection::Send)];
    to_c.rib.add_path_send_max = Some(2);
    rr.add_neighbor(to_c).unwrap();
    let mut from_r = neighbor(&rc, r4, 65002, c);
    from_r.session.add_path = vec![(Family::IPV4_UNICAST, AddPathDirection::Receive)];
    rc.add_neighbor(from_r).unwrap();
    up(&[(&a1, r1), (&a2, r2), (&a3, r3), (&rr, x1), (&rr, x2), (&rr, x3), (&rr, c), (&rc, r4)]);

    let origins = |r: &Router, p| -> std::collections::BTreeSet<u32> {
        r.lookup(p)
            .map(|i| i.paths.iter().filter_map(|x| x.3.attrs.as_path.as_ref().and_then(|a| a.origin_as())).collect())
            .unwrap_or_default()
    };
    let p = pfx("198.51.100.0/24");
    for a in [&a1, &a2, &a3] {
        a.announce(p, PathAttributes::default()).unwrap();
    }
    assert!(wait_for(Duration::from_secs(5), || rr.lookup(p).is_some_and(|i| i.paths.len() == 3)));
    let two: std::collections::BTreeSet<u32> = [65001, 65011].into();
    assert!(wait_for(Duration::from_secs(5), || origins(&rc, p) == two), "{:?}", origins(&rc, p));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(origins(&rc, p), two, "only the best two paths are sent");

    // The best path goes: the third moves up into the best two.
    a1.withdraw(p).unwrap();
    let next: std::collections::BTreeSet<u32> = [65011, 65021].into();
    assert!(wait_for(Duration::from_secs(5), || origins(&rc, p) == next), "{:?}", origins(&rc, p));
    // A source going down entirely: one path left.
    a2.shutdown(None);
    let last: std::collections::BTreeSet<u32> = [65021].into();
    assert!(wait_for(Duration::from_secs(10), || origins(&rc, p) == last), "{:?}", origins(&rc, p));
    for r in [a1, a3, rr, rc] {
        r.shutdown(None);
    }
}

#[test]
fn well_known_communities_no_export_and_graceful_shutdown() {
    use tern::wire::attrs::{GRACEFUL_SHUTDOWN, NO_EXPORT};
    let t = net();
    let (a, b1, b2, c) = (ip("10.9.0.1"), ip("10.9.0.2"), ip("10.9.1.2"), ip("10.9.1.3"));
    // A and B share AS 65002 (iBGP); C is outside it. NO_EXPORT routes never leave A's own
    // AS, so A must be inside B's AS for B to have one at all.
    let mut ra = router(&t, 65002, 1, &[a], |_| {});
    let mut rb = router(&t, 65002, 2, &[b1, b2], |_| {});
    let mut rc = router(&t, 65003, 3, &[c], |_| {});
    ra.add_neighbor(neighbor(&ra, b1, 65002, a)).unwrap();
    rb.add_neighbor(neighbor(&rb, a, 65002, b1)).unwrap();
    rb.add_neighbor(neighbor(&rb, c, 65003, b2)).unwrap();
    rc.add_neighbor(neighbor(&rc, b2, 65002, c)).unwrap();
    up(&[(&ra, b1), (&rb, a), (&rb, c), (&rc, b2)]);

    let (kept_in, drained, plain) = (pfx("198.51.100.0/24"), pfx("203.0.113.0/24"), pfx("192.0.2.0/24"));
    ra.announce(kept_in, PathAttributes { communities: vec![NO_EXPORT], ..Default::default() }).unwrap();
    ra.announce(drained, PathAttributes { communities: vec![GRACEFUL_SHUTDOWN], ..Default::default() }).unwrap();
    ra.announce(plain, PathAttributes::default()).unwrap();
    assert!(wait_for(Duration::from_secs(5), || rc.lookup(plain).is_some() && rb.lookup(kept_in).is_some()));

    // NO_EXPORT: B keeps it, but it does not leave the AS (RFC 1997).
    assert!(rc.lookup(kept_in).is_none(), "NO_EXPORT crossed an AS boundary");
    // GRACEFUL_SHUTDOWN: B lowers its LOCAL_PREF to 0 (RFC 8326) and still passes it on.
    assert!(wait_for(Duration::from_secs(5), || rb.lookup(drained).is_some()));
    let info = rb.lookup(drained).unwrap();
    assert_eq!(selected(&info)[0].attrs.local_pref, Some(0));
    assert!(wait_for(Duration::from_secs(5), || rc.lookup(drained).is_some()));
    for r in [ra, rb, rc] {
        r.shutdown(None);
    }
}

#[test]
fn end_of_rib_is_recorded_and_max_prefix_restarts_after_its_delay() {
    let t = net();
    let (a, b) = (ip("10.10.0.1"), ip("10.10.0.2"));
    let mut ra = router(&t, 65001, 1, &[a], |_| {});
    let mut rb = router(&t, 65002, 2, &[b], |_| {});
    ra.add_neighbor(neighbor(&ra, b, 65002, a)).unwrap();
    let mut n = neighbor(&rb, a, 65001, b);
    n.rib.max_prefixes = Some(2);
    n.rib.max_prefixes_restart = Some(Duration::from_secs(2));
    rb.add_neighbor(n).unwrap();
    up(&[(&ra, b), (&rb, a)]);
    assert!(
        wait_for(Duration::from_secs(5), || status(&rb, a).end_of_rib == [Family::IPV4_UNICAST]),
        "End-of-RIB recorded"
    );

    for i in 0..3u8 {
        ra.announce(Prefix::v4(198, 51, i, 0, 24), PathAttributes::default()).unwrap();
    }
    // Over the limit: Cease/1; the session stays down for the delay, even though the peer
    // keeps connecting, then comes back by itself (and goes down again: the peer still
    // sends three).
    let stopped =
        |s: &tern::session::status::PeerStatus| s.last_notification_sent.as_ref().is_some_and(|n| n.subcode == 1);
    assert!(wait_for(Duration::from_secs(5), || stopped(&status(&rb, a))));
    let t0 = std::time::Instant::now();
    assert!(wait_for(Duration::from_secs(10), || status(&rb, a).established_count >= 2), "{:#?}", status(&rb, a));
    assert!(t0.elapsed() >= Duration::from_millis(1500), "came back after {:?}, before its 2 s delay", t0.elapsed());
    ra.shutdown(None);
    rb.shutdown(None);
}
