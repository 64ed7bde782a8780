//! The `outbox` table (migration 0006), and only here: queueing, picking what is due (in
//! queue order within each lane), recording outcomes, and the lookups others need (the event
//! a key was posted as, the key of an event, what is pending or failed).

use std::collections::HashSet;

use sqlx::{Any, AnyConnection};

use super::key::Key;
use super::op::Transport;
use crate::storage::{Db, now_ms};

/// An item's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Pending,
    Sent,
    Failed,
    /// Mail to a recipient marked for bounces: waits for `!outbox retry`.
    Held,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Sent => "sent",
            State::Failed => "failed",
            State::Held => "held",
        }
    }
    fn parse(s: &str) -> State {
        match s {
            "sent" => State::Sent,
            "failed" => State::Failed,
            "held" => State::Held,
            _ => State::Pending,
        }
    }
}

/// Where a failure of the item is shown besides the management room.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub room: Option<String>,
    pub thread: Option<String>,
    /// The bot's status post on what caused this item (in `room`): edited when the item is
    /// sent, fails or bounces.
    pub status: Option<Key>,
}

impl Report {
    pub fn none() -> Report {
        Report::default()
    }
    pub fn in_room(room: &str, thread: Option<&str>) -> Report {
        Report {
            room: Some(room.to_owned()),
            thread: thread.map(str::to_owned),
            status: None,
        }
    }
    /// Keeps the status post under `key` current (see [`Report::status`]).
    pub fn with_status(mut self, key: Key) -> Report {
        self.status = Some(key);
        self
    }
}

/// A new item.
pub struct NewItem<'a> {
    pub transport: Transport,
    pub key: &'a Key,
    pub lane: &'a str,
    pub op: String,
    pub data: Option<&'a [u8]>,
    pub report: &'a Report,
    /// Queued `held` rather than `pending`.
    pub held: bool,
}

/// Queues an item; false when its key was already queued (nothing changes then).
pub async fn insert(conn: &mut AnyConnection, item: NewItem<'_>) -> anyhow::Result<bool> {
    let now = now_ms();
    let done = sqlx::query(
        "INSERT INTO outbox (transport, key, lane, op, data, state, next_attempt_at, created_at, \
         report_room, report_thread, report_status) \
         VALUES ($1, $2, $3, $4, $5, $9, $6, $6, $7, $8, $10) \
         ON CONFLICT (transport, key) DO NOTHING",
    )
    .bind(item.transport.as_str())
    .bind(item.key.to_string())
    .bind(item.lane)
    .bind(item.op)
    .bind(item.data.map(<[u8]>::to_vec))
    .bind(now)
    .bind(item.report.room.as_deref())
    .bind(item.report.thread.as_deref())
    .bind(if item.held { "held" } else { "pending" })
    .bind(item.report.status.as_ref().map(Key::to_string))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Records an item already sent by its caller (a command's reply, sent at once with the
/// transaction id the runner would have used), so its event resolves to its key like any
/// other. False when the key was already queued (nothing changes then).
pub async fn insert_sent(
    conn: &mut AnyConnection,
    item: NewItem<'_>,
    result: &str,
) -> anyhow::Result<bool> {
    let now = now_ms();
    let done = sqlx::query(
        "INSERT INTO outbox (transport, key, lane, op, data, state, next_attempt_at, created_at, \
         report_room, report_thread, result, done_at, attempts) \
         VALUES ($1, $2, $3, $4, $5, 'sent', $6, $6, $7, $8, $9, $6, 1) \
         ON CONFLICT (transport, key) DO NOTHING",
    )
    .bind(item.transport.as_str())
    .bind(item.key.to_string())
    .bind(item.lane)
    .bind(item.op)
    .bind(item.data.map(<[u8]>::to_vec))
    .bind(now)
    .bind(item.report.room.as_deref())
    .bind(item.report.thread.as_deref())
    .bind(result)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// An item as picked for sending.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Item {
    pub id: i64,
    pub key: String,
    pub lane: String,
    pub op: String,
    pub data: Option<Vec<u8>>,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub report_room: Option<String>,
    pub report_thread: Option<String>,
    pub report_status: Option<String>,
    /// The process that last started sending it, if any.
    pub sending_by: Option<String>,
    /// Set by the runner: another process had it in flight, so it may have gone out already
    /// (the transport looks before sending again).
    #[sqlx(skip)]
    pub uncertain: bool,
}

impl Item {
    pub fn key(&self) -> Key {
        Key::parse(&self.key)
    }
}

/// The pending items of `transport` that may be sent now, oldest first, at most `limit`: an
/// item is due when its time has come and every earlier pending item of its lane is due too
/// (so a room's posts keep their order while one of them waits for a retry).
pub async fn due(db: &Db, transport: Transport, now: i64, limit: i64) -> anyhow::Result<Vec<Item>> {
    let pending: Vec<Item> = sqlx::query_as(
        "SELECT id, key, lane, op, data, attempts, next_attempt_at, created_at, report_room, \
         report_thread, report_status, sending_by FROM outbox WHERE transport = $1 AND state = 'pending' \
         ORDER BY id LIMIT $2",
    )
    .bind(transport.as_str())
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    let mut blocked = HashSet::new();
    let mut out = Vec::new();
    for item in pending {
        if item.next_attempt_at > now || blocked.contains(&item.lane) {
            blocked.insert(item.lane.clone());
            continue;
        }
        out.push(item);
    }
    Ok(out)
}

/// The earliest instant a pending item of `transport` becomes due, if any.
pub async fn next_due(db: &Db, transport: Transport) -> anyhow::Result<Option<i64>> {
    let row: Option<(Option<i64>,)> = sqlx::query_as(
        "SELECT MIN(next_attempt_at) FROM outbox WHERE transport = $1 AND state = 'pending'",
    )
    .bind(transport.as_str())
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.and_then(|r| r.0))
}

/// Makes every pending item of `transport` due now (its server is back); returns how many.
pub async fn pull_forward(db: &Db, transport: Transport, now: i64) -> anyhow::Result<u64> {
    let done = sqlx::query(
        "UPDATE outbox SET next_attempt_at = $1 WHERE transport = $2 AND state = 'pending' \
         AND next_attempt_at > $1",
    )
    .bind(now)
    .bind(transport.as_str())
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected())
}

