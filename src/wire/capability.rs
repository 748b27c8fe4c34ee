//! Capabilities advertised in OPEN (RFC 5492) and their encodings.
//!
//! Known: multiprotocol (RFC 4760), route refresh (RFC 2918), extended next hop (RFC 8950),
//! extended message (RFC 8654), BGP role (RFC 9234), graceful restart (RFC 4724), 4-octet AS
//! (RFC 6793), ADD-PATH (RFC 7911), enhanced route refresh (RFC 7313), long-lived graceful
//! restart (RFC 9494) and FQDN (draft-walton-bgp-hostname-capability). Any other capability
//! is kept as raw bytes, so it can be shown and compared. A known capability whose value has
//! the wrong length is an OPEN Message Error: it cannot be read, and guessing would
//! negotiate something the peer did not offer.

use super::error::DecodeError;
use super::reader::{Put, Reader};
use super::Family;

pub const MULTIPROTOCOL: u8 = 1;
pub const ROUTE_REFRESH: u8 = 2;
pub const EXTENDED_NEXT_HOP: u8 = 5;
pub const EXTENDED_MESSAGE: u8 = 6;
pub const ROLE: u8 = 9;
pub const GRACEFUL_RESTART: u8 = 64;
pub const FOUR_OCTET_AS: u8 = 65;
pub const ADD_PATH: u8 = 69;
pub const ENHANCED_ROUTE_REFRESH: u8 = 70;
pub const LONG_LIVED_GRACEFUL_RESTART: u8 = 71;
pub const FQDN: u8 = 73;

/// BGP roles (RFC 9234 §4.1).
pub const ROLE_PROVIDER: u8 = 0;
pub const ROLE_RS: u8 = 1;
pub const ROLE_RS_CLIENT: u8 = 2;
pub const ROLE_CUSTOMER: u8 = 3;
pub const ROLE_PEER: u8 = 4;

/// Graceful restart header flags (RFC 4724 §3, RFC 8538 §2), in the upper nibble.
pub const GR_RESTART_STATE: u8 = 0x8;
pub const GR_NOTIFICATION: u8 = 0x4;
/// Per-family flag: forwarding state preserved.
pub const GR_FORWARDING_PRESERVED: u8 = 0x80;

/// Whether a speaker can send or receive ADD-PATH identifiers for a family (RFC 7911 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum AddPathDirection {
    Receive = 1,
    Send = 2,
    Both = 3,
}

impl AddPathDirection {
    pub fn from_u8(v: u8) -> Option<AddPathDirection> {
        Some(match v {
            1 => AddPathDirection::Receive,
            2 => AddPathDirection::Send,
            3 => AddPathDirection::Both,
            _ => return None,
        })
    }

    pub fn can_send(self) -> bool {
        matches!(self, AddPathDirection::Send | AddPathDirection::Both)
    }

    pub fn can_receive(self) -> bool {
        matches!(self, AddPathDirection::Receive | AddPathDirection::Both)
    }
}

/// The graceful restart capability (RFC 4724 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GracefulRestart {
    /// The four header flags (R, N and two reserved), as the low nibble.
    pub flags: u8,
    /// Restart time in seconds, 12 bits.
    pub restart_time: u16,
    /// Families with their flags (bit 0x80: forwarding state preserved).
    pub families: Vec<(Family, u8)>,
}

impl GracefulRestart {
    pub fn restart_state(&self) -> bool {
        self.flags & GR_RESTART_STATE != 0
    }

    pub fn notification(&self) -> bool {
        self.flags & GR_NOTIFICATION != 0
    }
}

/// One family of the long-lived graceful restart capability (RFC 9494 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LlgrFamily {
    pub family: Family,
    pub flags: u8,
    /// Long-lived stale time in seconds, 24 bits.
    pub stale_time: u32,
}

/// One capability as advertised in an OPEN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capability {
    Multiprotocol(Family),
    RouteRefresh,
    /// NLRI family and the AFI of next hops allowed for it (RFC 8950 §3).
    ExtendedNextHop(Vec<(Family, u16)>),
    ExtendedMessage,
    Role(u8),
    GracefulRestart(GracefulRestart),
    FourOctetAs(u32),
    AddPath(Vec<(Family, AddPathDirection)>),
    EnhancedRouteRefresh,
    LongLivedGracefulRestart(Vec<LlgrFamily>),
    Fqdn {
        hostname: String,
        domain: String,
    },
    Unknown {
        code: u8,
        data: Vec<u8>,
    },
}

fn malformed(reason: &'static str) -> DecodeError {
    DecodeError::open(super::notification::UNSPECIFIC, reason)
}

/// Reads a list of fixed-size entries; the value must be a whole number of them.
fn entries<T>(
    value: &[u8],
    size: usize,
    reason: &'static str,
    mut read: impl FnMut(&mut Reader) -> Option<T>,
) -> Result<Vec<T>, DecodeError> {
    if value.len() % size != 0 {
        return Err(malformed(reason));
    }
    let mut r = Reader::new(value);
    let mut out = Vec::with_capacity(value.len() / size);
    while !r.is_empty() {
        out.push(read(&mut r).ok_or_else(|| malformed(reason))?);
    }
    Ok(out)
}

