//! Decode errors and the RFC 7606 outcomes.
//!
//! A [`DecodeError`] is the NOTIFICATION the session sends before closing: its code,
//! subcode and data follow RFC 4271 §6 (and RFC 7606 where it revises them), and `reason`
//! says in words what was wrong, for the log. Everything RFC 7606 lets a speaker repair
//! without a reset is an [`AttrFault`] instead: the attribute, what was wrong with it, and
//! the [`AttrAction`] that was applied.

use super::notification::{self, Notification};

/// A message that cannot be accepted: the session must send this NOTIFICATION and close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub code: u8,
    pub subcode: u8,
    pub data: Vec<u8>,
    /// What was wrong, for logs; not sent on the wire.
    pub reason: &'static str,
}

impl DecodeError {
    pub fn new(code: u8, subcode: u8, data: Vec<u8>, reason: &'static str) -> DecodeError {
        DecodeError { code, subcode, data, reason }
    }

    /// Message Header Error / Bad Message Length, with the offending length as data.
    pub fn bad_length(len: usize) -> DecodeError {
        let data = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes().to_vec();
        DecodeError::new(
            notification::MESSAGE_HEADER_ERROR,
            notification::BAD_MESSAGE_LENGTH,
            data,
            "bad message length",
        )
    }

    pub fn open(subcode: u8, reason: &'static str) -> DecodeError {
        DecodeError::new(notification::OPEN_MESSAGE_ERROR, subcode, Vec::new(), reason)
    }

    pub fn update(subcode: u8, data: Vec<u8>, reason: &'static str) -> DecodeError {
        DecodeError::new(notification::UPDATE_MESSAGE_ERROR, subcode, data, reason)
    }

    /// UPDATE Message Error / Malformed Attribute List.
    pub fn malformed_attribute_list(reason: &'static str) -> DecodeError {
        DecodeError::update(notification::MALFORMED_ATTRIBUTE_LIST, Vec::new(), reason)
    }

    /// The NOTIFICATION to send.
    pub fn notification(&self) -> Notification {
        Notification { code: self.code, subcode: self.subcode, data: self.data.clone() }
    }
}

impl From<DecodeError> for Notification {
    fn from(e: DecodeError) -> Notification {
        Notification { code: e.code, subcode: e.subcode, data: e.data }
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.reason, notification::describe(self.code, self.subcode))
    }
}

impl std::error::Error for DecodeError {}

/// What RFC 7606 says to do with a malformed attribute that does not reset the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrAction {
    /// The UPDATE's reachable NLRI are handled as withdrawn (RFC 7606 §2).
    TreatAsWithdraw,
    /// The attribute is dropped and the UPDATE processed without it (RFC 7606 §2).
    Discard,
}

/// One repaired malformation: which attribute, what was wrong, what was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrFault {
    /// Attribute type code (0 when the fault concerns the attribute list as a whole).
    pub type_code: u8,
    pub action: AttrAction,
    /// The UPDATE Message Error subcode RFC 4271 would have sent for it.
    pub subcode: u8,
    pub reason: &'static str,
}

impl std::fmt::Display for AttrFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let action = match self.action {
            AttrAction::TreatAsWithdraw => "treat-as-withdraw",
            AttrAction::Discard => "attribute discarded",
        };
        write!(f, "attribute {}: {} ({})", self.type_code, self.reason, action)
    }
}

/// A message that does not fit the negotiated maximum length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeError {
    pub len: usize,
    pub max: usize,
}

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "message of {} octets exceeds the maximum of {}", self.len, self.max)
    }
}

impl std::error::Error for EncodeError {}
