//! RFC 7606 (revised UPDATE error handling) as tables: one row per case, each asserting the
//! exact outcome.
//!
//! - Reset: decoding fails with the NOTIFICATION code, subcode and, where RFC 4271 §6 says
//!   what the data is, that data.
//! - Withdraw: the UPDATE is returned with everything it announced moved to the withdrawn
//!   side, no attributes, and a fault with action TreatAsWithdraw for the attribute.
//! - Discard: the attribute is gone, everything else is intact, and the faults are exactly
//!   the expected ones with action Discard.
//! - Clean: the UPDATE decodes as it was sent, with no faults.
//!
//! Every row cites the section it relies on. Where the codec's choice is one reading of an
//! RFC that allows another, the row says so ("questionable").
//!
//! Also here: message header errors (RFC 4271 §6.1) and the per-type length rules.

mod common;

use common::*;
use tern::wire::{
    AsPath, AttrAction, AttrFault, Ctx, Decoded, Family, FamilySet, Message, MpUnreach, NextHop, Nlri, Origin,
    PathAttributes, Update,
};

// Error codes and subcodes (RFC 4271 §4.5, §6), spelled out rather than imported so that a
// wrong constant in the codec cannot hide a wrong outcome.
const UPDATE_ERROR: u8 = 3;
const MALFORMED_ATTRIBUTE_LIST: u8 = 1;
const UNRECOGNIZED_WELL_KNOWN: u8 = 2;
const MISSING_WELL_KNOWN: u8 = 3;
const FLAGS_ERROR: u8 = 4;
const LENGTH_ERROR: u8 = 5;
const INVALID_ORIGIN: u8 = 6;
const INVALID_NEXT_HOP: u8 = 8;
const OPTIONAL_ATTRIBUTE_ERROR: u8 = 9;
const INVALID_NETWORK_FIELD: u8 = 10;
const MALFORMED_AS_PATH: u8 = 11;

const ORIGIN: [u8; 4] = [0x40, 1, 1, 0];
const AS_PATH: [u8; 9] = [0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9]; // SEQ [65001], 4-octet
const AS_PATH_2: [u8; 7] = [0x40, 2, 4, 2, 1, 0xfd, 0xe9]; // SEQ [65001], 2-octet
const NEXT_HOP: [u8; 7] = [0x40, 3, 4, 10, 0, 0, 1];
/// NLRI 1.2.3.0/24 and 5.6.0.0/16.
const NLRI: [u8; 7] = [24, 1, 2, 3, 16, 5, 6];

fn nlri() -> Vec<Nlri> {
    vec![n4(1, 2, 3, 0, 24), n4(5, 6, 0, 0, 16)]
}

fn base() -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::sequence([65001])),
        next_hop: Some(ip4(10, 0, 0, 1)),
        ..PathAttributes::default()
    }
}

/// What a row expects.
enum Expect {
    /// Session reset with this NOTIFICATION: code, subcode, data.
    Reset(u8, u8, Vec<u8>),
    /// Treat-as-withdraw; the fault (type code, subcode) must be among the faults.
    Withdraw(u8, u8),
    /// The faults, exactly, as (type code, action, subcode); and the attributes left.
    Faults(Vec<(u8, AttrAction, u8)>, PathAttributes),
    /// No faults; the attributes decoded.
    Clean(PathAttributes),
}
use Expect::*;

const DISCARD: AttrAction = AttrAction::Discard;
const WITHDRAW: AttrAction = AttrAction::TreatAsWithdraw;

fn discard(type_code: u8, subcode: u8, attrs: PathAttributes) -> Expect {
    Faults(vec![(type_code, DISCARD, subcode)], attrs)
}

fn faults_of(d: &Decoded) -> Vec<(u8, AttrAction, u8)> {
    d.faults.iter().map(|f: &AttrFault| (f.type_code, f.action, f.subcode)).collect()
}

/// Decodes the UPDATE `bytes` under `ctx` and checks the outcome. `announced` are the
/// prefixes its NLRI field announces, `pre_withdrawn` those its Withdrawn Routes field
/// withdraws.
#[track_caller]
fn check(name: &str, ctx: &Ctx, bytes: &[u8], announced: &[Nlri], pre_withdrawn: &[Nlri], expect: &Expect) {
    let result = decode(bytes, ctx);
    match expect {
        Reset(code, subcode, data) => {
            let e = result.expect_err(name);
            assert_eq!((e.code, e.subcode, hex(&e.data)), (*code, *subcode, hex(data)), "{name}: {}", e.reason);
        }
        Withdraw(type_code, subcode) => {
            let d = result.unwrap_or_else(|e| panic!("{name}: unexpected reset {e:?}"));
            assert!(
                d.faults.iter().any(|f| f.type_code == *type_code
                    && f.subcode == *subcode
                    && f.action == AttrAction::TreatAsWithdraw),
                "{name}: faults {:?}",
                d.faults
            );
            let Message::Update(u) = d.message else { panic!("{name}: not an UPDATE") };
            let want: Vec<Nlri> = pre_withdrawn.iter().chain(announced).copied().collect();
            assert_eq!(u.withdrawn, want, "{name}: withdrawn");
            assert!(u.nlri.is_empty(), "{name}: NLRI left");
            assert_eq!(u.attrs, PathAttributes::default(), "{name}: attributes left");
            assert!(u.mp_reach.is_none(), "{name}: MP_REACH left");
        }
        Faults(want, attrs) => kept(name, result, announced, pre_withdrawn, want, attrs),
        Clean(attrs) => kept(name, result, announced, pre_withdrawn, &[], attrs),
    }
}

/// The UPDATE survived: faults exactly `want`, NLRI and withdrawn as sent, attributes `attrs`.
#[track_caller]
fn kept(
    name: &str,
    result: Result<Decoded, tern::wire::DecodeError>,
    announced: &[Nlri],
    pre_withdrawn: &[Nlri],
    want: &[(u8, AttrAction, u8)],
    attrs: &PathAttributes,
) {
    let d = result.unwrap_or_else(|e| panic!("{name}: unexpected reset {e:?}"));
    assert_eq!(faults_of(&d), want, "{name}: faults {:?}", d.faults);
    let Message::Update(u) = d.message else { panic!("{name}: not an UPDATE") };
    assert_eq!(u.nlri, announced, "{name}: NLRI");
    assert_eq!(u.withdrawn, pre_withdrawn, "{name}: withdrawn");
    assert_eq!(&u.attrs, attrs, "{name}: attributes");
}

/// A row whose UPDATE announces [`NLRI`] with the attribute field `attrs` (concatenated).
struct Row {
    name: &'static str,
    ctx: Ctx,
    attrs: Vec<Vec<u8>>,
    expect: Expect,
}

fn row(name: &'static str, attrs: &[&[u8]], expect: Expect) -> Row {
    Row { name, ctx: ctx4(), attrs: attrs.iter().map(|a| a.to_vec()).collect(), expect }
}

fn row_ctx(name: &'static str, ctx: Ctx, attrs: &[&[u8]], expect: Expect) -> Row {
    Row { ctx, ..row(name, attrs, expect) }
}

fn run(rows: Vec<Row>) {
    for r in rows {
        let refs: Vec<&[u8]> = r.attrs.iter().map(Vec::as_slice).collect();
        let bytes = update_msg(&[], &refs, &NLRI);
        check(r.name, &r.ctx, &bytes, &nlri(), &[], &r.expect);
    }
}

/// The whole attribute as RFC 4271 §6.3 wants it in the data field: flags, type, length,
/// value.
fn data(a: &[u8]) -> Vec<u8> {
    a.to_vec()
}

#[test]
fn base_update_is_clean() {
    run(vec![row("base", &[&ORIGIN, &AS_PATH, &NEXT_HOP], Clean(base()))]);
}

