//! FRR bgpd (Debian `frr`): the process, its configuration and `vtysh` queries.
//!
//! bgpd runs alone in the foreground: `-Z` without zebra (nothing reaches the kernel),
//! `-l ADDR` for each of its addresses, `-P 0` without the TCP vty, and its vty socket in a
//! private directory (`vtysh --vty_socket DIR -d bgpd`). FRR needs `no bgp
//! ebgp-requires-policy` and `disable-connected-check` on loopback. Each originated prefix is
//! a `network` statement with a route map of its own that sets its attributes; the outbound
//! route maps send only FRR's own prefixes (FRR sends a neighbor's routes back to it) with
//! FRR's benchmarking-range next hop.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::peer::*;
use crate::ternd::{require, tail, wait_for, wait_until, Netns, Process, Signal, TempDir};

const BGPD: &str = "/usr/lib/frr/bgpd";

pub struct Frr {
    spec: Spec,
    ns: String,
    dir: TempDir,
    origins: Vec<Announce>,
    process: Option<Process>,
}

fn route_map_name(prefix: &str) -> String {
    format!("ORIG-{}", prefix.replace(['/', ':', '.'], "-"))
}

fn route_map(a: &Announce) -> Vec<String> {
    let mut lines = vec![format!("route-map {} permit 10", route_map_name(&a.prefix))];
    if !a.communities.is_empty() {
        lines.push(format!(" set community {}", a.communities.join(" ")));
    }
    if !a.large.is_empty() {
        lines.push(format!(" set large-community {}", a.large.join(" ")));
    }
    if let Some(m) = a.med {
        lines.push(format!(" set metric {m}"));
    }
    if let Some(l) = a.local_pref {
        lines.push(format!(" set local-preference {l}"));
    }
    lines
}

fn afi(af: Af) -> &'static str {
    match af {
        Af::V4 => "ipv4",
        Af::V6 => "ipv6",
    }
}

impl Frr {
    fn vtysh_command(&self, cmds: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns, "vtysh", "--vty_socket"]).arg(self.dir.path()).args(["-d", "bgpd"]);
        for cmd in cmds {
            c.arg("-c").arg(cmd);
        }
        c
    }

    /// `vtysh -c CMD...`'s output, `None` when vtysh failed.
    pub fn vtysh(&self, cmds: &[&str]) -> Option<String> {
        output(self.vtysh_command(cmds))
    }

    pub fn json(&self, cmd: &str) -> Value {
        self.vtysh(&[cmd]).and_then(|s| serde_json::from_str(&s).ok()).unwrap_or(Value::Null)
    }

    /// `show bgp neighbors ADDR json` for the session of family `af`.
    pub fn neighbor(&self, af: Af) -> Value {
        let addr = af.tern_address();
        self.json(&format!("show bgp neighbors {addr} json"))[addr].clone()
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("bgpd.conf")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("bgpd.log")).unwrap_or_default()
    }

    fn config(&self) -> String {
        let s = &self.spec;
        let mut c = format!(
            "frr defaults traditional\nhostname frr-{}\nlog stdout informational\n!\n\
             bgp route-map delay-timer 0\n!\nbgp as-path access-list OWN seq 5 permit ^$\n!\n",
            s.name
        );
        for a in &self.origins {
            c += &route_map(a).join("\n");
            c += "\n!\n";
        }
        for &af in &s.afs {
            let set = match af {
                Af::V4 => format!("set ip next-hop {}", s.next_hop(af)),
                Af::V6 => format!("set ipv6 next-hop global {}", s.next_hop(af)),
            };
            c += &format!("route-map TO-TERN{} permit 10\n match as-path OWN\n {set}\n!\n", af.digit());
        }
        c += &format!(
            "router bgp {}\n bgp router-id {}\n no bgp ebgp-requires-policy\n no bgp default ipv4-unicast\n \
             no bgp network import-check\n",
            s.asn,
            s.router_id()
        );
        for &af in &s.afs {
            let t = af.tern_address();
            c += &format!(
                " neighbor {t} remote-as {TERN_ASN}\n neighbor {t} update-source {}\n neighbor {t} disable-connected-check\n \
                 neighbor {t} timers 2 6\n neighbor {t} timers connect 1\n",
                s.address(af)
            );
            if let Some(k) = &s.md5 {
                c += &format!(" neighbor {t} password {k}\n");
            }
        }
        for &af in &s.afs {
            let t = af.tern_address();
            c += &format!(" address-family {} unicast\n", afi(af));
            for a in self.origins.iter().filter(|a| a.af() == af) {
                c += &format!("  network {} route-map {}\n", a.prefix, route_map_name(&a.prefix));
            }
            c += &format!("  neighbor {t} activate\n  neighbor {t} route-map TO-TERN{} out\n", af.digit());
            if s.add_path.sends() {
                c += &format!("  neighbor {t} addpath-tx-all-paths\n");
            }
            c += " exit-address-family\n";
        }
        c += "!\n";
        c
    }

    fn launch(&mut self) {
        std::fs::write(self.conf(), self.config()).unwrap();
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns, BGPD, "-f"])
            .arg(self.conf())
            .arg("-i")
            .arg(self.dir.path().join("bgpd.pid"))
            .arg("--vty_socket")
            .arg(self.dir.path())
            .args(["-Z", "-S", "-p", "179", "-P", "0"]);
        for &af in &self.spec.afs {
            cmd.arg("-l").arg(self.spec.address(af));
        }
        self.process =
            Some(Process::spawn(&format!("bgpd {}", self.spec.name), cmd, &self.dir.path().join("bgpd.log")));
        wait_for(&format!("FRR {} to answer on its vty socket", self.spec.name), Duration::from_secs(30), || {
            assert!(self.process.as_mut().unwrap().running(), "bgpd exited:\n{}", self.log());
            self.vtysh(&["show bgp summary"]).is_some()
        });
    }

    /// `vtysh -c 'configure terminal' -c ... ` inside `router bgp`, address family of `af`.
    fn configure_af(&self, af: Af, lines: &[String]) {
        let head = [
            "configure terminal".to_string(),
            format!("router bgp {}", self.spec.asn),
            format!("address-family {} unicast", afi(af)),
        ];
        let all: Vec<&str> = head.iter().chain(lines).map(String::as_str).collect();
        must(self.vtysh_command(&all));
    }

    /// A message counter of the session of family `af` (`updatesRecv`, `routeRefreshRecv`...).
    pub fn counter(&self, af: Af, name: &str) -> u64 {
        self.neighbor(af)["messageStats"][name].as_u64().unwrap_or(0)
    }
}

