//! One BGP session of the load tool: TCP set-up (connect or listen), the OPEN/KEEPALIVE
//! exchange, a reader that frames and decodes on a large buffer, and keepalives from a
//! small timer thread.
//!
//! The OPEN is the router's own ([`fsm::local_open`]: 4-octet AS, multiprotocol IPv4
//! unicast, route refresh) and the peer's is checked with [`fsm::negotiate`]. Writes go
//! through one mutex-guarded stream, so the keepalive thread only ever writes between two
//! whole messages; the bulk writer holds the lock for one chunk of whole UPDATEs at a time.
//!
//! [`fsm::local_open`]: crate::fsm::local_open
//! [`fsm::negotiate`]: crate::fsm::negotiate

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use crossbeam_channel::{bounded, RecvTimeoutError, Sender};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::fsm::{local_open, negotiate, Negotiated, SessionConfig};
use crate::wire::header::frame;
use crate::wire::notification::CEASE_ADMIN_SHUTDOWN;
use crate::wire::{decode_message, Ctx, Decoded, Message, Notification};

/// Read buffer of a session: large, so that one `read` takes in many UPDATEs.
const READ_BUFFER: usize = 4 << 20;
/// How long one `read` may block, so that deadlines are checked in between.
const READ_POLL: Duration = Duration::from_millis(200);
/// Pause between two attempts to set a session up.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// How the TCP connection comes about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// Connect to the target, from `bind` if given.
    Connect { addr: SocketAddr, bind: Option<IpAddr> },
    /// Wait for the target to connect to this address.
    Listen(SocketAddr),
}

/// What a load peer says in its OPEN and how long it waits.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerConfig {
    pub endpoint: Endpoint,
    pub asn: u32,
    pub peer_asn: u32,
    /// BGP identifier; by default the local IPv4 address of the connection.
    pub router_id: Option<Ipv4Addr>,
    pub hold_time: u16,
    /// Offer extended messages (RFC 8654).
    pub extended_message: bool,
    /// Give up setting the session up after this long.
    pub timeout: Duration,
}

/// An established session.
pub struct Session {
    pub local: SocketAddr,
    pub peer: SocketAddr,
    pub negotiated: Negotiated,
    reader: Option<MessageReader>,
    writer: Arc<Mutex<TcpStream>>,
    keepalives: Option<(Sender<()>, JoinHandle<()>)>,
}

/// Frames and decodes what the peer sends, on a large buffer.
pub struct MessageReader {
    stream: TcpStream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    ctx: Ctx,
}

impl MessageReader {
    fn new(stream: TcpStream, ctx: Ctx) -> MessageReader {
        MessageReader { stream, buf: vec![0; READ_BUFFER], start: 0, end: 0, ctx }
    }

    /// The next message, or `Ok(None)` when none arrived within the read poll interval.
    /// End of stream and undecodable messages are errors.
    pub fn poll(&mut self) -> anyhow::Result<Option<Decoded>> {
        loop {
            let pending = &self.buf[self.start..self.end];
            let max = self.ctx.max_message_len();
            match frame(pending, max) {
                Ok(Some(len)) => {
                    let msg = decode_message(&pending[..len], &self.ctx).map_err(|e| {
                        anyhow!("undecodable message from the peer: {} ({})", e.reason, e.notification())
                    })?;
                    self.start += len;
                    return Ok(Some(msg));
                }
                Ok(None) => {}
                Err(e) => bail!("bad message header from the peer: {} ({})", e.reason, e.notification()),
            }
            if self.buf.len() - self.end < max {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            match self.stream.read(&mut self.buf[self.end..]) {
                Ok(0) => bail!("the peer closed the connection"),
                Ok(n) => self.end += n,
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e).context("reading from the peer"),
            }
        }
    }

    /// The next message before `deadline`; an error past it.
    fn next_before(&mut self, deadline: Instant, waiting_for: &str) -> anyhow::Result<Decoded> {
        loop {
            if let Some(m) = self.poll()? {
                return Ok(m);
            }
            if Instant::now() >= deadline {
                bail!("timed out waiting for {waiting_for}");
            }
        }
    }
}

fn keepalive_bytes() -> Vec<u8> {
    Message::Keepalive.to_bytes(&Ctx::pre_open()).expect("a KEEPALIVE fits")
}

fn write_message(stream: &mut TcpStream, m: &Message, ctx: &Ctx) -> anyhow::Result<()> {
    let bytes = m.to_bytes(ctx).map_err(|e| anyhow!("message too long: {} > {}", e.len, e.max))?;
    stream.write_all(&bytes).context("writing to the peer")
}

fn connect(addr: SocketAddr, bind: Option<IpAddr>) -> io::Result<TcpStream> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if let Some(local) = bind {
        socket.set_reuse_address(true)?;
        socket.bind(&SockAddr::from(SocketAddr::new(local, 0)))?;
    }
    socket.connect_timeout(&SockAddr::from(addr), Duration::from_secs(5))?;
    Ok(socket.into())
}

fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&SockAddr::from(addr))?;
    socket.listen(16)?;
    let listener: TcpListener = socket.into();
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Waits for one connection until `deadline` (polling: a listener has no accept timeout).
fn accept(listener: &TcpListener, deadline: Instant) -> anyhow::Result<TcpStream> {
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false)?;
                return Ok(stream);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    bail!("timed out waiting for the target to connect");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e).context("accepting a connection"),
        }
    }
}

