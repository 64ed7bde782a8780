//! The calendar in the database: items with revisions (the ICS SEQUENCE), reminder firings,
//! proposals found in mail, 🔔 subscriptions, members' time zones, personal reminders and
//! snoozes (migrations 0003 and 0009).
//!
//! - An item is kept as the JSON of [`Item`] under (kind, id). [`upsert_in`] bumps the
//!   revision only when the JSON changes, so reloading an unchanged calendar file changes
//!   nothing, and hands back the item as it was: [`changes`](super::changes) compares the two
//!   in the same transaction and queues what the change causes under (item, revision).
//! - A firing (`calendar_fired`) is inserted with `ON CONFLICT DO NOTHING` **in the same
//!   transaction** as the outbox entries it causes ([`record_firing`] returns whether this
//!   caller inserted it): only the inserter posts, so nothing is sent twice, across restarts
//!   and crashes.
//! - Nothing is cached: callers load the calendar (a few hundred items at most) when needed.

use std::collections::HashMap;

use sqlx::{Any, AnyConnection};

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

/// What [`upsert_in`] did, with the item as it was before (to tell people what changed).
#[derive(Clone, Debug)]
pub struct Saved {
    pub change: Change,
    /// The stored item before this write, if there was one.
    pub old: Option<Item>,
    /// The item's revision after this write (its ICS SEQUENCE).
    pub revision: i64,
}

/// Inserts or updates `item` on `conn` (a transaction, so that what the change causes is
/// queued with it); the revision goes up only when the item changed.
pub async fn upsert_in(
    conn: &mut AnyConnection,
    item: &Item,
    source: &str,
) -> anyhow::Result<Saved> {
    let body = serde_json::to_string(item)?;
    let kind = item.kind().as_str();
    let old: Option<(String, i64)> =
        sqlx::query_as("SELECT body, revision FROM calendar_item WHERE kind = $1 AND id = $2")
            .bind(kind)
            .bind(item.id())
            .fetch_optional(&mut *conn)
            .await?;
    match old {
        Some((old, revision)) if old == body => Ok(Saved {
            change: Change::Unchanged,
            old: serde_json::from_str(&old).ok(),
            revision,
        }),
        Some((old, revision)) => {
            sqlx::query(
                "UPDATE calendar_item SET body = $1, revision = revision + 1, source = $2, \
                 updated_at = $3 WHERE kind = $4 AND id = $5",
            )
            .bind(&body)
            .bind(source)
            .bind(now_ms())
            .bind(kind)
            .bind(item.id())
            .execute(&mut *conn)
            .await?;
            Ok(Saved {
                change: Change::Updated,
                old: serde_json::from_str(&old).ok(),
                revision: revision + 1,
            })
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
            .execute(&mut *conn)
            .await?;
            Ok(Saved {
                change: if done.rows_affected() > 0 {
                    Change::Inserted
                } else {
                    Change::Unchanged
                },
                old: None,
                revision: 0,
            })
        }
    }
}

/// Inserts or updates `item` on its own; see [`upsert_in`]. Nobody is told of the change:
/// meetings are saved through [`changes::save`](super::changes::save).
pub async fn upsert(db: &Db, item: &Item, source: &str) -> anyhow::Result<Change> {
    let mut tx = db.begin_write().await?;
    let saved = upsert_in(&mut tx, item, source).await?;
    tx.commit().await?;
    Ok(saved.change)
}

/// The calendar file's version of item `r` as last loaded (its JSON), if it has one.
pub async fn file_version(conn: &mut AnyConnection, r: &ItemRef) -> anyhow::Result<Option<String>> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT file_body FROM calendar_item WHERE kind = $1 AND id = $2")
            .bind(r.kind.as_str())
            .bind(&r.id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.and_then(|r| r.0))
}

