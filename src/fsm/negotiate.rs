//! OPEN construction, validation and capability negotiation (RFC 4271 §6.2, RFC 5492,
//! RFC 6793, RFC 7911, RFC 8654, RFC 2918, RFC 7313). Pure functions of the configuration
//! and the peer's OPEN; a failure is the NOTIFICATION to send.

use std::net::Ipv4Addr;
use std::time::Duration;

use super::config::SessionConfig;
use crate::wire::capability::{self, Capability};
use crate::wire::notification::*;
use crate::wire::{AddPathDirection, Ctx, Family, FamilySet, Notification, Open, AS_TRANS, BGP_VERSION};

/// What both sides agreed on, fixed for the life of the session.
#[derive(Debug, Clone, PartialEq)]
pub struct Negotiated {
    pub peer_asn: u32,
    pub peer_id: Ipv4Addr,
    /// Negotiated hold time in seconds; 0 means neither hold timer nor KEEPALIVEs.
    pub hold_time: u16,
    pub keepalive: Option<Duration>,
    pub families: Vec<Family>,
    pub four_octet_as: bool,
    pub extended_message: bool,
    /// Families whose UPDATEs from the peer carry path identifiers.
    pub add_path_rx: FamilySet,
    /// Families whose UPDATEs to the peer carry path identifiers.
    pub add_path_tx: FamilySet,
    pub route_refresh: bool,
    pub enhanced_route_refresh: bool,
    pub ebgp: bool,
    /// RFC 8950: IPv4 unicast routes may carry an IPv6 next hop, both ways.
    pub extended_next_hop: bool,
    /// The peer's OPEN, for display.
    pub peer_open: Open,
}

impl Negotiated {
    /// The context for decoding what the peer sends.
    pub fn rx_ctx(&self) -> Ctx {
        Ctx {
            four_octet_as: self.four_octet_as,
            extended_message: self.extended_message,
            add_path: self.add_path_rx,
            ebgp: self.ebgp,
        }
    }

    /// The context for encoding what tern sends.
    pub fn tx_ctx(&self) -> Ctx {
        Ctx {
            four_octet_as: self.four_octet_as,
            extended_message: self.extended_message,
            add_path: self.add_path_tx,
            ebgp: self.ebgp,
        }
    }
}

/// The OPEN tern sends: multiprotocol per family, route refresh (and enhanced), 4-octet AS,
/// ADD-PATH and extended message as configured. AS_TRANS stands in for a 4-octet ASN.
pub fn local_open(cfg: &SessionConfig) -> Open {
    let mut caps: Vec<Capability> = cfg.families.iter().map(|f| Capability::Multiprotocol(*f)).collect();
    if cfg.route_refresh {
        caps.push(Capability::RouteRefresh);
    }
    caps.push(Capability::FourOctetAs(cfg.local_asn));
    if !cfg.add_path.is_empty() {
        caps.push(Capability::AddPath(cfg.add_path.clone()));
    }
    if cfg.route_refresh {
        caps.push(Capability::EnhancedRouteRefresh);
    }
    if cfg.extended_message {
        caps.push(Capability::ExtendedMessage);
    }
    if cfg.graceful_restart_aware {
        // No families: nothing is kept for us when we restart; the peer only learns that we
        // understand End-of-RIB. 120 s is the usual restart time (BIRD's default as well).
        caps.push(Capability::GracefulRestart(crate::wire::capability::GracefulRestart {
            flags: 0,
            restart_time: 120,
            families: Vec::new(),
        }));
    }
    if cfg.extended_next_hop && cfg.families.contains(&Family::IPV4_UNICAST) {
        caps.push(Capability::ExtendedNextHop(vec![(Family::IPV4_UNICAST, crate::wire::AFI_IPV6)]));
    }
    Open::new(cfg.local_asn, cfg.hold_time, cfg.local_id, caps)
}

fn open_error(subcode: u8, data: Vec<u8>) -> Notification {
    Notification::new(OPEN_MESSAGE_ERROR, subcode, data)
}

