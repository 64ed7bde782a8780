//! The retention purge: records whose status has a retention (`privacy.retention`) and that
//! have not changed for that long are erased like an erasure request, by the worker `purge`
//! (once at start, then every `privacy.purge_every`).
//!
//! A record is erased with its mails and room events. When no other record of the same
//! address remains, everything else held about the address goes too (mails and command
//! answers that name it); otherwise only what belongs to the expired record.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Erased;
use crate::outbox::Outbox;
use crate::storage::now_ms;

#[derive(Clone)]
pub struct Purge {
    pub outbox: Outbox,
    /// (status, how long after the last change)
    pub retention: Vec<(String, chrono::TimeDelta)>,
    pub every: Duration,
}

impl Purge {
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<()> {
        loop {
            // Claims of handled Matrix events (see `lease`) are kept a week.
            crate::lease::prune_claims(self.outbox.db(), 7).await?;
            let e = self.pass(now_ms()).await?;
            if !e.records.is_empty() {
                tracing::info!(records = ?e.records, "retention purge");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.every) => {}
                _ = cancel.cancelled() => return Ok(()),
            }
        }
    }

    /// Erases every record expired at `now`; returns what was erased.
    pub async fn pass(&self, now: i64) -> anyhow::Result<Erased> {
        let db = self.outbox.db().clone();
        let mut total = Erased::default();
        for (status, keep) in &self.retention {
            let before = now - keep.num_milliseconds();
            let expired: Vec<(i64, String)> = sqlx::query_as(
                "SELECT id, email FROM eoi WHERE status = $1 AND updated_at < $2 ORDER BY id",
            )
            .bind(status)
            .bind(before)
            .fetch_all(&db.pool)
            .await?;
            for (id, email) in expired {
                let (others,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM eoi WHERE lower(email) = lower($1) AND id <> $2",
                )
                .bind(&email)
                .bind(id)
                .fetch_one(&db.pool)
                .await?;
                let address = (others == 0).then(|| email.to_lowercase());
                let held = super::find(&db, address.as_deref(), &[id]).await?;
                let detail = format!(
                    "{status} for more than {}",
                    crate::config::format_offset(*keep)
                );
                let e = super::erase_held(&self.outbox, held, "retention", "privacy.purge").await?;
                tracing::debug!(eoi = id, reason = detail, "purged");
                total.records.extend(e.records);
                total.mails += e.mails;
                total.outbox_items += e.outbox_items;
                total.redactions += e.redactions;
                total.other_rows += e.other_rows;
            }
        }
        if total.redactions > 0 {
            self.outbox.wake(crate::outbox::op::Transport::Matrix);
        }
        Ok(total)
    }
}