fn route_from(prefix: &str, p: &Value) -> Route {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect()).unwrap_or_default()
    };
    Route {
        prefix: prefix.into(),
        as_path: p["aspath"]["segments"]
            .as_array()
            .map(|segs| segs.iter().flat_map(|s| s["list"].as_array().cloned().unwrap_or_default()).collect::<Vec<_>>())
            .unwrap_or_default()
            .iter()
            .filter_map(|a| a.as_u64().map(|a| a as u32))
            .collect(),
        next_hop: p["nexthops"][0]["ip"].as_str().unwrap_or_default().into(),
        med: p["metric"].as_u64().map(|m| m as u32),
        local_pref: p["locPrf"].as_u64().or(p["localpref"].as_u64()).map(|m| m as u32),
        communities: strings(&p["community"]["list"]),
        large: strings(&p["largeCommunity"]["list"]),
    }
    .normalize()
}

impl Peer for Frr {
    const KIND: &'static str = "FRR";
    const SHOWS_ABSENT_LOCAL_PREF: bool = true;
    const SHOWS_ABSENT_MED: bool = true;
    const SENDS_SEVERAL_PATHS: bool = false;
    /// FRR 8.4 counts tern's ROUTE-REFRESH but does not answer it (see
    /// `ternctl_soft_in_and_policy_reload_make_frr_send_its_routes_again`).
    const ANSWERS_REFRESH: bool = false;

    fn start(ns: &Netns, spec: Spec) -> Frr {
        require(BGPD, "frr");
        require("vtysh", "frr");
        let mut f = Frr {
            ns: ns.name().into(),
            dir: TempDir::new(&format!("frr-{}", spec.name)),
            origins: spec.announce.clone(),
            process: None,
            spec,
        };
        f.launch();
        f
    }

    fn spec(&self) -> &Spec {
        &self.spec
    }

    fn established(&self, af: Af) -> bool {
        self.neighbor(af)["bgpState"] == "Established"
    }

    fn received(&self) -> Vec<Route> {
        let mut routes = Vec::new();
        for &af in &self.spec.afs {
            let v = self.json(&format!("show bgp {} unicast json detail", afi(af)));
            let Some(map) = v["routes"].as_object() else { continue };
            for (prefix, entries) in map {
                for p in entries.as_array().into_iter().flatten() {
                    let peer = p["peer"]["peerId"].as_str().unwrap_or_default();
                    if peer == TERN_V4 || peer == TERN_V6 {
                        routes.push(route_from(prefix, p));
                    }
                }
            }
        }
        routes
    }

