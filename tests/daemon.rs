//! ternd and ternctl end to end, as real processes on loopback: two (or three) daemons
//! with their own configuration files, admin sockets and state directories peer with each
//! other; everything is observed through `ternctl --json`, as an operator's script would.
//!
//! Each daemon is stopped by its PID when the test ends, pass or fail, and its directory
//! removed.

mod ternd;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use tern_platform::process::{send_signal, Signal};
use ternd::{wait_for, Ternd, TERNCTL, TERND};

/// A config for a daemon at `me` (AS `asn`) with the given neighbor blocks.
fn config(asn: u32, me: &str, neighbors: &str, extra: &str) -> String {
    ternd::router_config(asn, me, &[&format!("{me}:179")], "", "debug") + &format!("{extra}\n{neighbors}")
}

fn neighbor(name: &str, address: &str, local: &str, asn: u32, extra: &str) -> String {
    format!(
        r#"
[[neighbor]]
name = "{name}"
address = "{address}"
local_address = "{local}"
remote_asn = {asn}
import = "accept"
export = "accept"
{extra}
"#
    )
}

fn established(d: &Ternd, name: &str) {
    wait_for(&format!("{} to reach Established with {name}", d.name), Duration::from_secs(20), || {
        d.state(name) == "established"
    });
}

