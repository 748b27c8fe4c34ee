//! What every peer implementation offers the scenarios ([`Peer`]), the addressing plan,
//! routes as the peers and tern show them, and tern's side of a test (its configuration and
//! queries).
//!
//! Addressing inside a test's namespace: tern is 127.0.0.1 and fd00:7e57::1 (AS 65001,
//! router id 127.0.0.1); peer number `n` (2..=9) is 127.0.0.n and fd00:7e57::n with router id
//! 198.18.0.n. Each peer has one session with tern per family: IPv4 unicast over IPv4 (named
//! `NAME4` in tern) and IPv6 unicast over IPv6 (`NAME6`). Next hops inside the UPDATEs are
//! from the benchmarking ranges, which nothing installs: tern sends 198.18.0.1 and
//! 2001:2::1 (an export policy sets them; 127.x would be dropped by GoBGP and FRR, and BIRD
//! refuses a next hop that is its own address), peer `n` sends 198.18.0.n and 2001:2::n.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::ternd::{wait_until, Netns, Ternd};

pub const TERN_ASN: u32 = 65001;
pub const TERN_V4: &str = "127.0.0.1";
pub const TERN_V6: &str = "fd00:7e57::1";
pub const TERN_NH4: &str = "198.18.0.1";
pub const TERN_NH6: &str = "2001:2::1";

/// How long a session gets to come up, a route to arrive or go.
pub const UP: Duration = Duration::from_secs(30);
pub const ROUTE: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Af {
    V4,
    V6,
}

impl Af {
    pub fn digit(self) -> char {
        match self {
            Af::V4 => '4',
            Af::V6 => '6',
        }
    }

    pub fn tern_address(self) -> &'static str {
        match self {
            Af::V4 => TERN_V4,
            Af::V6 => TERN_V6,
        }
    }

    pub fn tern_next_hop(self) -> &'static str {
        match self {
            Af::V4 => TERN_NH4,
            Af::V6 => TERN_NH6,
        }
    }

    pub fn of(prefix: &str) -> Af {
        if prefix.contains(':') {
            Af::V6
        } else {
            Af::V4
        }
    }
}

/// A prefix a speaker originates, with its attributes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Announce {
    pub prefix: String,
    pub communities: Vec<String>,
    pub large: Vec<String>,
    pub med: Option<u32>,
    pub local_pref: Option<u32>,
}

impl Announce {
    pub fn new(prefix: &str) -> Announce {
        Announce { prefix: prefix.into(), ..Default::default() }
    }

    pub fn communities(mut self, c: &[&str]) -> Announce {
        self.communities = c.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn large(mut self, c: &[&str]) -> Announce {
        self.large = c.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn med(mut self, m: u32) -> Announce {
        self.med = Some(m);
        self
    }

    pub fn local_pref(mut self, l: u32) -> Announce {
        self.local_pref = Some(l);
        self
    }

    pub fn af(&self) -> Af {
        Af::of(&self.prefix)
    }

    /// The `[[origin]]` block for tern's configuration.
    pub fn tern_origin(&self) -> String {
        let mut s = format!("[[origin]]\nprefix = \"{}\"\n", self.prefix);
        s += &format!("communities = {}\n", toml_list(&self.communities));
        s += &format!("large_communities = {}\n", toml_list(&self.large));
        if let Some(m) = self.med {
            s += &format!("med = {m}\n");
        }
        if let Some(l) = self.local_pref {
            s += &format!("local_pref = {l}\n");
        }
        s
    }
}

fn toml_list(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", "))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddPath {
    None,
    /// The peer receives several paths per prefix (from tern).
    Receive,
    /// The peer receives several paths per prefix and sends several (to tern).
    Both,
}

impl AddPath {
    pub fn receives(self) -> bool {
        matches!(self, AddPath::Receive | AddPath::Both)
    }

    pub fn sends(self) -> bool {
        self == AddPath::Both
    }
}

/// One peer daemon of a test: who it is and what it originates.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Short name; tern calls its sessions `NAME4` and `NAME6`.
    pub name: String,
    /// 2..=9: its addresses and router id.
    pub n: u8,
    pub asn: u32,
    /// Which sessions it has with tern.
    pub afs: Vec<Af>,
    pub announce: Vec<Announce>,
    /// The peer's TCP-MD5 key on its sessions with tern.
    pub md5: Option<String>,
    pub add_path: AddPath,
    /// Lines added to each of tern's `[[neighbor]]` blocks for this peer.
    pub tern_extra: String,
}

impl Spec {
    pub fn new(name: &str, n: u8, asn: u32) -> Spec {
        assert!((2..=9).contains(&n));
        Spec {
            name: name.into(),
            n,
            asn,
            afs: vec![Af::V4, Af::V6],
            announce: Vec::new(),
            md5: None,
            add_path: AddPath::None,
            tern_extra: String::new(),
        }
    }

    pub fn announce(mut self, a: Announce) -> Spec {
        self.announce.push(a);
        self
    }

    pub fn only(mut self, af: Af) -> Spec {
        self.afs = vec![af];
        self
    }