impl Session {
    /// Sets the session up, retrying (new connection, or the next accepted one) until
    /// `cfg.timeout` has passed.
    pub fn establish(cfg: &PeerConfig) -> anyhow::Result<Session> {
        let deadline = Instant::now() + cfg.timeout;
        let listener = match cfg.endpoint {
            Endpoint::Listen(addr) => Some(listen(addr).with_context(|| format!("cannot listen on {addr}"))?),
            Endpoint::Connect { .. } => None,
        };
        let mut last_error;
        loop {
            let stream = match (&listener, cfg.endpoint) {
                (Some(l), _) => accept(l, deadline)?,
                (None, Endpoint::Connect { addr, bind }) => match connect(addr, bind) {
                    Ok(s) => s,
                    Err(e) => {
                        last_error = anyhow!(e).context(format!("cannot connect to {addr}"));
                        if Instant::now() + RETRY_PAUSE >= deadline {
                            return Err(last_error);
                        }
                        std::thread::sleep(RETRY_PAUSE);
                        continue;
                    }
                },
                (None, Endpoint::Listen(_)) => unreachable!("a listener exists in listen mode"),
            };
            match Session::handshake(stream, cfg, deadline) {
                Ok(s) => return Ok(s),
                Err(e) => last_error = e,
            }
            if Instant::now() + RETRY_PAUSE >= deadline {
                return Err(last_error.context("no session before the timeout"));
            }
            eprintln!("tern-load: session attempt failed, retrying: {last_error:#}");
            std::thread::sleep(RETRY_PAUSE);
        }
    }

    fn handshake(stream: TcpStream, cfg: &PeerConfig, deadline: Instant) -> anyhow::Result<Session> {
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(READ_POLL))?;
        let (local, peer) = (stream.local_addr()?, stream.peer_addr()?);
        let router_id = cfg.router_id.unwrap_or(match local.ip() {
            IpAddr::V4(a) if !a.is_unspecified() => a,
            _ => Ipv4Addr::new(198, 18, 255, 1),
        });
        let mut sc = SessionConfig::new(cfg.asn, router_id, Some(cfg.peer_asn));
        sc.hold_time = cfg.hold_time;
        sc.keepalive = Duration::from_secs(u64::from(cfg.hold_time / 3).max(1));
        sc.extended_message = cfg.extended_message;

        let mut writer = stream.try_clone()?;
        write_message(&mut writer, &Message::Open(local_open(&sc)), &Ctx::pre_open())?;
        let mut reader = MessageReader::new(stream, Ctx::pre_open());
        let open = match reader.next_before(deadline, "the peer's OPEN")?.message {
            Message::Open(o) => o,
            Message::Notification(n) => bail!("the peer refused the session: {n}"),
            other => bail!("expected an OPEN, got a {} message", other.message_type().name()),
        };
        let negotiated = match negotiate(&sc, &open) {
            Ok(n) => n,
            Err(n) => {
                let _ = write_message(&mut writer, &Message::Notification(n.clone()), &Ctx::pre_open());
                bail!("the peer's OPEN is not acceptable: {n} ({open})");
            }
        };
        reader.ctx = negotiated.rx_ctx();
        write_message(&mut writer, &Message::Keepalive, &Ctx::pre_open())?;
        match reader.next_before(deadline, "the peer's KEEPALIVE")?.message {
            Message::Keepalive => {}
            Message::Notification(n) => bail!("the peer refused the session: {n}"),
            other => bail!("expected a KEEPALIVE, got a {} message", other.message_type().name()),
        }
        let writer = Arc::new(Mutex::new(writer));
        let keepalives = negotiated.keepalive.map(|every| {
            let (stop, stopped) = bounded::<()>(0);
            let w = writer.clone();
            let join = std::thread::Builder::new()
                .name("tern-load-ka".into())
                .spawn(move || {
                    let ka = keepalive_bytes();
                    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                        let mut s = w.lock().unwrap_or_else(|e| e.into_inner());
                        if s.write_all(&ka).is_err() {
                            return;
                        }
                    }
                })
                .expect("a thread starts");
            (stop, join)
        });
        Ok(Session { local, peer, negotiated, reader: Some(reader), writer, keepalives })
    }

    /// Writes `stream` (whole messages) in the chunks that end at `cuts`, taking the write
    /// lock once per chunk so that keepalives can go out in between.
    pub fn write_chunks(&self, stream: &[u8], cuts: &[usize]) -> anyhow::Result<()> {
        let mut at = 0;
        for &end in cuts {
            let mut s = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            s.write_all(&stream[at..end]).context("writing UPDATEs to the peer")?;
            at = end;
        }
        assert_eq!(at, stream.len(), "the last cut is the end of the stream");
        Ok(())
    }

    /// The reader, while it was not taken.
    pub fn reader(&mut self) -> &mut MessageReader {
        self.reader.as_mut().expect("the reader was not taken")
    }

    /// Takes the reader for a thread of its own.
    pub fn take_reader(&mut self) -> MessageReader {
        self.reader.take().expect("the reader is taken once")
    }

    pub fn write(&self, m: &Message) -> anyhow::Result<()> {
        let mut s = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        write_message(&mut s, m, &self.negotiated.tx_ctx())
    }

    /// The hold time after which a silent peer counts as gone, if any.
    pub fn hold(&self) -> Option<Duration> {
        (self.negotiated.hold_time != 0).then(|| Duration::from_secs(u64::from(self.negotiated.hold_time)))
    }

    /// Stops the keepalives, sends Cease / Administrative Shutdown and closes.
    pub fn close(mut self, message: &str) {
        if let Some((stop, join)) = self.keepalives.take() {
            drop(stop);
            let _ = join.join();
        }
        let _ = self.write(&Message::Notification(Notification::cease(CEASE_ADMIN_SHUTDOWN, Some(message))));
        let s = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let _ = s.shutdown(std::net::Shutdown::Both);
    }
}

/// Milliseconds since the Unix epoch, the timestamps a harness compares across processes.
pub fn epoch_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}
