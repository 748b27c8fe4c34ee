//! UPDATE messages (RFC 4271 §4.3), multiprotocol reachability (RFC 4760), ADD-PATH
//! (RFC 7911), and the batch encoder.
//!
//! IPv4 unicast prefixes travel in the UPDATE's own Withdrawn Routes and NLRI fields;
//! every other family (and IPv4 over an IPv6 next hop, RFC 8950) in MP_REACH_NLRI /
//! MP_UNREACH_NLRI, which [`Update`] holds beside the attribute set.
//!
//! When RFC 7606 says treat-as-withdraw, [`Update::decode_body`] returns the UPDATE already
//! rewritten as a withdrawal of everything it announced, with no attributes; the faults tell
//! why. [`UpdateEncoder`] encodes an attribute set once and then packs any number of
//! prefixes into as few UPDATEs as the negotiated maximum length allows.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::attrs::{self, AttrsDecoded, Part, PathAttributes, FLAG_OPTIONAL, MP_REACH_NLRI, MP_UNREACH_NLRI};
use super::error::{AttrFault, DecodeError, EncodeError};
use super::header::{self, MessageType};
use super::notification::{INVALID_NEXT_HOP_ATTRIBUTE, OPTIONAL_ATTRIBUTE_ERROR};
use super::prefix::{decode_nlri, Field, Nlri};
use super::reader::{Put, Reader};
use super::{Ctx, Family, AFI_IPV4, HEADER_LEN};

/// A next hop carried in MP_REACH_NLRI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NextHop {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    /// A global and a link-local IPv6 address (RFC 2545 §3).
    V6LinkLocal(Ipv6Addr, Ipv6Addr),
}

impl NextHop {
    fn encoded_len(&self) -> usize {
        match self {
            NextHop::V4(_) => 4,
            NextHop::V6(_) => 16,
            NextHop::V6LinkLocal(..) => 32,
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            NextHop::V4(a) => out.extend_from_slice(&a.octets()),
            NextHop::V6(a) => out.extend_from_slice(&a.octets()),
            NextHop::V6LinkLocal(g, l) => {
                out.extend_from_slice(&g.octets());
                out.extend_from_slice(&l.octets());
            }
        }
    }
}