// RFC 7606 §3 (c): "If the value of either the Optional or Transitive bits in the Attribute
// Flags is in conflict with their specified values, then the attribute MUST be treated as
// malformed and the 'treat-as-withdraw' approach used, unless the specification for the
// attribute mandates different handling for incorrect Attribute Flags."
#[test]
fn s3c_attribute_flags_conflicts() {
    let mp = attr(0xc0, 14, &mp_reach_value(2, 1, &[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], &[]));
    run(vec![
        row("ORIGIN optional", &[&[0xc0, 1, 1, 0], &AS_PATH, &NEXT_HOP], Withdraw(1, FLAGS_ERROR)),
        row("ORIGIN non-transitive", &[&[0x00, 1, 1, 0], &AS_PATH, &NEXT_HOP], Withdraw(1, FLAGS_ERROR)),
        row("AS_PATH optional", &[&ORIGIN, &[0xc0, 2, 0], &NEXT_HOP], Withdraw(2, FLAGS_ERROR)),
        row("NEXT_HOP optional", &[&ORIGIN, &AS_PATH, &[0xc0, 3, 4, 10, 0, 0, 1]], Withdraw(3, FLAGS_ERROR)),
        row("MED transitive", &[&ORIGIN, &AS_PATH, &NEXT_HOP, &[0xc0, 4, 4, 0, 0, 0, 1]], Withdraw(4, FLAGS_ERROR)),
        row(
            "LOCAL_PREF optional",
            &[&ORIGIN, &AS_PATH, &NEXT_HOP, &[0x80, 5, 4, 0, 0, 0, 1]],
            Withdraw(5, FLAGS_ERROR),
        ),
        row(
            "COMMUNITIES non-transitive",
            &[&ORIGIN, &AS_PATH, &NEXT_HOP, &[0x80, 8, 4, 0, 0, 0, 1]],
            Withdraw(8, FLAGS_ERROR),
        ),
        row(
            "ORIGINATOR_ID transitive",
            &[&ORIGIN, &AS_PATH, &NEXT_HOP, &[0xc0, 9, 4, 1, 1, 1, 1]],
            Withdraw(9, FLAGS_ERROR),
        ),
        row(
            "CLUSTER_LIST well-known",
            &[&ORIGIN, &AS_PATH, &NEXT_HOP, &[0x40, 10, 4, 1, 1, 1, 1]],
            Withdraw(10, FLAGS_ERROR),
        ),
        row(
            "EXT_COMMUNITIES non-transitive",
            &[&ORIGIN, &AS_PATH, &NEXT_HOP, &[0x80, 16, 8, 0, 2, 0, 1, 0, 0, 0, 1]],
            Withdraw(16, FLAGS_ERROR),
        ),
        row(
            "LARGE_COMMUNITY well-known",
            &[&ORIGIN, &AS_PATH, &NEXT_HOP, &[0x40, 32, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]],
            Withdraw(32, FLAGS_ERROR),
        ),
        row(
            "OTC non-transitive",
            &[&ORIGIN, &AS_PATH, &NEXT_HOP, &[0x80, 35, 4, 0, 0, 0, 1]],
            Withdraw(35, FLAGS_ERROR),
        ),
        // Questionable: §3 (c) says treat-as-withdraw, and §7.6 / §7.7 mandate discard only for
        // a bad length. The codec applies the attribute's own rule (discard) to a flags conflict
        // too, as FRR does; these attributes do not affect route selection, so the milder
        // outcome is defensible.
        row(
            "ATOMIC_AGGREGATE optional (questionable)",
            &[&ORIGIN, &AS_PATH, &NEXT_HOP, &[0xc0, 6, 0]],
            discard(6, FLAGS_ERROR, base()),
        ),
        row(
            "AGGREGATOR well-known (questionable)",
            &[&ORIGIN, &AS_PATH, &NEXT_HOP, &[0x40, 7, 8, 0, 0, 0, 1, 1, 1, 1, 1]],
            discard(7, FLAGS_ERROR, base()),
        ),
        // RFC 6793 §6 mandates attribute discard for a malformed AS4_PATH / AS4_AGGREGATOR.
        row_ctx(
            "AS4_PATH non-transitive",
            ctx2(),
            &[&ORIGIN, &AS_PATH_2, &NEXT_HOP, &attr(0x80, 17, &seg4(2, &[4200000001]))],
            discard(17, FLAGS_ERROR, base()),
        ),
        // Questionable: MP_REACH_NLRI with a flags conflict resets the session (as in FRR).
        // §3 (c) would say treat-as-withdraw; the codec treats every MP attribute fault as the
        // §7.11 session reset. Data: the attribute (RFC 4271 §6.3, Attribute Flags Error).
        row(
            "MP_REACH_NLRI transitive (questionable)",
            &[&mp, &ORIGIN, &AS_PATH],
            Reset(UPDATE_ERROR, FLAGS_ERROR, data(&mp)),
        ),
        // Only Optional and Transitive are checked (§3 c): Partial on a well-known attribute
        // and Extended Length on a short one are accepted.
        row("ORIGIN with Partial", &[&[0x60, 1, 1, 0], &AS_PATH, &NEXT_HOP], Clean(base())),
        row("ORIGIN with Extended Length", &[&[0x50, 1, 0, 1, 0], &AS_PATH, &NEXT_HOP], Clean(base())),
        row("unused low flag bits", &[&[0x4f, 1, 1, 0], &AS_PATH, &NEXT_HOP], Clean(base())),
    ]);
}

// RFC 7606 §3 (d): "If any of the well-known mandatory attributes are not present in an
// UPDATE message, then 'treat-as-withdraw' MUST be used. (Note that [RFC4760] reclassifies
// NEXT_HOP as what is effectively discretionary.)"
#[test]
fn s3d_missing_well_known_attributes() {
    run(vec![
        row("no ORIGIN", &[&AS_PATH, &NEXT_HOP], Withdraw(1, MISSING_WELL_KNOWN)),
        row("no AS_PATH", &[&ORIGIN, &NEXT_HOP], Withdraw(2, MISSING_WELL_KNOWN)),
        row("no NEXT_HOP with NLRI in the UPDATE field", &[&ORIGIN, &AS_PATH], Withdraw(3, MISSING_WELL_KNOWN)),
        row("no attributes at all", &[], Withdraw(1, MISSING_WELL_KNOWN)),
    ]);
    // NLRI only in MP_REACH_NLRI: NEXT_HOP is not needed (RFC 4760 §3), ORIGIN still is.
    let v6 = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let mp = attr(0x80, 14, &mp_reach_value(2, 1, &v6, &[32, 0x20, 1, 0xd, 0xb8]));
    let (u, f) = decode_update(&update_msg(&[], &[&mp, &ORIGIN, &AS_PATH], &[]), &ctx4());
    assert!(f.is_empty());
    assert_eq!(u.mp_reach.unwrap().nlri, vec![n6("2001:db8::", 32)]);
    let (u, f) = decode_update(&update_msg(&[], &[&mp, &AS_PATH], &[]), &ctx4());
    assert_eq!(
        f.iter().map(|f| (f.type_code, f.action, f.subcode)).collect::<Vec<_>>(),
        [(1, WITHDRAW, MISSING_WELL_KNOWN)]
    );
    assert!(u.mp_reach.is_none());
    assert_eq!(u.mp_unreach, Some(MpUnreach { family: Family::IPV6_UNICAST, withdrawn: vec![n6("2001:db8::", 32)] }));
    // A withdrawal needs no attributes at all.
    let bytes = update_msg(&[8, 10], &[], &[]);
    check("withdrawal only", &ctx4(), &bytes, &[], &[n4(10, 0, 0, 0, 8)], &Clean(PathAttributes::default()));
}