/// Notes that process `by` is about to send the item (kept until it is sent or failed).
pub async fn mark_sending(db: &Db, id: i64, by: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE outbox SET sending_by = $1 WHERE id = $2")
        .bind(by)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn mark_sent(db: &Db, id: i64, result: &str) -> anyhow::Result<()> {
    let mut conn = db.pool.acquire().await?;
    mark_sent_in(&mut conn, id, result).await
}

/// [`mark_sent`] inside a transaction (that also queues the status edit).
pub async fn mark_sent_in(conn: &mut AnyConnection, id: i64, result: &str) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE outbox SET state = 'sent', result = $1, done_at = $2, attempts = attempts + 1, \
         last_error = NULL WHERE id = $3",
    )
    .bind(result)
    .bind(now_ms())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn mark_retry(db: &Db, id: i64, next_at: i64, error: &str) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 \
         WHERE id = $3",
    )
    .bind(next_at)
    .bind(error)
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Fails an item for good (inside the transaction that queues its report).
pub async fn mark_failed(conn: &mut AnyConnection, id: i64, error: &str) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = $1, \
         done_at = $2 WHERE id = $3",
    )
    .bind(error)
    .bind(now_ms())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The result (event id) recorded for a Matrix key, once sent.
pub async fn event_id_for<'e, E>(ex: E, key: &Key) -> anyhow::Result<Option<String>>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let row: Option<(Option<String>,)> = sqlx::query_as(
        "SELECT result FROM outbox WHERE transport = 'matrix' AND key = $1 AND state = 'sent'",
    )
    .bind(key.to_string())
    .fetch_optional(ex)
    .await?;
    Ok(row.and_then(|r| r.0))
}

/// The state of the item queued under `key`, if any.
pub async fn state_of<'e, E>(
    ex: E,
    transport: Transport,
    key: &Key,
) -> anyhow::Result<Option<State>>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let row: Option<(String,)> =
        sqlx::query_as("SELECT state FROM outbox WHERE transport = $1 AND key = $2")
            .bind(transport.as_str())
            .bind(key.to_string())
            .fetch_optional(ex)
            .await?;
    Ok(row.map(|r| State::parse(&r.0)))
}

/// A queued mail, found by its Message-ID (`<…>`, as in its op): (item id, key, state, the
/// room of its reports, its status post's key).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MailItem {
    pub id: i64,
    pub key: String,
    pub state: String,
    pub op: String,
    pub report_room: Option<String>,
    pub report_thread: Option<String>,
    pub report_status: Option<String>,
}

pub async fn mail_by_message_id(db: &Db, message_id: &str) -> anyhow::Result<Option<MailItem>> {
    // The op JSON holds `"message_id":"<…>"`; ours are `<convene.HEX@domain>`, so a LIKE on
    // the quoted value is exact enough (and only ours are looked for).
    if !message_id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "<>@.-".contains(c))
    {
        return Ok(None);
    }
    let pattern = format!("%\"message_id\":\"{message_id}\"%");
    Ok(sqlx::query_as(
        "SELECT id, key, state, op, report_room, report_thread, report_status FROM outbox \
         WHERE transport = 'mail' AND op LIKE $1 ORDER BY id LIMIT 1",
    )
    .bind(pattern)
    .fetch_optional(&db.pool)
    .await?)
}

