//! Named workers under one cancellation token. Each run of a worker is its own task, so a
//! panic ends only that run: a worker that returns an error or panics is logged, counted in
//! [`Health`] and restarted with backoff; one that returns Ok has finished (it saw the
//! cancellation). A worker that keeps dying makes the daemon unhealthy: `/healthz` answers
//! 503 and the systemd watchdog pings stop, so systemd restarts the whole process. Every log
//! line a worker writes carries its name through the `worker` span.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::health::Health;

pub fn spawn<F, Fut>(
    tracker: &TaskTracker,
    cancel: &CancellationToken,
    health: &Arc<Health>,
    name: &'static str,
    worker: F,
) where
    F: Fn(CancellationToken) -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let cancel = cancel.clone();
    let health = health.clone();
    let span = tracing::info_span!("worker", name);
    tracker.spawn(
        async move {
            let mut backoff = Duration::from_secs(1);
            loop {
                let started = tokio::time::Instant::now();
                let run = tokio::spawn(worker(cancel.clone()).in_current_span());
                let why = match run.await {
                    Ok(Ok(())) => return,
                    Ok(Err(e)) => format!("{e:#}"),
                    Err(join) if join.is_panic() => format!(
                        "panicked: {}",
                        crate::failpoint::panic_message(&join.into_panic())
                    ),
                    Err(join) => format!("aborted: {join}"),
                };
                if cancel.is_cancelled() {
                    return;
                }
                if started.elapsed() > Duration::from_secs(120) {
                    backoff = Duration::from_secs(1);
                }
                health.worker_failed(name);
                tracing::error!(error = why, restart_in = ?backoff, "worker failed");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = cancel.cancelled() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(60));
            }
        }
        .instrument(span),
    );
}

/// Sends `WATCHDOG=1` at half the interval systemd asked for, while the runtime is responsive
/// and no worker keeps dying.
pub fn watchdog(tracker: &TaskTracker, cancel: &CancellationToken, health: &Arc<Health>) {
    let Some(interval) = sd_notify::watchdog_enabled() else {
        return;
    };
    let cancel = cancel.clone();
    let health = health.clone();
    tracker.spawn(async move {
        let mut tick = tokio::time::interval(interval / 2);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if health.live() {
                        let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
                    } else {
                        tracing::error!("a worker keeps dying: no watchdog ping (systemd will restart convene)");
                    }
                }
                _ = cancel.cancelled() => return,
            }
        }
    });
}