impl std::fmt::Display for NextHop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NextHop::V4(a) => write!(f, "{a}"),
            NextHop::V6(a) => write!(f, "{a}"),
            NextHop::V6LinkLocal(g, l) => write!(f, "{g} ({l})"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MpReach {
    pub family: Family,
    pub next_hop: NextHop,
    pub nlri: Vec<Nlri>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MpUnreach {
    pub family: Family,
    pub withdrawn: Vec<Nlri>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Update {
    /// IPv4 unicast prefixes withdrawn in the UPDATE's own field.
    pub withdrawn: Vec<Nlri>,
    pub attrs: PathAttributes,
    /// IPv4 unicast prefixes announced in the UPDATE's own field.
    pub nlri: Vec<Nlri>,
    pub mp_reach: Option<MpReach>,
    pub mp_unreach: Option<MpUnreach>,
}

/// The RFC 7606 §7.11 outcome for an MP attribute that cannot be read: session reset.
type MpResult<T> = Result<Option<T>, (u8, &'static str)>;

fn mp_family(r: &mut Reader) -> Option<Family> {
    Some(Family::new(r.u16()?, r.u8()?))
}

/// Decodes MP_REACH_NLRI; `Ok(None)` for a family whose NLRI tern does not parse.
pub(crate) fn decode_mp_reach(value: &[u8], ctx: &Ctx) -> MpResult<MpReach> {
    let mut r = Reader::new(value);
    let short = (OPTIONAL_ATTRIBUTE_ERROR, "MP_REACH_NLRI too short");
    let family = mp_family(&mut r).ok_or(short)?;
    let nh_len = r.u8().ok_or(short)?;
    let nh = r.take(usize::from(nh_len)).ok_or(short)?;
    let _reserved = r.u8().ok_or(short)?;
    if !family.is_ip() {
        return Ok(None);
    }
    let bad_nh = (OPTIONAL_ATTRIBUTE_ERROR, "MP_REACH_NLRI next hop length does not fit the family");
    let v6 = |b: &[u8]| <[u8; 16]>::try_from(b).map(Ipv6Addr::from).map_err(|_| bad_nh);
    // IPv4 NLRI may have an IPv6 next hop (RFC 8950); IPv6 NLRI never an IPv4 one.
    let next_hop = match (family.afi, nh.len()) {
        (AFI_IPV4, 4) => NextHop::V4(Ipv4Addr::new(nh[0], nh[1], nh[2], nh[3])),
        (_, 16) => NextHop::V6(v6(nh)?),
        (_, 32) => NextHop::V6LinkLocal(v6(&nh[..16])?, v6(&nh[16..])?),
        _ => return Err(bad_nh),
    };
    if let NextHop::V4(a) = next_hop {
        if a.is_unspecified() || a.is_multicast() || a.is_broadcast() {
            return Err((INVALID_NEXT_HOP_ATTRIBUTE, "MP_REACH_NLRI next hop is not a unicast address"));
        }
    }
    let mut nlri = Vec::new();
    decode_nlri(r.rest(), family.afi, ctx.add_path.contains(family), Field::MpAttribute, &mut nlri)
        .map_err(|e| (e.subcode, e.reason))?;
    Ok(Some(MpReach { family, next_hop, nlri }))
}

/// Decodes MP_UNREACH_NLRI; `Ok(None)` for prefixes of a family tern does not parse. An empty
/// one (End-of-RIB) is returned for any family.
pub(crate) fn decode_mp_unreach(value: &[u8], ctx: &Ctx) -> MpResult<MpUnreach> {
    let mut r = Reader::new(value);
    let family = mp_family(&mut r).ok_or((OPTIONAL_ATTRIBUTE_ERROR, "MP_UNREACH_NLRI too short"))?;
    if r.is_empty() {
        return Ok(Some(MpUnreach { family, withdrawn: Vec::new() }));
    }
    if !family.is_ip() {
        return Ok(None);
    }
    let mut withdrawn = Vec::new();
    decode_nlri(r.rest(), family.afi, ctx.add_path.contains(family), Field::MpAttribute, &mut withdrawn)
        .map_err(|e| (e.subcode, e.reason))?;
    Ok(Some(MpUnreach { family, withdrawn }))
}

impl Update {
    /// The End-of-RIB marker for a family (RFC 4724 §2).
    pub fn end_of_rib(family: Family) -> Update {
        if family == Family::IPV4_UNICAST {
            Update::default()
        } else {
            Update { mp_unreach: Some(MpUnreach { family, withdrawn: Vec::new() }), ..Update::default() }
        }
    }

    /// The family this UPDATE marks End-of-RIB for, if it is such a marker.
    pub fn is_end_of_rib(&self) -> Option<Family> {
        if !self.withdrawn.is_empty()
            || !self.nlri.is_empty()
            || self.mp_reach.is_some()
            || self.attrs != PathAttributes::default()
        {
            return None;
        }
        match &self.mp_unreach {
            None => Some(Family::IPV4_UNICAST),
            Some(u) if u.withdrawn.is_empty() => Some(u.family),
            Some(_) => None,
        }
    }

    /// Number of prefixes announced and withdrawn, over all families.
    pub fn prefix_counts(&self) -> (usize, usize) {
        let reach = self.nlri.len() + self.mp_reach.as_ref().map_or(0, |m| m.nlri.len());
        let unreach = self.withdrawn.len() + self.mp_unreach.as_ref().map_or(0, |m| m.withdrawn.len());
        (reach, unreach)
    }

    pub(crate) fn decode_body(body: &[u8], ctx: &Ctx) -> Result<(Update, Vec<AttrFault>), DecodeError> {
        let mut r = Reader::new(body);
        let overrun = |reason| DecodeError::malformed_attribute_list(reason);
        let withdrawn_len = r.u16().ok_or_else(|| overrun("UPDATE too short"))?;
        let withdrawn_raw = r
            .take(usize::from(withdrawn_len))
            .ok_or_else(|| overrun("withdrawn routes length overruns the message"))?;
        let attrs_len = r.u16().ok_or_else(|| overrun("UPDATE too short for the attribute length"))?;
        let attrs_raw = r
            .take(usize::from(attrs_len))
            .ok_or_else(|| overrun("total path attribute length overruns the message"))?;
        let v4_add_path = ctx.add_path.contains(Family::IPV4_UNICAST);

        let mut update = Update::default();
        decode_nlri(withdrawn_raw, AFI_IPV4, v4_add_path, Field::Update, &mut update.withdrawn)?;
        decode_nlri(r.rest(), AFI_IPV4, v4_add_path, Field::Update, &mut update.nlri)?;
        let decoded: AttrsDecoded = attrs::decode(attrs_raw, !update.nlri.is_empty(), ctx)?;
        let treat_as_withdraw = decoded.treat_as_withdraw();
        update.attrs = decoded.attrs;
        update.mp_reach = decoded.mp_reach;
        update.mp_unreach = decoded.mp_unreach;
        if treat_as_withdraw {
            update.rewrite_as_withdrawal()?;
        }
        Ok((update, decoded.faults))
    }

    /// RFC 7606 §2 treat-as-withdraw: everything announced becomes withdrawn, attributes go.
    fn rewrite_as_withdrawal(&mut self) -> Result<(), DecodeError> {
        self.withdrawn.append(&mut self.nlri);
        self.attrs = PathAttributes::default();
        let Some(reach) = self.mp_reach.take() else { return Ok(()) };
        match &mut self.mp_unreach {
            _ if reach.family == Family::IPV4_UNICAST => self.withdrawn.extend(reach.nlri),
            None => self.mp_unreach = Some(MpUnreach { family: reach.family, withdrawn: reach.nlri }),
            Some(u) if u.family == reach.family => u.withdrawn.extend(reach.nlri),
            // Withdrawing would need a second MP_UNREACH_NLRI: no way to keep both families.
            Some(_) => {
                return Err(DecodeError::malformed_attribute_list(
                    "malformed UPDATE announcing and withdrawing two different families",
                ))
            }
        }
        Ok(())
    }

    pub(crate) fn encode_body(&self, ctx: &Ctx, out: &mut Vec<u8>) {
        let v4_add_path = ctx.add_path.contains(Family::IPV4_UNICAST);
        let at = out.len();
        out.put_u16(0);
        self.withdrawn.iter().for_each(|n| n.encode(v4_add_path, out));
        out.patch_u16(at, (out.len() - at - 2) as u16);

        let at = out.len();
        out.put_u16(0);
        // RFC 7606 §5.1: MP_REACH_NLRI / MP_UNREACH_NLRI go first, so that a receiver can
        // still find the NLRI when a later attribute is malformed.
        if let Some(m) = &self.mp_reach {
            put_mp_reach(ctx, m.family, &m.next_hop, &m.nlri, out);
        }
        if let Some(m) = &self.mp_unreach {
            put_mp_unreach(ctx, m.family, &m.withdrawn, out);
        }
        self.attrs.encode_part(ctx, Part::BeforeMp, out);
        self.attrs.encode_part(ctx, Part::AfterMp, out);
        out.patch_u16(at, (out.len() - at - 2) as u16);

        self.nlri.iter().for_each(|n| n.encode(v4_add_path, out));
    }
}

fn put_mp_reach(ctx: &Ctx, family: Family, next_hop: &NextHop, nlri: &[Nlri], out: &mut Vec<u8>) {
    let add_path = ctx.add_path.contains(family);
    attrs::put_attr(out, FLAG_OPTIONAL, MP_REACH_NLRI, |v| {
        v.put_u16(family.afi);
        v.put_u8(family.safi);
        v.put_u8(next_hop.encoded_len() as u8);
        next_hop.encode(v);
        v.put_u8(0);
        nlri.iter().for_each(|n| n.encode(add_path, v));
    });
}

fn put_mp_unreach(ctx: &Ctx, family: Family, withdrawn: &[Nlri], out: &mut Vec<u8>) {
    let add_path = ctx.add_path.contains(family);
    attrs::put_attr(out, FLAG_OPTIONAL, MP_UNREACH_NLRI, |v| {
        v.put_u16(family.afi);
        v.put_u8(family.safi);
        withdrawn.iter().for_each(|n| n.encode(add_path, v));
    });
}

/// Largest encoded NLRI entry: path identifier, length octet, 16 address octets.
const MAX_NLRI_LEN: usize = 4 + 1 + 16;
/// Withdrawn Routes Length and Total Path Attribute Length.
const UPDATE_FIXED: usize = 4;
/// Flags, type and a 2-octet length: the largest attribute header.
const ATTR_HEADER_MAX: usize = 4;

/// Encodes announcements of one attribute set, any number of prefixes at a time, into as
/// few UPDATEs as fit the session's maximum message length.
///
/// The attributes are encoded once, in [`UpdateEncoder::new`]; a RIB can keep the encoder
/// beside an interned attribute set and reuse it for every flush to the same kind of peer.
#[derive(Debug, Clone)]
pub struct UpdateEncoder {
    ctx: Ctx,
    family: Family,
    /// Next hop for MP_REACH_NLRI; `None` for IPv4 unicast in the UPDATE's own fields.
    mp_next_hop: Option<NextHop>,
    before_mp: Vec<u8>,
    after_mp: Vec<u8>,
    /// Octets left for NLRI in each message.
    nlri_budget: usize,
}

impl UpdateEncoder {
    /// Prepares announcements of `family` prefixes with `attrs`. IPv4 unicast with no
    /// `mp_next_hop` uses the UPDATE's own NLRI field and `attrs.next_hop`; everything else
    /// goes in MP_REACH_NLRI with `mp_next_hop` (which must then be given).
    ///
    /// Fails only when the attributes leave no room for a single prefix in a message of the
    /// negotiated size (possible for a route learned over extended messages and sent to a
    /// peer without them).
    pub fn new(
        ctx: &Ctx,
        family: Family,
        attrs: &PathAttributes,
        mp_next_hop: Option<NextHop>,
    ) -> Result<UpdateEncoder, EncodeError> {
        assert!(
            mp_next_hop.is_some() || family == Family::IPV4_UNICAST,
            "UpdateEncoder for {family} needs the next hop for MP_REACH_NLRI"
        );
        // Sized for a typical set (ORIGIN, an AS_PATH of a few ASes, NEXT_HOP, MED, some
        // communities), so that encoding does not grow the buffers several times.
        let mut before_mp = Vec::with_capacity(96);
        let mut after_mp = Vec::with_capacity(32);
        attrs.encode_part(ctx, Part::BeforeMp, &mut before_mp);
        attrs.encode_part(ctx, Part::AfterMp, &mut after_mp);
        let mp_overhead = mp_next_hop.map_or(0, |nh| ATTR_HEADER_MAX + 2 + 1 + 1 + nh.encoded_len() + 1);
        let overhead = HEADER_LEN + UPDATE_FIXED + before_mp.len() + after_mp.len() + mp_overhead;
        let max = ctx.max_message_len();
        if overhead + MAX_NLRI_LEN > max {
            return Err(EncodeError { len: overhead + MAX_NLRI_LEN, max });
        }
        Ok(UpdateEncoder { ctx: *ctx, family, mp_next_hop, before_mp, after_mp, nlri_budget: max - overhead })
    }

    /// Appends UPDATEs announcing all of `nlri`; returns how many messages it wrote.
    pub fn announce(&self, nlri: &[Nlri], out: &mut Vec<u8>) -> usize {
        let add_path = self.ctx.add_path.contains(self.family);
        let mut messages = 0;
        let mut rest = nlri;
        while !rest.is_empty() {
            let mut n = fitting(rest, add_path, self.nlri_budget);
            // The budget assumes MP_REACH_NLRI needs an extended length; when its value fits
            // 255 octets the header is one octet shorter, which may make room for one more.
            if let Some(nh) = &self.mp_next_hop {
                let wider = fitting(rest, add_path, self.nlri_budget + 1);
                let value: usize = 2 + 1 + 1 + nh.encoded_len() + 1;
                if wider > n && value + rest[..wider].iter().map(|p| p.encoded_len(add_path)).sum::<usize>() <= 255 {
                    n = wider;
                }
            }
            let (chunk, tail) = rest.split_at(n);
            rest = tail;
            let start = header::begin(out);
            out.put_u16(0);
            let at = out.len();
            out.put_u16(0);
            // MP_REACH_NLRI first (RFC 7606 §5.1).
            if let Some(nh) = &self.mp_next_hop {
                put_mp_reach(&self.ctx, self.family, nh, chunk, out);
            }
            out.extend_from_slice(&self.before_mp);
            out.extend_from_slice(&self.after_mp);
            out.patch_u16(at, (out.len() - at - 2) as u16);
            if self.mp_next_hop.is_none() {
                chunk.iter().for_each(|n| n.encode(add_path, out));
            }
            finish(out, start, &self.ctx);
            messages += 1;
        }
        messages
    }

    /// Appends UPDATEs withdrawing all of `nlri` of `family`; returns how many it wrote.
    pub fn withdraw(ctx: &Ctx, family: Family, nlri: &[Nlri], out: &mut Vec<u8>) -> usize {
        let add_path = ctx.add_path.contains(family);
        let classic = family == Family::IPV4_UNICAST;
        let overhead = HEADER_LEN + UPDATE_FIXED + if classic { 0 } else { ATTR_HEADER_MAX + 3 };
        let budget = ctx.max_message_len() - overhead;
        let mut messages = 0;
        let mut rest = nlri;
        while !rest.is_empty() {
            let n = fitting(rest, add_path, budget);
            let (chunk, tail) = rest.split_at(n);
            rest = tail;
            let start = header::begin(out);
            if classic {
                out.put_u16(0);
                chunk.iter().for_each(|n| n.encode(add_path, out));
                out.patch_u16(start + HEADER_LEN, (out.len() - start - HEADER_LEN - 2) as u16);
                out.put_u16(0);
            } else {
                out.put_u16(0);
                let at = out.len();
                out.put_u16(0);
                put_mp_unreach(ctx, family, chunk, out);
                out.patch_u16(at, (out.len() - at - 2) as u16);
            }
            finish(out, start, ctx);
            messages += 1;
        }
        messages
    }
}

/// How many leading entries of `nlri` fit in `budget` octets (at least one).
fn fitting(nlri: &[Nlri], add_path: bool, budget: usize) -> usize {
    let mut used = 0;
    nlri.iter()
        .position(|n| {
            used += n.encoded_len(add_path);
            used > budget
        })
        .unwrap_or(nlri.len())
        .max(1)
}

fn finish(out: &mut Vec<u8>, start: usize, ctx: &Ctx) {
    let fits = header::finish(out, start, MessageType::Update, ctx.max_message_len());
    debug_assert!(fits.is_ok(), "UpdateEncoder packed past the maximum length");
}

impl std::fmt::Display for Update {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn list(f: &mut std::fmt::Formatter<'_>, name: &str, items: &[Nlri]) -> std::fmt::Result {
            write!(f, "{name}: [")?;
            for (i, n) in items.iter().take(8).enumerate() {
                write!(f, "{}{n}", if i == 0 { " " } else { ", " })?;
            }
            if items.len() > 8 {
                write!(f, ", ... {} more", items.len() - 8)?;
            }
            write!(f, " ]")
        }
        if let Some(family) = self.is_end_of_rib() {
            return write!(f, "Update [ End-of-RIB {family} ]");
        }
        write!(f, "Update [ ")?;
        if !self.withdrawn.is_empty() {
            list(f, "withdrawn", &self.withdrawn)?;
            write!(f, ", ")?;
        }
        write!(f, "attributes: [ {} ]", self.attrs)?;
        if let Some(m) = &self.mp_unreach {
            write!(f, ", {} ", m.family)?;
            list(f, "withdrawn", &m.withdrawn)?;
        }
        if let Some(m) = &self.mp_reach {
            write!(f, ", {} next-hop {}, ", m.family, m.next_hop)?;
            list(f, "nlri", &m.nlri)?;
        }
        if !self.nlri.is_empty() {
            write!(f, ", ")?;
            list(f, "nlri", &self.nlri)?;
        }
        write!(f, " ]")
    }
}
