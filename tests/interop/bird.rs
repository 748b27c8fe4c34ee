//! BIRD 2 (Debian `bird2`): the process, its configuration and `birdc` queries.
//!
//! BIRD runs in the foreground (`bird -f`) with its own configuration and control socket in
//! a private directory. Its sessions use `strict bind` on the peer's address, `multihop`
//! (BIRD treats a 127.x neighbor as not directly connected) and an IGP table per family
//! holding the benchmarking ranges via `lo`, through which it resolves tern's next hops.
//! Nothing is exported to the kernel: there is no `kernel` protocol.
//!
//! Each originated prefix is a static protocol of its own (`oN`, so that withdrawing one
//! leaves the others untouched; two protocols may carry one prefix, which makes two paths
//! for ADD-PATH). BIRD sends a MED to an eBGP neighbor only when the export filter sets it,
//! so MED and LOCAL_PREF are set there, per protocol.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::peer::{must, output, Af, Announce, Peer, Route, Spec, TERN_ASN};
use crate::ternd::{require, tail, wait_for, Netns, Process, Signal, TempDir};

pub struct Bird {
    spec: Spec,
    ns: String,
    dir: TempDir,
    /// What it originates, each in its static protocol.
    origins: Vec<(String, Announce)>,
    next_origin: u32,
    process: Option<Process>,
    /// Extra configuration text (static protocols of a full table).
    pub extra: String,
}

