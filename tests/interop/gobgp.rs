//! GoBGP (Debian `gobgpd`): the process, its TOML configuration and `gobgp` queries.
//!
//! gobgpd binds BGP to the peer's addresses only (`local-address-list`), its gRPC API to
//! 127.0.0.N:50051 (`--api-hosts`), and runs without pprof. GoBGP never installs routes.
//! Originated prefixes are added at run time with `gobgp global rib add` (again after a
//! restart). GoBGP treats a route whose next hop is in 127/8 as withdrawn, so tern's export
//! policy sets 198.18.0.1 / 2001:2::1.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::peer::*;
use crate::ternd::{require, tail, wait_for, Netns, Process, Signal, TempDir};

pub struct Gobgp {
    spec: Spec,
    ns: String,
    dir: TempDir,
    origins: Vec<Announce>,
    process: Option<Process>,
}

fn family(af: Af) -> &'static str {
    match af {
        Af::V4 => "ipv4",
        Af::V6 => "ipv6",
    }
}

impl Gobgp {
    fn api(&self) -> String {
        format!("127.0.0.{}", self.spec.n)
    }

    pub fn gobgp_command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns, "gobgp", "-u", &self.api(), "-p", "50051"]).args(args);
        c
    }

    pub fn gobgp(&self, args: &[&str]) -> Option<String> {
        output(self.gobgp_command(args))
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("-j");
        self.gobgp(&a).and_then(|s| serde_json::from_str(&s).ok()).unwrap_or(Value::Null)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("gobgpd.log")).unwrap_or_default()
    }

    fn config(&self) -> String {
        let s = &self.spec;
        let addrs: Vec<String> = s.afs.iter().map(|&af| format!("\"{}\"", s.address(af))).collect();
        let mut c = format!(
            "[global.config]\n  as = {}\n  router-id = \"{}\"\n  local-address-list = [{}]\n  port = 179\n",
            s.asn,
            s.router_id(),
            addrs.join(", ")
        );
        for &af in &s.afs {
            c += &format!(
                "\n[[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"{}\"\n    peer-as = {TERN_ASN}\n",
                af.tern_address()
            );
            if let Some(k) = &s.md5 {
                c += &format!("    auth-password = \"{k}\"\n");
            }
            c += &format!(
                "  [neighbors.transport.config]\n    local-address = \"{}\"\n  [neighbors.timers.config]\n    \
                 connect-retry = 1\n    hold-time = 6\n    keepalive-interval = 2\n  [[neighbors.afi-safis]]\n    \
                 [neighbors.afi-safis.config]\n      afi-safi-name = \"{}-unicast\"\n",
                s.address(af),
                family(af)
            );
            if s.add_path != AddPath::None {
                c += &format!(
                    "    [neighbors.afi-safis.add-paths.config]\n      receive = {}\n      send-max = {}\n",
                    s.add_path.receives(),
                    if s.add_path.sends() { 8 } else { 0 }
                );
            }
        }
        c
    }

    fn launch(&mut self) {
        let conf = self.dir.path().join("gobgpd.toml");
        std::fs::write(&conf, self.config()).unwrap();
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns, "gobgpd", "-f"]).arg(&conf).args([
            "-t",
            "toml",
            "--pprof-disable",
            "--api-hosts",
            &format!("{}:50051", self.api()),
        ]);
        self.process =
            Some(Process::spawn(&format!("gobgpd {}", self.spec.name), cmd, &self.dir.path().join("gobgpd.log")));
        wait_for(&format!("GoBGP {} to answer on its API", self.spec.name), Duration::from_secs(30), || {
            assert!(self.process.as_mut().unwrap().running(), "gobgpd exited:\n{}", self.log());
            self.gobgp(&["global"]).is_some()
        });
        for (i, a) in self.origins.iter().enumerate() {
            self.add(a, self.origins[..i].iter().filter(|o| o.prefix == a.prefix).count());
        }
    }

    /// `gobgp global rib add`; the `nth` path of a prefix (from 0) goes under ADD-PATH
    /// identifier `nth` (several paths of one prefix need distinct ones).
    fn add(&self, a: &Announce, nth: usize) {
        let af = a.af();
        let nh = self.spec.next_hop(af);
        let id = nth.to_string();
        let mut args = vec!["global", "rib", "add", "-a", family(af), &a.prefix];
        if nth > 0 {
            args.extend(["identifier", &id]);
        }
        args.extend(["origin", "igp", "nexthop", &nh]);
        let (communities, large, med, lp) = (
            a.communities.join(","),
            a.large.join(","),
            a.med.map(|m| m.to_string()).unwrap_or_default(),
            a.local_pref.map(|m| m.to_string()).unwrap_or_default(),
        );
        if !communities.is_empty() {
            args.extend(["community", &communities]);
        }
        if !large.is_empty() {
            args.extend(["large-community", &large]);
        }
        if a.med.is_some() {
            args.extend(["med", &med]);
        }
        if a.local_pref.is_some() {
            args.extend(["local-pref", &lp]);
        }
        must(self.gobgp_command(&args));
    }
}

