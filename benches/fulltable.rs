//! Full-table benchmark: a table of IPv4 prefixes pushed through a router over loopback TCP,
//! sender → ROUTER → receiver(s), timed from the first UPDATE octet the sender writes to the
//! last prefix a receiver decodes, with the router's resident memory per route.
//!
//! The sender and the receivers are `tern-load` processes, each bound to its own 127.0.X.Y
//! address; the router listens on 127.0.X.1 port 179 (X differs per run, so no run meets
//! the sockets of the one before). Scenarios, N = 1,000,000 by default:
//! - dense: N /24s in about 500 attribute sets, about 1,000 prefixes per UPDATE, 1 receiver;
//! - diverse: N prefixes over about 300,000 attribute sets, 1 receiver;
//! - dense ×10: the dense table fanned out to 10 receivers.
//!
//! Routers ("subjects"): tern, run in a child process (this binary re-run with
//! `--tern-router SPEC`) so that its resident memory is its own; and BIRD 2 when `bird` is
//! installed, in the foreground with its own configuration, control socket and PID file in
//! a temporary directory. Each run gets a fresh router process. Resident memory is VmRSS of
//! the router process from /proc once the receivers are up and before the sender connects,
//! and again when every receiver has the whole table.
//!
//! Every wait is bounded: a router that passes no prefix to any receiver within
//! `NO_ROUTES_WAIT` of the sender's session coming up is reported as not propagating routes
//! (no numbers are made up), and every run ends after `RUN_WAIT`. Every process started is
//! killed by PID when its guard drops, on success and on error alike.
//!
//! Each (scenario, router) pair runs `TERN_BENCH_RUNS` times (default 3), alternating
//! between the routers; the row shows the run with the median time, and the spread.
//!
//! Run: `cargo bench --bench fulltable`. Environment: `TERN_BENCH_PREFIXES` (default
//! 1000000; e.g. 100000 for a quick run), `TERN_BENCH_RUNS`, `TERN_BENCH_ROUTERS` (default
//! `tern,bird`), `TERN_BENCH_KEEP_DIR=1` keeps BIRD's directories (configuration and log).
//!
//! Targets (issue): tern at most half of BIRD's time in each scenario, and no more resident
//! memory per route than BIRD.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use crossbeam_channel::{unbounded, Receiver, Sender};
use tern::policy::Policy;

const DEFAULT_PREFIXES: usize = 1_000_000;
const DEFAULT_RUNS: usize = 3;
/// How long the receivers get to set their sessions up.
const SESSION_WAIT: Duration = Duration::from_secs(30);
/// How long after the sender's session is up the first prefix must reach a receiver.
const NO_ROUTES_WAIT: Duration = Duration::from_secs(15);
/// The longest a run may take from the sender's session to the last receiver's last prefix.
const RUN_WAIT: Duration = Duration::from_secs(120);
/// Before the resident memory is read, the router gets this long to settle.
const SETTLE: Duration = Duration::from_millis(500);

const ROUTER_ASN: u32 = 4_200_000_001;
const SENDER_ASN: u32 = 4_200_000_100;
const RECEIVER_ASN: u32 = 4_200_000_200;

// ---------------------------------------------------------------------------------------
// Scenarios and addresses

struct Scenario {
    name: &'static str,
    mode: &'static str,
    receivers: usize,
}

const SCENARIOS: [Scenario; 3] = [
    Scenario { name: "dense", mode: "dense", receivers: 1 },
    Scenario { name: "diverse", mode: "diverse", receivers: 1 },
    Scenario { name: "dense x10", mode: "dense", receivers: 10 },
];

/// Who is where in one run: the router at 127.0.X.1, the sender at .2, receivers from .10.
#[derive(Debug, Clone)]
struct Topology {
    router: Ipv4Addr,
    sender: Ipv4Addr,
    receivers: Vec<(Ipv4Addr, u32)>,
}