// RFC 7606 §3 (g): "If the MP_REACH_NLRI attribute or the MP_UNREACH_NLRI attribute appears
// more than once in the UPDATE message, then a NOTIFICATION message MUST be sent with the
// Error Subcode 'Malformed Attribute List'. If any other attribute (whether recognized or
// unrecognized) appears more than once in an UPDATE message, then all the occurrences of the
// attribute other than the first one SHALL be discarded and the UPDATE message will continue
// to be processed."
#[test]
fn s3g_duplicate_attributes() {
    let v6 = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let reach = attr(0x80, 14, &mp_reach_value(2, 1, &v6, &[0]));
    let unreach = attr(0x80, 15, &mp_unreach_value(2, 1, &[]));
    let unknown = |v: u8| vec![0xc0, 99, 1, v];
    let with_unknown = PathAttributes {
        unknown: vec![tern::wire::RawAttribute { flags: 0xe0, type_code: 99, value: vec![1] }],
        ..base()
    };
    run(vec![
        row(
            "ORIGIN twice: first kept",
            &[&ORIGIN, &AS_PATH, &NEXT_HOP, &[0x40, 1, 1, 2]],
            discard(1, MALFORMED_ATTRIBUTE_LIST, base()),
        ),
        row(
            "NEXT_HOP twice",
            &[&ORIGIN, &AS_PATH, &NEXT_HOP, &[0x40, 3, 4, 10, 9, 9, 9]],
            discard(3, MALFORMED_ATTRIBUTE_LIST, base()),
        ),
        row(
            "COMMUNITIES twice",
            &[&ORIGIN, &AS_PATH, &NEXT_HOP, &[0xc0, 8, 4, 0, 0, 0, 1], &[0xc0, 8, 4, 0, 0, 0, 2]],
            discard(8, MALFORMED_ATTRIBUTE_LIST, PathAttributes { communities: vec![1], ..base() }),
        ),
        row(
            "unknown optional transitive twice",
            &[&ORIGIN, &AS_PATH, &NEXT_HOP, &unknown(1), &unknown(2)],
            discard(99, MALFORMED_ATTRIBUTE_LIST, with_unknown),
        ),
        row(
            "a malformed first copy decides",
            &[&[0x40, 1, 1, 9], &AS_PATH, &NEXT_HOP, &ORIGIN],
            Withdraw(1, INVALID_ORIGIN),
        ),
        // The data of Malformed Attribute List is empty (RFC 4271 §6.3).
        row(
            "MP_REACH_NLRI twice",
            &[&reach, &reach, &ORIGIN, &AS_PATH],
            Reset(UPDATE_ERROR, MALFORMED_ATTRIBUTE_LIST, vec![]),
        ),
        row("MP_UNREACH_NLRI twice", &[&unreach, &unreach], Reset(UPDATE_ERROR, MALFORMED_ATTRIBUTE_LIST, vec![])),
        // A reset outranks an earlier treat-as-withdraw (§3: the strongest action wins).
        row(
            "MP_REACH_NLRI twice after a malformed ORIGIN",
            &[&[0x40, 1, 1, 9], &reach, &reach],
            Reset(UPDATE_ERROR, MALFORMED_ATTRIBUTE_LIST, vec![]),
        ),
    ]);
    // One of each MP attribute is fine.
    let (u, f) = decode_update(&update_msg(&[], &[&reach, &unreach, &ORIGIN, &AS_PATH], &[]), &ctx4());
    assert!(f.is_empty());
    assert!(u.mp_reach.is_some() && u.mp_unreach.is_some());
}

// RFC 7606 §3 (j) and §5.3: a syntax error in an NLRI field (a prefix longer than the
// address, or one running past the field) means the rest of the field cannot be parsed:
// session reset. RFC 4271 §6.3: Invalid Network Field for the UPDATE's own fields; RFC 4760
// §7: Optional Attribute Error for the MP attributes, whose data is the attribute.
#[test]
fn s3j_s5_3_nlri_field_errors() {
    let ok = [&ORIGIN[..], &AS_PATH, &NEXT_HOP];
    let cases: Vec<(&str, Ctx, Vec<u8>, Vec<u8>)> = vec![
        ("NLRI prefix length 33", ctx4(), vec![], vec![33, 1, 2, 3, 4, 5]),
        ("NLRI prefix overruns the field", ctx4(), vec![], vec![24, 1, 2]),
        ("NLRI length octet alone at the end", ctx4(), vec![], vec![24, 1, 2, 3, 8]),
        ("withdrawn prefix length 40", ctx4(), vec![40, 1, 2, 3, 4, 5], vec![]),
        ("withdrawn prefix overruns", ctx4(), vec![16, 10], vec![]),
        (
            "ADD-PATH identifier cut short",
            with_add_path(ctx4(), FamilySet::EMPTY.with(Family::IPV4_UNICAST)),
            vec![],
            vec![0, 0, 1],
        ),
        (
            "ADD-PATH identifier with no prefix",
            with_add_path(ctx4(), FamilySet::EMPTY.with(Family::IPV4_UNICAST)),
            vec![],
            vec![0, 0, 0, 1],
        ),
    ];
    for (name, ctx, withdrawn, nlri) in cases {
        let bytes = update_msg(&withdrawn, &ok, &nlri);
        check(name, &ctx, &bytes, &[], &[], &Reset(UPDATE_ERROR, INVALID_NETWORK_FIELD, vec![]));
    }
    let v6 = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let reach = |nlri: &[u8]| attr(0x80, 14, &mp_reach_value(2, 1, &v6, nlri));
    let unreach = |nlri: &[u8]| attr(0x80, 15, &mp_unreach_value(2, 1, nlri));
    for (name, a) in [
        ("MP_REACH_NLRI IPv6 prefix length 129", reach(&[129, 0x20])),
        ("MP_REACH_NLRI IPv6 prefix overruns", reach(&[64, 0x20, 1, 0xd, 0xb8])),
        ("MP_UNREACH_NLRI prefix overruns", unreach(&[48, 0x20, 1])),
        (
            "MP_REACH_NLRI IPv4 prefix length 33",
            attr(0x80, 14, &mp_reach_value(1, 1, &[10, 0, 0, 1], &[33, 1, 2, 3, 4, 5])),
        ),
    ] {
        let bytes = update_msg(&[], &[&a, &ORIGIN, &AS_PATH], &[]);
        check(name, &ctx4(), &bytes, &[], &[], &Reset(UPDATE_ERROR, OPTIONAL_ATTRIBUTE_ERROR, data(&a)));
    }
}

// RFC 7606 §4, first part: the Withdrawn Routes Length or the Total Path Attribute Length
// running past the message leaves no way to find the NLRI: RFC 4271 §6.3 Malformed
// Attribute List, no data.
#[test]
fn s4_withdrawn_and_total_attribute_length_overruns() {
    let reset = Reset(UPDATE_ERROR, MALFORMED_ATTRIBUTE_LIST, vec![]);
    // Withdrawn Routes Length 200 in a 4-octet body.
    check("withdrawn length overrun", &ctx4(), &msg(TYPE_UPDATE, &[0, 200, 0, 0]), &[], &[], &reset);
    // Withdrawn Routes Length eats the attribute length: 2 octets of withdrawn, then nothing.
    check("no room for the attribute length", &ctx4(), &msg(TYPE_UPDATE, &[0, 2, 8, 10]), &[], &[], &reset);
    // Total Path Attribute Length 30 with 20 octets of attributes.
    let mut body = update_body(&[], &[&ORIGIN, &AS_PATH, &NEXT_HOP], &[]);
    body[2..4].copy_from_slice(&30u16.to_be_bytes());
    check("total attribute length overrun", &ctx4(), &msg(TYPE_UPDATE, &body), &[], &[], &reset);
    // Total Path Attribute Length 0xffff.
    check("total attribute length 65535", &ctx4(), &msg(TYPE_UPDATE, &[0, 0, 0xff, 0xff, 0]), &[], &[], &reset);
}

