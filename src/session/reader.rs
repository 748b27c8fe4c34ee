//! The reader thread of one connection: reads the byte stream, frames it into messages,
//! decodes them and hands them to the runner, until EOF or the first error.
//!
//! Decoding needs what the session negotiated (4-octet AS, ADD-PATH, extended messages).
//! The reader learns it the same way the FSM does: when the peer's OPEN arrives it runs the
//! pure negotiation against the session's configuration, so the UPDATEs that follow are
//! decoded with the right context without a round trip through the runner.

use std::io::{self, Read};

use crossbeam_channel::Sender;

use crate::channels::{ReadEvent, RunnerMsg};
use crate::fsm::{negotiate, ConnId, SessionConfig};
use crate::wire::{self, header, Ctx, Message};

const READ_CHUNK: usize = 64 * 1024;

pub fn run(conn: ConnId, mut stream: Box<dyn Read + Send>, cfg: SessionConfig, tx: Sender<RunnerMsg>) {
    let send = |event| tx.send(RunnerMsg::Read { conn, event }).is_ok();
    let mut ctx = Ctx::pre_open();
    let mut buf: Vec<u8> = Vec::with_capacity(2 * READ_CHUNK);
    let mut chunk = vec![0u8; READ_CHUNK];
    loop {
        let mut start = 0;
        loop {
            let len = match header::frame(&buf[start..], ctx.max_message_len()) {
                Ok(Some(len)) => len,
                Ok(None) => break,
                Err(e) => {
                    send(ReadEvent::Error(e));
                    return;
                }
            };
            match wire::decode_message(&buf[start..start + len], &ctx) {
                Ok(decoded) => {
                    if let Message::Open(open) = &decoded.message {
                        if let Ok(n) = negotiate(&cfg, open) {
                            ctx = n.rx_ctx();
                        }
                    }
                    if !send(ReadEvent::Message(Box::new(decoded))) {
                        return;
                    }
                }
                Err(e) => {
                    send(ReadEvent::Error(e));
                    return;
                }
            }
            start += len;
        }
        buf.drain(..start);
        match stream.read(&mut chunk) {
            Ok(0) => {
                send(ReadEvent::Closed(None));
                return;
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                send(ReadEvent::Closed(Some(e)));
                return;
            }
        }
    }
}
