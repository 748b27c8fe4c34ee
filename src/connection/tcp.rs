//! TCP transport over socket2, with TCP-MD5 and GTSM through `tern-platform`.
//!
//! Outbound sockets get their MD5 key, TTL 255 and minimum TTL before `connect`, so that
//! the SYN is already signed and a SYN-ACK from too far away is dropped. Listening sockets
//! get one MD5 key per configured peer address; GTSM is applied to each accepted socket
//! (a shared listener serves peers with different settings), which makes the kernel drop
//! every segment after the handshake that arrives with a lower TTL.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::{Connection, Listener, QuickWriter, SocketOpts, Transport};

#[derive(Debug, Default, Clone, Copy)]
pub struct Tcp;

struct TcpConn {
    /// Shared with the [`QuickWriter`], which writes through the same descriptor.
    stream: Arc<TcpStream>,
    local: SocketAddr,
    peer: SocketAddr,
}

fn set_ttls(socket: &Socket, ipv6: bool, opts: &SocketOpts) -> io::Result<()> {
    let Some(min) = opts.min_ttl() else { return Ok(()) };
    if ipv6 {
        socket.set_unicast_hops_v6(255)?;
        // A dual-stack socket sending to an IPv4-mapped peer uses the IPv4 TTL.
        let _ = socket.set_ttl(255);
    } else {
        socket.set_ttl(255)?;
    }
    tern_platform::sockopt::set_min_ttl(socket.as_fd(), ipv6, min)
}

fn ipv6_socket(socket: &Socket) -> bool {
    socket.local_addr().ok().and_then(|a| a.as_socket()).is_some_and(|a| a.is_ipv6())
}

impl TcpConn {
    fn new(socket: Socket, write_timeout: Duration) -> io::Result<TcpConn> {
        socket.set_nodelay(true)?;
        socket.set_write_timeout(Some(write_timeout.max(Duration::from_millis(1))))?;
        let stream: TcpStream = socket.into();
        Ok(TcpConn { local: stream.local_addr()?, peer: stream.peer_addr()?, stream: Arc::new(stream) })
    }
}

impl Connection for TcpConn {
    fn local_addr(&self) -> SocketAddr {
        self.local
    }

    fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match (&*self.stream).write(buf) {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(0)
            }
            other => other,
        }
    }

    fn reader(&self) -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(self.stream.try_clone()?))
    }

    fn quick_writer(&self) -> io::Result<Box<dyn QuickWriter>> {
        Ok(Box::new(TcpQuick(self.stream.clone())))
    }

    fn apply(&self, opts: &SocketOpts) -> io::Result<()> {
        let socket = socket2::SockRef::from(&*self.stream);
        socket.set_write_timeout(Some(opts.write_timeout.max(Duration::from_millis(1))))?;
        set_ttls(&socket, self.local.is_ipv6(), opts)
    }

    fn shutdown_write(&self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    fn close(&self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

/// Non-blocking sends on the connection's own descriptor (no second descriptor per peer).
struct TcpQuick(Arc<TcpStream>);

impl QuickWriter for TcpQuick {
    fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        match socket2::SockRef::from(&*self.0).send_with_flags(buf, tern_platform::sockopt::SEND_NOWAIT) {
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => Ok(0),
            other => other,
        }
    }
}

struct TcpListener {
    socket: Socket,
    local: SocketAddr,
    ipv6: bool,
}

impl Listener for TcpListener {
    fn accept(&self) -> io::Result<Box<dyn Connection>> {
        let (socket, _) = self.socket.accept()?;
        Ok(Box::new(TcpConn::new(socket, Duration::from_millis(50))?))
    }

    fn local_addr(&self) -> SocketAddr {
        self.local
    }

    fn set_peer_key(&self, peer: IpAddr, key: Option<&[u8]>) -> io::Result<()> {
        if !self.ipv6 && peer.is_ipv6() {
            return Ok(()); // an IPv4 listener never sees this peer
        }
        tern_platform::sockopt::set_tcp_md5(self.socket.as_fd(), self.ipv6, peer, key)
    }

    fn close(&self) {
        // On Linux, shutting down a listening socket makes a blocked accept return.
        let _ = self.socket.shutdown(Shutdown::Both);
    }
}

impl Transport for Tcp {
    fn listen(&self, addr: SocketAddr) -> io::Result<Arc<dyn Listener>> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_reuse_address(true)?;
        if addr.is_ipv6() {
            // "[::]:179" and "0.0.0.0:179" are listed separately, so each listener keeps to
            // its own family.
            socket.set_only_v6(true)?;
        }
        // SYN-ACKs leave with TTL 255 so that a GTSM peer accepts them (RFC 5082 §3);
        // accepted sockets inherit it. Harmless for peers without GTSM.
        if addr.is_ipv6() {
            socket.set_unicast_hops_v6(255)?;
        } else {
            socket.set_ttl(255)?;
        }
        socket.bind(&SockAddr::from(addr))?;
        socket.listen(128)?;
        let local = socket.local_addr()?.as_socket().unwrap_or(addr);
        Ok(Arc::new(TcpListener { socket, local, ipv6: addr.is_ipv6() }))
    }

    fn connect(&self, remote: SocketAddr, opts: &SocketOpts, timeout: Duration) -> io::Result<Box<dyn Connection>> {
        let socket = Socket::new(Domain::for_address(remote), Type::STREAM, Some(Protocol::TCP))?;
        if let Some(local) = opts.local_addr {
            socket.bind(&SockAddr::from(SocketAddr::new(local, 0)))?;
        }
        let ipv6 = remote.is_ipv6() || ipv6_socket(&socket);
        if let Some(key) = &opts.md5_key {
            tern_platform::sockopt::set_tcp_md5(socket.as_fd(), ipv6, remote.ip(), Some(key))?;
        }
        set_ttls(&socket, ipv6, opts)?;
        socket.connect_timeout(&SockAddr::from(remote), timeout)?;
        Ok(Box::new(TcpConn::new(socket, opts.write_timeout)?))
    }
}
