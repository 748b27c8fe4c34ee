//! illumos: tern's routes over the routing socket (`PF_ROUTE`).
//!
//! **Compiled for `x86_64-unknown-illumos` but never run on illumos.** Written from
//! illumos's `<net/route.h>` and `ip_rts.c`; treat it as a first draft to be tried on a real
//! system before it is relied on.
//!
//! What differs from Linux, and why:
//! - One routing table per zone: [`Settings::table`] must be the main table (254); the
//!   metric has no equivalent and is ignored.
//! - No route protocol: tern's routes are marked `RTF_PROTO1` (as BIRD does on the BSDs) and
//!   [`Fib`] remembers the next hops it installed per prefix, because `RTM_DELETE` needs the
//!   gateway to name the route.
//! - Multipath is one route per next hop for the same prefix (illumos spreads traffic over
//!   them). A replace adds the new next hops first (`EEXIST`: already there, fine), then
//!   deletes the old ones, so the prefix is never without a route; if an add fails, the
//!   adds of that change are undone and the old route stays.
//! - The routing socket cannot list routes (that needs the MIB interface of `/dev/ip`), so
//!   [`Fib::list_own`] reports `Unsupported` and [`Fib::flush_own`] removes only what this
//!   handle installed: routes an earlier run left stay until removed by hand
//!   (`route delete`). A delete of a prefix this handle did not install asks the kernel for
//!   the route (`RTM_GET`) and removes it only if it carries `RTF_PROTO1`.
//! - Each change is one synchronous `write(2)`, whose result is that change's; there is
//!   nothing to pipeline.

use std::collections::HashMap;
use std::io;
use std::mem::{offset_of, size_of};
use std::net::IpAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use super::{check_prefix, check_route, Change, Route, Settings, TABLE_MAIN};

const RTM_VERSION: u8 = 3;
const RTM_ADD: u8 = 0x1;
const RTM_DELETE: u8 = 0x2;
const RTM_GET: u8 = 0x4;
const RTF_UP: i32 = 0x1;
const RTF_GATEWAY: i32 = 0x2;
const RTF_HOST: i32 = 0x4;
const RTF_PROTO1: i32 = 0x8000;
const RTA_DST: i32 = 0x1;
const RTA_GATEWAY: i32 = 0x2;
const RTA_NETMASK: i32 = 0x4;
/// Most routes of ours one delete removes for a prefix this handle did not install.
const MAX_UNKNOWN_HOPS: usize = 64;
/// Messages read while waiting for the answer to an `RTM_GET` (the socket also sees every
/// other routing change of the system).
const MAX_READS: usize = 4096;

/// `struct rt_metrics` from illumos's `<net/route.h>`.
#[repr(C)]
#[allow(dead_code)] // only its layout is used, to check the offsets below
struct RtMetrics {
    rmx_locks: u32,
    rmx_mtu: u32,
    rmx_hopcount: u32,
    rmx_expire: u32,
    rmx_recvpipe: u32,
    rmx_sendpipe: u32,
    rmx_ssthresh: u32,
    rmx_rtt: u32,
    rmx_rttvar: u32,
    rmx_pksent: u32,
}

/// `struct rt_msghdr` from illumos's `<net/route.h>`. Messages are written field by field
/// at these offsets (no unsafe byte views); the asserts tie the two together.
#[repr(C)]
#[allow(dead_code)]
struct RtMsghdr {
    rtm_msglen: u16,
    rtm_version: u8,
    rtm_type: u8,
    rtm_index: u16,
    rtm_flags: libc::c_int,
    rtm_addrs: libc::c_int,
    rtm_pid: libc::pid_t,
    rtm_seq: libc::c_int,
    rtm_errno: libc::c_int,
    rtm_use: libc::c_int,
    rtm_inits: libc::c_uint,
    rtm_rmx: RtMetrics,
}

