//! Scenarios every peer implementation runs ([`interop_tests!`] makes the `#[test]`s of
//! each peer module). Each starts tern and the peers in a namespace of its own, and checks
//! on both sides what was actually received: AS_PATH, next hop, MED, LOCAL_PREF,
//! communities and large communities, and tern's reason for its choice.

use std::time::{Duration, Instant};

use crate::peer::*;
use crate::ternd::{wait_until, Ternd};

/// The generic tests of one peer implementation, in the module that invokes it.
macro_rules! interop_tests {
    ($peer:ty) => {
        #[test]
        fn ebgp_routes_both_ways_communities_med_and_withdrawal() {
            crate::scenarios::ebgp::<$peer>();
        }

        #[test]
        fn ibgp_local_pref_and_med_decide_and_travel_as_the_rfcs_say() {
            crate::scenarios::ibgp::<$peer>();
        }

        #[test]
        fn peer_restart_is_recovered_and_shutdown_messages_are_shown() {
            crate::scenarios::restart_and_shutdown::<$peer>();
        }

        #[test]
        fn route_refresh_both_ways() {
            crate::scenarios::route_refresh::<$peer>();
        }

        #[test]
        fn add_path() {
            crate::scenarios::add_path::<$peer>();
        }
    };
}
pub(crate) use interop_tests;

/// Starts tern in `ns` with these peers and origins.
pub fn start_tern(ns: &crate::ternd::Netns, test: &str, peers: &[&Spec], origins: &[Announce]) -> Ternd {
    let mut tern = Ternd::in_netns(test, "tern", ns);
    tern.write_config(&tern_config(peers, origins, "debug"));
    tern.start();
    tern
}

fn assert_attrs(who: &str, r: &Route, as_path: &[u32], sent: &Announce) {
    assert_eq!(r.as_path, as_path, "{who}: AS_PATH of {}: {r:?}", sent.prefix);
    assert_eq!(r.communities, sorted(&sent.communities), "{who}: communities of {}: {r:?}", sent.prefix);
    assert_eq!(r.large, sorted(&sent.large), "{who}: large communities of {}: {r:?}", sent.prefix);
}

fn assert_no_local_pref<P: Peer>(who: &str, r: &Route) {
    if P::SHOWS_ABSENT_LOCAL_PREF {
        assert_eq!(r.local_pref, None, "{who}: LOCAL_PREF is not sent over eBGP: {r:?}");
    }
}

fn assert_med<P: Peer>(who: &str, r: &Route, med: Option<u32>) {
    match med {
        Some(_) => assert_eq!(r.med, med, "{who}: MED of {}: {r:?}", r.prefix),
        None if P::SHOWS_ABSENT_MED => assert_eq!(r.med, None, "{who}: no MED on {}: {r:?}", r.prefix),
        // The peer shows a missing MED as 0.
        None => assert!(r.med.unwrap_or(0) == 0, "{who}: no MED on {}: {r:?}", r.prefix),
    }
}

