//! Helpers shared by the wire codec's integration tests: byte builders that follow the RFC
//! layouts directly (so that expected bytes never come from the encoder under test), the
//! session contexts the tests decode under, and short constructors for prefixes.
//!
//! Each test crate includes this module and uses a different part of it.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use tern::wire::{decode_message, AttrFault, Ctx, DecodeError, Decoded, FamilySet, Message, Nlri, Prefix, Update};

pub const MARKER: [u8; 16] = [0xff; 16];

pub const TYPE_OPEN: u8 = 1;
pub const TYPE_UPDATE: u8 = 2;
pub const TYPE_NOTIFICATION: u8 = 3;
pub const TYPE_KEEPALIVE: u8 = 4;
pub const TYPE_ROUTE_REFRESH: u8 = 5;

/// A whole message (RFC 4271 §4.1): marker, length counting the 19-octet header, type, body.
pub fn msg(kind: u8, body: &[u8]) -> Vec<u8> {
    let len = u16::try_from(19 + body.len()).expect("message longer than 65535");
    let mut m = MARKER.to_vec();
    m.extend_from_slice(&len.to_be_bytes());
    m.push(kind);
    m.extend_from_slice(body);
    m
}

/// A header alone with an arbitrary length field.
pub fn header(len: u16, kind: u8) -> Vec<u8> {
    let mut m = MARKER.to_vec();
    m.extend_from_slice(&len.to_be_bytes());
    m.push(kind);
    m
}

/// One path attribute (RFC 4271 §4.3): flags, type, then a 1-octet length, or a 2-octet one
/// when the flags carry Extended Length (0x10).
pub fn attr(flags: u8, type_code: u8, value: &[u8]) -> Vec<u8> {
    let mut a = vec![flags, type_code];
    if flags & 0x10 != 0 {
        a.extend_from_slice(&u16::try_from(value.len()).unwrap().to_be_bytes());
    } else {
        a.push(u8::try_from(value.len()).expect("attribute value over 255 without extended length"));
    }
    a.extend_from_slice(value);
    a
}

/// An UPDATE body (RFC 4271 §4.3): Withdrawn Routes Length, Withdrawn Routes, Total Path
/// Attribute Length, the attributes concatenated, NLRI.
pub fn update_body(withdrawn: &[u8], attrs: &[&[u8]], nlri: &[u8]) -> Vec<u8> {
    let attrs: Vec<u8> = attrs.concat();
    let mut b = Vec::new();
    b.extend_from_slice(&u16::try_from(withdrawn.len()).unwrap().to_be_bytes());
    b.extend_from_slice(withdrawn);
    b.extend_from_slice(&u16::try_from(attrs.len()).unwrap().to_be_bytes());
    b.extend_from_slice(&attrs);
    b.extend_from_slice(nlri);
    b
}

/// A whole UPDATE message.
pub fn update_msg(withdrawn: &[u8], attrs: &[&[u8]], nlri: &[u8]) -> Vec<u8> {
    msg(TYPE_UPDATE, &update_body(withdrawn, attrs, nlri))
}

/// The value of MP_REACH_NLRI (RFC 4760 §3): AFI, SAFI, next hop length and address,
/// one reserved octet, NLRI.
pub fn mp_reach_value(afi: u16, safi: u8, next_hop: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut v = afi.to_be_bytes().to_vec();
    v.push(safi);
    v.push(u8::try_from(next_hop.len()).unwrap());
    v.extend_from_slice(next_hop);
    v.push(0);
    v.extend_from_slice(nlri);
    v
}

/// The value of MP_UNREACH_NLRI (RFC 4760 §4): AFI, SAFI, withdrawn routes.
pub fn mp_unreach_value(afi: u16, safi: u8, withdrawn: &[u8]) -> Vec<u8> {
    let mut v = afi.to_be_bytes().to_vec();
    v.push(safi);
    v.extend_from_slice(withdrawn);
    v
}

/// An AS_PATH segment with 4-octet AS numbers.
pub fn seg4(kind: u8, asns: &[u32]) -> Vec<u8> {
    let mut s = vec![kind, u8::try_from(asns.len()).unwrap()];
    for a in asns {
        s.extend_from_slice(&a.to_be_bytes());
    }
    s
}

/// An AS_PATH segment with 2-octet AS numbers.
pub fn seg2(kind: u8, asns: &[u16]) -> Vec<u8> {
    let mut s = vec![kind, u8::try_from(asns.len()).unwrap()];
    for a in asns {
        s.extend_from_slice(&a.to_be_bytes());
    }
    s
}

/// Contexts: `ctx4` a modern iBGP session (4-octet AS), `ctx2` a session with a 2-octet AS
/// speaker.
pub fn ctx4() -> Ctx {
    Ctx { four_octet_as: true, extended_message: false, add_path: FamilySet::EMPTY, ebgp: false }
}

pub fn ctx2() -> Ctx {
    Ctx { four_octet_as: false, ..ctx4() }
}

pub fn ebgp(ctx: Ctx) -> Ctx {
    Ctx { ebgp: true, ..ctx }
}

pub fn with_add_path(ctx: Ctx, families: FamilySet) -> Ctx {
    Ctx { add_path: families, ..ctx }
}

pub fn extended(ctx: Ctx) -> Ctx {
    Ctx { extended_message: true, ..ctx }
}

pub fn p4(a: u8, b: u8, c: u8, d: u8, len: u8) -> Prefix {
    Prefix::new(IpAddr::V4(Ipv4Addr::new(a, b, c, d)), len).unwrap()
}

pub fn p6(addr: &str, len: u8) -> Prefix {
    Prefix::new(IpAddr::V6(addr.parse::<Ipv6Addr>().unwrap()), len).unwrap()
}

pub fn n4(a: u8, b: u8, c: u8, d: u8, len: u8) -> Nlri {
    Nlri::new(p4(a, b, c, d, len))
}

pub fn n6(addr: &str, len: u8) -> Nlri {
    Nlri::new(p6(addr, len))
}

pub fn ip4(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

pub fn ip6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

pub fn decode(bytes: &[u8], ctx: &Ctx) -> Result<Decoded, DecodeError> {
    decode_message(bytes, ctx)
}

/// Decodes an UPDATE that must decode; returns it with its faults.
pub fn decode_update(bytes: &[u8], ctx: &Ctx) -> (Update, Vec<AttrFault>) {
    match decode_message(bytes, ctx) {
        Ok(Decoded { message: Message::Update(u), faults }) => (u, faults),
        other => panic!("expected an UPDATE, got {other:?}"),
    }
}

/// Hex dump for assertion messages.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}
