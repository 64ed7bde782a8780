//! The calendar in the database: items with revisions (the ICS SEQUENCE), reminder firings
//! and proposals found in mail.
//!
//! - An item is kept as the JSON of [`Item`] under (kind, id). [`upsert`] bumps the revision
//!   only when the JSON changes, so reloading an unchanged calendar file changes nothing.
//! - A firing (`calendar_fired`) is inserted with `ON CONFLICT DO NOTHING` **in the same
//!   transaction** as the outbox entries it causes ([`record_firing`] returns whether this
//!   caller inserted it): only the inserter posts, so nothing is sent twice, across restarts
//!   and crashes.
//! - Nothing is cached: callers load the calendar (a few hundred items at most) when needed.

use std::collections::HashMap;

use anyhow::Context as _;
use sqlx::Any;

use super::model::{Calendar, Item, ItemRef};
use super::phrases::Proposal;
use crate::storage::{Db, now_ms};

/// Where an item came from.
pub const FILE: &str = "file";
pub const COMMAND: &str = "command";
pub const IMPORT: &str = "import";
pub const MAIL: &str = "mail";

/// What [`upsert`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Inserted,
    Updated,
    Unchanged,
}

/// The calendar as stored, with each item's revision.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub cal: Calendar,
    pub revisions: HashMap<ItemRef, i64>,
}

impl Snapshot {
    /// The revision of an item as an ICS SEQUENCE (0 when unknown).
    pub fn sequence(&self, r: &ItemRef) -> u32 {
        self.revisions
            .get(r)
            .map_or(0, |v| u32::try_from(*v).unwrap_or(u32::MAX))
    }
}

/// Inserts or updates `item`; the revision goes up only when the item changed.
pub async fn upsert(db: &Db, item: &Item, source: &str) -> anyhow::Result<Change> {
    let body = serde_json::to_string(item)?;
    let kind = item.kind().as_str();
    let old: Option<(String,)> =
        sqlx::query_as("SELECT body FROM calendar_item WHERE kind = $1 AND id = $2")
            .bind(kind)
            .bind(item.id())
            .fetch_optional(&db.pool)
            .await?;
    match old {
        Some((old,)) if old == body => Ok(Change::Unchanged),
        Some(_) => {
            sqlx::query(
                "UPDATE calendar_item SET body = $1, revision = revision + 1, source = $2, \
                 updated_at = $3 WHERE kind = $4 AND id = $5",
            )
            .bind(&body)
            .bind(source)
            .bind(now_ms())
            .bind(kind)
            .bind(item.id())
            .execute(&db.pool)
            .await?;
            Ok(Change::Updated)
        }
        None => {
            let done = sqlx::query(
                "INSERT INTO calendar_item (kind, id, body, revision, source, updated_at) \
                 VALUES ($1, $2, $3, 0, $4, $5) ON CONFLICT (kind, id) DO NOTHING",
            )
            .bind(kind)
            .bind(item.id())
            .bind(&body)
            .bind(source)
            .bind(now_ms())
            .execute(&db.pool)
            .await?;
            Ok(if done.rows_affected() > 0 {
                Change::Inserted
            } else {
                Change::Unchanged
            })
        }
    }
}

/// Stores the calendar file's items; items once loaded from the file and no longer in it are
/// removed. Returns how many items were inserted or changed.
pub async fn sync_file(db: &Db, cal: &Calendar) -> anyhow::Result<usize> {
    let mut changed = 0;
    let items = cal.items();
    for item in &items {
        if upsert(db, item, FILE).await? != Change::Unchanged {
            changed += 1;
        }
    }
    let stored: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, id FROM calendar_item WHERE source = $1")
            .bind(FILE)
            .fetch_all(&db.pool)
            .await?;
    for (kind, id) in stored {
        if !items
            .iter()
            .any(|i| i.kind().as_str() == kind && i.id() == id)
        {
            sqlx::query("DELETE FROM calendar_item WHERE kind = $1 AND id = $2 AND source = $3")
                .bind(&kind)
                .bind(&id)
                .bind(FILE)
                .execute(&db.pool)
                .await?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Reads `calendar.file` (if configured) into the store.
pub async fn load_file(db: &Db, file: Option<&std::path::Path>) -> anyhow::Result<usize> {
    let Some(path) = file else {
        return Ok(0);
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading calendar file {}", path.display()))?;
    let cal = super::file::parse(&text)
        .map_err(|e| anyhow::anyhow!("calendar file {}: {e}", path.display()))?;
    sync_file(db, &cal).await
}

/// The whole stored calendar.
pub async fn load(db: &Db) -> anyhow::Result<Snapshot> {
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT kind, body, revision FROM calendar_item ORDER BY kind, id")
            .fetch_all(&db.pool)
            .await?;
    let mut items = Vec::with_capacity(rows.len());
    let mut revisions = HashMap::new();
    for (kind, body, revision) in rows {
        match serde_json::from_str::<Item>(&body) {
            Ok(item) => {
                revisions.insert(item.item_ref(), revision);
                items.push(item);
            }
            Err(e) => tracing::warn!(%kind, error = %e, "unreadable calendar item skipped"),
        }
    }
    Ok(Snapshot {
        cal: Calendar::from_items(items),
        revisions,
    })
}

/// The stored calls, read on `conn` (the intake's transaction); unreadable items skipped.
pub async fn calls(conn: &mut sqlx::AnyConnection) -> anyhow::Result<Vec<super::model::Call>> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT body FROM calendar_item WHERE kind = 'call' ORDER BY id")
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(body,)| match serde_json::from_str::<Item>(&body) {
            Ok(Item::Call(c)) => Some(c),
            _ => None,
        })
        .collect())
}

/// One stored item.
pub async fn get(db: &Db, r: &ItemRef) -> anyhow::Result<Option<(Item, i64)>> {
    let row: Option<(String, i64)> =
        sqlx::query_as("SELECT body, revision FROM calendar_item WHERE kind = $1 AND id = $2")
            .bind(r.kind.as_str())
            .bind(&r.id)
            .fetch_optional(&db.pool)
            .await?;
    row.map(|(b, rev)| Ok((serde_json::from_str(&b)?, rev)))
        .transpose()
}

/// How a firing went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Firing {
    OnTime = 0,
    Late = 1,
    /// Too old: reported, not sent.
    Skipped = 2,
}