    pub fn md5(mut self, key: &str) -> Spec {
        self.md5 = Some(key.into());
        self
    }

    pub fn add_path(mut self, a: AddPath) -> Spec {
        self.add_path = a;
        self
    }

    pub fn tern_extra(mut self, lines: &str) -> Spec {
        self.tern_extra += lines;
        self.tern_extra += "\n";
        self
    }

    pub fn ibgp(&self) -> bool {
        self.asn == TERN_ASN
    }

    pub fn address(&self, af: Af) -> String {
        match af {
            Af::V4 => format!("127.0.0.{}", self.n),
            Af::V6 => format!("fd00:7e57::{}", self.n),
        }
    }

    pub fn router_id(&self) -> String {
        format!("198.18.0.{}", self.n)
    }

    pub fn next_hop(&self, af: Af) -> String {
        match af {
            Af::V4 => format!("198.18.0.{}", self.n),
            Af::V6 => format!("2001:2::{}", self.n),
        }
    }

    /// tern's name for the session of family `af`.
    pub fn session(&self, af: Af) -> String {
        format!("{}{}", self.name, af.digit())
    }

    /// tern's `[[neighbor]]` blocks for this peer.
    pub fn tern_neighbors(&self) -> String {
        let mut s = String::new();
        for &af in &self.afs {
            s += &format!(
                "[[neighbor]]\nname = \"{}\"\naddress = \"{}\"\nlocal_address = \"{}\"\nremote_asn = {}\n\
                 import = \"accept\"\nexport = \"to-peers\"\n{}\n",
                self.session(af),
                self.address(af),
                af.tern_address(),
                self.asn,
                self.tern_extra
            );
        }
        s
    }
}

/// A route as a peer shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Route {
    pub prefix: String,
    pub as_path: Vec<u32>,
    pub next_hop: String,
    pub med: Option<u32>,
    pub local_pref: Option<u32>,
    /// Sorted, `HIGH:LOW`.
    pub communities: Vec<String>,
    /// Sorted, `GLOBAL:LOCAL1:LOCAL2`.
    pub large: Vec<String>,
}

impl Route {
    pub fn normalize(mut self) -> Route {
        self.communities.sort();
        self.large.sort();
        self
    }
}

pub fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// What a test needs from a peer daemon. Implementations run the real daemon inside the
/// test's namespace, stop it by PID on drop, and print its log when the test fails.
pub trait Peer: Sized {
    /// The implementation's name, for messages.
    const KIND: &'static str;
    /// Whether the peer shows LOCAL_PREF only when the attribute came in (BIRD and OpenBGPD
    /// fill in their default of 100 on eBGP routes, so the absence cannot be seen there).
    const SHOWS_ABSENT_LOCAL_PREF: bool;
    /// Whether the peer shows a missing MED as missing (OpenBGPD shows 0).
    const SHOWS_ABSENT_MED: bool;
    /// Whether the peer can originate two paths for one prefix and send both over ADD-PATH.
    const SENDS_SEVERAL_PATHS: bool;

    fn start(ns: &Netns, spec: Spec) -> Self;
    fn spec(&self) -> &Spec;
    /// The session with tern of family `af` is Established, as the peer sees it.
    fn established(&self, af: Af) -> bool;
    /// Every route the peer has from tern (all paths, both families).
    fn received(&self) -> Vec<Route>;
    /// Starts originating `a` (or changes its attributes).
    fn announce(&mut self, a: Announce);
    /// Stops originating `prefix`.
    fn withdraw(&mut self, prefix: &str);
    /// SIGKILL by PID; the sessions go down with the TCP connections.
    fn kill(&mut self);
    /// Starts the daemon again after [`Peer::kill`], with what it originated then.
    fn restart(&mut self);
    /// Whether the peer answers a ROUTE-REFRESH by sending its routes again.
    const ANSWERS_REFRESH: bool = true;
    /// Has the peer ask tern for its routes again (ROUTE-REFRESH) on the session of `af`;
    /// false when the peer has no command that sends one.
    fn request_refresh(&self, af: Af) -> bool;
    /// The RFC 9003 shutdown message the peer shows for the session of family `af`, if any.
    fn shutdown_message(&self, af: Af) -> Option<String>;
    /// Where the peer shows that message (for the matrix and messages).
    fn shutdown_message_shown_in(&self) -> &'static str;
    /// The next hop tern sees on the peer's routes of family `af`.
    fn sent_next_hop(&self, af: Af) -> String {
        self.spec().next_hop(af)
    }
}

/// Waits until the peer's sessions with tern are Established on both sides.
pub fn wait_up<P: Peer>(tern: &Ternd, peer: &P) {
    for &af in &peer.spec().afs {
        tern.wait_established(&peer.spec().session(af), UP);
        wait_until(
            &format!("{} {} to see its {af:?} session with tern Established", P::KIND, peer.spec().name),
            UP,
            || peer.established(af),
            |up| *up,
        );
    }
}

