//! The library API: build a router, give it neighbors, watch them, stop it.
//!
//! [`Router::start`] binds the listen addresses and starts the clock and one dispatcher per
//! address; [`Router::add_neighbor`] starts a session runner per peer; [`Router::shutdown`]
//! sends every peer Cease / Administrative Shutdown and joins every thread the router
//! started. The daemon (`ternd`) and the configuration file sit on top of this API.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{bail, Context};
use crossbeam_channel::{unbounded, Sender};
use slog::{info, o, Logger};

use crate::channels::{ClockMsg, Control, Mailbox, RunnerMsg, Wakeup};
use crate::clock::{self, Epoch};
use crate::connection::{Listener, SocketOpts, Transport};
use crate::dispatcher::{self, DispatchTable};
use crate::fsm::{Fsm, SessionConfig, Stop};
use crate::rib::decision::DecisionConfig;
use crate::rib::{Answer, PeerId, PeerInfo, PeerRules, Query, Rib, RibMsg, RibView, RouteInfo, RouteQuery};
use crate::session::status::{PeerCell, PeerStatus};
use crate::session::{self, RunnerSetup};
use crate::store::Store;
use crate::threads::Threads;
use crate::wire::{PathAttributes, Prefix};

/// The BGP port.
pub const BGP_PORT: u16 = 179;

#[derive(Debug, Clone, PartialEq)]
pub struct RouterConfig {
    pub asn: u32,
    pub router_id: Ipv4Addr,
    pub listen: Vec<SocketAddr>,
    /// The clock thread's tick.
    pub resolution: Duration,
    pub decision: DecisionConfig,
    /// Route reflection cluster id (RFC 4456); the router id when unset.
    pub cluster_id: Option<Ipv4Addr>,
    /// Where runtime state (announcements made with the API or `ternctl`) is kept across
    /// restarts; `None` keeps nothing.
    pub state_dir: Option<std::path::PathBuf>,
    /// Install best routes into the kernel's routing table (`[fib]`); `None` does not.
    pub fib: Option<crate::fib::FibSettings>,
}

