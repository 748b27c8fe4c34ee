//! OPEN bodies: the input behind a valid header of type 1, so that every input reaches the
//! OPEN and capability parsers. OPEN is decoded before anything is negotiated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern::wire::{Ctx, MessageType, MAX_MESSAGE_LEN};

fuzz_target!(|data: &[u8]| {
    let msg = tern_fuzz::with_header(MessageType::Open as u8, data, MAX_MESSAGE_LEN);
    tern_fuzz::decode_and_check(&msg, &Ctx::pre_open());
});
