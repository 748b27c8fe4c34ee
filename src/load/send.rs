//! The sending role: generate a table, encode it whole, set the session up, write the
//! UPDATEs as fast as the socket takes them, then End-of-RIB; keep the session up after.

use std::io::Write;
use std::time::{Duration, Instant};

use crossbeam_channel::{unbounded, RecvTimeoutError};

use super::args::{Mode, SendOptions};
use super::gen::{self, Batch};
use super::peer::{epoch_ms, Session};
use crate::wire::notification::CEASE;
use crate::wire::{Ctx, Family, Message, Update, UpdateEncoder};

/// Chunks handed to the socket under one lock (whole messages, at least this many octets).
const CHUNK: usize = 256 << 10;

/// A table encoded as one stream of UPDATEs.
pub struct Encoded {
    pub bytes: Vec<u8>,
    /// Ends of the write chunks, each at a message boundary; the last is `bytes.len()`.
    pub cuts: Vec<usize>,
    pub updates: usize,
    pub prefixes: usize,
    pub sets: usize,
    pub ctx: Ctx,
}

/// Encodes every batch with [`UpdateEncoder`] for a session with `ctx`.
pub fn encode(ctx: &Ctx, batches: &[Batch]) -> Encoded {
    let prefixes: usize = batches.iter().map(|(_, n)| n.len()).sum();
    // About 4 octets per /24 and under 60 per attribute set and UPDATE header.
    let mut bytes = Vec::with_capacity(prefixes * 4 + batches.len() * 64 + prefixes / 800 * 64);
    let mut cuts = Vec::new();
    let mut updates = 0;
    for (attrs, nlri) in batches {
        let enc = UpdateEncoder::new(ctx, Family::IPV4_UNICAST, attrs, None).expect("generated attributes fit");
        updates += enc.announce(nlri, &mut bytes);
        if bytes.len() - cuts.last().copied().unwrap_or(0) >= CHUNK {
            cuts.push(bytes.len());
        }
    }
    if cuts.last() != Some(&bytes.len()) {
        cuts.push(bytes.len());
    }
    Encoded { bytes, cuts, updates, prefixes, sets: batches.len(), ctx: *ctx }
}

/// What the sender measured.
#[derive(Debug, Clone, PartialEq)]
pub struct SendReport {
    pub mode: Mode,
    pub prefixes: usize,
    pub sets: usize,
    pub updates: usize,
    pub bytes: usize,
    pub first_ms: u64,
    pub last_ms: u64,
    pub elapsed: Duration,
}

impl SendReport {
    pub fn prefixes_per_s(&self) -> f64 {
        self.prefixes as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The machine-readable summary line.
    pub fn result_line(&self) -> String {
        format!(
            "RESULT role=send status=ok mode={} prefixes={} sets={} updates={} bytes={} prefixes_per_update={:.2} \
             first_ms={} last_ms={} elapsed_s={:.6} prefixes_per_s={:.0}",
            self.mode.name(),
            self.prefixes,
            self.sets,
            self.updates,
            self.bytes,
            self.prefixes as f64 / self.updates.max(1) as f64,
            self.first_ms,
            self.last_ms,
            self.elapsed.as_secs_f64(),
            self.prefixes_per_s()
        )
    }
}

/// Runs the sending role to the end; the report is printed to `out` as soon as the table
/// is written.
pub fn run(opts: &SendOptions, out: &mut dyn Write) -> anyhow::Result<SendReport> {
    let t = Instant::now();
    let batches = match opts.mode {
        Mode::Dense => gen::dense(&opts.table),
        Mode::Diverse => gen::diverse(&opts.table),
    };
    let mut ctx = Ctx::new();
    ctx.ebgp = opts.peer.asn != opts.peer.peer_asn;
    let mut encoded = encode(&ctx, &batches);
    writeln!(
        out,
        "generated and encoded {} prefixes, {} attribute sets, {} UPDATEs, {} octets in {:.2} s",
        encoded.prefixes,
        encoded.sets,
        encoded.updates,
        encoded.bytes.len(),
        t.elapsed().as_secs_f64()
    )?;

    let mut session = Session::establish(&opts.peer)?;
    super::print_established(out, "send", &session)?;
    let tx_ctx = session.negotiated.tx_ctx();
    if tx_ctx != encoded.ctx {
        encoded = encode(&tx_ctx, &batches);
        writeln!(out, "encoded again for the negotiated session: {} UPDATEs", encoded.updates)?;
    }
    drop(batches);

    // Whatever the target sends (keepalives, maybe routes) is read and dropped; the end of
    // the session ends the run: normally after a Cease, with an error otherwise.
    let (ended_tx, ended) = unbounded::<Result<String, String>>();
    let mut reader = session.take_reader();
    let hold = session.hold();
    std::thread::Builder::new().name("tern-load-rx".into()).spawn(move || {
        let mut heard = Instant::now();
        let why = loop {
            match reader.poll() {
                Ok(Some(d)) => {
                    heard = Instant::now();
                    match d.message {
                        Message::Notification(n) if n.code == CEASE => break Ok(format!("the peer closed it: {n}")),
                        Message::Notification(n) => break Err(format!("the peer sent a NOTIFICATION: {n}")),
                        _ => {}
                    }
                }
                Ok(None) if hold.is_some_and(|h| heard.elapsed() > h) => break Err("hold timer expired".to_string()),
                Ok(None) => {}
                Err(e) => break Err(format!("{e:#}")),
            }
        };
        let _ = ended_tx.send(why);
    })?;

    let (first_ms, start) = (epoch_ms(), Instant::now());
    session.write_chunks(&encoded.bytes, &encoded.cuts)?;
    let (elapsed, last_ms) = (start.elapsed(), epoch_ms());
    session.write(&Message::Update(Update::end_of_rib(Family::IPV4_UNICAST)))?;
    let report = SendReport {
        mode: opts.mode,
        prefixes: encoded.prefixes,
        sets: encoded.sets,
        updates: encoded.updates,
        bytes: encoded.bytes.len(),
        first_ms,
        last_ms,
        elapsed,
    };
    writeln!(
        out,
        "sent {} prefixes in {} UPDATEs ({:.1} prefixes per UPDATE, {:.1} MB) to {} in {:.3} s: {:.0} prefixes/s, \
         then End-of-RIB",
        report.prefixes,
        report.updates,
        report.prefixes as f64 / report.updates.max(1) as f64,
        report.bytes as f64 / 1e6,
        session.peer,
        elapsed.as_secs_f64(),
        report.prefixes_per_s()
    )?;
    writeln!(out, "{}", report.result_line())?;
    out.flush()?;

    let waited = match opts.keep {
        Some(keep) => ended.recv_timeout(keep),
        None => ended.recv().map_err(|_| RecvTimeoutError::Disconnected),
    };
    match waited {
        Ok(Ok(why)) => writeln!(out, "session ended: {why}")?,
        Ok(Err(why)) => anyhow::bail!("the session ended after the table was sent: {why}"),
        Err(_) => session.close("tern-load: done"),
    }
    Ok(report)
}
