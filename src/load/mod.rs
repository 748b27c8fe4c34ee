//! Load generation and measurement: what `tern-load` and the full-table benchmark use to
//! push a table through a router and time it.
//!
//! - [`gen`]: deterministic dense and diverse IPv4 tables (shared with `benches/codec.rs`).

pub mod gen;
