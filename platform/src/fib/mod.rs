//! The kernel's routing table (FIB): install, replace and remove tern's best routes.
//!
//! A small synchronous interface, one implementation per OS:
//!
//! - **Linux** (`linux.rs`): rtnetlink over a plain `NETLINK_ROUTE` socket (the rust-netlink
//!   crates give the message formats). Routes carry protocol `bgp` (186 by default), the
//!   configured table and metric; IPv4 and IPv6; equal-cost next hops become ONE multipath
//!   route (`RTA_MULTIPATH`). A [`Change::Replace`] is `RTM_NEWROUTE` with
//!   `NLM_F_CREATE|NLM_F_REPLACE`, a [`Change::Delete`] is `RTM_DELROUTE` restricted to our
//!   protocol, table and metric. A batch is pipelined: many requests go out in one `sendmsg`,
//!   each with `NLM_F_ACK` and its own sequence number, and the acks are read afterwards and
//!   mapped back to their change. Windows are sized to the socket's receive buffer; if the
//!   kernel still drops acks (`ENOBUFS`) the unacknowledged changes are sent again, which is
//!   safe because replace and delete are idempotent.
//! - **illumos** (`illumos.rs`): the routing socket (`PF_ROUTE`, `RTM_ADD`/`RTM_CHANGE`/
//!   `RTM_DELETE` with sockaddrs). It compiles for `x86_64-unknown-illumos` but **has never
//!   been run on illumos**. illumos has a single table per zone and no route protocol or
//!   metric: [`Settings::table`] must be [`TABLE_MAIN`], the metric is ignored, tern's routes
//!   are marked `RTF_PROTO1`, multipath is one route per next hop. The routing socket cannot
//!   list routes (that needs the MIB interface of `/dev/ip`): [`Fib::list_own`] reports
//!   `Unsupported` and [`Fib::flush_own`] removes only the routes this handle installed, so
//!   routes an earlier run left behind stay until removed by hand.
//! - **Other systems**: every call reports `Unsupported`.
//!
//! A route the kernel refuses (an unreachable next hop: `ENETUNREACH`; a malformed change:
//! `InvalidInput`) is reported for that change alone; the rest of the batch is applied.

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::path::Path;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
use linux as imp;

#[cfg(target_os = "illumos")]
mod illumos;
#[cfg(target_os = "illumos")]
use illumos as imp;

#[cfg(not(any(target_os = "linux", target_os = "illumos")))]
mod unsupported;
#[cfg(not(any(target_os = "linux", target_os = "illumos")))]
use unsupported as imp;

/// `RTPROT_BGP`: the route protocol number Linux tools show as `proto bgp`.
pub const PROTO_BGP: u8 = 186;
/// `RT_TABLE_MAIN`: the table `ip route` shows by default.
pub const TABLE_MAIN: u32 = 254;

/// A route to install: `dst/len` via one next hop, or via several of equal cost (multipath).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Route {
    /// The destination prefix; its host bits must be zero.
    pub dst: IpAddr,
    /// The prefix length: at most 32 for IPv4, 128 for IPv6.
    pub len: u8,
    /// Gateways of the same family as `dst`, reachable on a connected subnet. More than one
    /// makes an ECMP route. Duplicates are dropped.
    pub next_hops: Vec<IpAddr>,
}

/// One change to the kernel table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Install the route, replacing whatever route of the same prefix and metric the table
    /// holds (a new best path replaces the old one in place, without a gap). On Linux that
    /// is any route of that prefix and metric in the table, whatever its protocol: give tern
    /// a metric no other route source uses there.
    Replace(Route),
    /// Remove our route for this prefix. A route that is already gone counts as removed.
    Delete { dst: IpAddr, len: u8 },
}

/// Where and how tern's routes are installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Routing table id (Linux: 1..=2^32-1; ids above 255 go in `RTA_TABLE`).
    pub table: u32,
    /// Route metric (Linux `RTA_PRIORITY`); lower wins when the table has several routes
    /// for a prefix.
    pub metric: u32,
    /// Route protocol that marks tern's routes, so that a later run finds them: 186 (`bgp`).
    /// 0–4 (unspec, redirect, kernel, boot, static) are refused: deleting or flushing by
    /// such a protocol would touch routes that are not tern's.
    pub protocol: u8,
}

