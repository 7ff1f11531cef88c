//! CPU-bound work off the async workers, a few at a time (control plane).
//! Parsing, linting and diffing a large contract take up to a second each: on
//! the blocking pool they cannot stall other requests, and the bound keeps a
//! burst of uploads from taking every core, and the memory each parse holds,
//! at once. Callers beyond the bound wait their turn.

use crate::error::Result;
use std::sync::OnceLock;
use tokio::sync::Semaphore;

/// One turn per core: more would only share the cores and add memory.
fn turns() -> &'static Semaphore {
    static TURNS: OnceLock<Semaphore> = OnceLock::new();
    TURNS
        .get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())))
}

/// Runs `work` on the blocking pool when a turn is free. The turn goes with
/// the work, so a caller that gives up does not free a turn still in use.
pub async fn run<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let turn = turns()
        .acquire()
        .await
        .map_err(|e| anyhow::anyhow!("the CPU work queue is closed: {e}"))?;
    let out = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        work()
    })
    .await
    .map_err(anyhow::Error::from)?;
    Ok(out)
}
