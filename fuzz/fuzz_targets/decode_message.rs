//! Any bytes as one whole message: the first octet chooses the session context (see
//! `tern_fuzz::ctx_from_byte`), the rest is the message, header included.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&ctx, msg)) = data.split_first() else { return };
    tern_fuzz::decode_and_check(msg, &tern_fuzz::ctx_from_byte(ctx));
});