const HDR_LEN: usize = size_of::<RtMsghdr>();
const OFF_FLAGS: usize = offset_of!(RtMsghdr, rtm_flags);
const OFF_ADDRS: usize = offset_of!(RtMsghdr, rtm_addrs);
const OFF_PID: usize = offset_of!(RtMsghdr, rtm_pid);
const OFF_SEQ: usize = offset_of!(RtMsghdr, rtm_seq);
const OFF_ERRNO: usize = offset_of!(RtMsghdr, rtm_errno);
const _: () = assert!(HDR_LEN == 76 && OFF_FLAGS == 8 && OFF_ADDRS == 12 && OFF_PID == 16);
const _: () = assert!(OFF_SEQ == 20 && OFF_ERRNO == 24);
/// The kernel reads sockaddrs back to back, each of its family's size (no padding).
const SIN_LEN: usize = size_of::<libc::sockaddr_in>();
const SIN6_LEN: usize = size_of::<libc::sockaddr_in6>();
const _: () = assert!(SIN_LEN == 16 && SIN6_LEN == 32);

pub(super) struct Fib {
    /// Requests; our own messages are not looped back to it.
    fd: OwnedFd,
    /// `RTM_GET` questions and their answers; opened when first needed.
    query: Option<OwnedFd>,
    settings: Settings,
    seq: i32,
    /// Next hops this handle installed, per prefix.
    installed: HashMap<(IpAddr, u8), Vec<IpAddr>>,
}

