//! The outbox: every side effect convene has on the world — a room post, an invite, a media
//! upload, a direct message, a mail — is first a row of one table, queued in the same
//! transaction as the fact it follows from, under a typed [`Key`] fixed at that moment. One
//! runner ([`runner`]) sends them, per transport, with the key as the Matrix transaction id
//! or the seed of the Message-ID: a crash between queueing and sending never drops one, and
//! a resend never doubles one.
//!
//! - [`Outbox`] is the handle domain code holds; [`Outbox::begin`] opens a transaction
//!   ([`Tx`]) in which posts and mails are queued beside the domain's own writes, and its
//!   `commit` wakes the workers.
//! - [`key`]: the keys; [`op`]: what an item does; [`queue`]: the table (its only owner);
//!   [`runner`]: sending, error classes, retries for a lifetime, reports of failures;
//!   [`thread`]: which room thread each mail sent for a thread belongs to; [`hold`]: the
//!   recipients whose mail waits for a secretariat decision; [`size`]: every message kept
//!   under the event size limit where it is queued, the rest attached.

pub mod hold;
pub mod key;
pub mod op;
pub mod queue;
pub mod runner;
pub mod size;
pub mod thread;

use std::sync::Arc;

use serde_json::Value;
use sqlx::{Any, AnyConnection, Transaction};
use tokio::sync::Notify;

pub use key::{Key, Target};
pub use op::{MailOp, MatrixOp, Transport};
pub use queue::Report;

use crate::config::MailboxAddr;
use crate::mail::compose::{self, OutMail};
use crate::storage::Db;

/// The handle to queue side effects (cheap to clone).
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    install_id: String,
    from: MailboxAddr,
    management_room: String,
    matrix_wake: Notify,
    mail_wake: Notify,
}

impl Outbox {
    /// `from` signs every mail; `management_room` receives the reports of failures.
    pub async fn new(db: Db, from: MailboxAddr, management_room: &str) -> anyhow::Result<Outbox> {
        let install_id = install_id(&db).await?;
        Ok(Outbox {
            inner: Arc::new(Inner {
                db,
                install_id,
                from,
                management_room: management_room.to_owned(),
                matrix_wake: Notify::new(),
                mail_wake: Notify::new(),
            }),
        })
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub fn management_room(&self) -> &str {
        &self.inner.management_room
    }

    pub fn from(&self) -> &MailboxAddr {
        &self.inner.from
    }

    /// The Matrix transaction id of the item queued under `key`.
    pub fn txn_id(&self, key: &str) -> String {
        format!("{}-{}", self.inner.install_id, Key::parse(key).txn_text())
    }

    /// The Message-ID of the mail queued under `key`.
    pub fn message_id(&self, key: &Key) -> String {
        compose::message_id_for(&key.to_string(), self.inner.from.domain())
    }

    /// Starts a transaction in which to queue side effects beside other writes.
    pub async fn begin(&self) -> anyhow::Result<Tx> {
        Ok(Tx {
            // A write transaction from the start (SQLite: BEGIN IMMEDIATE), so reading before
            // writing never fails with SQLITE_BUSY_SNAPSHOT when another writer came between.
            tx: self.inner.db.begin_write().await?,
            outbox: self.clone(),
            matrix: false,
            mail: false,
        })
    }

    /// Queues one notice on its own (idempotent by `key`).
    pub async fn notice(&self, key: Key, room: &str, text: &str) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        tx.post(key, room, crate::chat::notice(text)).await?;
        tx.commit().await
    }

    /// Queues one post of any content on its own (idempotent by `key`).
    pub async fn notice_content(&self, key: Key, room: &str, content: Value) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        tx.post(key, room, content).await?;
        tx.commit().await
    }

    /// Records a Matrix side effect its caller already performed with [`Outbox::txn_id`]
    /// of `key` (the command-reply fast path): the row is `sent` with the server's `result`
    /// (the event id), so reactions and replies to it resolve to `key`. False when `key` was
    /// already queued or recorded.
    pub async fn record_sent(&self, key: Key, op: MatrixOp, result: &str) -> anyhow::Result<bool> {
        let lane = op.lane();
        let mut conn = self.inner.db.pool.acquire().await?;
        queue::insert_sent(
            &mut conn,
            queue::NewItem {
                transport: Transport::Matrix,
                key: &key,
                lane: &lane,
                op: serde_json::to_string(&op)?,
                data: None,
                report: &Report::none(),
                held: false,
            },
            result,
        )
        .await
    }

    /// Wakes the worker of `transport` (new or requeued work).
    pub fn wake(&self, transport: Transport) {
        match transport {
            Transport::Matrix => self.inner.matrix_wake.notify_one(),
            Transport::Mail => self.inner.mail_wake.notify_one(),
        }
    }

    pub(crate) fn waker(&self, transport: Transport) -> &Notify {
        match transport {
            Transport::Matrix => &self.inner.matrix_wake,
            Transport::Mail => &self.inner.mail_wake,
        }
    }
}

/// A database transaction that can queue side effects; committing wakes the workers.
pub struct Tx {
    tx: Transaction<'static, Any>,
    outbox: Outbox,
    matrix: bool,
    mail: bool,
}

