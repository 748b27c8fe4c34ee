//! Answers to admin socket requests, from the router and the running configuration.

use std::net::IpAddr;
use std::time::SystemTime;

use crate::control::proto::{
    self, Direction, NeighborBrief, NeighborDetail, PathEntry, Reply, Request, ResetMode, Response, RouteEntry,
    RouteRequest, Summary,
};
use crate::fsm::{State, Stop};
use crate::policy::community::{format_community, format_ext_community, parse_community, parse_large_community};
use crate::rib::{RouteInfo, RouteQuery};
use crate::router::{NeighborConfig, RouteView};
use crate::session::status::{MessageCounts, PeerStatus};
use crate::wire::{Family, PathAttributes, Prefix};

use super::Daemon;

pub fn request(d: &mut Daemon, req: Request) -> Response {
    match answer(d, req) {
        Ok(reply) => Response::Ok(reply),
        Err(e) => Response::Error(e),
    }
}

fn done(message: String) -> Result<Reply, String> {
    Ok(Reply::Done { message })
}

fn answer(d: &mut Daemon, req: Request) -> Result<Reply, String> {
    match req {
        Request::Summary => summary(d).map(Reply::Summary),
        Request::Neighbors => {
            let counts = d.router.prefix_counts();
            let neighbors =
                d.router.neighbors().iter().map(|s| detail(d, s, counts.get(&s.address).copied())).collect();
            Ok(Reply::Neighbors { neighbors })
        }
        Request::Neighbor { neighbor } => {
            let address = find(d, &neighbor)?;
            let status = d.router.neighbor(address).ok_or_else(|| format!("no neighbor {neighbor}"))?;
            let counts = d.router.prefix_counts();
            Ok(Reply::Neighbors { neighbors: vec![detail(d, &status, counts.get(&address).copied())] })
        }
        Request::Routes(r) => routes(d, r),
        Request::Announce { prefix, communities, large_communities, med } => {
            let p = parse_prefix(&prefix)?;
            if d.config.origins.iter().any(|o| o.prefix == p) {
                return Err(format!("{p} is originated by the configuration ([[origin]]); change it there and reload"));
            }
            let mut attrs = PathAttributes { med, ..Default::default() };
            for c in &communities {
                attrs.communities.push(parse_community(c).map_err(|e| format!("community {c:?}: {e}"))?);
            }
            for c in &large_communities {
                attrs
                    .large_communities
                    .push(parse_large_community(c).map_err(|e| format!("large community {c:?}: {e}"))?);
            }
            d.router.announce(p, attrs).map_err(|e| format!("cannot announce {p}: {e:#}"))?;
            let kept = if d.config.router.state_dir.is_some() {
                ", kept across restarts"
            } else {
                " (no state_dir: not kept across restarts)"
            };
            done(format!("announced {p}{kept}"))
        }
        Request::Withdraw { prefix } => {
            let p = parse_prefix(&prefix)?;
            if d.config.origins.iter().any(|o| o.prefix == p) {
                return Err(format!("{p} is originated by the configuration ([[origin]]); remove it there and reload"));
            }
            d.router.withdraw(p).map_err(|e| format!("cannot withdraw {p}: {e:#}"))?;
            done(format!("withdrew {p}"))
        }
        Request::Reset { neighbor, mode } => {
            let address = find(d, &neighbor)?;
            let r = match mode {
                ResetMode::Hard => d.router.control(
                    address,
                    crate::channels::Control::Stop(Stop::reset(Some("reset by the operator".into()))),
                ),
                ResetMode::SoftIn => d.router.soft_reset(address, true),
                ResetMode::SoftOut => d.router.soft_reset(address, false),
            };
            r.map_err(|e| format!("{e:#}"))?;
            let what = match mode {
                ResetMode::Hard => "reset (Cease / Administrative Reset); it will reconnect",
                ResetMode::SoftIn => "asked for its routes again (route refresh)",
                ResetMode::SoftOut => "sent our routes again",
            };
            done(format!("neighbor {neighbor} {what}"))
        }
        Request::Disable { neighbor, message } => {
            let address = find(d, &neighbor)?;
            let message = message.or_else(|| Some("disabled by the operator".into()));
            d.router.set_disabled(address, true, message, true).map_err(|e| format!("{e:#}"))?;
            let kept = if d.config.router.state_dir.is_some() { "kept across restarts; " } else { "" };
            done(format!("neighbor {neighbor} disabled ({kept}`ternctl enable {neighbor}` starts it)"))
        }
        Request::Enable { neighbor } => {
            let address = find(d, &neighbor)?;
            d.router.set_disabled(address, false, None, true).map_err(|e| format!("{e:#}"))?;
            done(format!("neighbor {neighbor} enabled"))
        }
        Request::Reload => super::reload(d).map(|changes| Reply::Done { message: format!("reloaded: {changes}") }),
        Request::LogLevel { level } => {
            let l: slog::Level = level
                .parse()
                .map_err(|_| format!("unknown log level {level:?}: expected error, warn, info, debug or trace"))?;
            d.level.set(l);
            done(format!("log level is now {}", l.as_str().to_lowercase()))
        }
        Request::Metrics => Ok(Reply::Metrics { text: super::metrics::render(d) }),
    }
}

