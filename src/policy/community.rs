//! Community values as operators write them, and patterns over them.
//!
//! Communities (RFC 1997) are `u32`s on the wire and in [`PathAttributes`]; operators
//! write them `HIGH:LOW` (two 16-bit halves) or by a well-known name. Large communities
//! (RFC 8092) are `GLOBAL:LOCAL1:LOCAL2` of three 32-bit numbers. Extended communities
//! (RFC 4360) are 8 octets, written here `rt:ADMIN:VALUE` / `soo:ADMIN:VALUE` or as raw hex.
//!
//! A pattern may leave parts open with `*`: `65000:*` is any community whose high half is
//! 65000. Every parser here returns an error naming the text and what is wrong with it, so
//! the configuration loader can put it next to the file, line and field.
//!
//! [`PathAttributes`]: crate::wire::PathAttributes

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use crate::wire::attrs::{GRACEFUL_SHUTDOWN, NO_ADVERTISE, NO_EXPORT, NO_EXPORT_SUBCONFED};
use crate::wire::LargeCommunity;

/// The well-known communities tern knows by name (IANA "BGP Well-known Communities").
pub const WELL_KNOWN: &[(&str, u32)] = &[
    ("graceful-shutdown", GRACEFUL_SHUTDOWN),     // RFC 8326
    ("accept-own", 0xffff_0001),                  // RFC 7611
    ("llgr-stale", 0xffff_0006),                  // RFC 9494
    ("no-llgr", 0xffff_0007),                     // RFC 9494
    ("blackhole", 0xffff_029a),                   // RFC 7999
    ("no-export", NO_EXPORT),                     // RFC 1997
    ("no-advertise", NO_ADVERTISE),               // RFC 1997
    ("no-export-subconfed", NO_EXPORT_SUBCONFED), // RFC 1997
    ("no-peer", 0xffff_ff04),                     // RFC 3765
];

fn half(text: &str, whole: &str) -> Result<u16, String> {
    text.parse().map_err(|_| format!("{text:?} in community {whole:?} is not a number from 0 to 65535"))
}

fn number(text: &str, what: &str, whole: &str) -> Result<u32, String> {
    text.parse().map_err(|_| format!("{text:?} in {what} {whole:?} is not a number from 0 to 4294967295"))
}

/// Parses a community: `HIGH:LOW` (each 0–65535) or a well-known name such as `no-export`.
pub fn parse_community(text: &str) -> Result<u32, String> {
    if let Some(&(_, value)) = WELL_KNOWN.iter().find(|(name, _)| *name == text) {
        return Ok(value);
    }
    let Some((high, low)) = text.split_once(':') else {
        let names: Vec<&str> = WELL_KNOWN.iter().map(|(n, _)| *n).collect();
        return Err(format!("{text:?} is not a community: write HIGH:LOW or one of {}", names.join(", ")));
    };
    Ok(u32::from(half(high, text)?) << 16 | u32::from(half(low, text)?))
}

/// A community as operators write it: its well-known name, or `HIGH:LOW`.
pub fn format_community(value: u32) -> String {
    match WELL_KNOWN.iter().find(|(_, v)| *v == value) {
        Some((name, _)) => (*name).to_string(),
        None => format!("{}:{}", value >> 16, value & 0xffff),
    }
}

/// Parses a large community `GLOBAL:LOCAL1:LOCAL2`, each a 32-bit number.
pub fn parse_large_community(text: &str) -> Result<LargeCommunity, String> {
    let mut parts = text.split(':');
    let (Some(g), Some(l1), Some(l2), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(format!("{text:?} is not a large community: write GLOBAL:LOCAL1:LOCAL2"));
    };
    let n = |t| number(t, "large community", text);
    Ok(LargeCommunity { global: n(g)?, local1: n(l1)?, local2: n(l2)? })
}

/// A pattern over standard communities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommunityMatch {
    /// Exactly this community.
    Exact(u32),
    /// `HIGH:*`: the high half is this, the low half anything.
    AnyLow(u16),
    /// `*:LOW`: the low half is this, the high half anything.
    AnyHigh(u16),
}

impl CommunityMatch {
    pub fn matches(self, community: u32) -> bool {
        match self {
            CommunityMatch::Exact(c) => community == c,
            CommunityMatch::AnyLow(high) => community >> 16 == u32::from(high),
            CommunityMatch::AnyHigh(low) => community & 0xffff == u32::from(low),
        }
    }
}

impl FromStr for CommunityMatch {
    type Err = String;

    /// `HIGH:LOW`, a well-known name, `HIGH:*` or `*:LOW`.
    fn from_str(text: &str) -> Result<CommunityMatch, String> {
        match text.split_once(':') {
            Some(("*", "*")) => Err(format!(
                "{text:?} would match every community; to remove them all, replace the communities with an empty list"
            )),
            Some(("*", low)) => Ok(CommunityMatch::AnyHigh(half(low, text)?)),
            Some((high, "*")) => Ok(CommunityMatch::AnyLow(half(high, text)?)),
            _ => parse_community(text).map(CommunityMatch::Exact),
        }
    }
}

impl fmt::Display for CommunityMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            CommunityMatch::Exact(c) => f.write_str(&format_community(c)),
            CommunityMatch::AnyLow(high) => write!(f, "{high}:*"),
            CommunityMatch::AnyHigh(low) => write!(f, "*:{low}"),
        }
    }
}

/// A pattern over large communities: each part a number or `*` (`None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LargeCommunityMatch {
    pub global: Option<u32>,
    pub local1: Option<u32>,
    pub local2: Option<u32>,
}

