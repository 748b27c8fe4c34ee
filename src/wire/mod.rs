//! The BGP-4 wire codec: every message tern sends or receives, as bytes and back.
//!
//! This module is pure: no I/O, no logging, no clock. It is the first layer of tern's
//! protocol core and everything above it (FSM, RIB, load tools) speaks to the network
//! through it.
//!
//! Shape:
//! - [`Message`] is the validated representation of one BGP message. [`decode_message`]
//!   turns the bytes of one framed message into a [`Decoded`] (the message plus the RFC 7606
//!   faults that were repaired on the way); [`Message::encode`] appends the bytes of a message
//!   to a buffer.
//! - [`header`] finds message boundaries in a byte stream ([`header::frame`]) and checks the
//!   marker, length and type (RFC 4271 §4.1, RFC 8654 for lengths past 4096).
//! - Decoding takes a [`Ctx`] with what the session negotiated: 4-octet AS numbers,
//!   extended messages, ADD-PATH per family and direction, and whether the peer is eBGP.
//! - Errors follow the protocol. A [`DecodeError`] is exactly the NOTIFICATION that the
//!   session must send before it closes; faults that RFC 7606 repairs (treat-as-withdraw,
//!   attribute discard) are not errors but values in [`Decoded::faults`], and the message has
//!   already been repaired accordingly.
//! - [`update::UpdateEncoder`] packs a batch of prefixes sharing one attribute set into as few
//!   UPDATEs as fit the negotiated maximum size; it cannot fail.
//!
//! Contract: decoding never panics and never allocates from a length field that has not been
//! checked against the bytes actually present, whatever the input. Every read goes through
//! [`reader::Reader`], which returns `None` past the end instead of indexing.

pub mod aspath;
pub mod attrs;
pub mod capability;
pub mod error;
pub mod header;
pub mod notification;
pub mod open;
pub mod prefix;
pub mod reader;
pub mod refresh;
pub mod update;

pub use aspath::{AsPath, Segment, SegmentKind};
pub use attrs::{Aggregator, LargeCommunity, Origin, PathAttributes, RawAttribute};
pub use capability::{AddPathDirection, Capability};
pub use error::{AttrAction, AttrFault, DecodeError};
pub use header::MessageType;
pub use notification::Notification;
pub use open::Open;
pub use prefix::{Nlri, Prefix, PrefixError};
pub use refresh::{RefreshSubtype, RouteRefresh};
pub use update::{MpReach, MpUnreach, NextHop, Update, UpdateEncoder};

/// Length of the header that starts every BGP message: marker, length, type.
pub const HEADER_LEN: usize = 19;
/// Largest message without the extended message capability (RFC 4271 §4).
pub const MAX_MESSAGE_LEN: usize = 4096;
/// Largest message once extended messages are negotiated (RFC 8654).
pub const MAX_EXTENDED_MESSAGE_LEN: usize = 65535;
/// `AS_TRANS`, the 2-octet stand-in for a 4-octet AS number (RFC 6793).
pub const AS_TRANS: u32 = 23456;
/// BGP version 4.
pub const BGP_VERSION: u8 = 4;

/// Address family identifiers (IANA "Address Family Numbers").
pub const AFI_IPV4: u16 = 1;
pub const AFI_IPV6: u16 = 2;
/// Subsequent address family identifiers.
pub const SAFI_UNICAST: u8 = 1;
pub const SAFI_MULTICAST: u8 = 2;

/// An AFI/SAFI pair. Any pair can appear in capabilities; tern parses NLRI for the IPv4
/// and IPv6 unicast and multicast families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Family {
    pub afi: u16,
    pub safi: u8,
}

impl Family {
    pub const IPV4_UNICAST: Family = Family::new(AFI_IPV4, SAFI_UNICAST);
    pub const IPV6_UNICAST: Family = Family::new(AFI_IPV6, SAFI_UNICAST);
    pub const IPV4_MULTICAST: Family = Family::new(AFI_IPV4, SAFI_MULTICAST);
    pub const IPV6_MULTICAST: Family = Family::new(AFI_IPV6, SAFI_MULTICAST);

    pub const fn new(afi: u16, safi: u8) -> Family {
        Family { afi, safi }
    }

    /// Whether tern can parse NLRI of this family (plain IP prefixes).
    pub fn is_ip(self) -> bool {
        matches!(self.afi, AFI_IPV4 | AFI_IPV6) && matches!(self.safi, SAFI_UNICAST | SAFI_MULTICAST)
    }

    /// Bit of this family in a [`FamilySet`], for the four IP families.
    fn bit(self) -> Option<u8> {
        match (self.afi, self.safi) {
            (AFI_IPV4, SAFI_UNICAST) => Some(1),
            (AFI_IPV6, SAFI_UNICAST) => Some(2),
            (AFI_IPV4, SAFI_MULTICAST) => Some(4),
            (AFI_IPV6, SAFI_MULTICAST) => Some(8),
            _ => None,
        }
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let afi = match self.afi {
            AFI_IPV4 => "ipv4",
            AFI_IPV6 => "ipv6",
            other => return write!(f, "afi{}-safi{}", other, self.safi),
        };
        match self.safi {
            SAFI_UNICAST => write!(f, "{afi}-unicast"),
            SAFI_MULTICAST => write!(f, "{afi}-multicast"),
            other => write!(f, "{afi}-safi{other}"),
        }
    }
}

/// A small set of the IP families, used for per-family negotiated options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct FamilySet(u8);

