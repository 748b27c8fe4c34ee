//! NOTIFICATION messages (RFC 4271 §4.5) and the IANA registry of error codes and subcodes.
//!
//! Codes and subcodes are kept as the raw octets so that any value a peer sends survives a
//! decode/encode round trip; the named constants and [`describe`] cover every entry of the
//! IANA "BGP Error (Notification) Codes" and subcode registries: RFC 4271, RFC 4486 / RFC 9003
//! (Cease subcodes and the shutdown communication), RFC 5492 (Unsupported Capability),
//! RFC 6608 (FSM errors), RFC 7313 (ROUTE-REFRESH errors), RFC 8538 (Hard Reset), RFC 9234
//! (Role Mismatch), RFC 9384 (BFD Down) and RFC 9687 (Send Hold Timer Expired).

use super::error::DecodeError;

pub const MESSAGE_HEADER_ERROR: u8 = 1;
pub const OPEN_MESSAGE_ERROR: u8 = 2;
pub const UPDATE_MESSAGE_ERROR: u8 = 3;
pub const HOLD_TIMER_EXPIRED: u8 = 4;
pub const FSM_ERROR: u8 = 5;
pub const CEASE: u8 = 6;
pub const ROUTE_REFRESH_MESSAGE_ERROR: u8 = 7;
pub const SEND_HOLD_TIMER_EXPIRED: u8 = 8;

/// Subcode 0 of any code: no specific subcode.
pub const UNSPECIFIC: u8 = 0;

// Message Header Error subcodes.
pub const CONNECTION_NOT_SYNCHRONIZED: u8 = 1;
pub const BAD_MESSAGE_LENGTH: u8 = 2;
pub const BAD_MESSAGE_TYPE: u8 = 3;

// OPEN Message Error subcodes.
pub const UNSUPPORTED_VERSION_NUMBER: u8 = 1;
pub const BAD_PEER_AS: u8 = 2;
pub const BAD_BGP_IDENTIFIER: u8 = 3;
pub const UNSUPPORTED_OPTIONAL_PARAMETER: u8 = 4;
pub const UNACCEPTABLE_HOLD_TIME: u8 = 6;
pub const UNSUPPORTED_CAPABILITY: u8 = 7;
pub const ROLE_MISMATCH: u8 = 11;

// UPDATE Message Error subcodes.
pub const MALFORMED_ATTRIBUTE_LIST: u8 = 1;
pub const UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: u8 = 2;
pub const MISSING_WELL_KNOWN_ATTRIBUTE: u8 = 3;
pub const ATTRIBUTE_FLAGS_ERROR: u8 = 4;
pub const ATTRIBUTE_LENGTH_ERROR: u8 = 5;
pub const INVALID_ORIGIN_ATTRIBUTE: u8 = 6;
pub const INVALID_NEXT_HOP_ATTRIBUTE: u8 = 8;
pub const OPTIONAL_ATTRIBUTE_ERROR: u8 = 9;
pub const INVALID_NETWORK_FIELD: u8 = 10;
pub const MALFORMED_AS_PATH: u8 = 11;

// FSM Error subcodes (RFC 6608).
pub const FSM_UNEXPECTED_IN_OPENSENT: u8 = 1;
pub const FSM_UNEXPECTED_IN_OPENCONFIRM: u8 = 2;
pub const FSM_UNEXPECTED_IN_ESTABLISHED: u8 = 3;

// Cease subcodes (RFC 4486, RFC 8538, RFC 9384).
pub const CEASE_MAX_PREFIXES: u8 = 1;
pub const CEASE_ADMIN_SHUTDOWN: u8 = 2;
pub const CEASE_PEER_DECONFIGURED: u8 = 3;
pub const CEASE_ADMIN_RESET: u8 = 4;
pub const CEASE_CONNECTION_REJECTED: u8 = 5;
pub const CEASE_OTHER_CONFIG_CHANGE: u8 = 6;
pub const CEASE_CONNECTION_COLLISION: u8 = 7;
pub const CEASE_OUT_OF_RESOURCES: u8 = 8;
pub const CEASE_HARD_RESET: u8 = 9;
pub const CEASE_BFD_DOWN: u8 = 10;

// ROUTE-REFRESH Message Error subcodes (RFC 7313).
pub const INVALID_MESSAGE_LENGTH: u8 = 1;

/// Longest shutdown communication (RFC 9003 §2).
pub const MAX_SHUTDOWN_MESSAGE: usize = 255;

/// The names of a code and subcode, as the IANA registry spells them.
pub fn describe(code: u8, subcode: u8) -> String {
    let (c, s) = names(code, subcode);
    match s {
        Some(s) => format!("{c} / {s}"),
        None if subcode == UNSPECIFIC => c.to_string(),
        None => format!("{c} / subcode {subcode}"),
    }
}