impl Topology {
    fn new(run: u8, receivers: usize) -> Topology {
        let net = 40 + run % 200;
        Topology {
            router: Ipv4Addr::new(127, 0, net, 1),
            sender: Ipv4Addr::new(127, 0, net, 2),
            receivers: (0..receivers)
                .map(|i| (Ipv4Addr::new(127, 0, net, 10 + i as u8), RECEIVER_ASN + i as u32))
                .collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Processes

/// A child process that is killed (by its PID) and reaped when dropped.
struct Proc {
    child: Child,
}

impl Proc {
    fn spawn(name: &str, cmd: &mut Command) -> anyhow::Result<Proc> {
        let child = cmd.spawn().with_context(|| format!("cannot start {name}: {cmd:?}"))?;
        Ok(Proc { child })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends every stdout line to `lines`, tagged with `who`.
    fn forward_stdout(&mut self, who: Who, lines: Sender<(Who, String)>) {
        let out = self.child.stdout.take().expect("stdout is piped");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if lines.send((who, line)).is_err() {
                    return;
                }
            }
        });
    }

    /// Waits for the process to end by itself for at most `limit`.
    fn wait_for_exit(&mut self, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// VmRSS of a process in KiB.
fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).context("reading /proc/PID/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .context("no VmRSS line")
}

fn which(cmd: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .chain(["/usr/sbin", "/sbin"])
        .map(|d| PathBuf::from(d).join(cmd))
        .find(|p| p.is_file())
}

// ---------------------------------------------------------------------------------------
// Subjects: the routers under test

/// A running router under test.
trait Subject {
    fn pid(&self) -> u32;
    /// Stops the router; also what dropping it does.
    fn stop(&mut self);
    /// What to show when a run fails (the end of the router's log).
    fn diagnostics(&self) -> String {
        String::new()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RouterKind {
    Tern,
    Bird,
}

impl RouterKind {
    fn name(self) -> &'static str {
        match self {
            RouterKind::Tern => "tern",
            RouterKind::Bird => "BIRD",
        }
    }

    fn start(self, topo: &Topology) -> anyhow::Result<Box<dyn Subject>> {
        Ok(match self {
            RouterKind::Tern => Box::new(TernSubject::start(topo)?),
            RouterKind::Bird => Box::new(BirdSubject::start(topo)?),
        })
    }
}

/// BIRD 2 in the foreground with its own directory.
struct BirdSubject {
    proc: Option<Proc>,
    dir: PathBuf,
}

/// One BGP protocol per peer; the sender's routes go to every receiver. Next hops
/// (198.18.0.0/15) resolve through a static route in a separate IGP table, since BIRD
/// treats a 127.x neighbor as multihop and resolves its next hops recursively.
fn bird_config(topo: &Topology) -> String {
    let mut c = format!(
        r#"router id {router};
log stderr {{ info, warning, error, fatal }};
protocol device {{}}
ipv4 table igp4;
protocol static static_igp {{
    ipv4 {{ table igp4; }};
    route 198.18.0.0/15 via "lo";
}}
template bgp peer {{
    local {router} as {ROUTER_ASN};
    strict bind yes;
    multihop;
    passive on;
    hold time 90;
}}
protocol bgp sender from peer {{
    neighbor {sender} as {SENDER_ASN};
    ipv4 {{ igp table igp4; import all; export none; }};
}}
"#,
        router = topo.router,
        sender = topo.sender
    );
    for (i, (addr, asn)) in topo.receivers.iter().enumerate() {
        c.push_str(&format!(
            "protocol bgp receiver{i} from peer {{\n    neighbor {addr} as {asn};\n    \
             ipv4 {{ igp table igp4; import all; export where proto = \"sender\"; }};\n}}\n"
        ));
    }
    c
}

impl BirdSubject {
    fn start(topo: &Topology) -> anyhow::Result<BirdSubject> {
        let bird = which("bird").context("bird is not installed")?;
        let dir = std::env::temp_dir().join(format!("tern-fulltable-bird-{}-{}", std::process::id(), topo.router));
        std::fs::create_dir_all(&dir)?;
        let conf = dir.join("bird.conf");
        std::fs::write(&conf, bird_config(topo))?;
        let log = std::fs::File::create(dir.join("bird.log"))?;
        let proc = Proc::spawn(
            "bird",
            Command::new(bird)
                .arg("-f")
                .arg("-c")
                .arg(&conf)
                .arg("-s")
                .arg(dir.join("bird.ctl"))
                .arg("-P")
                .arg(dir.join("bird.pid"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log),
        )?;
        let mut s = BirdSubject { proc: Some(proc), dir };
        // Up once its control socket answers; a bad configuration ends it at once.
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(p) = &mut s.proc {
                if let Ok(Some(status)) = p.child.try_wait() {
                    bail!("bird exited at start ({status}):\n{}", s.diagnostics());
                }
            }
            if s.birdc("show status").contains("Daemon is up") {
                return Ok(s);
            }
            if Instant::now() > end {
                bail!("bird did not come up in 10 s:\n{}", s.diagnostics());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn birdc(&self, cmd: &str) -> String {
        Command::new("birdc")
            .arg("-s")
            .arg(self.dir.join("bird.ctl"))
            .arg(cmd)
            .stdin(Stdio::null())
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }
}

impl Subject for BirdSubject {
    fn pid(&self) -> u32 {
        self.proc.as_ref().map_or(0, Proc::pid)
    }

    fn stop(&mut self) {
        self.proc = None;
        if std::env::var_os("TERN_BENCH_KEEP_DIR").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn diagnostics(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("bird.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!("{}\n{}", self.birdc("show protocols"), tail.join("\n"))
    }
}

impl Drop for BirdSubject {
    fn drop(&mut self) {
        self.stop();
    }
}

/// tern's router in a child process: this binary with `--tern-router SPEC`.
struct TernSubject {
    proc: Option<Proc>,
}

impl TernSubject {
    fn start(topo: &Topology) -> anyhow::Result<TernSubject> {
        let mut spec =
            vec![format!("router={}/{ROUTER_ASN}", topo.router), format!("sender={}/{SENDER_ASN}", topo.sender)];
        spec.extend(topo.receivers.iter().enumerate().map(|(i, (a, asn))| format!("receiver{i}={a}/{asn}")));
        let mut proc = Proc::spawn(
            "tern router",
            Command::new(std::env::current_exe()?)
                .arg("--tern-router")
                .args(&spec)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit()),
        )?;
        let mut ready = String::new();
        BufReader::new(proc.child.stdout.take().expect("stdout is piped")).read_line(&mut ready)?;
        if !ready.starts_with("READY") {
            bail!("the tern router child did not start: {ready:?}");
        }
        Ok(TernSubject { proc: Some(proc) })
    }
}

impl Subject for TernSubject {
    fn pid(&self) -> u32 {
        self.proc.as_ref().map_or(0, Proc::pid)
    }

    fn stop(&mut self) {
        if let Some(mut p) = self.proc.take() {
            // Closing its standard input shuts the router down; killed if it takes too long.
            drop(p.child.stdin.take());
            p.wait_for_exit(Duration::from_secs(10));
        }
    }
}

impl Drop for TernSubject {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The neighbor configuration of one peer of the tern router under test: every neighbor
/// passive (the tern-load peers connect), the sender's routes imported, and exported to
/// every receiver (`receiver`), as BIRD is configured.
fn tern_neighbor(
    cfg: &tern::RouterConfig,
    name: &str,
    addr: Ipv4Addr,
    asn: u32,
    receiver: bool,
) -> tern::NeighborConfig {
    let mut n = tern::NeighborConfig::new(name, addr.into(), asn, cfg);
    n.local_address = Some(cfg.router_id.into());
    n.session.passive = true;
    n.session.hold_time = 90;
    n.session.keepalive = Duration::from_secs(30);
    let all = Some(Arc::new(Policy::accept_all()));
    if receiver {
        n.rib.export = all;
    } else {
        n.rib.import = all;
    }
    n
}

/// The child side of [`TernSubject`]: `--tern-router router=A/ASN sender=A/ASN receiverI=A/ASN...`.
/// Runs until standard input closes.
fn tern_router_main(spec: &[String]) -> anyhow::Result<()> {
    let peers: Vec<(String, Ipv4Addr, u32)> = spec
        .iter()
        .map(|s| {
            let (name, rest) = s.split_once('=').context("NAME=ADDR/ASN")?;
            let (addr, asn) = rest.split_once('/').context("NAME=ADDR/ASN")?;
            Ok((name.to_string(), addr.parse()?, asn.parse()?))
        })
        .collect::<anyhow::Result<_>>()?;
    let (_, router, asn) = peers.first().filter(|p| p.0 == "router").context("router=ADDR/ASN comes first")?.clone();
    let mut cfg = tern::RouterConfig::new(asn, router);
    cfg.listen = vec![SocketAddr::from((router, 179))];
    let mut r = tern::Router::start(cfg.clone(), Arc::new(tern::connection::tcp::Tcp), tern::log::from_env())?;
    for (name, addr, asn) in &peers[1..] {
        r.add_neighbor(tern_neighbor(&cfg, name, *addr, *asn, name != "sender"))?;
    }
    println!("READY pid={}", std::process::id());
    let _ = std::io::stdin().read(&mut [0u8; 1]);
    r.shutdown(Some("fulltable benchmark done".into()));
    Ok(())
}

// ---------------------------------------------------------------------------------------
// One run: a scenario through a router

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Sender,
    Receiver(usize),
}

/// The `KEY=VALUE` fields of a tern-load output line.
fn fields(line: &str) -> HashMap<String, String> {
    line.split_whitespace().filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.into(), v.into())).collect()
}

fn field<T: std::str::FromStr>(f: &HashMap<String, String>, key: &str) -> anyhow::Result<T> {
    f.get(key).and_then(|v| v.parse().ok()).with_context(|| format!("no {key} in {f:?}"))
}

/// What one run measured.
struct Measured {
    /// First UPDATE octet sent to the last prefix received by the last receiver.
    time: Duration,
    /// The sender's own writing time.
    send_time: Duration,
    rss_before_kib: u64,
    rss_after_kib: u64,
    /// UPDATEs the router sent to a receiver, and prefixes per UPDATE.
    updates: u64,
    prefixes_per_update: f64,
    receivers: usize,
    /// Fastest and slowest of the runs this one is the median of, and how many there were.
    spread: (Duration, Duration, usize),
}

enum Outcome {
    Done(Measured),
    /// No numbers, and why.
    Failed(String),
}

struct Run<'a> {
    scenario: &'a Scenario,
    kind: RouterKind,
    topo: Topology,
    prefixes: usize,
    tern_load: &'a Path,
}

impl Run<'_> {
    fn tern_load(&self, args: String) -> Command {
        let mut c = Command::new(self.tern_load);
        c.args(args.split_whitespace()).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        c
    }

    fn execute(&self) -> anyhow::Result<Outcome> {
        let router = self.kind.name();
        let mut subject = self.kind.start(&self.topo)?;
        let outcome = self.measure(subject.as_ref());
        if let Ok(Outcome::Failed(_)) | Err(_) = &outcome {
            let d = subject.diagnostics();
            if !d.trim().is_empty() {
                eprintln!("--- {router} state after the failed run:\n{d}");
            }
        }
        subject.stop();
        outcome
    }

    fn measure(&self, subject: &dyn Subject) -> anyhow::Result<Outcome> {
        let (n, topo) = (self.prefixes, &self.topo);
        let (lines_tx, lines) = unbounded();
        let mut procs = Vec::new();
        for (i, (addr, asn)) in topo.receivers.iter().enumerate() {
            let mut p = Proc::spawn(
                "receiver",
                &mut self.tern_load(format!(
                    "receive --connect {} --bind {addr} --asn {asn} --peer-asn {ROUTER_ASN} --expect {n} \
                     --timeout 600 --keep 600",
                    topo.router
                )),
            )?;
            p.forward_stdout(Who::Receiver(i), lines_tx.clone());
            procs.push(p);
        }
        let k = topo.receivers.len();
        let mut established = 0;
        let deadline = Instant::now() + SESSION_WAIT;
        while established < k {
            match next_line(&lines, deadline) {
                Some((_, l)) if l.starts_with("ESTABLISHED") => established += 1,
                Some(_) => {}
                None => return Ok(Outcome::Failed(format!("only {established} of {k} receivers established"))),
            }
        }
        std::thread::sleep(SETTLE);
        let rss_before_kib = rss_kib(subject.pid())?;

        let mut sender = Proc::spawn(
            "sender",
            &mut self.tern_load(format!(
                "send --connect {} --bind {} --asn {SENDER_ASN} --peer-asn {ROUTER_ASN} --prefixes {n} --mode {} \
                 --keep 600 --timeout 60",
                topo.router, topo.sender, self.scenario.mode
            )),
        )?;
        sender.forward_stdout(Who::Sender, lines_tx.clone());
        procs.push(sender);
        drop(lines_tx);

        let mut sender_up: Option<Instant> = None;
        let mut sent: Option<HashMap<String, String>> = None;
        let mut first_seen = false;
        let mut results: Vec<Option<HashMap<String, String>>> = vec![None; k];
        let mut run_deadline = Instant::now() + SESSION_WAIT + Duration::from_secs(30);
        loop {
            if sent.is_some() && results.iter().all(Option::is_some) {
                break;
            }
            let deadline = match sender_up {
                Some(up) if !first_seen => (up + NO_ROUTES_WAIT).min(run_deadline),
                _ => run_deadline,
            };
            let Some((who, line)) = next_line(&lines, deadline) else {
                let got = results.iter().filter(|r| r.is_some()).count();
                return Ok(Outcome::Failed(match (sender_up, first_seen) {
                    (None, _) => "the sender's session did not come up".to_string(),
                    (Some(_), false) => {
                        format!("routes not propagated: no receiver got a prefix within {} s", NO_ROUTES_WAIT.as_secs())
                    }
                    (Some(_), true) => format!("timed out: {got} of {k} receivers got all {n} prefixes"),
                }));
            };
            match (who, line.split_whitespace().next()) {
                (Who::Sender, Some("ESTABLISHED")) => {
                    sender_up = Some(Instant::now());
                    run_deadline = Instant::now() + RUN_WAIT;
                }
                (Who::Sender, Some("RESULT")) => sent = Some(fields(&line)),
                (Who::Receiver(_), Some("FIRST")) => first_seen = true,
                (Who::Receiver(i), Some("RESULT")) => {
                    let f = fields(&line);
                    if f.get("status").map(String::as_str) != Some("ok") {
                        return Ok(Outcome::Failed(format!("receiver {i}: {line}")));
                    }
                    results[i] = Some(f);
                }
                _ => {}
            }
        }
        let rss_after_kib = rss_kib(subject.pid())?;
        let sent = sent.expect("the loop ends with the sender's result");
        let results: Vec<HashMap<String, String>> = results.into_iter().map(Option::unwrap).collect();
        let first_ms: u64 = field(&sent, "first_ms")?;
        let mut last_ms = 0u64;
        for r in &results {
            last_ms = last_ms.max(field(r, "last_ms")?);
        }
        drop(procs);
        Ok(Outcome::Done(Measured {
            time: Duration::from_millis(last_ms.saturating_sub(first_ms)),
            send_time: Duration::from_secs_f64(field(&sent, "elapsed_s")?),
            rss_before_kib,
            rss_after_kib,
            updates: field(&results[0], "announcing_updates")?,
            prefixes_per_update: field(&results[0], "prefixes_per_update")?,
            receivers: k,
            spread: (Duration::ZERO, Duration::ZERO, 1),
        }))
    }
}

fn next_line(lines: &Receiver<(Who, String)>, deadline: Instant) -> Option<(Who, String)> {
    lines.recv_timeout(deadline.saturating_duration_since(Instant::now())).ok()
}

// ---------------------------------------------------------------------------------------
// Report

fn row(scenario: &str, router: &str, outcome: &Outcome, n: usize) {
    match outcome {
        Outcome::Done(m) => {
            let delta = m.rss_after_kib.saturating_sub(m.rss_before_kib) as f64 * 1024.0;
            let aggregate = if m.receivers > 1 {
                format!(
                    ", {:.0} prefixes/s over all receivers",
                    (n * m.receivers) as f64 / m.time.as_secs_f64().max(1e-3)
                )
            } else {
                String::new()
            };
            let (fastest, slowest, runs) = m.spread;
            let (fastest, slowest) = (fastest.as_secs_f64(), slowest.as_secs_f64());
            let time = m.time.as_secs_f64();
            let rate = n as f64 / time.max(1e-3);
            let (delta_mb, per_route) = (delta / 1e6, delta / n as f64);
            let (before_mb, after_mb) = (m.rss_before_kib as f64 * 1024.0 / 1e6, m.rss_after_kib as f64 * 1024.0 / 1e6);
            let send = m.send_time.as_secs_f64();
            println!(
                "{scenario:<10} {router:<6} {time:>9.3} {rate:>12.0} {delta_mb:>10.1} {per_route:>11.1}   median of {runs} \
                 ({fastest:.3}-{slowest:.3} s); {before_mb:.0}->{after_mb:.0} MB, send {send:.3} s, {} UPDATEs of {:.1} \
                 prefixes to each receiver{aggregate}",
                m.updates, m.prefixes_per_update
            );
        }
        Outcome::Failed(why) => {
            let why: Vec<&str> = why.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            let why = why.join(" | ");
            println!("{scenario:<10} {router:<6} {:>9} {:>12} {:>10} {:>11}   {router}: {why}", "-", "-", "-", "-");
        }
    }
}

fn ratio_row(scenario: &str, tern: &Outcome, bird: &Outcome, n: usize) {
    let (Outcome::Done(t), Outcome::Done(b)) = (tern, bird) else {
        println!(
            "{scenario:<10} {:<6} {:>9} {:>12} {:>10} {:>11}   no ratio: a router has no numbers",
            "t/B", "-", "-", "-", "-"
        );
        return;
    };
    let time = t.time.as_secs_f64() / b.time.as_secs_f64().max(1e-3);
    let per_route = |m: &Measured| m.rss_after_kib.saturating_sub(m.rss_before_kib) as f64 * 1024.0 / n as f64;
    let mem = per_route(t) / per_route(b).max(1e-9);
    let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
    println!(
        "{scenario:<10} {:<6} {time:>9.2} {:>12.2} {mem:>10.2} {mem:>11.2}   time target <= 0.50: {}, memory target <= 1.00: {}",
        "t/B",
        1.0 / time,
        verdict(time <= 0.5),
        verdict(mem <= 1.0)
    );
}

/// The run with the median time, with the spread of all of them.
fn median(mut all: Vec<Measured>) -> Outcome {
    all.sort_by_key(|m| m.time);
    let spread = (all[0].time, all[all.len() - 1].time, all.len());
    let mut m = all.swap_remove(all.len() / 2);
    m.spread = spread;
    Outcome::Done(m)
}

fn runs() -> usize {
    std::env::var("TERN_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).filter(|r| *r > 0).unwrap_or(DEFAULT_RUNS)
}

fn prefixes() -> usize {
    std::env::var("TERN_BENCH_PREFIXES").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_PREFIXES)
}

fn routers() -> Vec<RouterKind> {
    let wanted = std::env::var("TERN_BENCH_ROUTERS").unwrap_or_else(|_| "tern,bird".into());
    let mut kinds = Vec::new();
    for name in wanted.split(',').map(str::trim) {
        match name {
            "tern" => kinds.push(RouterKind::Tern),
            "bird" if which("bird").is_some() => kinds.push(RouterKind::Bird),
            "bird" => println!("(bird is not installed: BIRD rows skipped; apt-get install bird2)"),
            other => println!("(TERN_BENCH_ROUTERS: unknown router '{other}' ignored)"),
        }
    }
    kinds
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--tern-router") {
        if let Err(e) = tern_router_main(&args[i + 1..]) {
            eprintln!("tern router child: {e:#}");
            std::process::exit(1);
        }
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and gets a smoke run.
    if !args.iter().any(|a| a == "--bench") {
        println!("fulltable bench: run with `cargo bench --bench fulltable`");
        return;
    }
    let n = prefixes();
    let runs = runs();
    let tern_load = PathBuf::from(env!("CARGO_BIN_EXE_tern-load"));
    let kinds = routers();
    println!(
        "fulltable: {n} IPv4 prefixes, sender -> ROUTER -> receiver(s) over loopback TCP, tern-load peers, \
         {runs} runs each, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "time: first UPDATE octet sent -> last prefix received by the last receiver; RSS: router VmRSS after - before"
    );
    println!();
    println!(
        "{:<10} {:<6} {:>9} {:>12} {:>10} {:>11}   notes",
        "scenario", "router", "time (s)", "prefixes/s", "RSS d (MB)", "bytes/route"
    );
    let started = Instant::now();
    let mut run_no = 0u8;
    for scenario in &SCENARIOS {
        // Runs alternate between the routers, each with a fresh router process.
        let mut measured: Vec<(RouterKind, Result<Vec<Measured>, String>)> =
            kinds.iter().map(|k| (*k, Ok(Vec::new()))).collect();
        for _ in 0..runs {
            for (kind, results) in &mut measured {
                let Ok(done) = results else { continue };
                let run = Run {
                    scenario,
                    kind: *kind,
                    topo: Topology::new(run_no, scenario.receivers),
                    prefixes: n,
                    tern_load: &tern_load,
                };
                run_no = run_no.wrapping_add(1);
                match run.execute() {
                    Ok(Outcome::Done(m)) => done.push(m),
                    Ok(Outcome::Failed(why)) => *results = Err(why),
                    Err(e) => *results = Err(format!("error: {e:#}")),
                }
            }
        }
        let outcomes: Vec<(RouterKind, Outcome)> = measured
            .into_iter()
            .map(|(kind, results)| {
                let outcome = match results {
                    Ok(all) => median(all),
                    Err(why) => Outcome::Failed(why),
                };
                row(scenario.name, kind.name(), &outcome, n);
                (kind, outcome)
            })
            .collect();
        let get = |k| outcomes.iter().find(|(kind, _)| *kind == k).map(|(_, o)| o);
        if let (Some(t), Some(b)) = (get(RouterKind::Tern), get(RouterKind::Bird)) {
            ratio_row(scenario.name, t, b, n);
        }
    }
    println!();
    println!("(ratio rows t/B: tern / BIRD for time, BIRD / tern for prefixes/s, tern / BIRD for memory)");
    println!("(total {:.0} s)", started.elapsed().as_secs_f64());
}