// RFC 7606 §4, second part: "the length of the last encountered path attribute would cause
// the Total Attribute Length to be exceeded", or "fewer than three octets remain (or fewer
// than four octets, if the Attribute Flags field has the Extended Length bit set)": "the
// 'treat-as-withdraw' approach MUST be used ... and the Total Attribute Length MUST be
// relied upon to enable the beginning of the NLRI field to be located."
//
// The codec used to reset the session here (Malformed Attribute List): fixed.
#[test]
fn s4_attribute_overrunning_the_attribute_field_is_treat_as_withdraw() {
    run(vec![
        // NEXT_HOP says 8 octets, 4 are left in the attribute field; the NLRI after it must
        // still be found (and withdrawn) from the Total Path Attribute Length.
        row(
            "last attribute overruns",
            &[&ORIGIN, &AS_PATH, &[0x40, 3, 8, 10, 0, 0, 1]],
            Withdraw(3, MALFORMED_ATTRIBUTE_LIST),
        ),
        row(
            "extended length overruns",
            &[&ORIGIN, &AS_PATH, &NEXT_HOP, &[0xd0, 8, 0x01, 0x00, 0, 0, 0, 1]],
            Withdraw(8, MALFORMED_ATTRIBUTE_LIST),
        ),
        // Fewer than 3 octets left: the fault names the type when it is there, else 0.
        row("two octets left", &[&ORIGIN, &AS_PATH, &NEXT_HOP, &[0x40, 1]], Withdraw(1, MALFORMED_ATTRIBUTE_LIST)),
        row("one octet left", &[&ORIGIN, &AS_PATH, &NEXT_HOP, &[0x40]], Withdraw(0, MALFORMED_ATTRIBUTE_LIST)),
        // Extended Length set and only 3 octets left: the length itself is cut.
        row(
            "extended length cut",
            &[&ORIGIN, &AS_PATH, &NEXT_HOP, &[0x50, 1, 0]],
            Withdraw(1, MALFORMED_ATTRIBUTE_LIST),
        ),
        row(
            "overrun of an unknown attribute",
            &[&ORIGIN, &AS_PATH, &NEXT_HOP, &[0xc0, 99, 200, 1]],
            Withdraw(99, MALFORMED_ATTRIBUTE_LIST),
        ),
    ]);
    // The prefixes of an MP_REACH_NLRI parsed before the overrun are withdrawn too.
    let v6 = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let mp = attr(0x80, 14, &mp_reach_value(2, 1, &v6, &[32, 0x20, 1, 0xd, 0xb8]));
    let (u, f) = decode_update(&update_msg(&[], &[&mp, &ORIGIN, &AS_PATH, &[0x40, 3, 9]], &[]), &ctx4());
    assert!(f.iter().any(|f| f.action == WITHDRAW && f.subcode == MALFORMED_ATTRIBUTE_LIST), "{f:?}");
    assert!(u.mp_reach.is_none());
    assert_eq!(u.mp_unreach, Some(MpUnreach { family: Family::IPV6_UNICAST, withdrawn: vec![n6("2001:db8::", 32)] }));
    // An MP attribute that itself overruns: its NLRI cannot be found (§7.11): reset.
    let mut cut = mp.clone();
    cut[2] += 10;
    check(
        "MP_REACH_NLRI overruns",
        &ctx4(),
        &update_msg(&[], &[&ORIGIN, &AS_PATH, &cut], &[]),
        &[],
        &[],
        &Reset(UPDATE_ERROR, MALFORMED_ATTRIBUTE_LIST, vec![]),
    );
}

// RFC 7606 §7.11 and §7.12 (MP_REACH_NLRI / MP_UNREACH_NLRI), RFC 4760, RFC 8950.
#[test]
fn s7_11_s7_12_multiprotocol_attributes() {
    let v6 = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let v6_nlri = [32, 0x20, 1, 0xd, 0xb8];
    // "If the Length of Next Hop Network Address field of the MP_REACH attribute is
    // inconsistent with that which was expected, the attribute is considered malformed ...
    // the 'session reset' or 'AFI/SAFI disable' approach MUST be used." RFC 4760 §7: Optional
    // Attribute Error; data: the attribute.
    for (name, a) in [
        ("IPv6 next hop of 4 octets", attr(0x80, 14, &mp_reach_value(2, 1, &[10, 0, 0, 1], &v6_nlri))),
        ("IPv6 next hop of 20 octets", attr(0x80, 14, &mp_reach_value(2, 1, &[1; 20], &v6_nlri))),
        ("IPv4 next hop of 5 octets", attr(0x80, 14, &mp_reach_value(1, 1, &[10, 0, 0, 1, 0], &[8, 10]))),
        ("no next hop", attr(0x80, 14, &mp_reach_value(2, 1, &[], &v6_nlri))),
        ("next hop length past the attribute", attr(0x80, 14, &[0, 2, 1, 16, 0x20, 1])),
        ("MP_REACH_NLRI with only an AFI", attr(0x80, 14, &[0, 2])),
        ("MP_REACH_NLRI without the reserved octet", attr(0x80, 14, &[[0, 2, 1, 16].as_slice(), &v6].concat())),
        ("MP_UNREACH_NLRI of 2 octets", attr(0x80, 15, &[0, 2])),
    ] {
        let bytes = update_msg(&[], &[&a, &ORIGIN, &AS_PATH], &[]);
        check(name, &ctx4(), &bytes, &[], &[], &Reset(UPDATE_ERROR, OPTIONAL_ATTRIBUTE_ERROR, data(&a)));
    }
    // Questionable: an IPv4 next hop that is no unicast address (0.0.0.0, multicast) resets the
    // session with Invalid NEXT_HOP. RFC 7606 §7.11 only mandates reset for a length error;
    // RFC 4271 §6.3 says a semantically wrong NEXT_HOP is ignored without NOTIFICATION, while
    // RFC 4760 §7 lets a speaker reset (with Optional Attribute Error) on any incorrect MP
    // attribute. IPv6 next hops get no such check at all.
    let a = attr(0x80, 14, &mp_reach_value(1, 2, &[0, 0, 0, 0], &[8, 10]));
    let bytes = update_msg(&[], &[&a, &ORIGIN, &AS_PATH], &[]);
    check(
        "MP IPv4 next hop 0.0.0.0 (questionable)",
        &ctx4(),
        &bytes,
        &[],
        &[],
        &Reset(UPDATE_ERROR, INVALID_NEXT_HOP, data(&a)),
    );

    // RFC 4760 §3: "An UPDATE message that carries no NLRI, other than the one encoded in
    // the MP_REACH_NLRI attribute, SHOULD NOT carry the NEXT_HOP attribute. If such a message
    // contains the NEXT_HOP attribute, the BGP speaker that receives the message SHOULD ignore
    // this attribute." A NEXT_HOP that is no unicast address is therefore dropped there, and
    // the IPv6 routes stand. The codec used to treat-as-withdraw them: fixed.
    let reach6 = attr(0x80, 14, &mp_reach_value(2, 1, &v6, &v6_nlri));
    for nh in [[0, 0, 0, 0], [224, 0, 0, 1], [255, 255, 255, 255]] {
        let bad_nh = attr(0x40, 3, &nh);
        let bytes = update_msg(&[], &[&reach6, &ORIGIN, &AS_PATH, &bad_nh], &[]);
        let d = decode(&bytes, &ctx4()).unwrap();
        assert_eq!(faults_of(&d), [(3, DISCARD, INVALID_NEXT_HOP)], "{nh:?}");
        let Message::Update(u) = d.message else { panic!() };
        assert_eq!(u.mp_reach.map(|r| r.nlri), Some(vec![n6("2001:db8::", 32)]));
        assert_eq!(u.attrs, PathAttributes { next_hop: None, ..base() });
        // With NLRI in the UPDATE's own field too, the NEXT_HOP applies: everything goes.
        let bytes = update_msg(&[], &[&reach6, &ORIGIN, &AS_PATH, &bad_nh], &NLRI);
        let (u, f) = decode_update(&bytes, &ctx4());
        assert_eq!(
            f.iter().map(|f| (f.type_code, f.action, f.subcode)).collect::<Vec<_>>(),
            [(3, WITHDRAW, INVALID_NEXT_HOP)]
        );
        assert_eq!(u.withdrawn, nlri());
        assert_eq!(u.mp_unreach.map(|r| r.withdrawn), Some(vec![n6("2001:db8::", 32)]));
    }
    // Syntactically wrong (length 3) it is still treat-as-withdraw (RFC 7606 §7.3 makes no
    // exception for MP-only UPDATEs).
    let bytes = update_msg(&[], &[&reach6, &ORIGIN, &AS_PATH, &[0x40, 3, 3, 10, 0, 0]], &[]);
    let (u, f) = decode_update(&bytes, &ctx4());
    assert_eq!(f.iter().map(|f| (f.type_code, f.action, f.subcode)).collect::<Vec<_>>(), [(3, WITHDRAW, LENGTH_ERROR)]);
    assert!(u.mp_reach.is_none());

    // RFC 8950: IPv4 NLRI over a 16 or 32 octet IPv6 next hop is well-formed.
    let a = attr(0x80, 14, &mp_reach_value(1, 1, &v6, &[8, 10]));
    let (u, f) = decode_update(&update_msg(&[], &[&a, &ORIGIN, &AS_PATH], &[]), &ctx4());
    assert!(f.is_empty());
    assert_eq!(u.mp_reach.unwrap().next_hop, NextHop::V6(ip6("2001:db8::1")));

    // A family tern does not parse (L2VPN EVPN 25/70): the attribute is discarded, the rest
    // of the UPDATE kept (the session layer refuses families it did not negotiate).
    let a = attr(0x80, 14, &mp_reach_value(25, 70, &[10, 0, 0, 1], &[1, 2, 3, 4]));
    let bytes = update_msg(&[], &[&a, &ORIGIN, &AS_PATH], &[]);
    let d = decode(&bytes, &ctx4()).unwrap();
    assert_eq!(faults_of(&d), [(14, DISCARD, OPTIONAL_ATTRIBUTE_ERROR)]);
    let Message::Update(u) = d.message else { panic!() };
    assert!(u.mp_reach.is_none());
    assert_eq!(u.attrs.origin, Some(Origin::Igp));

    // Treat-as-withdraw moves MP_REACH_NLRI prefixes to MP_UNREACH_NLRI of the same family,
    // joining any withdrawn there already.
    let reach = attr(0x80, 14, &mp_reach_value(2, 1, &v6, &v6_nlri));
    let unreach = attr(0x80, 15, &mp_unreach_value(2, 1, &[16, 0x20, 1]));
    let (u, f) = decode_update(&update_msg(&[], &[&reach, &unreach, &[0x40, 1, 1, 7], &AS_PATH], &[]), &ctx4());
    assert_eq!(f.iter().map(|f| (f.type_code, f.action)).collect::<Vec<_>>(), [(1, WITHDRAW)]);
    assert_eq!(
        u.mp_unreach,
        Some(MpUnreach { family: Family::IPV6_UNICAST, withdrawn: vec![n6("2001::", 16), n6("2001:db8::", 32)] })
    );
    assert!(u.mp_reach.is_none());
    // IPv4 unicast in MP_REACH_NLRI: withdrawn in the UPDATE's own field.
    let reach4 = attr(0x80, 14, &mp_reach_value(1, 1, &[10, 0, 0, 1], &[8, 10]));
    let (u, _) = decode_update(&update_msg(&[], &[&reach4, &[0x40, 1, 1, 7], &AS_PATH], &[]), &ctx4());
    assert_eq!(u.withdrawn, vec![n4(10, 0, 0, 0, 8)]);
    // Questionable: announcing one family and withdrawing another in the same UPDATE (which
    // RFC 7606 §5.1 forbids a sender to do, but a receiver must accept) plus a malformed
    // attribute: treat-as-withdraw would need two MP_UNREACH_NLRI, so the codec resets.
    let unreach4m = attr(0x80, 15, &mp_unreach_value(1, 2, &[8, 10]));
    let bytes = update_msg(&[], &[&reach, &unreach4m, &[0x40, 1, 1, 7], &AS_PATH], &[]);
    check(
        "two families and a fault (questionable)",
        &ctx4(),
        &bytes,
        &[],
        &[],
        &Reset(UPDATE_ERROR, MALFORMED_ATTRIBUTE_LIST, vec![]),
    );
}

