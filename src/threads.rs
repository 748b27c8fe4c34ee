//! Every thread tern starts goes through [`Threads::spawn`], which names it, sizes its
//! stack and counts it while it runs, so a router can prove it left nothing behind.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{Builder, JoinHandle};

/// Stack for tern's threads: decoding and the FSM need little, and a thousand peers mean
/// two thousand threads.
const STACK: usize = 256 * 1024;

#[derive(Debug, Clone, Default)]
pub struct Threads {
    live: Arc<AtomicUsize>,
}

struct Live(Arc<AtomicUsize>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Threads {
    pub fn spawn<T: Send + 'static>(
        &self,
        name: String,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> io::Result<JoinHandle<T>> {
        self.live.fetch_add(1, Ordering::SeqCst);
        let guard = Live(self.live.clone());
        Builder::new().name(name).stack_size(STACK).spawn(move || {
            let _guard = guard;
            f()
        })
    }

    /// Threads started through this set that have not finished.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }
}