fn parse_prefix(text: &str) -> Result<Prefix, String> {
    text.parse().map_err(|e| format!("prefix {text:?}: {e}"))
}

/// A neighbor by configured name or by address.
fn find(d: &Daemon, name: &str) -> Result<IpAddr, String> {
    if let Some(n) = d.config.neighbors.iter().find(|n| n.name == name) {
        return Ok(n.address);
    }
    if let Ok(a) = name.parse::<IpAddr>() {
        if d.router.neighbor(a).is_some() {
            return Ok(a);
        }
    }
    Err(format!("no neighbor {name:?} (ternctl show summary lists them)"))
}

fn secs_since(t: SystemTime) -> u64 {
    SystemTime::now().duration_since(t).map_or(0, |d| d.as_secs())
}

fn summary(d: &Daemon) -> Result<Summary, String> {
    let (ipv4, ipv6, paths, sets) = match d.router.rib_summary() {
        Some(crate::rib::Answer::Summary { ipv4, ipv6, paths, attribute_sets }) => (ipv4, ipv6, paths, attribute_sets),
        _ => return Err("the RIB did not answer in time (busy with a large update?); try again".into()),
    };
    let counts = d.router.prefix_counts();
    Ok(Summary {
        version: env!("CARGO_PKG_VERSION").into(),
        asn: d.config.router.asn,
        router_id: d.config.router.router_id.to_string(),
        uptime_secs: d.started.elapsed().as_secs(),
        config: d.config_path.display().to_string(),
        prefixes_ipv4: ipv4,
        prefixes_ipv6: ipv6,
        paths,
        attribute_sets: sets,
        neighbors: d.router.neighbors().iter().map(|s| brief(d, s, counts.get(&s.address).copied())).collect(),
    })
}

fn brief(d: &Daemon, s: &PeerStatus, prefixes: Option<u64>) -> NeighborBrief {
    let cfg = d.router.neighbor_config(s.address);
    NeighborBrief {
        name: s.name.clone(),
        address: s.address.to_string(),
        remote_asn: cfg.and_then(|c| c.session.remote_asn),
        state: s.state.name().into(),
        disabled: d.router.is_disabled(s.address),
        state_secs: secs_since(s.since),
        uptime_secs: s.established_at.filter(|_| s.state == State::Established).map(secs_since),
        prefixes_received: prefixes.unwrap_or(0),
        prefixes_sent: s.prefixes_sent,
        messages_received: s.received.total(),
        messages_sent: s.sent.total(),
    }
}

fn counts(c: &MessageCounts) -> proto::MessageCounts {
    proto::MessageCounts {
        open: c.open,
        update: c.update,
        notification: c.notification,
        keepalive: c.keepalive,
        route_refresh: c.route_refresh,
        total: c.total(),
    }
}