impl RouterConfig {
    pub fn new(asn: u32, router_id: Ipv4Addr) -> RouterConfig {
        RouterConfig {
            asn,
            router_id,
            listen: vec![SocketAddr::from(([0, 0, 0, 0], BGP_PORT)), SocketAddr::from(([0u16; 8], BGP_PORT))],
            resolution: Duration::from_millis(100),
            decision: DecisionConfig::default(),
            cluster_id: None,
            state_dir: None,
            fib: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NeighborConfig {
    pub name: String,
    pub address: IpAddr,
    pub port: u16,
    pub local_address: Option<IpAddr>,
    pub md5_key: Option<String>,
    /// GTSM with this many hops (1: directly connected).
    pub ttl_security: Option<u8>,
    /// Added without starting the session (the operator disabled it); `Control::Start`
    /// starts it.
    pub admin_down: bool,
    pub session: SessionConfig,
    /// Import and export policy, route reflection, max-prefix and the like.
    pub rib: PeerRules,
}

impl NeighborConfig {
    /// A neighbor with the router's AS and identifier and default timers.
    pub fn new(name: &str, address: IpAddr, remote_asn: u32, router: &RouterConfig) -> NeighborConfig {
        NeighborConfig {
            name: name.to_string(),
            address,
            port: BGP_PORT,
            local_address: None,
            md5_key: None,
            ttl_security: None,
            admin_down: false,
            session: SessionConfig::new(router.asn, router.router_id, Some(remote_asn)),
            rib: PeerRules::default(),
        }
    }

    fn socket_opts(&self, resolution: Duration) -> SocketOpts {
        SocketOpts {
            local_addr: self.local_address,
            md5_key: self.md5_key.as_ref().map(|k| k.as_bytes().to_vec()),
            ttl_security: self.ttl_security,
            write_timeout: resolution.min(Duration::from_millis(50)),
        }
    }
}

struct Peer {
    cfg: NeighborConfig,
    /// Stopped by the configuration (`disabled = true`); the session runs only while
    /// neither this nor `op_off` is set.
    cfg_off: bool,
    /// Stopped by the operator (`ternctl disable`, stored across restarts).
    op_off: bool,
    tx: Mailbox,
    status: Arc<PeerCell>,
    join: JoinHandle<()>,
    clock_id: u64,
    peer_id: PeerId,
}

/// Which table [`Router::routes`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteView {
    Loc,
    In(IpAddr),
    Out(IpAddr),
}

pub struct Router {
    cfg: RouterConfig,
    transport: Arc<dyn Transport>,
    log: Logger,
    epoch: Epoch,
    threads: Threads,
    clock_tx: Sender<ClockMsg>,
    clock: Option<JoinHandle<()>>,
    listeners: Vec<(Arc<dyn Listener>, JoinHandle<()>)>,
    dispatch_stop: Arc<AtomicBool>,
    table: DispatchTable,
    peers: HashMap<IpAddr, Peer>,
    next_clock_id: u64,
    next_peer_id: PeerId,
    rib_tx: Sender<RibMsg>,
    rib: Option<JoinHandle<()>>,
    fib_tx: Option<Sender<crate::fib::FibMsg>>,
    fib: Option<JoinHandle<()>>,
    store: Option<Store>,
    unknown_connections: Arc<AtomicU64>,
    stopped: bool,
}

impl Router {
    /// Binds every listen address and starts the clock and the dispatchers. Fails, with
    /// nothing left running, when an address cannot be bound.
    pub fn start(cfg: RouterConfig, transport: Arc<dyn Transport>, log: Logger) -> anyhow::Result<Router> {
        let log = log.new(o!("router_id" => cfg.router_id.to_string()));
        let store = cfg.state_dir.as_deref().map(Store::open).transpose()?;
        let stored = store.as_ref().map(Store::origins).transpose()?.unwrap_or_default();
        let mut bound = Vec::new();
        for addr in &cfg.listen {
            let listener = transport.listen(*addr).with_context(|| format!("cannot listen on {addr}"))?;
            bound.push(listener);
        }
        let threads = Threads::default();
        let epoch = Epoch::now();
        let (clock_tx, clock_rx) = unbounded();
        let clock_log = log.new(o!("unit" => "clock"));
        let resolution = cfg.resolution;
        let clock = threads.spawn("tern-clock".into(), move || clock::run(resolution, epoch, clock_rx, clock_log))?;
        let (rib_tx, rib_rx) = unbounded();
        let mut rib = Rib::new(cfg.asn, cfg.router_id, cfg.decision.clone(), log.new(o!("unit" => "rib")));
        if let Some(id) = cfg.cluster_id {
            rib.cluster_id = id;
        }
        let (fib_tx, fib) = match cfg.fib {
            Some(settings) => {
                let flog = log.new(o!("unit" => "fib"));
                let kernel = crate::fib::open(settings, &flog)?;
                let (tx, rx) = unbounded();
                rib.set_fib(tx.clone());
                let join = threads.spawn("tern-fib".into(), move || crate::fib::run(kernel, settings, rx, flog))?;
                (Some(tx), Some(join))
            }
            None => (None, None),
        };
        let rib = threads.spawn("tern-rib".into(), move || rib.run(rib_rx))?;
        let mut router = Router {
            cfg,
            transport,
            log,
            epoch,
            threads,
            clock_tx,
            clock: Some(clock),
            listeners: Vec::new(),
            dispatch_stop: Arc::new(AtomicBool::new(false)),
            table: DispatchTable::default(),
            peers: HashMap::new(),
            next_clock_id: 0,
            next_peer_id: 1,
            rib_tx,
            rib: Some(rib),
            fib_tx,
            fib,
            store,
            unknown_connections: Arc::new(AtomicU64::new(0)),
            stopped: false,
        };
        for listener in bound {
            let addr = listener.local_addr();
            let log = router.log.new(o!("unit" => "dispatcher", "listen_address" => addr.to_string()));
            let (l, table, stop, unknown) = (
                listener.clone(),
                router.table.clone(),
                router.dispatch_stop.clone(),
                router.unknown_connections.clone(),
            );
            let join = router
                .threads
                .spawn(format!("tern-ls-{addr}"), move || dispatcher::run(l, table, stop, unknown, log))?;
            router.listeners.push((listener, join));
        }
        if !stored.is_empty() {
            info!(router.log, "announcing prefixes stored by an earlier run"; "count" => stored.len());
        }
        for (prefix, attrs) in stored {
            router.originate(prefix, attrs);
        }
        info!(router.log, "router started"; "asn" => router.cfg.asn, "listen" => ?router.cfg.listen);
        Ok(router)
    }

    pub fn config(&self) -> &RouterConfig {
        &self.cfg
    }

    /// The addresses actually bound (useful with port 0).
    pub fn listen_addrs(&self) -> Vec<SocketAddr> {
        self.listeners.iter().map(|(l, _)| l.local_addr()).collect()
    }

    /// Starts a session with a new neighbor.
    pub fn add_neighbor(&mut self, n: NeighborConfig) -> anyhow::Result<()> {
        let address = dispatcher::canonical(n.address);
        if self.peers.contains_key(&address) {
            bail!("neighbor {} ({}) is already configured", n.address, n.name);
        }
        if let Some(key) = &n.md5_key {
            for (l, _) in &self.listeners {
                l.set_peer_key(address, Some(key.as_bytes()))
                    .with_context(|| format!("cannot set the TCP-MD5 key for {address} on {}", l.local_addr()))?;
            }
        }
        let (tx, rx) = unbounded();
        let wakeup = Arc::new(Wakeup::default());
        let status = PeerCell::new(PeerStatus::new(n.name.clone(), address));
        let seed = u64::from(u32::from(self.cfg.router_id)) << 32 ^ hash_ip(address);
        let peer_id = self.next_peer_id;
        self.next_peer_id += 1;
        let remote_asn = n.session.remote_asn.unwrap_or(0);
        let info = PeerInfo {
            id: peer_id,
            name: n.name.clone(),
            address,
            asn: remote_asn,
            router_id: Ipv4Addr::UNSPECIFIED,
            ebgp: remote_asn != self.cfg.asn,
            rr_client: n.rib.route_reflector_client,
        };
        let _ = self.rib_tx.send(RibMsg::AddPeer { info, rules: n.rib.clone() });
        let setup = RunnerSetup {
            name: n.name.clone(),
            address,
            port: n.port,
            opts: n.socket_opts(self.cfg.resolution),
            fsm: Fsm::new(n.session.clone(), seed),
            transport: self.transport.clone(),
            rx,
            tx: tx.clone(),
            wakeup: wakeup.clone(),
            epoch: self.epoch,
            status: status.clone(),
            threads: self.threads.clone(),
            log: self.log.new(o!("neighbor" => address.to_string(), "neighbor_name" => n.name.clone())),
            peer_id,
            rib: self.rib_tx.clone(),
        };
        let join = self.threads.spawn(format!("tern-ss-{address}"), move || session::run(setup))?;
        let tx = Mailbox::new(tx, join.thread().clone());
        let clock_id = self.next_clock_id;
        self.next_clock_id += 1;
        let _ = self.clock_tx.send(ClockMsg::Register { id: clock_id, wakeup, tx: tx.clone() });
        self.table.write().unwrap_or_else(|e| e.into_inner()).insert(address, tx.clone());
        let stored = match &self.store {
            Some(store) => store.disabled_reason(address).unwrap_or_else(|e| {
                slog::warn!(self.log, "cannot read the stored state of a neighbor; starting it"; "neighbor" => %address, "error" => %e);
                None
            }),
            None => None,
        };
        let (cfg_off, op_off) = (n.admin_down, stored.is_some());
        if cfg_off || op_off {
            info!(self.log, "neighbor is disabled, not starting its session"; "neighbor" => %address, "name" => &n.name,
                "by" => if op_off { "operator (stored)" } else { "configuration" });
            // Stopped with the reason, so that the peer's connections are refused with it.
            let reason = stored.filter(|r| !r.is_empty()).unwrap_or_else(|| {
                if op_off { "disabled by the operator" } else { "disabled in the configuration" }.to_string()
            });
            let _ = tx.send(RunnerMsg::Control(Control::Stop(Stop::shutdown(Some(reason)))));
        } else {
            let _ = tx.send(RunnerMsg::Control(Control::Start));
        }
        self.peers.insert(address, Peer { cfg: n, cfg_off, op_off, tx, status, join, clock_id, peer_id });
        Ok(())
    }

    /// Replaces a neighbor whose session settings changed: its session ends with Cease /
    /// Administrative Reset and a new one starts with the new settings.
    pub fn replace_neighbor(&mut self, n: NeighborConfig) -> anyhow::Result<()> {
        let address = dispatcher::canonical(n.address);
        if let Some(peer) = self.peers.remove(&address) {
            self.end_peer(address, peer, Stop::reset(Some("configuration changed".into())));
        }
        self.add_neighbor(n)
    }

    /// Ends the session with a neighbor (Cease / Peer De-configured) and forgets it.
    pub fn remove_neighbor(&mut self, address: IpAddr) -> anyhow::Result<()> {
        let address = dispatcher::canonical(address);
        let peer = self.peers.remove(&address).with_context(|| format!("no neighbor {address}"))?;
        self.end_peer(address, peer, Stop::deconfigured());
        Ok(())
    }

    fn end_peer(&mut self, address: IpAddr, peer: Peer, stop: Stop) {
        self.table.write().unwrap_or_else(|e| e.into_inner()).remove(&address);
        let _ = peer.tx.send(RunnerMsg::Control(Control::Exit(stop)));
        let _ = peer.join.join();
        let _ = self.clock_tx.send(ClockMsg::Unregister(peer.clock_id));
        let _ = self.rib_tx.send(RibMsg::RemovePeer { id: peer.peer_id });
        if peer.cfg.md5_key.is_some() {
            for (l, _) in &self.listeners {
                let _ = l.set_peer_key(address, None);
            }
        }
    }

    /// Changes a neighbor's routing rules (policies, reflection, limits) without resetting
    /// its session: the difference is sent for export changes, and the peer is asked for a
    /// route refresh for import changes.
    pub fn set_rules(&mut self, address: IpAddr, rules: PeerRules) -> anyhow::Result<()> {
        let peer =
            self.peers.get_mut(&dispatcher::canonical(address)).with_context(|| format!("no neighbor {address}"))?;
        peer.cfg.rib = rules.clone();
        let _ = self.rib_tx.send(RibMsg::SetRules { id: peer.peer_id, rules });
        Ok(())
    }

    /// Soft reset: `inbound` applies the import rules again to the peer's routes (from the
    /// stored pre-policy routes with `soft_reconfiguration_inbound`, otherwise by asking the
    /// peer for them with ROUTE-REFRESH); otherwise the whole table is sent to the peer again.
    pub fn soft_reset(&self, address: IpAddr, inbound: bool) -> anyhow::Result<()> {
        let peer = self.peers.get(&dispatcher::canonical(address)).with_context(|| format!("no neighbor {address}"))?;
        let msg = if inbound { RibMsg::SoftIn { id: peer.peer_id } } else { RibMsg::SoftOut { id: peer.peer_id } };
        self.rib_tx.send(msg).map_err(|_| anyhow::anyhow!("the RIB has stopped"))?;
        Ok(())
    }

    /// Disables (stops with Cease / Administrative Shutdown and `message`) or enables a
    /// neighbor's session. `by_operator`: the operator's choice (`ternctl`), stored so that
    /// it holds across restarts (fails without changing anything when it cannot be stored);
    /// otherwise the configuration's `disabled`. The session runs only while neither the
    /// operator nor the configuration disables it.
    pub fn set_disabled(
        &mut self,
        address: IpAddr,
        disabled: bool,
        message: Option<String>,
        by_operator: bool,
    ) -> anyhow::Result<()> {
        let address = dispatcher::canonical(address);
        let peer = self.peers.get_mut(&address).with_context(|| format!("no neighbor {address}"))?;
        if by_operator {
            if let Some(store) = &self.store {
                store.set_disabled(address, disabled.then(|| message.clone().unwrap_or_default()).as_deref())?;
            }
        }
        let was_off = peer.cfg_off || peer.op_off;
        if by_operator {
            peer.op_off = disabled;
        } else {
            peer.cfg_off = disabled;
        }
        let off = peer.cfg_off || peer.op_off;
        let control = match (was_off, off) {
            (false, true) => Control::Stop(Stop::shutdown(message)),
            // Already down: a new message replaces the one the peer is refused with.
            (true, true) if disabled && message.is_some() => Control::Stop(Stop::shutdown(message)),
            (true, false) => Control::Start,
            _ => return Ok(()),
        };
        info!(self.log, "neighbor {}", if off { "disabled" } else { "enabled" }; "neighbor" => %address, "name" => &peer.cfg.name,
            "by" => if by_operator { "operator" } else { "configuration" });
        peer.tx
            .send(RunnerMsg::Control(control))
            .map_err(|_| anyhow::anyhow!("the session runner of {address} has stopped"))
    }

    /// Whether a neighbor is disabled (by the configuration or the operator).
    pub fn is_disabled(&self, address: IpAddr) -> bool {
        self.peers.get(&dispatcher::canonical(address)).is_some_and(|p| p.cfg_off || p.op_off)
    }

    /// The configuration a neighbor runs with.
    pub fn neighbor_config(&self, address: IpAddr) -> Option<&NeighborConfig> {
        self.peers.get(&dispatcher::canonical(address)).map(|p| &p.cfg)
    }

    /// Prefixes each neighbor has in the RIB now (after import policy), by address.
    pub fn prefix_counts(&self) -> HashMap<IpAddr, u64> {
        let Some(Answer::PeerPrefixes(counts)) = self.query(Query::PeerPrefixes) else { return HashMap::new() };
        let by_id: HashMap<PeerId, IpAddr> = self.peers.iter().map(|(a, p)| (p.peer_id, *a)).collect();
        counts.into_iter().filter_map(|(id, n)| Some((*by_id.get(&id)?, n))).collect()
    }

    /// Routes of one view of the RIB; `None` when the RIB did not answer. `In`/`Out` name a
    /// neighbor by address.
    pub fn routes(&self, view: RouteView, mut q: RouteQuery) -> anyhow::Result<(Vec<RouteInfo>, bool)> {
        let id = |a: IpAddr| {
            self.peers.get(&dispatcher::canonical(a)).map(|p| p.peer_id).with_context(|| format!("no neighbor {a}"))
        };
        q.view = match view {
            RouteView::Loc => RibView::Loc,
            RouteView::In(a) => RibView::In(id(a)?),
            RouteView::Out(a) => RibView::Out(id(a)?),
        };
        match self.query(Query::Routes(q)) {
            Some(Answer::Routes { routes, truncated }) => Ok((routes, truncated)),
            _ => bail!("the RIB did not answer"),
        }
    }

    /// Whether each prefix's best route is in the kernel; `None` without `[fib]`.
    pub fn kernel_state(&self, prefixes: Vec<Prefix>) -> Option<Vec<crate::fib::KernelState>> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.fib_tx.as_ref()?.send(crate::fib::FibMsg::Query(prefixes, tx)).ok()?;
        rx.recv_timeout(Duration::from_secs(10)).ok()
    }

    /// Kernel route counters; `None` without `[fib]`.
    pub fn fib_stats(&self) -> Option<crate::fib::FibStats> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.fib_tx.as_ref()?.send(crate::fib::FibMsg::Stats(tx)).ok()?;
        rx.recv_timeout(Duration::from_secs(10)).ok()
    }

