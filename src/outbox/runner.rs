//! The one runner both transports use: pick what is due, send it, record the outcome.
//!
//! - A transport ([`Deliver`]) sends one item and classifies its failure: **transient**
//!   (connection refused, timeouts, SMTP 4xx, Matrix 5xx, `M_LIMIT_EXCEEDED` with its
//!   `retry_after_ms`) or **permanent** (SMTP 5xx for that recipient, `M_FORBIDDEN`,
//!   `M_TOO_LARGE`).
//! - Transient failures are retried with a doubling wait from `outbox.retry_min` to
//!   `outbox.retry_max` (or the server's `retry_after`, when longer), for `outbox.retry_for`
//!   after the item was queued — days, as a mail server keeps its queue — never a fixed
//!   number of tries. A permanent failure, or the end of that time, fails the item.
//! - A failed item is reported where people will see it: in the room or thread it belongs
//!   to (its [`Report`](super::Report)) and in the management room, queued in the same
//!   transaction that fails it. A report that fails is not reported again (no loop).
//! - Items of one lane (a room, a recipient) go in queue order: when one waits for a retry,
//!   the later ones of its lane wait behind it. Different lanes are sent concurrently.

use std::time::Duration;

use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use super::op::{MailOp, MatrixOp, Transport};
use super::queue::{self, Item};
use super::{Key, Outbox};
use crate::config::OutboxConfig;
use crate::markup::mask_addresses;
use crate::metrics::{Metrics, Outcome};
use crate::storage::now_ms;

/// Why a send failed, as the transport judges it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendError {
    /// Try again later (after `retry_after` at the earliest, when the server said so).
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Trying again cannot help.
    Permanent(String),
}

impl SendError {
    pub fn transient(reason: impl Into<String>) -> SendError {
        SendError::Transient {
            reason: reason.into(),
            retry_after: None,
        }
    }
    pub fn permanent(reason: impl Into<String>) -> SendError {
        SendError::Permanent(reason.into())
    }
}

/// A transport: sends one item. `Ok` carries what the server gave back (the event id, the
/// SMTP answer), recorded as the item's result.
pub trait Deliver: Send + Sync {
    fn transport(&self) -> Transport;
    /// At most this many lanes are sent at once.
    fn concurrency(&self) -> usize {
        4
    }
    fn deliver(
        &self,
        item: &Item,
        txn_id: &str,
    ) -> impl Future<Output = Result<String, SendError>> + Send;
    /// Whether the server answers again (a cheap request), asked every [`PROBE_EVERY`]
    /// while items wait after transient failures, so they go as soon as it is back rather
    /// than at their next backoff.
    fn probe(&self) -> impl Future<Output = bool> + Send {
        async { false }
    }
}

/// How often a waiting transport checks whether its server is back.
pub const PROBE_EVERY: Duration = Duration::from_secs(3);

/// The retry policy, from `[outbox]`.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub retry_for: Duration,
    pub min: Duration,
    pub max: Duration,
}

impl From<&OutboxConfig> for Policy {
    fn from(c: &OutboxConfig) -> Policy {
        let d = |t: chrono::TimeDelta| t.to_std().unwrap_or(Duration::from_secs(1));
        Policy {
            retry_for: d(c.retry_for),
            min: d(c.retry_min),
            max: d(c.retry_max),
        }
    }
}

impl Policy {
    /// The wait before the next attempt, after `attempts` failed ones.
    pub fn backoff(&self, attempts: i64) -> Duration {
        let factor = 1u32 << attempts.clamp(0, 20);
        self.min.saturating_mul(factor).min(self.max)
    }
}

/// What one pass did, for tests and logs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

const BATCH: i64 = 200;
/// The longest a runner sleeps: items queued by another process (the command line, a second
/// convene) have no waker here and are picked up within this.
const MAX_SLEEP: Duration = Duration::from_secs(5);

/// A transport whose sends are timed into [`Metrics`] (the send latency histogram).
struct Timed<D> {
    inner: D,
    metrics: Metrics,
}

impl<D: Deliver> Deliver for Timed<D> {
    fn transport(&self) -> Transport {
        self.inner.transport()
    }
    fn concurrency(&self) -> usize {
        self.inner.concurrency()
    }
    async fn deliver(&self, item: &Item, txn_id: &str) -> Result<String, SendError> {
        let started = std::time::Instant::now();
        let r = self.inner.deliver(item, txn_id).await;
        self.metrics.send_latency(
            self.inner.transport().as_str(),
            started.elapsed().as_secs_f64(),
        );
        r
    }
    fn probe(&self) -> impl Future<Output = bool> + Send {
        self.inner.probe()
    }
}