#[test]
fn two_daemons_peer_exchange_an_announced_prefix_and_keep_it_across_a_restart() {
    let (a1, a2) = ("127.0.60.1", "127.0.60.2");
    let mut r1 = Ternd::new("pair", "r1");
    let mut r2 = Ternd::new("pair", "r2");
    r1.write_config(&config(4200000001, a1, &neighbor("r2", a2, a1, 65002, ""), ""));
    r2.write_config(&config(65002, a2, &neighbor("r1", a1, a2, 4200000001, ""), ""));
    r1.start();
    r2.start();
    established(&r1, "r2");
    established(&r2, "r1");

    // The summary names the neighbor and its state.
    let s = r2.ctl_json(&["show", "summary"]).unwrap();
    assert_eq!(s["asn"], 65002);
    assert_eq!(s["neighbors"][0]["name"], "r1");
    assert_eq!(s["neighbors"][0]["state"], "established");

    // Announce on r1; r2 learns it with r1's AS and next hop.
    let out = r1.ctl(&["announce", "198.51.100.0/24", "--community", "65000:7"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    wait_for("r2 to learn 198.51.100.0/24", Duration::from_secs(10), || r2.has_route("198.51.100.0/24"));
    let routes = r2.ctl_json(&["show", "route", "198.51.100.7"]).unwrap();
    let path = &routes["routes"][0]["paths"][0];
    assert_eq!(routes["routes"][0]["prefix"], "198.51.100.0/24", "longest match of an address");
    assert_eq!(path["as_path"], "4200000001");
    assert_eq!(path["next_hop"], a1);
    assert_eq!(path["communities"][0], "65000:7");
    assert_eq!(path["from"], "r1");
    // r2's Adj-RIB-In from r1 has it; r1's Adj-RIB-Out to r2 too, with r1's AS prepended.
    let inn = r2.ctl_json(&["show", "route", "--neighbor", "r1", "--in"]).unwrap();
    assert_eq!(inn["routes"][0]["prefix"], "198.51.100.0/24");
    let out_view = r1.ctl_json(&["show", "route", "--neighbor", "r2", "--out"]).unwrap();
    assert_eq!(out_view["routes"][0]["paths"][0]["as_path"], "4200000001");
    // Text output for people.
    let text = String::from_utf8(r2.ctl(&["show", "route"]).stdout).unwrap();
    assert!(text.contains("198.51.100.0/24") && text.contains("from r1"), "{text}");

    // SIGTERM: r1 exits 0, quickly, and r2 saw Cease / Administrative Shutdown with the
    // RFC 9003 message; the route is gone from r2.
    let (status, took) = r1.stop();
    assert!(status.success(), "ternd exit status {status}");
    assert!(took < Duration::from_secs(5), "stopping took {took:?}");
    wait_for("r2 to see r1 go down", Duration::from_secs(10), || r2.state("r1") != "established");
    let last = r2.neighbor("r1")["last_notification_received"].as_str().unwrap_or_default().to_string();
    assert!(last.contains("(6/2)") && last.contains("tern is shutting down"), "{last}");
    assert!(!r2.has_route("198.51.100.0/24"));

    // Restarted with the same state directory, r1 announces the prefix again.
    r1.start();
    established(&r2, "r1");
    wait_for("r2 to learn the stored prefix again", Duration::from_secs(15), || r2.has_route("198.51.100.0/24"));

    // Withdrawn: gone from r2, and not announced after another restart.
    assert!(r1.ctl(&["withdraw", "198.51.100.0/24"]).status.success());
    wait_for("r2 to lose the prefix", Duration::from_secs(10), || !r2.has_route("198.51.100.0/24"));
    r1.stop();
    r1.start();
    established(&r2, "r1");
    std::thread::sleep(Duration::from_secs(1));
    assert!(!r2.has_route("198.51.100.0/24"));
    r1.stop();
    r2.stop();
}

#[test]
fn reload_changes_one_policy_without_touching_the_other_session_and_refuses_a_broken_config() {
    let (a1, a2, a3) = ("127.0.61.1", "127.0.61.2", "127.0.61.3");
    let mut r1 = Ternd::new("reload", "r1");
    let mut r2 = Ternd::new("reload", "r2");
    let mut r3 = Ternd::new("reload", "r3");
    let origin = "[[origin]]\nprefix = \"203.0.113.0/24\"\n";
    let r1_neighbors = |export_r2: &str| {
        format!(
            "{}{}",
            neighbor("r2", a2, a1, 65002, "").replace("export = \"accept\"", &format!("export = \"{export_r2}\"")),
            neighbor("r3", a3, a1, 65003, "")
        )
    };
    r1.write_config(&config(65001, a1, &r1_neighbors("accept"), origin));
    r2.write_config(&config(65002, a2, &neighbor("r1", a1, a2, 65001, ""), ""));
    r3.write_config(&config(65003, a3, &neighbor("r1", a1, a3, 65001, ""), ""));
    for d in [&mut r1, &mut r2, &mut r3] {
        d.start();
    }
    established(&r1, "r2");
    established(&r1, "r3");
    wait_for("r2 and r3 to learn r1's origin", Duration::from_secs(10), || {
        r2.has_route("203.0.113.0/24") && r3.has_route("203.0.113.0/24")
    });
    let before2 = r1.neighbor("r2");
    let before3 = r1.neighbor("r3");

    // Only r2's export policy changes: r2 loses the route, without a session reset; r3
    // keeps its session, untouched.
    r1.write_config(&config(65001, a1, &r1_neighbors("reject"), origin));
    let reply = r1.ctl_json(&["reload"]).unwrap();
    assert!(reply["message"].as_str().unwrap().contains("new routing rules"), "{reply}");
    wait_for("r2 to lose the route", Duration::from_secs(10), || !r2.has_route("203.0.113.0/24"));
    std::thread::sleep(Duration::from_secs(3));
    let after2 = r1.neighbor("r2");
    let after3 = r1.neighbor("r3");
    assert_eq!(after2["state"], "established");
    assert_eq!(after2["established_count"], before2["established_count"], "r2's session was reset");
    assert_eq!(after3["established_count"], before3["established_count"], "r3's session was reset");
    assert!(after3["uptime_secs"].as_u64().unwrap() >= before3["uptime_secs"].as_u64().unwrap() + 2);
    assert!(r3.has_route("203.0.113.0/24"));

    // A broken config is refused, with its error, by ternctl reload and by SIGHUP; routing
    // carries on with the running configuration.
    std::fs::write(r1.config_path(), "[router]\nasn = 65001\nrouter_id = \"not an address\"\n").unwrap();
    let err = r1.ctl_json(&["reload"]).unwrap_err();
    assert!(err.contains("router_id") && err.contains("tern.toml"), "{err}");
    send_signal(r1.pid(), Signal::Hup).unwrap();
    std::thread::sleep(Duration::from_secs(1));
    assert!(r1.log().contains("reload refused"), "{}", r1.log());
    assert_eq!(r1.state("r3"), "established");
    assert!(r3.has_route("203.0.113.0/24"));
    assert_eq!(r1.neighbor("r3")["established_count"], before3["established_count"]);

    // SIGHUP with a good config: removing r2 sends it Cease / Peer De-configured.
    r1.write_config(&config(65001, a1, &neighbor("r3", a3, a1, 65003, ""), origin));
    send_signal(r1.pid(), Signal::Hup).unwrap();
    wait_for("r2 to see the session end", Duration::from_secs(10), || r2.state("r1") != "established");
    let last = r2.neighbor("r1")["last_notification_received"].as_str().unwrap_or_default().to_string();
    assert!(last.contains("(6/3)"), "{last}");
    assert_eq!(r1.ctl_json(&["show", "summary"]).unwrap()["neighbors"].as_array().unwrap().len(), 1);
    assert_eq!(r1.neighbor("r3")["established_count"], before3["established_count"]);
    for d in [&mut r1, &mut r2, &mut r3] {
        d.stop();
    }
}

#[test]
fn disable_survives_a_restart_and_enable_brings_the_session_back() {
    let (a1, a2) = ("127.0.62.1", "127.0.62.2");
    let mut r1 = Ternd::new("disable", "r1");
    let mut r2 = Ternd::new("disable", "r2");
    r1.write_config(&config(65001, a1, &neighbor("r2", a2, a1, 65002, ""), ""));
    r2.write_config(&config(65002, a2, &neighbor("r1", a1, a2, 65001, ""), ""));
    r1.start();
    r2.start();
    established(&r1, "r2");
    assert!(r1.ctl(&["disable", "r2", "--message", "maintenance window"]).status.success());
    wait_for("r2 to go down", Duration::from_secs(10), || r2.state("r1") != "established");
    let last = r2.neighbor("r1")["last_notification_received"].as_str().unwrap_or_default().to_string();
    assert!(last.contains("(6/2)") && last.contains("maintenance window"), "{last}");
    r1.stop();
    r1.start();
    std::thread::sleep(Duration::from_secs(3));
    let n = r1.neighbor("r2");
    assert_eq!(n["disabled"], true);
    assert_ne!(n["state"], "established");
    // A reload that toggles the configuration's `disabled` does not undo the operator's.
    let cfg = |extra: &str| config(65001, a1, &neighbor("r2", a2, a1, 65002, extra), "");
    r1.write_config(&cfg("disabled = true"));
    r1.ctl_json(&["reload"]).unwrap();
    r1.write_config(&cfg(""));
    r1.ctl_json(&["reload"]).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(r1.neighbor("r2")["disabled"], true, "the operator's disable holds over reloads");
    assert_ne!(r1.state("r2"), "established");
    // r2 keeps being refused with the operator's message, also after r1's restart.
    let last = r2.neighbor("r1")["last_notification_received"].as_str().unwrap_or_default().to_string();
    assert!(last.contains("maintenance window"), "{last}");
    assert!(r1.ctl(&["enable", "r2"]).status.success());
    established(&r1, "r2");
    r1.stop();
    r2.stop();
}

#[test]
fn ternctl_errors_are_clear_and_exit_non_zero() {
    let dir = std::env::temp_dir().join(format!("tern-daemon-ctl-{}", std::process::id()));
    let sock = dir.join("nobody.sock");
    let out = Command::new(TERNCTL).arg("--socket").arg(&sock).args(["show", "summary"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&sock.display().to_string()) && err.contains("no tern daemon"), "{err}");
    let out = Command::new(TERNCTL).args(["show", "everything"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown command: show everything"));

    let a1 = "127.0.63.1";
    let mut r1 = Ternd::new("ctl", "r1");
    r1.write_config(&config(65001, a1, &neighbor("r2", "127.0.63.2", a1, 65002, "passive = true"), ""));
    r1.start();
    let out = r1.ctl(&["reset", "r9"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no neighbor \"r9\""));
    let out = r1.ctl(&["announce", "10.0.0.1/8"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("host bits"));
    let m = String::from_utf8(r1.ctl(&["show", "metrics"]).stdout).unwrap();
    assert!(m.contains("tern_neighbor_state{neighbor=\"r2\",address=\"127.0.63.2\"} "), "{m}");
    assert!(m.trim_end().ends_with("# EOF"));
    assert!(r1.ctl(&["log-level", "trace"]).status.success());
    assert_eq!(r1.ctl(&["log-level", "loud"]).status.code(), Some(1));
    r1.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_validates_without_starting() {
    let d = Ternd::new("check", "r1");
    d.write_config(&config(65001, "127.0.64.1", &neighbor("r2", "127.0.64.2", "127.0.64.1", 65002, ""), ""));
    let ok = Command::new(TERND).arg("--check").arg("--config").arg(d.config_path()).output().unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(!Path::new(&d.socket()).exists());
    std::fs::write(d.config_path(), "[router]\nasn = 65001\nrouter_id = \"127.0.64.1\"\nlisten = [\"127.0.64.1:179\"]\n[[neighbor]]\nname = \"r2\"\naddress = \"127.0.64.2\"\nremote_as = 65002\n").unwrap();
    let bad = Command::new(TERND).arg("--check").arg("--config").arg(d.config_path()).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("tern.toml:8") && err.contains("remote_as"), "{err}");
}

#[test]
fn json_logs_are_one_object_per_line_and_the_level_changes_live() {
    let a1 = "127.0.65.1";
    let mut r1 = Ternd::new("json", "r1");
    let cfg = config(65001, a1, &neighbor("r2", "127.0.65.2", a1, 65002, "passive = true"), "")
        .replace("level = \"debug\"", "level = \"info\"\nformat = \"json\"");
    r1.write_config(&cfg);
    r1.start();
    // At info, the admin requests (logged at debug) do not show; after log-level debug
    // they do.
    r1.ctl_ok(&["show", "summary"]);
    assert!(!r1.log().contains("admin request"), "debug line at info level");
    r1.ctl_ok(&["log-level", "debug"]);
    r1.ctl_ok(&["show", "summary"]);
    wait_for("a debug line", Duration::from_secs(5), || r1.log().contains("admin request"));
    r1.stop();
    let log = r1.log();
    let mut lines = 0;
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON object ({e}): {line}"));
        assert!(v["msg"].is_string() && v["level"].is_string() && v["ts"].is_string(), "{line}");
        lines += 1;
    }
    assert!(lines >= 5, "{log}");
    assert!(log.contains("\"msg\":\"ternd stopped\""), "{log}");
}
