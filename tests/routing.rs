//! Routes moving between routers: origination, propagation along a chain, withdrawal, and
//! a failing peer's routes disappearing everywhere. Each scenario runs over the in-memory
//! network; the reference and chain scenarios also over TCP on loopback.

mod harness;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use harness::{established, ip, pfx, wait_for};
use tern::connection::mem::{Mem, MemNetwork};
use tern::connection::tcp::Tcp;
use tern::connection::Transport;
use tern::wire::{AsPath, Origin, PathAttributes, Prefix};
use tern::{NeighborConfig, Router, RouterConfig};

fn router(t: &Arc<dyn Transport>, asn: u32, id: u8, addr: IpAddr) -> Router {
    let mut cfg = RouterConfig::new(asn, Ipv4Addr::new(10, 255, 0, id));
    cfg.listen = vec![SocketAddr::new(addr, 179)];
    Router::start(cfg, t.clone(), tern::log::from_env()).unwrap()
}

fn neighbor(r: &Router, name: &str, addr: IpAddr, asn: u32, local: IpAddr) -> NeighborConfig {
    harness::open_neighbor(r, name, addr, asn, local)
}

/// The best path's attributes at `r` for `p`, once it is there.
fn best(r: &Router, p: Prefix) -> Option<PathAttributes> {
    let info = r.lookup(p)?;
    info.paths.iter().find(|x| x.4).map(|x| x.3.attrs.clone())
}

fn reference_routes(t: Arc<dyn Transport>, a: &str, b: &str) {
    let (a, b) = (ip(a), ip(b));
    let mut r1 = router(&t, 4200000001, 1, a);
    let mut r2 = router(&t, 4200000002, 2, b);
    r1.add_neighbor(neighbor(&r1, "r2", b, 4200000002, a)).unwrap();
    r2.add_neighbor(neighbor(&r2, "r1", a, 4200000001, b)).unwrap();
    assert!(wait_for(Duration::from_secs(15), || established(&r1, b) && established(&r2, a)));

    let p = pfx("1.2.3.0/24");
    r1.announce(p, PathAttributes::default()).unwrap();
    assert!(wait_for(Duration::from_secs(5), || best(&r2, p).is_some()), "r2 never received {p}");
    let got = best(&r2, p).unwrap();
    let IpAddr::V4(a4) = a else { unreachable!() };
    let want = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::sequence([4200000001])),
        next_hop: Some(a4),
        ..Default::default()
    };
    assert_eq!(got, want, "exactly ORIGIN igp, AS path [4200000001], next hop r1");

    r1.withdraw(p).unwrap();
    assert!(wait_for(Duration::from_secs(5), || r2.lookup(p).is_none()), "r2 still has {p}");
    r1.shutdown(None);
    r2.shutdown(None);
}

#[test]
fn reference_route_over_memory() {
    reference_routes(Arc::new(Mem(MemNetwork::new())), "10.0.0.1", "10.0.0.2");
}

#[test]
fn reference_route_over_tcp() {
    reference_routes(Arc::new(Tcp), "127.0.40.1", "127.0.40.2");
}

/// A - B - C, all eBGP: C receives A's prefix with AS path [B, A] and next hop B; A
/// withdraws and C loses it; then A fails and its other prefix disappears from C too.
fn chain(t: Arc<dyn Transport>, a: &str, b: &str, b2: &str, c: &str) {
    let (a, b, b2, c) = (ip(a), ip(b), ip(b2), ip(c));
    let mut ra = router(&t, 65001, 1, a);
    let mut rb = {
        let mut cfg = RouterConfig::new(65002, Ipv4Addr::new(10, 255, 0, 2));
        cfg.listen = vec![SocketAddr::new(b, 179), SocketAddr::new(b2, 179)];
        Router::start(cfg, t.clone(), tern::log::from_env()).unwrap()
    };
    let mut rc = router(&t, 65003, 3, c);
    ra.add_neighbor(neighbor(&ra, "b", b, 65002, a)).unwrap();
    rb.add_neighbor(neighbor(&rb, "a", a, 65001, b)).unwrap();
    rb.add_neighbor(neighbor(&rb, "c", c, 65003, b2)).unwrap();
    rc.add_neighbor(neighbor(&rc, "b", b2, 65002, c)).unwrap();
    assert!(wait_for(Duration::from_secs(15), || established(&ra, b)
        && established(&rb, a)
        && established(&rb, c)
        && established(&rc, b2)));

    let (p, q) = (pfx("198.51.100.0/24"), pfx("2001:db8:100::/48"));
    let mut with_med = PathAttributes { med: Some(50), ..Default::default() };
    with_med.communities = vec![0xfde9_0064]; // 65001:100
    ra.announce(p, with_med).unwrap();
    ra.announce(pfx("203.0.113.0/24"), PathAttributes::default()).unwrap();
    assert!(wait_for(Duration::from_secs(5), || best(&rc, p).is_some()), "C never received {p}");
    let got = best(&rc, p).unwrap();
    let IpAddr::V4(b24) = b2 else { unreachable!() };
    assert_eq!(got.as_path, Some(AsPath::sequence([65002, 65001])));
    assert_eq!(got.next_hop, Some(b24));
    assert_eq!(got.med, None, "MED does not travel beyond the neighboring AS");
    assert_eq!(got.communities, vec![0xfde9_0064], "communities pass through");
    // B has it from A with A's MED.
    assert_eq!(best(&rb, p).unwrap().med, Some(50));
    let _ = q;

    ra.withdraw(p).unwrap();
    assert!(wait_for(Duration::from_secs(5), || rc.lookup(p).is_none()), "C still has {p}");
    assert!(best(&rc, pfx("203.0.113.0/24")).is_some());

    // A fails: B withdraws A's remaining routes from C.
    ra.shutdown(None);
    assert!(
        wait_for(Duration::from_secs(5), || rc.lookup(pfx("203.0.113.0/24")).is_none()),
        "C keeps a route of a failed peer"
    );
    rb.shutdown(None);
    rc.shutdown(None);
}

