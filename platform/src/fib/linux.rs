//! Linux: tern's routes over rtnetlink.
//!
//! Requests are built and parsed with netlink-packet-route / netlink-packet-core and sent on
//! netlink-sys's synchronous socket. The kernel handles every request of a `sendmsg` in the
//! sender's own context before the call returns, queueing one ack per request (all carry
//! `NLM_F_ACK`) on our receive queue. So a window of requests goes out in a few large
//! `sendmsg` calls and then its acks are read, each matched to its change by sequence number.
//!
//! The receive queue must hold a whole window of acks: the socket asks for a large buffer
//! (`SO_RCVBUFFORCE`, which `CAP_NET_ADMIN` allows; plain `SO_RCVBUF` otherwise) and the
//! window is sized to what it got. Should acks still be dropped, the kernel says so once with
//! `ENOBUFS`; we then drain what did arrive and send again, in order, every change from the
//! first unacknowledged one on, with a smaller window. Replacing and deleting are idempotent,
//! so a change applied twice is harmless.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::Duration;

use netlink_packet_core::{
    ErrorBuffer, NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, NlasIterator, Parseable, NLMSG_DONE,
    NLMSG_ERROR, NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_CREATE, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REPLACE,
    NLM_F_REQUEST,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteNextHop, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use super::{check_prefix, check_route, kernel_error, Change, Route, Settings};

const RTM_NEWROUTE: u16 = 24;
const RTN_UNICAST: u8 = 1;
const RT_SCOPE_NOWHERE: u8 = 255;
const RTM_F_CLONED: u32 = 0x200;
/// `NLMSGERR_ATTR_MSG`: the extended ack's human-readable message.
const NLMSGERR_ATTR_MSG: u16 = 1;

/// Receive buffer asked for; the kernel doubles it for its bookkeeping.
const RCVBUF: usize = 8 << 20;
/// Send buffer asked for: one `sendmsg` may carry up to this, less 32 octets.
const SNDBUF: usize = 1 << 20;
/// Largest `sendmsg` we make.
const SEND_CHUNK: usize = 256 << 10;
/// What one queued ack costs in the receive buffer (the skb's true size), rounded up from
/// measurement (an error ack with an extended-ack message is larger but rare).
const ACK_COST: usize = 1280;
/// Most requests in flight at once.
const MAX_WINDOW: usize = 8192;
/// Receive buffer for one datagram: dumps come in skbs of at most 32 KiB.
const RECV_BUF: usize = 64 << 10;
/// The kernel answers within the `sendmsg` call; this only guards against a hang.
const RECV_TIMEOUT: Duration = Duration::from_secs(30);
/// Times a dump interrupted by concurrent changes is restarted.
const DUMP_RETRIES: usize = 8;
/// Rounds without a single ack before the unacknowledged changes are given up as failed.
const MAX_STALLS: usize = 3;

pub(super) struct Fib {
    sock: Socket,
    settings: Settings,
    seq: u32,
    /// Requests per window: `max_window` unless dropped acks made us shrink it.
    window: usize,
    max_window: usize,
    send_chunk: usize,
    sbuf: Vec<u8>,
    rbuf: Vec<u8>,
}

/// A route of ours as the kernel lists it, with what it takes to delete it.
struct Listed {
    route: Route,
    metric: u32,
    kind: u8,
}

/// What one request is: everything `encode` needs.
struct Request<'a> {
    new: bool,
    dst: IpAddr,
    len: u8,
    metric: u32,
    kind: u8,
    hops: &'a [IpAddr],
}