/// Waits until the peer has a route for `prefix` from tern that passes `ok`, and returns it.
pub fn peer_route<P: Peer>(peer: &P, prefix: &str, what: &str, ok: impl Fn(&Route) -> bool) -> Route {
    let routes = wait_until(
        &format!("{} {} to have {prefix} from tern ({what})", P::KIND, peer.spec().name),
        ROUTE,
        || peer.received(),
        |rs| rs.iter().any(|r| r.prefix == prefix && ok(r)),
    );
    routes.into_iter().find(|r| r.prefix == prefix && ok(r)).unwrap()
}

/// Waits until the peer has no route for `prefix` from tern.
pub fn peer_lacks<P: Peer>(peer: &P, prefix: &str) {
    wait_until(
        &format!("{} {} to lose {prefix}", P::KIND, peer.spec().name),
        ROUTE,
        || peer.received(),
        |rs| !rs.iter().any(|r| r.prefix == prefix),
    );
}

/// tern's configuration for a test: the router, its own prefixes, and the neighbors.
pub fn tern_config(peers: &[&Spec], origins: &[Announce], level: &str) -> String {
    let mut s = crate::ternd::router_config(
        TERN_ASN,
        TERN_V4,
        &[&format!("{TERN_V4}:179"), &format!("[{TERN_V6}]:179")],
        "",
        level,
    );
    for o in origins {
        s += &o.tern_origin();
        s += "\n";
    }
    for p in peers {
        s += &p.tern_neighbors();
    }
    s += &format!(
        r#"
# Next hops peers accept (see peer.rs).
[policy.to-peers]
default = "accept"

[[policy.to-peers.rule]]
match.family = "ipv4-unicast"
set.next_hop = "{TERN_NH4}"

[[policy.to-peers.rule]]
match.family = "ipv6-unicast"
set.next_hop = "{TERN_NH6}"
"#
    );
    s
}

/// A namespace with tern's and peers 2..=9's IPv6 addresses on `lo`.
pub fn namespace(tag: &str) -> Netns {
    let ns = Netns::new(tag);
    for n in 1..=9 {
        ns.add_address(&format!("fd00:7e57::{n}/128"));
    }
    ns
}

/// A path of tern's Loc-RIB entry, as `ternctl --json show route` gives it.
#[derive(Debug, Clone)]
pub struct TernPath {
    pub from: String,
    pub path_id: u64,
    pub selected: bool,
    pub route: Route,
}

/// tern's Loc-RIB entry for `prefix`: the decision's reason and every path.
pub fn tern_paths(tern: &Ternd, prefix: &str) -> Option<(String, Vec<TernPath>)> {
    let r = tern.route(prefix)?;
    let strings = |v: &Value| -> Vec<String> {
        v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect()).unwrap_or_default()
    };
    let paths = r["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| TernPath {
            from: p["from"].as_str().unwrap_or_default().into(),
            path_id: p["path_id"].as_u64().unwrap_or_default(),
            selected: p["selected"].as_bool().unwrap_or_default(),
            route: Route {
                prefix: prefix.into(),
                as_path: p["as_path"]
                    .as_str()
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(|a| a.parse().unwrap())
                    .collect(),
                next_hop: p["next_hop"].as_str().unwrap_or_default().into(),
                med: p["med"].as_u64().map(|m| m as u32),
                local_pref: p["local_pref"].as_u64().map(|m| m as u32),
                communities: strings(&p["communities"]),
                large: strings(&p["large_communities"]),
            }
            .normalize(),
        })
        .collect();
    Some((r["reason"].as_str().unwrap_or_default().into(), paths))
}

/// Waits until tern has `prefix` with a selected path from `from` that passes `ok`; returns
/// the reason and that path.
pub fn tern_best(tern: &Ternd, prefix: &str, from: &str, ok: impl Fn(&TernPath) -> bool) -> (String, TernPath) {
    let (reason, paths) = wait_until(
        &format!("tern to select {prefix} from {from}"),
        ROUTE,
        || tern_paths(tern, prefix).unwrap_or_default(),
        |(_, paths)| paths.iter().any(|p| p.selected && p.from == from && ok(p)),
    );
    let best = paths.into_iter().find(|p| p.selected && p.from == from).unwrap();
    (reason, best)
}

pub fn tern_lacks(tern: &Ternd, prefix: &str) {
    wait_until(&format!("tern to lose {prefix}"), ROUTE, || tern_paths(tern, prefix), Option::is_none);
}

/// How long a peer's command line tool may take.
const CLI: Duration = Duration::from_secs(30);

/// Runs `cmd` to its end, at most [`CLI`] (then it is killed and the test fails).
pub fn run(mut cmd: Command) -> std::io::Result<Output> {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    // Read while it runs, so that a big answer cannot fill the pipe and stall it.
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let t0 = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if t0.elapsed() > CLI {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {CLI:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Ok(Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() })
}

/// Runs `cmd` and returns its standard output; `None` when it failed.
pub fn output(cmd: Command) -> Option<String> {
    let out = run(cmd).ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `cmd`, which must succeed; its standard output.
pub fn must(cmd: Command) -> String {
    let what = format!("{cmd:?}");
    let out = run(cmd).unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `HIGH:LOW` of a 32-bit community.
pub fn community(c: u64) -> String {
    format!("{}:{}", c >> 16, c & 0xffff)
}
