//! OpenBGPD (Debian `openbgpd`): the process, its configuration and `bgpctl` queries.
//!
//! bgpd runs in the foreground (`bgpd -d`) with `listen on` the peer's addresses only,
//! `fib-update no` (nothing reaches the kernel) and its control socket in a private
//! directory; it chroots to /run/openbgpd, which must exist. It forks a session engine, a
//! route decision engine and an RTR engine: all are stopped by PID with it. OpenBGPD
//! denies everything by default (`allow from any` / `allow to any`), and eBGP sessions use
//! `multihop 2` (a one-hop session would have it rewrite next hops). Originated prefixes are
//! added at run time with `bgpctl network add` (again after a restart); OpenBGPD sends its
//! session address as their next hop.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::peer::*;
use crate::ternd::{require, tail, wait_for, Netns, Process, Signal, TempDir};

pub struct Openbgpd {
    spec: Spec,
    ns: String,
    dir: TempDir,
    origins: Vec<Announce>,
    process: Option<Process>,
}

impl Openbgpd {
    fn socket(&self) -> PathBuf {
        self.dir.path().join("bgpd.sock")
    }

    pub fn bgpctl_command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns, "bgpctl", "-s"]).arg(self.socket()).args(args);
        c
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = vec!["-j"];
        a.extend(args);
        output(self.bgpctl_command(&a)).and_then(|s| serde_json::from_str(&s).ok()).unwrap_or(Value::Null)
    }

    pub fn neighbor(&self, af: Af) -> Value {
        self.json(&["show", "neighbor", af.tern_address()])["neighbors"][0].clone()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("bgpd.log")).unwrap_or_default()
    }

    fn config(&self) -> String {
        let s = &self.spec;
        let mut c = format!("AS {}\nrouter-id {}\n", s.asn, s.router_id());
        for &af in &s.afs {
            c += &format!("listen on {}\n", s.address(af));
        }
        c += &format!("socket \"{}\"\nfib-update no\n\n", self.socket().display());
        for &af in &s.afs {
            c += &format!(
                "neighbor {} {{\n  remote-as {TERN_ASN}\n  local-address {}\n  holdtime 6\n",
                af.tern_address(),
                s.address(af)
            );
            if !s.ibgp() {
                c += "  multihop 2\n";
            }
            if let Some(k) = &s.md5 {
                c += &format!("  tcp md5sig password {k}\n");
            }
            if s.add_path.sends() {
                c += "  announce add-path send all\n";
            }
            if s.add_path.receives() {
                c += "  announce add-path recv yes\n";
            }
            c += "}\n";
        }
        c += "\nallow from any\nallow to any\n";
        c
    }

    fn launch(&mut self) {
        std::fs::create_dir_all("/run/openbgpd").expect("create /run/openbgpd (OpenBGPD chroots there)");
        let conf = self.dir.path().join("bgpd.conf");
        std::fs::write(&conf, self.config()).unwrap();
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns, "bgpd", "-d", "-f"]).arg(&conf);
        self.process =
            Some(Process::spawn(&format!("bgpd {}", self.spec.name), cmd, &self.dir.path().join("bgpd.log")));
        wait_for(&format!("OpenBGPD {} to answer on its socket", self.spec.name), Duration::from_secs(30), || {
            assert!(self.process.as_mut().unwrap().running(), "bgpd exited:\n{}", self.log());
            output(self.bgpctl_command(&["show"])).is_some()
        });
        for a in self.origins.clone() {
            self.add(&a);
        }
    }

    fn add(&self, a: &Announce) {
        let mut args: Vec<String> = vec!["network".into(), "add".into(), a.prefix.clone()];
        for c in &a.communities {
            args.extend(["community".into(), c.clone()]);
        }
        for l in &a.large {
            args.extend(["large-community".into(), l.clone()]);
        }
        if let Some(m) = a.med {
            args.extend(["med".into(), m.to_string()]);
        }
        if let Some(l) = a.local_pref {
            args.extend(["localpref".into(), l.to_string()]);
        }
        must(self.bgpctl_command(&args.iter().map(String::as_str).collect::<Vec<_>>()));
    }
}