impl std::ops::Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

impl Tx {
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Queues an `m.room.message` (or any event given as `content`) to `room`.
    pub async fn post(&mut self, key: Key, room: &str, content: Value) -> anyhow::Result<bool> {
        self.event(key, room, "m.room.message", content).await
    }

    /// Queues an event of any type.
    pub async fn event(
        &mut self,
        key: Key,
        room: &str,
        event_type: &str,
        content: Value,
    ) -> anyhow::Result<bool> {
        let op = MatrixOp::Send {
            room: room.to_owned(),
            event_type: event_type.to_owned(),
            content,
        };
        self.matrix(key, op, None, Report::none()).await
    }

    /// Queues any Matrix side effect; `data` is an upload's bytes. A message over the size
    /// budget is cut and its whole text queued beside it as a file ([`size::guard`]).
    pub async fn matrix(
        &mut self,
        key: Key,
        op: MatrixOp,
        data: Option<&[u8]>,
        report: Report,
    ) -> anyhow::Result<bool> {
        let (op, overflow) = size::guard(&key, op);
        let queued = self.insert_matrix(&key, op, data, &report).await?;
        if queued && let Some((upload, bytes)) = overflow {
            tracing::info!(%key, bytes = bytes.len(), "post cut to the size budget; its text attached");
            self.insert_matrix(&Key::Overflow(Box::new(key)), upload, Some(&bytes), &report)
                .await?;
        }
        Ok(queued)
    }

    async fn insert_matrix(
        &mut self,
        key: &Key,
        op: MatrixOp,
        data: Option<&[u8]>,
        report: &Report,
    ) -> anyhow::Result<bool> {
        let lane = op.lane();
        let queued = queue::insert(
            &mut self.tx,
            queue::NewItem {
                transport: Transport::Matrix,
                key,
                lane: &lane,
                op: serde_json::to_string(&op)?,
                data,
                report,
                held: false,
            },
        )
        .await?;
        self.matrix |= queued;
        Ok(queued)
    }

    /// Builds and queues a mail; returns its Message-ID (the same when already queued).
    pub async fn mail(
        &mut self,
        key: Key,
        mail: &OutMail,
        report: Report,
    ) -> anyhow::Result<String> {
        self.mail_rich(key, mail, &compose::Rich::default(), report)
            .await
    }

    /// [`Tx::mail`] for a person's mail from a room (display name, HTML, attachments).
    pub async fn mail_rich(
        &mut self,
        key: Key,
        mail: &OutMail,
        rich: &compose::Rich,
        report: Report,
    ) -> anyhow::Result<String> {
        let built = compose::build_rich(mail, rich, &self.outbox.inner.from, &key.to_string())?;
        let op = MailOp {
            envelope_from: built.envelope_from,
            recipients: built.recipients,
            message_id: built.message_id.clone(),
        };
        let lane = op.recipients.first().cloned().unwrap_or_default();
        // Mail to a recipient marked for bounces waits for the secretariat.
        let held = hold::reason_for(&mut self.tx, &op.recipients).await?;
        if let Some((address, _)) = &held {
            tracing::info!(key = %key, address, "mail held: the recipient is marked for bounces");
        }
        let queued = queue::insert(
            &mut self.tx,
            queue::NewItem {
                transport: Transport::Mail,
                key: &key,
                lane: &lane,
                op: serde_json::to_string(&op)?,
                data: Some(&built.raw),
                report: &report,
                held: held.is_some(),
            },
        )
        .await?;
        self.mail |= queued;
        if let (Some(room), Some(root)) = (&report.room, &report.thread) {
            // The answer to this mail comes back into the thread it belongs to.
            thread::remember(&mut self.tx, &built.message_id, room, root).await?;
        }
        Ok(built.message_id)
    }

    /// The event id of a Matrix key already sent (inside this transaction).
    pub async fn event_id_for(&mut self, key: &Key) -> anyhow::Result<Option<String>> {
        queue::event_id_for(&mut *self.tx, key).await
    }

    pub async fn commit(self) -> anyhow::Result<()> {
        self.tx.commit().await?;
        if self.matrix {
            self.outbox.wake(Transport::Matrix);
        }
        if self.mail {
            self.outbox.wake(Transport::Mail);
        }
        Ok(())
    }
}

/// The random id of this installation's database, created on first use. It prefixes every
/// transaction id, so a fresh database reusing an old device cannot collide with that device's
/// earlier transaction ids.
async fn install_id(db: &Db) -> anyhow::Result<String> {
    if let Some(id) = db.kv_get("install_id").await? {
        return Ok(id);
    }
    let id = format!("{:016x}", rand_u64());
    sqlx::query(
        "INSERT INTO kv (key, value) VALUES ('install_id', $1) ON CONFLICT (key) DO NOTHING",
    )
    .bind(&id)
    .execute(&db.pool)
    .await?;
    Ok(db.kv_get("install_id").await?.unwrap_or(id))
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    let a = RandomState::new().hash_one(std::time::SystemTime::now());
    let b = RandomState::new().hash_one(std::process::id());
    a ^ b.rotate_left(32)
}
