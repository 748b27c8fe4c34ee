//! Kernel routes end to end: ternd in a network namespace of the test's own learns routes
//! from two peers (ternd too) in two other namespaces over veth links, and installs its
//! best routes into that namespace's table, where `ip route show proto bgp` must show them:
//! single routes, an ECMP multipath route, IPv6; a withdrawal removes one; a route via an
//! unreachable next hop is refused by the kernel, reported by ternctl and tried again, and
//! stops nothing; routes an earlier run left are removed at start; stopping ternd removes
//! its routes. Nothing outside the test's namespaces is touched.
//!
//! Needs root (network namespaces); skipped with a note otherwise.

mod ternd;

use std::process::Command;
use std::time::Duration;

use ternd::{wait_for, Netns, Ternd};

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `ip [-6] -n NS route show proto bgp`, as text.
fn kernel_routes(ns: &Netns, v6: bool) -> String {
    let mut c = Command::new("ip");
    if v6 {
        c.arg("-6");
    }
    let out = c.args(["-n", ns.name(), "route", "show", "proto", "bgp"]).output().expect("run ip route");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn config(asn: u32, id: &str, listen: &[&str], extra: &str, neighbors: &[(&str, &str, &str, u32)]) -> String {
    let mut c = ternd::router_config(asn, id, listen, extra, "debug");
    for (name, address, local, remote) in neighbors {
        let family = if address.contains(':') { "ipv6-unicast" } else { "ipv4-unicast" };
        c += &format!(
            "\n[[neighbor]]\nname = \"{name}\"\naddress = \"{address}\"\nlocal_address = \"{local}\"\n\
             remote_asn = {remote}\nfamilies = [\"{family}\"]\nimport = \"accept\"\nexport = \"accept\"\n"
        );
    }
    c
}

#[test]
fn best_routes_go_into_the_kernel_and_leave_it_again() {
    if !is_root() {
        eprintln!("skipped: network namespaces need root");
        return;
    }
    let t = Netns::new("fib-t");
    let p1 = Netns::new("fib-p1");
    let p2 = Netns::new("fib-p2");
    // veth pairs made inside the namespaces: T-P1 (IPv4 and IPv6) and T-P2 (IPv4).
    t.ip(&["link", "add", "vt1", "type", "veth", "peer", "name", "vp", "netns", p1.name()]);
    t.ip(&["link", "add", "vt2", "type", "veth", "peer", "name", "vp", "netns", p2.name()]);
    for (ns, dev, addrs) in [
        (&t, "vt1", &["10.77.1.1/24", "fd77:1::1/64"][..]),
        (&t, "vt2", &["10.77.2.1/24"][..]),
        (&p1, "vp", &["10.77.1.2/24", "fd77:1::2/64"][..]),
        (&p2, "vp", &["10.77.2.2/24"][..]),
    ] {
        for a in addrs {
            if a.contains(':') {
                ns.ip(&["addr", "add", a, "dev", dev, "nodad"]);
            } else {
                ns.ip(&["addr", "add", a, "dev", dev]);
            }
        }
        ns.ip(&["link", "set", dev, "up"]);
    }
    // What an earlier run would have left: a bgp route (to be removed at start) and the
    // operator's static route (to be left alone).
    t.ip(&["route", "add", "10.123.0.0/16", "via", "10.77.1.2", "proto", "bgp", "metric", "20"]);
    t.ip(&["route", "add", "10.124.0.0/16", "via", "10.77.1.2", "proto", "static"]);
    assert!(kernel_routes(&t, false).contains("10.123.0.0/16"));

    let mut rt = Ternd::in_netns("fib", "t", &t);
    rt.write_config(&config(
        65001,
        "10.77.1.1",
        &["10.77.1.1:179", "10.77.2.1:179", "[fd77:1::1]:179"],
        "max_paths = 4\nmultipath_relax = true\n\n[fib]\nenabled = true\ntable = 254\nmetric = 20\n",
        &[
            ("p1", "10.77.1.2", "10.77.1.1", 65002),
            ("p1v6", "fd77:1::2", "fd77:1::1", 65002),
            ("p2", "10.77.2.2", "10.77.2.1", 65003),
        ],
    ));
    let mut r1 = Ternd::in_netns("fib", "p1", &p1);
    r1.write_config(
        &(config(
            65002,
            "10.77.1.2",
            &["10.77.1.2:179", "[fd77:1::2]:179"],
            "",
            &[("t", "10.77.1.1", "10.77.1.2", 65001), ("tv6", "fd77:1::1", "fd77:1::2", 65001)],
        ) + "\n[[origin]]\nprefix = \"198.51.100.0/24\"\n[[origin]]\nprefix = \"203.0.113.0/24\"\n\
             [[origin]]\nprefix = \"2001:db8:77::/48\"\n"),
    );
    let mut r2 = Ternd::in_netns("fib", "p2", &p2);
    // P2 sends one route with a next hop nobody can reach.
    r2.write_config(
        &(config(65003, "10.77.2.2", &["10.77.2.2:179"], "", &[("t", "10.77.2.1", "10.77.2.2", 65001)])
            .replace("export = \"accept\"", "export = \"out\"")
            + "\n[[origin]]\nprefix = \"198.51.100.0/24\"\n[[origin]]\nprefix = \"192.0.2.0/24\"\n\
               [policy.out]\ndefault = \"accept\"\n[[policy.out.rule]]\nmatch.prefix = [\"192.0.2.0/24\"]\n\
               set.next_hop = \"10.99.0.1\"\naction = \"accept\"\n"),
    );
    rt.start();
    wait_for("the leftover bgp route to be removed", Duration::from_secs(5), || {
        !kernel_routes(&t, false).contains("10.123.0.0/16")
    });
    r1.start();
    r2.start();
    for n in ["p1", "p1v6", "p2"] {
        rt.wait_established(n, Duration::from_secs(20));
    }

    // A single route, the ECMP route, IPv6.
    wait_for("routes in the kernel", Duration::from_secs(10), || {
        let v4 = kernel_routes(&t, false);
        v4.contains("203.0.113.0/24 via 10.77.1.2 dev vt1")
            && v4.contains("nexthop via 10.77.1.2 dev vt1")
            && v4.contains("nexthop via 10.77.2.2 dev vt2")
            && kernel_routes(&t, true).contains("2001:db8:77::/48 via fd77:1::2 dev vt1")
    });
    let v4 = kernel_routes(&t, false);
    let ecmp = v4.split("198.51.100.0/24").nth(1).unwrap_or_default();
    assert!(ecmp.contains("nexthop via 10.77.1.2") && ecmp.contains("nexthop via 10.77.2.2"), "{v4}");
    assert!(v4.contains("metric 20"), "{v4}");
    let route = rt.route("203.0.113.0/24").unwrap();
    assert_eq!(route["kernel"], "installed", "{route}");
    assert!(Command::new("ip")
        .args(["-n", t.name(), "route", "show", "10.124.0.0/16"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("proto static")));

    // The unreachable next hop: refused, reported, and nothing else stops.
    wait_for("the refused route to be reported", Duration::from_secs(10), || {
        rt.route("192.0.2.0/24").is_some_and(|r| r["kernel"].as_str().is_some_and(|k| k.starts_with("failed")))
    });
    assert!(!kernel_routes(&t, false).contains("192.0.2.0/24"));
    let metrics = rt.ctl_ok(&["show", "metrics"]);
    assert!(metrics.contains("tern_fib_routes_failing 1"), "{metrics}");

    // A withdrawal removes the route; losing one ECMP peer leaves a single route.
    r1.ctl_ok(&["announce", "192.0.2.128/25"]);
    wait_for("the announced route", Duration::from_secs(10), || kernel_routes(&t, false).contains("192.0.2.128/25"));
    r1.ctl_ok(&["withdraw", "192.0.2.128/25"]);
    wait_for("the withdrawn route to go", Duration::from_secs(10), || {
        !kernel_routes(&t, false).contains("192.0.2.128/25")
    });
    r2.stop();
    wait_for("the ECMP route to lose p2", Duration::from_secs(15), || {
        kernel_routes(&t, false).contains("198.51.100.0/24 via 10.77.1.2 dev vt1")
    });

    // Stopping ternd removes its routes, and only its routes.
    let (status, _) = rt.stop();
    assert!(status.success());
    assert_eq!(kernel_routes(&t, false).trim(), "", "IPv4 routes left behind");
    assert_eq!(kernel_routes(&t, true).trim(), "", "IPv6 routes left behind");
    assert!(Command::new("ip")
        .args(["-n", t.name(), "route", "show", "10.124.0.0/16"])
        .output()
        .is_ok_and(|o| !o.stdout.is_empty()));
    r1.stop();
}

#[test]
fn keep_on_exit_leaves_the_routes_and_a_restart_adopts_them_without_a_gap() {
    if !is_root() {
        eprintln!("skipped: network namespaces need root");
        return;
    }
    let t = Netns::new("fibk-t");
    let p = Netns::new("fibk-p");
    t.ip(&["link", "add", "vt", "type", "veth", "peer", "name", "vp", "netns", p.name()]);
    t.ip(&["addr", "add", "10.78.1.1/24", "dev", "vt"]);
    p.ip(&["addr", "add", "10.78.1.2/24", "dev", "vp"]);
    t.ip(&["link", "set", "vt", "up"]);
    p.ip(&["link", "set", "vp", "up"]);
    let tcfg = config(
        65001,
        "10.78.1.1",
        &["10.78.1.1:179"],
        "\n[fib]\nenabled = true\nkeep_on_exit = true\n",
        &[("p", "10.78.1.2", "10.78.1.1", 65002)],
    );
    let mut rt = Ternd::in_netns("fibk", "t", &t);
    rt.write_config(&tcfg);
    let mut rp = Ternd::in_netns("fibk", "p", &p);
    rp.write_config(
        &(config(65002, "10.78.1.2", &["10.78.1.2:179"], "", &[("t", "10.78.1.1", "10.78.1.2", 65001)])
            + "\n[[origin]]\nprefix = \"198.51.100.0/24\"\n"),
    );
    rt.start();
    rp.start();
    wait_for("the route in the kernel", Duration::from_secs(15), || {
        kernel_routes(&t, false).contains("198.51.100.0/24 via 10.78.1.2")
    });
    // Stopped with keep_on_exit: the route stays (the peer's session going down with it
    // must not turn into a deletion).
    rt.stop();
    assert!(kernel_routes(&t, false).contains("198.51.100.0/24 via 10.78.1.2"), "{}", kernel_routes(&t, false));
    // Started again: the route is adopted, never absent, and still there once relearned.
    rt.start();
    assert!(kernel_routes(&t, false).contains("198.51.100.0/24"));
    rt.wait_established("p", Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(1));
    assert!(kernel_routes(&t, false).contains("198.51.100.0/24 via 10.78.1.2"));
    rt.stop();
    rp.stop();
    // Leave the namespace clean for the guard (it is deleted anyway).
    t.ip(&["route", "flush", "proto", "bgp"]);
}
