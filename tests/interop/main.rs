//! tern against the other BGP-4 implementations, as real processes: BIRD 2, FRR bgpd,
//! GoBGP and OpenBGPD (Debian packages `bird2`, `frr`, `gobgpd`, `openbgpd`; a test whose
//! peer is missing fails naming the package).
//!
//! Every test makes a network namespace of its own ([`ternd::Netns`]): `lo` up, so tern is
//! 127.0.0.1 and fd00:7e57::1, peer number n is 127.0.0.n and fd00:7e57::n (see
//! [`peer`]). `ternd`, `ternctl`, the peer daemons and their command line tools all run in
//! it (`ip netns exec`); every daemon binds to its own addresses only, nothing touches a
//! kernel routing table (BIRD has no kernel protocol, FRR runs with `-Z`, OpenBGPD with
//! `fib-update no`, GoBGP never installs, tern's `[fib]` is off), and every process is
//! stopped by its PID and every directory and namespace removed at the end, pass or fail.
//! Tests of different peers run in parallel; the whole suite takes about 70 s.
//!
//! What is checked is what the other side actually received, read from its own CLI
//! (`birdc show route all`, `vtysh show bgp ... json`, `gobgp neighbor ADDR adj-in -j`,
//! `bgpctl -j show rib detail`) and from `ternctl --json show route`: AS_PATH, next hop, MED,
//! LOCAL_PREF, communities, large communities, path counts and tern's decision reason.
//!
//! - [`scenarios`]: what every implementation runs ([`scenarios::interop_tests!`]): eBGP
//!   and iBGP over IPv4 and IPv6 with routes both ways, attribute round trips peer → tern →
//!   peer, MED and LOCAL_PREF per RFC 4271, changes and withdrawals, a peer killed and
//!   started again, RFC 9003 shutdown messages, route refresh both ways, ADD-PATH, TCP-MD5;
//!   and the full table: 100,000 prefixes from BIRD through tern to GoBGP.
//! - [`bird`], [`frr`], [`gobgp`], [`openbgpd`]: each implementation's process, configuration
//!   and queries, its generic tests, and its own (FRR: route refresh in detail).
//!
//! MATRIX.md (next to this file) has the feature × implementation results.

#[path = "../ternd/mod.rs"]
mod ternd;

mod peer;
mod scenarios;

mod bird;
mod frr;
mod gobgp;
mod openbgpd;