impl Bird {
    fn birdc_command(&self, cmd: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns, "birdc", "-s"]).arg(self.ctl()).arg(cmd);
        c
    }

    /// `birdc CMD`'s output (`None` when birdc failed: BIRD not up).
    pub fn birdc(&self, cmd: &str) -> Option<String> {
        output(self.birdc_command(cmd))
    }

    pub fn ctl(&self) -> PathBuf {
        self.dir.path().join("bird.ctl")
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("bird.conf")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("bird.log")).unwrap_or_default()
    }

    /// Starts BIRD with `extra` configuration text added (e.g. a big static protocol).
    pub fn start_with(ns: &Netns, spec: Spec, extra: &str) -> Bird {
        require("bird", "bird2");
        require("birdc", "bird2");
        let mut b = Bird {
            ns: ns.name().into(),
            dir: TempDir::new(&format!("bird-{}", spec.name)),
            origins: Vec::new(),
            next_origin: 0,
            process: None,
            extra: extra.into(),
            spec: spec.clone(),
        };
        for a in spec.announce {
            b.add_origin(a);
        }
        b.launch();
        b
    }

    fn add_origin(&mut self, a: Announce) {
        self.origins.push((format!("o{}", self.next_origin), a));
        self.next_origin += 1;
    }

    fn launch(&mut self) {
        std::fs::write(self.conf(), self.config()).unwrap();
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns, "bird", "-f", "-c"])
            .arg(self.conf())
            .arg("-s")
            .arg(self.ctl())
            .arg("-P")
            .arg(self.dir.path().join("bird.pid"));
        let log = self.dir.path().join("bird.log");
        self.process = Some(Process::spawn(&format!("bird {}", self.spec.name), cmd, &log));
        wait_for(&format!("BIRD {} to answer on its control socket", self.spec.name), Duration::from_secs(30), || {
            assert!(self.process.as_mut().unwrap().running(), "BIRD exited:\n{}", self.log());
            self.birdc("show status").is_some_and(|s| s.contains("Daemon is up and running"))
        });
    }

    /// Writes the configuration again and has BIRD load it (`birdc configure`).
    fn reconfigure(&self) {
        std::fs::write(self.conf(), self.config()).unwrap();
        let out = must(self.birdc_command("configure"));
        assert!(out.contains("Reconfigured") || out.contains("Reconfiguration in progress"), "birdc configure: {out}");
    }

    fn config(&self) -> String {
        let s = &self.spec;
        let mut c = format!(
            r#"router id {rid};
log stderr all;
ipv4 table igp4;
ipv6 table igp6;
protocol device {{}}
protocol static igp4s {{ ipv4 {{ table igp4; }}; route 198.18.0.0/15 via "lo"; }}
protocol static igp6s {{ ipv6 {{ table igp6; }}; route 2001:2::/48 via "lo"; }}
"#,
            rid = s.router_id()
        );
        for (name, a) in &self.origins {
            let mut attrs = String::new();
            for com in &a.communities {
                attrs += &format!("bgp_community.add(({})); ", com.replace(':', ","));
            }
            for l in &a.large {
                attrs += &format!("bgp_large_community.add(({})); ", l.replace(':', ","));
            }
            c += &format!(
                "protocol static {name} {{ {}; route {} via \"lo\" {{ {attrs}}}; }}\n",
                if a.af() == Af::V4 { "ipv4" } else { "ipv6" },
                a.prefix
            );
        }
        for &af in &s.afs {
            let mut per_route = String::new();
            for (name, a) in &self.origins {
                let mut set = String::new();
                if let Some(m) = a.med {
                    set += &format!("bgp_med = {m}; ");
                }
                if let Some(l) = a.local_pref {
                    set += &format!("bgp_local_pref = {l}; ");
                }
                if !set.is_empty() {
                    per_route += &format!("    if proto = \"{name}\" then {{ {set}}}\n");
                }
            }
            let d = af.digit();
            let add_paths = match (s.add_path.receives(), s.add_path.sends()) {
                (true, true) => "add paths on;",
                (true, false) => "add paths rx;",
                (false, true) => "add paths tx;",
                (false, false) => "",
            };
            c += &format!(
                r#"filter to_tern{d} {{
    if source != RTS_STATIC then reject;
    bgp_next_hop = {nh};
{per_route}    accept;
}}
protocol bgp tern{d} {{
    local {me} as {asn};
    neighbor {tern} as {tern_asn};
    strict bind yes;
    multihop;
    hold time 6;
    keepalive time 2;
    connect retry time 1;
    error wait time 1, 5;
    {password}
    ipv{d} {{ import all; export filter to_tern{d}; igp table igp{d}; {add_paths} }};
}}
"#,
                nh = s.next_hop(af),
                me = s.address(af),
                asn = s.asn,
                tern = af.tern_address(),
                tern_asn = TERN_ASN,
                password = s.md5.as_ref().map(|k| format!("password \"{k}\";")).unwrap_or_default(),
            );
        }
        c += &self.extra;
        c
    }

    /// `birdc show protocols all terN`.
    pub fn protocol(&self, af: Af) -> String {
        self.birdc(&format!("show protocols all tern{}", af.digit())).unwrap_or_default()
    }

    /// The number of routes in BIRD's table of family `af` (`show route count`).
    pub fn route_count(&self, af: Af) -> u64 {
        let out = self.birdc(&format!("show route table master{} count", af.digit())).unwrap_or_default();
        // "100003 of 100003 routes for 100003 networks in table master4"
        out.lines().find_map(|l| l.split_whitespace().next()?.parse().ok()).unwrap_or(0)
    }
}

