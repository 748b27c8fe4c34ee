//! UPDATE bodies: the first octet chooses the session context, the rest goes behind a valid
//! header of type 2, so that every input reaches the UPDATE, attribute and NLRI parsers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern::wire::MessageType;

fuzz_target!(|data: &[u8]| {
    let Some((&ctx, body)) = data.split_first() else { return };
    let ctx = tern_fuzz::ctx_from_byte(ctx);
    let msg = tern_fuzz::with_header(MessageType::Update as u8, body, ctx.max_message_len());
    tern_fuzz::decode_and_check(&msg, &ctx);
});
