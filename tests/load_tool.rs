//! `tern-load` end to end: a sender straight into a receiver over loopback TCP
//! (127.0.31.1 → 127.0.31.2, port 179), 10,000 prefixes of each table shape; the receiver
//! must count exactly 10,000 distinct prefixes, and both must print their RESULT lines.

use std::collections::HashMap;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const PREFIXES: usize = 10_000;

fn tern_load(args: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tern-load"));
    c.args(args.split_whitespace()).stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

/// Waits for a child for at most `limit`, killing it past that.
fn finish(mut child: Child, limit: Duration) -> Output {
    let end = Instant::now() + limit;
    while child.try_wait().expect("child can be waited for").is_none() {
        if Instant::now() > end {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("child output")
}

/// The `KEY=VALUE` fields of the RESULT line.
fn result(out: &Output) -> HashMap<String, String> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find(|l| l.starts_with("RESULT ")).unwrap_or_else(|| {
        panic!("no RESULT line; stdout:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr))
    });
    line.split_whitespace().filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.into(), v.into())).collect()
}

#[test]
fn sender_to_receiver_counts_every_prefix() {
    for mode in ["dense", "diverse"] {
        let receiver = tern_load(&format!(
            "receive --listen 127.0.31.2 --asn 4200000200 --peer-asn 4200000100 --expect {PREFIXES} --timeout 30"
        ))
        .spawn()
        .expect("receiver starts");
        let sender = tern_load(&format!(
            "send --connect 127.0.31.2 --bind 127.0.31.1 --asn 4200000100 --peer-asn 4200000200 \
             --prefixes {PREFIXES} --mode {mode} --keep 30 --timeout 30"
        ))
        .spawn()
        .expect("sender starts");
        let rx = finish(receiver, Duration::from_secs(40));
        // The receiver closes with a Cease once it has everything; that ends the sender.
        let tx = finish(sender, Duration::from_secs(10));
        let (r, s) = (result(&rx), result(&tx));
        assert!(rx.status.success(), "{mode}: receiver failed: {}", String::from_utf8_lossy(&rx.stderr));
        assert!(tx.status.success(), "{mode}: sender failed: {}", String::from_utf8_lossy(&tx.stderr));
        assert_eq!(r["status"], "ok", "{mode}");
        assert_eq!(r["prefixes"], PREFIXES.to_string(), "{mode}: receiver count");
        assert_eq!(r["announced"], PREFIXES.to_string(), "{mode}: nothing announced twice");
        assert_eq!(r["withdrawn"], "0");
        assert_eq!(s["prefixes"], PREFIXES.to_string(), "{mode}: sender count");
        assert_eq!(r["updates"], s["updates"], "{mode}: every UPDATE arrived, none before the last prefix is left");
        let first_sent: u64 = s["first_ms"].parse().unwrap();
        let first_received: u64 = r["first_ms"].parse().unwrap();
        let last_received: u64 = r["last_ms"].parse().unwrap();
        assert!(first_sent <= first_received && first_received <= last_received, "{mode}: timestamps in order");
        let per_update: f64 = r["prefixes_per_update"].parse().unwrap();
        if mode == "dense" {
            assert!(per_update > 900.0, "dense packs about 1,000 prefixes per UPDATE: {per_update}");
        } else {
            assert!(per_update < 10.0, "diverse has few prefixes per UPDATE: {per_update}");
        }
    }
}