impl Default for Settings {
    /// Main table, metric 20, protocol `bgp`.
    fn default() -> Self {
        Settings { table: TABLE_MAIN, metric: 20, protocol: PROTO_BGP }
    }
}

impl Settings {
    fn validate(&self) -> io::Result<()> {
        if self.protocol <= 4 {
            return Err(invalid(format!(
                "route protocol {} is reserved for the kernel and the administrator; tern's routes need their \
                 own (186 = bgp)",
                self.protocol
            )));
        }
        if self.table == 0 {
            return Err(invalid("routing table 0 means 'unspecified'; use 254 for the main table".into()));
        }
        Ok(())
    }
}

/// An error the kernel reported for one change, with the explanation it attached (Linux
/// extended acks, e.g. "Nexthop has invalid gateway"). Wrapped in an [`io::Error`] of the
/// errno's kind; [`errno`] recovers the number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError {
    pub errno: i32,
    pub message: String,
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", io::Error::from_raw_os_error(self.errno), self.message)
    }
}

impl std::error::Error for KernelError {}

/// The errno of an error from this module: the raw OS error, or that of a [`KernelError`].
pub fn errno(e: &io::Error) -> Option<i32> {
    e.raw_os_error().or_else(|| e.get_ref()?.downcast_ref::<KernelError>().map(|k| k.errno))
}

