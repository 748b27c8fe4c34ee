//! The reference scenario over the in-memory network.

mod harness;

use std::time::Duration;

use harness::{ip, reference_scenario};
use tern::connection::mem::{Mem, MemNetwork};

#[test]
fn reference_session_lower_identifier_first() {
    let net = std::sync::Arc::new(Mem(MemNetwork::new()));
    reference_scenario(net, ip("10.0.0.1"), ip("10.0.0.2"), 1, 2, false, Duration::from_secs(7));
}

#[test]
fn forced_collision_resolved_by_identifier_both_orders() {
    for (id_a, id_b) in [(1, 2), (2, 1)] {
        let net = std::sync::Arc::new(Mem(MemNetwork::new()));
        reference_scenario(net, ip("10.0.0.1"), ip("10.0.0.2"), id_a, id_b, true, Duration::from_secs(4));
    }
}
