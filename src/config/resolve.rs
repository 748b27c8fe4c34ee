//! From the parsed document to a [`Config`]: defaults, types, ranges and the checks that
//! look at more than one key (duplicate neighbors, policy names, timers against each other).
//!
//! Each section is read by its own function, which reports every mistake it finds to
//! [`Errors`] and carries on; a section with a mistake still yields what it can, so that the
//! checks across sections run too (a neighbor naming an undefined policy is reported even
//! when `[router]` has a mistake). [`resolve`] returns a `Config` only when nothing was
//! reported.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::policy::{self, Policies};
use super::walk::{self, Errors, Node, Table};
use super::{Config, FibConfig, LogConfig, LogFormat, OriginConfig, TimerDefaults, DEFAULT_SOCKET, DEFAULT_STATE_DIR};
use crate::policy::{parse_community, parse_ext_community, parse_large_community, Policy};
use crate::rib::decision::DecisionConfig;
use crate::rib::PeerRules;
use crate::router::{NeighborConfig, RouterConfig, BGP_PORT};
use crate::wire::{AddPathDirection, Family, PathAttributes, Prefix, AS_TRANS};

pub(super) const TOP_KEYS: &[&str] = &["router", "admin", "log", "fib", "origin", "neighbor", "policy"];
pub(super) const ROUTER_KEYS: &[&str] = &[
    "asn",
    "router_id",
    "listen",
    "state_dir",
    "resolution_ms",
    "hold_time",
    "keepalive",
    "connect_retry",
    "cluster_id",
    "always_compare_med",
    "max_paths",
    "multipath_relax",
];
pub(super) const ADMIN_KEYS: &[&str] = &["socket"];
pub(super) const LOG_KEYS: &[&str] = &["level", "format"];
pub(super) const FIB_KEYS: &[&str] = &["enabled", "table", "metric", "keep_on_exit"];
pub(super) const ORIGIN_KEYS: &[&str] =
    &["prefix", "origin", "med", "local_pref", "communities", "large_communities", "ext_communities"];
pub(super) const NEIGHBOR_KEYS: &[&str] = &[
    "name",
    "description",
    "address",
    "port",
    "remote_asn",
    "local_address",
    "passive",
    "disabled",
    "hold_time",
    "keepalive",
    "connect_retry",
    "delay_open",
    "extended_next_hop",
    "md5_key",
    "ttl_security",
    "families",
    "add_path",
    "import",
    "export",
    "max_prefixes",
    "max_prefixes_warning",
    "max_prefixes_restart",
    "route_reflector_client",
    "next_hop_self",
    "allow_own_as",
    "enforce_first_as",
    "soft_reconfiguration_inbound",
    "add_path_send_max",
];

/// Log levels by name, most severe first.
pub(super) const LEVELS: &[(&str, slog::Level)] = &[
    ("error", slog::Level::Error),
    ("warn", slog::Level::Warning),
    ("info", slog::Level::Info),
    ("debug", slog::Level::Debug),
    ("trace", slog::Level::Trace),
];

/// ADD-PATH directions by name; `none` is no ADD-PATH.
pub(super) const ADD_PATH: &[(&str, Option<AddPathDirection>)] = &[
    ("none", None),
    ("receive", Some(AddPathDirection::Receive)),
    ("send", Some(AddPathDirection::Send)),
    ("both", Some(AddPathDirection::Both)),
];

/// Bounds of the clock tick.
const RESOLUTION_MS: (u64, u64) = (10, 1000);
/// The longest key TCP-MD5 takes (Linux `TCP_MD5SIG_MAXKEYLEN`, RFC 2385).
const MD5_MAX: usize = 80;

/// Reads `key` with `read` when present; `default` otherwise. `None` only after an error.
fn opt<'t, 'i, T>(
    t: &Table<'t, 'i>,
    e: &mut Errors,
    key: &str,
    read: impl FnOnce(&Node<'t, 'i>, &mut Errors) -> Option<T>,
) -> Option<Option<T>> {
    match t.get(key) {
        Some(n) => read(&n, e).map(Some),
        None => Some(None),
    }
}