/// Checks the peer's OPEN against the configuration and negotiates the session.
pub fn negotiate(cfg: &SessionConfig, peer: &Open) -> Result<Negotiated, Notification> {
    if peer.version != BGP_VERSION {
        // RFC 4271 §6.2: the data is the largest locally supported version, 2 octets.
        return Err(open_error(UNSUPPORTED_VERSION_NUMBER, u16::from(BGP_VERSION).to_be_bytes().to_vec()));
    }
    if let Some((kind, _)) = peer.other_params.first() {
        return Err(open_error(UNSUPPORTED_OPTIONAL_PARAMETER, vec![*kind]));
    }
    let four_octet = peer.four_octet_as();
    // A 4-octet speaker with a 2-octet AS must put that AS in My AS too (RFC 6793 §4.1).
    if let Some(asn) = four_octet {
        let two = u16::try_from(asn).unwrap_or(AS_TRANS as u16);
        if peer.my_as != two {
            return Err(open_error(BAD_PEER_AS, peer.my_as.to_be_bytes().to_vec()));
        }
    }
    let peer_asn = peer.asn();
    if cfg.remote_asn.is_some_and(|want| want != peer_asn) {
        return Err(open_error(BAD_PEER_AS, peer.my_as.to_be_bytes().to_vec()));
    }
    if peer.hold_time == 1 || peer.hold_time == 2 {
        return Err(open_error(UNACCEPTABLE_HOLD_TIME, Vec::new()));
    }
    let ebgp = peer_asn != cfg.local_asn;
    // RFC 6286 §2.1: zero is never valid; within one AS identifiers must differ.
    if peer.bgp_id.is_unspecified() || (!ebgp && peer.bgp_id == cfg.local_id) {
        return Err(open_error(BAD_BGP_IDENTIFIER, peer.bgp_id.octets().to_vec()));
    }

    // RFC 4760 §8: a speaker without multiprotocol capabilities carries IPv4 unicast only.
    let peer_families: Vec<Family> = peer
        .capabilities
        .iter()
        .filter_map(|c| match c {
            Capability::Multiprotocol(f) => Some(*f),
            _ => None,
        })
        .collect();
    let peer_has =
        |f: &Family| if peer_families.is_empty() { *f == Family::IPV4_UNICAST } else { peer_families.contains(f) };
    let families: Vec<Family> = cfg.families.iter().copied().filter(peer_has).collect();
    if families.is_empty() {
        let mut data = Vec::new();
        cfg.families.iter().for_each(|f| Capability::Multiprotocol(*f).encode(&mut data));
        return Err(open_error(UNSUPPORTED_CAPABILITY, data));
    }

    let peer_add_path: Vec<(Family, AddPathDirection)> = peer
        .capabilities
        .iter()
        .filter_map(|c| match c {
            Capability::AddPath(list) => Some(list.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    let mut add_path_rx = FamilySet::EMPTY;
    let mut add_path_tx = FamilySet::EMPTY;
    for (family, ours) in &cfg.add_path {
        if !families.contains(family) {
            continue;
        }
        if let Some((_, theirs)) = peer_add_path.iter().find(|(f, _)| f == family) {
            if ours.can_receive() && theirs.can_send() {
                add_path_rx.insert(*family);
            }
            if ours.can_send() && theirs.can_receive() {
                add_path_tx.insert(*family);
            }
        }
    }

    let hold_time = cfg.hold_time.min(peer.hold_time);
    // A keepalive interval of 0 means none are sent (RFC 4271 §10 allows any interval;
    // the peer's hold timer is then the operator's business).
    let keepalive = (hold_time != 0 && !cfg.keepalive.is_zero()).then(|| {
        if hold_time == cfg.hold_time {
            cfg.keepalive
        } else {
            cfg.keepalive.min(Duration::from_secs(u64::from(hold_time / 3).max(1)))
        }
    });
    Ok(Negotiated {
        peer_asn,
        peer_id: peer.bgp_id,
        hold_time,
        keepalive,
        families,
        four_octet_as: four_octet.is_some(),
        extended_message: cfg.extended_message && peer.has(capability::EXTENDED_MESSAGE),
        add_path_rx,
        add_path_tx,
        route_refresh: peer.has(capability::ROUTE_REFRESH),
        enhanced_route_refresh: cfg.route_refresh && peer.has(capability::ENHANCED_ROUTE_REFRESH),
        extended_next_hop: cfg.extended_next_hop
            && cfg.families.contains(&Family::IPV4_UNICAST)
            && peer_has(&Family::IPV4_UNICAST)
            && peer.capabilities.iter().any(|c| match c {
                Capability::ExtendedNextHop(list) => {
                    list.iter().any(|&(f, nh)| f == Family::IPV4_UNICAST && nh == crate::wire::AFI_IPV6)
                }
                _ => false,
            }),
        ebgp,
        peer_open: peer.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> SessionConfig {
        let mut c = SessionConfig::new(4200000001, Ipv4Addr::new(0, 0, 0, 1), Some(4200000002));
        c.hold_time = 6;
        c.keepalive = Duration::from_secs(3);
        c.add_path = vec![(Family::IPV4_UNICAST, AddPathDirection::Receive)];
        c
    }

    fn peer() -> Open {
        let mut c = cfg();
        c.local_asn = 4200000002;
        c.local_id = Ipv4Addr::new(0, 0, 0, 2);
        local_open(&c)
    }

    #[test]
    fn the_reference_open_is_what_tern_sends() {
        let open = local_open(&cfg());
        assert_eq!(open.my_as, 23456);
        assert_eq!(open.hold_time, 6);
        assert_eq!(
            &open.capabilities[..4],
            &[
                Capability::Multiprotocol(Family::IPV4_UNICAST),
                Capability::RouteRefresh,
                Capability::FourOctetAs(4200000001),
                Capability::AddPath(vec![(Family::IPV4_UNICAST, AddPathDirection::Receive)]),
            ]
        );
    }

    #[test]
    fn negotiates_the_reference_session() {
        let n = negotiate(&cfg(), &peer()).unwrap();
        assert_eq!(n.peer_asn, 4200000002);
        assert_eq!((n.hold_time, n.keepalive), (6, Some(Duration::from_secs(3))));
        assert!(n.four_octet_as && n.route_refresh && n.ebgp);
        // Both only receive: neither direction carries path identifiers.
        assert!(n.add_path_rx.is_empty() && n.add_path_tx.is_empty());
        assert_eq!(n.families, [Family::IPV4_UNICAST]);
    }

    #[test]
    fn add_path_needs_a_sender_and_a_receiver() {
        let mut mine = cfg();
        mine.add_path = vec![(Family::IPV4_UNICAST, AddPathDirection::Both)];
        let mut theirs = peer();
        theirs.capabilities.retain(|c| !matches!(c, Capability::AddPath(_)));
        theirs.capabilities.push(Capability::AddPath(vec![(Family::IPV4_UNICAST, AddPathDirection::Send)]));
        let n = negotiate(&mine, &theirs).unwrap();
        assert!(n.add_path_rx.contains(Family::IPV4_UNICAST));
        assert!(!n.add_path_tx.contains(Family::IPV4_UNICAST));
    }

    #[test]
    fn lower_peer_hold_time_scales_keepalive() {
        let mut c = cfg();
        c.hold_time = 90;
        c.keepalive = Duration::from_secs(30);
        let n = negotiate(&c, &peer()).unwrap();
        assert_eq!((n.hold_time, n.keepalive), (6, Some(Duration::from_secs(2))));
        let mut zero = peer();
        zero.hold_time = 0;
        assert_eq!(negotiate(&c, &zero).unwrap().keepalive, None);
    }

    #[test]
    fn refusals_carry_the_rfc_subcodes() {
        let sub = |open: Open| negotiate(&cfg(), &open).unwrap_err();
        let mut o = peer();
        o.version = 3;
        assert_eq!((sub(o.clone()).subcode, sub(o).data), (UNSUPPORTED_VERSION_NUMBER, vec![0, 4]));
        let mut o = peer();
        o.hold_time = 2;
        assert_eq!(sub(o).subcode, UNACCEPTABLE_HOLD_TIME);
        let mut o = peer();
        o.capabilities.retain(|c| !matches!(c, Capability::FourOctetAs(_)));
        o.capabilities.push(Capability::FourOctetAs(65001));
        assert_eq!(sub(o).subcode, BAD_PEER_AS);
        let mut o = peer();
        o.bgp_id = Ipv4Addr::UNSPECIFIED;
        assert_eq!(sub(o).subcode, BAD_BGP_IDENTIFIER);
        let mut o = peer();
        o.other_params.push((1, vec![0]));
        assert_eq!(sub(o).subcode, UNSUPPORTED_OPTIONAL_PARAMETER);
        let mut o = peer();
        o.capabilities = vec![Capability::Multiprotocol(Family::IPV6_UNICAST), Capability::FourOctetAs(4200000002)];
        assert_eq!(sub(o).subcode, UNSUPPORTED_CAPABILITY);
    }

    #[test]
    fn same_identifier_is_refused_only_inside_one_as() {
        let mut ibgp = cfg();
        ibgp.remote_asn = Some(4200000001);
        let mut o = local_open(&ibgp);
        o.bgp_id = ibgp.local_id;
        assert_eq!(negotiate(&ibgp, &o).unwrap_err().subcode, BAD_BGP_IDENTIFIER);
        let mut o = peer();
        o.bgp_id = cfg().local_id;
        assert!(negotiate(&cfg(), &o).is_ok());
    }

    #[test]
    fn a_peer_without_multiprotocol_speaks_ipv4_unicast() {
        let mut o = peer();
        o.capabilities.retain(|c| !matches!(c, Capability::Multiprotocol(_)));
        assert_eq!(negotiate(&cfg(), &o).unwrap().families, [Family::IPV4_UNICAST]);
    }
}