/// The attributes of one path of `gobgp ... -j` output.
pub fn route_from(prefix: &str, path: &Value) -> Route {
    let mut r = Route { prefix: prefix.into(), ..Default::default() };
    for a in path["attrs"].as_array().into_iter().flatten() {
        match a["type"].as_u64() {
            Some(2) => {
                r.as_path = a["as_paths"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|s| s["asns"].as_array().cloned().unwrap_or_default())
                    .filter_map(|n| n.as_u64().map(|n| n as u32))
                    .collect()
            }
            Some(3) | Some(14) => r.next_hop = a["nexthop"].as_str().unwrap_or_default().into(),
            Some(4) => r.med = a["metric"].as_u64().map(|m| m as u32),
            Some(5) => r.local_pref = a["value"].as_u64().map(|m| m as u32),
            Some(8) => {
                r.communities =
                    a["communities"].as_array().into_iter().flatten().filter_map(Value::as_u64).map(community).collect()
            }
            Some(32) => {
                r.large = a["value"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|l| format!("{}:{}:{}", l["ASN"], l["LocalData1"], l["LocalData2"]))
                    .collect()
            }
            _ => {}
        }
    }
    r.normalize()
}

impl Peer for Gobgp {
    const KIND: &'static str = "GoBGP";
    const SHOWS_ABSENT_LOCAL_PREF: bool = true;
    const SHOWS_ABSENT_MED: bool = true;
    const SENDS_SEVERAL_PATHS: bool = true;

    fn start(ns: &Netns, spec: Spec) -> Gobgp {
        require("gobgpd", "gobgpd");
        require("gobgp", "gobgpd");
        let mut g = Gobgp {
            ns: ns.name().into(),
            dir: TempDir::new(&format!("gobgp-{}", spec.name)),
            origins: spec.announce.clone(),
            process: None,
            spec,
        };
        g.launch();
        g
    }

    fn spec(&self) -> &Spec {
        &self.spec
    }

    fn established(&self, af: Af) -> bool {
        self.json(&["neighbor", af.tern_address()])["state"]["session_state"] == 6
    }

    fn received(&self) -> Vec<Route> {
        let mut routes = Vec::new();
        for &af in &self.spec.afs {
            let v = self.json(&["neighbor", af.tern_address(), "adj-in", "-a", family(af)]);
            for (prefix, paths) in v.as_object().into_iter().flatten() {
                for p in paths.as_array().into_iter().flatten() {
                    routes.push(route_from(prefix, p));
                }
            }
        }
        routes
    }

    fn announce(&mut self, a: Announce) {
        // Adding a path again (identifier 0) replaces it.
        self.add(&a, 0);
        match self.origins.iter_mut().find(|o| o.prefix == a.prefix) {
            Some(o) => *o = a,
            None => self.origins.push(a),
        }
    }

    fn withdraw(&mut self, prefix: &str) {
        let n = self.origins.iter().filter(|o| o.prefix == prefix).count();
        for nth in 0..n {
            let id = nth.to_string();
            let mut args = vec!["global", "rib", "del", "-a", family(Af::of(prefix)), prefix];
            if nth > 0 {
                args.extend(["identifier", &id]);
            }
            must(self.gobgp_command(&args));
        }
        self.origins.retain(|o| o.prefix != prefix);
    }

    fn kill(&mut self) {
        self.process.take().expect("gobgpd runs").stop(Signal::Kill, Duration::from_secs(5));
    }

    fn restart(&mut self) {
        assert!(self.process.is_none());
        self.launch();
    }

    fn request_refresh(&self, _: Af) -> bool {
        // `gobgp neighbor ADDR softresetin` applies the import policy to GoBGP's own
        // Adj-RIB-In again; it sends no ROUTE-REFRESH, and no other command does.
        false
    }

    fn shutdown_message(&self, af: Af) -> Option<String> {
        // GoBGP logs it (JSON lines); its CLI does not show it.
        self.log()
            .lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["msg"] == "received notification" && v["Key"] == af.tern_address())
            .find_map(|v| v["Communicated-Reason"].as_str().map(String::from))
    }

    fn shutdown_message_shown_in(&self) -> &'static str {
        "gobgpd's log only (\"received notification\", Communicated-Reason); not in the gobgp CLI"
    }
}

impl Drop for Gobgp {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- GoBGP {} log ---\n{}", self.spec.name, tail(&self.log(), 100));
            eprintln!("--- GoBGP {} neighbors ---\n{}", self.spec.name, self.gobgp(&["neighbor"]).unwrap_or_default());
        }
        drop(self.process.take());
    }
}

crate::scenarios::interop_tests!(Gobgp);

#[test]
fn md5_right_key_up_wrong_key_down() {
    crate::scenarios::md5::<Gobgp>();
}