// RFC 7606 §7.1 - §7.14 and the later attributes, one rule each.
#[test]
fn s7_per_attribute_rules() {
    let more = |a: &[u8]| -> Vec<Vec<u8>> { vec![ORIGIN.to_vec(), AS_PATH.to_vec(), NEXT_HOP.to_vec(), a.to_vec()] };
    let rows = vec![
        // §7.1 ORIGIN: "malformed if its length is not 1 or it has an undefined value":
        // treat-as-withdraw (RFC 4271 §6.3 subcodes: Attribute Length Error, Invalid ORIGIN).
        row("ORIGIN length 2", &[&[0x40, 1, 2, 0, 0], &AS_PATH, &NEXT_HOP], Withdraw(1, LENGTH_ERROR)),
        row("ORIGIN length 0", &[&[0x40, 1, 0], &AS_PATH, &NEXT_HOP], Withdraw(1, LENGTH_ERROR)),
        row("ORIGIN value 3", &[&[0x40, 1, 1, 3], &AS_PATH, &NEXT_HOP], Withdraw(1, INVALID_ORIGIN)),
        row(
            "ORIGIN egp",
            &[&[0x40, 1, 1, 1], &AS_PATH, &NEXT_HOP],
            Clean(PathAttributes { origin: Some(Origin::Egp), ..base() }),
        ),
        // §7.2 AS_PATH: malformed (Malformed AS_PATH, RFC 4271 §6.3) -> treat-as-withdraw.
        row("AS_PATH zero-length segment", &[&ORIGIN, &[0x40, 2, 2, 2, 0], &NEXT_HOP], Withdraw(2, MALFORMED_AS_PATH)),
        row(
            "AS_PATH segment overruns",
            &[&ORIGIN, &[0x40, 2, 6, 2, 2, 0, 0, 0xfd, 0xe9], &NEXT_HOP],
            Withdraw(2, MALFORMED_AS_PATH),
        ),
        row(
            "AS_PATH lone trailing octet",
            &[&ORIGIN, &[0x40, 2, 7, 2, 1, 0, 0, 0xfd, 0xe9, 2], &NEXT_HOP],
            Withdraw(2, MALFORMED_AS_PATH),
        ),
        row(
            "AS_PATH trailing segment header",
            &[&ORIGIN, &[0x40, 2, 8, 2, 1, 0, 0, 0xfd, 0xe9, 2, 1], &NEXT_HOP],
            Withdraw(2, MALFORMED_AS_PATH),
        ),
        row(
            "AS_PATH segment type 0",
            &[&ORIGIN, &[0x40, 2, 6, 0, 1, 0, 0, 0xfd, 0xe9], &NEXT_HOP],
            Withdraw(2, MALFORMED_AS_PATH),
        ),
        row(
            "AS_PATH segment type 5",
            &[&ORIGIN, &[0x40, 2, 6, 5, 1, 0, 0, 0xfd, 0xe9], &NEXT_HOP],
            Withdraw(2, MALFORMED_AS_PATH),
        ),
        row_ctx(
            "AS_PATH 2-octet, odd length",
            ctx2(),
            &[&ORIGIN, &[0x40, 2, 5, 2, 1, 0xfd, 0xe9, 0], &NEXT_HOP],
            Withdraw(2, MALFORMED_AS_PATH),
        ),
        row(
            "AS_PATH empty (iBGP origination)",
            &[&ORIGIN, &[0x40, 2, 0], &NEXT_HOP],
            Clean(PathAttributes { as_path: Some(AsPath::empty()), ..base() }),
        ),
        // §7.3 NEXT_HOP: length other than 4 -> treat-as-withdraw (Attribute Length Error);
        // a semantically wrong address is ignored (RFC 4271 §6.3: Invalid NEXT_HOP, no
        // NOTIFICATION): the route is withdrawn.
        row("NEXT_HOP length 3", &[&ORIGIN, &AS_PATH, &[0x40, 3, 3, 10, 0, 0]], Withdraw(3, LENGTH_ERROR)),
        row("NEXT_HOP length 5", &[&ORIGIN, &AS_PATH, &[0x40, 3, 5, 10, 0, 0, 1, 0]], Withdraw(3, LENGTH_ERROR)),
        row("NEXT_HOP 0.0.0.0", &[&ORIGIN, &AS_PATH, &[0x40, 3, 4, 0, 0, 0, 0]], Withdraw(3, INVALID_NEXT_HOP)),
        row("NEXT_HOP multicast", &[&ORIGIN, &AS_PATH, &[0x40, 3, 4, 224, 0, 0, 5]], Withdraw(3, INVALID_NEXT_HOP)),
        row(
            "NEXT_HOP broadcast",
            &[&ORIGIN, &AS_PATH, &[0x40, 3, 4, 255, 255, 255, 255]],
            Withdraw(3, INVALID_NEXT_HOP),
        ),
        // §7.4 MULTI_EXIT_DISC: length other than 4 -> treat-as-withdraw.
        Row { attrs: more(&[0x80, 4, 3, 0, 0, 1]), ..row("MED length 3", &[], Withdraw(4, LENGTH_ERROR)) },
        Row { attrs: more(&[0x80, 4, 0]), ..row("MED length 0", &[], Withdraw(4, LENGTH_ERROR)) },
        // §7.5 LOCAL_PREF: from an external neighbor, discarded (whatever its content);
        // otherwise length other than 4 -> treat-as-withdraw.
        Row { attrs: more(&[0x40, 5, 2, 0, 1]), ..row("LOCAL_PREF length 2", &[], Withdraw(5, LENGTH_ERROR)) },
        Row {
            attrs: more(&[0x40, 5, 4, 0, 0, 0, 100]),
            ..row_ctx("LOCAL_PREF from eBGP", ebgp(ctx4()), &[], discard(5, OPTIONAL_ATTRIBUTE_ERROR, base()))
        },
        Row {
            attrs: more(&[0x40, 5, 2, 0, 1]),
            ..row_ctx("malformed LOCAL_PREF from eBGP", ebgp(ctx4()), &[], discard(5, OPTIONAL_ATTRIBUTE_ERROR, base()))
        },
        Row {
            attrs: more(&[0x40, 5, 4, 0, 0, 0, 100]),
            ..row("LOCAL_PREF from iBGP", &[], Clean(PathAttributes { local_pref: Some(100), ..base() }))
        },
        // §7.6 ATOMIC_AGGREGATE: length other than 0 -> attribute discard.
        Row {
            attrs: more(&[0x40, 6, 1, 0]),
            ..row("ATOMIC_AGGREGATE length 1", &[], discard(6, LENGTH_ERROR, base()))
        },
        // §7.7 AGGREGATOR: length other than 6 (2-octet AS) or 8 (4-octet AS, RFC 6793) ->
        // attribute discard.
        Row {
            attrs: more(&[0xc0, 7, 6, 0xfd, 0xe9, 1, 1, 1, 1]),
            ..row("AGGREGATOR 6 octets on a 4-octet session", &[], discard(7, LENGTH_ERROR, base()))
        },
        Row {
            attrs: more(&[0xc0, 7, 7, 0, 0xfd, 0xe9, 1, 1, 1, 1]),
            ..row("AGGREGATOR 7 octets", &[], discard(7, LENGTH_ERROR, base()))
        },
        Row { attrs: more(&[0xc0, 7, 0]), ..row("AGGREGATOR empty", &[], discard(7, LENGTH_ERROR, base())) },
        Row {
            attrs: vec![
                ORIGIN.to_vec(),
                AS_PATH_2.to_vec(),
                NEXT_HOP.to_vec(),
                vec![0xc0, 7, 8, 0, 0, 0xfd, 0xe9, 1, 1, 1, 1],
            ],
            ..row_ctx("AGGREGATOR 8 octets on a 2-octet session", ctx2(), &[], discard(7, LENGTH_ERROR, base()))
        },
        // §7.8 COMMUNITIES: length 0 or not a multiple of 4 -> treat-as-withdraw.
        Row { attrs: more(&[0xc0, 8, 0]), ..row("COMMUNITIES length 0", &[], Withdraw(8, LENGTH_ERROR)) },
        Row {
            attrs: more(&[0xc0, 8, 5, 0, 0, 0, 1, 0]),
            ..row("COMMUNITIES length 5", &[], Withdraw(8, LENGTH_ERROR))
        },
        // §7.9 ORIGINATOR_ID: length other than 4 -> treat-as-withdraw; from eBGP: discard.
        Row { attrs: more(&[0x80, 9, 3, 1, 1, 1]), ..row("ORIGINATOR_ID length 3", &[], Withdraw(9, LENGTH_ERROR)) },
        Row {
            attrs: more(&[0x80, 9, 4, 1, 1, 1, 1]),
            ..row_ctx("ORIGINATOR_ID from eBGP", ebgp(ctx4()), &[], discard(9, OPTIONAL_ATTRIBUTE_ERROR, base()))
        },
        // §7.10 CLUSTER_LIST: length 0 or not a multiple of 4 -> treat-as-withdraw; from eBGP:
        // discard.
        Row { attrs: more(&[0x80, 10, 0]), ..row("CLUSTER_LIST length 0", &[], Withdraw(10, LENGTH_ERROR)) },
        Row {
            attrs: more(&[0x80, 10, 6, 1, 1, 1, 1, 2, 2]),
            ..row("CLUSTER_LIST length 6", &[], Withdraw(10, LENGTH_ERROR))
        },
        Row {
            attrs: more(&[0x80, 10, 4, 1, 1, 1, 1]),
            ..row_ctx("CLUSTER_LIST from eBGP", ebgp(ctx4()), &[], discard(10, OPTIONAL_ATTRIBUTE_ERROR, base()))
        },
        // §7.14 EXTENDED_COMMUNITIES: length 0 or not a multiple of 8 -> treat-as-withdraw.
        Row { attrs: more(&[0xc0, 16, 0]), ..row("EXT_COMMUNITIES length 0", &[], Withdraw(16, LENGTH_ERROR)) },
        Row {
            attrs: more(&[0xc0, 16, 12, 0, 2, 0, 1, 0, 0, 0, 1, 9, 9, 9, 9]),
            ..row("EXT_COMMUNITIES length 12", &[], Withdraw(16, LENGTH_ERROR))
        },
        // RFC 8092 §5 LARGE_COMMUNITY: length 0 or not a multiple of 12 -> treat-as-withdraw.
        Row { attrs: more(&[0xc0, 32, 0]), ..row("LARGE_COMMUNITY length 0", &[], Withdraw(32, LENGTH_ERROR)) },
        Row {
            attrs: more(&[0xc0, 32, 8, 0, 0, 0, 1, 0, 0, 0, 2]),
            ..row("LARGE_COMMUNITY length 8", &[], Withdraw(32, LENGTH_ERROR))
        },
        Row {
            attrs: more(&[&[0xc0, 32, 13][..], &[0; 13]].concat()),
            ..row("LARGE_COMMUNITY length 13", &[], Withdraw(32, LENGTH_ERROR))
        },
        // RFC 9234 §5 OTC: length other than 4 -> treat-as-withdraw.
        Row { attrs: more(&[0xc0, 35, 2, 0, 1]), ..row("OTC length 2", &[], Withdraw(35, LENGTH_ERROR)) },
        Row { attrs: more(&[0xc0, 35, 5, 0, 0, 0, 1, 0]), ..row("OTC length 5", &[], Withdraw(35, LENGTH_ERROR)) },
        // RFC 6793 §6: a malformed AS4_PATH or AS4_AGGREGATOR is discarded; AS_PATH stays as
        // received (with AS_TRANS).
        Row {
            attrs: vec![
                ORIGIN.to_vec(),
                vec![0x40, 2, 4, 2, 1, 0x5b, 0xa0],
                NEXT_HOP.to_vec(),
                vec![0xc0, 17, 2, 2, 0],
            ],
            ..row_ctx(
                "AS4_PATH zero-length segment",
                ctx2(),
                &[],
                discard(17, MALFORMED_AS_PATH, PathAttributes { as_path: Some(AsPath::sequence([23456])), ..base() }),
            )
        },
        Row {
            attrs: vec![
                ORIGIN.to_vec(),
                vec![0x40, 2, 4, 2, 1, 0x5b, 0xa0],
                NEXT_HOP.to_vec(),
                vec![0xc0, 17, 5, 2, 1, 0xfa, 0x56, 0xea],
            ],
            ..row_ctx(
                "AS4_PATH segment overruns",
                ctx2(),
                &[],
                discard(17, MALFORMED_AS_PATH, PathAttributes { as_path: Some(AsPath::sequence([23456])), ..base() }),
            )
        },
        Row {
            attrs: vec![
                ORIGIN.to_vec(),
                AS_PATH_2.to_vec(),
                NEXT_HOP.to_vec(),
                vec![0xc0, 7, 6, 0x5b, 0xa0, 1, 1, 1, 1],
                vec![0xc0, 18, 6, 0, 1, 1, 1, 1, 1],
            ],
            ..row_ctx(
                "AS4_AGGREGATOR length 6",
                ctx2(),
                &[],
                discard(
                    18,
                    LENGTH_ERROR,
                    PathAttributes {
                        aggregator: Some(tern::wire::Aggregator { asn: 23456, address: ip4(1, 1, 1, 1) }),
                        ..base()
                    },
                ),
            )
        },
        // RFC 6793 §4.1: AS4_PATH / AS4_AGGREGATOR from a 4-octet speaker are discarded.
        Row {
            attrs: more(&attr(0xc0, 17, &seg4(2, &[4200000001]))),
            ..row("AS4_PATH on a 4-octet session", &[], discard(17, OPTIONAL_ATTRIBUTE_ERROR, base()))
        },
        Row {
            attrs: more(&[0xc0, 18, 8, 0xfa, 0x56, 0xea, 1, 1, 1, 1, 1]),
            ..row("AS4_AGGREGATOR on a 4-octet session", &[], discard(18, OPTIONAL_ATTRIBUTE_ERROR, base()))
        },
    ];
    run(rows);
}

