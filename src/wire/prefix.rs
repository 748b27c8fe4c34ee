//! IP prefixes and the NLRI encoding (RFC 4271 §4.3, RFC 4760 §5, RFC 7911 §3).
//!
//! A prefix on the wire is a length in bits followed by the fewest octets that hold it;
//! with ADD-PATH negotiated for the family, a 4-octet path identifier comes first. Decoding
//! clears the bits past the length (they are irrelevant on the wire, RFC 4271 §4.3), so
//! equal prefixes compare equal. A length beyond the family's width, or a prefix that runs
//! past the field, makes the field unparseable: RFC 7606 §3 (j) and §5.3 call for a session
//! reset, since later NLRI cannot be located.
//!
//! This is the hot path of a full-table load: one `Vec` per NLRI field, sized from the
//! field's real length, and no allocation per prefix.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::error::DecodeError;
use super::notification::{INVALID_NETWORK_FIELD, OPTIONAL_ATTRIBUTE_ERROR};
use super::reader::Put;
use super::{AFI_IPV4, AFI_IPV6};

/// An IPv4 or IPv6 prefix with its host bits cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix {
    addr: IpAddr,
    len: u8,
}

impl Prefix {
    /// A prefix from an address and a length; bits past the length are cleared. `None` when
    /// the length is longer than the address.
    pub fn new(addr: IpAddr, len: u8) -> Option<Prefix> {
        match addr {
            IpAddr::V4(a) if len <= 32 => {
                let bits = u32::from(a) & mask32(len);
                Some(Prefix { addr: IpAddr::V4(Ipv4Addr::from(bits)), len })
            }
            IpAddr::V6(a) if len <= 128 => {
                let bits = u128::from(a) & mask128(len);
                Some(Prefix { addr: IpAddr::V6(Ipv6Addr::from(bits)), len })
            }
            _ => None,
        }
    }

    pub fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> Prefix {
        Prefix::new(IpAddr::V4(Ipv4Addr::new(a, b, c, d)), len).expect("IPv4 prefix length above 32")
    }

    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits (not a collection length: there is no `is_empty`).
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u8 {
        self.len
    }

    /// True for the default route (length 0); `len() == 0` is not "empty" in any other sense.
    pub fn is_default(&self) -> bool {
        self.len == 0
    }

    pub fn afi(&self) -> u16 {
        match self.addr {
            IpAddr::V4(_) => AFI_IPV4,
            IpAddr::V6(_) => AFI_IPV6,
        }
    }

    /// Octets of the address that the wire encoding carries.
    fn significant_octets(&self) -> usize {
        usize::from(self.len).div_ceil(8)
    }

    /// Appends the length octet and the significant octets.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u8(self.len);
        let n = self.significant_octets();
        match self.addr {
            IpAddr::V4(a) => out.extend_from_slice(&a.octets()[..n]),
            IpAddr::V6(a) => out.extend_from_slice(&a.octets()[..n]),
        }
    }

    /// Octets `encode` writes.
    pub fn encoded_len(&self) -> usize {
        1 + self.significant_octets()
    }
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// Why a text is not a prefix; the message names the text and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixError(String);

impl std::fmt::Display for PrefixError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PrefixError {}

impl From<PrefixError> for String {
    fn from(e: PrefixError) -> String {
        e.0
    }
}

impl std::str::FromStr for Prefix {
    type Err = PrefixError;

    /// Parses `ADDR/LEN`. Host bits set past the length are an error here (unlike on the
    /// wire): in configuration they are usually a typo.
    fn from_str(s: &str) -> Result<Prefix, PrefixError> {
        let err = |m: String| PrefixError(m);
        let (addr, len) = s.split_once('/').ok_or_else(|| err(format!("{s:?} is not ADDRESS/LENGTH")))?;
        let addr: IpAddr = addr.parse().map_err(|_| err(format!("{addr:?} is not an IP address")))?;
        let len: u8 = len.parse().map_err(|_| err(format!("{len:?} is not a prefix length")))?;
        let prefix =
            Prefix::new(addr, len).ok_or_else(|| err(format!("prefix length {len} is too long for {addr}")))?;
        if prefix.addr != addr {
            return Err(err(format!("{s} has host bits set; did you mean {prefix}?")));
        }
        Ok(prefix)
    }
}

fn mask32(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len))
    }
}

fn mask128(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    }
}

/// One NLRI entry: a prefix and, with ADD-PATH, its path identifier (0 without).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nlri {
    pub prefix: Prefix,
    pub path_id: u32,
}

impl Nlri {
    pub fn new(prefix: Prefix) -> Nlri {
        Nlri { prefix, path_id: 0 }
    }

    pub fn with_path_id(prefix: Prefix, path_id: u32) -> Nlri {
        Nlri { prefix, path_id }
    }

    pub fn encoded_len(&self, add_path: bool) -> usize {
        self.prefix.encoded_len() + if add_path { 4 } else { 0 }
    }

    pub fn encode(&self, add_path: bool, out: &mut Vec<u8>) {
        if add_path {
            out.put_u32(self.path_id);
        }
        self.prefix.encode(out);
    }
}

