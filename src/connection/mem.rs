//! An in-memory network for tests: listeners registered by address, connections as pairs
//! of channels. The same scenarios that run over TCP run over this, deterministically and
//! without ports. Writes never block; closing sends EOF to the peer (and to the own reader).

use std::collections::HashMap;
use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::{unbounded, Receiver, Sender};

use super::{Connection, Listener, QuickWriter, SocketOpts, Transport};

/// A chunk of bytes; the empty chunk means EOF.
type Chunk = Vec<u8>;
/// A listener's queue of accepted connections; `None` wakes it to close.
type AcceptQueue = Sender<Option<Box<dyn Connection>>>;

#[derive(Default)]
pub struct MemNetwork {
    listeners: Mutex<HashMap<SocketAddr, AcceptQueue>>,
    next_port: AtomicU16,
}

impl MemNetwork {
    pub fn new() -> Arc<MemNetwork> {
        Arc::new(MemNetwork { listeners: Mutex::default(), next_port: AtomicU16::new(40000) })
    }
}

struct MemConn {
    local: SocketAddr,
    peer: SocketAddr,
    tx: Sender<Chunk>,
    rx: Receiver<Chunk>,
    own_tx: Sender<Chunk>,
    write_closed: Arc<AtomicBool>,
    read_closed: AtomicBool,
}

impl MemConn {
    fn pair(a: SocketAddr, b: SocketAddr) -> (MemConn, MemConn) {
        let (a_tx, b_rx) = unbounded();
        let (b_tx, a_rx) = unbounded();
        let end = |local, peer, tx: Sender<Chunk>, rx, own_tx| MemConn {
            local,
            peer,
            tx,
            rx,
            own_tx,
            write_closed: Arc::new(AtomicBool::new(false)),
            read_closed: AtomicBool::new(false),
        };
        (end(a, b, a_tx.clone(), a_rx, b_tx.clone()), end(b, a, b_tx, b_rx, a_tx))
    }
}

impl Connection for MemConn {
    fn local_addr(&self) -> SocketAddr {
        self.local
    }

    fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        mem_write(&self.tx, &self.write_closed, buf)
    }

    fn quick_writer(&self) -> io::Result<Box<dyn QuickWriter>> {
        Ok(Box::new(MemQuick { tx: self.tx.clone(), write_closed: self.write_closed.clone() }))
    }

    fn reader(&self) -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(MemReader { rx: self.rx.clone(), buf: Vec::new(), pos: 0, eof: false }))
    }

    fn apply(&self, _opts: &SocketOpts) -> io::Result<()> {
        Ok(())
    }

    fn shutdown_write(&self) {
        if !self.write_closed.swap(true, Ordering::Relaxed) {
            let _ = self.tx.send(Vec::new());
        }
    }

    fn close(&self) {
        self.shutdown_write();
        if !self.read_closed.swap(true, Ordering::Relaxed) {
            let _ = self.own_tx.send(Vec::new());
        }
    }
}

fn mem_write(tx: &Sender<Chunk>, closed: &AtomicBool, buf: &[u8]) -> io::Result<usize> {
    if closed.load(Ordering::Relaxed) || buf.is_empty() {
        return if buf.is_empty() { Ok(0) } else { Err(io::ErrorKind::BrokenPipe.into()) };
    }
    tx.send(buf.to_vec()).map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))?;
    Ok(buf.len())
}

/// The clock's writer: the same channel, and refused once the connection's write side closed.
struct MemQuick {
    tx: Sender<Chunk>,
    write_closed: Arc<AtomicBool>,
}

impl QuickWriter for MemQuick {
    fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        mem_write(&self.tx, &self.write_closed, buf)
    }
}

impl Drop for MemConn {
    fn drop(&mut self) {
        self.close();
    }
}

struct MemReader {
    rx: Receiver<Chunk>,
    buf: Chunk,
    pos: usize,
    eof: bool,
}

impl Read for MemReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.buf.len() {
            if self.eof {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(chunk) if chunk.is_empty() => self.eof = true,
                Ok(chunk) => {
                    self.buf = chunk;
                    self.pos = 0;
                }
                Err(_) => self.eof = true,
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

struct MemListener {
    net: Arc<MemNetwork>,
    addr: SocketAddr,
    rx: Receiver<Option<Box<dyn Connection>>>,
    tx: AcceptQueue,
}

impl Listener for MemListener {
    fn accept(&self) -> io::Result<Box<dyn Connection>> {
        match self.rx.recv() {
            Ok(Some(conn)) => Ok(conn),
            _ => Err(io::Error::new(io::ErrorKind::NotConnected, "listener closed")),
        }
    }

    fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    fn set_peer_key(&self, _peer: IpAddr, _key: Option<&[u8]>) -> io::Result<()> {
        Ok(())
    }

    fn close(&self) {
        self.net.listeners.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.addr);
        let _ = self.tx.send(None);
    }
}

/// The transport over a shared [`MemNetwork`].
#[derive(Clone)]
pub struct Mem(pub Arc<MemNetwork>);

impl Transport for Mem {
    fn listen(&self, addr: SocketAddr) -> io::Result<Arc<dyn Listener>> {
        let mut map = self.0.listeners.lock().unwrap_or_else(|e| e.into_inner());
        if map.contains_key(&addr) {
            return Err(io::ErrorKind::AddrInUse.into());
        }
        let (tx, rx) = unbounded();
        map.insert(addr, tx.clone());
        Ok(Arc::new(MemListener { net: self.0.clone(), addr, rx, tx }))
    }

    fn connect(&self, remote: SocketAddr, opts: &SocketOpts, _timeout: Duration) -> io::Result<Box<dyn Connection>> {
        let local_ip = opts
            .local_addr
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the memory network needs a local address"))?;
        let port = self.0.next_port.fetch_add(1, Ordering::Relaxed);
        let local = SocketAddr::new(local_ip, port);
        let map = self.0.listeners.lock().unwrap_or_else(|e| e.into_inner());
        let listener = map.get(&remote).ok_or(io::ErrorKind::ConnectionRefused)?;
        let (ours, theirs) = MemConn::pair(local, remote);
        listener.send(Some(Box::new(theirs))).map_err(|_| io::Error::from(io::ErrorKind::ConnectionRefused))?;
        Ok(Box::new(ours))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_flow_both_ways_and_close_wakes_both_readers() {
        let net = Mem(MemNetwork::new());
        let l = net.listen("127.0.0.1:179".parse().unwrap()).unwrap();
        let opts = SocketOpts { local_addr: Some("127.0.0.2".parse().unwrap()), ..Default::default() };
        let mut a = net.connect("127.0.0.1:179".parse().unwrap(), &opts, Duration::from_secs(1)).unwrap();
        let mut b = l.accept().unwrap();
        assert_eq!(b.peer_addr(), a.local_addr());
        a.write(b"hello").unwrap();
        b.write(b"world").unwrap();
        let (mut ra, mut rb) = (a.reader().unwrap(), b.reader().unwrap());
        let mut buf = [0u8; 16];
        assert_eq!(rb.read(&mut buf).unwrap(), 5);
        assert_eq!(&buf[..5], b"hello");
        assert_eq!(ra.read(&mut buf).unwrap(), 5);
        a.close();
        assert_eq!(rb.read(&mut buf).unwrap(), 0);
        assert_eq!(ra.read(&mut buf).unwrap(), 0);
        assert!(a.write(b"x").is_err());
        l.close();
        assert!(l.accept().is_err());
        assert!(net.connect("127.0.0.1:179".parse().unwrap(), &opts, Duration::from_secs(1)).is_err());
    }
}
