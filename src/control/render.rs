//! Text rendering of admin socket replies for `ternctl`: tables in the spirit of birdc
//! and bgpctl, one line per neighbor or path.

use std::fmt::Write;

use super::proto::{NeighborDetail, PathEntry, Reply, RouteEntry, Summary};

/// The reply as text for a terminal (ends with a newline unless empty).
pub fn reply(r: &Reply) -> String {
    match r {
        Reply::Summary(s) => summary(s),
        Reply::Neighbors { neighbors } => neighbors.iter().map(neighbor).collect::<Vec<_>>().join("\n"),
        Reply::Routes { routes, truncated } => self::routes(routes, *truncated),
        Reply::Metrics { text } => text.clone(),
        Reply::Done { message } => format!("{message}\n"),
    }
}

/// Seconds as `1d02h03m`, `02:03:04` or `45s`.
pub fn duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d{h:02}h{m:02}m")
    } else if secs >= 60 {
        format!("{h:02}:{m:02}:{s:02}")
    } else {
        format!("{s}s")
    }
}

fn summary(s: &Summary) -> String {
    let mut out = String::new();
    let _ =
        writeln!(out, "tern {}  AS {}  router id {}  up {}", s.version, s.asn, s.router_id, duration(s.uptime_secs));
    let _ = writeln!(
        out,
        "RIB: {} IPv4 and {} IPv6 prefixes, {} paths, {} attribute sets",
        s.prefixes_ipv4, s.prefixes_ipv6, s.paths, s.attribute_sets
    );
    let _ = writeln!(out);
    let rows: Vec<[String; 7]> = s
        .neighbors
        .iter()
        .map(|n| {
            let state = if n.disabled { format!("{} (disabled)", n.state) } else { n.state.clone() };
            [
                n.name.clone(),
                n.address.clone(),
                n.remote_asn.map_or("any".into(), |a| a.to_string()),
                state,
                duration(n.uptime_secs.unwrap_or(n.state_secs)),
                n.prefixes_received.to_string(),
                n.prefixes_sent.to_string(),
            ]
        })
        .collect();
    // PfxRcd: prefixes from the neighbor in the RIB now; Sent: prefixes announced or
    // withdrawn to it since tern started (a count of changes, not of routes held).
    out.push_str(&table(&["Neighbor", "Address", "AS", "State", "Up/Down", "PfxRcd", "Sent"], &rows));
    out
}

fn neighbor(n: &NeighborDetail) -> String {
    let b = &n.brief;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Neighbor {} ({}), remote AS {}",
        b.name,
        b.address,
        b.remote_asn.map_or("any".into(), |a| a.to_string())
    );
    if let Some(d) = &n.description {
        let _ = writeln!(out, "  Description:      {d}");
    }
    let state = if b.disabled { format!("{} (disabled)", b.state) } else { b.state.clone() };
    let _ = writeln!(out, "  State:            {state} for {}", duration(b.state_secs));
    if let Some(up) = b.uptime_secs {
        let _ = writeln!(out, "  Uptime:           {}", duration(up));
    }
    if let (Some(l), Some(r)) = (&n.local_address, &n.remote_address) {
        let _ = writeln!(out, "  Connection:       {l} -> {r}");
    }
    if let (Some(id), Some(asn)) = (&n.peer_router_id, n.peer_asn) {
        let _ = writeln!(out, "  Peer:             AS {asn}, router id {id}");
    }
    match n.hold_time {
        Some(h) => {
            let ka = n.keepalive_secs.map_or("none".into(), |k| format!("{k}s"));
            let _ = writeln!(
                out,
                "  Hold time:        {h}s negotiated ({}s configured), keepalive {ka}",
                n.configured_hold_time
            );
        }
        None => {
            let _ = writeln!(out, "  Hold time:        {}s configured", n.configured_hold_time);
        }
    }
    if !n.capabilities.is_empty() {
        let _ = writeln!(out, "  Capabilities:     {}", n.capabilities.join(", "));
    }
    let _ = writeln!(out, "  Families:         {}", n.families.join(", "));
    let _ = writeln!(out, "  Policy:           import {}, export {}", n.import, n.export);
    let _ = writeln!(
        out,
        "  Prefixes:         {} in the RIB, {} announced and {} withdrawn by the peer, {} sent",
        b.prefixes_received, n.prefixes_announced, n.prefixes_withdrawn, b.prefixes_sent
    );
    if !n.end_of_rib.is_empty() {
        let _ = writeln!(out, "  End-of-RIB from:  {}", n.end_of_rib.join(", "));
    }
    let rows = [("Received", &n.received), ("Sent", &n.sent)]
        .map(|(what, c)| {
            [
                what.to_string(),
                c.open.to_string(),
                c.update.to_string(),
                c.notification.to_string(),
                c.keepalive.to_string(),
                c.route_refresh.to_string(),
                c.total.to_string(),
            ]
        })
        .to_vec();
    let _ = writeln!(out, "  Messages:");
    for line in table(&["", "Open", "Update", "Notification", "Keepalive", "Refresh", "Total"], &rows).lines() {
        let _ = writeln!(out, "    {line}");
    }
    let _ = writeln!(
        out,
        "  Established:      {} times; {} malformed attributes repaired (RFC 7606)",
        n.established_count, n.attribute_faults
    );
    if let Some(e) = &n.last_error {
        let _ = writeln!(out, "  Last error:       {e}");
    }
    if let Some(x) = &n.last_notification_sent {
        let _ = writeln!(out, "  Last sent:        {x}");
    }
    if let Some(x) = &n.last_notification_received {
        let _ = writeln!(out, "  Last received:    {x}");
    }
    out
}

