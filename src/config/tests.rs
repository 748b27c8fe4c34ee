//! Unit tests of the whole loader; the golden and broken files are in `tests/config/`.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use super::*;
use crate::policy::{EvalContext, RouteView, Verdict};
use crate::rib::PeerInfo;
use crate::wire::{AsPath, Family, Origin, Segment, SegmentKind};

const ROUTER: &str = "[router]\nasn = 65001\nrouter_id = \"192.0.2.1\"\n";

fn ok(body: &str) -> Config {
    let text = format!("{ROUTER}{body}");
    parse(&text, Path::new("t.toml")).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn errors(body: &str) -> Vec<String> {
    let text = format!("{ROUTER}{body}");
    match parse(&text, Path::new("t.toml")) {
        Ok(_) => panic!("should fail:\n{text}"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

fn peer(asn: u32) -> PeerInfo {
    PeerInfo {
        id: 1,
        name: "p".into(),
        address: "192.0.2.2".parse().unwrap(),
        asn,
        router_id: Ipv4Addr::new(192, 0, 2, 2),
        ebgp: true,
        rr_client: false,
    }
}

#[test]
fn inline_tables_and_dotted_keys_read_the_same() {
    let dotted = ok(r#"
[[policy.p.rule]]
match.family = "ipv6-unicast"
match.origin_as = 64511
set.local_pref = 50
set.large_community.add = ["65000:1:2"]
action = "accept"
"#);
    let inline = ok(r#"
[[policy.p.rule]]
match = { family = "ipv6-unicast", origin_as = 64511 }
set = { local_pref = 50, large_community = { add = ["65000:1:2"] } }
action = "accept"
"#);
    assert_eq!(dotted.policies, inline.policies);
    assert_eq!(dotted.canonical(), inline.canonical());
}

#[test]
fn a_single_value_is_a_list_of_one() {
    let c = ok("[[neighbor]]\naddress = \"192.0.2.2\"\nremote_asn = 65002\nfamilies = \"ipv6-unicast\"\n");
    assert_eq!(c.neighbors[0].session.families, vec![Family::IPV6_UNICAST]);
}

#[test]
fn a_policy_from_the_file_evaluates_as_written() {
    let c = ok(r#"
[policy.in]
default = "accept"
[[policy.in.rule]]
name = "tag"
match.origin_as = 65010
set.local_pref = 300
set.community.add = ["65001:7"]
set.prepend = { asn = 65002, count = 2 }
[[policy.in.rule]]
match.as_path_length = { min = 4 }
action = "reject"
"#);
    let policy = &c.policies["in"];
    let info = peer(65002);
    let view = RouteView {
        prefix: "203.0.113.0/24".parse().unwrap(),
        path_id: 0,
        neighbor: &info,
        family: Family::IPV4_UNICAST,
        next_hop: None,
    };
    let ctx = EvalContext { local_asn: 65001, self_next_hop: None };
    let path = |asns: Vec<u32>| AsPath::from_segments(vec![Segment { kind: SegmentKind::Sequence, asns }]);

    // 65002 65010 gets tagged and prepended to four ASes, which the second rule refuses.
    let mut attrs = PathAttributes { as_path: Some(path(vec![65002, 65010])), ..Default::default() };
    assert_eq!(policy.evaluate(&view, &mut attrs, &ctx).verdict, Verdict::Reject);

    // A path from elsewhere falls through to the default, unchanged.
    let mut attrs = PathAttributes { as_path: Some(path(vec![65002, 65020])), ..Default::default() };
    let out = policy.evaluate(&view, &mut attrs, &ctx);
    assert_eq!(out.verdict, Verdict::Accept);
    assert_eq!(attrs.local_pref, None);
}

#[test]
fn origins_carry_their_attributes() {
    let c = ok(r#"
[[origin]]
prefix = "2001:db8::/32"
origin = "egp"
med = 7
communities = ["no-export", "65001:1"]
large_communities = ["65001:0:1"]
ext_communities = ["rt:65001:1"]
"#);
    let o = &c.origins[0];
    assert_eq!(o.prefix, "2001:db8::/32".parse().unwrap());
    assert_eq!(o.attrs.origin, Some(Origin::Egp));
    assert_eq!(o.attrs.med, Some(7));
    assert_eq!(o.attrs.communities, vec![0xffff_ff01, 65001 << 16 | 1]);
    assert_eq!(o.attrs.large_communities.len(), 1);
    assert_eq!(o.attrs.ext_communities, vec![0x0002_fde9_0000_0001]);
    assert_eq!(o.attrs.as_path, None, "the router adds the empty path when it announces");
}

#[test]
fn keepalive_defaults_follow_the_hold_time_that_was_given() {
    let c = ok(r#"
[[neighbor]]
address = "192.0.2.2"
remote_asn = 65002
[[neighbor]]
address = "192.0.2.3"
remote_asn = 65002
hold_time = 0
[[neighbor]]
address = "192.0.2.4"
remote_asn = 65002
keepalive = 10
"#);
    let timers: Vec<(u16, u64)> =
        c.neighbors.iter().map(|n| (n.session.hold_time, n.session.keepalive.as_secs())).collect();
    assert_eq!(timers, [(90, 30), (0, 0), (90, 10)]);
}

#[test]
fn a_router_keepalive_above_a_neighbor_hold_time_is_caught() {
    // The neighbor's own hold time, with the router's default keepalive, would not work.
    let text = "[router]\nasn = 65001\nrouter_id = \"192.0.2.1\"\nkeepalive = 20\n\n\
                [[neighbor]]\naddress = \"192.0.2.2\"\nremote_asn = 65002\nhold_time = 9\nkeepalive = 9\n";
    let e = parse(text, Path::new("t.toml")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "t.toml:10:13: neighbor[0].keepalive: keepalive 9 must be shorter than the hold time 9 (usually a third of it)\n"
    );
}

#[test]
fn errors_come_in_file_order() {
    let e = errors(
        r#"
[[neighbor]]
address = "192.0.2.2"
remote_asn = 65002
import = "later"
ttl_security = 0

[policy.later]
default = "perhaps"
"#,
    );
    assert_eq!(
        e,
        [
            "t.toml:9:16: neighbor[0].ttl_security: 0 is out of range: expected a number of hops from 1 to 255",
            "t.toml:12:11: policy.later.default: \"perhaps\" is not a verdict: expected \"accept\" or \"reject\"",
        ],
        "a policy with a mistake is reported where it is, not where it is named"
    );
}

#[test]
fn syntax_errors_stop_the_reading() {
    let e = errors("[[neighbor]\naddress = 1\n");
    assert_eq!(e, ["t.toml:4:12: (TOML syntax): unclosed array table, expected `]`"]);
}

#[test]
fn canonical_prints_a_config_changed_in_code() {
    let mut c = ok("[[neighbor]]\naddress = \"192.0.2.2\"\nremote_asn = 65002\n");
    c.neighbors[0].admin_down = true;
    c.neighbors[0].local_address = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    c.descriptions.insert(c.neighbors[0].address, "changed".into());
    let again = parse(&c.canonical(), Path::new("t.toml")).unwrap();
    assert_eq!(again, c);
}

#[test]
fn errors_display_as_file_line_column_key_message() {
    let e = ConfigError {
        file: "/etc/tern/tern.toml".into(),
        line: 3,
        column: 7,
        key: "router.asn".into(),
        message: "AS 0 is reserved".into(),
    };
    assert_eq!(e.to_string(), "/etc/tern/tern.toml:3:7: router.asn: AS 0 is reserved");
}