/// Parses `birdc show route all`: every route whose protocol is one of the `tern*` BGP
/// sessions.
pub fn parse_routes(text: &str) -> Vec<Route> {
    let mut routes = Vec::new();
    let mut net = String::new();
    let mut current: Option<Route> = None;
    let numbers = |s: &str| -> Vec<Vec<u32>> {
        s.split('(')
            .skip(1)
            .filter_map(|g| g.split(')').next())
            .map(|g| g.split(',').filter_map(|n| n.trim().parse().ok()).collect())
            .collect()
    };
    for line in text.lines() {
        if line.starts_with("BIRD ") || line.starts_with("Table ") || line.trim().is_empty() {
            continue;
        }
        let header = if line.starts_with('\t') {
            None
        } else if line.starts_with(' ') {
            Some(line.trim())
        } else {
            let mut it = line.splitn(2, char::is_whitespace);
            net = it.next().unwrap_or_default().to_string();
            Some(it.next().unwrap_or_default().trim())
        };
        if let Some(h) = header {
            if let Some(r) = current.take() {
                routes.push(r.normalize());
            }
            let proto = h.split('[').nth(1).and_then(|p| p.split_whitespace().next()).unwrap_or_default();
            if proto.starts_with("tern") {
                current = Some(Route { prefix: net.clone(), ..Default::default() });
            }
            continue;
        }
        let Some(r) = current.as_mut() else { continue };
        let Some((key, value)) = line.trim().split_once(':') else { continue };
        let value = value.trim();
        match key {
            "BGP.as_path" => r.as_path = value.split_whitespace().filter_map(|a| a.parse().ok()).collect(),
            "BGP.next_hop" => r.next_hop = value.split_whitespace().next().unwrap_or_default().into(),
            "BGP.med" => r.med = value.parse().ok(),
            "BGP.local_pref" => r.local_pref = value.parse().ok(),
            "BGP.community" => {
                r.communities = numbers(value).iter().map(|n| format!("{}:{}", n[0], n[1])).collect();
            }
            "BGP.large_community" => {
                r.large = numbers(value).iter().map(|n| format!("{}:{}:{}", n[0], n[1], n[2])).collect();
            }
            _ => {}
        }
    }
    if let Some(r) = current.take() {
        routes.push(r.normalize());
    }
    routes
}

impl Peer for Bird {
    const KIND: &'static str = "BIRD";
    const SHOWS_ABSENT_LOCAL_PREF: bool = false;
    const SHOWS_ABSENT_MED: bool = true;
    const SENDS_SEVERAL_PATHS: bool = true;

    fn start(ns: &Netns, spec: Spec) -> Bird {
        Bird::start_with(ns, spec, "")
    }

    fn spec(&self) -> &Spec {
        &self.spec
    }

    fn established(&self, af: Af) -> bool {
        self.birdc(&format!("show protocols tern{}", af.digit())).is_some_and(|s| s.contains("Established"))
    }

    fn received(&self) -> Vec<Route> {
        parse_routes(&self.birdc("show route all").unwrap_or_default())
    }

    fn announce(&mut self, a: Announce) {
        match self.origins.iter_mut().find(|(_, o)| o.prefix == a.prefix) {
            Some((_, o)) => *o = a,
            None => self.add_origin(a),
        }
        self.reconfigure();
    }

    fn withdraw(&mut self, prefix: &str) {
        self.origins.retain(|(_, o)| o.prefix != prefix);
        self.reconfigure();
    }

    fn kill(&mut self) {
        let mut p = self.process.take().expect("BIRD runs");
        p.stop(Signal::Kill, Duration::from_secs(5));
    }

    fn restart(&mut self) {
        assert!(self.process.is_none());
        let _ = std::fs::remove_file(self.ctl());
        self.launch();
    }

    fn request_refresh(&self, af: Af) -> bool {
        let out = must(self.birdc_command(&format!("reload in tern{}", af.digit())));
        assert!(out.contains("reload"), "birdc reload in: {out}");
        true
    }

    fn shutdown_message(&self, af: Af) -> Option<String> {
        self.protocol(af).lines().find_map(|l| l.trim().strip_prefix("Message:").map(|m| m.trim().to_string()))
    }

    fn shutdown_message_shown_in(&self) -> &'static str {
        "birdc show protocols all (Message:)"
    }
}

impl Drop for Bird {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- BIRD {} log ---\n{}", self.spec.name, tail(&self.log(), 200));
            eprintln!(
                "--- BIRD {} protocols ---\n{}",
                self.spec.name,
                self.birdc("show protocols all").unwrap_or_default()
            );
        }
        drop(self.process.take());
    }
}

crate::scenarios::interop_tests!(Bird);

#[test]
fn md5_right_key_up_wrong_key_down() {
    crate::scenarios::md5::<Bird>();
}