fn routes(routes: &[RouteEntry], truncated: bool) -> String {
    let mut out = String::new();
    if routes.is_empty() {
        out.push_str("no routes\n");
    }
    for r in routes {
        for (i, p) in r.paths.iter().enumerate() {
            let head = if i == 0 { r.prefix.as_str() } else { "" };
            let mark = if p.selected { '*' } else { ' ' };
            let _ = writeln!(out, "{head:<20}{mark} {}", path_line(p));
        }
        if r.paths.len() > 1 {
            let _ = writeln!(out, "{:<20}  best: {}", "", r.reason);
        }
        if let Some(k) = &r.kernel {
            let _ = writeln!(out, "{:<20}  kernel: {k}", "");
        }
    }
    if truncated {
        let _ = writeln!(out, "(list cut at the limit; ask for a prefix or raise --limit)");
    }
    out
}

fn path_line(p: &PathEntry) -> String {
    let mut s = match &p.next_hop {
        Some(nh) => format!("via {nh} from {}", p.from),
        None if p.from == "local" => "originated here".to_string(),
        None => format!("no next hop, from {}", p.from),
    };
    if let Some(a) = &p.from_address {
        let _ = write!(s, " ({a})");
    }
    if p.path_id != 0 {
        let _ = write!(s, " id {}", p.path_id);
    }
    let path = if p.as_path.is_empty() { "(empty)" } else { p.as_path.as_str() };
    let _ = write!(s, " path {path}");
    if let Some(o) = &p.origin {
        let _ = write!(s, " {o}");
    }
    if let Some(lp) = p.local_pref {
        let _ = write!(s, " localpref {lp}");
    }
    if let Some(med) = p.med {
        let _ = write!(s, " med {med}");
    }
    if !p.communities.is_empty() {
        let _ = write!(s, " communities {}", p.communities.join(" "));
    }
    if !p.large_communities.is_empty() {
        let _ = write!(s, " large {}", p.large_communities.join(" "));
    }
    if !p.ext_communities.is_empty() {
        let _ = write!(s, " ext {}", p.ext_communities.join(" "));
    }
    if let Some(o) = &p.originator_id {
        let _ = write!(s, " originator {o}");
    }
    if !p.cluster_list.is_empty() {
        let _ = write!(s, " cluster-list {}", p.cluster_list.join(" "));
    }
    s
}

/// Left-aligned columns, two spaces apart.
fn table<const N: usize>(head: &[&str; N], rows: &[[String; N]]) -> String {
    let mut width = head.map(str::len);
    for row in rows {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(width).enumerate() {
            if i + 1 == N {
                l.push_str(cell);
            } else {
                let _ = write!(l, "{cell:<w$}  ");
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(head.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_other_daemons() {
        assert_eq!(duration(5), "5s");
        assert_eq!(duration(3723), "01:02:03");
        assert_eq!(duration(90061), "1d01h01m");
    }

    #[test]
    fn tables_align_columns() {
        let t = table(&["A", "Bee"], &[["long cell".into(), "x".into()], ["s".into(), "y".into()]]);
        assert_eq!(t, "A          Bee\nlong cell  x\ns          y\n");
    }
}