    fn announce(&mut self, a: Announce) {
        let af = a.af();
        // Route maps are applied when a network statement is made (`bgp route-map
        // delay-timer 0`: FRR would otherwise send its whole table again a few seconds
        // after start, which would blur the counts of the route refresh tests).
        let known = self.origins.iter().any(|o| o.prefix == a.prefix);
        let mut lines = vec![format!("no route-map {}", route_map_name(&a.prefix))];
        lines.extend(route_map(&a));
        lines.push("exit".into());
        lines.push(format!("router bgp {}", self.spec.asn));
        lines.push(format!("address-family {} unicast", afi(af)));
        if known {
            lines.push(format!("no network {}", a.prefix));
        }
        lines.push(format!("network {} route-map {}", a.prefix, route_map_name(&a.prefix)));
        let mut all = vec!["configure terminal".to_string()];
        all.extend(lines);
        must(self.vtysh_command(&all.iter().map(String::as_str).collect::<Vec<_>>()));
        self.origins.retain(|o| o.prefix != a.prefix);
        self.origins.push(a);
    }

    fn withdraw(&mut self, prefix: &str) {
        self.configure_af(Af::of(prefix), &[format!("no network {prefix}")]);
        self.origins.retain(|o| o.prefix != prefix);
    }

    fn kill(&mut self) {
        self.process.take().expect("bgpd runs").stop(Signal::Kill, Duration::from_secs(5));
    }

    fn restart(&mut self) {
        assert!(self.process.is_none());
        self.launch();
    }

    fn request_refresh(&self, af: Af) -> bool {
        must(self.vtysh_command(&[&format!("clear bgp {} {} soft in", afi(af), af.tern_address())]));
        true
    }

    fn shutdown_message(&self, af: Af) -> Option<String> {
        self.neighbor(af)["lastShutdownDescription"].as_str().map(String::from)
    }

    fn shutdown_message_shown_in(&self) -> &'static str {
        "show bgp neighbors ADDR json (lastShutdownDescription; until the next connection attempt)"
    }
}

impl Drop for Frr {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- FRR {} log ---\n{}", self.spec.name, tail(&self.log(), 200));
            eprintln!(
                "--- FRR {} neighbors ---\n{}",
                self.spec.name,
                self.vtysh(&["show bgp neighbors"]).unwrap_or_default()
            );
        }
        drop(self.process.take());
    }
}

crate::scenarios::interop_tests!(Frr);

#[test]
fn md5_right_key_up_wrong_key_down() {
    crate::scenarios::md5::<Frr>();
}

/// tern with FRR A (IPv4) announcing 203.0.113.0/24 and 192.0.2.0/24, tern's import policy
/// refusing the second; returns once FRR has sent both and tern has taken in what it sent.
fn refresh_setup(soft_reconfiguration_inbound: bool) -> (crate::ternd::Netns, crate::ternd::Ternd, Frr) {
    let ns = namespace("frr-refresh");
    let mut a = Spec::new("a", 2, 65002)
        .only(Af::V4)
        .announce(Announce::new("203.0.113.0/24").communities(&["65002:1"]))
        .announce(Announce::new("192.0.2.0/24").communities(&["65002:2"]));
    if soft_reconfiguration_inbound {
        a = a.tern_extra("soft_reconfiguration_inbound = true");
    }
    let mut tern = crate::ternd::Ternd::in_netns("ix-frr-refresh", "tern", &ns);
    tern.write_config(&refresh_config(&a, REFUSE_192));
    tern.start();
    let frr = Frr::start(&ns, a.clone());
    wait_up(&tern, &frr);
    tern_best(&tern, "203.0.113.0/24", "a4", |_| true);
    peer_route(&frr, "198.51.100.0/24", "tern's origin", |_| true);
    wait_until(
        "FRR to have sent both prefixes",
        ROUTE,
        || frr.neighbor(Af::V4)["addressFamilyInfo"]["ipv4Unicast"]["sentPrefixCounter"].as_u64(),
        |n| *n == Some(2),
    );
    crate::scenarios::settle("tern's UPDATEs from FRR", || updates(&tern));
    assert!(!tern.has_route("192.0.2.0/24"), "refused by the import policy");
    (ns, tern, frr)
}

const REFUSE_192: &str =
    "[policy.from-a]\ndefault = \"accept\"\n[[policy.from-a.rule]]\nmatch.prefix = [\"192.0.2.0/24\"]\naction = \"reject\"\n";
const REFUSE_203: &str =
    "[policy.from-a]\ndefault = \"accept\"\n[[policy.from-a.rule]]\nmatch.prefix = [\"203.0.113.0/24\"]\naction = \"reject\"\n";

fn refresh_config(a: &Spec, policy: &str) -> String {
    let s = tern_config(&[a], &[Announce::new("198.51.100.0/24").communities(&["65001:1"])], "debug");
    s.replace("import = \"accept\"", "import = \"from-a\"") + policy
}

fn updates(tern: &crate::ternd::Ternd) -> u64 {
    tern.neighbor("a4")["received"]["update"].as_u64().unwrap()
}

