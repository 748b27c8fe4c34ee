//! Sessions benchmark: N BGP sessions between two tern processes over loopback.
//!
//! The measured side (this process) listens on 0.0.0.0:11179 and has N passive neighbors
//! 127.2.x.y; the load side (this binary re-run with `--load-side`) has one router with N
//! neighbors 127.1.x.y:11179, each bound to its own 127.2.x.y. Printed: time until all N
//! are Established, threads per established peer, resident memory, and CPU used while idle
//! with keepalive 3 s / hold 9 s. `TERN_BENCH_SESSIONS` sets N (default 1000).
//!
//! Targets (issue 3): all Established within 10 s, at most two threads per established peer
//! plus a fixed few, idle CPU under 2 % of one core.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tern::connection::tcp::Tcp;
use tern::fsm::State;
use tern::{NeighborConfig, Router, RouterConfig};

const PORT: u16 = 11179;

fn addr(net: u8, i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, net, (i / 250) as u8, (i % 250 + 1) as u8))
}

fn neighbor(name: String, address: IpAddr, remote_asn: u32, cfg: &RouterConfig) -> NeighborConfig {
    let mut n = NeighborConfig::new(&name, address, remote_asn, cfg);
    n.session.hold_time = 9;
    n.session.keepalive = Duration::from_secs(3);
    n.session.connect_retry = Duration::from_secs(2);
    n
}

fn sessions() -> usize {
    std::env::var("TERN_BENCH_SESSIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)
}

/// The load side: N active neighbors; runs until its standard input closes.
fn load_side(n: usize) {
    let mut cfg = RouterConfig::new(65002, Ipv4Addr::new(198, 18, 0, 2));
    cfg.listen = Vec::new();
    let mut router = Router::start(cfg.clone(), Arc::new(Tcp), tern::log::discard()).expect("load router starts");
    for i in 0..n {
        let mut nb = neighbor(format!("m{i}"), addr(1, i), 65001, &cfg);
        nb.port = PORT;
        nb.local_address = Some(addr(2, i));
        router.add_neighbor(nb).expect("neighbor added");
    }
    let _ = std::io::stdin().read(&mut [0u8; 1]);
    router.shutdown(None);
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or(0)
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map(|d| d.count()).unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n = sessions();
    if args.iter().any(|a| a == "--load-side") {
        return load_side(n);
    }
    let base_threads = threads();
    let mut cfg = RouterConfig::new(65001, Ipv4Addr::new(198, 18, 0, 1));
    cfg.listen = vec![SocketAddr::from(([0, 0, 0, 0], PORT))];
    let mut router = Router::start(cfg.clone(), Arc::new(Tcp), tern::log::discard()).expect("router starts");
    for i in 0..n {
        let mut nb = neighbor(format!("l{i}"), addr(2, i), 65002, &cfg);
        nb.session.passive = true;
        router.add_neighbor(nb).expect("neighbor added");
    }
    let rss_before = rss_kib();

    let start = Instant::now();
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .arg("--load-side")
        .env("TERN_BENCH_SESSIONS", n.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("load side starts");
    let limit = start + Duration::from_secs(120);
    let mut up = 0;
    while Instant::now() < limit {
        up = router.neighbors().iter().filter(|s| s.state == State::Established).count();
        if up == n {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = start.elapsed();
    let thread_count = threads() - base_threads;
    let rss = rss_kib();

    // Idle: only keepalives (every 3 s per session) for 15 s.
    let idle = Duration::from_secs(15);
    let (cpu0, t0) = (tern_platform::process::cpu_time(), Instant::now());
    std::thread::sleep(idle);
    let (cpu, wall) = (tern_platform::process::cpu_time() - cpu0, t0.elapsed());
    let still_up = router.neighbors().iter().filter(|s| s.state == State::Established).count();

    drop(child.stdin.take());
    let _ = child.wait();
    router.shutdown(None);

    let per_peer = thread_count as f64 / n as f64;
    let idle_pct = 100.0 * cpu.as_secs_f64() / wall.as_secs_f64();
    let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
    println!("sessions: {n} peers between two tern processes over loopback TCP");
    println!(
        "  established         {up}/{n} in {:.2} s            target 10 s     {}",
        elapsed.as_secs_f64(),
        verdict(up == n && elapsed < Duration::from_secs(10))
    );
    println!(
        "  threads             {thread_count} ({per_peer:.3} per peer)        target <= 2 per peer + a few   {}",
        verdict(thread_count <= 2 * n + 8)
    );
    println!(
        "  resident memory     {} KiB ({} KiB before the sessions came up, {:.1} KiB per session)",
        rss,
        rss_before,
        (rss.saturating_sub(rss_before)) as f64 / n as f64
    );
    println!(
        "  idle cpu            {idle_pct:.2} % of one core over {:.0} s (keepalive 3 s)   target < 2 %   {}",
        wall.as_secs_f64(),
        verdict(idle_pct < 2.0)
    );
    println!("  still established   {still_up}/{n} after the idle period");
}
