//! The canonical form of a configuration: [`Config::canonical`].
//!
//! Every section and key comes in a fixed order (that of the key lists in
//! [`super::resolve`] and [`super::policy`]) with its default written out; keys without a
//! default (`local_address`, `md5_key`, `import`...) appear only when set. Values are
//! written the way the policy and wire modules print them (`198.51.100.0/24`, `65000:1`,
//! `no-export`, `rt:65000:1`), so that reading the output gives an equal [`Config`] and
//! printing that gives the same text again.
//!
//! The printer works from the resolved settings, not from the file, so it also prints a
//! `Config` that the daemon changed. Only what the file can say is printed: a policy built
//! in code with two conditions of one kind in a rule, say, would print as a file that does
//! not read back.

use std::fmt::Write as _;
use std::net::IpAddr;

use super::resolve::{ADD_PATH, LEVELS};
use super::walk::quote_key;
use super::{Config, LogFormat};
use crate::policy::{format_community, format_ext_community, Action, Match, NextHopAction, Policy};
use crate::router::NeighborConfig;

/// A TOML string: quoted and escaped as `toml` writes it.
fn q(s: impl AsRef<str>) -> String {
    toml::Value::String(s.as_ref().to_string()).to_string()
}

/// A TOML array of already-written values.
fn array<I: IntoIterator<Item = String>>(items: I) -> String {
    format!("[{}]", items.into_iter().collect::<Vec<_>>().join(", "))
}

fn strings<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    array(items.into_iter().map(|i| q(i.to_string())))
}

struct Out(String);

impl Out {
    fn header(&mut self, header: &str) {
        if !self.0.is_empty() {
            self.0.push('\n');
        }
        self.0.push_str(header);
        self.0.push('\n');
    }

    fn kv(&mut self, key: &str, value: impl std::fmt::Display) {
        let _ = writeln!(self.0, "{key} = {value}");
    }
}

pub(super) fn canonical(c: &Config) -> String {
    let mut o = Out(String::new());
    let r = &c.router;
    o.header("[router]");
    o.kv("asn", r.asn);
    o.kv("router_id", q(r.router_id.to_string()));
    o.kv("listen", strings(&r.listen));
    o.kv("state_dir", q(r.state_dir.as_ref().map(|d| d.display().to_string()).unwrap_or_default()));
    o.kv("resolution_ms", r.resolution.as_millis());
    o.kv("hold_time", c.timers.hold_time);
    o.kv("keepalive", c.timers.keepalive);
    o.kv("connect_retry", c.timers.connect_retry);
    if let Some(id) = r.cluster_id {
        o.kv("cluster_id", q(id.to_string()));
    }
    o.kv("always_compare_med", r.decision.always_compare_med);
    o.kv("max_paths", r.decision.max_paths);
    o.kv("multipath_relax", r.decision.multipath_relax);

    o.header("[admin]");
    o.kv("socket", q(c.admin_socket.display().to_string()));

    o.header("[log]");
    let level = LEVELS.iter().find(|(_, l)| *l == c.log.level).map_or("error", |(n, _)| n);
    o.kv("level", q(level));
    o.kv("format", q(if c.log.format == LogFormat::Json { "json" } else { "term" }));

    o.header("[fib]");
    o.kv("enabled", c.fib.enabled);
    o.kv("table", c.fib.table);
    o.kv("metric", c.fib.metric);
    o.kv("keep_on_exit", c.fib.keep_on_exit);

    for origin in &c.origins {
        let a = &origin.attrs;
        o.header("[[origin]]");
        o.kv("prefix", q(origin.prefix.to_string()));
        if let Some(v) = a.origin {
            o.kv("origin", q(v.name()));
        }
        if let Some(v) = a.med {
            o.kv("med", v);
        }
        if let Some(v) = a.local_pref {
            o.kv("local_pref", v);
        }
        o.kv("communities", strings(a.communities.iter().map(|&c| format_community(c))));
        o.kv("large_communities", strings(&a.large_communities));
        o.kv("ext_communities", strings(a.ext_communities.iter().map(|&c| format_ext_community(c))));
    }

    for n in &c.neighbors {
        neighbor(&mut o, n, c.descriptions.get(&n.address).map(String::as_str));
    }

    for (name, p) in &c.policies {
        policy(&mut o, name, p);
    }
    o.0
}

