//! Load generation and measurement: what `tern-load` and the full-table benchmark use to
//! push a table through a router and time it.
//!
//! A load peer is a plain BGP speaker built on tern's own codec and OPEN negotiation, with
//! none of the router around it: synchronous, one thread reading, a small keepalive thread,
//! and the calling thread writing.
//!
//! - [`gen`]: deterministic dense and diverse IPv4 tables (shared with `benches/codec.rs`).
//! - [`peer`]: TCP set-up, the OPEN/KEEPALIVE exchange, framing and decoding on a large
//!   buffer, keepalives between whole messages.
//! - [`send`]: encode everything first, then write as fast as the socket takes it.
//! - [`receive`]: count distinct prefixes ([`count`]) and time the first and the N-th.
//! - [`args`]: the command line of `tern-load`, with its help text.
//!
//! Timestamps meant for other processes are milliseconds since the Unix epoch; durations
//! within one process come from `Instant`.

pub mod args;
pub mod count;
pub mod gen;
pub mod peer;
pub mod receive;
pub mod send;

use std::io::Write;

/// Prints the `ESTABLISHED` line of a role.
fn print_established(out: &mut dyn Write, role: &str, s: &peer::Session) -> std::io::Result<()> {
    let n = &s.negotiated;
    writeln!(
        out,
        "ESTABLISHED role={role} local={} peer={} peer_asn={} peer_id={} hold={} four_octet_as={} \
         extended_message={}",
        s.local, s.peer, n.peer_asn, n.peer_id, n.hold_time, n.four_octet_as, n.extended_message
    )
}