/// Notes `item` as the calendar file's version of it (after it was loaded from the file).
pub async fn set_file_version(conn: &mut AnyConnection, item: &Item) -> anyhow::Result<()> {
    sqlx::query("UPDATE calendar_item SET file_body = $1 WHERE kind = $2 AND id = $3")
        .bind(serde_json::to_string(item)?)
        .bind(item.kind().as_str())
        .bind(item.id())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Removes item `r` if `source` put it there; returns it with the revision its removal
/// counts as (one more than its last).
pub async fn remove_in(
    conn: &mut AnyConnection,
    r: &ItemRef,
    source: &str,
) -> anyhow::Result<Option<(Item, i64)>> {
    let old: Option<(String, i64)> = sqlx::query_as(
        "SELECT body, revision FROM calendar_item WHERE kind = $1 AND id = $2 AND source = $3",
    )
    .bind(r.kind.as_str())
    .bind(&r.id)
    .bind(source)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((body, revision)) = old else {
        return Ok(None);
    };
    sqlx::query("DELETE FROM calendar_item WHERE kind = $1 AND id = $2 AND source = $3")
        .bind(r.kind.as_str())
        .bind(&r.id)
        .bind(source)
        .execute(&mut *conn)
        .await?;
    Ok(serde_json::from_str(&body)
        .ok()
        .map(|item| (item, revision + 1)))
}

/// The items `source` put in the store, by reference.
pub async fn refs_from(conn: &mut AnyConnection, source: &str) -> anyhow::Result<Vec<ItemRef>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, id FROM calendar_item WHERE source = $1 ORDER BY kind, id")
            .bind(source)
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(kind, id)| {
            Some(ItemRef {
                kind: super::model::ItemKind::parse(&kind)?,
                id,
            })
        })
        .collect())
}

/// The current revision of item `r`, read on `conn` (the scheduler checks, in the firing's
/// own transaction, that the item did not change since it computed what was due).
pub async fn revision_in(conn: &mut AnyConnection, r: &ItemRef) -> anyhow::Result<Option<i64>> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT revision FROM calendar_item WHERE kind = $1 AND id = $2")
            .bind(r.kind.as_str())
            .bind(&r.id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.map(|r| r.0))
}

/// Stores a calendar's items without telling anyone (tests set up a store this way); items
/// once loaded from the file and no longer in it are removed. The daemon goes through
/// [`changes::sync_file`](super::changes::sync_file).
#[cfg(test)]
pub(crate) async fn sync_file(db: &Db, cal: &Calendar) -> anyhow::Result<usize> {
    let mut tx = db.begin_write().await?;
    let mut changed = 0;
    let items = cal.items();
    for item in &items {
        if upsert_in(&mut tx, item, FILE).await?.change != Change::Unchanged {
            changed += 1;
        }
    }
    for r in refs_from(&mut tx, FILE).await? {
        if !items.iter().any(|i| i.item_ref() == r) && remove_in(&mut tx, &r, FILE).await?.is_some()
        {
            changed += 1;
        }
    }
    tx.commit().await?;
    Ok(changed)
}

/// A value that changes whenever an item is added, changed or removed — by this process or
/// another one (`convene calendar import`, `convene command`): item count, revisions summed,
/// latest write.
pub async fn generation(db: &Db) -> anyhow::Result<(i64, i64, i64)> {
    // PostgreSQL sums BIGINTs as NUMERIC, which the Any driver does not read: cast back.
    let row: (i64, Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), CAST(SUM(revision) AS BIGINT), MAX(updated_at) FROM calendar_item",
    )
    .fetch_one(&db.pool)
    .await?;
    Ok((row.0, row.1.unwrap_or(0), row.2.unwrap_or(0)))
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

/// Reminders fired so far (cron jobs left out): (on time, late, skipped as too old), for
/// `/metrics`.
pub async fn fired_counts(db: &Db) -> anyhow::Result<(i64, i64, i64)> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT late, COUNT(*) FROM calendar_fired WHERE key NOT LIKE 'job:%' GROUP BY late",
    )
    .fetch_all(&db.pool)
    .await?;
    let n = |how: Firing| rows.iter().find(|r| r.0 == how as i64).map_or(0, |r| r.1);
    Ok((n(Firing::OnTime), n(Firing::Late), n(Firing::Skipped)))
}