fn neighbor(o: &mut Out, n: &NeighborConfig, description: Option<&str>) {
    let s = &n.session;
    o.header("[[neighbor]]");
    o.kv("name", q(&n.name));
    if let Some(d) = description {
        o.kv("description", q(d));
    }
    o.kv("address", q(n.address.to_string()));
    o.kv("port", n.port);
    if let Some(asn) = s.remote_asn {
        o.kv("remote_asn", asn);
    }
    if let Some(a) = n.local_address {
        o.kv("local_address", q(a.to_string()));
    }
    o.kv("passive", s.passive);
    o.kv("disabled", n.admin_down);
    o.kv("hold_time", s.hold_time);
    o.kv("keepalive", s.keepalive.as_secs());
    o.kv("connect_retry", s.connect_retry.as_secs());
    o.kv("delay_open", s.delay_open.map_or(0, |d| d.as_secs()));
    o.kv("extended_next_hop", s.extended_next_hop);
    if let Some(k) = &n.md5_key {
        o.kv("md5_key", q(k));
    }
    if let Some(t) = n.ttl_security {
        o.kv("ttl_security", t);
    }
    o.kv("families", strings(&s.families));
    // One mode for every family is all the file can say; the first stands for all.
    let mode = s.add_path.first().map(|&(_, d)| d);
    o.kv("add_path", q(ADD_PATH.iter().find(|(_, m)| *m == mode).map_or("none", |(n, _)| n)));
    let rib = &n.rib;
    if let Some(p) = &rib.import {
        o.kv("import", q(&p.name));
    }
    if let Some(p) = &rib.export {
        o.kv("export", q(&p.name));
    }
    if let Some(m) = rib.max_prefixes {
        o.kv("max_prefixes", m);
    }
    o.kv("max_prefixes_warning", rib.max_prefixes_warning);
    if let Some(d) = rib.max_prefixes_restart {
        o.kv("max_prefixes_restart", d.as_secs());
    }
    o.kv("route_reflector_client", rib.route_reflector_client);
    o.kv("next_hop_self", rib.next_hop_self);
    o.kv("soft_reconfiguration_inbound", rib.soft_reconfiguration_inbound);
    if let Some(n) = rib.add_path_send_max {
        o.kv("add_path_send_max", n);
    }
    o.kv("allow_own_as", rib.allow_own_as);
    o.kv("enforce_first_as", rib.enforce_first_as);
}

fn policy(o: &mut Out, name: &str, p: &Policy) {
    let name = quote_key(name);
    o.header(&format!("[policy.{name}]"));
    o.kv("default", q(p.default.name()));
    for rule in &p.rules {
        o.header(&format!("[[policy.{name}.rule]]"));
        if let Some(n) = &rule.name {
            o.kv("name", q(n));
        }
        for m in &rule.matches {
            let (k, v) = condition(m);
            o.kv(&format!("match.{k}"), v);
        }
        let mut verdict = "next";
        for a in &rule.actions {
            match action(a) {
                Some((k, v)) => o.kv(&format!("set.{k}"), v),
                None => verdict = a.verdict().map_or("next", |v| v.name()),
            }
        }
        o.kv("action", q(verdict));
    }
}

/// The key (below `match`) and value of a condition.
fn condition(m: &Match) -> (String, String) {
    let (k, v) = match m {
        Match::Prefix(l) => ("prefix", strings(l)),
        Match::Family(f) => ("family", q(f.to_string())),
        Match::Neighbor(l) => ("neighbor", strings(l)),
        Match::NeighborAs(l) => ("neighbor_as", array(l.iter().map(u32::to_string))),
        Match::OriginAs(a) => ("origin_as", a.to_string()),
        Match::AsPathContains(a) => ("as_path_contains", a.to_string()),
        Match::AsPathLength { min, max } => {
            let v = match (min, max) {
                (Some(lo), Some(hi)) if lo == hi => lo.to_string(),
                _ => {
                    let parts: Vec<String> = [("min", min), ("max", max)]
                        .iter()
                        .filter_map(|(k, v)| v.map(|v| format!("{k} = {v}")))
                        .collect();
                    format!("{{ {} }}", parts.join(", "))
                }
            };
            ("as_path_length", v)
        }
        Match::AsPathRegex(r) => ("as_path_regex", q(r.as_str())),
        Match::Community(l) => ("community", strings(l)),
        Match::LargeCommunity(l) => ("large_community", strings(l)),
        Match::ExtCommunity(l) => ("ext_community", strings(l.iter().map(|&c| format_ext_community(c)))),
        Match::NextHop(l) => ("next_hop", strings(l)),
        Match::Origin(o) => ("origin", q(o.name())),
        Match::Not(inner) => {
            let (k, v) = condition(inner);
            return (format!("not.{k}"), v);
        }
    };
    (k.to_string(), v)
}

/// The key (below `set`) and value of an action; `None` for Accept and Reject.
fn action(a: &Action) -> Option<(&'static str, String)> {
    let communities = |l: &[u32]| strings(l.iter().map(|&c| format_community(c)));
    Some(match a {
        Action::Accept | Action::Reject => return None,
        Action::SetLocalPref(v) => ("local_pref", v.to_string()),
        Action::SetMed(v) => ("med", v.to_string()),
        Action::SetOrigin(o) => ("origin", q(o.name())),
        Action::SetNextHop(NextHopAction::SelfAddress) => ("next_hop", q("self")),
        Action::SetNextHop(NextHopAction::Address(a)) => ("next_hop", q(IpAddr::to_string(a))),
        Action::ReplaceCommunities(l) => ("community.replace", communities(l)),
        Action::RemoveCommunities(l) => ("community.remove", strings(l)),
        Action::AddCommunities(l) => ("community.add", communities(l)),
        Action::ReplaceLargeCommunities(l) => ("large_community.replace", strings(l)),
        Action::RemoveLargeCommunities(l) => ("large_community.remove", strings(l)),
        Action::AddLargeCommunities(l) => ("large_community.add", strings(l)),
        Action::Prepend { asn: None, count } => ("prepend", count.to_string()),
        Action::Prepend { asn: Some(asn), count } => ("prepend", format!("{{ asn = {asn}, count = {count} }}")),
    })
}