pub(super) fn resolve(root: &Table, e: &mut Errors, source: &Path) -> Option<Config> {
    root.check_keys(e, TOP_KEYS);
    let router = router(root, e);
    let admin_socket = section(root, "admin", ADMIN_KEYS, e).map_or(Some(PathBuf::from(DEFAULT_SOCKET)), |t| {
        opt(&t, e, "socket", |n, e| {
            n.parse(e, "a path", |s| if s.is_empty() { Err("the socket path is empty".into()) } else { Ok(s.into()) })
        })
        .map(|s| s.unwrap_or_else(|| DEFAULT_SOCKET.into()))
    });
    let log = log(root, e);
    let fib = fib(root, e);
    let origins = origins(root, e);
    let policies = policy::policies(root.get("policy"), e);
    let (neighbors, descriptions) = neighbors(root, router.as_ref(), &policies, e);
    if !e.is_empty() {
        return None;
    }
    let (mut router, timers) = router?;
    let fib = fib?;
    router.fib = fib.enabled.then_some(crate::fib::FibSettings {
        table: fib.table,
        metric: fib.metric,
        keep_on_exit: fib.keep_on_exit,
    });
    Some(Config {
        source: source.to_path_buf(),
        router,
        timers,
        admin_socket: admin_socket?,
        log: log?,
        fib,
        origins: origins?,
        neighbors: neighbors?,
        descriptions,
        policies: policies.valid,
    })
}

/// An optional section that must be a table.
fn section<'t, 'i>(root: &Table<'t, 'i>, name: &str, keys: &[&str], e: &mut Errors) -> Option<Table<'t, 'i>> {
    let t = root.get(name)?.table(e, &format!("a table ([{name}])"))?;
    t.check_keys(e, keys);
    Some(t)
}

/// The local AS: any AS number but 0 and the reserved ones.
fn asn(n: &Node, e: &mut Errors) -> Option<u32> {
    let asn = n.int_as(e, 0u32, u32::MAX, "an AS number from 1 to 4294967295")?;
    match asn {
        0 => n.fail(e, "AS 0 is reserved (RFC 7607) and cannot be used"),
        AS_TRANS => n.fail(e, "AS 23456 is AS_TRANS (RFC 6793) and cannot be used"),
        65535 | 4294967295 => n.fail(e, format!("AS {asn} is reserved (RFC 7300) and cannot be used")),
        _ => Some(asn),
    }
}

/// A router id or cluster id: an IPv4 address other than 0.0.0.0.
fn router_id(n: &Node, e: &mut Errors, what: &str) -> Option<Ipv4Addr> {
    n.parse(e, "an IPv4 address such as \"192.0.2.1\"", |s| {
        let id: Ipv4Addr =
            s.parse().map_err(|_| format!("{s:?} is not an IPv4 address: a {what} looks like 192.0.2.1"))?;
        if id.is_unspecified() {
            return Err(format!("0.0.0.0 is not a valid {what}"));
        }
        Ok(id)
    })
}

/// A hold time: 0 (no keepalives) or 3 to 65535 seconds.
fn hold_time(n: &Node, e: &mut Errors) -> Option<u16> {
    match n.int_as(e, 0u16, u16::MAX, "0 or a number of seconds from 3 to 65535")? {
        h @ (1 | 2) => {
            n.fail(e, format!("{h} is not a valid hold time: it must be 0 (no keepalives) or at least 3 seconds"))
        }
        h => Some(h),
    }
}

fn seconds(n: &Node, e: &mut Errors) -> Option<u16> {
    n.int_as(e, 1u16, u16::MAX, "a number of seconds from 1 to 65535")
}

/// A keepalive interval must be shorter than the hold time, or the hold timer expires
/// between two KEEPALIVEs.
fn check_keepalive(hold: u16, keepalive: u16) -> Result<(), String> {
    if hold != 0 && keepalive >= hold {
        return Err(format!("keepalive {keepalive} must be shorter than the hold time {hold} (usually a third of it)"));
    }
    Ok(())
}

