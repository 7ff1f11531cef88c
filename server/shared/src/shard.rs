//! Per-thread shards for the write-mostly tallies of the request path (telemetry,
//! credential usage) (shared by both planes).
//!
//! Sharding by key still sends every request for one hot key, from every core,
//! to one lock: its cache line moves between cores on each request. Sharding by
//! thread gives each gateway worker (one thread per core) shards of its own, so
//! recording stays on the core that served the request; readers merge the
//! shards, which they do a few times a minute, not a hundred thousand times a
//! second.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One shard, alone on its cache lines, so that neighbours written by other
/// cores do not invalidate it (128 bytes: adjacent-line prefetching pairs lines).
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct Shard<T>(pub Mutex<T>);

impl<T> Shard<T> {
    /// The shard's contents; a poisoned lock only means another thread panicked
    /// mid-update, and a tally is still a valid tally.
    pub fn lock(&self) -> std::sync::MutexGuard<'_, T> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Which of `n` shards the calling thread writes to: threads take numbers in
/// turn, so up to `n` threads never share one.
pub fn of_this_thread(n: usize) -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static MINE: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    MINE.with(|mine| *mine % n.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_get_different_shards() {
        let here = of_this_thread(16);
        assert_eq!(here, of_this_thread(16), "a thread keeps its shard");
        let there = std::thread::spawn(|| of_this_thread(16)).join().unwrap();
        assert_ne!(here, there);
        assert_eq!(std::mem::align_of::<Shard<u64>>(), 128);
    }
}