/// Whether a mail was queued under `key`.
pub async fn has_mail(db: &Db, key: &Key) -> anyhow::Result<bool> {
    Ok(state_of(&db.pool, Transport::Mail, key).await?.is_some())
}

/// Where a Matrix key was posted: (the room as queued, the event id), once sent.
pub async fn posted(db: &Db, key: &Key) -> anyhow::Result<Option<(String, String)>> {
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT lane, result FROM outbox WHERE transport = 'matrix' AND key = $1 AND state = 'sent'",
    )
    .bind(key.to_string())
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.and_then(|(room, ev)| Some((room, ev?))))
}

/// The key an event of the bot was posted under (to recognise reactions and replies to it).
pub async fn key_for_event(db: &Db, event_id: &str) -> anyhow::Result<Option<Key>> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT key FROM outbox WHERE transport = 'matrix' AND result = $1 AND state = 'sent' \
         LIMIT 1",
    )
    .bind(event_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|r| Key::parse(&r.0)))
}

/// One line of `convene outbox list` / `!outbox`.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Summary {
    pub id: i64,
    pub transport: String,
    pub key: String,
    pub lane: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub last_error: Option<String>,
}

impl Summary {
    pub fn state(&self) -> State {
        State::parse(&self.state)
    }
}

/// Pending and failed items (only failed ones with `failed_only`), newest first.
pub async fn list(db: &Db, failed_only: bool, limit: i64) -> anyhow::Result<Vec<Summary>> {
    let filter = if failed_only {
        "state = 'failed'"
    } else {
        "state <> 'sent'"
    };
    let sql = format!(
        "SELECT id, transport, key, lane, state, attempts, next_attempt_at, created_at, last_error \
         FROM outbox WHERE {filter} ORDER BY id DESC LIMIT $1"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(limit)
        .fetch_all(&db.pool)
        .await?)
}

/// One item, any state.
pub async fn get(db: &Db, id: i64) -> anyhow::Result<Option<Summary>> {
    Ok(sqlx::query_as(
        "SELECT id, transport, key, lane, state, attempts, next_attempt_at, created_at, last_error \
         FROM outbox WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?)
}

/// Requeues failed and held items (one, or all with `None`): due now, a fresh retry period from now.
/// Returns the transports touched, to wake their workers.
pub async fn retry(db: &Db, id: Option<i64>) -> anyhow::Result<Vec<(i64, Transport)>> {
    let now = now_ms();
    let rows: Vec<(i64, String)> =
        match id {
            Some(id) => sqlx::query_as(
                "SELECT id, transport FROM outbox WHERE id = $1 AND state IN ('failed', 'held')",
            )
            .bind(id)
            .fetch_all(&db.pool)
            .await?,
            None => sqlx::query_as(
                "SELECT id, transport FROM outbox WHERE state IN ('failed', 'held') ORDER BY id",
            )
            .fetch_all(&db.pool)
            .await?,
        };
    let mut out = Vec::new();
    for (id, transport) in rows {
        sqlx::query(
            "UPDATE outbox SET state = 'pending', next_attempt_at = $1, created_at = $1, \
             attempts = 0, done_at = NULL WHERE id = $2 AND state IN ('failed', 'held')",
        )
        .bind(now)
        .bind(id)
        .execute(&db.pool)
        .await?;
        if let Some(t) = Transport::parse(&transport) {
            out.push((id, t));
        }
    }
    Ok(out)
}

/// Releases the held mail to `address` (the secretariat cleared it); returns how many.
pub async fn release_held_to(db: &Db, address: &str) -> anyhow::Result<u64> {
    let now = now_ms();
    let done = sqlx::query(
        "UPDATE outbox SET state = 'pending', next_attempt_at = $1, created_at = $1 \
         WHERE transport = 'mail' AND state = 'held' AND lower(lane) = lower($2)",
    )
    .bind(now)
    .bind(address)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected())
}

/// Per transport: (pending items, the oldest pending item's queue time, failed items).
pub async fn depth(db: &Db) -> anyhow::Result<Vec<(String, i64, Option<i64>, i64)>> {
    Ok(sqlx::query_as(
        "SELECT transport, \
         SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), \
         MIN(CASE WHEN state = 'pending' THEN created_at END), \
         SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END) \
         FROM outbox GROUP BY transport",
    )
    .fetch_all(&db.pool)
    .await?)
}