fn router(root: &Table, e: &mut Errors) -> Option<(RouterConfig, TimerDefaults)> {
    let Some(node) = root.get("router") else {
        if root.misspelled(TOP_KEYS, "router") {
            return None;
        }
        e.report(&root.span, "router", "missing section: [router] with at least asn and router_id is required");
        return None;
    };
    let t = node.table(e, "a table ([router])")?;
    t.check_keys(e, ROUTER_KEYS);
    let asn = t.require(e, ROUTER_KEYS, "asn", "the router's AS number").and_then(|n| asn(&n, e));
    let id = t
        .require(e, ROUTER_KEYS, "router_id", "the router id, an IPv4 address")
        .and_then(|n| router_id(&n, e, "router id"));
    let listen = opt(&t, e, "listen", |n, e| {
        let mut seen: Vec<SocketAddr> = Vec::new();
        n.list(e, "a list of addresses to listen on, such as \"0.0.0.0:179\"", |n, e| {
            let addr = n.parse(e, "an address such as \"0.0.0.0:179\" or \"[::]:179\"", |s| {
                s.parse::<SocketAddr>()
                    .or_else(|_| s.parse::<IpAddr>().map(|a| SocketAddr::new(a, BGP_PORT)))
                    .map_err(|_| format!("{s:?} is not an address to listen on: write ADDRESS:PORT or ADDRESS"))
            })?;
            if seen.contains(&addr) {
                return n.fail(e, format!("{addr} is listed twice"));
            }
            seen.push(addr);
            Some(addr)
        })
    });
    let state_dir = opt(&t, e, "state_dir", |n, e| n.str(e, "a directory (a string)").map(PathBuf::from));
    let resolution = opt(&t, e, "resolution_ms", |n, e| {
        n.int_as(
            e,
            RESOLUTION_MS.0,
            RESOLUTION_MS.1,
            &format!("a number of milliseconds from {} to {}", RESOLUTION_MS.0, RESOLUTION_MS.1),
        )
    });
    let hold = opt(&t, e, "hold_time", hold_time);
    let keepalive = opt(&t, e, "keepalive", |n, e| n.int(e, 0u16, u16::MAX));
    let connect_retry = opt(&t, e, "connect_retry", seconds);
    let cluster_id = opt(&t, e, "cluster_id", |n, e| router_id(n, e, "cluster id"));
    let always_compare_med = opt(&t, e, "always_compare_med", |n, e| n.bool(e));
    let max_paths = opt(&t, e, "max_paths", |n, e| n.int(e, 1u16, 256));
    let multipath_relax = opt(&t, e, "multipath_relax", |n, e| n.bool(e));

    let hold = hold?.unwrap_or(90);
    let keepalive = keepalive?.unwrap_or(hold / 3);
    if let Err(m) = check_keepalive(hold, keepalive) {
        let n = t.get("keepalive").or_else(|| t.get("hold_time")).expect("the defaults agree");
        n.fail::<()>(e, m);
        return None;
    }
    let mut cfg = RouterConfig::new(asn?, id?);
    if let Some(listen) = listen? {
        cfg.listen = listen;
    }
    cfg.state_dir = match state_dir? {
        Some(d) if d.as_os_str().is_empty() => None,
        Some(d) => Some(d),
        None => Some(DEFAULT_STATE_DIR.into()),
    };
    cfg.resolution = Duration::from_millis(resolution?.unwrap_or(100));
    cfg.cluster_id = cluster_id?;
    let defaults = DecisionConfig::default();
    cfg.decision = DecisionConfig {
        always_compare_med: always_compare_med?.unwrap_or(defaults.always_compare_med),
        max_paths: max_paths?.map_or(defaults.max_paths, usize::from),
        multipath_relax: multipath_relax?.unwrap_or(defaults.multipath_relax),
    };
    let timers = TimerDefaults { hold_time: hold, keepalive, connect_retry: connect_retry?.unwrap_or(30) };
    Some((cfg, timers))
}

