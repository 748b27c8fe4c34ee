//! The admin socket: how `ternctl` (or any script) talks to a running `ternd`.
//!
//! A Unix stream socket (mode 0660: its group decides who may run ternctl) carrying JSON
//! lines: the client writes one [`Request`] per line and reads one [`Response`] per line.
//! Requests and responses are typed ([`proto`]); ternctl renders them as text tables
//! ([`render`]) or prints the JSON as it came (`--json`).
//!
//! ```text
//!  ternctl ──line──▶ [server thread: accept, read, parse] ──Command──▶ daemon main loop
//!          ◀─line───                                      ◀─Response── (owns the Router)
//! ```
//!
//! The server thread only frames and parses; the daemon's main thread owns the router and
//! answers, so a request never races a reload.

pub mod client;
pub mod proto;
pub mod render;
pub mod server;

pub use proto::{Reply, Request, Response};