fn read_family(r: &mut Reader) -> Option<Family> {
    let afi = r.u16()?;
    let safi = r.u8()?;
    Some(Family::new(afi, safi))
}

impl Capability {
    pub fn code(&self) -> u8 {
        match self {
            Capability::Multiprotocol(_) => MULTIPROTOCOL,
            Capability::RouteRefresh => ROUTE_REFRESH,
            Capability::ExtendedNextHop(_) => EXTENDED_NEXT_HOP,
            Capability::ExtendedMessage => EXTENDED_MESSAGE,
            Capability::Role(_) => ROLE,
            Capability::GracefulRestart(_) => GRACEFUL_RESTART,
            Capability::FourOctetAs(_) => FOUR_OCTET_AS,
            Capability::AddPath(_) => ADD_PATH,
            Capability::EnhancedRouteRefresh => ENHANCED_ROUTE_REFRESH,
            Capability::LongLivedGracefulRestart(_) => LONG_LIVED_GRACEFUL_RESTART,
            Capability::Fqdn { .. } => FQDN,
            Capability::Unknown { code, .. } => *code,
        }
    }

    /// Decodes one capability value.
    pub fn decode(code: u8, value: &[u8]) -> Result<Capability, DecodeError> {
        let empty =
            |cap: Capability| if value.is_empty() { Ok(cap) } else { Err(malformed("capability must be empty")) };
        Ok(match code {
            MULTIPROTOCOL => match value {
                [a, b, _reserved, safi] => Capability::Multiprotocol(Family::new(u16::from_be_bytes([*a, *b]), *safi)),
                _ => return Err(malformed("multiprotocol capability length is not 4")),
            },
            ROUTE_REFRESH => empty(Capability::RouteRefresh)?,
            EXTENDED_MESSAGE => empty(Capability::ExtendedMessage)?,
            ENHANCED_ROUTE_REFRESH => empty(Capability::EnhancedRouteRefresh)?,
            EXTENDED_NEXT_HOP => {
                let list =
                    entries(value, 6, "extended next hop capability length", |r| Some((r.u16()?, r.u16()?, r.u16()?)))?;
                let mut out = Vec::with_capacity(list.len());
                for (afi, safi, nh_afi) in list {
                    let safi = u8::try_from(safi).map_err(|_| malformed("extended next hop SAFI above 255"))?;
                    out.push((Family::new(afi, safi), nh_afi));
                }
                Capability::ExtendedNextHop(out)
            }
            ROLE => match value {
                [role] => Capability::Role(*role),
                _ => return Err(malformed("role capability length is not 1")),
            },
            GRACEFUL_RESTART => {
                let mut r = Reader::new(value);
                let head = r.u16().ok_or_else(|| malformed("graceful restart capability too short"))?;
                let families =
                    entries(r.rest(), 4, "graceful restart capability length", |r| Some((read_family(r)?, r.u8()?)))?;
                Capability::GracefulRestart(GracefulRestart {
                    flags: (head >> 12) as u8,
                    restart_time: head & 0x0fff,
                    families,
                })
            }
            FOUR_OCTET_AS => match value {
                [a, b, c, d] => Capability::FourOctetAs(u32::from_be_bytes([*a, *b, *c, *d])),
                _ => return Err(malformed("4-octet AS capability length is not 4")),
            },
            ADD_PATH => {
                let list = entries(value, 4, "ADD-PATH capability length", |r| Some((read_family(r)?, r.u8()?)))?;
                // RFC 7911 §4: an entry with another Send/Receive value is ignored.
                Capability::AddPath(
                    list.into_iter().filter_map(|(f, d)| Some((f, AddPathDirection::from_u8(d)?))).collect(),
                )
            }
            LONG_LIVED_GRACEFUL_RESTART => {
                Capability::LongLivedGracefulRestart(entries(value, 7, "LLGR capability length", |r| {
                    Some(LlgrFamily { family: read_family(r)?, flags: r.u8()?, stale_time: r.u24()? })
                })?)
            }
            FQDN => {
                let mut r = Reader::new(value);
                let mut text = || {
                    let len = r.u8()?;
                    r.take(usize::from(len)).map(|b| String::from_utf8(b.to_vec()))
                };
                match (text(), text()) {
                    (Some(Ok(hostname)), Some(Ok(domain))) if r.is_empty() => Capability::Fqdn { hostname, domain },
                    // Names that are not UTF-8 are kept as they came: FQDN is informational.
                    (Some(_), Some(_)) if r.is_empty() => Capability::Unknown { code, data: value.to_vec() },
                    _ => return Err(malformed("FQDN capability length")),
                }
            }
            _ => Capability::Unknown { code, data: value.to_vec() },
        })
    }