fn policy_name(p: &Option<std::sync::Arc<crate::policy::Policy>>, ebgp: bool) -> String {
    match p {
        Some(p) => p.name.clone(),
        None if ebgp => "none (RFC 8212: nothing)".into(),
        None => "none (iBGP: everything)".into(),
    }
}

fn detail(d: &Daemon, s: &PeerStatus, prefixes: Option<u64>) -> NeighborDetail {
    let cfg: Option<&NeighborConfig> = d.router.neighbor_config(s.address);
    let ebgp = cfg.is_some_and(|c| c.session.remote_asn != Some(c.session.local_asn));
    let neg = s.negotiated.as_deref().filter(|_| s.state == State::Established);
    let mut caps = Vec::new();
    if let Some(n) = neg {
        if n.four_octet_as {
            caps.push("4-octet AS".to_string());
        }
        if n.route_refresh {
            caps.push("route refresh".into());
        }
        if n.enhanced_route_refresh {
            caps.push("enhanced route refresh".into());
        }
        if n.extended_message {
            caps.push("extended message".into());
        }
        if n.extended_next_hop {
            caps.push("extended next hop (IPv4 over IPv6)".into());
        }
        for f in [Family::IPV4_UNICAST, Family::IPV6_UNICAST] {
            match (n.add_path_rx.contains(f), n.add_path_tx.contains(f)) {
                (true, true) => caps.push(format!("add-path {f} send/receive")),
                (true, false) => caps.push(format!("add-path {f} receive")),
                (false, true) => caps.push(format!("add-path {f} send")),
                _ => {}
            }
        }
    }
    let families = match neg {
        Some(n) => n.families.iter().map(ToString::to_string).collect(),
        None => cfg.map(|c| c.session.families.iter().map(ToString::to_string).collect()).unwrap_or_default(),
    };
    NeighborDetail {
        brief: brief(d, s, prefixes),
        description: d.config.descriptions.get(&s.address).cloned(),
        local_address: s.connection.map(|(l, _)| l.to_string()),
        remote_address: s.connection.map(|(_, r)| r.to_string()),
        peer_router_id: neg.map(|n| n.peer_id.to_string()),
        peer_asn: neg.map(|n| n.peer_asn),
        hold_time: neg.map(|n| n.hold_time),
        keepalive_secs: neg.and_then(|n| n.keepalive).map(|k| k.as_secs()),
        configured_hold_time: cfg.map_or(0, |c| c.session.hold_time),
        capabilities: caps,
        families,
        import: cfg.map_or_else(String::new, |c| policy_name(&c.rib.import, ebgp)),
        export: cfg.map_or_else(String::new, |c| policy_name(&c.rib.export, ebgp)),
        received: counts(&s.received),
        sent: counts(&s.sent),
        prefixes_announced: s.prefixes_announced,
        prefixes_withdrawn: s.prefixes_withdrawn,
        attribute_faults: s.attribute_faults,
        established_count: s.established_count,
        end_of_rib: s.end_of_rib.iter().map(ToString::to_string).collect(),
        last_error: s.last_error.clone(),
        last_notification_sent: s.last_notification_sent.as_ref().map(ToString::to_string),
        last_notification_received: s.last_notification_received.as_ref().map(ToString::to_string),
    }
}