/// eBGP with two peers of the implementation, A (AS 65002) and B (AS 4200000003, a 4-octet
/// AS), IPv4 and IPv6:
/// - A's routes arrive in tern as A sent them (AS_PATH, next hop, MED, communities, large
///   communities, no LOCAL_PREF);
/// - tern re-advertises them to B (peer → tern → peer): communities and large communities
///   intact, tern's AS prepended, tern's next hop, and the MED not passed on to a third AS
///   (RFC 4271 §5.1.4);
/// - tern's own prefixes reach A and B with their MED (sent to the neighbor AS) and without
///   LOCAL_PREF (configured on the origin: iBGP only);
/// - a prefix from both A (MED 50) and B (MED 10): MED is not compared across neighbor ASes,
///   A wins on the lower BGP identifier;
/// - nothing is sent back to the peer it came from;
/// - withdrawals both ways: A's, and a prefix announced and withdrawn with ternctl.
pub fn ebgp<P: Peer>() {
    const B_ASN: u32 = 4_200_000_003;
    let ns = namespace("ebgp");
    let a_routes = [
        Announce::new("203.0.113.0/24").communities(&["65002:7", "65002:70"]).large(&["65002:8:9"]).med(77),
        Announce::new("2001:db8:a::/48").communities(&["65002:6"]).large(&["65002:6:6", "65002:0:1"]).med(66),
        Announce::new("192.0.2.0/24").communities(&["65002:50"]).med(50),
    ];
    let mut a = Spec::new("a", 2, 65002);
    for r in &a_routes {
        a = a.announce(r.clone());
    }
    let b = Spec::new("b", 3, B_ASN)
        .announce(Announce::new("192.0.2.0/24").communities(&["65003:10"]).large(&["4200000003:10:0"]).med(10));
    let origins = [
        Announce::new("198.51.100.0/24").communities(&["65001:100"]).large(&["65001:1:2"]).med(42).local_pref(120),
        Announce::new("2001:db8:100::/48").communities(&["65001:106"]).large(&["65001:6:1"]).med(43).local_pref(130),
    ];
    let tern = start_tern(&ns, "ix-ebgp", &[&a, &b], &origins);
    let mut pa = P::start(&ns, a.clone());
    let pb = P::start(&ns, b.clone());
    wait_up(&tern, &pa);
    wait_up(&tern, &pb);

    // A's routes in tern, as A sent them.
    for ann in &a_routes[..2] {
        let af = ann.af();
        let (_, p) = tern_best(&tern, &ann.prefix, &a.session(af), |_| true);
        assert_attrs("tern", &p.route, &[65002], ann);
        assert_eq!(p.route.med, ann.med, "tern: the MED A sent: {p:?}");
        assert_eq!(p.route.local_pref, None, "tern: no LOCAL_PREF over eBGP: {p:?}");
        assert_eq!(p.route.next_hop, pa.sent_next_hop(af), "tern: A's next hop: {p:?}");
    }
    // ... and at B through tern.
    for ann in &a_routes[..2] {
        let af = ann.af();
        let r = peer_route(&pb, &ann.prefix, "A's route through tern", |_| true);
        assert_attrs(P::KIND, &r, &[TERN_ASN, 65002], ann);
        assert_med::<P>("B (MED of A's AS is not passed to a third AS)", &r, None);
        assert_no_local_pref::<P>("B", &r);
        assert_eq!(r.next_hop, af.tern_next_hop(), "B: tern's next hop: {r:?}");
    }
    // tern's own prefixes at A and B.
    for (who, peer) in [("A", &pa), ("B", &pb)] {
        for o in &origins {
            let r = peer_route(peer, &o.prefix, "tern's origin", |_| true);
            assert_attrs(who, &r, &[TERN_ASN], o);
            assert_med::<P>(who, &r, o.med);
            assert_no_local_pref::<P>(who, &r);
            assert_eq!(r.next_hop, o.af().tern_next_hop(), "{who}: tern's next hop: {r:?}");
        }
    }

    // MED is not compared between paths from different neighbor ASes.
    let (reason, paths) = wait_until(
        "tern to have 192.0.2.0/24 from A and B",
        ROUTE,
        || tern_paths(&tern, "192.0.2.0/24").unwrap_or_default(),
        |(_, p)| p.len() == 2,
    );
    let best = paths.iter().find(|p| p.selected).expect("a selected path");
    assert_eq!(best.from, "a4", "A's path (MED 50, lower identifier) beats B's (MED 10, other AS): {paths:#?}");
    assert_eq!(reason, "lowest BGP identifier or ORIGINATOR_ID", "{paths:#?}");
    let r = peer_route(&pb, "192.0.2.0/24", "A's path, the best", |_| true);
    assert_eq!(r.as_path, [TERN_ASN, 65002], "{r:?}");
    assert_eq!(r.communities, ["65002:50"], "{r:?}");

    // Nothing goes back to where it came from: A has only tern's own prefixes.
    std::thread::sleep(Duration::from_millis(500));
    let mut got: Vec<String> = pa.received().into_iter().map(|r| r.prefix).collect();
    got.sort();
    assert_eq!(got, ["198.51.100.0/24", "2001:db8:100::/48"], "A receives its own routes back, or B's");

    // A changes the attributes of a prefix: tern and B see the new ones (the old
    // communities and the large community gone).
    let changed = Announce::new("203.0.113.0/24").communities(&["65002:8"]).med(78);
    pa.announce(changed.clone());
    let (_, p) = tern_best(&tern, &changed.prefix, "a4", |p| p.route.communities == ["65002:8"]);
    assert_attrs("tern", &p.route, &[65002], &changed);
    assert_eq!(p.route.med, Some(78), "{p:?}");
    let r = peer_route(&pb, &changed.prefix, "A's changed route", |r| r.communities == ["65002:8"]);
    assert_attrs("B", &r, &[TERN_ASN, 65002], &changed);

    // A withdraws: tern and B lose the prefixes; for 192.0.2.0/24 B's path is left, which A
    // now gets (tern's best changed) with B's communities.
    pa.withdraw("203.0.113.0/24");
    pa.withdraw("2001:db8:a::/48");
    pa.withdraw("192.0.2.0/24");
    for gone in ["203.0.113.0/24", "2001:db8:a::/48"] {
        tern_lacks(&tern, gone);
        peer_lacks(&pb, gone);
    }
    let (reason, p) = tern_best(&tern, "192.0.2.0/24", "b4", |_| true);
    assert_eq!(reason, "only path");
    assert_eq!(p.route.med, Some(10));
    let r = peer_route(&pa, "192.0.2.0/24", "B's path after A's withdrawal", |r| r.as_path == [TERN_ASN, B_ASN]);
    assert_eq!(
        (r.communities.as_slice(), r.large.as_slice()),
        (&["65003:10".to_string()][..], &["4200000003:10:0".to_string()][..]),
        "{r:?}"
    );
    assert_med::<P>("A (B's MED stays in B's and tern's AS)", &r, None);
    // And B does not get its own path back.
    std::thread::sleep(Duration::from_millis(500));
    assert!(!pb.received().iter().any(|r| r.prefix == "192.0.2.0/24"), "B got its own path back: {:?}", pb.received());

    // tern announces and withdraws at run time (ternctl), with attributes.
    let out = tern.ctl(&[
        "announce",
        "198.51.101.0/24",
        "--community",
        "65001:301",
        "--large-community",
        "65001:3:1",
        "--med",
        "31",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r = peer_route(&pa, "198.51.101.0/24", "announced with ternctl", |_| true);
    assert_eq!(
        (r.communities.as_slice(), r.large.as_slice(), r.med),
        (&["65001:301".to_string()][..], &["65001:3:1".to_string()][..], Some(31)),
        "{r:?}"
    );
    tern.ctl_ok(&["announce", "2001:db8:101::/48", "--community", "65001:601"]);
    let r = peer_route(&pb, "2001:db8:101::/48", "announced with ternctl", |_| true);
    assert_eq!(
        (r.as_path.as_slice(), r.communities.as_slice()),
        (&[TERN_ASN][..], &["65001:601".to_string()][..]),
        "{r:?}"
    );
    tern.ctl_ok(&["withdraw", "198.51.101.0/24"]);
    tern.ctl_ok(&["withdraw", "2001:db8:101::/48"]);
    for gone in ["198.51.101.0/24", "2001:db8:101::/48"] {
        peer_lacks(&pa, gone);
        peer_lacks(&pb, gone);
    }
    // tern's sessions stayed up throughout.
    for s in ["a4", "a6", "b4", "b6"] {
        assert_eq!(tern.neighbor(s)["established_count"], 1, "{s} was reset");
    }
}

/// iBGP with A (AS 65001, tern's own), and eBGP with B and C (both AS 65002):
/// - LOCAL_PREF from A arrives (250, 260), and tern's origin's LOCAL_PREF (120, 130) reaches A;
/// - a prefix from A with LOCAL_PREF 300 beats the same from B (eBGP, no LOCAL_PREF: 100),
///   reason "highest LOCAL_PREF", although tern would prefer eBGP over iBGP otherwise;
/// - a prefix from B (MED 20) and C (MED 10), same neighbor AS: C wins on MED although B has
///   the lower identifier; reason "lowest MED";
/// - that MED is passed to A (inside the AS) with LOCAL_PREF 100; after C withdraws, A sees
///   B's MED 20;
/// - A's iBGP route goes to B (eBGP) with tern's AS, without LOCAL_PREF, communities intact;
/// - A does not get iBGP routes back.
pub fn ibgp<P: Peer>() {
    let ns = namespace("ibgp");
    let a_routes = [
        Announce::new("203.0.113.0/24").communities(&["65001:250"]).large(&["65001:2:250"]).local_pref(250),
        Announce::new("2001:db8:a::/48").communities(&["65001:260"]).local_pref(260),
        Announce::new("192.0.2.0/24").local_pref(300),
    ];
    let mut a = Spec::new("a", 2, TERN_ASN);
    for r in &a_routes {
        a = a.announce(r.clone());
    }
    let b = Spec::new("b", 3, 65002)
        .announce(Announce::new("192.0.2.0/24"))
        .announce(Announce::new("10.20.0.0/16").communities(&["65002:20"]).med(20))
        .announce(Announce::new("2001:db8:b::/48").large(&["65002:3:0"]).med(30));
    let c = Spec::new("c", 4, 65002)
        .only(Af::V4)
        .announce(Announce::new("10.20.0.0/16").communities(&["65002:10"]).med(10));
    let origins = [
        Announce::new("198.51.100.0/24").communities(&["65001:100"]).med(42).local_pref(120),
        Announce::new("2001:db8:100::/48").large(&["65001:6:1"]).local_pref(130),
    ];
    let tern = start_tern(&ns, "ix-ibgp", &[&a, &b, &c], &origins);
    let pa = P::start(&ns, a.clone());
    let pb = P::start(&ns, b.clone());
    let mut pc = P::start(&ns, c.clone());
    wait_up(&tern, &pa);
    wait_up(&tern, &pb);
    wait_up(&tern, &pc);

    // A's LOCAL_PREF arrives.
    for ann in &a_routes[..2] {
        let (_, p) = tern_best(&tern, &ann.prefix, &a.session(ann.af()), |_| true);
        assert_attrs("tern", &p.route, &[], ann);
        assert_eq!(p.route.local_pref, ann.local_pref, "tern: A's LOCAL_PREF: {p:?}");
        assert_eq!(p.route.next_hop, pa.sent_next_hop(ann.af()), "tern: A's next hop: {p:?}");
    }
    // LOCAL_PREF decides before eBGP-over-iBGP.
    let (reason, paths) = wait_until(
        "tern to have 192.0.2.0/24 from A and B",
        ROUTE,
        || tern_paths(&tern, "192.0.2.0/24").unwrap_or_default(),
        |(_, p)| p.len() == 2,
    );
    let best = paths.iter().find(|p| p.selected).unwrap();
    assert_eq!((best.from.as_str(), reason.as_str()), ("a4", "highest LOCAL_PREF"), "{paths:#?}");
    // MED decides between paths from one neighbor AS.
    let (reason, paths) = wait_until(
        "tern to have 10.20.0.0/16 from B and C",
        ROUTE,
        || tern_paths(&tern, "10.20.0.0/16").unwrap_or_default(),
        |(_, p)| p.len() == 2,
    );
    let best = paths.iter().find(|p| p.selected).unwrap();
    assert_eq!((best.from.as_str(), reason.as_str()), ("c4", "lowest MED"), "{paths:#?}");
    assert_eq!(best.route.med, Some(10));

    // At A (iBGP): tern's origins with their LOCAL_PREF; B's and C's routes with their MED
    // and LOCAL_PREF 100.
    for o in &origins {
        let r = peer_route(&pa, &o.prefix, "tern's origin over iBGP", |_| true);
        assert_attrs("A", &r, &[], o);
        assert_eq!(r.local_pref, o.local_pref, "A: the origin's LOCAL_PREF: {r:?}");
        assert_med::<P>("A", &r, o.med);
    }
    let r = peer_route(&pa, "10.20.0.0/16", "C's path", |_| true);
    assert_eq!((r.as_path.as_slice(), r.med, r.local_pref), (&[65002][..], Some(10), Some(100)), "A: C's path: {r:?}");
    assert_eq!(r.communities, ["65002:10"]);
    assert_eq!(r.next_hop, TERN_NH4);
    let r = peer_route(&pa, "2001:db8:b::/48", "B's IPv6 path", |_| true);
    assert_eq!((r.as_path.as_slice(), r.med, r.local_pref), (&[65002][..], Some(30), Some(100)), "A: B's path: {r:?}");
    assert_eq!(r.large, ["65002:3:0"]);

    // At B (eBGP): A's iBGP route with tern's AS, no LOCAL_PREF, communities intact.
    let r = peer_route(&pb, "203.0.113.0/24", "A's iBGP route", |_| true);
    assert_attrs("B", &r, &[TERN_ASN], &a_routes[0]);
    assert_no_local_pref::<P>("B", &r);
    let r = peer_route(&pb, "2001:db8:a::/48", "A's iBGP route", |_| true);
    assert_attrs("B", &r, &[TERN_ASN], &a_routes[1]);

    // C withdraws: B's path is left, and A sees B's MED.
    pc.withdraw("10.20.0.0/16");
    let (reason, _) = tern_best(&tern, "10.20.0.0/16", "b4", |_| true);
    assert_eq!(reason, "only path");
    let r = peer_route(&pa, "10.20.0.0/16", "B's path after C's withdrawal", |r| r.med == Some(20));
    assert_eq!(r.communities, ["65002:20"]);

    // A never gets its own (iBGP) routes back.
    let got = pa.received();
    for ann in &a_routes {
        assert!(
            !got.iter().any(|r| r.prefix == ann.prefix && r.as_path.is_empty()),
            "A got {} back: {got:?}",
            ann.prefix
        );
    }
}

/// The peer killed (SIGKILL) and started again: tern sees the session go and come back, and
/// routes flow again both ways. Then `ternctl disable NAME --message` and ternd's SIGTERM
/// (RFC 9003 shutdown communication): the peer shows the message where it can.
pub fn restart_and_shutdown<P: Peer>() {
    let ns = namespace("restart");
    let a_routes = [
        Announce::new("203.0.113.0/24").communities(&["65002:7"]),
        Announce::new("2001:db8:a::/48").large(&["65002:6:6"]),
    ];
    let a = Spec::new("a", 2, 65002).announce(a_routes[0].clone()).announce(a_routes[1].clone());
    let origins = [Announce::new("198.51.100.0/24").communities(&["65001:100"]), Announce::new("2001:db8:100::/48")];
    let mut tern = start_tern(&ns, "ix-restart", &[&a], &origins);
    let mut pa = P::start(&ns, a.clone());
    wait_up(&tern, &pa);
    let both_ways = |pa: &P, tern: &Ternd| {
        for ann in &a_routes {
            let (_, p) = tern_best(tern, &ann.prefix, &a.session(ann.af()), |_| true);
            assert_attrs("tern", &p.route, &[65002], ann);
        }
        for o in &origins {
            let r = peer_route(pa, &o.prefix, "tern's origin", |_| true);
            assert_attrs(P::KIND, &r, &[TERN_ASN], o);
        }
    };
    both_ways(&pa, &tern);

    // Killed: tern notices (the kernel closes the connections), drops the routes.
    pa.kill();
    for af in [Af::V4, Af::V6] {
        wait_until(
            &format!("tern to see {} go down", a.session(af)),
            Duration::from_secs(15),
            || tern.neighbor(&a.session(af)),
            |n| n["state"] != "established",
        );
    }
    tern_lacks(&tern, "203.0.113.0/24");
    tern_lacks(&tern, "2001:db8:a::/48");
    // Started again: back, with the routes both ways.
    pa.restart();
    wait_up(&tern, &pa);
    both_ways(&pa, &tern);
    for af in [Af::V4, Af::V6] {
        assert_eq!(tern.neighbor(&a.session(af))["established_count"], 2, "{af:?}");
    }

    // ternctl disable with a message (RFC 9003).
    let message = "interop maintenance 42";
    tern.ctl_ok(&["disable", "a4", "--message", message]);
    // FRR shows it only until its next connection attempt is refused: poll often.
    let t0 = Instant::now();
    let mut seen = None;
    while t0.elapsed() < Duration::from_secs(10) && seen.is_none() {
        seen = pa.shutdown_message(Af::V4).filter(|m| m == message);
        std::thread::sleep(Duration::from_millis(25));
    }
    assert_eq!(
        seen.as_deref(),
        Some(message),
        "{} shows the shutdown message in {}",
        P::KIND,
        pa.shutdown_message_shown_in()
    );
    peer_lacks(&pa, "198.51.100.0/24");
    tern_lacks(&tern, "203.0.113.0/24");
    assert!(tern.has_route("2001:db8:a::/48"), "the IPv6 session is untouched");
    tern.ctl_ok(&["enable", "a4"]);
    wait_up(&tern, &pa);
    peer_route(&pa, "198.51.100.0/24", "after enable", |_| true);

    // ternd stops on SIGTERM with "tern is shutting down".
    let (status, _) = tern.stop();
    assert!(status.success(), "ternd exit status {status}");
    let t0 = Instant::now();
    let mut seen = None;
    while t0.elapsed() < Duration::from_secs(10) && seen.is_none() {
        seen = pa.shutdown_message(Af::V6).filter(|m| m == "tern is shutting down");
        std::thread::sleep(Duration::from_millis(25));
    }
    assert_eq!(
        seen.as_deref(),
        Some("tern is shutting down"),
        "{} shows ternd's shutdown message in {}",
        P::KIND,
        pa.shutdown_message_shown_in()
    );
}

/// TCP-MD5 (RFC 2385): A has tern's key, B a wrong one. A's session comes up and its route
/// arrives; B's never does.
pub fn md5<P: Peer>() {
    let ns = namespace("md5");
    let key = "tern-interop-md5";
    let a = Spec::new("a", 2, 65002)
        .only(Af::V4)
        .md5(key)
        .tern_extra(&format!("md5_key = \"{key}\""))
        .announce(Announce::new("203.0.113.0/24").communities(&["65002:5"]));
    let b = Spec::new("b", 3, 65003)
        .only(Af::V4)
        .md5("not-the-key")
        .tern_extra(&format!("md5_key = \"{key}\""))
        .announce(Announce::new("192.0.2.0/24"));
    let t0 = Instant::now();
    let tern = start_tern(&ns, "ix-md5", &[&a, &b], &[Announce::new("198.51.100.0/24")]);
    let pa = P::start(&ns, a.clone());
    let pb = P::start(&ns, b.clone());
    wait_up(&tern, &pa);
    tern_best(&tern, "203.0.113.0/24", "a4", |p| p.route.communities == ["65002:5"]);
    peer_route(&pa, "198.51.100.0/24", "over the MD5 session", |_| true);
    // Many connection attempts (both sides retry every second) over at least 8 s: none
    // gets through.
    std::thread::sleep(Duration::from_secs(8).saturating_sub(t0.elapsed()));
    let n = tern.neighbor("b4");
    assert_ne!(n["state"], "established", "{n}");
    assert_eq!(n["established_count"], 0, "{n}");
    assert_eq!(n["received"]["open"], 0, "no OPEN gets through a wrong key: {n}");
    assert!(!pb.established(Af::V4), "{} says the session with a wrong key is up", P::KIND);
    assert!(!tern.has_route("192.0.2.0/24"));
    assert_eq!(tern.neighbor("a4")["established_count"], 1);
}

/// ADD-PATH (RFC 7911) with C, a peer of the implementation that receives several paths
/// (and sends several, where the implementation can originate them: tern's neighbor then has
/// `add_path = "both"`, else `"send"`):
/// - A (AS 65002) and B (AS 65003) announce one prefix: C receives both paths from tern,
///   each with its own AS_PATH and communities; D, without ADD-PATH, only the best (A's, on
///   the lower identifier); after A withdraws, only B's is left at C;
/// - C announces one prefix twice (MED 10 and 20, one neighbor AS): tern keeps both paths
///   under distinct path ids and picks the lower MED; D gets that one.
pub fn add_path<P: Peer>() {
    let ns = namespace("addpath");
    let p = "203.0.113.0/24";
    let q = "192.0.2.0/24";
    let a = Spec::new("a", 2, 65002).only(Af::V4).announce(Announce::new(p).communities(&["65002:1"]));
    let b = Spec::new("b", 3, 65003).only(Af::V4).announce(Announce::new(p).communities(&["65003:1"]));
    let mut c = Spec::new("c", 4, 65004).only(Af::V4);
    if P::SENDS_SEVERAL_PATHS {
        c = c
            .add_path(AddPath::Both)
            .tern_extra("add_path = \"both\"")
            .announce(Announce::new(q).communities(&["65004:1"]).med(10))
            .announce(Announce::new(q).communities(&["65004:2"]).med(20));
    } else {
        c = c.add_path(AddPath::Receive).tern_extra("add_path = \"send\"");
    }
    let d = Spec::new("d", 5, 65005).only(Af::V4);
    let tern = start_tern(&ns, "ix-addpath", &[&a, &b, &c, &d], &[]);
    let mut pa = P::start(&ns, a.clone());
    let pb = P::start(&ns, b.clone());
    let pc = P::start(&ns, c.clone());
    let pd = P::start(&ns, d.clone());
    for peer in [&pa, &pb, &pc, &pd] {
        wait_up(&tern, peer);
    }
    let caps = tern.neighbor("c4")["capabilities"].to_string();
    assert!(caps.to_lowercase().contains("add"), "ADD-PATH negotiated with C: {caps}");

    // Both paths of P reach C; D gets the best one only.
    let routes = wait_until(
        &format!("{} C to receive two paths for {p}", P::KIND),
        ROUTE,
        || pc.received().into_iter().filter(|r| r.prefix == p).collect::<Vec<_>>(),
        |rs| rs.len() == 2,
    );
    let mut seen: Vec<(Vec<u32>, Vec<String>)> =
        routes.iter().map(|r| (r.as_path.clone(), r.communities.clone())).collect();
    seen.sort();
    assert_eq!(
        seen,
        [(vec![TERN_ASN, 65002], vec!["65002:1".to_string()]), (vec![TERN_ASN, 65003], vec!["65003:1".to_string()])],
        "{routes:#?}"
    );
    let r = peer_route(&pd, p, "the best path", |_| true);
    assert_eq!(r.as_path, [TERN_ASN, 65002], "{r:?}");
    assert_eq!(pd.received().iter().filter(|r| r.prefix == p).count(), 1, "one path to a peer without ADD-PATH");

    if P::SENDS_SEVERAL_PATHS {
        // Both of C's paths of Q in tern, the lower MED selected.
        let (reason, paths) = wait_until(
            &format!("tern to have two paths for {q} from C"),
            ROUTE,
            || tern_paths(&tern, q).unwrap_or_default(),
            |(_, ps)| ps.len() == 2,
        );
        assert!(paths.iter().all(|x| x.from == "c4"), "{paths:#?}");
        assert_ne!(paths[0].path_id, paths[1].path_id, "{paths:#?}");
        let best = paths.iter().find(|x| x.selected).unwrap();
        assert_eq!(
            (best.route.med, best.route.communities.as_slice(), reason.as_str()),
            (Some(10), &["65004:1".to_string()][..], "lowest MED"),
            "{paths:#?}"
        );
        let r = peer_route(&pd, q, "C's best path", |_| true);
        assert_eq!(
            (r.as_path.as_slice(), r.communities.as_slice()),
            (&[TERN_ASN, 65004][..], &["65004:1".to_string()][..])
        );
        assert_eq!(pd.received().iter().filter(|r| r.prefix == q).count(), 1, "one path to a peer without ADD-PATH");
    }

    // A withdraws: C keeps only B's path.
    pa.withdraw(p);
    let routes = wait_until(
        &format!("{} C to keep only B's path for {p}", P::KIND),
        ROUTE,
        || pc.received().into_iter().filter(|r| r.prefix == p).collect::<Vec<_>>(),
        |rs| rs.len() == 1,
    );
    assert_eq!(routes[0].as_path, [TERN_ASN, 65003], "{routes:#?}");
    let r = peer_route(&pd, p, "B's path, now the best", |r| r.as_path == [TERN_ASN, 65003]);
    assert_eq!(r.communities, ["65003:1"]);
}

/// Route refresh (RFC 2918; enhanced, RFC 7313, where the peer offers it) on both families:
/// `ternctl reset NAME --soft-in` sends the peer a ROUTE-REFRESH, and the peer sends its
/// routes again (tern counts the UPDATEs); the peer's own soft reset in (where it has one
/// that sends ROUTE-REFRESH) asks tern, which counts it and sends its routes again. No
/// session is reset, no route lost.
pub fn route_refresh<P: Peer>() {
    let ns = namespace("refresh");
    let a = Spec::new("a", 2, 65002)
        .announce(Announce::new("203.0.113.0/24").communities(&["65002:1"]))
        .announce(Announce::new("2001:db8:a::/48").communities(&["65002:6"]));
    let origins = [Announce::new("198.51.100.0/24").communities(&["65001:1"]), Announce::new("2001:db8:100::/48")];
    let tern = start_tern(&ns, "ix-refresh", &[&a], &origins);
    let pa = P::start(&ns, a.clone());
    wait_up(&tern, &pa);
    for af in [Af::V4, Af::V6] {
        let s = a.session(af);
        let mine = &a.announce.iter().find(|x| x.af() == af).unwrap().prefix;
        let theirs = &origins.iter().find(|x| x.af() == af).unwrap().prefix;
        tern_best(&tern, mine, &s, |_| true);
        peer_route(&pa, theirs, "tern's origin", |_| true);
        let counter = |dir: &str, kind: &str| tern.neighbor(&s)[dir][kind].as_u64().unwrap();
        let settled = |dir: &str, kind: &str| settle(&format!("{s}: {dir} {kind}"), || counter(dir, kind));

        // tern asks.
        let (up0, rr0) = (settled("received", "update"), counter("sent", "route_refresh"));
        tern.ctl_ok(&["reset", &s, "--soft-in"]);
        wait_until(
            &format!("{s}: tern's ROUTE-REFRESH sent"),
            ROUTE,
            || counter("sent", "route_refresh"),
            |&n| n > rr0,
        );
        if P::ANSWERS_REFRESH {
            wait_until(&format!("{s}: the peer's routes again"), ROUTE, || counter("received", "update"), |&n| n > up0);
        }
        assert!(tern.has_route(mine));

        // The peer asks.
        let (rr0, sent0) = (counter("received", "route_refresh"), settled("sent", "update"));
        if pa.request_refresh(af) {
            wait_until(
                &format!("{s}: the peer's ROUTE-REFRESH"),
                ROUTE,
                || counter("received", "route_refresh"),
                |&n| n > rr0,
            );
            wait_until(&format!("{s}: tern's routes sent again"), ROUTE, || counter("sent", "update"), |&n| n > sent0);
        }
        peer_route(&pa, theirs, "after the refresh", |_| true);
        assert!(pa.established(af));
        assert_eq!(tern.neighbor(&s)["established_count"], 1, "{s} was reset");
    }
}

/// Waits until `read` gives the same value for a second (what was in flight has arrived),
/// and returns it.
pub fn settle(what: &str, mut read: impl FnMut() -> u64) -> u64 {
    let t0 = Instant::now();
    let mut last = (read(), Instant::now());
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let v = read();
        if v != last.0 {
            last = (v, Instant::now());
        } else if last.1.elapsed() >= Duration::from_secs(1) {
            return v;
        }
        assert!(t0.elapsed() < ROUTE, "{what} keeps changing");
    }
}

/// The big one: BIRD originates 100,000 IPv4 prefixes (with a community and a large
/// community), tern learns them all and re-advertises them to GoBGP, which counts them and
/// shows them with their attributes intact; then BIRD withdraws them all and GoBGP's table
/// empties.
#[test]
fn full_table_from_bird_reaches_gobgp_intact() {
    use crate::bird::Bird;
    use crate::gobgp::Gobgp;
    const N: u32 = 100_000;
    let ns = namespace("full");
    let prefix = |i: u32| {
        let a = 0x0b00_0000u32 + (i << 8);
        format!("{}.{}.{}.0/24", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff)
    };
    let mut full = String::with_capacity(N as usize * 40);
    full += "protocol static full {\n  ipv4 { import filter { bgp_community.add((65002,100)); \
             bgp_large_community.add((65002,0,100000)); accept; }; };\n";
    for i in 0..N {
        full += &format!("  route {} blackhole;\n", prefix(i));
    }
    full += "}\n";
    let a = Spec::new("bird", 2, 65002).only(Af::V4);
    let g = Spec::new("gobgp", 3, 65003).only(Af::V4);
    let mut tern = Ternd::in_netns("ix-full", "tern", &ns);
    tern.write_config(&tern_config(&[&a, &g], &[], "info"));
    tern.start();
    let gobgp = Gobgp::start(&ns, g.clone());
    wait_up(&tern, &gobgp);
    let t0 = Instant::now();
    let bird = Bird::start_with(&ns, a.clone(), &full);
    assert_eq!(bird.route_count(Af::V4), u64::from(N), "BIRD has the table");
    let count = |gobgp: &Gobgp| -> u64 {
        // "Table ipv4-unicast\nDestination: 100000, Path: 100000"
        let s = gobgp.gobgp(&["global", "rib", "summary", "-a", "ipv4"]).unwrap_or_default();
        s.split("Destination:")
            .nth(1)
            .and_then(|r| r.split(',').next())
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    };
    wait_until(
        "tern to have the full table",
        Duration::from_secs(90),
        || tern.ctl_json(&["show", "summary"]).unwrap()["prefixes_ipv4"].as_u64().unwrap(),
        |&n| n == u64::from(N),
    );
    let in_tern = t0.elapsed();
    wait_until("GoBGP to have the full table", Duration::from_secs(90), || count(&gobgp), |&n| n == u64::from(N));
    let in_gobgp = t0.elapsed();
    eprintln!("full table: {N} prefixes in tern after {in_tern:?}, in GoBGP after {in_gobgp:?} (from BIRD's start)");
    let n = gobgp.json(&["neighbor", TERN_V4]);
    let counts = &n["afi_safis"][0]["state"];
    assert_eq!(
        (&counts["received"], &counts["accepted"]),
        (&N.into(), &N.into()),
        "GoBGP's count of what tern sent: {n}"
    );
    // Samples, first, middle and last, with their attributes.
    for i in [0, N / 2 + 7, N - 1] {
        let p = prefix(i);
        let v = gobgp.json(&["global", "rib", "-a", "ipv4", &p]);
        let path = &v[&p][0];
        let r = crate::gobgp::route_from(&p, path);
        assert_eq!(r.as_path, [TERN_ASN, 65002], "{p}: {r:?}");
        assert_eq!(r.next_hop, TERN_NH4, "{p}: {r:?}");
        assert_eq!(r.communities, ["65002:100"], "{p}: {r:?}");
        assert_eq!(r.large, ["65002:0:100000"], "{p}: {r:?}");
        assert_eq!((r.med, r.local_pref), (None, None), "{p}: {r:?}");
    }
    assert_eq!(tern.neighbor("bird4")["established_count"], 1);
    assert_eq!(tern.neighbor("gobgp4")["established_count"], 1);

    // All withdrawn at once.
    must({
        let mut c = std::process::Command::new("ip");
        c.args(["netns", "exec", ns.name(), "birdc", "-s"]).arg(bird.ctl()).args(["disable", "full"]);
        c
    });
    wait_until("GoBGP's table to empty", Duration::from_secs(60), || count(&gobgp), |&n| n == 0);
    assert_eq!(tern.ctl_json(&["show", "summary"]).unwrap()["prefixes_ipv4"], 0);
    tern.stop();
}
