//! Writes the seed corpora under fuzz/seeds/<target>/: a few valid messages per target, built
//! with tern's own encoder so that they stay valid as the codec changes.
//!
//!     cargo run --manifest-path fuzz/Cargo.toml --example gen_seeds
//!
//! Each seed is laid out as its target reads input (see the targets' headers): a context
//! octet first where the target takes one, a header only where the target does not add one.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

use tern::wire::capability::{GracefulRestart, LlgrFamily};
use tern::wire::{
    AddPathDirection, Aggregator, AsPath, Capability, Ctx, Family, FamilySet, LargeCommunity, Message, MpReach,
    MpUnreach, NextHop, Nlri, Notification, Open, Origin, PathAttributes, Prefix, RawAttribute, RefreshSubtype,
    RouteRefresh, Segment, SegmentKind, Update, UpdateEncoder, HEADER_LEN,
};
use tern_fuzz::ctx_byte;

fn v4(s: &str) -> Nlri {
    Nlri::new(s.parse().unwrap())
}

fn open() -> Open {
    let mut open = Open::new(
        4200000001,
        90,
        Ipv4Addr::new(192, 0, 2, 1),
        vec![
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::Multiprotocol(Family::IPV6_UNICAST),
            Capability::RouteRefresh,
            Capability::EnhancedRouteRefresh,
            Capability::ExtendedMessage,
            Capability::ExtendedNextHop(vec![(Family::IPV4_UNICAST, 2)]),
            Capability::Role(3),
            Capability::GracefulRestart(GracefulRestart {
                flags: 0x8,
                restart_time: 120,
                families: vec![(Family::IPV4_UNICAST, 0x80)],
            }),
            Capability::AddPath(vec![(Family::IPV4_UNICAST, AddPathDirection::Both)]),
            Capability::LongLivedGracefulRestart(vec![LlgrFamily {
                family: Family::IPV6_UNICAST,
                flags: 0x80,
                stale_time: 3600,
            }]),
            Capability::Fqdn { hostname: "r1".into(), domain: "example.net".into() },
            Capability::Unknown { code: 200, data: vec![1, 2, 3] },
        ],
    );
    open.other_params.push((7, vec![0xde, 0xad]));
    open
}

fn rich_attrs() -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath {
            segments: vec![
                Segment { kind: SegmentKind::ConfedSequence, asns: vec![64512] },
                Segment { kind: SegmentKind::Sequence, asns: vec![65001, 4200000002, 3356] },
                Segment { kind: SegmentKind::Set, asns: vec![64496, 64497] },
            ],
        }),
        next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
        med: Some(10),
        local_pref: Some(200),
        atomic_aggregate: true,
        aggregator: Some(Aggregator { asn: 4200000002, address: Ipv4Addr::new(198, 51, 100, 1) }),
        communities: vec![0xfde9_0001, tern::wire::attrs::NO_EXPORT],
        originator_id: Some(Ipv4Addr::new(10, 0, 0, 1)),
        cluster_list: vec![Ipv4Addr::new(10, 0, 0, 2)],
        ext_communities: vec![0x0002_fde9_0000_0001],
        large_communities: vec![LargeCommunity { global: 4200000002, local1: 1, local2: 2 }],
        otc: Some(65001),
        unknown: vec![RawAttribute { flags: 0xe0, type_code: 99, value: vec![1, 2, 3, 4] }],
    }
}

fn simple_attrs() -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::sequence([65001, 65002])),
        next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
        ..PathAttributes::default()
    }
}