    /// Sends an operator command to a neighbor's session.
    pub fn control(&self, address: IpAddr, control: Control) -> anyhow::Result<()> {
        let peer = self.peers.get(&dispatcher::canonical(address)).with_context(|| format!("no neighbor {address}"))?;
        peer.tx
            .send(RunnerMsg::Control(control))
            .map_err(|_| anyhow::anyhow!("the session runner of {address} has stopped"))?;
        Ok(())
    }

    pub fn neighbor(&self, address: IpAddr) -> Option<Arc<PeerStatus>> {
        self.peers.get(&dispatcher::canonical(address)).map(|p| p.status.load())
    }

    pub fn neighbors(&self) -> Vec<Arc<PeerStatus>> {
        let mut all: Vec<_> = self.peers.values().map(|p| p.status.load()).collect();
        all.sort_by_key(|s| s.address);
        all
    }

    /// Originates `prefix` (replacing an earlier origination of it) for as long as this
    /// router runs: the configuration's `[[origin]]` entries. Attributes not given default
    /// to ORIGIN igp and an empty AS path.
    pub fn originate(&self, prefix: Prefix, mut attrs: PathAttributes) {
        attrs.origin.get_or_insert(crate::wire::Origin::Igp);
        attrs.as_path.get_or_insert_with(Default::default);
        let _ = self.rib_tx.send(RibMsg::Originate { prefix, attrs });
    }

