//! tern: a BGP-4 router for small hosts.
//!
//! The crate is organised as DESIGN.md lays out: a pure protocol core (`wire`, and
//! later `fsm`, `rib`, `policy`) that does no I/O and reads no clock, and around it the
//! threads that own sockets, timers and the kernel. Everything that needs `unsafe` or a
//! libc call lives in the `tern-platform` crate; this crate forbids `unsafe`.
#![forbid(unsafe_code)]

pub mod fsm;
pub mod wire;