impl FamilySet {
    pub const EMPTY: FamilySet = FamilySet(0);

    pub fn contains(self, family: Family) -> bool {
        family.bit().is_some_and(|b| self.0 & b != 0)
    }

    /// Adds a family; families other than the four IP ones are ignored (and reported false).
    pub fn insert(&mut self, family: Family) -> bool {
        match family.bit() {
            Some(b) => {
                self.0 |= b;
                true
            }
            None => false,
        }
    }

    pub fn with(mut self, family: Family) -> FamilySet {
        self.insert(family);
        self
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// What the session negotiated, as far as the bytes on the wire depend on it.
///
/// A session keeps two of these: one for decoding what the peer sends and one for encoding
/// what tern sends, since ADD-PATH is negotiated per direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ctx {
    /// Both sides announced the 4-octet AS capability (RFC 6793): AS numbers in AS_PATH and
    /// AGGREGATOR are 4 octets and AS4_PATH / AS4_AGGREGATOR are not used.
    pub four_octet_as: bool,
    /// Both sides announced extended messages (RFC 8654): messages up to 65535 octets.
    pub extended_message: bool,
    /// Families whose NLRI carry ADD-PATH path identifiers in this direction (RFC 7911).
    pub add_path: FamilySet,
    /// The peer is in another AS: LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST from it are
    /// discarded (RFC 7606 §7.5, §7.9, §7.10).
    pub ebgp: bool,
}

impl Ctx {
    /// The context of a modern session: 4-octet AS, no extended messages, no ADD-PATH.
    pub const fn new() -> Ctx {
        Ctx { four_octet_as: true, extended_message: false, add_path: FamilySet::EMPTY, ebgp: false }
    }

    /// The context before the OPEN exchange: what any peer can parse.
    pub const fn pre_open() -> Ctx {
        Ctx { four_octet_as: false, extended_message: false, add_path: FamilySet::EMPTY, ebgp: false }
    }

    /// Largest message this session may send or receive.
    pub fn max_message_len(&self) -> usize {
        if self.extended_message {
            MAX_EXTENDED_MESSAGE_LEN
        } else {
            MAX_MESSAGE_LEN
        }
    }
}

impl Default for Ctx {
    fn default() -> Ctx {
        Ctx::new()
    }
}

/// One BGP message (RFC 4271 §4, RFC 2918 / RFC 7313 for ROUTE-REFRESH).
///
/// Not boxed: an UPDATE is moved a handful of times on its way to the RIB, which costs less
/// than an allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Open(Open),
    Update(Update),
    Notification(Notification),
    Keepalive,
    RouteRefresh(RouteRefresh),
}

/// A decoded message and the RFC 7606 repairs made while decoding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub message: Message,
    /// Malformed attributes that were discarded, or that made the whole UPDATE a withdrawal
    /// (the message has been rewritten to withdraw its NLRI). Empty for a clean message.
    pub faults: Vec<AttrFault>,
}

impl Message {
    pub fn message_type(&self) -> MessageType {
        match self {
            Message::Open(_) => MessageType::Open,
            Message::Update(_) => MessageType::Update,
            Message::Notification(_) => MessageType::Notification,
            Message::Keepalive => MessageType::Keepalive,
            Message::RouteRefresh(_) => MessageType::RouteRefresh,
        }
    }

    /// Appends this message, header included, to `out`.
    ///
    /// Fails only when the message does not fit the negotiated maximum length (an UPDATE
    /// built by hand with too many prefixes; [`UpdateEncoder`] splits batches instead). On
    /// failure `out` is left as it was.
    pub fn encode(&self, ctx: &Ctx, out: &mut Vec<u8>) -> Result<(), error::EncodeError> {
        let start = header::begin(out);
        match self {
            Message::Open(m) => m.encode_body(out),
            Message::Update(m) => m.encode_body(ctx, out),
            Message::Notification(m) => m.encode_body(out),
            Message::Keepalive => {}
            Message::RouteRefresh(m) => m.encode_body(out),
        }
        header::finish(out, start, self.message_type(), ctx.max_message_len())
    }

    /// Encodes into a fresh buffer; convenient for tests and one-off messages.
    pub fn to_bytes(&self, ctx: &Ctx) -> Result<Vec<u8>, error::EncodeError> {
        let mut out = Vec::new();
        self.encode(ctx, &mut out)?;
        Ok(out)
    }
}

/// Decodes one whole message (header included), as found by [`header::frame`].
pub fn decode_message(buf: &[u8], ctx: &Ctx) -> Result<Decoded, DecodeError> {
    let (kind, len) = header::parse(buf, ctx.max_message_len())?;
    if len != buf.len() {
        return Err(DecodeError::bad_length(len));
    }
    let body = &buf[HEADER_LEN..];
    let clean = |message| Ok(Decoded { message, faults: Vec::new() });
    match kind {
        MessageType::Open => clean(Message::Open(Open::decode_body(body)?)),
        MessageType::Update => {
            let (update, faults) = Update::decode_body(body, ctx)?;
            Ok(Decoded { message: Message::Update(update), faults })
        }
        MessageType::Notification => clean(Message::Notification(Notification::decode_body(body)?)),
        MessageType::Keepalive => {
            if !body.is_empty() {
                return Err(DecodeError::bad_length(len));
            }
            clean(Message::Keepalive)
        }
        MessageType::RouteRefresh => clean(Message::RouteRefresh(RouteRefresh::decode_body(body, len)?)),
    }
}
