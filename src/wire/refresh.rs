//! ROUTE-REFRESH messages (RFC 2918) with the enhanced route refresh subtypes of RFC 7313:
//! Beginning-of-RIB-Refresh and End-of-RIB-Refresh.

use super::error::DecodeError;
use super::notification::{INVALID_MESSAGE_LENGTH, ROUTE_REFRESH_MESSAGE_ERROR};
use super::reader::Put;
use super::Family;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefreshSubtype {
    /// A plain request to re-send the Adj-RIB-Out (RFC 2918).
    Request,
    /// Beginning of a route refresh (RFC 7313 §3.2).
    BeginRefresh,
    /// End of a route refresh; routes not refreshed are stale (RFC 7313 §3.2).
    EndRefresh,
    /// A reserved value, which RFC 7313 §5 says to ignore.
    Reserved(u8),
}

impl RefreshSubtype {
    pub fn from_u8(v: u8) -> RefreshSubtype {
        match v {
            0 => RefreshSubtype::Request,
            1 => RefreshSubtype::BeginRefresh,
            2 => RefreshSubtype::EndRefresh,
            other => RefreshSubtype::Reserved(other),
        }
    }

    pub fn to_u8(self) -> u8 {
        match self {
            RefreshSubtype::Request => 0,
            RefreshSubtype::BeginRefresh => 1,
            RefreshSubtype::EndRefresh => 2,
            RefreshSubtype::Reserved(v) => v,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteRefresh {
    pub family: Family,
    pub subtype: RefreshSubtype,
}

impl RouteRefresh {
    pub fn request(family: Family) -> RouteRefresh {
        RouteRefresh { family, subtype: RefreshSubtype::Request }
    }

    /// The body is AFI (2), subtype (1), SAFI (1). A length other than 4 is a ROUTE-REFRESH
    /// Message Error / Invalid Message Length with the whole message as data for BoRR/EoRR
    /// (RFC 7313 §5), and a Bad Message Length otherwise (RFC 2918 being silent on it).
    pub(crate) fn decode_body(body: &[u8], len: usize) -> Result<RouteRefresh, DecodeError> {
        let subtype = RefreshSubtype::from_u8(body.get(2).copied().unwrap_or(0));
        match body {
            [a, b, _, safi] => Ok(RouteRefresh { family: Family::new(u16::from_be_bytes([*a, *b]), *safi), subtype }),
            _ if matches!(subtype, RefreshSubtype::BeginRefresh | RefreshSubtype::EndRefresh) => {
                let mut data = super::header::MARKER.to_vec();
                data.put_u16(len as u16);
                data.put_u8(super::MessageType::RouteRefresh as u8);
                data.extend_from_slice(body);
                Err(DecodeError::new(
                    ROUTE_REFRESH_MESSAGE_ERROR,
                    INVALID_MESSAGE_LENGTH,
                    data,
                    "enhanced route refresh length is not 23",
                ))
            }
            _ => Err(DecodeError::bad_length(len)),
        }
    }

    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) {
        out.put_u16(self.family.afi);
        out.put_u8(self.subtype.to_u8());
        out.put_u8(self.family.safi);
    }
}

impl std::fmt::Display for RouteRefresh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.subtype {
            RefreshSubtype::Request => write!(f, "Route Refresh [ {} ]", self.family),
            RefreshSubtype::BeginRefresh => write!(f, "Route Refresh [ {} BoRR ]", self.family),
            RefreshSubtype::EndRefresh => write!(f, "Route Refresh [ {} EoRR ]", self.family),
            RefreshSubtype::Reserved(v) => write!(f, "Route Refresh [ {} subtype {v} ]", self.family),
        }
    }
}