    /// Stops originating a prefix of the configuration (`[[origin]]`); a stored
    /// announcement is not touched.
    pub fn stop_originating(&self, prefix: Prefix) {
        let _ = self.rib_tx.send(RibMsg::WithdrawOrigin { prefix });
    }

    /// Announces `prefix` at run time (API, `ternctl announce`): originated now and, with
    /// a state directory, again after every restart until it is withdrawn. Fails, without
    /// announcing, when the state cannot be stored.
    pub fn announce(&self, prefix: Prefix, mut attrs: PathAttributes) -> anyhow::Result<()> {
        attrs.origin.get_or_insert(crate::wire::Origin::Igp);
        attrs.as_path.get_or_insert_with(Default::default);
        if let Some(store) = &self.store {
            store.put_origin(prefix, &attrs)?;
        }
        self.originate(prefix, attrs);
        Ok(())
    }

    /// Stops originating `prefix` and forgets a stored announcement of it.
    pub fn withdraw(&self, prefix: Prefix) -> anyhow::Result<()> {
        if let Some(store) = &self.store {
            store.remove_origin(prefix)?;
        }
        let _ = self.rib_tx.send(RibMsg::WithdrawOrigin { prefix });
        Ok(())
    }

    /// The RIB's view of one prefix: its paths and which is selected, and why.
    pub fn lookup(&self, prefix: Prefix) -> Option<RouteInfo> {
        match self.query(Query::Lookup(prefix)) {
            Some(Answer::Route(r)) => r,
            _ => None,
        }
    }