fn route_socket() -> io::Result<OwnedFd> {
    // SAFETY: socket(2) takes plain integers; on success it returns a new descriptor that
    // nothing else owns, which OwnedFd takes over.
    let fd = unsafe { libc::socket(libc::PF_ROUTE, libc::SOCK_RAW, libc::AF_UNSPEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by socket(2) and is owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

impl Fib {
    pub(super) fn open(settings: Settings) -> io::Result<Fib> {
        if settings.table != TABLE_MAIN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("illumos has one routing table per zone: table must be {TABLE_MAIN}, not {}", settings.table),
            ));
        }
        let fd = route_socket()?;
        let off: libc::c_int = 0;
        // SAFETY: `fd` is open; `off` is an initialised c_int that outlives the call and the
        // length passed is its size; the kernel only reads it.
        let rc = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_USELOOPBACK,
                (&off as *const libc::c_int).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Fib { fd, query: None, settings, seq: 0, installed: HashMap::new() })
    }

    pub(super) fn settings(&self) -> Settings {
        self.settings
    }

    pub(super) fn apply(&mut self, batch: &[Change]) -> io::Result<Vec<(usize, io::Error)>> {
        let mut failures = Vec::new();
        for (i, change) in batch.iter().enumerate() {
            let result = match change {
                Change::Replace(route) => self.replace(route),
                Change::Delete { dst, len } => self.delete(*dst, *len),
            };
            if let Err(e) = result {
                failures.push((i, e));
            }
        }
        Ok(failures)
    }

    pub(super) fn list_own(&mut self) -> io::Result<Vec<Route>> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "listing kernel routes is not supported by tern on illumos (the routing socket cannot list them)",
        ))
    }

    pub(super) fn flush_own(&mut self) -> io::Result<usize> {
        let prefixes: Vec<(IpAddr, u8)> = self.installed.keys().copied().collect();
        let mut removed = 0;
        let mut first_error = None;
        for (dst, len) in prefixes {
            match self.delete(dst, len) {
                Ok(()) => removed += 1,
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            None => Ok(removed),
            Some(e) => Err(io::Error::new(e.kind(), format!("some routes of ours could not be removed: {e}"))),
        }
    }

    fn replace(&mut self, route: &Route) -> io::Result<()> {
        let hops = check_route(route)?;
        let key = (route.dst, route.len);
        let old = self.installed.get(&key).cloned().unwrap_or_default();
        let mut added = Vec::new();
        for &hop in hops.iter().filter(|h| !old.contains(h)) {
            match self.request(RTM_ADD, route.dst, route.len, hop) {
                Ok(()) => added.push(hop),
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {} // already there
                Err(e) => {
                    for &undo in &added {
                        let _ = self.request(RTM_DELETE, route.dst, route.len, undo);
                    }
                    return Err(e);
                }
            }
        }
        for &hop in old.iter().filter(|h| !hops.contains(h)) {
            match self.request(RTM_DELETE, route.dst, route.len, hop) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
                Err(e) => {
                    // The new next hops are in; the old one stays too: remember it.
                    let mut now = hops.clone();
                    now.extend(old.iter().filter(|h| !hops.contains(h)));
                    self.installed.insert(key, now);
                    return Err(e);
                }
            }
        }
        self.installed.insert(key, hops);
        Ok(())
    }

    fn delete(&mut self, dst: IpAddr, len: u8) -> io::Result<()> {
        check_prefix(dst, len)?;
        let key = (dst, len);
        let Some(hops) = self.installed.remove(&key) else {
            return self.delete_unknown(dst, len);
        };
        for (n, &hop) in hops.iter().enumerate() {
            match self.request(RTM_DELETE, dst, len, hop) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
                Err(e) => {
                    self.installed.insert(key, hops[n..].to_vec());
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Deletes our routes for a prefix this handle did not install: asks the kernel for the
    /// route and deletes it by its gateway while it is one of ours.
    fn delete_unknown(&mut self, dst: IpAddr, len: u8) -> io::Result<()> {
        for _ in 0..MAX_UNKNOWN_HOPS {
            let Some((flags, gateway)) = self.get(dst, len)? else { return Ok(()) };
            if flags & RTF_PROTO1 == 0 {
                return Ok(()); // not ours: leave it
            }
            let Some(gateway) = gateway else { return Ok(()) };
            match self.request(RTM_DELETE, dst, len, gateway) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn next_seq(&mut self) -> i32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// One add or delete of `dst/len` via `gateway`.
    fn request(&mut self, kind: u8, dst: IpAddr, len: u8, gateway: IpAddr) -> io::Result<()> {
        let seq = self.next_seq();
        let msg = message(kind, seq, dst, len, Some(gateway));
        write(&self.fd, &msg)
    }

    /// The flags and gateway of the kernel's route for exactly `dst/len`, if any.
    fn get(&mut self, dst: IpAddr, len: u8) -> io::Result<Option<(i32, Option<IpAddr>)>> {
        if self.query.is_none() {
            let fd = route_socket()?;
            let timeout = libc::timeval { tv_sec: 2, tv_usec: 0 };
            // SAFETY: `fd` is open; `timeout` is an initialised timeval that outlives the call
            // and the length passed is its size; the kernel only reads it.
            let rc = unsafe {
                libc::setsockopt(
                    fd.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_RCVTIMEO,
                    (&timeout as *const libc::timeval).cast(),
                    size_of::<libc::timeval>() as libc::socklen_t,
                )
            };
            if rc != 0 {
                return Err(io::Error::last_os_error());
            }
            self.query = Some(fd);
        }
        let seq = self.next_seq();
        let msg = message(RTM_GET, seq, dst, len, None);
        let Some(fd) = self.query.as_ref() else { unreachable!("opened above") };
        match write(fd, &msg) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return Ok(None),
            Err(e) => return Err(e),
        }
        let pid = std::process::id() as i32;
        let mut buf = vec![0u8; 2048];
        for _ in 0..MAX_READS {
            let n = read(fd, &mut buf)?;
            let m = &buf[..n];
            if n < HDR_LEN || m[2] != RTM_VERSION || m[3] != RTM_GET || int(m, OFF_SEQ) != seq || int(m, OFF_PID) != pid
            {
                continue; // another routing message of the system
            }
            if int(m, OFF_ERRNO) != 0 {
                return Ok(None);
            }
            let flags = int(m, OFF_FLAGS);
            let addrs = int(m, OFF_ADDRS);
            // Sockaddrs in bit order: the destination, then the gateway.
            let mut off = HDR_LEN;
            if addrs & RTA_DST != 0 {
                off += sockaddr_len(m, off).unwrap_or(m.len());
            }
            let gateway = if addrs & RTA_GATEWAY != 0 { parse_sockaddr(m, off) } else { None };
            return Ok(Some((flags, gateway)));
        }
        Err(io::Error::new(io::ErrorKind::TimedOut, "routing socket: no answer to RTM_GET"))
    }
}

fn int(m: &[u8], off: usize) -> i32 {
    i32::from_ne_bytes([m[off], m[off + 1], m[off + 2], m[off + 3]])
}

/// A routing message: header, then the destination, gateway and netmask sockaddrs.
fn message(kind: u8, seq: i32, dst: IpAddr, len: u8, gateway: Option<IpAddr>) -> Vec<u8> {
    let full = if dst.is_ipv4() { 32 } else { 128 };
    let mut flags = RTF_UP | RTF_PROTO1;
    if gateway.is_some() {
        flags |= RTF_GATEWAY;
    }
    if len == full {
        flags |= RTF_HOST;
    }
    let mut addrs = RTA_DST | RTA_NETMASK;
    if gateway.is_some() {
        addrs |= RTA_GATEWAY;
    }
    let mut m = vec![0u8; HDR_LEN];
    m[2] = RTM_VERSION;
    m[3] = kind;
    m[OFF_FLAGS..OFF_FLAGS + 4].copy_from_slice(&flags.to_ne_bytes());
    m[OFF_ADDRS..OFF_ADDRS + 4].copy_from_slice(&addrs.to_ne_bytes());
    m[OFF_SEQ..OFF_SEQ + 4].copy_from_slice(&seq.to_ne_bytes());
    push_sockaddr(&mut m, dst);
    if let Some(g) = gateway {
        push_sockaddr(&mut m, g);
    }
    push_sockaddr(&mut m, netmask(dst, len));
    let total = u16::try_from(m.len()).expect("a routing message is short");
    m[0..2].copy_from_slice(&total.to_ne_bytes());
    m
}

fn netmask(dst: IpAddr, len: u8) -> IpAddr {
    match dst {
        IpAddr::V4(_) => {
            let bits = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) };
            IpAddr::V4(bits.into())
        }
        IpAddr::V6(_) => {
            let bits = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) };
            IpAddr::V6(bits.into())
        }
    }
}