fn log(root: &Table, e: &mut Errors) -> Option<LogConfig> {
    let mut cfg = LogConfig { level: slog::Level::Info, format: LogFormat::Term };
    let Some(t) = section(root, "log", LOG_KEYS, e) else {
        return (!root.map.contains_key("log")).then_some(cfg);
    };
    let level = opt(&t, e, "level", |n, e| {
        n.parse(e, "a log level", |s| {
            LEVELS.iter().find(|(name, _)| *name == s).map(|&(_, l)| l).ok_or_else(|| {
                let names: Vec<&str> = LEVELS.iter().map(|(n, _)| *n).collect();
                format!("unknown log level {s:?}: expected one of {}", names.join(", "))
            })
        })
    });
    let format = opt(&t, e, "format", |n, e| {
        n.parse(e, "\"term\" or \"json\"", |s| match s {
            "term" => Ok(LogFormat::Term),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("unknown log format {s:?}: expected \"term\" or \"json\"")),
        })
    });
    if let Some(l) = level? {
        cfg.level = l;
    }
    if let Some(f) = format? {
        cfg.format = f;
    }
    Some(cfg)
}

fn fib(root: &Table, e: &mut Errors) -> Option<FibConfig> {
    let mut cfg = FibConfig { enabled: false, table: 254, metric: 20, keep_on_exit: false };
    let Some(t) = section(root, "fib", FIB_KEYS, e) else {
        return (!root.map.contains_key("fib")).then_some(cfg);
    };
    let enabled = opt(&t, e, "enabled", |n, e| n.bool(e));
    let table = opt(&t, e, "table", |n, e| n.int(e, 1u32, u32::MAX));
    let metric = opt(&t, e, "metric", |n, e| n.int(e, 0u32, u32::MAX));
    let keep = opt(&t, e, "keep_on_exit", |n, e| n.bool(e));
    cfg.enabled = enabled?.unwrap_or(cfg.enabled);
    cfg.table = table?.unwrap_or(cfg.table);
    cfg.metric = metric?.unwrap_or(cfg.metric);
    cfg.keep_on_exit = keep?.unwrap_or(cfg.keep_on_exit);
    Some(cfg)
}

fn origins(root: &Table, e: &mut Errors) -> Option<Vec<OriginConfig>> {
    let Some(node) = root.get("origin") else {
        return Some(Vec::new());
    };
    let mut out = Some(Vec::new());
    let mut seen: Vec<(Prefix, String)> = Vec::new();
    for t in node.tables(e, "an array of tables ([[origin]])") {
        t.check_keys(e, ORIGIN_KEYS);
        let prefix = t.require(e, ORIGIN_KEYS, "prefix", "the prefix to announce").and_then(|n| {
            let p =
                n.parse(e, "a prefix such as \"198.51.100.0/24\"", |s| s.parse::<Prefix>().map_err(String::from))?;
            if let Some((_, other)) = seen.iter().find(|(q, _)| *q == p) {
                return n.fail(e, format!("{p} is also announced by {other}"));
            }
            seen.push((p, t.key.clone()));
            Some(p)
        });
        let origin = opt(&t, e, "origin", policy::origin);
        let med = opt(&t, e, "med", |n, e| n.int(e, 0u32, u32::MAX));
        let local_pref = opt(&t, e, "local_pref", |n, e| n.int(e, 0u32, u32::MAX));
        let communities = opt(&t, e, "communities", |n, e| {
            n.list(e, "a list of communities", |n, e| n.parse(e, "a community such as \"65000:1\"", parse_community))
        });
        let large = opt(&t, e, "large_communities", |n, e| {
            n.list(e, "a list of large communities", |n, e| {
                n.parse(e, "a large community such as \"65000:1:2\"", parse_large_community)
            })
        });
        let ext = opt(&t, e, "ext_communities", |n, e| {
            n.list(e, "a list of extended communities", |n, e| {
                n.parse(e, "an extended community such as \"rt:65000:1\"", parse_ext_community)
            })
        });
        let origin = (|| {
            let attrs = PathAttributes {
                origin: origin?,
                med: med?,
                local_pref: local_pref?,
                communities: communities?.unwrap_or_default(),
                large_communities: large?.unwrap_or_default(),
                ext_communities: ext?.unwrap_or_default(),
                ..PathAttributes::default()
            };
            Some(OriginConfig { prefix: prefix?, attrs })
        })();
        match (&mut out, origin) {
            (Some(list), Some(o)) => list.push(o),
            _ => out = None,
        }
    }
    out
}

