//! The reference scenario over real TCP on loopback, and TCP-MD5 and GTSM. Each test uses
//! its own 127.x.y.z addresses on port 179, so tests run in parallel without clashing.

mod harness;

use std::sync::Arc;
use std::time::Duration;

use harness::{established, ip, reference_router, reference_scenario, status, wait_for};
use tern::connection::tcp::Tcp;

#[test]
fn reference_session_over_tcp() {
    reference_scenario(Arc::new(Tcp), ip("127.0.10.1"), ip("127.0.10.2"), 1, 2, false, Duration::from_secs(7));
}

#[test]
fn forced_collision_over_tcp_both_orders() {
    reference_scenario(Arc::new(Tcp), ip("127.0.11.1"), ip("127.0.11.2"), 1, 2, true, Duration::from_secs(4));
    reference_scenario(Arc::new(Tcp), ip("127.0.12.1"), ip("127.0.12.2"), 2, 1, true, Duration::from_secs(4));
}

/// Two routers with the given MD5 keys: whether they reach Established within `limit`.
fn md5_pair(a: &str, b: &str, key_a: Option<&str>, key_b: Option<&str>, limit: Duration) -> bool {
    let (a, b) = (ip(a), ip(b));
    let (mut ra, mut na) = reference_router(Arc::new(Tcp), 4200000001, 1, a, b, 4200000002);
    let (mut rb, mut nb) = reference_router(Arc::new(Tcp), 4200000002, 2, b, a, 4200000001);
    na.md5_key = key_a.map(str::to_string);
    nb.md5_key = key_b.map(str::to_string);
    ra.add_neighbor(na).unwrap();
    rb.add_neighbor(nb).unwrap();
    let up = wait_for(limit, || established(&ra, b) && established(&rb, a));
    if !up {
        // Nothing got through: not a single message was received on either side.
        assert_eq!(status(&ra, b).received.total() + status(&rb, a).received.total(), 0);
    }
    ra.shutdown(None);
    rb.shutdown(None);
    up
}

#[test]
fn md5_matching_keys_establish() {
    assert!(md5_pair("127.0.13.1", "127.0.13.2", Some("s3cret"), Some("s3cret"), Duration::from_secs(10)));
}

#[test]
fn md5_wrong_or_missing_key_never_establishes() {
    assert!(!md5_pair("127.0.14.1", "127.0.14.2", Some("s3cret"), Some("other"), Duration::from_secs(4)));
    assert!(!md5_pair("127.0.15.1", "127.0.15.2", Some("s3cret"), None, Duration::from_secs(4)));
}

#[test]
fn gtsm_between_two_routers_establishes() {
    let (a, b) = (ip("127.0.16.1"), ip("127.0.16.2"));
    let (mut ra, mut na) = reference_router(Arc::new(Tcp), 4200000001, 1, a, b, 4200000002);
    let (mut rb, mut nb) = reference_router(Arc::new(Tcp), 4200000002, 2, b, a, 4200000001);
    na.ttl_security = Some(1);
    nb.ttl_security = Some(1);
    ra.add_neighbor(na).unwrap();
    rb.add_neighbor(nb).unwrap();
    assert!(wait_for(Duration::from_secs(10), || established(&ra, b) && established(&rb, a)));
    ra.shutdown(None);
    rb.shutdown(None);
}

/// A hand-made peer that sends its packets with `ttl`: with GTSM on, tern must hear its
/// OPEN only when the TTL is 255.
fn gtsm_peer_with_ttl(a: &str, b: &str, ttl: u32) -> bool {
    use socket2::{Domain, Socket, Type};
    use std::io::{Read, Write};
    use std::net::SocketAddr;
    use tern::fsm::{local_open, SessionConfig, State};
    use tern::wire::{Ctx, Message};

    let (a, b) = (ip(a), ip(b));
    let (mut ra, mut na) = reference_router(Arc::new(Tcp), 4200000001, 1, a, b, 4200000002);
    na.ttl_security = Some(1);
    na.session.passive = true;
    ra.add_neighbor(na).unwrap();

    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    sock.bind(&SocketAddr::new(b, 0).into()).unwrap();
    sock.set_ttl(ttl).unwrap();
    sock.connect(&SocketAddr::new(a, 179).into()).unwrap();
    let mut stream: std::net::TcpStream = sock.into();
    // tern speaks first (no DelayOpen): once its OPEN is here, GTSM is set on its socket.
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).unwrap();
    assert!(n >= 29 && buf[18] == 1, "tern's OPEN arrives");
    let peer = SessionConfig::new(4200000002, "0.0.0.2".parse().unwrap(), Some(4200000001));
    stream.write_all(&Message::Open(local_open(&peer)).to_bytes(&Ctx::pre_open()).unwrap()).unwrap();
    let heard = wait_for(Duration::from_secs(3), || status(&ra, b).state == State::OpenConfirm);
    if !heard {
        assert_eq!(status(&ra, b).received.open, 0);
        assert_eq!(status(&ra, b).state, State::OpenSent);
    }
    drop(stream);
    ra.shutdown(None);
    heard
}

#[test]
fn gtsm_drops_a_peer_one_hop_too_far() {
    assert!(!gtsm_peer_with_ttl("127.0.17.1", "127.0.17.2", 254));
    assert!(gtsm_peer_with_ttl("127.0.18.1", "127.0.18.2", 255));
}

#[test]
fn connections_from_unknown_addresses_are_refused_and_counted() {
    let (a, b) = (ip("127.0.19.1"), ip("127.0.19.2"));
    let (ra, _) = reference_router(Arc::new(Tcp), 4200000001, 1, a, b, 4200000002);
    let s = std::net::TcpStream::connect((a, 179)).unwrap();
    assert!(wait_for(Duration::from_secs(3), || ra.unknown_connections() == 1));
    drop(s);
    ra.shutdown(None);
}
