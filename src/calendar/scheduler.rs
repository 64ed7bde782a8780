//! The scheduler worker: reminders and cron jobs (to be written).

use tokio_util::sync::CancellationToken;

use crate::app::Ctx;

pub async fn run(_ctx: Ctx, cancel: CancellationToken) -> anyhow::Result<()> {
    cancel.cancelled().await;
    Ok(())
}