/// Runs until cancelled: a pass, then sleep until the next item is due or new work is queued.
/// Each pass's outcomes and each send's time are counted into `metrics`.
pub async fn run<D: Deliver>(
    outbox: Outbox,
    deliver: D,
    policy: Policy,
    metrics: Metrics,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let transport = deliver.transport();
    let deliver = Timed {
        inner: deliver,
        metrics: metrics.clone(),
    };
    // Set while items wait after transient failures: the server is probed meanwhile.
    let mut outage = false;
    loop {
        // Work queued during a pass leaves a permit in the waker: the wait below returns at
        // once and the next pass takes it.
        let pass = pass(&outbox, &deliver, &policy, &cancel).await?;
        let t = transport.as_str();
        metrics.sends(t, Outcome::Sent, pass.sent as u64);
        metrics.sends(t, Outcome::Retried, pass.retried as u64);
        metrics.sends(t, Outcome::Failed, pass.failed as u64);
        if cancel.is_cancelled() {
            return Ok(());
        }
        if pass.sent > 0 {
            outage = false;
        }
        if pass.retried > 0 {
            outage = true;
        }
        if pass != Pass::default() && pass.retried == 0 {
            tracing::debug!(transport = transport.as_str(), ?pass, "outbox pass");
            continue;
        }
        let wait = match queue::next_due(outbox.db(), transport).await? {
            Some(at) => Duration::from_millis((at - now_ms()).max(0) as u64),
            None => {
                outage = false;
                MAX_SLEEP
            }
        }
        .min(MAX_SLEEP);
        let nap = if outage { wait.min(PROBE_EVERY) } else { wait };
        tokio::select! {
            _ = outbox.waker(transport).notified() => {}
            _ = tokio::time::sleep(nap) => {
                if outage && nap < wait && deliver.probe().await {
                    let n = queue::pull_forward(outbox.db(), transport, now_ms()).await?;
                    tracing::info!(transport = transport.as_str(), items = n, "server answers again: sending what waited");
                    outage = false;
                }
            }
            _ = cancel.cancelled() => return Ok(()),
        }
    }
}

/// Sends what is due now, lanes concurrently, each lane in order.
pub async fn pass<D: Deliver>(
    outbox: &Outbox,
    deliver: &D,
    policy: &Policy,
    cancel: &CancellationToken,
) -> anyhow::Result<Pass> {
    let items = queue::due(outbox.db(), deliver.transport(), now_ms(), BATCH).await?;
    let mut lanes: Vec<(String, Vec<Item>)> = Vec::new();
    for item in items {
        match lanes.iter_mut().find(|(l, _)| *l == item.lane) {
            Some((_, list)) => list.push(item),
            None => lanes.push((item.lane.clone(), vec![item])),
        }
    }
    let results: Vec<anyhow::Result<Pass>> = futures_util::stream::iter(lanes)
        .map(|(_, list)| lane(outbox, deliver, policy, cancel, list))
        .buffer_unordered(deliver.concurrency().max(1))
        .collect()
        .await;
    let mut total = Pass::default();
    for r in results {
        let p = r?;
        total.sent += p.sent;
        total.retried += p.retried;
        total.failed += p.failed;
    }
    Ok(total)
}

async fn lane<D: Deliver>(
    outbox: &Outbox,
    deliver: &D,
    policy: &Policy,
    cancel: &CancellationToken,
    items: Vec<Item>,
) -> anyhow::Result<Pass> {
    let mut pass = Pass::default();
    let transport = deliver.transport();
    for mut item in items {
        if cancel.is_cancelled() {
            break;
        }
        let me = instance();
        item.uncertain = item.sending_by.as_deref().is_some_and(|by| by != me);
        queue::mark_sending(outbox.db(), item.id, me).await?;
        let point = failpoint_name(transport, &item);
        crate::failpoint::hit(&format!("before-{point}"));
        let txn = outbox.txn_id(&item.key);
        match deliver.deliver(&item, &txn).await {
            Ok(result) => {
                crate::failpoint::hit(&format!("after-{point}"));
                sent(outbox, transport, &item, &result).await?;
                tracing::debug!(id = item.id, key = %item.key, %result, "sent");
                pass.sent += 1;
            }
            Err(err) => {
                let failed = on_error(outbox, policy, transport, &item, err).await?;
                if failed {
                    pass.failed += 1;
                } else {
                    pass.retried += 1;
                    // The rest of this lane waits behind it.
                    break;
                }
            }
        }
    }
    Ok(pass)
}

/// This process, as recorded in `outbox.sending_by`: an item another process (or an earlier
/// run) had in flight is sent again only after the transport looked whether it went out.
pub fn instance() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| format!("{}-{}", std::process::id(), now_ms()))
}

/// `matrix-send`, `invite-send`, `mail-send`, …: the failpoints around each send.
fn failpoint_name(transport: Transport, item: &Item) -> String {
    match transport {
        Transport::Mail => "mail-send".into(),
        Transport::Matrix => match serde_json::from_str::<MatrixOp>(&item.op) {
            Ok(MatrixOp::Send { .. }) | Err(_) => "matrix-send".into(),
            Ok(MatrixOp::Invite { .. }) => "invite-send".into(),
            Ok(MatrixOp::Upload { .. }) => "upload-send".into(),
            Ok(MatrixOp::DirectMessage { .. }) => "dm-send".into(),
            Ok(MatrixOp::Redact { .. }) => "redact-send".into(),
            Ok(MatrixOp::InThreadOf { .. }) => "thread-send".into(),
            Ok(MatrixOp::Replace { .. }) => "edit-send".into(),
            Ok(MatrixOp::MailPost { .. }) => "mailpost-send".into(),
        },
    }
}