// RFC 4271 §6.3: an unrecognized well-known attribute (Optional bit clear): Unrecognized
// Well-known Attribute, data the whole attribute (type, length, value). RFC 7606 keeps this a
// session reset (only a reset can name it to the peer).
#[test]
fn unrecognized_well_known_attribute_resets() {
    for a in [vec![0x40, 99, 2, 0xab, 0xcd], vec![0x50, 99, 0, 1, 7], vec![0x00, 0, 0], vec![0x40, 255, 0]] {
        let bytes = update_msg(&[], &[&ORIGIN, &AS_PATH, &NEXT_HOP, &a], &NLRI);
        check(
            "unknown well-known",
            &ctx4(),
            &bytes,
            &nlri(),
            &[],
            &Reset(UPDATE_ERROR, UNRECOGNIZED_WELL_KNOWN, a.clone()),
        );
    }
    // Unknown optional attributes: transitive kept (Partial set), non-transitive dropped.
    run(vec![
        row("unknown optional non-transitive", &[&ORIGIN, &AS_PATH, &NEXT_HOP, &[0x80, 99, 1, 7]], Clean(base())),
        row(
            "unknown optional transitive",
            &[&ORIGIN, &AS_PATH, &NEXT_HOP, &[0xc0, 99, 1, 7]],
            Clean(PathAttributes {
                unknown: vec![tern::wire::RawAttribute { flags: 0xe0, type_code: 99, value: vec![7] }],
                ..base()
            }),
        ),
    ]);
}

