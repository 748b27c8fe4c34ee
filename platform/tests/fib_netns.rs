//! Kernel routes through `tern_platform::fib`, checked with `ip route`, each test inside a
//! network namespace of its own (`tern-fib-<pid>-<n>`) that it creates and deletes. The
//! host's own namespace and routing tables are never touched: the Fib runs on a thread that
//! has entered the test's namespace, and every `ip` command names it with `-n`.
//!
//! Needs root and iproute2 with `ip netns`; otherwise each test prints a note and passes.
#![cfg(target_os = "linux")]

use std::io;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use tern_platform::fib::{self, Change, Fib, Route, Settings};

/// Our table: above 255, so `RTA_TABLE` carries it.
const TABLE: u32 = 1000;
const METRIC: u32 = 20;

fn settings() -> Settings {
    Settings { table: TABLE, metric: METRIC, protocol: fib::PROTO_BGP }
}

/// A network namespace with an interface `d0` holding 10.200.1.1/24 and
/// fd00:200::1/64; deleted on drop, also when the test panics.
struct Netns {
    name: String,
}

impl Netns {
    /// `None` (after a note on stderr) when namespaces cannot be made here.
    fn new() -> Option<Netns> {
        static N: AtomicUsize = AtomicUsize::new(0);
        if !is_root() {
            eprintln!("note: not root; kernel route tests skipped");
            return None;
        }
        let name = format!("tern-fib-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        match Command::new("ip").args(["netns", "add", &name]).output() {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                eprintln!(
                    "note: `ip netns add` failed ({}); kernel route tests skipped",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                return None;
            }
            Err(e) => {
                eprintln!("note: cannot run `ip` ({e}); kernel route tests skipped");
                return None;
            }
        }
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        // A veth pair with both ends inside: d0 has carrier as soon as d1 is up. (Not a dummy
        // interface: some kernels, this sandbox's among them, are built without it.)
        ns.ip(&["link", "add", "d0", "type", "veth", "peer", "name", "d1"]);
        ns.ip(&["link", "set", "d1", "up"]);
        ns.ip(&["link", "set", "d0", "up"]);
        ns.ip(&["addr", "add", "10.200.1.1/24", "dev", "d0"]);
        ns.ip(&["-6", "addr", "add", "fd00:200::1/64", "dev", "d0", "nodad"]);
        Some(ns)
    }

    fn path(&self) -> PathBuf {
        PathBuf::from("/var/run/netns").join(&self.name)
    }

    /// Runs `ip -n NS ARGS`, which must succeed; returns its output.
    fn ip(&self, args: &[&str]) -> String {
        let out = Command::new("ip").args(["-n", &self.name]).args(args).output().expect("run ip");
        assert!(out.status.success(), "ip -n {} {:?}: {}", self.name, args, String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    /// Our table as `ip` shows it, one family.
    fn routes(&self, family: &str, extra: &[&str]) -> String {
        let table = TABLE.to_string();
        let mut args = vec![family, "route", "show", "table", &table];
        args.extend_from_slice(extra);
        self.ip(&args)
    }

    /// Runs `f` with a Fib opened inside the namespace, on a thread of its own.
    fn with_fib<T: Send + 'static>(&self, settings: Settings, f: impl FnOnce(&mut Fib) -> T + Send + 'static) -> T {
        let path = self.path();
        std::thread::spawn(move || {
            fib::enter_netns(&path).expect("enter the test's namespace");
            let mut fib = Fib::open(settings).expect("open the FIB");
            f(&mut fib)
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2) == Some("0")))
        .unwrap_or(false)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn route(dst: &str, len: u8, hops: &[&str]) -> Route {
    Route { dst: ip(dst), len, next_hops: hops.iter().map(|h| ip(h)).collect() }
}

fn replace(dst: &str, len: u8, hops: &[&str]) -> Change {
    Change::Replace(route(dst, len, hops))
}

fn delete(dst: &str, len: u8) -> Change {
    Change::Delete { dst: ip(dst), len }
}

/// Applies a batch that must succeed entirely.
fn apply_ok(fib: &mut Fib, batch: &[Change]) {
    let failures = fib.apply(batch).expect("netlink socket");
    assert!(failures.is_empty(), "failures: {failures:?}");
}

#[test]
fn install_replace_and_delete_ipv4_and_ipv6() {
    let Some(ns) = Netns::new() else { return };
    ns.with_fib(settings(), |fib| {
        apply_ok(fib, &[replace("198.51.100.0", 24, &["10.200.1.2"]), replace("2001:db8:1::", 48, &["fd00:200::2"])]);
    });
    let v4 = ns.routes("-4", &["proto", "bgp"]);
    assert_eq!(v4.trim(), "198.51.100.0/24 via 10.200.1.2 dev d0 metric 20", "{v4}");
    let v6 = ns.routes("-6", &["proto", "bgp"]);
    assert!(v6.contains("2001:db8:1::/48 via fd00:200::2 dev d0 metric 20"), "{v6}");

    // A new best path replaces the route in place.
    ns.with_fib(settings(), |fib| {
        apply_ok(fib, &[replace("198.51.100.0", 24, &["10.200.1.3"]), replace("2001:db8:1::", 48, &["fd00:200::3"])]);
    });
    let v4 = ns.routes("-4", &[]);
    assert_eq!(v4.trim(), "198.51.100.0/24 via 10.200.1.3 dev d0 proto bgp metric 20", "{v4}");
    let v6 = ns.routes("-6", &["proto", "bgp"]);
    assert!(v6.contains("2001:db8:1::/48 via fd00:200::3 dev d0 metric 20"), "{v6}");
    assert!(!v6.contains("fd00:200::2"), "{v6}");

    // Withdrawn: deleted; deleting again (already gone) is no failure.
    ns.with_fib(settings(), |fib| {
        apply_ok(fib, &[delete("198.51.100.0", 24), delete("2001:db8:1::", 48)]);
        apply_ok(fib, &[delete("198.51.100.0", 24), delete("2001:db8:1::", 48)]);
    });
    assert_eq!(ns.routes("-4", &[]).trim(), "");
    assert_eq!(ns.routes("-6", &["proto", "bgp"]).trim(), "");
}

#[test]
fn equal_cost_next_hops_make_one_multipath_route() {
    let Some(ns) = Netns::new() else { return };
    let listed = ns.with_fib(settings(), |fib| {
        apply_ok(
            fib,
            &[
                replace("203.0.113.0", 24, &["10.200.1.2", "10.200.1.3"]),
                replace("2001:db8:2::", 48, &["fd00:200::2", "fd00:200::3"]),
            ],
        );
        fib.list_own().unwrap()
    });
    let v4 = ns.routes("-4", &["proto", "bgp"]);
    let lines: Vec<&str> = v4.lines().map(str::trim).collect();
    assert_eq!(
        lines,
        [
            "203.0.113.0/24 metric 20",
            "nexthop via 10.200.1.2 dev d0 weight 1",
            "nexthop via 10.200.1.3 dev d0 weight 1"
        ],
        "{v4}"
    );
    let v6 = ns.routes("-6", &["proto", "bgp"]);
    let lines: Vec<&str> = v6.lines().map(str::trim).collect();
    assert_eq!(lines[0], "2001:db8:2::/48 metric 20 pref medium", "{v6}");
    assert!(lines[1].starts_with("nexthop via fd00:200::2 dev d0"), "{v6}");
    assert!(lines[2].starts_with("nexthop via fd00:200::3 dev d0"), "{v6}");
    assert_eq!(lines.len(), 3, "{v6}");
    let mut listed = listed;
    listed.sort_by_key(|r| r.dst);
    assert_eq!(
        listed,
        [
            route("203.0.113.0", 24, &["10.200.1.2", "10.200.1.3"]),
            route("2001:db8:2::", 48, &["fd00:200::2", "fd00:200::3"])
        ]
    );

    // Multipath → single path and back, in place; then a withdrawal removes every next hop.
    ns.with_fib(settings(), |fib| {
        apply_ok(fib, &[replace("203.0.113.0", 24, &["10.200.1.4"]), replace("2001:db8:2::", 48, &["fd00:200::4"])]);
    });
    assert_eq!(ns.routes("-4", &[]).trim(), "203.0.113.0/24 via 10.200.1.4 dev d0 proto bgp metric 20");
    let v6 = ns.routes("-6", &["proto", "bgp"]);
    assert_eq!(v6.trim(), "2001:db8:2::/48 via fd00:200::4 dev d0 metric 20 pref medium");
    ns.with_fib(settings(), |fib| {
        apply_ok(
            fib,
            &[
                replace("203.0.113.0", 24, &["10.200.1.5", "10.200.1.6"]),
                replace("2001:db8:2::", 48, &["fd00:200::5", "fd00:200::6"]),
            ],
        );
    });
    let v4 = ns.routes("-4", &[]);
    assert!(
        v4.contains("nexthop via 10.200.1.5") && v4.contains("nexthop via 10.200.1.6") && !v4.contains(".4 "),
        "{v4}"
    );
    let v6 = ns.routes("-6", &["proto", "bgp"]);
    assert!(v6.contains("nexthop via fd00:200::5") && v6.contains("nexthop via fd00:200::6"), "{v6}");
    assert!(!v6.contains("fd00:200::4"), "{v6}");
    ns.with_fib(settings(), |fib| apply_ok(fib, &[delete("203.0.113.0", 24), delete("2001:db8:2::", 48)]));
    assert_eq!(ns.routes("-4", &[]).trim(), "");
    assert_eq!(ns.routes("-6", &["proto", "bgp"]).trim(), "");
}

#[test]
fn a_refused_route_fails_alone() {
    let Some(ns) = Netns::new() else { return };
    let failures = ns.with_fib(settings(), |fib| {
        let batch = [
            replace("198.51.100.0", 24, &["10.200.1.2"]),
            replace("198.51.101.0", 24, &["10.99.0.1"]), // no interface reaches it
            replace("198.51.102.0", 24, &["10.200.1.2"]),
            replace("198.51.103.0", 24, &["fd00:200::2"]), // wrong family: refused before sending
            replace("2001:db8:3::", 48, &["fd00:99::1"]),  // unreachable IPv6 next hop
            replace("198.51.104.1", 24, &["10.200.1.2"]),  // host bits set
            replace("2001:db8:4::", 48, &["fd00:200::2"]),
        ];
        fib.apply(&batch).expect("netlink socket")
    });
    let got: Vec<(usize, Option<i32>, io::ErrorKind)> =
        failures.iter().map(|(i, e)| (*i, fib::errno(e), e.kind())).collect();
    assert_eq!(got.len(), 4, "{failures:?}");
    assert_eq!(got[0], (1, Some(libc::ENETUNREACH), io::ErrorKind::NetworkUnreachable), "{failures:?}");
    assert_eq!(got[1], (3, None, io::ErrorKind::InvalidInput), "{failures:?}");
    assert_eq!(got[2].0, 4, "{failures:?}");
    assert!(matches!(got[2].1, Some(libc::ENETUNREACH) | Some(libc::EHOSTUNREACH)), "{failures:?}");
    assert_eq!(got[3], (5, None, io::ErrorKind::InvalidInput), "{failures:?}");
    eprintln!("the kernel said: {}", failures[0].1);
    let v4 = ns.routes("-4", &["proto", "bgp"]);
    assert!(v4.contains("198.51.100.0/24 via 10.200.1.2") && v4.contains("198.51.102.0/24 via 10.200.1.2"), "{v4}");
    assert_eq!(v4.lines().count(), 2, "{v4}");
    let v6 = ns.routes("-6", &["proto", "bgp"]);
    assert!(v6.contains("2001:db8:4::/48 via fd00:200::2"), "{v6}");
    assert_eq!(v6.lines().count(), 1, "{v6}");
}

#[test]
fn list_and_flush_see_only_our_protocol_in_our_table() {
    let Some(ns) = Netns::new() else { return };
    // Left by "an earlier run": ours (protocol 186, our table, even with another metric)...
    ns.ip(&["route", "add", "192.0.2.0/24", "via", "10.200.1.2", "proto", "bgp", "table", "1000", "metric", "50"]);
    ns.ip(&["-6", "route", "add", "2001:db8:9::/48", "via", "fd00:200::2", "proto", "186", "table", "1000"]);
    // ...and not ours: a static route in our table (same prefix too), bgp routes elsewhere.
    ns.ip(&["route", "add", "192.0.2.0/24", "via", "10.200.1.3", "proto", "static", "table", "1000", "metric", "60"]);
    ns.ip(&["route", "add", "198.18.0.0/15", "via", "10.200.1.3", "proto", "static", "table", "1000"]);
    ns.ip(&["route", "add", "198.18.0.0/15", "via", "10.200.1.3", "proto", "bgp", "table", "main"]);
    ns.ip(&["route", "add", "198.18.0.0/15", "via", "10.200.1.3", "proto", "bgp", "table", "1001"]);
    let (before, removed, after) = ns.with_fib(settings(), |fib| {
        apply_ok(fib, &[replace("203.0.113.0", 24, &["10.200.1.2", "10.200.1.4"])]);
        let before = fib.list_own().unwrap();
        let removed = fib.flush_own().unwrap();
        let after = fib.list_own().unwrap();
        (before, removed, after)
    });
    let mut before = before;
    before.sort_by_key(|r| r.dst);
    assert_eq!(
        before,
        [
            route("192.0.2.0", 24, &["10.200.1.2"]),
            route("203.0.113.0", 24, &["10.200.1.2", "10.200.1.4"]),
            route("2001:db8:9::", 48, &["fd00:200::2"]),
        ]
    );
    assert_eq!(removed, 3);
    assert!(after.is_empty(), "{after:?}");
    let v4 = ns.routes("-4", &[]);
    let lines: Vec<&str> = v4.lines().map(str::trim).collect();
    assert_eq!(
        lines,
        [
            "192.0.2.0/24 via 10.200.1.3 dev d0 proto static metric 60",
            "198.18.0.0/15 via 10.200.1.3 dev d0 proto static"
        ],
        "{v4}"
    );
    assert_eq!(ns.routes("-6", &["proto", "bgp"]).trim(), "");
    assert!(ns.ip(&["route", "show", "table", "main", "proto", "bgp"]).contains("198.18.0.0/15"));
    assert!(ns.ip(&["route", "show", "table", "1001"]).contains("198.18.0.0/15"));
    // Nothing left: flushing again removes nothing; a table never used lists empty.
    assert_eq!(ns.with_fib(settings(), |fib| fib.flush_own().unwrap()), 0);
    let unused = Settings { table: 4242, ..settings() };
    assert!(ns.with_fib(unused, |fib| fib.list_own().unwrap()).is_empty());
}

#[test]
fn main_table_and_a_large_batch() {
    let Some(ns) = Netns::new() else { return };
    const N: u32 = 20_000;
    let main = Settings { table: fib::TABLE_MAIN, metric: 30, protocol: fib::PROTO_BGP };
    let batch: Vec<Change> = (0..N)
        .map(|i| {
            let dst = std::net::Ipv4Addr::from(0x0a00_0000 + (i << 8)); // 10.0.0.0/24 onwards
            Change::Replace(Route { dst: IpAddr::V4(dst), len: 24, next_hops: vec![ip("10.200.1.2")] })
        })
        .collect();
    let (listed, removed) = ns.with_fib(main, move |fib| {
        apply_ok(fib, &batch);
        let listed = fib.list_own().unwrap().len();
        (listed, fib.flush_own().unwrap())
    });
    assert_eq!(listed, N as usize);
    assert_eq!(removed, N as usize);
    assert_eq!(ns.ip(&["route", "show", "table", "main", "proto", "bgp"]).trim(), "");
    // The connected route of d0 is still there.
    assert!(ns.ip(&["route", "show", "table", "main"]).contains("10.200.1.0/24 dev d0"));
}
