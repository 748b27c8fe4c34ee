//! Shared harness for tests that run real `ternd` processes and drive them with
//! `ternctl --json`, as an operator's script would: a [`Ternd`] with its own directory
//! (configuration, admin socket, state, log), a [`Process`] guard that stops whatever a test
//! started by its PID, and a [`Netns`] guard for tests that need addresses the host does not
//! have (IPv6 sessions between several speakers): a network namespace of the test's own,
//! removed when the guard drops, and a way to run any command inside it.
//!
//! Everything is stopped and removed on drop, pass or fail; on a failing test the daemon's
//! log is printed.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tern_platform::process::send_signal;
pub use tern_platform::process::Signal;

pub const TERND: &str = env!("CARGO_BIN_EXE_ternd");
pub const TERNCTL: &str = env!("CARGO_BIN_EXE_ternctl");

/// The `[router]`, `[admin]` and `[log]` sections of a test's configuration: short timers
/// (hold 6 s, keepalive 2 s, connect retry 1 s), and state and admin socket under the
/// test's directory (`@DIR@`). `router_extra` is more of `[router]` (or sections that
/// follow it).
pub fn router_config(asn: u32, router_id: &str, listen: &[&str], router_extra: &str, level: &str) -> String {
    let listen: Vec<String> = listen.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        r#"[router]
asn = {asn}
router_id = "{router_id}"
listen = [{}]
state_dir = "@DIR@/state"
hold_time = 6
keepalive = 2
connect_retry = 1
{router_extra}
[admin]
socket = "@DIR@/tern.sock"

[log]
level = "{level}"

"#,
        listen.join(", ")
    )
}

/// Polls `ok` every 100 ms until it holds; panics naming `what` after `timeout`.
pub fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Polls `probe` every 100 ms until `ok` holds for its value, and returns that value; panics
/// after `timeout` with the last value seen, so a failure shows what was there instead.
pub fn wait_until<T: Debug>(what: &str, timeout: Duration, mut probe: impl FnMut() -> T, ok: impl Fn(&T) -> bool) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        let v = probe();
        if ok(&v) {
            return v;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}; last seen:\n{v:#?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A unique number per call within this test process, for names of directories and
/// namespaces.
pub fn unique() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A private temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("tern-{tag}-{}-{}", std::process::id(), unique()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A network namespace of the test's own, with `lo` up (so all of 127.0.0.0/8 and `::1`
/// are there) and whatever addresses the test adds. Deleted on drop; a process the test
/// started in it and did not stop by then is killed by its PID first.
pub struct Netns {
    name: String,
}

impl Netns {
    pub fn new(tag: &str) -> Netns {
        // Names end up in /run/netns; short and unique per test process.
        let name = format!("tern-{tag}-{}-{}", std::process::id(), unique());
        let _ = run_quiet(Command::new("ip").args(["netns", "del", &name]));
        let out = Command::new("ip").args(["netns", "add", &name]).output().expect("run ip netns add");
        assert!(
            out.status.success(),
            "ip netns add {name} failed (these tests need root or CAP_SYS_ADMIN): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip -n NS ARGS`, which must succeed.
    pub fn ip(&self, args: &[&str]) {
        let out = Command::new("ip").arg("-n").arg(&self.name).args(args).output().expect("run ip");
        assert!(out.status.success(), "ip -n {} {args:?}: {}", self.name, String::from_utf8_lossy(&out.stderr));
    }

    /// Adds an address (with its length, `fd00:7e57::2/128`) to the namespace's `lo`.
    pub fn add_address(&self, cidr: &str) {
        let v6 = cidr.contains(':');
        let mut args = vec!["addr", "add", cidr, "dev", "lo"];
        if v6 {
            args.push("nodad");
        }
        self.ip(&args);
    }

    /// A command that runs `program` inside the namespace (`ip netns exec`, which execs
    /// the program: the child's PID is the program's).
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Anything still running in here was started by this test (nobody else knows the
        // namespace); stop it by PID so the namespace can go.
        if let Ok(out) = Command::new("ip").args(["netns", "pids", &self.name]).output() {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace().filter_map(|p| p.parse::<u32>().ok()) {
                let _ = send_signal(pid, Signal::Kill);
            }
        }
        let _ = run_quiet(Command::new("ip").args(["netns", "del", &self.name]));
    }
}

fn run_quiet(c: &mut Command) -> std::io::Result<ExitStatus> {
    c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status()
}

/// Where `cmd` is found on PATH (or in /usr/sbin, /sbin, /usr/lib/frr).
pub fn which(cmd: &str) -> Option<PathBuf> {
    if cmd.contains('/') {
        return Path::new(cmd).exists().then(|| PathBuf::from(cmd));
    }
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/lib/frr"])
        .map(|d| PathBuf::from(d).join(cmd))
        .find(|p| p.exists())
}

/// Panics with a message naming the Debian package when `program` is not installed.
pub fn require(program: &str, package: &str) -> PathBuf {
    which(program).unwrap_or_else(|| {
        panic!("`{program}` is not installed; this test needs the Debian package `{package}` (apt-get install {package}; .ci/run installs it)")
    })
}

/// The direct children of `pid`, from /proc.
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat")).ok().and_then(|s| {
                // pid (comm) state ppid ...; comm may hold spaces and parentheses.
                let rest = &s[s.rfind(')')? + 2..];
                rest.split_whitespace().nth(1)?.parse::<u32>().ok()
            }) == Some(pid)
        })
        .collect()
}

