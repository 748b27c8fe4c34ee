//! OPEN messages (RFC 4271 §4.2) with optional parameters in the classic format and in the
//! extended format of RFC 9072.
//!
//! Capabilities (parameter type 2) are flattened into one list whatever the number of
//! parameters they came in; on encode they are sent in a single parameter, as the reference
//! log shows. Other parameter types are kept as they came, so the session can refuse them
//! with Unsupported Optional Parameter. Validating the values (version, AS, identifier, hold
//! time) against the configuration is the FSM's job, not the codec's.

use std::net::Ipv4Addr;

use super::capability::Capability;
use super::error::DecodeError;
use super::reader::{Put, Reader};
use super::{AS_TRANS, BGP_VERSION};

/// Optional parameter type for capabilities (RFC 5492).
pub const PARAM_CAPABILITIES: u8 = 2;
/// RFC 9072: the non-extended length and type octets that announce the extended format.
const EXTENDED_PARAMS: u8 = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    pub version: u8,
    /// "My Autonomous System": the 2-octet AS, or AS_TRANS for a 4-octet one.
    pub my_as: u16,
    pub hold_time: u16,
    pub bgp_id: Ipv4Addr,
    pub capabilities: Vec<Capability>,
    /// Optional parameters other than capabilities: (type, value).
    pub other_params: Vec<(u8, Vec<u8>)>,
}

impl Open {
    /// An OPEN for `asn` announcing the 4-octet AS capability (with AS_TRANS in the 2-octet
    /// field when needed) followed by `capabilities`.
    pub fn new(asn: u32, hold_time: u16, bgp_id: Ipv4Addr, capabilities: Vec<Capability>) -> Open {
        let my_as = u16::try_from(asn).unwrap_or(AS_TRANS as u16);
        let mut caps = capabilities;
        if !caps.iter().any(|c| matches!(c, Capability::FourOctetAs(_))) {
            caps.push(Capability::FourOctetAs(asn));
        }
        Open { version: BGP_VERSION, my_as, hold_time, bgp_id, capabilities: caps, other_params: Vec::new() }
    }

    /// The 4-octet AS from the capability, if the speaker sent one.
    pub fn four_octet_as(&self) -> Option<u32> {
        self.capabilities.iter().find_map(|c| match c {
            Capability::FourOctetAs(asn) => Some(*asn),
            _ => None,
        })
    }

    /// The speaker's AS: the 4-octet capability's value when present, else My AS.
    pub fn asn(&self) -> u32 {
        self.four_octet_as().unwrap_or(u32::from(self.my_as))
    }

    pub fn has(&self, code: u8) -> bool {
        self.capabilities.iter().any(|c| c.code() == code)
    }

    pub(crate) fn decode_body(body: &[u8]) -> Result<Open, DecodeError> {
        let short = || DecodeError::bad_length(body.len() + super::HEADER_LEN);
        let mut r = Reader::new(body);
        let version = r.u8().ok_or_else(short)?;
        let my_as = r.u16().ok_or_else(short)?;
        let hold_time = r.u16().ok_or_else(short)?;
        let bgp_id = Ipv4Addr::from(r.u32().ok_or_else(short)?);
        let params_len = r.u8().ok_or_else(short)?;
        let malformed = |reason| DecodeError::open(super::notification::UNSPECIFIC, reason);

        // RFC 9072 §2: length 255 followed by type 255 announces 2-octet lengths.
        let extended = params_len == EXTENDED_PARAMS && r.rest().first() == Some(&EXTENDED_PARAMS);
        let params = if extended {
            r.u8();
            let len = r.u16().ok_or_else(|| malformed("extended optional parameters length missing"))?;
            r.take(usize::from(len))
        } else {
            r.take(usize::from(params_len))
        };
        let params = params.ok_or_else(|| malformed("optional parameters overrun the message"))?;
        if !r.is_empty() {
            return Err(malformed("octets after the optional parameters"));
        }

        let mut open = Open { version, my_as, hold_time, bgp_id, capabilities: Vec::new(), other_params: Vec::new() };
        let mut p = Reader::new(params);
        while !p.is_empty() {
            let kind = p.u8().ok_or_else(|| malformed("truncated optional parameter"))?;
            let len = if extended { p.u16() } else { p.u8().map(u16::from) };
            let value = len
                .and_then(|l| p.take(usize::from(l)))
                .ok_or_else(|| malformed("optional parameter overruns its field"))?;
            if kind != PARAM_CAPABILITIES {
                open.other_params.push((kind, value.to_vec()));
                continue;
            }
            let mut c = Reader::new(value);
            while !c.is_empty() {
                let code = c.u8().ok_or_else(|| malformed("truncated capability"))?;
                let cap_value = c
                    .u8()
                    .and_then(|l| c.take(usize::from(l)))
                    .ok_or_else(|| malformed("capability overruns its parameter"))?;
                open.capabilities.push(Capability::decode(code, cap_value)?);
            }
        }
        Ok(open)
    }

    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) {
        out.put_u8(self.version);
        out.put_u16(self.my_as);
        out.put_u16(self.hold_time);
        out.extend_from_slice(&self.bgp_id.octets());

        let mut caps = Vec::new();
        for cap in &self.capabilities {
            cap.encode(&mut caps);
        }
        let mut params: Vec<(u8, &[u8])> = Vec::with_capacity(1 + self.other_params.len());
        if !caps.is_empty() {
            params.push((PARAM_CAPABILITIES, &caps));
        }
        params.extend(self.other_params.iter().map(|(t, v)| (*t, v.as_slice())));
        let classic_len: usize = params.iter().map(|(_, v)| 2 + v.len()).sum();
        let extended = classic_len >= usize::from(EXTENDED_PARAMS) || params.iter().any(|(_, v)| v.len() > 255);

        if extended {
            out.put_u8(EXTENDED_PARAMS);
            out.put_u8(EXTENDED_PARAMS);
            let len_at = out.len();
            out.put_u16(0);
            for (kind, value) in &params {
                out.put_u8(*kind);
                out.put_u16(value.len() as u16);
                out.extend_from_slice(value);
            }
            let len = out.len() - len_at - 2;
            out.patch_u16(len_at, len as u16);
        } else {
            out.put_u8(classic_len as u8);
            for (kind, value) in &params {
                out.put_u8(*kind);
                out.put_u8(value.len() as u8);
                out.extend_from_slice(value);
            }
        }
    }
}

impl std::fmt::Display for Open {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Open [ version: {}, asn: {}, hold_time: {}, id: {}, capabilities: [",
            self.version, self.my_as, self.hold_time, self.bgp_id
        )?;
        for (i, c) in self.capabilities.iter().enumerate() {
            write!(f, "{}{c}", if i == 0 { " " } else { ", " })?;
        }
        write!(f, " ]")?;
        for (kind, value) in &self.other_params {
            write!(f, ", parameter {kind} ({} octets)", value.len())?;
        }
        write!(f, " ]")
    }
}