/// Registry names: the code's, and the subcode's when it is assigned.
pub fn names(code: u8, subcode: u8) -> (&'static str, Option<&'static str>) {
    let code_name = match code {
        MESSAGE_HEADER_ERROR => "Message Header Error",
        OPEN_MESSAGE_ERROR => "OPEN Message Error",
        UPDATE_MESSAGE_ERROR => "UPDATE Message Error",
        HOLD_TIMER_EXPIRED => "Hold Timer Expired",
        FSM_ERROR => "Finite State Machine Error",
        CEASE => "Cease",
        ROUTE_REFRESH_MESSAGE_ERROR => "ROUTE-REFRESH Message Error",
        SEND_HOLD_TIMER_EXPIRED => "Send Hold Timer Expired",
        _ => "Unknown error code",
    };
    let sub = match (code, subcode) {
        (MESSAGE_HEADER_ERROR, 1) => "Connection Not Synchronized",
        (MESSAGE_HEADER_ERROR, 2) => "Bad Message Length",
        (MESSAGE_HEADER_ERROR, 3) => "Bad Message Type",
        (OPEN_MESSAGE_ERROR, 1) => "Unsupported Version Number",
        (OPEN_MESSAGE_ERROR, 2) => "Bad Peer AS",
        (OPEN_MESSAGE_ERROR, 3) => "Bad BGP Identifier",
        (OPEN_MESSAGE_ERROR, 4) => "Unsupported Optional Parameter",
        (OPEN_MESSAGE_ERROR, 5) => "Authentication Failure (deprecated)",
        (OPEN_MESSAGE_ERROR, 6) => "Unacceptable Hold Time",
        (OPEN_MESSAGE_ERROR, 7) => "Unsupported Capability",
        (OPEN_MESSAGE_ERROR, 8) => "Deprecated (8)",
        (OPEN_MESSAGE_ERROR, 9) => "Deprecated (9)",
        (OPEN_MESSAGE_ERROR, 10) => "Deprecated (10)",
        (OPEN_MESSAGE_ERROR, 11) => "Role Mismatch",
        (UPDATE_MESSAGE_ERROR, 1) => "Malformed Attribute List",
        (UPDATE_MESSAGE_ERROR, 2) => "Unrecognized Well-known Attribute",
        (UPDATE_MESSAGE_ERROR, 3) => "Missing Well-known Attribute",
        (UPDATE_MESSAGE_ERROR, 4) => "Attribute Flags Error",
        (UPDATE_MESSAGE_ERROR, 5) => "Attribute Length Error",
        (UPDATE_MESSAGE_ERROR, 6) => "Invalid ORIGIN Attribute",
        (UPDATE_MESSAGE_ERROR, 7) => "AS Routing Loop (deprecated)",
        (UPDATE_MESSAGE_ERROR, 8) => "Invalid NEXT_HOP Attribute",
        (UPDATE_MESSAGE_ERROR, 9) => "Optional Attribute Error",
        (UPDATE_MESSAGE_ERROR, 10) => "Invalid Network Field",
        (UPDATE_MESSAGE_ERROR, 11) => "Malformed AS_PATH",
        (FSM_ERROR, 1) => "Receive Unexpected Message in OpenSent State",
        (FSM_ERROR, 2) => "Receive Unexpected Message in OpenConfirm State",
        (FSM_ERROR, 3) => "Receive Unexpected Message in Established State",
        (CEASE, 1) => "Maximum Number of Prefixes Reached",
        (CEASE, 2) => "Administrative Shutdown",
        (CEASE, 3) => "Peer De-configured",
        (CEASE, 4) => "Administrative Reset",
        (CEASE, 5) => "Connection Rejected",
        (CEASE, 6) => "Other Configuration Change",
        (CEASE, 7) => "Connection Collision Resolution",
        (CEASE, 8) => "Out of Resources",
        (CEASE, 9) => "Hard Reset",
        (CEASE, 10) => "BFD Down",
        (ROUTE_REFRESH_MESSAGE_ERROR, 1) => "Invalid Message Length",
        _ => return (code_name, None),
    };
    (code_name, Some(sub))
}

/// A NOTIFICATION: error code, subcode and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub code: u8,
    pub subcode: u8,
    pub data: Vec<u8>,
}

impl Notification {
    pub fn new(code: u8, subcode: u8, data: Vec<u8>) -> Notification {
        Notification { code, subcode, data }
    }