/// (name, context, message) for every kind of message worth seeding.
fn messages() -> Vec<(&'static str, Ctx, Message)> {
    let ibgp = Ctx::new();
    let ebgp = Ctx { ebgp: true, ..Ctx::new() };
    let two_octet = Ctx::pre_open();
    let add_path =
        Ctx { add_path: FamilySet::EMPTY.with(Family::IPV4_UNICAST).with(Family::IPV6_UNICAST), ..Ctx::new() };
    let extended = Ctx { extended_message: true, ..Ctx::new() };
    let v6: Prefix = "2001:db8:1::/48".parse().unwrap();
    let nh6: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let ll6: Ipv6Addr = "fe80::1".parse().unwrap();
    let update = |attrs, nlri: Vec<Nlri>| Update { attrs, nlri, ..Update::default() };
    vec![
        ("open", two_octet, Message::Open(open())),
        ("keepalive", ibgp, Message::Keepalive),
        ("update_v4", ebgp, Message::Update(update(simple_attrs(), vec![v4("10.0.0.0/8"), v4("10.1.2.0/24")]))),
        ("update_rich", ibgp, Message::Update(update(rich_attrs(), vec![v4("198.51.100.0/24"), v4("0.0.0.0/0")]))),
        ("update_as4", two_octet, Message::Update(update(rich_attrs(), vec![v4("203.0.113.128/25")]))),
        (
            "update_withdraw",
            ibgp,
            Message::Update(Update { withdrawn: vec![v4("10.0.0.0/8"), v4("192.0.2.1/32")], ..Update::default() }),
        ),
        (
            "update_v6",
            ibgp,
            Message::Update(Update {
                attrs: PathAttributes { next_hop: None, ..simple_attrs() },
                mp_reach: Some(MpReach {
                    family: Family::IPV6_UNICAST,
                    next_hop: NextHop::V6LinkLocal(nh6, ll6),
                    nlri: vec![Nlri::new(v6)],
                }),
                mp_unreach: Some(MpUnreach {
                    family: Family::IPV6_UNICAST,
                    withdrawn: vec![Nlri::new("2001:db8:2::/48".parse().unwrap())],
                }),
                ..Update::default()
            }),
        ),
        (
            "update_v4_over_v6",
            ibgp,
            Message::Update(Update {
                attrs: PathAttributes { next_hop: None, ..simple_attrs() },
                mp_reach: Some(MpReach {
                    family: Family::IPV4_UNICAST,
                    next_hop: NextHop::V6(nh6),
                    nlri: vec![v4("10.2.0.0/16")],
                }),
                ..Update::default()
            }),
        ),
        (
            "update_add_path",
            add_path,
            Message::Update(Update {
                withdrawn: vec![Nlri::with_path_id("10.9.0.0/16".parse().unwrap(), 3)],
                attrs: simple_attrs(),
                nlri: vec![Nlri::with_path_id("10.0.0.0/8".parse().unwrap(), 1)],
                mp_reach: Some(MpReach {
                    family: Family::IPV6_UNICAST,
                    next_hop: NextHop::V6(nh6),
                    nlri: vec![Nlri::with_path_id(v6, 2)],
                }),
                ..Update::default()
            }),
        ),
        ("update_eor_v4", ibgp, Message::Update(Update::end_of_rib(Family::IPV4_UNICAST))),
        ("update_eor_v6", ibgp, Message::Update(Update::end_of_rib(Family::IPV6_UNICAST))),
        (
            "update_extended",
            extended,
            Message::Update(update(
                simple_attrs(),
                (0..1500u32).map(|i| v4(&format!("10.{}.{}.0/24", i >> 8, i & 0xff))).collect(),
            )),
        ),
        (
            "notification_shutdown",
            ibgp,
            Message::Notification(Notification::cease(
                tern::wire::notification::CEASE_ADMIN_SHUTDOWN,
                Some("maintenance"),
            )),
        ),
        ("notification_update_error", ibgp, Message::Notification(Notification::new(3, 11, vec![2, 0]))),
        ("refresh", ibgp, Message::RouteRefresh(RouteRefresh::request(Family::IPV4_UNICAST))),
        (
            "refresh_borr",
            ibgp,
            Message::RouteRefresh(RouteRefresh { family: Family::IPV6_UNICAST, subtype: RefreshSubtype::BeginRefresh }),
        ),
    ]
}

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let dir = dir.join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let mut stream = vec![ctx_byte(&Ctx::new())];
    for (name, ctx, msg) in messages() {
        let bytes = msg.to_bytes(&ctx).unwrap_or_else(|e| panic!("{name}: {e}"));
        let decoded = tern_fuzz::decode_and_check(&bytes, &ctx).unwrap_or_else(|| panic!("{name} does not decode"));
        assert_eq!((decoded.message, decoded.faults), (msg.clone(), vec![]), "{name}");
        let body = &bytes[HEADER_LEN..];
        let with_ctx = |b: &[u8]| [&[ctx_byte(&ctx)][..], b].concat();
        write(&dir, "decode_message", name, &with_ctx(&bytes));
        match &msg {
            Message::Open(_) => write(&dir, "open", name, body),
            Message::Update(_) => write(&dir, "update", name, &with_ctx(body)),
            Message::Notification(_) => write(&dir, "notification_refresh", name, &[&[0][..], body].concat()),
            Message::RouteRefresh(_) => write(&dir, "notification_refresh", name, &[&[1][..], body].concat()),
            Message::Keepalive => {}
        }
        if ctx == Ctx::new() {
            stream.extend_from_slice(&bytes);
        }
    }
    // A session's worth: OPEN and KEEPALIVE, then UPDATEs from the batch encoder, split
    // across messages, and a NOTIFICATION.
    write(&dir, "frame", "session", &stream);
    let ctx = Ctx::new();
    let mut batch = vec![ctx_byte(&ctx)];
    let nlri: Vec<Nlri> = (0..2000u32).map(|i| v4(&format!("10.{}.{}.0/24", i >> 8, i & 0xff))).collect();
    UpdateEncoder::new(&ctx, Family::IPV4_UNICAST, &simple_attrs(), None).unwrap().announce(&nlri, &mut batch);
    UpdateEncoder::withdraw(&ctx, Family::IPV4_UNICAST, &nlri[..10], &mut batch);
    write(&dir, "frame", "batch", &batch);
    regressions(&dir);
    println!("seeds written under {}", dir.display());
}

