//! tern: a BGP-4 router for small hosts.
//!
//! The crate is organised as DESIGN.md lays out: a pure protocol core that does no I/O and
//! reads no clock ([`wire`], [`fsm`]), and around it the threads that own sockets and
//! timers ([`session`], [`dispatcher`], [`clock`]), joined by the typed channels of
//! [`channels`] and driven through the [`router`] API. Everything that needs `unsafe` or a
//! libc call lives in the `tern-platform` crate; this crate forbids `unsafe`.
#![forbid(unsafe_code)]

pub mod channels;
pub mod clock;
pub mod connection;
pub mod dispatcher;
pub mod fsm;
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
