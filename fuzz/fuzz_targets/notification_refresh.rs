//! NOTIFICATION and ROUTE-REFRESH bodies: the low bit of the first octet chooses the type
//! (0: NOTIFICATION, 1: ROUTE-REFRESH), the rest goes behind a valid header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern::wire::{Ctx, MessageType, MAX_MESSAGE_LEN};

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    let kind = if which & 1 == 0 { MessageType::Notification } else { MessageType::RouteRefresh };
    let msg = tern_fuzz::with_header(kind as u8, body, MAX_MESSAGE_LEN);
    if let Some(decoded) = tern_fuzz::decode_and_check(&msg, &Ctx::new()) {
        if let tern::wire::Message::Notification(n) = &decoded.message {
            let _ = n.shutdown_message();
        }
    }
});