/// `pid` and every process below it.
fn tree(pid: u32) -> Vec<u32> {
    let mut all = vec![pid];
    let mut i = 0;
    while i < all.len() {
        let kids = children_of(all[i]);
        all.extend(kids);
        i += 1;
    }
    all
}

fn alive(pid: u32) -> bool {
    // A zombie has been reaped by nobody yet but runs no more.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.get(s.rfind(')')? + 2..).map(|r| !r.starts_with('Z')))
        .unwrap_or(false)
}

/// A process the test started, with stdout and stderr in a log file. Stopped by its PID
/// (and the PIDs of the children it forked, which some daemons do) on drop.
pub struct Process {
    name: String,
    child: Option<Child>,
    log: PathBuf,
}

impl Process {
    /// Starts `cmd`, appending its output to `log`.
    pub fn spawn(name: &str, mut cmd: Command, log: &Path) -> Process {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(log).expect("open the log file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(file.try_clone().expect("clone the log file")))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        Process { name: name.into(), child: Some(child), log: log.into() }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn signal(&self, signal: Signal) {
        if let Some(pid) = self.pid() {
            let _ = send_signal(pid, signal);
        }
    }

    /// Sends `signal` and waits for the process (and its children) to end, killing them
    /// after `timeout`. Returns the exit status and how long it took, or `None` when it
    /// was not running.
    pub fn stop(&mut self, signal: Signal, timeout: Duration) -> Option<(ExitStatus, Duration)> {
        let mut child = self.child.take()?;
        let pid = child.id();
        let family = tree(pid);
        let t0 = Instant::now();
        let _ = send_signal(pid, signal);
        let mut status = None;
        loop {
            if status.is_none() {
                status = child.try_wait().ok().flatten();
            }
            let others_gone = family[1..].iter().all(|&p| !alive(p));
            if status.is_some() && others_gone {
                break;
            }
            if t0.elapsed() > timeout {
                for &p in &family {
                    let _ = send_signal(p, Signal::Kill);
                }
                let s = child.wait().expect("wait for the child");
                eprintln!("{} did not stop within {timeout:?} of {signal:?}; killed", self.name);
                return Some((status.unwrap_or(s), t0.elapsed()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        status.map(|s| (s, t0.elapsed()))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop(Signal::Kill, Duration::from_secs(5));
    }
}

/// A ternd process with its directory (config, socket, state, log), optionally inside a
/// network namespace (where ternctl runs too).
pub struct Ternd {
    pub name: String,
    dir: PathBuf,
    netns: Option<String>,
    process: Option<Process>,
}

impl Ternd {
    pub fn new(test: &str, name: &str) -> Ternd {
        let dir = std::env::temp_dir().join(format!("tern-{test}-{name}-{}-{}", std::process::id(), unique()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Ternd { name: name.into(), dir, netns: None, process: None }
    }

    /// A ternd that runs inside `ns`.
    pub fn in_netns(test: &str, name: &str, ns: &Netns) -> Ternd {
        let mut t = Ternd::new(test, name);
        t.netns = Some(ns.name().to_string());
        t
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.join("tern.sock")
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.join("tern.toml")
    }

    /// Writes the configuration, with `@DIR@` replaced by the daemon's directory.
    pub fn write_config(&self, text: &str) {
        let text = text.replace("@DIR@", &self.dir.display().to_string());
        std::fs::write(self.config_path(), text).unwrap();
    }

    fn command(&self, program: &str) -> Command {
        match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, program]);
                c
            }
            None => Command::new(program),
        }
    }

    pub fn start(&mut self) {
        assert!(self.process.is_none(), "{} already runs", self.name);
        let mut cmd = self.command(TERND);
        cmd.arg("--config").arg(self.config_path());
        self.process = Some(Process::spawn(&format!("ternd {}", self.name), cmd, &self.dir.join("ternd.log")));
        let sock = self.socket();
        wait_for(&format!("{}'s admin socket", self.name), Duration::from_secs(10), || {
            assert!(self.process.as_mut().is_some_and(Process::running), "ternd exited; log:\n{}", self.log());
            self.ctl_json(&["show", "summary"]).is_ok()
        });
        assert!(sock.exists());
    }

    pub fn pid(&self) -> u32 {
        self.process.as_ref().and_then(Process::pid).expect("running")
    }

    pub fn signal(&self, signal: Signal) {
        send_signal(self.pid(), signal).unwrap();
    }

    /// SIGTERM, then waits for a clean exit; returns the exit status and how long it took.
    pub fn stop(&mut self) -> (ExitStatus, Duration) {
        let mut p = self.process.take().expect("running");
        match p.stop(Signal::Term, Duration::from_secs(15)) {
            Some((status, took)) if took < Duration::from_secs(15) => (status, took),
            _ => panic!("{} did not stop within 15 s of SIGTERM; log:\n{}", self.name, self.log()),
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("ternd.log")).unwrap_or_default()
    }

    pub fn ctl(&self, args: &[&str]) -> Output {
        self.command(TERNCTL).arg("--socket").arg(self.socket()).args(args).output().expect("run ternctl")
    }

    /// `ternctl ARGS`, which must succeed; its standard output.
    pub fn ctl_ok(&self, args: &[&str]) -> String {
        let out = self.ctl(args);
        assert!(out.status.success(), "ternctl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `ternctl --json ARGS`: the daemon's `ok` payload, or its error text.
    pub fn ctl_json(&self, args: &[&str]) -> Result<Value, String> {
        let out = self.ctl(&[&["--json"], args].concat());
        let text = String::from_utf8_lossy(&out.stdout);
        let v: Value = serde_json::from_str(text.trim())
            .map_err(|_| format!("ternctl {args:?}: {} {}", text, String::from_utf8_lossy(&out.stderr)))?;
        match (v.get("ok"), v.get("error")) {
            (Some(ok), _) if out.status.success() => Ok(ok.clone()),
            (_, Some(e)) => Err(e.as_str().unwrap_or_default().to_string()),
            _ => Err(format!("ternctl {args:?}: unexpected answer {v}")),
        }
    }

    pub fn neighbor(&self, name: &str) -> Value {
        let v = self.ctl_json(&["show", "neighbor", name]).unwrap();
        v["neighbors"][0].clone()
    }

    pub fn state(&self, name: &str) -> String {
        self.neighbor(name)["state"].as_str().unwrap_or_default().to_string()
    }

    /// The Loc-RIB entry of exactly `prefix` (`reason`, `paths`), if there is one.
    pub fn route(&self, prefix: &str) -> Option<Value> {
        let v = self.ctl_json(&["show", "route", prefix, "--exact"]).unwrap();
        v["routes"].as_array().and_then(|r| r.first().cloned())
    }

    pub fn has_route(&self, prefix: &str) -> bool {
        self.route(prefix).is_some()
    }

    /// Waits until the session with neighbor `name` is Established.
    pub fn wait_established(&self, name: &str, timeout: Duration) {
        wait_until(
            &format!("{} to reach Established with {name}", self.name),
            timeout,
            || self.neighbor(name),
            |n| n["state"] == "established",
        );
    }
}

impl Drop for Ternd {
    fn drop(&mut self) {
        drop(self.process.take());
        if std::thread::panicking() {
            eprintln!("--- {} log ---\n{}", self.name, tail(&self.log(), 400));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