fn route_from(r: &Value) -> Route {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect()).unwrap_or_default()
    };
    Route {
        prefix: r["prefix"].as_str().unwrap_or_default().into(),
        as_path: r["aspath"].as_str().unwrap_or_default().split_whitespace().filter_map(|a| a.parse().ok()).collect(),
        next_hop: r["exit_nexthop"].as_str().unwrap_or_default().into(),
        // bgpctl shows a missing MED as 0.
        med: r["metric"].as_u64().filter(|&m| m != 0).map(|m| m as u32),
        local_pref: r["localpref"].as_u64().map(|m| m as u32),
        communities: strings(&r["communities"]),
        large: strings(&r["large_communities"]),
    }
    .normalize()
}

impl Peer for Openbgpd {
    const KIND: &'static str = "OpenBGPD";
    const SHOWS_ABSENT_LOCAL_PREF: bool = false;
    const SHOWS_ABSENT_MED: bool = false;
    const SENDS_SEVERAL_PATHS: bool = false;
    /// OpenBGPD 7.7's route decision engine drops every ROUTE-REFRESH for a negotiated
    /// family ("route refresh: AID IPv4 unicast not negotiated": an inverted test in rde.c,
    /// fixed in rde.c 1.586, openbgpd-portable issue #46).
    const ANSWERS_REFRESH: bool = false;

    fn start(ns: &Netns, spec: Spec) -> Openbgpd {
        require("bgpd", "openbgpd");
        require("bgpctl", "openbgpd");
        let mut o = Openbgpd {
            ns: ns.name().into(),
            dir: TempDir::new(&format!("openbgpd-{}", spec.name)),
            origins: spec.announce.clone(),
            process: None,
            spec,
        };
        o.launch();
        o
    }

    fn spec(&self) -> &Spec {
        &self.spec
    }

    fn established(&self, af: Af) -> bool {
        self.neighbor(af)["state"] == "Established"
    }

    fn received(&self) -> Vec<Route> {
        self.json(&["show", "rib", "detail"])["rib"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| {
                let from = r["neighbor"]["remote_addr"].as_str().unwrap_or_default();
                from == TERN_V4 || from == TERN_V6
            })
            .map(route_from)
            .collect()
    }

    fn announce(&mut self, a: Announce) {
        self.add(&a);
        self.origins.retain(|o| o.prefix != a.prefix);
        self.origins.push(a);
    }

    fn withdraw(&mut self, prefix: &str) {
        must(self.bgpctl_command(&["network", "delete", prefix]));
        self.origins.retain(|o| o.prefix != prefix);
    }

    fn kill(&mut self) {
        self.process.take().expect("bgpd runs").stop(Signal::Kill, Duration::from_secs(5));
    }

    fn restart(&mut self) {
        assert!(self.process.is_none());
        let _ = std::fs::remove_file(self.socket());
        self.launch();
    }

    fn sent_next_hop(&self, af: Af) -> String {
        self.spec.address(af)
    }

    fn request_refresh(&self, af: Af) -> bool {
        must(self.bgpctl_command(&["neighbor", af.tern_address(), "refresh"]));
        true
    }

    fn shutdown_message(&self, af: Af) -> Option<String> {
        self.neighbor(af)["last_shutdown_reason"].as_str().map(String::from)
    }

    fn shutdown_message_shown_in(&self) -> &'static str {
        "bgpctl show neighbor (Last received shutdown reason)"
    }
}

impl Drop for Openbgpd {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- OpenBGPD {} log ---\n{}", self.spec.name, tail(&self.log(), 100));
            eprintln!(
                "--- OpenBGPD {} neighbors ---\n{}",
                self.spec.name,
                output(self.bgpctl_command(&["show", "neighbor"])).unwrap_or_default()
            );
        }
        drop(self.process.take());
    }
}

crate::scenarios::interop_tests!(Openbgpd);

#[test]
fn md5_right_key_up_wrong_key_down() {
    crate::scenarios::md5::<Openbgpd>();
}