/// Inputs that once broke the round trip, kept as seeds so every run checks them first.
fn regressions(dir: &Path) {
    let update = |attrs: &[u8], nlri: &[u8]| {
        let mut body = vec![0, 0];
        body.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        body.extend_from_slice(attrs);
        body.extend_from_slice(nlri);
        body
    };
    let mandatory = [0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 10, 0, 0, 1];
    // Unknown optional transitive attributes out of type-code order (decoded in received
    // order, re-sent in type-code order).
    let mut attrs = vec![0xc0, 72, 2, 1, 2, 0xc0, 0, 1, 9];
    attrs.extend_from_slice(&mandatory);
    attrs.extend_from_slice(&[0xe0, 20, 0, 0xc0, 13, 1, 7]);
    let body = update(&attrs, &[8, 10]);
    let ctx = Ctx::new();
    write(dir, "update", "regress_unknown_order", &[&[ctx_byte(&ctx)][..], &body].concat());
    let msg = tern_fuzz::with_header(2, &body, 4096);
    write(dir, "decode_message", "regress_unknown_order", &[&[ctx_byte(&ctx)][..], &msg].concat());

    // Towards a 2-octet speaker: a confederation segment after the first sequence, with
    // AS4_PATH (the one case the round trip cannot hold, see tern_fuzz::as4_lossy).
    let ctx = Ctx::pre_open();
    let mut attrs = vec![0x40, 1, 1, 0, 0x40, 2, 14, 2, 1, 0, 1, 3, 1, 0, 5, 2, 2, 0, 2, 0x5b, 0xa0];
    attrs.extend_from_slice(&[0x40, 3, 4, 10, 0, 0, 1, 0xc0, 17, 6, 2, 1, 0, 1, 0x11, 0x70]);
    let body = update(&attrs, &[8, 10]);
    write(dir, "update", "regress_as4_confed", &[&[ctx_byte(&ctx)][..], &body].concat());

    // An FQDN capability with a 200-octet hostname (once cut to 126 octets on encode).
    let open = Open::new(
        65001,
        90,
        Ipv4Addr::new(192, 0, 2, 1),
        vec![Capability::Fqdn { hostname: "h".repeat(200), domain: "é".repeat(20) }],
    );
    let bytes = Message::Open(open).to_bytes(&Ctx::pre_open()).unwrap();
    write(dir, "open", "regress_fqdn_long", &bytes[HEADER_LEN..]);
}