// RFC 7606 §3: "When multiple attribute errors exist in an UPDATE message, if the same
// approach is specified for the handling of these malformed attributes, then the specified
// approach MUST be used. Otherwise, the approach with the strongest action MUST be used."
#[test]
fn strongest_action_wins() {
    // Discard (AGGREGATOR) + treat-as-withdraw (MED): withdraw, both faults reported.
    let bytes = update_msg(&[], &[&ORIGIN, &AS_PATH, &NEXT_HOP, &[0x80, 4, 1, 0], &[0xc0, 7, 3, 0, 0, 0]], &NLRI);
    check("discard + withdraw", &ctx4(), &bytes, &nlri(), &[], &Withdraw(4, LENGTH_ERROR));
    let d = decode(&bytes, &ctx4()).unwrap();
    assert_eq!(faults_of(&d), [(4, WITHDRAW, LENGTH_ERROR), (7, DISCARD, LENGTH_ERROR)]);
    // Treat-as-withdraw + reset (unknown well-known): reset.
    let bad = [0x40, 99, 0];
    let bytes = update_msg(&[], &[&[0x40, 1, 1, 9], &AS_PATH, &NEXT_HOP, &bad], &NLRI);
    check(
        "withdraw + reset",
        &ctx4(),
        &bytes,
        &nlri(),
        &[],
        &Reset(UPDATE_ERROR, UNRECOGNIZED_WELL_KNOWN, bad.to_vec()),
    );
    // Two discards: both reported, both attributes gone.
    let bytes = update_msg(&[], &[&ORIGIN, &AS_PATH, &NEXT_HOP, &[0x40, 6, 1, 0], &[0xc0, 7, 3, 0, 0, 0]], &NLRI);
    check(
        "two discards",
        &ctx4(),
        &bytes,
        &nlri(),
        &[],
        &Faults(vec![(6, DISCARD, LENGTH_ERROR), (7, DISCARD, LENGTH_ERROR)], base()),
    );
    // Withdrawn routes already in the UPDATE stay withdrawn, in front of the announced ones.
    let bytes = update_msg(&[8, 10], &[&[0x40, 1, 1, 9], &AS_PATH, &NEXT_HOP], &NLRI);
    check("withdrawn + announced", &ctx4(), &bytes, &nlri(), &[n4(10, 0, 0, 0, 8)], &Withdraw(1, INVALID_ORIGIN));
}

#[test]
fn treat_as_withdraw_result_is_a_valid_update() {
    // Re-encoding the repaired UPDATE gives a plain withdrawal that decodes cleanly.
    let bytes = update_msg(&[], &[&[0x40, 1, 1, 9], &AS_PATH, &NEXT_HOP], &NLRI);
    let (u, _) = decode_update(&bytes, &ctx4());
    let again = Message::Update(u.clone()).to_bytes(&ctx4()).unwrap();
    assert_eq!(again, update_msg(&NLRI, &[], &[]));
    assert_eq!(decode(&again, &ctx4()).unwrap(), Decoded { message: Message::Update(u), faults: vec![] });
}

#[test]
fn update_with_mp_reach_and_treat_as_withdraw_keeps_add_path_ids() {
    let ctx = with_add_path(ctx4(), FamilySet::EMPTY.with(Family::IPV6_UNICAST));
    let v6 = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let reach = attr(0x80, 14, &mp_reach_value(2, 1, &v6, &[0, 0, 0, 5, 32, 0x20, 1, 0xd, 0xb8]));
    let (u, _) = decode_update(&update_msg(&[], &[&reach, &AS_PATH], &[]), &ctx);
    assert_eq!(
        u,
        Update {
            mp_unreach: Some(MpUnreach {
                family: Family::IPV6_UNICAST,
                withdrawn: vec![Nlri::with_path_id(p6("2001:db8::", 32), 5)]
            }),
            ..Update::default()
        }
    );
}

// ---------------------------------------------------------------------------------------
// Message header errors (RFC 4271 §6.1) and per-type lengths
// ---------------------------------------------------------------------------------------

