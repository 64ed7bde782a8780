//! The Matrix outbox: everything convene posts goes through this table first, with a
//! transaction id fixed at enqueue time. The worker sends with that id, so a crash after the
//! homeserver accepted an event but before we recorded it re-sends the same transaction and
//! the homeserver answers with the event it already has: one event, never two.
//!
//! Transaction ids are `<install id>-<kind>-<ref>`; the install id is random per database, so a
//! fresh database reusing an old device cannot collide with that device's earlier ids.

use anyhow::{Context, anyhow};
use matrix_sdk::ruma::{OwnedRoomId, OwnedRoomOrAliasId, OwnedTransactionId, RoomAliasId, RoomId};
use serde_json::Value;
use sqlx::Any;
use tokio_util::sync::CancellationToken;

use crate::app::Ctx;
use crate::storage::{Db, now_ms};

/// Give up on an event after this many failed attempts (then it is reported).
const MAX_ATTEMPTS: i64 = 12;

#[derive(Debug, Clone)]
pub struct Post {
    /// Stable reference of what is posted, e.g. `mail-42` or `cmd-$event`.
    pub key: String,
    /// Room id or alias, as configured.
    pub room: String,
    pub event_type: String,
    pub content: Value,
}

impl Post {
    pub fn message(key: impl Into<String>, room: impl Into<String>, content: Value) -> Post {
        Post {
            key: key.into(),
            room: room.into(),
            event_type: "m.room.message".into(),
            content,
        }
    }
}

/// The random id of this installation's database, created on first use.
pub async fn install_id(db: &Db) -> anyhow::Result<String> {
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

/// Only characters every homeserver accepts in a path segment.
fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Queues a post (idempotent: the same key is queued once). Use inside the transaction that
/// records the fact being posted.
pub async fn enqueue<'e, E>(ex: E, install: &str, post: &Post) -> anyhow::Result<()>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let txn = format!("{install}-{}", sanitize(&post.key));
    sqlx::query(
        "INSERT INTO matrix_outbox (txn_id, room_id, event_type, content, source, state, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6) ON CONFLICT (txn_id) DO NOTHING",
    )
    .bind(txn)
    .bind(&post.room)
    .bind(&post.event_type)
    .bind(post.content.to_string())
    .bind(&post.key)
    .bind(now_ms())
    .execute(ex)
    .await?;
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
struct Row {
    id: i64,
    txn_id: String,
    room_id: String,
    event_type: String,
    content: String,
    attempts: i64,
}

/// The event id recorded for a key, once sent.
pub async fn event_id_for(db: &Db, key: &str) -> anyhow::Result<Option<String>> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT event_id FROM matrix_outbox WHERE source = $1 ORDER BY id LIMIT 1")
            .bind(key)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.and_then(|r| r.0))
}

/// The key a sent event came from (to recognise reactions and replies to convene's posts).
pub async fn key_for_event(db: &Db, event_id: &str) -> anyhow::Result<Option<String>> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT source FROM matrix_outbox WHERE event_id = $1")
            .bind(event_id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.and_then(|r| r.0))
}

pub async fn run(ctx: Ctx, cancel: CancellationToken) -> anyhow::Result<()> {
    let client = ctx.matrix.clone().context("Matrix client not available")?;
    loop {
        let now = now_ms();
        let due: Vec<Row> = sqlx::query_as(
            "SELECT id, txn_id, room_id, event_type, content, attempts FROM matrix_outbox \
             WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY id LIMIT 20",
        )
        .bind(now)
        .fetch_all(&ctx.db.pool)
        .await?;
        for row in &due {
            if cancel.is_cancelled() {
                return Ok(());
            }
            match send(&client, row).await {
                Ok(event_id) => {
                    crate::failpoint::hit("after-matrix-send");
                    sqlx::query("UPDATE matrix_outbox SET state = 'sent', event_id = $1, attempts = attempts + 1 WHERE id = $2")
                        .bind(&event_id)
                        .bind(row.id)
                        .execute(&ctx.db.pool)
                        .await?;
                    tracing::debug!(txn = %row.txn_id, %event_id, "posted");
                }
                Err(e) => fail(&ctx, row, &format!("{e:#}")).await?,
            }
        }
        if due.len() == 20 {
            continue;
        }
        let wait = crate::storage::until_next_attempt(&ctx.db, "matrix_outbox").await?;
        tokio::select! {
            _ = ctx.wake.matrix_outbox.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = cancel.cancelled() => return Ok(()),
        }
    }
}

async fn fail(ctx: &Ctx, row: &Row, error: &str) -> anyhow::Result<()> {
    use crate::storage::outbox::{Failed, fail_attempt};
    match fail_attempt(
        &ctx.db,
        "matrix_outbox",
        row.id,
        row.attempts,
        MAX_ATTEMPTS,
        1000,
        error,
    )
    .await?
    {
        Failed::Retry => tracing::warn!(txn = %row.txn_id, error, "Matrix send failed; will retry"),
        Failed::GaveUp {
            quarantine_id,
            attempts,
        } => {
            tracing::error!(txn = %row.txn_id, error, "giving up on Matrix event");
            // A report about the management room itself would fail the same way.
            if row.room_id != ctx.config.matrix.management_room {
                let text = format!(
                    "⚠ Could not post to {} after {attempts} attempts: {error} (quarantine #{quarantine_id})",
                    row.room_id
                );
                let room = ctx.config.matrix.management_room.clone();
                ctx.post_notice(&format!("quarantine-{quarantine_id}"), &room, &text)
                    .await?;
            }
        }
    }
    Ok(())
}

async fn send(client: &matrix_sdk::Client, row: &Row) -> anyhow::Result<String> {
    let room_id = resolve_room(client, &row.room_id).await?;
    let room = match client.get_room(&room_id) {
        Some(r) if r.state() == matrix_sdk::RoomState::Joined => r,
        _ => client
            .join_room_by_id(&room_id)
            .await
            .with_context(|| format!("joining {room_id}"))?,
    };
    let content: Value = serde_json::from_str(&row.content)?;
    let txn: OwnedTransactionId = row.txn_id.as_str().into();
    let response = room
        .send_raw(&row.event_type, content)
        .with_transaction_id(&txn)
        .await?;
    Ok(response.response.event_id.to_string())
}

pub async fn resolve_room(client: &matrix_sdk::Client, room: &str) -> anyhow::Result<OwnedRoomId> {
    let target =
        OwnedRoomOrAliasId::try_from(room).map_err(|e| anyhow!("bad room `{room}`: {e}"))?;
    if let Ok(id) = <&RoomId>::try_from(target.as_str()) {
        return Ok(id.to_owned());
    }
    let alias = <&RoomAliasId>::try_from(target.as_str())?;
    Ok(client.resolve_room_alias(alias).await?.room_id)
}