/// Schedules a retry or fails the item; true when it failed for good.
async fn on_error(
    outbox: &Outbox,
    policy: &Policy,
    transport: Transport,
    item: &Item,
    err: SendError,
) -> anyhow::Result<bool> {
    let now = now_ms();
    match err {
        SendError::Permanent(reason) => {
            tracing::error!(id = item.id, key = %item.key, reason = mask_addresses(&reason), "send failed permanently");
            fail(outbox, transport, item, &reason).await?;
            Ok(true)
        }
        SendError::Transient {
            reason,
            retry_after,
        } => {
            let wait = policy
                .backoff(item.attempts)
                .max(retry_after.unwrap_or_default());
            let next = now + wait.as_millis() as i64;
            let deadline = item.created_at + policy.retry_for.as_millis() as i64;
            if next > deadline {
                let why = format!(
                    "still failing after {} of retries: {reason}",
                    human(policy.retry_for)
                );
                tracing::error!(id = item.id, key = %item.key, reason = mask_addresses(&reason), "giving up");
                fail(outbox, transport, item, &why).await?;
                return Ok(true);
            }
            tracing::warn!(id = item.id, key = %item.key, reason = mask_addresses(&reason), retry_in = ?wait, "send failed; will retry");
            queue::mark_retry(outbox.db(), item.id, next, &reason).await?;
            Ok(false)
        }
    }
}

/// Records the item sent and, when it has a status post, queues the edit that says so, in one
/// transaction (a crash cannot leave the status at "queued" for a sent item).
async fn sent(
    outbox: &Outbox,
    transport: Transport,
    item: &Item,
    result: &str,
) -> anyhow::Result<()> {
    let (Some(status), Some(room)) = (item.report_status.as_deref(), item.report_room.as_deref())
    else {
        return queue::mark_sent(outbox.db(), item.id, result).await;
    };
    let text = match serde_json::from_str::<MailOp>(&item.op) {
        Ok(op) if transport == Transport::Mail => format!(
            "✅ Sent to {}: accepted by the mail server ({})",
            op.recipients.join(", "),
            crate::markup::single_line(result)
        ),
        _ => format!("✅ Done: {}", describe(transport, item)),
    };
    let mut tx = outbox.begin().await?;
    queue::mark_sent_in(&mut tx, item.id, result).await?;
    let key = Key::MailStatus {
        item: item.id,
        state: "sent".into(),
        at: now_ms(),
    };
    let edit = super::op::status_edit(room, &Key::parse(status), &text);
    tx.matrix(key, edit, None, super::Report::none()).await?;
    tx.commit().await
}

fn describe(transport: Transport, item: &Item) -> String {
    match transport {
        Transport::Matrix => serde_json::from_str::<MatrixOp>(&item.op)
            .map(|op| op.describe())
            .unwrap_or_else(|_| "Matrix item".into()),
        Transport::Mail => serde_json::from_str::<MailOp>(&item.op)
            .map(|op| op.describe())
            .unwrap_or_else(|_| "mail".into()),
    }
}

/// Fails the item and queues its reports, in one transaction.
async fn fail(
    outbox: &Outbox,
    transport: Transport,
    item: &Item,
    reason: &str,
) -> anyhow::Result<()> {
    let key = item.key();
    let what = describe(transport, item);
    let mut tx = outbox.begin().await?;
    queue::mark_failed(&mut tx, item.id, reason).await?;
    if let (Some(status), Some(room)) = (item.report_status.as_deref(), item.report_room.as_deref())
    {
        let text = format!(
            "⚠ Failed: could not {what}: {}",
            crate::markup::single_line(reason)
        );
        let edit = super::op::status_edit(room, &Key::parse(status), &text);
        let key = Key::MailStatus {
            item: item.id,
            state: "failed".into(),
            at: now_ms(),
        };
        tx.matrix(key, edit, None, super::Report::none()).await?;
    }
    if key.is_failure_report() {
        tracing::error!(
            id = item.id,
            reason = mask_addresses(reason),
            "a failure report could not be posted"
        );
    } else {
        let text = format!(
            "⚠ Could not {what}: {reason} (outbox #{id}; `!outbox retry {id}` tries again)",
            id = item.id
        );
        let management = outbox.management_room().to_owned();
        tx.post(
            Key::Failure(item.id),
            &management,
            crate::chat::notice(&text),
        )
        .await?;
        if let Some(room) = item.report_room.as_deref()
            && (room != management || item.report_thread.is_some())
        {
            let mut content = crate::chat::notice(&format!("⚠ Not delivered: {reason}"));
            if let Some(root) = item.report_thread.as_deref() {
                content = crate::chat::in_thread(content, root);
            }
            tx.post(Key::FailureHere(item.id), room, content).await?;
        }
    }
    tx.commit().await
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s >= 86_400 && s % 86_400 == 0 => format!("{} days", s / 86_400),
        s if s >= 3_600 => format!("{} hours", s / 3_600),
        s if s >= 60 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    }
}

#[cfg(test)]
mod tests;
