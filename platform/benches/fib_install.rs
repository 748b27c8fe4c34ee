//! How fast tern installs and removes a full table's worth of kernel routes.
//!
//! Inside a network namespace of its own (`tern-fib-bench-<pid>`, deleted at the end, also
//! on panic) with a veth pair holding 100.64.0.1/24: installs 1,000,000 IPv4 /24 routes
//! (1.0.0.0/24, 1.0.1.0/24, …) via 100.64.0.2 with protocol bgp and metric 20 in the
//! namespace's main table, through `Fib::apply` in batches of 100,000 as the FIB thread
//! would pass them; lists them (`Fib::list_own`); removes them (`Fib::flush_own`, as tern
//! does on start and exit), timing each step. Then, as the baseline an operator knows, does
//! the same with `ip -batch` (`route replace` lines in the same order; `route del` lines in
//! descending order, the order `flush_own` uses). The host's own tables are not touched.
//!
//! `TERN_FIB_ROUTES=N` changes the count; `TERN_FIB_BASELINE=0` skips `ip -batch`.
//! Needs root (and `ip netns`); otherwise prints a note and exits.
//!
//! Run: `cargo bench -p tern-platform --bench fib_install`

#[cfg(target_os = "linux")]
fn main() {
    bench::run();
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("fib_install: kernel route benchmark runs on Linux only");
}

#[cfg(target_os = "linux")]
mod bench {
    use std::io::Write;
    use std::net::{IpAddr, Ipv4Addr};
    use std::path::PathBuf;
    use std::process::Command;
    use std::time::{Duration, Instant};

    use tern_platform::fib::{self, Change, Fib, Route, Settings};

    /// Changes per `apply` call.
    const BATCH: usize = 100_000;
    const GATEWAY: Ipv4Addr = Ipv4Addr::new(100, 64, 0, 2);

    struct Netns(String);

    impl Drop for Netns {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
        }
    }

    impl Netns {
        fn ip(&self, args: &[&str]) -> String {
            let out = Command::new("ip").args(["-n", &self.0]).args(args).output().expect("run ip");
            assert!(out.status.success(), "ip -n {} {args:?}: {}", self.0, String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap()
        }

        fn count_bgp_routes(&self) -> usize {
            let out = Command::new("ip")
                .args(["-n", &self.0, "-4", "route", "show", "table", "main", "proto", "bgp"])
                .output()
                .expect("run ip");
            out.stdout.iter().filter(|&&b| b == b'\n').count()
        }
    }

    fn dst(i: usize) -> Ipv4Addr {
        Ipv4Addr::from((1u32 << 24) + ((i as u32) << 8))
    }

    fn label(n: usize) -> String {
        if n >= 1_000_000 && n % 1_000_000 == 0 {
            format!("{}M", n / 1_000_000)
        } else {
            n.to_string()
        }
    }

    fn report(what: &str, n: usize, took: Duration) {
        println!(
            "{what} {} routes: {:.2} s ({:.0} routes/s)",
            label(n),
            took.as_secs_f64(),
            n as f64 / took.as_secs_f64()
        );
    }

    pub fn run() {
        let n: usize = std::env::var("TERN_FIB_ROUTES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
        let baseline = std::env::var("TERN_FIB_BASELINE").map_or(true, |v| v != "0");
        assert!(n <= 1 << 24, "TERN_FIB_ROUTES: at most {} /24s fit from 1.0.0.0 up", 1 << 24);
        let name = format!("tern-fib-bench-{}", std::process::id());
        match Command::new("ip").args(["netns", "add", &name]).output() {
            Ok(o) if o.status.success() => {}
            _ => {
                eprintln!("note: cannot make a network namespace (root and iproute2 needed); benchmark skipped");
                return;
            }
        }
        let ns = Netns(name);
        ns.ip(&["link", "set", "lo", "up"]);
        ns.ip(&["link", "add", "d0", "type", "veth", "peer", "name", "d1"]);
        ns.ip(&["link", "set", "d1", "up"]);
        ns.ip(&["link", "set", "d0", "up"]);
        ns.ip(&["addr", "add", "100.64.0.1/24", "dev", "d0"]);

        let path = PathBuf::from("/var/run/netns").join(&ns.0);
        let (install, list, remove) = std::thread::spawn(move || {
            fib::enter_netns(&path).expect("enter the benchmark's namespace");
            let settings = Settings { table: fib::TABLE_MAIN, metric: 20, protocol: fib::PROTO_BGP };
            let mut fib = Fib::open(settings).expect("open the FIB");
            let mut batch = Vec::with_capacity(BATCH);

            let start = Instant::now();
            for first in (0..n).step_by(BATCH) {
                batch.clear();
                batch.extend((first..n.min(first + BATCH)).map(|i| {
                    Change::Replace(Route { dst: IpAddr::V4(dst(i)), len: 24, next_hops: vec![IpAddr::V4(GATEWAY)] })
                }));
                let failures = fib.apply(&batch).expect("netlink");
                assert!(failures.is_empty(), "{} failures, first {:?}", failures.len(), failures.first());
            }
            let install = start.elapsed();

            let start = Instant::now();
            let listed = fib.list_own().expect("list").len();
            let list = start.elapsed();
            assert_eq!(listed, n);

            // As tern does on start and exit: everything of ours, in one call.
            let start = Instant::now();
            let removed = fib.flush_own().expect("flush");
            assert_eq!(removed, n);
            (install, list, start.elapsed())
        })
        .join()
        .expect("benchmark thread");
        report("install", n, install);
        report("list", n, list);
        report("remove", n, remove);
        assert_eq!(ns.count_bgp_routes(), 0, "routes left behind");

        if baseline {
            ip_batch(&ns, n);
        }
    }

    /// The same with `ip -batch`, one request and one ack at a time.
    fn ip_batch(ns: &Netns, n: usize) {
        let file = std::env::temp_dir().join(format!("{}.ip-batch", ns.0));
        let run = |verb: &str| -> Duration {
            let mut w = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
            for i in 0..n {
                if verb == "replace" {
                    writeln!(w, "route replace {}/24 via {GATEWAY} proto bgp metric 20", dst(i)).unwrap();
                } else {
                    // Descending, as flush_own does: see there why.
                    writeln!(w, "route del {}/24 proto bgp metric 20", dst(n - 1 - i)).unwrap();
                }
            }
            w.flush().unwrap();
            drop(w);
            let start = Instant::now();
            let out = Command::new("ip").args(["-n", &ns.0, "-batch"]).arg(&file).output().expect("run ip -batch");
            let took = start.elapsed();
            assert!(out.status.success(), "ip -batch: {}", String::from_utf8_lossy(&out.stderr));
            took
        };
        let install = run("replace");
        assert_eq!(ns.count_bgp_routes(), n);
        let remove = run("del");
        let _ = std::fs::remove_file(&file);
        report("ip -batch install", n, install);
        report("ip -batch remove", n, remove);
        assert_eq!(ns.count_bgp_routes(), 0, "routes left behind");
    }
}
