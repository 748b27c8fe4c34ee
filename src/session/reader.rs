//! The reader thread of one connection: reads the byte stream, frames it into messages,
//! decodes them and hands them to the runner, until EOF or the first error.
//!
//! Decoding needs what the session negotiated (4-octet AS, ADD-PATH, extended messages).
//! The reader learns it the same way the FSM does: when the peer's OPEN arrives it runs the
//! pure negotiation against the session's configuration, so the UPDATEs that follow are
//! decoded with the right context without a round trip through the runner.
//!
//! Once the session is up (the peer's OPEN and then a KEEPALIVE have been passed on), later
//! KEEPALIVEs are not sent to the runner one by one: the reader counts them in
//! [`Activity`], and the runner folds them into the FSM whenever it next wakes (at the
//! latest for its own keepalive timer, a third of the hold time). That halves the wake-ups
//! of an idle session, the main cost of a thousand idle peers.
//!
//! A batch that carries UPDATEs waits for a credit first ([`Credits`]): while the RIB is
//! behind, the reader stops reading and TCP flow control slows the peer down, instead of
//! decoded routes piling up in memory.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::channels::{Credits, Mailbox, ReadEvent, RunnerMsg};
use crate::clock::Epoch;
use crate::fsm::{negotiate, ConnId, SessionConfig};
use crate::session::status::LiveCounters;
use crate::wire::{self, header, Ctx, Message};

const READ_CHUNK: usize = 64 * 1024;

/// KEEPALIVEs the reader took in without passing them on.
#[derive(Debug, Default)]
pub struct Activity {
    pub keepalives: AtomicU64,
    /// When the last one arrived, in milliseconds of the router's [`Epoch`].
    pub last_ms: AtomicU64,
    /// The peer's counters, for `ternctl` (this connection's KEEPALIVEs and the clock's).
    pub counters: Arc<LiveCounters>,
}

pub fn run(
    conn: ConnId,
    mut stream: Box<dyn Read + Send>,
    cfg: SessionConfig,
    tx: Mailbox,
    activity: Arc<Activity>,
    epoch: Epoch,
    credits: Arc<Credits>,
) {
    // Woken by the network, like the runner by the clock: no need to preempt anyone.
    let _ = tern_platform::process::set_batch_scheduling();
    // A batch with UPDATEs waits for a credit: the RIB's pace becomes TCP's.
    let send = |events: Vec<ReadEvent>| {
        if events.is_empty() {
            return true;
        }
        let has_updates =
            events.iter().any(|e| matches!(e, ReadEvent::Message(d) if matches!(d.message, Message::Update(_))));
        let credit = has_updates.then(|| credits.acquire());
        tx.send(RunnerMsg::Read { conn, events, credit }).is_ok()
    };
    let mut ctx = Ctx::pre_open();
    // The peer's OPEN seen, and then the KEEPALIVE that completes the exchange.
    let (mut open_seen, mut up) = (false, false);
    let mut buf: Vec<u8> = Vec::with_capacity(2 * READ_CHUNK);
    let mut chunk = vec![0u8; READ_CHUNK];
    loop {
        // Every whole message of this read goes to the runner in one batch.
        let mut events = Vec::new();
        let mut start = 0;
        loop {
            let len = match header::frame(&buf[start..], ctx.max_message_len()) {
                Ok(Some(len)) => len,
                Ok(None) => break,
                Err(e) => {
                    events.push(ReadEvent::Error(e));
                    send(events);
                    return;
                }
            };
            match wire::decode_message(&buf[start..start + len], &ctx) {
                Ok(decoded) => {
                    start += len;
                    match &decoded.message {
                        Message::Open(open) => {
                            open_seen = true;
                            if let Ok(n) = negotiate(&cfg, open) {
                                ctx = n.rx_ctx();
                            }
                        }
                        Message::Keepalive if up => {
                            activity.last_ms.store(epoch.millis(Instant::now()), Ordering::Relaxed);
                            activity.keepalives.fetch_add(1, Ordering::Release);
                            activity.counters.keepalives_received.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        Message::Keepalive => up = open_seen,
                        _ => {}
                    }
                    events.push(ReadEvent::Message(Box::new(decoded)));
                }
                Err(e) => {
                    events.push(ReadEvent::Error(e));
                    send(events);
                    return;
                }
            }
        }
        if !send(events) {
            return;
        }
        buf.drain(..start);
        match stream.read(&mut chunk) {
            Ok(0) => {
                send(vec![ReadEvent::Closed(None)]);
                return;
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                send(vec![ReadEvent::Closed(Some(e))]);
                return;
            }
        }
    }
}