/// Records a firing; true when this call inserted it (and so must send it). Run it inside
/// the transaction that queues what it sends.
pub async fn record_firing<'e, E>(ex: E, key: &str, how: Firing) -> anyhow::Result<bool>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let done = sqlx::query(
        "INSERT INTO calendar_fired (key, fired_at, late) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(now_ms())
    .bind(how as i64)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// How a key was fired, if it was.
pub async fn firing(db: &Db, key: &str) -> anyhow::Result<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT late FROM calendar_fired WHERE key = $1")
        .bind(key)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|r| r.0))
}

/// A proposal from mail, stored.
#[derive(Clone, Debug)]
pub struct StoredProposal {
    pub id: i64,
    pub group: Option<String>,
    pub proposal: Proposal,
    pub state: String,
}

/// Stores a proposal once per `dedup` key; returns its id either way. Runs in the caller's
/// transaction (the one queueing the proposal's card): on SQLite a second connection would
/// wait for the write lock that transaction holds after its first card, and the pool with it.
pub async fn add_proposal(
    conn: &mut sqlx::AnyConnection,
    dedup: &str,
    inbound_id: i64,
    group: Option<&str>,
    p: &Proposal,
) -> anyhow::Result<i64> {
    sqlx::query(
        "INSERT INTO calendar_proposal (dedup, inbound_id, group_slug, body, state, created_at) \
         VALUES ($1, $2, $3, $4, 'pending', $5) ON CONFLICT (dedup) DO NOTHING",
    )
    .bind(dedup)
    .bind(inbound_id)
    .bind(group)
    .bind(serde_json::to_string(p)?)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM calendar_proposal WHERE dedup = $1")
        .bind(dedup)
        .fetch_one(&mut *conn)
        .await?;
    Ok(id)
}

pub async fn proposal(db: &Db, id: i64) -> anyhow::Result<Option<StoredProposal>> {
    let row: Option<(i64, Option<String>, String, String)> =
        sqlx::query_as("SELECT id, group_slug, body, state FROM calendar_proposal WHERE id = $1")
            .bind(id)
            .fetch_optional(&db.pool)
            .await?;
    row.map(|(id, group, body, state)| {
        Ok(StoredProposal {
            id,
            group,
            proposal: serde_json::from_str(&body)?,
            state,
        })
    })
    .transpose()
}

/// Marks a pending proposal accepted; true for the one caller that did it.
pub async fn accept_proposal(db: &Db, id: i64) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE calendar_proposal SET state = 'accepted' WHERE id = $1 AND state = 'pending'",
    )
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Subscribes `user` to the reminders of `group`; true when new. (The DM room is the Matrix
/// transport's business: reminders to subscribers are queued as direct messages.)
pub async fn subscribe(db: &Db, user: &str, group: &str) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO calendar_subscriber (user_id, group_slug, dm_room, created_at) \
         VALUES ($1, $2, '', $3) ON CONFLICT (user_id, group_slug) DO NOTHING",
    )
    .bind(user)
    .bind(group)
    .bind(now_ms())
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Ends `user`'s subscription to `group`; true when there was one.
pub async fn unsubscribe(db: &Db, user: &str, group: &str) -> anyhow::Result<bool> {
    let done =
        sqlx::query("DELETE FROM calendar_subscriber WHERE user_id = $1 AND group_slug = $2")
            .bind(user)
            .bind(group)
            .execute(&db.pool)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// Every subscription: (user, group).
pub async fn subscribers(db: &Db) -> anyhow::Result<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT user_id, group_slug FROM calendar_subscriber ORDER BY user_id, group_slug",
    )
    .fetch_all(&db.pool)
    .await?)
}

#[cfg(test)]
pub(crate) mod tests;