/// Appends `sockaddr_in` / `sockaddr_in6` (illumos layout) for `ip`, port and scope zero.
fn push_sockaddr(m: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(a) => {
            m.extend((libc::AF_INET as libc::sa_family_t).to_ne_bytes());
            m.extend([0, 0]); // sin_port
            m.extend(a.octets());
            m.extend([0; 8]); // sin_zero
        }
        IpAddr::V6(a) => {
            m.extend((libc::AF_INET6 as libc::sa_family_t).to_ne_bytes());
            m.extend([0, 0]); // sin6_port
            m.extend([0; 4]); // sin6_flowinfo
            m.extend(a.octets());
            m.extend([0; 8]); // sin6_scope_id, __sin6_src_id
        }
    }
}

fn family_at(m: &[u8], off: usize) -> Option<libc::c_int> {
    let b = m.get(off..off + 2)?;
    Some(libc::c_int::from(u16::from_ne_bytes([b[0], b[1]])))
}

fn sockaddr_len(m: &[u8], off: usize) -> Option<usize> {
    match family_at(m, off)? {
        libc::AF_INET => Some(SIN_LEN),
        libc::AF_INET6 => Some(SIN6_LEN),
        _ => None,
    }
}

fn parse_sockaddr(m: &[u8], off: usize) -> Option<IpAddr> {
    match family_at(m, off)? {
        libc::AF_INET => {
            let a: [u8; 4] = m.get(off + 4..off + 8)?.try_into().ok()?;
            Some(IpAddr::from(a))
        }
        libc::AF_INET6 => {
            let a: [u8; 16] = m.get(off + 8..off + 24)?.try_into().ok()?;
            Some(IpAddr::from(a))
        }
        _ => None,
    }
}

fn write(fd: &OwnedFd, msg: &[u8]) -> io::Result<()> {
    loop {
        // SAFETY: `fd` is open for the call; `msg` is valid for reads of `msg.len()` octets
        // and outlives the call; the kernel only reads it.
        let n = unsafe { libc::write(fd.as_raw_fd(), msg.as_ptr().cast(), msg.len()) };
        if n >= 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

fn read(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: `fd` is open for the call; `buf` is valid for writes of `buf.len()` octets
        // and outlives the call; the kernel writes at most that many.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

pub(super) fn enter_netns(_path: &Path) -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "network namespaces are Linux's; illumos has zones"))
}
