//! Named workers under one cancellation token. A worker that returns an error is logged and
//! restarted with backoff; one that returns Ok has finished (it saw the cancellation). Every
//! log line a worker writes carries its name through the `worker` span.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::app::Ctx;

pub fn spawn<F, Fut>(
    tracker: &TaskTracker,
    cancel: &CancellationToken,
    ctx: &Ctx,
    name: &'static str,
    worker: F,
) where
    F: Fn(Ctx, CancellationToken) -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let cancel = cancel.clone();
    let ctx = ctx.clone();
    let span = tracing::info_span!("worker", name);
    tracker.spawn(
        async move {
            let mut backoff = Duration::from_secs(1);
            loop {
                let started = tokio::time::Instant::now();
                match worker(ctx.clone(), cancel.clone()).await {
                    Ok(()) => return,
                    Err(e) => {
                        if started.elapsed() > Duration::from_secs(120) {
                            backoff = Duration::from_secs(1);
                        }
                        tracing::error!(error = format!("{e:#}"), restart_in = ?backoff, "worker failed");
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = cancel.cancelled() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(120));
            }
        }
        .instrument(span),
    );
}

/// Sends `WATCHDOG=1` at half the interval systemd asked for, while the runtime is responsive.
pub fn watchdog(tracker: &TaskTracker, cancel: &CancellationToken, _ctx: &Ctx) {
    let Some(interval) = sd_notify::watchdog_enabled() else {
        return;
    };
    let cancel = cancel.clone();
    tracker.spawn(async move {
        let mut tick = tokio::time::interval(interval / 2);
        loop {
            tokio::select! {
                _ = tick.tick() => { let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]); }
                _ = cancel.cancelled() => return,
            }
        }
    });
}