impl Fib {
    pub(super) fn open(settings: Settings) -> io::Result<Fib> {
        let mut sock = Socket::new(NETLINK_ROUTE)?;
        sock.bind_auto()?;
        sock.connect(&SocketAddr::new(0, 0))?;
        // Acks without a copy of the request (Linux 4.2+) and with the kernel's reason for a
        // refusal (4.12+); dumps filtered in the kernel (4.20+). Older kernels: without.
        let _ = sock.set_cap_ack(true);
        let _ = sock.set_ext_ack(true);
        let _ = sock.set_netlink_get_strict_chk(true);
        let fd = sock.as_raw_fd();
        let rcvbuf = grow_buffer(fd, libc::SO_RCVBUFFORCE, libc::SO_RCVBUF, RCVBUF)?;
        let sndbuf = grow_buffer(fd, libc::SO_SNDBUFFORCE, libc::SO_SNDBUF, SNDBUF)?;
        let timeout = libc::timeval { tv_sec: RECV_TIMEOUT.as_secs() as _, tv_usec: 0 };
        setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &timeout)?;
        let window = (rcvbuf / ACK_COST).clamp(1, MAX_WINDOW);
        Ok(Fib {
            sock,
            settings,
            seq: 1,
            window,
            max_window: window,
            send_chunk: sndbuf.saturating_sub(1024).clamp(4096, SEND_CHUNK),
            sbuf: Vec::with_capacity(SEND_CHUNK + 4096),
            rbuf: vec![0; RECV_BUF],
        })
    }

    pub(super) fn settings(&self) -> Settings {
        self.settings
    }

    pub(super) fn apply(&mut self, batch: &[Change]) -> io::Result<Vec<(usize, io::Error)>> {
        let metric = self.settings.metric;
        let settings = self.settings;
        self.pipeline(
            batch.len(),
            |i, seq, out| match &batch[i] {
                Change::Replace(route) => {
                    let hops = check_route(route)?;
                    let req =
                        Request { new: true, dst: route.dst, len: route.len, metric, kind: RTN_UNICAST, hops: &hops };
                    encode(&settings, &req, seq, out);
                    Ok(())
                }
                Change::Delete { dst, len } => {
                    check_prefix(*dst, *len)?;
                    let req = Request { new: false, dst: *dst, len: *len, metric, kind: RTN_UNICAST, hops: &[] };
                    encode(&settings, &req, seq, out);
                    Ok(())
                }
            },
            |i| matches!(batch[i], Change::Delete { .. }),
        )
    }

    pub(super) fn list_own(&mut self) -> io::Result<Vec<Route>> {
        Ok(self.list()?.into_iter().filter(|l| l.kind == RTN_UNICAST).map(|l| l.route).collect())
    }

    pub(super) fn flush_own(&mut self) -> io::Result<usize> {
        // Removed in descending order. The dump lists routes ascending, and ascending is the
        // worst order for Linux's IPv4 trie: after each removal it rescans the node from its
        // first slot for the longest suffix left, walking over every slot emptied so far.
        // Measured on 1M consecutive /24s: ascending 57 s, descending 12 s.
        let mut listed = self.list()?;
        listed.reverse();
        let settings = self.settings;
        let failures = self.pipeline(
            listed.len(),
            |i, seq, out| {
                let l = &listed[i];
                let req = Request {
                    new: false,
                    dst: l.route.dst,
                    len: l.route.len,
                    metric: l.metric,
                    kind: l.kind,
                    hops: &[],
                };
                encode(&settings, &req, seq, out);
                Ok(())
            },
            |_| true,
        )?;
        match failures.first() {
            None => Ok(listed.len()),
            Some((i, e)) => Err(io::Error::new(
                e.kind(),
                format!(
                    "{} of {} routes of ours could not be removed; {}/{}: {e}",
                    failures.len(),
                    listed.len(),
                    listed[*i].route.dst,
                    listed[*i].route.len
                ),
            )),
        }
    }

    /// Sends `count` requests, built by `encode(i, seq, buf)` (which may refuse one with the
    /// error to report for it), in windows, and returns the failures in index order.
    /// `gone_ok(i)`: request `i` is a delete, for which `ESRCH` (no such route) is success.
    fn pipeline(
        &mut self,
        count: usize,
        mut encode: impl FnMut(usize, u32, &mut Vec<u8>) -> io::Result<()>,
        gone_ok: impl Fn(usize) -> bool,
    ) -> io::Result<Vec<(usize, io::Error)>> {
        let mut failures = Vec::new();
        let mut next = 0; // first index not yet sent
        let mut resend: Vec<usize> = Vec::new(); // to send again, in order, before `next`
        let mut stalls = 0;
        let mut items: Vec<usize> = Vec::new();
        let mut bounds: Vec<usize> = Vec::new(); // end offset of each request in `sbuf`
        while next < count || !resend.is_empty() {
            items.clear();
            bounds.clear();
            self.sbuf.clear();
            let base = self.seq;
            let mut resent = resend.drain(..);
            while items.len() < self.window {
                let i = match resent.next() {
                    Some(i) => i,
                    None if next < count => {
                        next += 1;
                        next - 1
                    }
                    None => break,
                };
                let mark = self.sbuf.len();
                match encode(i, base.wrapping_add(items.len() as u32), &mut self.sbuf) {
                    Ok(()) => {
                        items.push(i);
                        bounds.push(self.sbuf.len());
                    }
                    Err(e) => {
                        self.sbuf.truncate(mark);
                        failures.push((i, e));
                    }
                }
            }
            // A smaller window may leave some to send again next round.
            let rest: Vec<usize> = resent.collect();
            resend = rest;
            if items.is_empty() {
                continue;
            }
            self.seq = base.wrapping_add(items.len() as u32);
            self.send_window(&bounds)?;
            let (acked, errors) = self.collect_acks(base, items.len())?;
            if acked == items.len() {
                stalls = 0;
                // Grow back after a shrink, up to what the receive buffer was sized for.
                self.window = (self.window * 2).min(self.max_window);
                for (pos, e) in errors {
                    if !(gone_ok(items[pos]) && super::errno(&e) == Some(libc::ESRCH)) {
                        failures.push((items[pos], e));
                    }
                }
                continue;
            }
            // Acks were dropped: keep the outcomes up to the first missing one and send the
            // rest again in order, in smaller windows. `acked` counts that prefix.
            for (pos, e) in errors.into_iter().filter(|(pos, _)| *pos < acked) {
                if !(gone_ok(items[pos]) && super::errno(&e) == Some(libc::ESRCH)) {
                    failures.push((items[pos], e));
                }
            }
            // About `acked` acks fit: stay below that from now on.
            stalls = if acked == 0 { stalls + 1 } else { 0 };
            self.max_window = self.max_window.min(acked.max(2) - 1).max(1);
            self.window = (acked / 2).max(1);
            let mut again: Vec<usize> = items[acked..].to_vec();
            again.append(&mut resend);
            if stalls >= MAX_STALLS {
                for i in again {
                    failures.push((
                        i,
                        io::Error::new(
                            io::ErrorKind::OutOfMemory,
                            "the kernel kept dropping acknowledgements (ENOBUFS); outcome unknown",
                        ),
                    ));
                }
                stalls = 0;
            } else {
                resend = again;
            }
        }
        failures.sort_by_key(|(i, _)| *i);
        Ok(failures)
    }

    /// Sends the requests in `sbuf` (ending at `bounds`) in `sendmsg`s of at most
    /// `send_chunk` octets, split between requests.
    fn send_window(&mut self, bounds: &[usize]) -> io::Result<()> {
        let mut start = 0;
        let mut end = 0;
        for &b in bounds {
            if b - start > self.send_chunk && end > start {
                send(&self.sock, &self.sbuf[start..end])?;
                start = end;
            }
            end = b;
        }
        if end > start {
            send(&self.sock, &self.sbuf[start..end])?;
        }
        Ok(())
    }

    /// Reads the acks of `n` requests numbered from `base`. Returns how many of them, from
    /// the first, were acknowledged (`n` unless the kernel dropped some) and the errors
    /// among them by position.
    fn collect_acks(&mut self, base: u32, n: usize) -> io::Result<(usize, Vec<(usize, io::Error)>)> {
        let mut seen = vec![false; n];
        let mut remaining = n;
        let mut errors = Vec::new();
        let mut overrun = false;
        while remaining > 0 {
            let flags = libc::MSG_TRUNC | if overrun { libc::MSG_DONTWAIT } else { 0 };
            let len = match recv(&self.sock, &mut self.rbuf, flags) {
                Ok(len) => len,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    // Some acks were dropped; those that made it are queued: drain them.
                    overrun = true;
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && overrun => break,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("the kernel did not acknowledge {remaining} route changes within {RECV_TIMEOUT:?}"),
                    ))
                }
                Err(e) => return Err(e),
            };
            for msg in messages(&self.rbuf[..len])? {
                if msg.message_type() != NLMSG_ERROR {
                    continue;
                }
                let pos = msg.sequence_number().wrapping_sub(base) as usize;
                if pos >= n || seen[pos] {
                    continue; // a late ack of an earlier window
                }
                seen[pos] = true;
                remaining -= 1;
                if let Some(e) = ack_error(&msg)? {
                    errors.push((pos, e));
                }
            }
        }
        let acked = seen.iter().position(|s| !s).unwrap_or(n);
        Ok((acked, errors))
    }

    /// Our routes in our table, IPv4 and IPv6.
    fn list(&mut self) -> io::Result<Vec<Listed>> {
        let mut out = self.dump(AddressFamily::Inet)?;
        out.extend(self.dump(AddressFamily::Inet6)?);
        Ok(out)
    }

    fn dump(&mut self, family: AddressFamily) -> io::Result<Vec<Listed>> {
        'again: for _ in 0..DUMP_RETRIES {
            let seq = self.seq;
            self.seq = self.seq.wrapping_add(1);
            let mut msg = RouteMessage::default();
            msg.header.address_family = family;
            // Filters the kernel applies with strict checking; we filter again below.
            msg.header.protocol = RouteProtocol::from(self.settings.protocol);
            msg.header.table = table_byte(self.settings.table);
            msg.attributes.push(RouteAttribute::Table(self.settings.table));
            self.sbuf.clear();
            push_message(&mut self.sbuf, NLM_F_REQUEST | NLM_F_DUMP, seq, RouteNetlinkMessage::GetRoute(msg));
            send(&self.sock, &self.sbuf)?;
            let mut listed: Vec<Listed> = Vec::new();
            let mut interrupted = false;
            loop {
                let len = recv(&self.sock, &mut self.rbuf, libc::MSG_TRUNC).map_err(|e| {
                    if e.kind() == io::ErrorKind::WouldBlock {
                        io::Error::new(io::ErrorKind::TimedOut, "route dump: no answer from the kernel")
                    } else {
                        e
                    }
                })?;
                for nl in messages(&self.rbuf[..len])? {
                    if nl.sequence_number() != seq {
                        continue; // a late ack of an earlier batch
                    }
                    if nl.flags() & NLM_F_DUMP_INTR != 0 {
                        interrupted = true;
                    }
                    match nl.message_type() {
                        NLMSG_DONE => {
                            let code =
                                nl.payload().get(..4).map_or(0, |b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
                            if code == -libc::ENOENT {
                                return Ok(Vec::new()); // no such table: nothing of ours in it
                            }
                            if code < 0 {
                                return Err(io::Error::from_raw_os_error(-code));
                            }
                            if interrupted {
                                continue 'again;
                            }
                            merge_siblings(&mut listed);
                            return Ok(listed);
                        }
                        NLMSG_ERROR => match ack_error(&nl)? {
                            // No such table: nothing of ours in it.
                            Some(e) if super::errno(&e) == Some(libc::ENOENT) => return Ok(Vec::new()),
                            Some(e) => return Err(e),
                            None => {}
                        },
                        RTM_NEWROUTE => {
                            if let Some(l) = self.parse_own(nl.payload())? {
                                listed.push(l);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        Err(io::Error::new(io::ErrorKind::Interrupted, "route dump kept being interrupted by concurrent changes"))
    }

    /// A dumped route, if it is ours (protocol, table, not a cached clone).
    fn parse_own(&self, payload: &[u8]) -> io::Result<Option<Listed>> {
        // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags.
        if payload.len() < 12 || payload[5] != self.settings.protocol {
            return Ok(None);
        }
        let flags = u32::from_ne_bytes([payload[8], payload[9], payload[10], payload[11]]);
        if flags & RTM_F_CLONED != 0 {
            return Ok(None);
        }
        let msg = RouteMessage::parse(payload)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("route dump: {e}")))?;
        let mut table = u32::from(msg.header.table);
        let mut metric = 0;
        let mut dst = None;
        let mut hops = Vec::new();
        for attr in &msg.attributes {
            match attr {
                RouteAttribute::Table(t) => table = *t,
                RouteAttribute::Priority(p) => metric = *p,
                RouteAttribute::Destination(a) => dst = ip_of(a),
                RouteAttribute::Gateway(a) => hops.extend(ip_of(a)),
                RouteAttribute::MultiPath(nhs) => {
                    for nh in nhs {
                        for a in &nh.attributes {
                            if let RouteAttribute::Gateway(a) = a {
                                hops.extend(ip_of(a));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        if table != self.settings.table {
            return Ok(None);
        }
        let dst = match (dst, msg.header.address_family) {
            (Some(d), _) => d,
            (None, AddressFamily::Inet) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            (None, AddressFamily::Inet6) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            (None, _) => return Ok(None),
        };
        let route = Route { dst, len: msg.header.destination_prefix_length, next_hops: hops };
        Ok(Some(Listed { route, metric, kind: u8::from(msg.header.kind) }))
    }
}

/// Kernels before 4.11 list each next hop of an IPv6 multipath route as a route of its own;
/// put them back together.
fn merge_siblings(listed: &mut Vec<Listed>) {
    let mut i = 1;
    while i < listed.len() {
        let (done, rest) = listed.split_at_mut(i);
        let cur = &rest[0];
        if let Some(prev) = done.iter_mut().rev().take(64).find(|p| {
            p.route.dst == cur.route.dst && p.route.len == cur.route.len && p.metric == cur.metric && p.kind == cur.kind
        }) {
            let hops = std::mem::take(&mut rest[0].route.next_hops);
            prev.route.next_hops.extend(hops);
            listed.remove(i);
        } else {
            i += 1;
        }
    }
}

fn ip_of(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

/// `rtm_table`: the id itself when it fits, else 0 with the id in `RTA_TABLE` (as iproute2).
fn table_byte(table: u32) -> u8 {
    u8::try_from(table).unwrap_or(RouteHeader::RT_TABLE_UNSPEC)
}

/// Appends the request for `req` with sequence number `seq`.
fn encode(settings: &Settings, req: &Request<'_>, seq: u32, out: &mut Vec<u8>) {
    let mut msg = RouteMessage::default();
    msg.header.address_family = if req.dst.is_ipv4() { AddressFamily::Inet } else { AddressFamily::Inet6 };
    msg.header.destination_prefix_length = req.len;
    msg.header.table = table_byte(settings.table);
    msg.header.protocol = RouteProtocol::from(settings.protocol);
    msg.header.kind = RouteType::from(req.kind);
    // A delete matches routes of any scope, like `ip route del`.
    msg.header.scope = if req.new { RouteScope::Universe } else { RouteScope::from(RT_SCOPE_NOWHERE) };
    msg.attributes.push(RouteAttribute::Destination(RouteAddress::from(req.dst)));
    msg.attributes.push(RouteAttribute::Table(settings.table));
    msg.attributes.push(RouteAttribute::Priority(req.metric));
    match req.hops {
        [] => {}
        [hop] => msg.attributes.push(RouteAttribute::Gateway(RouteAddress::from(*hop))),
        hops => msg.attributes.push(RouteAttribute::MultiPath(
            hops.iter()
                .map(|hop| {
                    let mut nh = RouteNextHop::default();
                    nh.attributes.push(RouteAttribute::Gateway(RouteAddress::from(*hop)));
                    nh
                })
                .collect(),
        )),
    }
    if req.new {
        push_message(
            out,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
            seq,
            RouteNetlinkMessage::NewRoute(msg),
        );
    } else {
        push_message(out, NLM_F_REQUEST | NLM_F_ACK, seq, RouteNetlinkMessage::DelRoute(msg));
    }
}

fn push_message(out: &mut Vec<u8>, flags: u16, seq: u32, inner: RouteNetlinkMessage) {
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = seq;
    let mut msg = NetlinkMessage::new(header, NetlinkPayload::from(inner));
    msg.finalize();
    let start = out.len();
    out.resize(start + msg.buffer_len(), 0);
    msg.serialize(&mut out[start..]);
    out.resize(out.len().next_multiple_of(4), 0); // NLMSG_ALIGN
}

/// The netlink messages of one datagram.
fn messages(buf: &[u8]) -> io::Result<Vec<NetlinkBuffer<&[u8]>>> {
    let mut out = Vec::new();
    let mut off = 0;
    while buf.len() - off >= 16 {
        let nl = NetlinkBuffer::new_checked(&buf[off..])
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("netlink: {e}")))?;
        let len = nl.length() as usize;
        out.push(NetlinkBuffer::new(&buf[off..off + len]));
        off += len.next_multiple_of(4).min(buf.len() - off);
    }
    Ok(out)
}

/// The error an `NLMSG_ERROR` reports, `None` for a plain ack.
fn ack_error(nl: &NetlinkBuffer<&[u8]>) -> io::Result<Option<io::Error>> {
    let payload = nl.payload();
    let err = ErrorBuffer::new_checked(&payload)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("netlink ack: {e}")))?;
    let Some(code) = err.code() else { return Ok(None) };
    let errno = -code.get();
    // After the code: the request's header (all of the request unless capped), then the
    // extended-ack attributes.
    let mut message = None;
    if nl.flags() & NLM_F_ACK_TLVS != 0 && payload.len() >= 4 + 16 {
        let orig_len = u32::from_ne_bytes([payload[4], payload[5], payload[6], payload[7]]) as usize;
        let skip = if nl.flags() & NLM_F_CAPPED != 0 { 16 } else { orig_len.next_multiple_of(4) };
        if let Some(tlvs) = payload.get(4 + skip..) {
            for nla in NlasIterator::new(tlvs).flatten() {
                if nla.kind() == NLMSGERR_ATTR_MSG {
                    let text = nla.value().split(|&b| b == 0).next().unwrap_or_default();
                    message = Some(String::from_utf8_lossy(text).into_owned());
                }
            }
        }
    }
    Ok(Some(kernel_error(errno, message)))
}

fn send(sock: &Socket, buf: &[u8]) -> io::Result<()> {
    loop {
        match sock.send(buf, 0) {
            Ok(n) if n == buf.len() => return Ok(()),
            Ok(n) => {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    format!("netlink: sent {n} of {} octets", buf.len()),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Receives one datagram; `MSG_TRUNC` is always set so that a truncation is seen.
fn recv(sock: &Socket, buf: &mut [u8], flags: libc::c_int) -> io::Result<usize> {
    loop {
        match sock.recv(&mut &mut buf[..], flags | libc::MSG_TRUNC) {
            Ok(n) if n > buf.len() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("netlink message of {n} octets truncated to {}", buf.len()),
                ))
            }
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

fn setsockopt<T>(fd: libc::c_int, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
    let len = std::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: `fd` is the descriptor of a socket we own and keep open for the call, `value`
    // points to an initialised `T` of exactly `len` octets that outlives the call, and the
    // kernel only reads it.
    let rc = unsafe { libc::setsockopt(fd, level, name, (value as *const T).cast(), len) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn getsockopt_int(fd: libc::c_int, level: libc::c_int, name: libc::c_int) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are valid, writable and live for the call; `len` says how
    // many octets `value` holds, and the kernel writes at most that many.
    let rc = unsafe { libc::getsockopt(fd, level, name, (&mut value as *mut libc::c_int).cast(), &mut len) };
    if rc == 0 {
        Ok(value)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Asks for a socket buffer of `size` octets, beyond the system's limit when privileged
/// (`force`), and returns the size the kernel granted.
fn grow_buffer(fd: libc::c_int, force: libc::c_int, plain: libc::c_int, size: usize) -> io::Result<usize> {
    let want = libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX);
    if setsockopt(fd, libc::SOL_SOCKET, force, &want).is_err() {
        setsockopt(fd, libc::SOL_SOCKET, plain, &want)?;
    }
    Ok(usize::try_from(getsockopt_int(fd, libc::SOL_SOCKET, plain)?).unwrap_or(0))
}

pub(super) fn enter_netns(path: &Path) -> io::Result<()> {
    let file = std::fs::File::open(path)?;
    // SAFETY: setns(2) takes a descriptor that `file` keeps open for the call and a flag; it
    // touches no memory of ours and moves only the calling thread into the namespace.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn v4(s: &str) -> IpAddr {
        IpAddr::V4(s.parse::<Ipv4Addr>().unwrap())
    }

    #[test]
    fn requests_are_aligned_and_numbered() {
        let settings = Settings { table: 1000, metric: 7, protocol: 186 };
        let hops = [v4("10.0.0.2"), v4("10.0.0.3")];
        let mut out = Vec::new();
        let req = Request { new: true, dst: v4("192.0.2.0"), len: 24, metric: 7, kind: RTN_UNICAST, hops: &hops };
        encode(&settings, &req, 41, &mut out);
        encode(&settings, &Request { new: false, hops: &[], ..req }, 42, &mut out);
        assert_eq!(out.len() % 4, 0);
        let msgs = messages(&out).unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].sequence_number(), 41);
        assert_eq!(msgs[0].message_type(), RTM_NEWROUTE);
        assert_eq!(msgs[0].flags(), NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
        assert_eq!(msgs[1].sequence_number(), 42);
        assert_eq!(msgs[1].flags(), NLM_F_REQUEST | NLM_F_ACK);
        let parsed = RouteMessage::parse(msgs[0].payload()).unwrap();
        assert_eq!(parsed.header.table, 0, "table ids above 255 go in RTA_TABLE only");
        assert_eq!(u8::from(parsed.header.protocol), 186);
        assert!(parsed.attributes.contains(&RouteAttribute::Table(1000)));
        assert!(parsed.attributes.contains(&RouteAttribute::Priority(7)));
        let multipath = parsed.attributes.iter().find_map(|a| match a {
            RouteAttribute::MultiPath(nhs) => Some(nhs.len()),
            _ => None,
        });
        assert_eq!(multipath, Some(2));
    }

    #[test]
    fn error_acks_carry_errno_and_message() {
        // nlmsghdr(NLMSG_ERROR, capped, with TLVs) | error -101 | request header | MSG "why"
        let mut b = Vec::new();
        let tlv_len = 4 + 4; // "why\0"
        let total = 16 + 4 + 16 + tlv_len;
        b.extend((total as u32).to_ne_bytes());
        b.extend(NLMSG_ERROR.to_ne_bytes());
        b.extend((NLM_F_CAPPED | NLM_F_ACK_TLVS).to_ne_bytes());
        b.extend(5u32.to_ne_bytes());
        b.extend(0u32.to_ne_bytes());
        b.extend((-libc::ENETUNREACH).to_ne_bytes());
        b.extend(60u32.to_ne_bytes()); // the request's length, not included (capped)
        b.extend([0u8; 12]);
        b.extend(8u16.to_ne_bytes());
        b.extend(NLMSGERR_ATTR_MSG.to_ne_bytes());
        b.extend(b"why\0");
        let msgs = messages(&b).unwrap();
        let e = ack_error(&msgs[0]).unwrap().unwrap();
        assert_eq!(super::super::errno(&e), Some(libc::ENETUNREACH));
        assert!(e.to_string().ends_with(": why"), "{e}");
    }

    /// Dropped acks (`ENOBUFS`) lose no change: a window far larger than the receive buffer
    /// can hold acks for is sent, the kernel drops most acks, and every change still lands,
    /// with the window shrunk to fit. Root only, in a namespace of its own.
    #[test]
    fn dropped_acks_are_recovered() {
        use std::process::Command;
        let ok = |args: &[&str]| Command::new("ip").args(args).output().is_ok_and(|o| o.status.success());
        let name = format!("tern-fib-{}-enobufs", std::process::id());
        if !ok(&["netns", "add", &name]) {
            eprintln!("note: cannot make a network namespace (not root?); ENOBUFS recovery not exercised");
            return;
        }
        struct Del(String);
        impl Drop for Del {
            fn drop(&mut self) {
                let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
            }
        }
        let _del = Del(name.clone());
        assert!(ok(&["-n", &name, "link", "add", "d0", "type", "veth", "peer", "name", "d1"]));
        assert!(ok(&["-n", &name, "link", "set", "d1", "up"]));
        assert!(ok(&["-n", &name, "link", "set", "d0", "up"]));
        assert!(ok(&["-n", &name, "addr", "add", "10.200.1.1/24", "dev", "d0"]));
        let path = Path::new("/var/run/netns").join(&name);
        let (fit, listed) = std::thread::spawn(move || {
            enter_netns(&path).unwrap();
            let mut fib = Fib::open(Settings { table: 77, metric: 5, protocol: 186 }).unwrap();
            let fd = fib.sock.as_raw_fd();
            setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &(64 * 1024 as libc::c_int)).unwrap();
            let rcvbuf = getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF).unwrap();
            const N: u32 = 5000;
            fib.window = N as usize;
            fib.max_window = N as usize;
            let batch: Vec<Change> = (0..N)
                .map(|i| {
                    let dst = IpAddr::V4(Ipv4Addr::from(0x0b00_0000 + (i << 8)));
                    Change::Replace(Route { dst, len: 24, next_hops: vec![v4("10.200.1.2")] })
                })
                .collect();
            let failures = fib.apply(&batch).unwrap();
            assert!(failures.is_empty(), "{failures:?}");
            let fit = fib.max_window;
            eprintln!(
                "receive buffer of {rcvbuf} octets held about {fit} acks: ~{} octets each",
                rcvbuf as usize / fit
            );
            (fit, fib.list_own().unwrap().len())
        })
        .join()
        .unwrap();
        assert!(fit < 5000, "window {fit}");
        assert_eq!(listed, 5000);
    }

    #[test]
    fn split_ipv6_siblings_are_merged() {
        let l = |hop: &str, metric| Listed {
            route: Route { dst: v4("192.0.2.0"), len: 24, next_hops: vec![v4(hop)] },
            metric,
            kind: RTN_UNICAST,
        };
        let mut listed = vec![l("10.0.0.2", 20), l("10.0.0.3", 20), l("10.0.0.4", 30)];
        merge_siblings(&mut listed);
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].route.next_hops, vec![v4("10.0.0.2"), v4("10.0.0.3")]);
    }
}
