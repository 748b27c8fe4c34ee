//! The receiving role: set the session up, decode everything the target sends, and note
//! when the first prefix and the N-th distinct one arrived.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::bail;

use super::args::ReceiveOptions;
use super::count::Counters;
use super::peer::{epoch_ms, Session};
use crate::wire::Message;

/// What the receiver measured.
pub struct ReceiveReport {
    pub expect: usize,
    /// The count was reached before the timeout.
    pub complete: bool,
    pub counters: Counters,
    pub first_ms: Option<u64>,
    pub last_ms: Option<u64>,
    /// From the first prefix to the N-th (or to the timeout).
    pub elapsed: Duration,
}

impl ReceiveReport {
    pub fn prefixes_per_s(&self) -> f64 {
        self.counters.prefixes.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The machine-readable summary line.
    pub fn result_line(&self) -> String {
        let ms = |t: Option<u64>| t.map_or("none".to_string(), |t| t.to_string());
        let c = &self.counters;
        format!(
            "RESULT role=receive status={} expect={} prefixes={} updates={} announcing_updates={} announced={} \
             withdrawn={} prefixes_per_update={:.2} first_ms={} last_ms={} elapsed_s={:.6} prefixes_per_s={:.0} \
             end_of_rib={}",
            if self.complete { "ok" } else { "timeout" },
            self.expect,
            c.prefixes.len(),
            c.updates,
            c.announcing_updates,
            c.announced,
            c.withdrawn,
            c.prefixes_per_update(),
            ms(self.first_ms),
            ms(self.last_ms),
            self.elapsed.as_secs_f64(),
            self.prefixes_per_s(),
            if c.end_of_rib { "yes" } else { "no" }
        )
    }
}

/// Runs the receiving role to the end; the report is printed to `out` as soon as the count
/// is reached (or the timeout passes).
pub fn run(opts: &ReceiveOptions, out: &mut dyn Write) -> anyhow::Result<ReceiveReport> {
    let deadline = Instant::now() + opts.peer.timeout;
    let mut session = Session::establish(&opts.peer)?;
    super::print_established(out, "receive", &session)?;
    out.flush()?;
    let hold = session.hold();
    let mut c = Counters::new();
    let mut first: Option<(u64, Instant)> = None;
    let mut heard = Instant::now();
    let mut last = None;
    while last.is_none() && Instant::now() < deadline {
        let Some(decoded) = session.reader().poll()? else {
            if hold.is_some_and(|h| heard.elapsed() > h) {
                bail!("hold timer expired: nothing from the peer for {} s", hold.unwrap_or_default().as_secs());
            }
            continue;
        };
        heard = Instant::now();
        match decoded.message {
            Message::Update(u) => {
                c.update(&u);
                if first.is_none() && c.announced > 0 {
                    first = Some((epoch_ms(), Instant::now()));
                    writeln!(out, "FIRST role=receive first_ms={}", first.map_or(0, |f| f.0))?;
                    out.flush()?;
                }
                if c.prefixes.len() >= opts.expect {
                    last = Some((epoch_ms(), Instant::now()));
                }
            }
            Message::Notification(n) => bail!("the peer sent a NOTIFICATION: {n}"),
            _ => {}
        }
    }
    let elapsed = match (first, last) {
        (Some((_, f)), Some((_, l))) => l - f,
        (Some((_, f)), None) => f.elapsed(),
        _ => Duration::ZERO,
    };
    let report = ReceiveReport {
        expect: opts.expect,
        complete: last.is_some(),
        first_ms: first.map(|f| f.0),
        last_ms: last.map(|l| l.0),
        elapsed,
        counters: c,
    };
    let c = &report.counters;
    if report.complete {
        writeln!(
            out,
            "received {} distinct prefixes from {} in {} UPDATEs ({} announced, {:.1} per UPDATE, {} withdrawn); \
             the first to the last took {:.3} s: {:.0} prefixes/s",
            c.prefixes.len(),
            session.peer,
            c.updates,
            c.announced,
            c.prefixes_per_update(),
            c.withdrawn,
            elapsed.as_secs_f64(),
            report.prefixes_per_s()
        )?;
    } else {
        writeln!(
            out,
            "timed out with {} of {} distinct prefixes ({} UPDATEs, {} announced, {} withdrawn)",
            c.prefixes.len(),
            opts.expect,
            c.updates,
            c.announced,
            c.withdrawn
        )?;
    }
    writeln!(out, "{}", report.result_line())?;
    out.flush()?;

    // Keep the session up, still reading, so that the target does not see it go at once.
    let until = Instant::now() + opts.keep;
    while report.complete && Instant::now() < until {
        if let Some(d) = session.reader().poll()? {
            if let Message::Notification(n) = d.message {
                bail!("the peer sent a NOTIFICATION: {n}");
            }
        }
    }
    session.close("tern-load: done");
    Ok(report)
}
