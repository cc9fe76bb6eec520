//! Waiting for something to become true: in real time (real processes, a real broker, real
//! printers), or in the simulated time of tokio's paused clock (the spooler's own timing logic).

use std::future::Future;
use std::time::Duration;

/// Polls `probe` every 100 ms until it returns true; fails the test naming `what` after
/// `timeout` of real time.
pub async fn eventually<F, Fut>(what: &str, timeout: Duration, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + timeout;
    while !probe().await {
        assert!(std::time::Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The paused-clock form: lets simulated time pass in `step`s until `probe` holds, failing the
/// test after `limit` of simulated time. Returns the simulated time it took.
pub async fn eventually_simulated<F, Fut>(what: &str, step: Duration, limit: Duration, mut probe: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = tokio::time::Instant::now();
    while !probe().await {
        assert!(start.elapsed() < limit, "{what}: not done after {limit:?} of simulated time");
        tokio::time::sleep(step).await;
    }
    start.elapsed()
}