const HEADER_ERROR: u8 = 1;
const NOT_SYNCHRONIZED: u8 = 1;
const BAD_LENGTH: u8 = 2;
const BAD_TYPE: u8 = 3;

#[track_caller]
fn header_error(name: &str, bytes: &[u8], ctx: &Ctx, code: u8, subcode: u8, data: &[u8]) {
    let e = decode(bytes, ctx).expect_err(name);
    assert_eq!((e.code, e.subcode, hex(&e.data)), (code, subcode, hex(data)), "{name}: {}", e.reason);
    // header::frame reports the same error as soon as it has the header.
    if bytes.len() >= 19 {
        let framed = tern::wire::header::frame(bytes, ctx.max_message_len());
        if let Err(fe) = framed {
            assert_eq!((fe.code, fe.subcode), (e.code, e.subcode), "{name}: frame");
        }
    }
}

#[test]
fn message_header_errors() {
    let ctx = ctx4();
    // Connection Not Synchronized: the marker is not all ones (no data).
    for i in [0, 7, 15] {
        let mut k = msg(TYPE_KEEPALIVE, &[]);
        k[i] = 0xfe;
        header_error("bad marker", &k, &ctx, HEADER_ERROR, NOT_SYNCHRONIZED, &[]);
    }
    // Bad Message Length: the erroneous Length field as data (RFC 4271 §6.1).
    let mut short = header(18, TYPE_KEEPALIVE);
    short.truncate(19);
    header_error("length 18", &short, &ctx, HEADER_ERROR, BAD_LENGTH, &[0, 18]);
    header_error("length 0", &header(0, TYPE_KEEPALIVE), &ctx, HEADER_ERROR, BAD_LENGTH, &[0, 0]);
    let mut long = header(4097, TYPE_UPDATE);
    long.resize(4097, 0);
    header_error("length 4097", &long, &ctx, HEADER_ERROR, BAD_LENGTH, &[0x10, 0x01]);
    header_error("length 65535", &header(65535, TYPE_UPDATE), &ctx, HEADER_ERROR, BAD_LENGTH, &[0xff, 0xff]);
    // Per type: KEEPALIVE exactly 19, OPEN at least 29, UPDATE 23, NOTIFICATION 21.
    header_error("KEEPALIVE with a body", &msg(TYPE_KEEPALIVE, &[0]), &ctx, HEADER_ERROR, BAD_LENGTH, &[0, 20]);
    header_error(
        "OPEN of 28",
        &msg(TYPE_OPEN, &[4, 0, 1, 0, 90, 1, 1, 1, 1]),
        &ctx,
        HEADER_ERROR,
        BAD_LENGTH,
        &[0, 28],
    );
    header_error("UPDATE of 22", &msg(TYPE_UPDATE, &[0, 0, 0]), &ctx, HEADER_ERROR, BAD_LENGTH, &[0, 22]);
    header_error("NOTIFICATION of 20", &msg(TYPE_NOTIFICATION, &[6]), &ctx, HEADER_ERROR, BAD_LENGTH, &[0, 20]);
    header_error("ROUTE-REFRESH of 21", &msg(TYPE_ROUTE_REFRESH, &[0, 1]), &ctx, HEADER_ERROR, BAD_LENGTH, &[0, 21]);
    // The Length field disagrees with the bytes handed to decode_message.
    let mut k = msg(TYPE_KEEPALIVE, &[]);
    k.push(0);
    header_error("trailing byte", &k, &ctx, HEADER_ERROR, BAD_LENGTH, &[0, 19]);
    // Bad Message Type: the type as data.
    for t in [0u8, 6, 255] {
        header_error("unknown type", &header(19, t), &ctx, HEADER_ERROR, BAD_TYPE, &[t]);
    }
    // Fewer than 19 octets handed to decode_message.
    let e = decode(&[0xff; 10], &ctx).unwrap_err();
    assert_eq!((e.code, e.subcode), (HEADER_ERROR, BAD_LENGTH));
}

#[test]
fn extended_messages_rfc8654() {
    // An UPDATE of 5000 octets: Bad Message Length without the capability, fine with it.
    let communities: Vec<u8> = (0..1200u32).flat_map(|c| c.to_be_bytes()).collect();
    let big = attr(0xd0, 8, &communities);
    let bytes = update_msg(&[], &[&ORIGIN, &AS_PATH, &NEXT_HOP, &big], &NLRI);
    assert!(bytes.len() > 4096);
    let len = u16::try_from(bytes.len()).unwrap().to_be_bytes();
    header_error("5000 octets without extended messages", &bytes, &ctx4(), HEADER_ERROR, BAD_LENGTH, &len);
    let (u, f) = decode_update(&bytes, &extended(ctx4()));
    assert!(f.is_empty());
    assert_eq!(u.attrs.communities.len(), 1200);
    // RFC 8654 §3: OPEN and KEEPALIVE stay within 4096 whatever was negotiated; the codec
    // leaves that check to the session (an OPEN arrives before the capability is known).
}

// RFC 2918 / RFC 7313 §5: a BoRR or EoRR whose length is not 23 is a ROUTE-REFRESH Message
// Error / Invalid Message Length, with the whole message as data.
#[test]
fn route_refresh_length_errors() {
    let ctx = ctx4();
    for body in [vec![0, 2, 1, 1, 0], vec![0, 2, 2, 1, 0, 0, 0, 0]] {
        let m = msg(TYPE_ROUTE_REFRESH, &body);
        let e = decode(&m, &ctx).unwrap_err();
        assert_eq!((e.code, e.subcode, hex(&e.data)), (7, 1, hex(&m)), "{body:?}");
    }
    // A 22-octet BoRR (no SAFI): its subtype is there, so the same error. The codec used to
    // refuse it in the header as Bad Message Length: fixed (header min length 22).
    let m = msg(TYPE_ROUTE_REFRESH, &[0, 2, 1]);
    let e = decode(&m, &ctx).unwrap_err();
    assert_eq!((e.code, e.subcode, hex(&e.data)), (7, 1, hex(&m)));
    // A plain request of the wrong length: RFC 2918 is silent; Bad Message Length.
    let m = msg(TYPE_ROUTE_REFRESH, &[0, 1, 0, 1, 0]);
    let e = decode(&m, &ctx).unwrap_err();
    assert_eq!((e.code, e.subcode, e.data), (HEADER_ERROR, BAD_LENGTH, vec![0, 24]));
    let m = msg(TYPE_ROUTE_REFRESH, &[0, 1, 0]);
    let e = decode(&m, &ctx).unwrap_err();
    assert_eq!((e.code, e.subcode, e.data), (HEADER_ERROR, BAD_LENGTH, vec![0, 22]));
}

// OPEN errors the codec can see (RFC 4271 §6.2; the FSM checks values).
#[test]
fn open_structure_errors() {
    let ctx = Ctx::pre_open();
    let open = |params_len: u8, params: &[u8]| {
        let mut b = vec![4, 0xfd, 0xe9, 0, 90, 1, 1, 1, 1, params_len];
        b.extend_from_slice(params);
        msg(TYPE_OPEN, &b)
    };
    for (name, m) in [
        ("parameters length past the message", open(10, &[2, 2, 2, 0])),
        ("octets after the parameters", open(4, &[2, 2, 2, 0, 9])),
        ("parameter past its field", open(4, &[2, 6, 2, 0])),
        ("capability past its parameter", open(4, &[2, 2, 65, 4])),
        ("4-octet AS capability of 2 octets", open(6, &[2, 4, 65, 2, 0, 1])),
        ("route refresh with a value", open(5, &[2, 3, 2, 1, 0])),
        ("multiprotocol of 3 octets", open(7, &[2, 5, 1, 3, 0, 1, 1])),
        ("extended format cut", open(255, &[255, 0])),
    ] {
        let e = decode(&m, &ctx).expect_err(name);
        assert_eq!(e.code, 2, "{name}: {e:?}");
    }
}