#[test]
fn chain_over_memory() {
    chain(Arc::new(Mem(MemNetwork::new())), "10.0.1.1", "10.0.1.2", "10.0.2.2", "10.0.2.3");
}

#[test]
fn chain_over_tcp() {
    chain(Arc::new(Tcp), "127.0.41.1", "127.0.41.2", "127.0.42.2", "127.0.42.3");
}

#[test]
fn ebgp_without_policies_exchanges_nothing() {
    let t: Arc<dyn Transport> = Arc::new(Mem(MemNetwork::new()));
    let (a, b) = (ip("10.0.3.1"), ip("10.0.3.2"));
    let mut r1 = router(&t, 65001, 1, a);
    let mut r2 = router(&t, 65002, 2, b);
    let mut n1 = neighbor(&r1, "r2", b, 65002, a);
    n1.rib.export = None; // RFC 8212: nothing is sent
    r1.add_neighbor(n1).unwrap();
    r2.add_neighbor(neighbor(&r2, "r1", a, 65001, b)).unwrap();
    assert!(wait_for(Duration::from_secs(15), || established(&r1, b) && established(&r2, a)));
    let p = pfx("192.0.2.0/24");
    r1.announce(p, PathAttributes::default()).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(r2.lookup(p).is_none());
    r1.shutdown(None);
    r2.shutdown(None);
}

#[test]
fn announcements_made_at_run_time_come_back_after_a_restart() {
    let t: Arc<dyn Transport> = Arc::new(Mem(MemNetwork::new()));
    let (a, b) = (ip("10.0.7.1"), ip("10.0.7.2"));
    let dir = std::env::temp_dir().join(format!("tern-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let start_a = |t: &Arc<dyn Transport>| {
        let mut cfg = RouterConfig::new(65001, Ipv4Addr::new(10, 255, 0, 1));
        cfg.listen = vec![SocketAddr::new(a, 179)];
        cfg.state_dir = Some(dir.clone());
        let mut r = Router::start(cfg, t.clone(), tern::log::from_env()).unwrap();
        r.add_neighbor(neighbor(&r, "b", b, 65002, a)).unwrap();
        r
    };
    let mut rb = router(&t, 65002, 2, b);
    rb.add_neighbor(neighbor(&rb, "a", a, 65001, b)).unwrap();
    let (kept, gone) = (pfx("198.51.100.0/24"), pfx("203.0.113.0/24"));

    let ra = start_a(&t);
    ra.announce(kept, PathAttributes { med: Some(9), ..Default::default() }).unwrap();
    ra.announce(gone, PathAttributes::default()).unwrap();
    ra.withdraw(gone).unwrap();
    assert!(wait_for(Duration::from_secs(10), || rb.lookup(kept).is_some()));
    ra.shutdown(None);
    assert!(wait_for(Duration::from_secs(5), || rb.lookup(kept).is_none()), "gone with the router");

    let ra = start_a(&t);
    assert!(wait_for(Duration::from_secs(10), || rb.lookup(kept).is_some()), "announced again after the restart");
    assert_eq!(best(&rb, kept).unwrap().med, Some(9), "with the attributes it was announced with");
    std::thread::sleep(Duration::from_millis(300));
    assert!(rb.lookup(gone).is_none(), "a withdrawn announcement stays withdrawn");
    ra.shutdown(None);
    rb.shutdown(None);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Shutting a router down in the middle of a large transfer ends promptly and leaves no
/// thread: readers waiting for flow-control credits must not hold the shutdown up.
#[test]
fn shutdown_during_a_large_transfer_is_prompt_and_clean() {
    let t: Arc<dyn Transport> = Arc::new(Mem(MemNetwork::new()));
    let (a, b) = (ip("10.0.8.1"), ip("10.0.8.2"));
    let mut ra = router(&t, 65001, 1, a);
    let mut rb = router(&t, 65002, 2, b);
    ra.add_neighbor(neighbor(&ra, "b", b, 65002, a)).unwrap();
    rb.add_neighbor(neighbor(&rb, "a", a, 65001, b)).unwrap();
    assert!(wait_for(Duration::from_secs(15), || established(&ra, b) && established(&rb, a)));
    // One announcement per call: the sender's RIB flushes after each, so the receiver's
    // reader sees a long stream of small UPDATEs.
    for i in 0..200_000u32 {
        let [_, x, y, z] = (0x0a00_0000 + (i << 8)).to_be_bytes();
        ra.announce(Prefix::v4(11, x, y, z, 24), PathAttributes::default()).unwrap();
    }
    assert!(wait_for(Duration::from_secs(10), || harness::status(&rb, a).prefixes_announced > 1000));
    let threads = rb.threads();
    let (done_tx, done_rx) = crossbeam_channel::bounded(1);
    std::thread::spawn(move || {
        rb.shutdown(None);
        let _ = done_tx.send(());
    });
    assert!(done_rx.recv_timeout(Duration::from_secs(20)).is_ok(), "shutdown hung during a transfer");
    assert_eq!(threads.live(), 0);
    ra.shutdown(None);
}