    /// Prefixes per family, paths and attribute sets in the RIB.
    pub fn rib_summary(&self) -> Option<Answer> {
        self.query(Query::Summary)
    }

    fn query(&self, q: Query) -> Option<Answer> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.rib_tx.send(RibMsg::Query(q, tx)).ok()?;
        rx.recv_timeout(Duration::from_secs(10)).ok()
    }

    /// Connections refused because they came from no configured neighbor.
    pub fn unknown_connections(&self) -> u64 {
        self.unknown_connections.load(Ordering::Relaxed)
    }

    /// Threads this router started that are still running.
    pub fn live_threads(&self) -> usize {
        self.threads.live()
    }

    /// A handle that counts this router's threads after it is gone.
    pub fn threads(&self) -> Threads {
        self.threads.clone()
    }

    /// Stops every session with Cease / Administrative Shutdown (and `message`, RFC 9003),
    /// then the dispatchers and the clock, and joins every thread.
    pub fn shutdown(mut self, message: Option<String>) {
        self.stop(message);
    }

    fn stop(&mut self, message: Option<String>) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        info!(self.log, "router received shutdown request, stopping sessions"; "asn" => self.cfg.asn);
        if self.fib_tx.is_some() {
            let _ = self.rib_tx.send(RibMsg::DetachFib);
        }
        let peers: Vec<(IpAddr, Peer)> = self.peers.drain().collect();
        for (_, peer) in &peers {
            let _ = peer.tx.send(RunnerMsg::Control(Control::Exit(Stop::shutdown(message.clone()))));
        }
        for (address, peer) in peers {
            self.end_peer(address, peer, Stop::shutdown(message.clone()));
        }
        self.dispatch_stop.store(true, Ordering::SeqCst);
        for (listener, join) in self.listeners.drain(..) {
            listener.close();
            let _ = join.join();
        }
        let _ = self.rib_tx.send(RibMsg::Exit);
        if let Some(r) = self.rib.take() {
            let _ = r.join();
        }
        if let Some(tx) = self.fib_tx.take() {
            let _ = tx.send(crate::fib::FibMsg::Exit);
        }
        if let Some(f) = self.fib.take() {
            let _ = f.join();
        }
        let _ = self.clock_tx.send(ClockMsg::Exit);
        if let Some(c) = self.clock.take() {
            let _ = c.join();
        }
        info!(self.log, "router stopped");
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        self.stop(None);
    }
}

fn hash_ip(ip: IpAddr) -> u64 {
    match ip {
        IpAddr::V4(v4) => u64::from(u32::from(v4)),
        IpAddr::V6(v6) => {
            let v = u128::from(v6);
            (v as u64) ^ ((v >> 64) as u64)
        }
    }
}
