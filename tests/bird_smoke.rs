//! tern against a real BIRD 2 on loopback: the session establishes and stays up for several
//! hold times. BIRD runs in the foreground with its own configuration and control socket in
//! a private directory, and is stopped by PID when the test ends, pass or fail.
//!
//! Needs `bird` (Debian `bird2`); `.ci/run` installs it.

mod harness;
mod ternd;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use harness::{established, ip, status, wait_for};
use tern::connection::tcp::Tcp;
use tern::fsm::State;
use tern::{NeighborConfig, Router, RouterConfig};

/// A BIRD process and its directory; both go away on drop.
struct Bird {
    child: Child,
    dir: PathBuf,
}

impl Bird {
    fn start(name: &str, config: &str) -> Bird {
        let dir = std::env::temp_dir().join(format!("tern-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("bird.conf"), config).unwrap();
        let bird = ternd::require("bird", "bird2");
        let child = Command::new(bird)
            .arg("-f")
            .arg("-c")
            .arg(dir.join("bird.conf"))
            .arg("-s")
            .arg(dir.join("bird.ctl"))
            .arg("-P")
            .arg(dir.join("bird.pid"))
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(dir.join("bird.log")).unwrap()))
            .spawn()
            .expect("bird starts");
        Bird { child, dir }
    }

    fn birdc(&self, cmd: &str) -> String {
        let out = Command::new("birdc").arg("-s").arg(self.dir.join("bird.ctl")).arg(cmd).output().expect("birdc runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("bird.log")).unwrap_or_default()
    }
}

impl Drop for Bird {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn tern_and_bird_establish_and_stay_up() {
    let (tern_addr, bird_addr) = (ip("127.0.20.1"), ip("127.0.20.2"));
    let bird = Bird::start(
        "bird-smoke",
        r#"
router id 198.18.0.2;
log stderr all;
protocol device {}
protocol bgp tern {
    local 127.0.20.2 as 65002;
    neighbor 127.0.20.1 as 4200000001;
    strict bind yes;
    multihop;
    hold time 6;
    keepalive time 2;
    connect retry time 1;
    ipv4 { import all; export none; };
}
"#,
    );

    let mut cfg = RouterConfig::new(4200000001, "198.18.0.1".parse().unwrap());
    cfg.listen = vec![std::net::SocketAddr::new(tern_addr, 179)];
    let mut router = Router::start(cfg.clone(), Arc::new(Tcp), tern::log::from_env()).unwrap();
    let mut n = NeighborConfig::new("bird", bird_addr, 65002, &cfg);
    n.local_address = Some(tern_addr);
    n.session.hold_time = 6;
    n.session.keepalive = Duration::from_secs(2);
    n.session.connect_retry = Duration::from_secs(1);
    router.add_neighbor(n).unwrap();

    let up = wait_for(Duration::from_secs(30), || established(&router, bird_addr));
    assert!(up, "not established with BIRD: {:#?}\nBIRD log:\n{}", status(&router, bird_addr), bird.log());
    // Several hold times: keepalives both ways keep it up, no reset in between.
    std::thread::sleep(Duration::from_secs(19));
    let s = status(&router, bird_addr);
    assert_eq!(s.state, State::Established, "{s:#?}\nBIRD log:\n{}", bird.log());
    assert_eq!(s.established_count, 1);
    assert!(s.received.keepalive >= 6, "BIRD's keepalives arrive: {}", s.received.keepalive);
    let n = s.negotiated.as_ref().unwrap();
    assert_eq!((n.peer_asn, n.hold_time), (65002, 6));
    assert!(n.four_octet_as && n.route_refresh);
    let protocols = bird.birdc("show protocols tern");
    assert!(protocols.contains("Established"), "BIRD says: {protocols}");

    // Shutdown: BIRD shows the RFC 9003 message tern sent.
    router.shutdown(Some("tern smoke test done".into()));
    let seen =
        wait_for(Duration::from_secs(5), || bird.birdc("show protocols all tern").contains("tern smoke test done"));
    assert!(seen, "BIRD shows the shutdown message: {}", bird.birdc("show protocols all tern"));
}
