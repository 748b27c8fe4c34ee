//! A byte stream as a session receives it: frame and decode messages one after the other
//! until the stream runs out or a header is bad. The first octet chooses the context.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern::wire::header::frame;
use tern::wire::HEADER_LEN;

fuzz_target!(|data: &[u8]| {
    let Some((&ctx, mut stream)) = data.split_first() else { return };
    let ctx = tern_fuzz::ctx_from_byte(ctx);
    loop {
        match frame(stream, ctx.max_message_len()) {
            Ok(Some(len)) => {
                assert!((HEADER_LEN..=stream.len()).contains(&len), "frame returned {len} for {} octets", stream.len());
                let (msg, rest) = stream.split_at(len);
                // A message that frames may still fail to decode; the session would close then.
                if tern_fuzz::decode_and_check(msg, &ctx).is_none() {
                    break;
                }
                stream = rest;
            }
            Ok(None) => {
                assert!(stream.len() < ctx.max_message_len(), "frame waits with a whole maximum message buffered");
                break;
            }
            Err(_) => break,
        }
    }
});
