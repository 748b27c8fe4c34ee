//! Counters and gauges in OpenMetrics text format (`ternctl show metrics`): counter
//! families are declared without the `_total` suffix their samples carry, as OpenMetrics
//! requires, so scrape it as OpenMetrics (a Prometheus scraper that reads only the older
//! text format sees the counters as untyped).

use std::fmt::Write;

use crate::fsm::State;

use super::Daemon;

/// Label value escaping of the exposition format: backslash, double quote, newline.
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// RFC 4271 state numbers (Idle 1 … Established 6), as SNMP's bgpPeerState has them.
fn state_number(s: State) -> u8 {
    match s {
        State::Idle => 1,
        State::Connect => 2,
        State::Active => 3,
        State::OpenSent => 4,
        State::OpenConfirm => 5,
        State::Established => 6,
    }
}

pub fn render(d: &Daemon) -> String {
    let mut out = String::new();
    let w = &mut out;
    let family = |w: &mut String, name: &str, kind: &str, help: &str| {
        let _ = writeln!(w, "# TYPE {name} {kind}\n# HELP {name} {help}");
    };
    family(w, "tern_uptime_seconds", "gauge", "Seconds since ternd started.");
    let _ = writeln!(w, "tern_uptime_seconds {}", d.started.elapsed().as_secs());
    if let Some(crate::rib::Answer::Summary { ipv4, ipv6, paths, attribute_sets }) = d.router.rib_summary() {
        family(w, "tern_rib_prefixes", "gauge", "Prefixes in the Loc-RIB.");
        let _ = writeln!(w, "tern_rib_prefixes{{family=\"ipv4-unicast\"}} {ipv4}");
        let _ = writeln!(w, "tern_rib_prefixes{{family=\"ipv6-unicast\"}} {ipv6}");
        family(w, "tern_rib_paths", "gauge", "Candidate paths over all prefixes.");
        let _ = writeln!(w, "tern_rib_paths {paths}");
        family(w, "tern_rib_attribute_sets", "gauge", "Distinct interned path attribute sets.");
        let _ = writeln!(w, "tern_rib_attribute_sets {attribute_sets}");
    }
    if let Some(f) = d.router.fib_stats() {
        family(
            w,
            "tern_fib_routes_installed",
            "counter",
            "Routes written into the kernel table (installs and replacements).",
        );
        let _ = writeln!(w, "tern_fib_routes_installed_total {}", f.installed);
        family(w, "tern_fib_routes_removed", "counter", "Routes removed from the kernel table.");
        let _ = writeln!(w, "tern_fib_routes_removed_total {}", f.removed);
        family(w, "tern_fib_errors", "counter", "Route changes the kernel refused, retries included.");
        let _ = writeln!(w, "tern_fib_errors_total {}", f.errors);
        family(w, "tern_fib_routes_failing", "gauge", "Best routes the kernel refuses now (retried).");
        let _ = writeln!(w, "tern_fib_routes_failing {}", f.failing);
    }
    family(w, "tern_unknown_connections", "counter", "Connections refused because no neighbor has their address.");
    let _ = writeln!(w, "tern_unknown_connections_total {}", d.router.unknown_connections());
    let peers = d.router.neighbors();
    let counts = d.router.prefix_counts();
    let label = |s: &crate::session::status::PeerStatus| {
        format!("neighbor=\"{}\",address=\"{}\"", esc(&s.name), esc(&s.address.to_string()))
    };
    family(
        w,
        "tern_neighbor_state",
        "gauge",
        "Session state: 1 idle, 2 connect, 3 active, 4 open sent, 5 open confirm, 6 established.",
    );
    for s in &peers {
        let _ = writeln!(w, "tern_neighbor_state{{{}}} {}", label(s), state_number(s.state));
    }
    family(w, "tern_neighbor_established_transitions", "counter", "Times the session reached Established.");
    for s in &peers {
        let _ = writeln!(w, "tern_neighbor_established_transitions_total{{{}}} {}", label(s), s.established_count);
    }
    family(
        w,
        "tern_neighbor_prefixes_received",
        "gauge",
        "Prefixes from the neighbor in the RIB, after import policy.",
    );
    for s in &peers {
        let _ = writeln!(
            w,
            "tern_neighbor_prefixes_received{{{}}} {}",
            label(s),
            counts.get(&s.address).copied().unwrap_or(0)
        );
    }
    family(w, "tern_neighbor_prefixes_sent", "counter", "Prefixes announced or withdrawn to the neighbor.");
    for s in &peers {
        let _ = writeln!(w, "tern_neighbor_prefixes_sent_total{{{}}} {}", label(s), s.prefixes_sent);
    }
    for (dir, name) in [("received", "tern_neighbor_messages_received"), ("sent", "tern_neighbor_messages_sent")] {
        family(w, name, "counter", &format!("BGP messages {dir}, by type."));
        for s in &peers {
            let c = if dir == "received" { &s.received } else { &s.sent };
            for (kind, n) in [
                ("open", c.open),
                ("update", c.update),
                ("notification", c.notification),
                ("keepalive", c.keepalive),
                ("route_refresh", c.route_refresh),
            ] {
                let _ = writeln!(w, "{name}_total{{{},type=\"{kind}\"}} {n}", label(s));
            }
        }
    }
    family(w, "tern_neighbor_attribute_faults", "counter", "Malformed attributes repaired under RFC 7606.");
    for s in &peers {
        let _ = writeln!(w, "tern_neighbor_attribute_faults_total{{{}}} {}", label(s), s.attribute_faults);
    }
    let _ = writeln!(w, "# EOF");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn label_values_are_escaped() {
        assert_eq!(super::esc("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