impl LargeCommunityMatch {
    pub fn exact(c: LargeCommunity) -> LargeCommunityMatch {
        LargeCommunityMatch { global: Some(c.global), local1: Some(c.local1), local2: Some(c.local2) }
    }

    pub fn matches(&self, c: &LargeCommunity) -> bool {
        let part = |want: Option<u32>, have: u32| want.is_none_or(|w| w == have);
        part(self.global, c.global) && part(self.local1, c.local1) && part(self.local2, c.local2)
    }
}

impl From<LargeCommunity> for LargeCommunityMatch {
    fn from(c: LargeCommunity) -> LargeCommunityMatch {
        LargeCommunityMatch::exact(c)
    }
}

impl FromStr for LargeCommunityMatch {
    type Err = String;

    /// `GLOBAL:LOCAL1:LOCAL2` where any part may be `*`, though not all three.
    fn from_str(text: &str) -> Result<LargeCommunityMatch, String> {
        let mut parts = text.split(':');
        let (Some(g), Some(l1), Some(l2), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(format!(
                "{text:?} is not a large community pattern: write GLOBAL:LOCAL1:LOCAL2 (parts may be *)"
            ));
        };
        let part = |t: &str| if t == "*" { Ok(None) } else { number(t, "large community", text).map(Some) };
        let m = LargeCommunityMatch { global: part(g)?, local1: part(l1)?, local2: part(l2)? };
        if m.global.is_none() && m.local1.is_none() && m.local2.is_none() {
            return Err(format!(
                "{text:?} would match every large community; to remove them all, replace them with an empty list"
            ));
        }
        Ok(m)
    }
}

impl fmt::Display for LargeCommunityMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let part = |f: &mut fmt::Formatter<'_>, p: Option<u32>| match p {
            Some(n) => write!(f, "{n}"),
            None => f.write_str("*"),
        };
        part(f, self.global)?;
        f.write_str(":")?;
        part(f, self.local1)?;
        f.write_str(":")?;
        part(f, self.local2)
    }
}

/// Extended community type octets (RFC 4360 §3, RFC 5668): transitive two-octet AS
/// specific, IPv4 address specific and four-octet AS specific.
const EXT_AS2: u64 = 0x00;
const EXT_IPV4: u64 = 0x01;
const EXT_AS4: u64 = 0x02;
/// Sub-types: Route Target and Route Origin (site of origin).
const EXT_RT: u64 = 0x02;
const EXT_SOO: u64 = 0x03;

/// Parses an extended community: `rt:ADMIN:VALUE` or `soo:ADMIN:VALUE`, where ADMIN is an
/// AS number or an IPv4 address, or the 8 octets as hex (`0x0002fde800000064`). An AS up to
/// 65535 takes the two-octet AS form (VALUE up to 32 bits), a larger AS the four-octet AS
/// form and an address the IPv4 form (VALUE up to 16 bits in both).
pub fn parse_ext_community(text: &str) -> Result<u64, String> {
    if let Some(hex) = text.strip_prefix("0x") {
        return u64::from_str_radix(hex, 16)
            .map_err(|_| format!("{text:?} is not an extended community: 0x must be followed by up to 16 hex digits"));
    }
    let mut parts = text.splitn(3, ':');
    let (Some(kind), Some(admin), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!(
            "{text:?} is not an extended community: write rt:ADMIN:VALUE, soo:ADMIN:VALUE or 0x<16 hex digits>"
        ));
    };
    let subtype = match kind {
        "rt" => EXT_RT,
        "soo" => EXT_SOO,
        _ => return Err(format!("{kind:?} in extended community {text:?} is neither rt nor soo")),
    };
    let value = u64::from(number(value, "extended community", text)?);
    let small_value = |v: u64| {
        if v > 0xffff {
            Err(format!(
                "{v} in extended community {text:?} exceeds 65535, the largest value beside an address or 4-octet AS"
            ))
        } else {
            Ok(v)
        }
    };
    if let Ok(addr) = admin.parse::<Ipv4Addr>() {
        let value = small_value(value)?;
        return Ok(EXT_IPV4 << 56 | subtype << 48 | u64::from(u32::from(addr)) << 16 | value);
    }
    let asn = u64::from(number(admin, "extended community", text)?);
    if asn <= 0xffff {
        Ok(EXT_AS2 << 56 | subtype << 48 | asn << 32 | value)
    } else {
        Ok(EXT_AS4 << 56 | subtype << 48 | asn << 16 | small_value(value)?)
    }
}

/// An extended community in the form [`parse_ext_community`] reads.
pub fn format_ext_community(value: u64) -> String {
    let (kind, subtype) = (value >> 56, value >> 48 & 0xff);
    let name = match subtype {
        EXT_RT => "rt",
        EXT_SOO => "soo",
        _ => return format!("0x{value:016x}"),
    };
    match kind {
        EXT_AS2 => format!("{name}:{}:{}", value >> 32 & 0xffff, value & 0xffff_ffff),
        EXT_IPV4 => format!("{name}:{}:{}", Ipv4Addr::from((value >> 16) as u32), value & 0xffff),
        // A small AS in the four-octet form would read back in the two-octet form.
        EXT_AS4 if value >> 16 & 0xffff_ffff > 0xffff => {
            format!("{name}:{}:{}", (value >> 16) as u32, value & 0xffff)
        }
        _ => format!("0x{value:016x}"),
    }
}