impl std::fmt::Display for Nlri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path_id != 0 {
            write!(f, "{} (path {})", self.prefix, self.path_id)
        } else {
            write!(f, "{}", self.prefix)
        }
    }
}

/// Where an NLRI field sits, which decides the error subcode when it is unparseable:
/// the UPDATE's own fields give Invalid Network Field, MP_REACH_NLRI / MP_UNREACH_NLRI give
/// Optional Attribute Error (RFC 4760 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Update,
    MpAttribute,
}

/// Decodes a whole NLRI field of family `afi` into `out`.
pub fn decode_nlri(
    mut buf: &[u8],
    afi: u16,
    add_path: bool,
    field: Field,
    out: &mut Vec<Nlri>,
) -> Result<(), DecodeError> {
    let max_len: u8 = if afi == AFI_IPV6 { 128 } else { 32 };
    let err = |reason| {
        let subcode = match field {
            Field::Update => INVALID_NETWORK_FIELD,
            Field::MpAttribute => OPTIONAL_ATTRIBUTE_ERROR,
        };
        DecodeError::update(subcode, Vec::new(), reason)
    };
    // Smallest entry is one octet (a /0), so the field length bounds the count from above;
    // a quarter of it is a good first guess for typical tables without over-allocating.
    out.reserve(buf.len() / if add_path { 8 } else { 4 });
    while !buf.is_empty() {
        let path_id = if add_path {
            let Some((id, rest)) = buf.split_first_chunk::<4>() else {
                return Err(err("truncated ADD-PATH identifier"));
            };
            buf = rest;
            u32::from_be_bytes(*id)
        } else {
            0
        };
        let Some((&len, rest)) = buf.split_first() else {
            return Err(err("NLRI ends after a path identifier"));
        };
        if len > max_len {
            return Err(err("prefix length exceeds the address width"));
        }
        let n = usize::from(len).div_ceil(8);
        let Some((bytes, rest)) = rest.split_at_checked(n) else {
            return Err(err("prefix overruns the NLRI field"));
        };
        buf = rest;
        let addr = if afi == AFI_IPV6 {
            let mut a = [0u8; 16];
            a[..n].copy_from_slice(bytes);
            IpAddr::V6(Ipv6Addr::from(u128::from_be_bytes(a) & mask128(len)))
        } else {
            let mut a = [0u8; 4];
            a[..n].copy_from_slice(bytes);
            IpAddr::V4(Ipv4Addr::from(u32::from_be_bytes(a) & mask32(len)))
        };
        out.push(Nlri { prefix: Prefix { addr, len }, path_id });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_bits_are_cleared_on_the_wire_and_refused_in_text() {
        let mut out = Vec::new();
        decode_nlri(&[20, 10, 1, 0xff], AFI_IPV4, false, Field::Update, &mut out).unwrap();
        assert_eq!(out[0].prefix, Prefix::v4(10, 1, 0xf0, 0, 20));
        assert_eq!(out[0].prefix.to_string(), "10.1.240.0/20");
        assert!("10.1.255.0/20".parse::<Prefix>().unwrap_err().to_string().contains("did you mean 10.1.240.0/20"));
        assert_eq!("2001:db8::/32".parse::<Prefix>().unwrap().len(), 32);
        assert!("10.0.0.0/33".parse::<Prefix>().is_err());
    }

    #[test]
    fn encodes_the_fewest_octets() {
        let mut out = Vec::new();
        for (p, want) in [
            ("0.0.0.0/0", &[0u8][..]),
            ("1.2.3.0/24", &[24, 1, 2, 3]),
            ("1.2.3.128/25", &[25, 1, 2, 3, 128]),
            ("2001:db8::/33", &[33, 0x20, 0x01, 0x0d, 0xb8, 0]),
        ] {
            out.clear();
            p.parse::<Prefix>().unwrap().encode(&mut out);
            assert_eq!(out, want, "{p}");
        }
    }

    #[test]
    fn bad_fields_name_the_right_subcode() {
        let mut out = Vec::new();
        let e = decode_nlri(&[33, 1, 2, 3, 4, 5], AFI_IPV4, false, Field::Update, &mut out).unwrap_err();
        assert_eq!((e.code, e.subcode), (3, INVALID_NETWORK_FIELD));
        let e = decode_nlri(&[24, 1, 2], AFI_IPV4, false, Field::MpAttribute, &mut out).unwrap_err();
        assert_eq!((e.code, e.subcode), (3, OPTIONAL_ATTRIBUTE_ERROR));
        let e = decode_nlri(&[0, 0, 1], AFI_IPV4, true, Field::Update, &mut out).unwrap_err();
        assert_eq!(e.reason, "truncated ADD-PATH identifier");
        assert!(decode_nlri(&[129], AFI_IPV6, false, Field::Update, &mut out).is_err());
    }

    #[test]
    fn add_path_identifiers_come_first() {
        let mut out = Vec::new();
        decode_nlri(&[0, 0, 0, 7, 8, 10, 0, 0, 0, 9, 0], AFI_IPV4, true, Field::Update, &mut out).unwrap();
        assert_eq!(
            out,
            [Nlri::with_path_id(Prefix::v4(10, 0, 0, 0, 8), 7), Nlri::with_path_id(Prefix::v4(0, 0, 0, 0, 0), 9)]
        );
    }
}