/// A proposal from mail, stored.
#[derive(Clone, Debug)]
pub struct StoredProposal {
    pub id: i64,
    pub group: Option<String>,
    pub proposal: Proposal,
    pub state: String,
}

/// Stores a proposal once per `dedup` key, on `conn` (the transaction that queues its
/// card); returns its id, and whether this call stored it.
pub async fn add_proposal(
    conn: &mut AnyConnection,
    dedup: &str,
    inbound_id: i64,
    group: Option<&str>,
    sender: Option<&str>,
    p: &Proposal,
) -> anyhow::Result<(i64, bool)> {
    let done = sqlx::query(
        "INSERT INTO calendar_proposal \
         (dedup, inbound_id, group_slug, body, state, created_at, sender) \
         VALUES ($1, $2, $3, $4, 'pending', $5, $6) ON CONFLICT (dedup) DO NOTHING",
    )
    .bind(dedup)
    .bind(inbound_id)
    .bind(group)
    .bind(serde_json::to_string(p)?)
    .bind(now_ms())
    .bind(sender)
    .execute(&mut *conn)
    .await?;
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM calendar_proposal WHERE dedup = $1")
        .bind(dedup)
        .fetch_one(&mut *conn)
        .await?;
    Ok((id, done.rows_affected() > 0))
}

/// How many proposals from mail of `sender` were stored since `since_ms`, other than those of
/// inbound mail `except` (a mail handled again after a crash does not count against itself).
pub async fn proposals_from(
    conn: &mut AnyConnection,
    sender: &str,
    since_ms: i64,
    except: i64,
) -> anyhow::Result<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM calendar_proposal \
         WHERE sender = $1 AND created_at >= $2 AND inbound_id <> $3",
    )
    .bind(sender)
    .bind(since_ms)
    .bind(except)
    .fetch_one(&mut *conn)
    .await?;
    Ok(n)
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

/// 🔔 again: subscribes `user` to `group`, or ends the subscription they have. Returns
/// whether they are subscribed now. Run it in the transaction that queues the answer.
pub async fn toggle_subscription(
    conn: &mut AnyConnection,
    user: &str,
    group: &str,
) -> anyhow::Result<bool> {
    let gone =
        sqlx::query("DELETE FROM calendar_subscriber WHERE user_id = $1 AND group_slug = $2")
            .bind(user)
            .bind(group)
            .execute(&mut *conn)
            .await?;
    if gone.rows_affected() > 0 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO calendar_subscriber (user_id, group_slug, dm_room, created_at) \
         VALUES ($1, $2, '', $3) ON CONFLICT (user_id, group_slug) DO NOTHING",
    )
    .bind(user)
    .bind(group)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// The groups `user` is subscribed to.
pub async fn subscriptions_of(db: &Db, user: &str) -> anyhow::Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT group_slug FROM calendar_subscriber WHERE user_id = $1 ORDER BY group_slug",
    )
    .bind(user)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Every subscription: (user, group). Read on the pool or in a transaction.
pub async fn subscribers<'e, E>(ex: E) -> anyhow::Result<Vec<(String, String)>>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    Ok(sqlx::query_as(
        "SELECT user_id, group_slug FROM calendar_subscriber ORDER BY user_id, group_slug",
    )
    .fetch_all(ex)
    .await?)
}

/// Stores (or with `None` forgets) the time zone `user` reads times in.
pub async fn set_member_tz(db: &Db, user: &str, tz: Option<chrono_tz::Tz>) -> anyhow::Result<()> {
    match tz {
        None => {
            sqlx::query("DELETE FROM calendar_member_tz WHERE user_id = $1")
                .bind(user)
                .execute(&db.pool)
                .await?;
        }
        Some(tz) => {
            sqlx::query(
                "INSERT INTO calendar_member_tz (user_id, tz, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id) DO UPDATE SET tz = $2, updated_at = $3",
            )
            .bind(user)
            .bind(tz.name())
            .bind(now_ms())
            .execute(&db.pool)
            .await?;
        }
    }
    Ok(())
}

