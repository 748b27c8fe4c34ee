//! Transports: how a session reaches its peer, behind three small traits.
//!
//! [`Transport`] opens listeners and outbound connections; [`Listener`] accepts;
//! [`Connection`] is one established byte stream. Two implementations: [`tcp`] (socket2,
//! with TCP-MD5 and GTSM from `tern-platform`) and [`mem`], an in-memory network for tests,
//! so that every scenario can run over both.
//!
//! Threads use a connection this way: the session runner writes (never for longer than the
//! write timeout, so it cannot stall on a peer that does not read) and closes; a reader
//! thread owns the [`Connection::reader`] half and blocks in `read` until data or EOF; while
//! the runner is parked with nothing to send, the clock thread may write a KEEPALIVE through
//! a [`Connection::quick_writer`] (see `crate::keepalive`).

pub mod mem;
pub mod tcp;

use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Per-peer socket options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SocketOpts {
    /// Source address for outbound connections.
    pub local_addr: Option<IpAddr>,
    /// TCP-MD5 key (RFC 2385).
    pub md5_key: Option<Vec<u8>>,
    /// GTSM (RFC 5082): send with TTL 255 and accept only TTL ≥ 256 − hops.
    pub ttl_security: Option<u8>,
    /// Longest a write may block before the runner gets control back.
    pub write_timeout: Duration,
}

impl SocketOpts {
    /// The minimum incoming TTL GTSM asks for, if enabled.
    pub fn min_ttl(&self) -> Option<u8> {
        self.ttl_security.map(|hops| 255u8.saturating_sub(hops.saturating_sub(1)))
    }
}

/// One established byte stream to a peer.
pub trait Connection: Send {
    fn local_addr(&self) -> SocketAddr;
    fn peer_addr(&self) -> SocketAddr;
    /// Writes a prefix of `buf`, blocking at most the write timeout; `Ok(0)` when the
    /// transport cannot take anything yet.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize>;
    /// A handle for the reader thread; EOF once either side closes.
    fn reader(&self) -> io::Result<Box<dyn Read + Send>>;
    /// A handle that writes without ever blocking, for the clock's idle KEEPALIVEs.
    fn quick_writer(&self) -> io::Result<Box<dyn QuickWriter>>;
    /// Applies per-peer options to an accepted connection (GTSM's TTLs).
    fn apply(&self, opts: &SocketOpts) -> io::Result<()>;
    /// Sends EOF after what was written; the peer's data can still be read.
    fn shutdown_write(&self);
    /// Closes both directions; wakes the reader.
    fn close(&self);
}

/// Writes to a connection without blocking, from a thread other than the runner's.
pub trait QuickWriter: Send {
    /// Writes a prefix of `buf` if the transport can take it now; `Ok(0)` when it cannot.
    fn try_write(&self, buf: &[u8]) -> io::Result<usize>;
}

/// A bound, listening socket.
pub trait Listener: Send + Sync {
    /// Blocks for the next connection; fails once [`Listener::close`] was called.
    fn accept(&self) -> io::Result<Box<dyn Connection>>;
    fn local_addr(&self) -> SocketAddr;
    /// Sets (or removes) the TCP-MD5 key for connections from `peer`.
    fn set_peer_key(&self, peer: IpAddr, key: Option<&[u8]>) -> io::Result<()>;
    /// Stops accepting; wakes a blocked `accept`.
    fn close(&self);
}

pub trait Transport: Send + Sync {
    fn listen(&self, addr: SocketAddr) -> io::Result<Arc<dyn Listener>>;
    fn connect(&self, remote: SocketAddr, opts: &SocketOpts, timeout: Duration) -> io::Result<Box<dyn Connection>>;
}