    /// A Cease. For Administrative Shutdown and Administrative Reset a `message` becomes the
    /// RFC 9003 shutdown communication (cut at a character boundary to 255 octets); other
    /// subcodes carry no text.
    pub fn cease(subcode: u8, message: Option<&str>) -> Notification {
        let mut data = Vec::new();
        if let (Some(text), CEASE_ADMIN_SHUTDOWN | CEASE_ADMIN_RESET) = (message, subcode) {
            let mut end = text.len().min(MAX_SHUTDOWN_MESSAGE);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            data.push(end as u8);
            data.extend_from_slice(&text.as_bytes()[..end]);
        }
        Notification { code: CEASE, subcode, data }
    }

    /// Cease / Maximum Number of Prefixes Reached with the RFC 4486 §4 data: AFI, SAFI and
    /// the configured upper bound.
    pub fn max_prefixes(family: super::Family, limit: u32) -> Notification {
        let mut data = Vec::with_capacity(7);
        data.extend_from_slice(&family.afi.to_be_bytes());
        data.push(family.safi);
        data.extend_from_slice(&limit.to_be_bytes());
        Notification { code: CEASE, subcode: CEASE_MAX_PREFIXES, data }
    }

    /// The RFC 9003 shutdown communication, when this is an Administrative Shutdown or Reset
    /// that carries a well-formed one. Malformed text is reported as absent, never an error.
    pub fn shutdown_message(&self) -> Option<String> {
        if self.code != CEASE || !matches!(self.subcode, CEASE_ADMIN_SHUTDOWN | CEASE_ADMIN_RESET) {
            return None;
        }
        let (&len, text) = self.data.split_first()?;
        let text = text.get(..usize::from(len))?;
        std::str::from_utf8(text).ok().map(str::to_owned)
    }

    pub(crate) fn decode_body(body: &[u8]) -> Result<Notification, DecodeError> {
        match body {
            [code, subcode, data @ ..] => Ok(Notification { code: *code, subcode: *subcode, data: data.to_vec() }),
            _ => Err(DecodeError::bad_length(body.len() + super::HEADER_LEN)),
        }
    }

    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) {
        out.push(self.code);
        out.push(self.subcode);
        out.extend_from_slice(&self.data);
    }
}

impl std::fmt::Display for Notification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}/{})", describe(self.code, self.subcode), self.code, self.subcode)?;
        if let Some(text) = self.shutdown_message() {
            write!(f, " \"{}\"", text.escape_debug())?;
        } else if !self.data.is_empty() {
            write!(f, " data ")?;
            for b in &self.data {
                write!(f, "{b:02x}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registry_entry_has_a_name() {
        let assigned: &[(u8, &[u8])] = &[
            (1, &[1, 2, 3]),
            (2, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
            (3, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
            (5, &[1, 2, 3]),
            (6, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
            (7, &[1]),
        ];
        for &(code, subs) in assigned {
            for &s in subs {
                assert!(names(code, s).1.is_some(), "{code}/{s}");
            }
            assert!(names(code, 200).1.is_none());
        }
        for code in 1..=8 {
            assert_ne!(names(code, 0).0, "Unknown error code");
        }
        assert_eq!(describe(6, 7), "Cease / Connection Collision Resolution");
        assert_eq!(describe(4, 0), "Hold Timer Expired");
        assert_eq!(describe(9, 1), "Unknown error code / subcode 1");
    }

    #[test]
    fn shutdown_communication_round_trips_and_is_cut_on_a_char_boundary() {
        let n = Notification::cease(CEASE_ADMIN_SHUTDOWN, Some("maintenance until 14:00"));
        assert_eq!(n.data[0] as usize, "maintenance until 14:00".len());
        assert_eq!(n.shutdown_message().as_deref(), Some("maintenance until 14:00"));
        let long = "é".repeat(200); // 400 octets
        let n = Notification::cease(CEASE_ADMIN_RESET, Some(&long));
        assert_eq!(n.data[0], 254);
        assert_eq!(n.shutdown_message().unwrap().chars().count(), 127);
        let n = Notification::cease(CEASE_CONNECTION_COLLISION, Some("ignored"));
        assert!(n.data.is_empty());
        // A length beyond the data, or invalid UTF-8, is no message at all.
        let bad = Notification::new(CEASE, CEASE_ADMIN_SHUTDOWN, vec![5, b'a']);
        assert_eq!(bad.shutdown_message(), None);
        let bad = Notification::new(CEASE, CEASE_ADMIN_SHUTDOWN, vec![1, 0xff]);
        assert_eq!(bad.shutdown_message(), None);
    }

    #[test]
    fn display_names_the_error() {
        let n = Notification::cease(CEASE_ADMIN_SHUTDOWN, Some("bye"));
        assert_eq!(n.to_string(), "Cease / Administrative Shutdown (6/2) \"bye\"");
        let n = Notification::max_prefixes(crate::wire::Family::IPV4_UNICAST, 1000);
        assert_eq!(n.data, [0, 1, 1, 0, 0, 3, 0xe8]);
    }
}