fn routes(d: &Daemon, r: RouteRequest) -> Result<Reply, String> {
    let family = match r.family.as_deref() {
        None => None,
        Some("ipv4-unicast" | "ipv4") => Some(Family::IPV4_UNICAST),
        Some("ipv6-unicast" | "ipv6") => Some(Family::IPV6_UNICAST),
        Some(other) => return Err(format!("unknown family {other:?}: expected ipv4-unicast or ipv6-unicast")),
    };
    // A prefix, or a bare address (longest match for the host route).
    let (prefix, longest) = match r.prefix.as_deref() {
        None => (None, false),
        Some(text) => {
            let p = route_prefix(text)?;
            (Some(p), !r.exact)
        }
    };
    let view = match (&r.neighbor, r.direction) {
        (None, None) => RouteView::Loc,
        (None, Some(_)) => return Err("--in and --out need --neighbor NAME".into()),
        (Some(n), dir) => {
            let a = find(d, n)?;
            match dir {
                Some(Direction::Out) => RouteView::Out(a),
                _ => RouteView::In(a),
            }
        }
    };
    let q = RouteQuery {
        view: crate::rib::RibView::Loc,
        family,
        prefix,
        longest_match: longest,
        limit: r.limit.unwrap_or(proto::DEFAULT_ROUTE_LIMIT),
    };
    let (found, truncated) = d.router.routes(view, q).map_err(|e| format!("{e:#}"))?;
    let mut routes: Vec<RouteEntry> = found.iter().map(route_entry).collect();
    if view == RouteView::Loc {
        if let Some(states) = d.router.kernel_state(found.iter().map(|r| r.prefix).collect()) {
            for ((entry, info), state) in routes.iter_mut().zip(&found).zip(states) {
                entry.kernel = Some(kernel_text(info, state));
            }
        }
    }
    Ok(Reply::Routes { routes, truncated })
}

fn kernel_text(info: &RouteInfo, state: crate::fib::KernelState) -> String {
    use crate::fib::KernelState;
    let best = info.paths.iter().find(|p| p.4);
    match state {
        KernelState::Pending => "pending".into(),
        KernelState::Failed(why) => format!("failed: {why}"),
        KernelState::Synced => match best {
            None => "not installed (no usable path)".into(),
            Some(p) if p.1.is_unspecified() => "not installed (originated here)".into(),
            Some(p) if info.prefix.addr().is_ipv4() && p.3.attrs.next_hop.is_none() => {
                "not installed (an IPv6 next hop for an IPv4 route is not installed)".into()
            }
            Some(_) => "installed".into(),
        },
    }
}

/// `ADDR/LEN` (host bits allowed: it is a lookup), or a bare address as a host route.
fn route_prefix(text: &str) -> Result<Prefix, String> {
    let bad = || format!("{text:?} is not a prefix or an address");
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a.parse::<IpAddr>().map_err(|_| bad())?, Some(l.parse::<u8>().map_err(|_| bad())?)),
        None => (text.parse::<IpAddr>().map_err(|_| bad())?, None),
    };
    let len = len.unwrap_or(if addr.is_ipv4() { 32 } else { 128 });
    Prefix::new(addr, len).ok_or_else(|| format!("{text:?}: prefix length {len} is too long"))
}

fn route_entry(r: &RouteInfo) -> RouteEntry {
    let family = if r.prefix.addr().is_ipv4() { Family::IPV4_UNICAST } else { Family::IPV6_UNICAST };
    RouteEntry {
        prefix: r.prefix.to_string(),
        family: family.to_string(),
        reason: r.reason.to_string(),
        paths: r
            .paths
            .iter()
            .map(|(name, address, path_id, attrs, selected)| {
                let a = &attrs.attrs;
                let next_hop = match attrs.mp_next_hop() {
                    Some(nh) => Some(nh.to_string()),
                    None => a.next_hop.map(|n| n.to_string()),
                };
                PathEntry {
                    from: if address.is_unspecified() { "local".into() } else { name.clone() },
                    from_address: (!address.is_unspecified()).then(|| address.to_string()),
                    path_id: *path_id,
                    selected: *selected,
                    next_hop,
                    as_path: a.as_path.as_ref().map(ToString::to_string).unwrap_or_default(),
                    origin: a.origin.map(|o| o.name().to_string()),
                    local_pref: a.local_pref,
                    med: a.med,
                    communities: a.communities.iter().map(|c| format_community(*c)).collect(),
                    large_communities: a.large_communities.iter().map(ToString::to_string).collect(),
                    ext_communities: a.ext_communities.iter().map(|c| format_ext_community(*c)).collect(),
                    originator_id: a.originator_id.map(|o| o.to_string()),
                    cluster_list: a.cluster_list.iter().map(ToString::to_string).collect(),
                }
            })
            .collect(),
        kernel: None,
    }
}
