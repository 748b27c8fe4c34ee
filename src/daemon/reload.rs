//! Reload: what changes when the configuration file changes, worked out before anything
//! is touched.
//!
//! [`plan`] compares the running configuration with the new one, neighbor by neighbor
//! (keyed by address), and says what to do:
//! - settings that define the session (everything a peer sees in the OPEN or on the TCP
//!   connection: address, port, ASNs, local address, MD5 key, GTSM, passive, timers,
//!   families, ADD-PATH and its best N, extended next hop, soft reconfiguration inbound, and
//!   the name, which labels its logs) reset the session: the old one ends with Cease /
//!   Administrative Reset and the new one starts;
//! - routing rules (import / export policy, including a changed body of a named policy,
//!   max-prefix, route reflection, next-hop-self, allow-own-as, enforce-first-as) apply
//!   without a reset;
//! - `disabled` stops or starts the session;
//! - anything else of the neighbor leaves its session alone, so its uptime goes on.
//!
//! Router-wide settings the running threads were built from (AS, router id, listen
//! addresses, state directory, clock resolution, best-path options, cluster id, admin
//! socket, log format, FIB) need a restart: a reload that changes them is refused, naming
//! them, and nothing changes.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::config::{Config, OriginConfig};
use crate::rib::PeerRules;
use crate::router::NeighborConfig;
use crate::wire::Prefix;

#[derive(Debug, Default)]
pub struct Plan {
    /// Neighbors no longer configured: Cease / Peer De-configured.
    pub remove: Vec<IpAddr>,
    /// Neighbors whose session settings changed: Cease / Administrative Reset, then started
    /// again with the new settings.
    pub reset: Vec<NeighborConfig>,
    /// New neighbors.
    pub add: Vec<NeighborConfig>,
    /// New routing rules, applied without a reset.
    pub rules: Vec<(IpAddr, PeerRules)>,
    /// `disabled` changed: true stops the session, false starts it.
    pub disable: Vec<(IpAddr, bool)>,
    pub originate: Vec<OriginConfig>,
    pub stop_originating: Vec<Prefix>,
    pub log_level: Option<slog::Level>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.remove.is_empty()
            && self.reset.is_empty()
            && self.add.is_empty()
            && self.rules.is_empty()
            && self.disable.is_empty()
            && self.originate.is_empty()
            && self.stop_originating.is_empty()
            && self.log_level.is_none()
    }

    /// One line per kind of change, for the log and for `ternctl reload`.
    pub fn describe(&self) -> String {
        if self.is_empty() {
            return "nothing changed".into();
        }
        let list = |v: Vec<String>| v.join(", ");
        let mut parts = Vec::new();
        if !self.add.is_empty() {
            parts.push(format!("added {}", list(self.add.iter().map(|n| n.name.clone()).collect())));
        }
        if !self.remove.is_empty() {
            parts.push(format!("removed {}", list(self.remove.iter().map(IpAddr::to_string).collect())));
        }
        if !self.reset.is_empty() {
            parts.push(format!("reset {}", list(self.reset.iter().map(|n| n.name.clone()).collect())));
        }
        if !self.rules.is_empty() {
            parts.push(format!(
                "new routing rules for {}",
                list(self.rules.iter().map(|(a, _)| a.to_string()).collect())
            ));
        }
        for (a, off) in &self.disable {
            parts.push(format!("{} {a}", if *off { "disabled" } else { "enabled" }));
        }
        if !self.originate.is_empty() {
            parts.push(format!("originating {}", list(self.originate.iter().map(|o| o.prefix.to_string()).collect())));
        }
        if !self.stop_originating.is_empty() {
            parts.push(format!(
                "no longer originating {}",
                list(self.stop_originating.iter().map(Prefix::to_string).collect())
            ));
        }
        if let Some(l) = self.log_level {
            parts.push(format!("log level {}", l.as_str().to_lowercase()));
        }
        parts.join("; ")
    }
}

/// The settings of a neighbor whose change resets its session: everything but its routing
/// rules and `disabled`. Two routing rules count as session settings: the pre-policy table
/// (`soft_reconfiguration_inbound`) is only complete when kept from the session's start,
/// and a changed ADD-PATH best N would leave paths sent under the old limit at the peer.
fn session_part(n: &NeighborConfig) -> NeighborConfig {
    let mut s = n.clone();
    s.rib = PeerRules {
        soft_reconfiguration_inbound: n.rib.soft_reconfiguration_inbound,
        add_path_send_max: n.rib.add_path_send_max,
        ..PeerRules::default()
    };
    s.admin_down = false;
    s
}

/// What reloading from `old` to `new` does, or why it cannot be done without a restart.
pub fn plan(old: &Config, new: &Config) -> Result<Plan, String> {
    let mut restart = Vec::new();
    let (o, n) = (&old.router, &new.router);
    let checks: [(&str, bool); 9] = [
        ("router.asn", o.asn != n.asn),
        ("router.router_id", o.router_id != n.router_id),
        ("router.listen", o.listen != n.listen),
        ("router.state_dir", o.state_dir != n.state_dir),
        ("router.resolution_ms", o.resolution != n.resolution),
        ("router best-path options", o.decision != n.decision),
        ("router.cluster_id", o.cluster_id != n.cluster_id),
        ("admin.socket", old.admin_socket != new.admin_socket),
        ("log.format", old.log.format != new.log.format),
    ];
    restart.extend(checks.iter().filter(|(_, changed)| *changed).map(|(k, _)| *k));
    if old.fib != new.fib {
        restart.push("fib");
    }
    if !restart.is_empty() {
        return Err(format!(
            "these settings only take effect when ternd restarts: {}; the running configuration is unchanged",
            restart.join(", ")
        ));
    }
    let mut plan = Plan::default();
    let before: BTreeMap<IpAddr, &NeighborConfig> = old.neighbors.iter().map(|n| (n.address, n)).collect();
    let after: BTreeMap<IpAddr, &NeighborConfig> = new.neighbors.iter().map(|n| (n.address, n)).collect();
    for (addr, was) in &before {
        match after.get(addr) {
            None => plan.remove.push(*addr),
            Some(now) if session_part(was) != session_part(now) => plan.reset.push((*now).clone()),
            Some(now) => {
                if was.rib != now.rib {
                    plan.rules.push((*addr, now.rib.clone()));
                }
                if was.admin_down != now.admin_down {
                    plan.disable.push((*addr, now.admin_down));
                }
            }
        }
    }
    plan.add = after.iter().filter(|(a, _)| !before.contains_key(a)).map(|(_, n)| (*n).clone()).collect();
    let origins_before: BTreeMap<Prefix, &OriginConfig> = old.origins.iter().map(|o| (o.prefix, o)).collect();
    let origins_after: BTreeMap<Prefix, &OriginConfig> = new.origins.iter().map(|o| (o.prefix, o)).collect();
    plan.stop_originating = origins_before.keys().filter(|p| !origins_after.contains_key(p)).copied().collect();
    plan.originate =
        origins_after.iter().filter(|(p, o)| origins_before.get(p) != Some(o)).map(|(_, o)| (*o).clone()).collect();
    if old.log.level != new.log.level {
        plan.log_level = Some(new.log.level);
    }
    Ok(plan)
}