/// An `io::Error` for `errno`, carrying the kernel's explanation when there is one.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) fn kernel_error(errno: i32, message: Option<String>) -> io::Error {
    match message {
        None => io::Error::from_raw_os_error(errno),
        Some(message) => io::Error::new(io::Error::from_raw_os_error(errno).kind(), KernelError { errno, message }),
    }
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// Checks a prefix: length within the family, no host bits.
#[cfg_attr(not(any(target_os = "linux", target_os = "illumos")), allow(dead_code))]
pub(crate) fn check_prefix(dst: IpAddr, len: u8) -> io::Result<()> {
    let (bits, max) = match dst {
        IpAddr::V4(a) => (u128::from(u32::from(a)) << 96, 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    };
    if len > max {
        return Err(invalid(format!("prefix length {len} too long for {dst}")));
    }
    let host = if len == 0 { u128::MAX } else { u128::MAX >> len };
    if bits & host != 0 {
        return Err(invalid(format!("{dst}/{len} has host bits set")));
    }
    Ok(())
}

/// Checks a route and returns its next hops without duplicates, in their first order.
#[cfg_attr(not(any(target_os = "linux", target_os = "illumos")), allow(dead_code))]
pub(crate) fn check_route(route: &Route) -> io::Result<Vec<IpAddr>> {
    check_prefix(route.dst, route.len)?;
    if route.next_hops.is_empty() {
        return Err(invalid(format!("{}/{} has no next hop", route.dst, route.len)));
    }
    let mut hops: Vec<IpAddr> = Vec::with_capacity(route.next_hops.len());
    for &hop in &route.next_hops {
        if hop.is_ipv4() != route.dst.is_ipv4() {
            return Err(invalid(format!("{}/{}: next hop {hop} is of the other address family", route.dst, route.len)));
        }
        if hop.is_unspecified() || hop.is_multicast() {
            return Err(invalid(format!("{}/{}: {hop} cannot be a next hop", route.dst, route.len)));
        }
        if !hops.contains(&hop) {
            hops.push(hop);
        }
    }
    Ok(hops)
}

/// A handle on the kernel routing table, for tern's routes only. Open one per thread that
/// programs routes (tern has one FIB thread); it is `Send`.
pub struct Fib {
    inner: imp::Fib,
}

impl Fib {
    /// Opens the routing socket. On Linux this needs no privilege, but changes need
    /// `CAP_NET_ADMIN`. The socket stays bound to the network namespace of the calling
    /// thread at this moment.
    pub fn open(settings: Settings) -> io::Result<Fib> {
        settings.validate()?;
        Ok(Fib { inner: imp::Fib::open(settings)? })
    }

    /// The settings this handle installs routes with.
    pub fn settings(&self) -> Settings {
        self.inner.settings()
    }

    /// Applies the batch in order and returns the changes that failed, as (index into
    /// `batch`, error), in index order: empty when all succeeded. `Err` only when the socket
    /// itself failed; the batch may then be partly applied.
    ///
    /// Changes to different prefixes are independent, so their order is free, but it matters
    /// to Linux's speed: removing many IPv4 routes in ascending prefix order is several times
    /// slower than in descending or scattered order (1M /24s: 57 s against 12 s and 9 s).
    pub fn apply(&mut self, batch: &[Change]) -> io::Result<Vec<(usize, io::Error)>> {
        self.inner.apply(batch)
    }

    /// The routes of our protocol in our table, whatever their metric: what an earlier run
    /// left behind (or what this one installed).
    pub fn list_own(&mut self) -> io::Result<Vec<Route>> {
        self.inner.list_own()
    }

    /// Removes every route of our protocol in our table; returns how many were removed.
    pub fn flush_own(&mut self) -> io::Result<usize> {
        self.inner.flush_own()
    }
}

/// Moves the calling thread into the network namespace at `path` (e.g.
/// `/var/run/netns/NAME`, made by `ip netns add NAME`). Only this thread moves: a [`Fib`]
/// opened afterwards on it works in that namespace. Tests and benchmarks use it; the daemon
/// does not. Linux only.
pub fn enter_netns(path: &Path) -> io::Result<()> {
    imp::enter_netns(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn v4(s: &str) -> IpAddr {
        IpAddr::V4(s.parse::<Ipv4Addr>().unwrap())
    }
    fn v6(s: &str) -> IpAddr {
        IpAddr::V6(s.parse::<Ipv6Addr>().unwrap())
    }

    #[test]
    fn a_fib_can_move_to_its_thread() {
        fn send<T: Send>() {}
        send::<Fib>();
    }

    #[test]
    fn prefixes_are_checked() {
        check_prefix(v4("10.0.0.0"), 8).unwrap();
        check_prefix(v4("0.0.0.0"), 0).unwrap();
        check_prefix(v4("10.1.2.3"), 32).unwrap();
        assert!(check_prefix(v4("10.1.0.0"), 8).is_err());
        assert!(check_prefix(v4("10.0.0.0"), 33).is_err());
        assert!(check_prefix(v4("1.0.0.0"), 0).is_err());
        check_prefix(v6("2001:db8::"), 32).unwrap();
        check_prefix(v6("::"), 0).unwrap();
        assert!(check_prefix(v6("2001:db8::1"), 64).is_err());
        assert!(check_prefix(v6("2001:db8::"), 129).is_err());
    }

    #[test]
    fn routes_are_checked_and_next_hops_deduplicated() {
        let r =
            Route { dst: v4("192.0.2.0"), len: 24, next_hops: vec![v4("10.0.0.2"), v4("10.0.0.3"), v4("10.0.0.2")] };
        assert_eq!(check_route(&r).unwrap(), vec![v4("10.0.0.2"), v4("10.0.0.3")]);
        let mixed = Route { dst: v4("192.0.2.0"), len: 24, next_hops: vec![v6("fd00::1")] };
        assert_eq!(check_route(&mixed).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        let none = Route { dst: v6("2001:db8::"), len: 32, next_hops: vec![] };
        assert!(check_route(&none).is_err());
        let unspecified = Route { dst: v4("192.0.2.0"), len: 24, next_hops: vec![v4("0.0.0.0")] };
        assert!(check_route(&unspecified).is_err());
    }

    #[test]
    fn settings_refuse_foreign_protocols_and_table_zero() {
        Settings::default().validate().unwrap();
        for protocol in 0..=4 {
            assert!(Settings { protocol, ..Settings::default() }.validate().is_err());
        }
        assert!(Settings { table: 0, ..Settings::default() }.validate().is_err());
        assert!(Fib::open(Settings { protocol: 4, ..Settings::default() }).is_err());
    }

    #[test]
    fn errno_survives_the_explanation() {
        let plain = kernel_error(libc::ENETUNREACH, None);
        assert_eq!(errno(&plain), Some(libc::ENETUNREACH));
        let explained = kernel_error(libc::ENETUNREACH, Some("Nexthop has invalid gateway".into()));
        assert_eq!(errno(&explained), Some(libc::ENETUNREACH));
        assert_eq!(explained.kind(), io::ErrorKind::NetworkUnreachable);
        assert!(explained.to_string().contains("Nexthop has invalid gateway"), "{explained}");
        assert_eq!(errno(&io::Error::other("x")), None);
    }
}