    /// Appends code, length and value. Values longer than 255 octets are cut to whole
    /// entries that fit (only lists of hundreds of families could reach it).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u8(self.code());
        let len_at = out.len();
        out.put_u8(0);
        let start = out.len();
        match self {
            Capability::Multiprotocol(f) => {
                out.put_u16(f.afi);
                out.put_u8(0);
                out.put_u8(f.safi);
            }
            Capability::RouteRefresh | Capability::ExtendedMessage | Capability::EnhancedRouteRefresh => {}
            Capability::ExtendedNextHop(list) => {
                for (f, nh_afi) in list.iter().take(255 / 6) {
                    out.put_u16(f.afi);
                    out.put_u16(u16::from(f.safi));
                    out.put_u16(*nh_afi);
                }
            }
            Capability::Role(role) => out.put_u8(*role),
            Capability::GracefulRestart(gr) => {
                out.put_u16((u16::from(gr.flags & 0x0f) << 12) | (gr.restart_time & 0x0fff));
                for (f, flags) in gr.families.iter().take((255 - 2) / 4) {
                    out.put_u16(f.afi);
                    out.put_u8(f.safi);
                    out.put_u8(*flags);
                }
            }
            Capability::FourOctetAs(asn) => out.put_u32(*asn),
            Capability::AddPath(list) => {
                for (f, dir) in list.iter().take(255 / 4) {
                    out.put_u16(f.afi);
                    out.put_u8(f.safi);
                    out.put_u8(*dir as u8);
                }
            }
            Capability::LongLivedGracefulRestart(list) => {
                for e in list.iter().take(255 / 7) {
                    out.put_u16(e.family.afi);
                    out.put_u8(e.family.safi);
                    out.put_u8(e.flags);
                    out.put_u24(e.stale_time & 0x00ff_ffff);
                }
            }
            Capability::Fqdn { hostname, domain } => {
                // Both names share the 255-octet value: the hostname first, the domain in
                // what is left; each cut on a character boundary so that it stays UTF-8.
                let mut room = 255 - 2;
                for name in [hostname, domain] {
                    let mut end = name.len().min(room);
                    while !name.is_char_boundary(end) {
                        end -= 1;
                    }
                    out.put_u8(end as u8);
                    out.extend_from_slice(&name.as_bytes()[..end]);
                    room -= end;
                }
            }
            Capability::Unknown { data, .. } => out.extend_from_slice(&data[..data.len().min(255)]),
        }
        out[len_at] = (out.len() - start) as u8;
    }
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Capability::Multiprotocol(fam) => write!(f, "MP-Extensions {}/{}", fam.afi, fam.safi),
            Capability::RouteRefresh => write!(f, "Route Refresh"),
            Capability::ExtendedNextHop(list) => {
                write!(f, "Extended Next Hop [")?;
                for (fam, nh) in list {
                    write!(f, " {fam} via afi {nh}")?;
                }
                write!(f, " ]")
            }
            Capability::ExtendedMessage => write!(f, "Extended Message"),
            Capability::Role(r) => write!(f, "Role {}", role_name(*r)),
            Capability::GracefulRestart(gr) => {
                write!(f, "Graceful Restart [ time {}s", gr.restart_time)?;
                if gr.restart_state() {
                    write!(f, ", restarting")?;
                }
                if gr.notification() {
                    write!(f, ", notification")?;
                }
                for (fam, flags) in &gr.families {
                    let fwd = if flags & GR_FORWARDING_PRESERVED != 0 { " (forwarding)" } else { "" };
                    write!(f, ", {fam}{fwd}")?;
                }
                write!(f, " ]")
            }
            Capability::FourOctetAs(asn) => write!(f, "Four Octet ASN {asn}"),
            Capability::AddPath(list) => {
                write!(f, "AddPath [")?;
                for (fam, dir) in list {
                    write!(f, " {fam} {dir:?},")?;
                }
                write!(f, " ]")
            }
            Capability::EnhancedRouteRefresh => write!(f, "Enhanced Route Refresh"),
            Capability::LongLivedGracefulRestart(list) => {
                write!(f, "Long-Lived Graceful Restart [")?;
                for e in list {
                    write!(f, " {} stale {}s,", e.family, e.stale_time)?;
                }
                write!(f, " ]")
            }
            Capability::Fqdn { hostname, domain } => write!(f, "FQDN {hostname}.{domain}"),
            Capability::Unknown { code, data } => write!(f, "Unknown capability {code} ({} octets)", data.len()),
        }
    }
}

/// The name RFC 9234 gives a role value.
pub fn role_name(role: u8) -> &'static str {
    match role {
        ROLE_PROVIDER => "provider",
        ROLE_RS => "rs",
        ROLE_RS_CLIENT => "rs-client",
        ROLE_CUSTOMER => "customer",
        ROLE_PEER => "peer",
        _ => "unassigned",
    }
}
