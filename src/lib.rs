//! tern: a BGP-4 router for small hosts.
//!
//! The crate is organised as DESIGN.md lays out: a pure protocol core that does no I/O and
//! reads no clock ([`wire`], [`fsm`]), and around it the threads that own sockets and
//! timers ([`session`], [`dispatcher`], [`clock`]), joined by the typed channels of
//! [`channels`] and driven through the [`router`] API. Every libc call, and every block the
//! compiler cannot check, lives in the `tern-platform` crate; this crate forbids them
//! (`forbid(unsafe_code)` below).
//!
//! A router with one eBGP neighbor that exchanges everything, announcing one prefix:
//!
//! ```no_run
//! use std::sync::Arc;
//! use tern::policy::Policy;
//! use tern::{NeighborConfig, Router, RouterConfig};
//!
//! # fn main() -> anyhow::Result<()> {
//! let mut cfg = RouterConfig::new(65001, "192.0.2.1".parse()?);
//! cfg.listen = vec!["192.0.2.1:179".parse()?];
//! cfg.state_dir = Some("/var/lib/tern".into());
//! let log = tern::log::terminal(slog::Level::Info);
//! let mut router = Router::start(cfg.clone(), Arc::new(tern::connection::tcp::Tcp), log)?;
//!
//! let mut peer = NeighborConfig::new("r2", "192.0.2.2".parse()?, 65002, &cfg);
//! peer.local_address = Some("192.0.2.1".parse()?);
//! // RFC 8212: an eBGP neighbor without policies exchanges nothing.
//! peer.rib.import = Some(Arc::new(Policy::accept_all()));
//! peer.rib.export = Some(Arc::new(Policy::accept_all()));
//! router.add_neighbor(peer)?;
//!
//! router.announce("198.51.100.0/24".parse()?, Default::default())?; // kept across restarts
//! if let Some(route) = router.lookup("203.0.113.0/24".parse()?) {
//!     println!("{} paths, best chosen by {}", route.paths.len(), route.reason);
//! }
//! router.shutdown(Some("maintenance".into())); // Cease / Administrative Shutdown to every peer
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

pub mod channels;
pub mod clock;
pub mod config;
pub mod connection;
pub mod control;
pub mod daemon;
pub mod dispatcher;
pub mod fib;
pub mod fsm;
pub mod keepalive;
pub mod load;
pub mod log;
pub mod policy;
pub mod rib;
pub mod router;
pub mod session;
pub mod store;
pub mod threads;
pub mod wire;

pub use router::{NeighborConfig, Router, RouterConfig};