/// FRR asks and sends again: `clear bgp ADDR soft in` sends tern a ROUTE-REFRESH (tern counts
/// it and sends its table again, FRR counts the UPDATEs), `clear bgp ADDR soft out` sends
/// FRR's table again (tern counts the UPDATEs). No reset.
#[test]
fn frr_clear_soft_in_and_out_against_tern() {
    let (_ns, mut tern, frr) = refresh_setup(false);
    let n = tern.neighbor("a4");
    let (trr0, fup0) = (n["received"]["route_refresh"].as_u64().unwrap(), frr.counter(Af::V4, "updatesRecv"));
    must(frr.vtysh_command(&[&format!("clear bgp {TERN_V4} soft in")]));
    wait_until(
        "tern to count FRR's ROUTE-REFRESH",
        ROUTE,
        || tern.neighbor("a4")["received"]["route_refresh"].as_u64().unwrap(),
        |&n| n > trr0,
    );
    wait_until("FRR to receive tern's table again", ROUTE, || frr.counter(Af::V4, "updatesRecv"), |&n| n > fup0);
    peer_route(&frr, "198.51.100.0/24", "after the refresh", |r| r.communities == ["65001:1"]);

    let up1 = updates(&tern);
    must(frr.vtysh_command(&[&format!("clear bgp {TERN_V4} soft out")]));
    wait_until("tern to receive FRR's table again", ROUTE, || updates(&tern), |&n| n > up1);
    assert!(tern.has_route("203.0.113.0/24"));
    assert!(!tern.has_route("192.0.2.0/24"), "still refused");
    assert_eq!(tern.neighbor("a4")["established_count"], 1);
    assert!(frr.established(Af::V4));
    tern.stop();
}

/// `ternctl reset NAME --soft-in` and an import policy changed by `ternctl reload` ask FRR
/// for its routes again (ROUTE-REFRESH): FRR must send them, and the route the new policy
/// accepts must arrive.
///
/// This failed until tern offered the graceful restart capability (with no families): FRR
/// 8.4 holds a refresh from an enhanced-refresh peer (RFC 7313) until it has sent that peer
/// an End-of-RIB ("rcvd route-refresh (REQUEST) for IPv4/unicast before EoR"), which it
/// sends only to peers that offered graceful restart (bgp_packet.c: PEER_CAP_RESTART_RCV;
/// FRR issue #16126). The test also checks that FRR's End-of-RIB is recorded.
#[test]
fn ternctl_soft_in_and_policy_reload_make_frr_send_its_routes_again() {
    let (_ns, mut tern, frr) = refresh_setup(false);
    wait_until(
        "FRR's End-of-RIB",
        ROUTE,
        || tern.neighbor("a4")["end_of_rib"].clone(),
        |e| e.as_array().is_some_and(|a| a.iter().any(|f| f == "ipv4-unicast")),
    );
    let (rr0, up0) = (frr.counter(Af::V4, "routeRefreshRecv"), updates(&tern));
    tern.ctl_ok(&["reset", "a4", "--soft-in"]);
    wait_until("FRR to count tern's ROUTE-REFRESH", ROUTE, || frr.counter(Af::V4, "routeRefreshRecv"), |&n| n > rr0);
    wait_until("FRR's routes again", ROUTE, || updates(&tern), |&n| n > up0);

    tern.write_config(&refresh_config(frr.spec(), "[policy.from-a]\ndefault = \"accept\"\n"));
    tern.ctl_json(&["reload"]).unwrap();
    let (_, p) = tern_best(&tern, "192.0.2.0/24", "a4", |_| true);
    assert_eq!(p.route.communities, ["65002:2"]);
    assert_eq!(tern.neighbor("a4")["established_count"], 1);
    tern.stop();
}

/// Without asking FRR at all: with `soft_reconfiguration_inbound` tern applies a
/// changed import policy to the routes FRR sent before, without asking FRR: the refused
/// route comes in, a newly refused one goes, FRR receives no ROUTE-REFRESH, no reset.
#[test]
fn import_policy_reload_applies_to_frr_routes_with_soft_reconfiguration_inbound() {
    let (_ns, mut tern, frr) = refresh_setup(true);
    let rr0 = frr.counter(Af::V4, "routeRefreshRecv");
    tern.write_config(&refresh_config(frr.spec(), REFUSE_203));
    tern.ctl_json(&["reload"]).unwrap();
    let (_, p) = tern_best(&tern, "192.0.2.0/24", "a4", |_| true);
    assert_eq!(p.route.communities, ["65002:2"]);
    tern_lacks(&tern, "203.0.113.0/24");
    tern.ctl_ok(&["reset", "a4", "--soft-in"]);
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert!(tern.has_route("192.0.2.0/24") && !tern.has_route("203.0.113.0/24"));
    assert_eq!(frr.counter(Af::V4, "routeRefreshRecv"), rr0, "no ROUTE-REFRESH was needed");
    assert_eq!(tern.neighbor("a4")["established_count"], 1);
    tern.stop();
}