/// What the neighbor checks need to remember about the neighbors before.
struct Seen {
    key: String,
    name: String,
    address: IpAddr,
}

type Neighbors = (Option<Vec<NeighborConfig>>, BTreeMap<IpAddr, String>);

fn neighbors(
    root: &Table,
    router: Option<&(RouterConfig, TimerDefaults)>,
    policies: &Policies,
    e: &mut Errors,
) -> Neighbors {
    let mut descriptions = BTreeMap::new();
    let Some(node) = root.get("neighbor") else {
        return (Some(Vec::new()), descriptions);
    };
    let mut out = Some(Vec::new());
    let mut seen = Vec::new();
    for t in node.tables(e, "an array of tables ([[neighbor]])") {
        let n = neighbor(&t, router, policies, &mut seen, &mut descriptions, e);
        match (&mut out, n) {
            (Some(list), Some(n)) => list.push(n),
            _ => out = None,
        }
    }
    (out, descriptions)
}

fn neighbor(
    t: &Table,
    router: Option<&(RouterConfig, TimerDefaults)>,
    policies: &Policies,
    seen: &mut Vec<Seen>,
    descriptions: &mut BTreeMap<IpAddr, String>,
    e: &mut Errors,
) -> Option<NeighborConfig> {
    t.check_keys(e, NEIGHBOR_KEYS);
    let address = t.require(e, NEIGHBOR_KEYS, "address", "the neighbor's IP address").and_then(|n| {
        let a = n.parse(e, "an IP address", |s| {
            let a: IpAddr = s.parse().map_err(|_| format!("{s:?} is not an IP address"))?;
            if a.is_unspecified() || a.is_multicast() {
                return Err(format!("{a} cannot be a neighbor's address"));
            }
            Ok(a)
        })?;
        if let Some(other) = seen.iter().find(|s| s.address == a) {
            let named = if other.name == a.to_string() { String::new() } else { format!(" ({:?})", other.name) };
            return n.fail(e, format!("{a} is also the address of {}{named}", other.key));
        }
        Some(a)
    });
    let name = match t.get("name") {
        Some(n) => n.str(e, "a name (a string)").and_then(|s| {
            if s.is_empty() || s.chars().any(char::is_control) {
                return n.fail(e, "a neighbor's name must be non-empty and printable");
            }
            if let Some(other) = seen.iter().find(|o| o.name == s) {
                return n.fail(e, format!("the name {s:?} is also that of {}", other.key));
            }
            Some(s.to_string())
        }),
        // Without a name, the address is the name.
        None => address.map(|a| a.to_string()),
    };
    if let (Some(name), Some(address)) = (&name, address) {
        seen.push(Seen { key: t.key.clone(), name: name.clone(), address });
    }
    let description = opt(t, e, "description", |n, e| n.str(e, "a description (a string)").map(String::from));
    let remote_asn = t.require(e, NEIGHBOR_KEYS, "remote_asn", "the neighbor's AS number").and_then(|n| asn(&n, e));
    let port = opt(t, e, "port", |n, e| n.int(e, 1u16, u16::MAX));
    let local_address = opt(t, e, "local_address", |n, e| {
        n.parse(e, "an IP address", |s| {
            let a: IpAddr = s.parse().map_err(|_| format!("{s:?} is not an IP address"))?;
            match address {
                Some(peer) if peer.is_ipv4() != a.is_ipv4() => Err(format!(
                    "{a} is an {} address but the neighbor's address {peer} is {}",
                    if a.is_ipv4() { "IPv4" } else { "IPv6" },
                    if peer.is_ipv4() { "IPv4" } else { "IPv6" },
                )),
                Some(peer) if peer == a => Err(format!("{a} is the neighbor's own address")),
                _ if a.is_unspecified() || a.is_multicast() => Err(format!("{a} cannot be a local address")),
                _ => Ok(a),
            }
        })
    });
    let passive = opt(t, e, "passive", |n, e| n.bool(e));
    let disabled = opt(t, e, "disabled", |n, e| n.bool(e));
    let hold = opt(t, e, "hold_time", hold_time);
    let keepalive = opt(t, e, "keepalive", |n, e| n.int(e, 0u16, u16::MAX));
    let connect_retry = opt(t, e, "connect_retry", seconds);
    let delay_open = opt(t, e, "delay_open", |n, e| n.int(e, 0u16, 240));
    let extended_next_hop = opt(t, e, "extended_next_hop", |n, e| n.bool(e));
    let md5_key = opt(t, e, "md5_key", |n, e| {
        n.parse(e, "a key (a string)", |s| match s.len() {
            0 => Err("an empty key; leave md5_key out for no TCP-MD5".into()),
            l if l > MD5_MAX => Err(format!("the key is {l} bytes long; TCP-MD5 takes at most {MD5_MAX}")),
            _ => Ok(s.to_string()),
        })
    });
    let ttl_security = opt(t, e, "ttl_security", |n, e| n.int_as(e, 1u8, 255, "a number of hops from 1 to 255"));
    let families = opt(t, e, "families", |n, e| {
        let list = n.list(e, "a list of address families such as [\"ipv4-unicast\"]", policy::family)?;
        if list.is_empty() {
            return n.fail(e, "expected at least one address family");
        }
        for (i, f) in list.iter().enumerate() {
            if list[..i].contains(f) {
                return n.fail(e, format!("{f} is listed twice"));
            }
        }
        Some(list)
    });
    let add_path = opt(t, e, "add_path", |n, e| {
        n.parse(e, "\"none\", \"receive\", \"send\" or \"both\"", |s| {
            ADD_PATH.iter().find(|(name, _)| *name == s).map(|&(_, d)| d).ok_or_else(|| {
                format!("unknown ADD-PATH mode {s:?}: expected \"none\", \"receive\", \"send\" or \"both\"")
            })
        })
    });
    let mut policy_ref = |key: &str| {
        opt(t, e, key, |n, e| {
            let name = n.str(e, "a policy name (a string)")?;
            if let Some(p) = Policy::builtin(name) {
                return Some(Some(Arc::new(p)));
            }
            if let Some(p) = policies.valid.get(name) {
                return Some(Some(p.clone()));
            }
            if policies.names.contains(name) {
                // Defined, with a mistake reported there.
                return Some(None);
            }
            let mut known: Vec<&str> = policies.names.iter().map(String::as_str).collect();
            known.extend([crate::policy::ACCEPT, crate::policy::REJECT]);
            match walk::nearest(name, &known) {
                Some(near) => n.fail(e, format!("no policy is named {name:?}; did you mean {near:?}?")),
                None => n.fail(e, format!("no policy is named {name:?}; defined: {}", known.join(", "))),
            }
        })
    };
    let import = policy_ref("import");
    let export = policy_ref("export");
    let max_prefixes = opt(t, e, "max_prefixes", |n, e| {
        n.int_as(e, 0u32, u32::MAX, "a number of prefixes from 1 to 4294967295").and_then(|m| {
            if m == 0 {
                return n.fail(e, "0 would refuse every route; leave max_prefixes out for no limit");
            }
            Some(m)
        })
    });
    let warning = opt(t, e, "max_prefixes_warning", |n, e| n.int_as(e, 1u8, 100, "a percentage from 1 to 100"));
    let restart = opt(t, e, "max_prefixes_restart", seconds);
    let rr_client = opt(t, e, "route_reflector_client", |n, e| n.bool(e));
    let next_hop_self = opt(t, e, "next_hop_self", |n, e| n.bool(e));
    let soft_in = opt(t, e, "soft_reconfiguration_inbound", |n, e| n.bool(e));
    let send_max = opt(t, e, "add_path_send_max", |n, e| n.int_as(e, 1u16, 255, "a number of paths from 1 to 255"));
    let allow_own_as = opt(t, e, "allow_own_as", |n, e| n.int(e, 0u8, 10));
    let enforce_first_as = opt(t, e, "enforce_first_as", |n, e| n.bool(e));

    // Checks across keys, each where the values it needs are known.
    let (router, timers) = match router {
        Some((r, t)) => (r.clone(), *t),
        None => (RouterConfig::new(0, Ipv4Addr::UNSPECIFIED), TimerDefaults::default()),
    };
    let (hold, keepalive) = match (hold, keepalive) {
        (Some(h), Some(k)) => {
            let hold_given = h.is_some();
            let hold = h.unwrap_or(timers.hold_time);
            // A neighbor that sets its hold time alone keeps a third of it.
            let keepalive = k.unwrap_or(if hold_given { hold / 3 } else { timers.keepalive });
            match check_keepalive(hold, keepalive) {
                Ok(()) => (Some(hold), Some(keepalive)),
                Err(m) => {
                    let n = t.get("keepalive").or_else(|| t.get("hold_time")).expect("the router's timers agree");
                    n.fail::<()>(e, m);
                    (None, None)
                }
            }
        }
        _ => (None, None),
    };
    let rr_client = rr_client.map(|c| c.unwrap_or(false));
    if let (Some(true), Some(remote), true) = (rr_client, remote_asn, router.asn != 0) {
        if remote != router.asn {
            let n = t.get("route_reflector_client").expect("set to true");
            n.fail::<()>(e, format!("AS {remote} is not ours ({}): only iBGP neighbors can be clients", router.asn));
        }
    }

    let address = address?;
    if let Some(d) = description? {
        descriptions.insert(address, d);
    }
    let mut n = NeighborConfig::new(&name?, address, remote_asn?, &router);
    n.port = port?.unwrap_or(BGP_PORT);
    n.local_address = local_address?;
    n.md5_key = md5_key?;
    n.ttl_security = ttl_security?;
    n.admin_down = disabled?.unwrap_or(false);
    let s = &mut n.session;
    s.passive = passive?.unwrap_or(false);
    s.hold_time = hold?;
    s.keepalive = Duration::from_secs(keepalive?.into());
    s.connect_retry = Duration::from_secs(connect_retry?.unwrap_or(timers.connect_retry).into());
    s.delay_open = delay_open?.filter(|&d| d > 0).map(|d| Duration::from_secs(d.into()));
    s.extended_next_hop = extended_next_hop?.unwrap_or(false);
    s.families =
        families?.unwrap_or_else(|| vec![if address.is_ipv4() { Family::IPV4_UNICAST } else { Family::IPV6_UNICAST }]);
    s.add_path = match add_path?.flatten() {
        Some(d) => s.families.iter().map(|&f| (f, d)).collect(),
        None => Vec::new(),
    };
    let defaults = PeerRules::default();
    n.rib = PeerRules {
        import: import?.flatten(),
        export: export?.flatten(),
        next_hop_self: next_hop_self?.unwrap_or(defaults.next_hop_self),
        route_reflector_client: rr_client?,
        allow_own_as: allow_own_as?.unwrap_or(defaults.allow_own_as),
        enforce_first_as: enforce_first_as?.unwrap_or(defaults.enforce_first_as),
        max_prefixes: max_prefixes?,
        max_prefixes_warning: warning?.unwrap_or(defaults.max_prefixes_warning),
        max_prefixes_restart: restart?.map(|s| Duration::from_secs(s.into())),
        soft_reconfiguration_inbound: soft_in?.unwrap_or(defaults.soft_reconfiguration_inbound),
        add_path_send_max: send_max?,
    };
    Some(n)
}
