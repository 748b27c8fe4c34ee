//! The admin socket's messages, one JSON object per line each way.
//!
//! A request names its kind in `"type"`:
//! `{"type":"routes","prefix":"10.0.0.0/8","neighbor":"r2","direction":"in"}`.
//! A response is `{"ok":{"type":...,...}}` or `{"error":"what went wrong"}`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// The router and one line per neighbor.
    Summary,
    /// Every neighbor in detail.
    Neighbors,
    /// One neighbor in detail, by name or address.
    Neighbor {
        neighbor: String,
    },
    Routes(RouteRequest),
    /// Originates a prefix, kept across restarts until withdrawn.
    Announce {
        prefix: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        communities: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        large_communities: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        med: Option<u32>,
    },
    Withdraw {
        prefix: String,
    },
    Reset {
        neighbor: String,
        #[serde(default)]
        mode: ResetMode,
    },
    /// Stops a neighbor's session and keeps it stopped, across restarts too.
    Disable {
        neighbor: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    Enable {
        neighbor: String,
    },
    Reload,
    LogLevel {
        level: String,
    },
    /// Counters in OpenMetrics text format.
    Metrics,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteRequest {
    /// A prefix, or an address for a longest match; absent lists the table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// With `prefix`: the exact prefix only, no longest match.
    #[serde(default)]
    pub exact: bool,
    /// A neighbor's Adj-RIB-In or Adj-RIB-Out instead of the Loc-RIB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neighbor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// `ipv4-unicast` or `ipv6-unicast`; both when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// At most this many prefixes (default [`DEFAULT_ROUTE_LIMIT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// Listings stop here unless the request asks for more.
pub const DEFAULT_ROUTE_LIMIT: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    In,
    Out,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetMode {
    /// Close the session (Cease / Administrative Reset) and start it again.
    #[default]
    Hard,
    /// Ask the peer to send its routes again (ROUTE-REFRESH).
    SoftIn,
    /// Send the peer our routes again.
    SoftOut,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    Ok(Reply),
    Error(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reply {
    Summary(Summary),
    Neighbors {
        neighbors: Vec<NeighborDetail>,
    },
    Routes {
        routes: Vec<RouteEntry>,
        truncated: bool,
    },
    Metrics {
        text: String,
    },
    /// A command was carried out; what it did, in words.
    Done {
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub version: String,
    pub asn: u32,
    pub router_id: String,
    pub uptime_secs: u64,
    pub config: String,
    pub prefixes_ipv4: usize,
    pub prefixes_ipv6: usize,
    pub paths: usize,
    pub attribute_sets: usize,
    pub neighbors: Vec<NeighborBrief>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeighborBrief {
    pub name: String,
    pub address: String,
    pub remote_asn: Option<u32>,
    pub state: String,
    /// Disabled by the operator (`ternctl disable`) or the configuration.
    pub disabled: bool,
    /// Seconds in the current state.
    pub state_secs: u64,
    /// Seconds since Established, while it is.
    pub uptime_secs: Option<u64>,
    /// Prefixes the peer has in the RIB now (after import policy).
    pub prefixes_received: u64,
    pub prefixes_sent: u64,
    pub messages_received: u64,
    pub messages_sent: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeighborDetail {
    #[serde(flatten)]
    pub brief: NeighborBrief,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub local_address: Option<String>,
    pub remote_address: Option<String>,
    pub peer_router_id: Option<String>,
    pub peer_asn: Option<u32>,
    pub hold_time: Option<u16>,
    pub keepalive_secs: Option<u64>,
    pub configured_hold_time: u16,
    pub capabilities: Vec<String>,
    pub families: Vec<String>,
    pub import: String,
    pub export: String,
    pub received: MessageCounts,
    pub sent: MessageCounts,
    pub prefixes_announced: u64,
    pub prefixes_withdrawn: u64,
    pub attribute_faults: u64,
    pub established_count: u64,
    pub end_of_rib: Vec<String>,
    pub last_error: Option<String>,
    pub last_notification_sent: Option<String>,
    pub last_notification_received: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageCounts {
    pub open: u64,
    pub update: u64,
    pub notification: u64,
    pub keepalive: u64,
    pub route_refresh: u64,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteEntry {
    pub prefix: String,
    pub family: String,
    /// Why the best path won (the decision step), for the Loc-RIB.
    pub reason: String,
    pub paths: Vec<PathEntry>,
    /// With `[fib]` enabled, for the Loc-RIB: `installed`, `pending`, `failed: WHY`, or
    /// `not installed (...)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathEntry {
    /// Where the path came from: a neighbor's name, or `local` for originated routes.
    pub from: String,
    pub from_address: Option<String>,
    pub path_id: u32,
    pub selected: bool,
    pub next_hop: Option<String>,
    pub as_path: String,
    pub origin: Option<String>,
    pub local_pref: Option<u32>,
    pub med: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub communities: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub large_communities: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ext_communities: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub originator_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cluster_list: Vec<String>,
}

impl Response {
    /// The response as one JSON line (without the newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!("{{\"error\":{}}}", serde_json::Value::String(format!("cannot encode the response: {e}")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_have_a_stable_json_form() {
        let r = Request::Routes(RouteRequest {
            prefix: Some("10.0.0.0/8".into()),
            neighbor: Some("r2".into()),
            direction: Some(Direction::In),
            ..Default::default()
        });
        let line = serde_json::to_string(&r).unwrap();
        assert_eq!(line, r#"{"type":"routes","prefix":"10.0.0.0/8","exact":false,"neighbor":"r2","direction":"in"}"#);
        assert_eq!(serde_json::from_str::<Request>(&line).unwrap(), r);
        assert_eq!(serde_json::from_str::<Request>(r#"{"type":"summary"}"#).unwrap(), Request::Summary);
        let reset: Request = serde_json::from_str(r#"{"type":"reset","neighbor":"r2","mode":"soft_in"}"#).unwrap();
        assert_eq!(reset, Request::Reset { neighbor: "r2".into(), mode: ResetMode::SoftIn });
    }

    #[test]
    fn unknown_requests_and_fields_are_refused() {
        assert!(serde_json::from_str::<Request>(r#"{"type":"sumary"}"#).is_err());
        assert!(serde_json::from_str::<Request>(r#"{"type":"withdraw","prefix":"10.0.0.0/8","x":1}"#).is_err());
    }

    #[test]
    fn responses_round_trip() {
        let ok = Response::Ok(Reply::Done { message: "announced 10.0.0.0/8".into() });
        assert_eq!(ok.to_line(), r#"{"ok":{"type":"done","message":"announced 10.0.0.0/8"}}"#);
        let err = Response::Error("no neighbor r9".into());
        assert_eq!(err.to_line(), r#"{"error":"no neighbor r9"}"#);
        assert_eq!(serde_json::from_str::<Response>(&err.to_line()).unwrap(), err);
    }
}
