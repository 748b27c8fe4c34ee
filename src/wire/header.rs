//! The message header (RFC 4271 §4.1): 16-octet marker of all ones, 2-octet length,
//! 1-octet type; and framing of a byte stream into messages.
//!
//! Length limits: 19 octets at least, at most 4096 or, with extended messages negotiated,
//! 65535 (RFC 8654). Per-type minimum lengths are checked here too, so that a body decoder
//! can rely on its fixed part being present.

use super::error::{DecodeError, EncodeError};
use super::notification::{BAD_MESSAGE_TYPE, CONNECTION_NOT_SYNCHRONIZED, MESSAGE_HEADER_ERROR};
use super::HEADER_LEN;

pub const MARKER: [u8; 16] = [0xff; 16];
const LENGTH_OFFSET: usize = 16;
const TYPE_OFFSET: usize = 18;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MessageType {
    Open = 1,
    Update = 2,
    Notification = 3,
    Keepalive = 4,
    RouteRefresh = 5,
}

impl MessageType {
    pub fn from_u8(v: u8) -> Option<MessageType> {
        Some(match v {
            1 => MessageType::Open,
            2 => MessageType::Update,
            3 => MessageType::Notification,
            4 => MessageType::Keepalive,
            5 => MessageType::RouteRefresh,
            _ => return None,
        })
    }

    /// Smallest valid length of a whole message of this type (RFC 4271 §4.2-4.5, RFC 2918).
    pub fn min_len(self) -> usize {
        match self {
            MessageType::Open => 29,
            MessageType::Update => 23,
            MessageType::Notification => 21,
            MessageType::Keepalive => 19,
            // 23 really, but a 22-octet BoRR/EoRR must reach the body decoder: it has its
            // subtype and calls for ROUTE-REFRESH Message Error, not Bad Message Length
            // (RFC 7313 §5). The body decoder checks the length.
            MessageType::RouteRefresh => 22,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            MessageType::Open => "open",
            MessageType::Update => "update",
            MessageType::Notification => "notification",
            MessageType::Keepalive => "keepalive",
            MessageType::RouteRefresh => "route-refresh",
        }
    }
}

/// Checks the header at the start of `buf` (at least [`HEADER_LEN`] octets) and returns the
/// message type and the whole message's length.
pub fn parse(buf: &[u8], max_len: usize) -> Result<(MessageType, usize), DecodeError> {
    let Some(header) = buf.get(..HEADER_LEN) else {
        return Err(DecodeError::bad_length(buf.len()));
    };
    if header[..LENGTH_OFFSET] != MARKER {
        return Err(DecodeError::new(
            MESSAGE_HEADER_ERROR,
            CONNECTION_NOT_SYNCHRONIZED,
            Vec::new(),
            "marker is not all ones",
        ));
    }
    let len = usize::from(u16::from_be_bytes([header[LENGTH_OFFSET], header[LENGTH_OFFSET + 1]]));
    let type_code = header[TYPE_OFFSET];
    if !(HEADER_LEN..=max_len).contains(&len) {
        return Err(DecodeError::bad_length(len));
    }
    let kind = MessageType::from_u8(type_code).ok_or_else(|| {
        DecodeError::new(MESSAGE_HEADER_ERROR, BAD_MESSAGE_TYPE, vec![type_code], "unknown message type")
    })?;
    if len < kind.min_len() {
        return Err(DecodeError::bad_length(len));
    }
    Ok((kind, len))
}

/// Finds the first message in a stream buffer: `Ok(Some(len))` when a whole message of
/// `len` octets is at the start of `buf`, `Ok(None)` when more bytes are needed, and an
/// error as soon as the header is known to be bad (without waiting for the body).
pub fn frame(buf: &[u8], max_len: usize) -> Result<Option<usize>, DecodeError> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    let (_, len) = parse(buf, max_len)?;
    Ok((buf.len() >= len).then_some(len))
}

/// Starts a message at the end of `out`: writes marker and a placeholder length and type.
/// Returns the offset of the message's first octet, for [`finish`].
pub(crate) fn begin(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&MARKER);
    out.extend_from_slice(&[0, 0, 0]);
    start
}

/// Fills in length and type of the message begun at `start`, or removes it again when it
/// is longer than `max_len`.
pub(crate) fn finish(out: &mut Vec<u8>, start: usize, kind: MessageType, max_len: usize) -> Result<(), EncodeError> {
    let len = out.len() - start;
    if len > max_len {
        out.truncate(start);
        return Err(EncodeError { len, max: max_len });
    }
    out[start + LENGTH_OFFSET..start + TYPE_OFFSET].copy_from_slice(&(len as u16).to_be_bytes());
    out[start + TYPE_OFFSET] = kind as u8;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::notification::BAD_MESSAGE_LENGTH;

    fn header(len: u16, kind: u8) -> Vec<u8> {
        let mut v = MARKER.to_vec();
        v.extend_from_slice(&len.to_be_bytes());
        v.push(kind);
        v
    }

    #[test]
    fn frames_whole_messages_only() {
        let mut buf = header(19, 4);
        assert_eq!(frame(&buf[..18], 4096), Ok(None));
        assert_eq!(frame(&buf, 4096), Ok(Some(19)));
        buf.extend_from_slice(&header(19, 4)[..5]);
        assert_eq!(frame(&buf, 4096), Ok(Some(19)));
        let open = header(29, 1);
        assert_eq!(frame(&open, 4096), Ok(None));
    }

    #[test]
    fn header_errors_carry_the_rfc_data() {
        let mut bad_marker = header(19, 4);
        bad_marker[3] = 0;
        let e = parse(&bad_marker, 4096).unwrap_err();
        assert_eq!((e.code, e.subcode), (1, CONNECTION_NOT_SYNCHRONIZED));

        let e = parse(&header(18, 4), 4096).unwrap_err();
        assert_eq!((e.code, e.subcode, e.data.as_slice()), (1, BAD_MESSAGE_LENGTH, &[0, 18][..]));
        let e = parse(&header(4097, 2), 4096).unwrap_err();
        assert_eq!(e.data, [0x10, 0x01]);
        assert!(parse(&header(4097, 2), 65535).is_ok());
        // Below the minimum of its type: a 20-octet OPEN.
        let e = parse(&header(20, 1), 4096).unwrap_err();
        assert_eq!((e.subcode, e.data.as_slice()), (BAD_MESSAGE_LENGTH, &[0, 20][..]));

        let e = parse(&header(19, 9), 4096).unwrap_err();
        assert_eq!((e.subcode, e.data.as_slice()), (BAD_MESSAGE_TYPE, &[9][..]));
    }
}