/// The time zone `user` set with `!tz`, if any (a name no longer known is ignored).
pub async fn member_tz(db: &Db, user: &str) -> anyhow::Result<Option<chrono_tz::Tz>> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT tz FROM calendar_member_tz WHERE user_id = $1")
            .bind(user)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.and_then(|(name,)| name.parse().ok()))
}

/// Every member's time zone. Read on the pool or in a transaction.
pub async fn member_tzs<'e, E>(ex: E) -> anyhow::Result<HashMap<String, chrono_tz::Tz>>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT user_id, tz FROM calendar_member_tz")
        .fetch_all(ex)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(user, name)| Some((user, name.parse().ok()?)))
        .collect())
}

/// A personal reminder (`!remind me`): one occurrence (`item.id` is an occurrence id, or a
/// one-off item's id), `offset` before it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Personal {
    pub id: i64,
    pub user: String,
    pub item: ItemRef,
    pub offset: chrono::TimeDelta,
}

pub async fn add_personal(
    db: &Db,
    user: &str,
    occurrence: &ItemRef,
    offset: chrono::TimeDelta,
) -> anyhow::Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO calendar_personal (user_id, kind, occurrence, offset_secs, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(user)
    .bind(occurrence.kind.as_str())
    .bind(&occurrence.id)
    .bind(offset.num_seconds())
    .bind(now_ms())
    .fetch_one(&db.pool)
    .await?;
    Ok(id)
}

/// Every personal reminder (a few per member; which have fired is in `calendar_fired`).
pub async fn personal(db: &Db) -> anyhow::Result<Vec<Personal>> {
    let rows: Vec<(i64, String, String, String, i64)> = sqlx::query_as(
        "SELECT id, user_id, kind, occurrence, offset_secs FROM calendar_personal ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, user, kind, occurrence, secs)| {
            Some(Personal {
                id,
                user,
                item: ItemRef {
                    kind: super::model::ItemKind::parse(&kind)?,
                    id: occurrence,
                },
                offset: chrono::TimeDelta::seconds(secs),
            })
        })
        .collect())
}

/// A reminder snoozed by one person: it comes back at `due`, once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snooze {
    pub user: String,
    /// The key of the reminder snoozed.
    pub key: String,
    /// The occurrence it reminds of (an occurrence id, or a one-off item's id).
    pub item: ItemRef,
    pub due: chrono::DateTime<chrono::Utc>,
}

/// Snoozes reminder `s.key` for `s.user`; false when they already snoozed it (once each).
pub async fn snooze(db: &Db, s: &Snooze) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO calendar_snooze \
         (user_id, reminder_key, kind, occurrence, due_at, fired_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, NULL, $6) ON CONFLICT (user_id, reminder_key) DO NOTHING",
    )
    .bind(&s.user)
    .bind(&s.key)
    .bind(s.item.kind.as_str())
    .bind(&s.item.id)
    .bind(s.due.timestamp_millis())
    .bind(now_ms())
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Snoozes not yet come back, soonest first.
pub async fn pending_snoozes(db: &Db) -> anyhow::Result<Vec<Snooze>> {
    let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
        "SELECT user_id, reminder_key, kind, occurrence, due_at FROM calendar_snooze \
         WHERE fired_at IS NULL ORDER BY due_at",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(user, key, kind, occurrence, due)| {
            Some(Snooze {
                user,
                key,
                item: ItemRef {
                    kind: super::model::ItemKind::parse(&kind)?,
                    id: occurrence,
                },
                due: chrono::DateTime::from_timestamp_millis(due)?,
            })
        })
        .collect())
}

/// Marks a snooze come back; true for the one caller that did (and so sends it). Run it in
/// the transaction that queues the message.
pub async fn fire_snooze(conn: &mut AnyConnection, user: &str, key: &str) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE calendar_snooze SET fired_at = $1 \
         WHERE user_id = $2 AND reminder_key = $3 AND fired_at IS NULL",
    )
    .bind(now_ms())
    .bind(user)
    .bind(key)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

#[cfg(test)]
pub(crate) mod tests;
