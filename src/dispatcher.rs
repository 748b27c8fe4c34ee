//! The dispatcher: one thread per listen address. It accepts connections, looks the peer up
//! by its address and hands the connection to that peer's runner. Connections from
//! addresses that are not configured neighbors are logged, counted and closed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use slog::{debug, info, warn, Logger};

use crate::channels::{Mailbox, RunnerMsg};
use crate::connection::Listener;

/// Where accepted connections go: the runner of each configured neighbor address.
pub type DispatchTable = Arc<RwLock<HashMap<IpAddr, Mailbox>>>;

/// An IPv4-mapped IPv6 address as the IPv4 address it stands for.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

pub fn run(
    listener: Arc<dyn Listener>,
    table: DispatchTable,
    stop: Arc<AtomicBool>,
    unknown: Arc<AtomicU64>,
    log: Logger,
) {
    info!(log, "dispatcher started");
    loop {
        let conn = match listener.accept() {
            Ok(conn) => conn,
            Err(e) => {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                // Running out of descriptors, for example: back off briefly rather than spin.
                warn!(log, "accept failed"; "error" => %e);
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        if stop.load(Ordering::SeqCst) {
            conn.close();
            break;
        }
        let peer = conn.peer_addr();
        let ip = canonical(peer.ip());
        let runner = table.read().unwrap_or_else(|e| e.into_inner()).get(&ip).cloned();
        match runner {
            Some(tx) => {
                debug!(log, "accepted inbound connection from: {}", peer);
                if let Err(crossbeam_channel::SendError(RunnerMsg::Accepted(conn))) = tx.send(RunnerMsg::Accepted(conn))
                {
                    conn.close();
                }
            }
            None => {
                unknown.fetch_add(1, Ordering::Relaxed);
                info!(log, "connection from an address that is not a neighbor, closing"; "peer" => %peer);
                conn.close();
            }
        }
    }
    info!(log, "dispatcher shutdown complete");
}
