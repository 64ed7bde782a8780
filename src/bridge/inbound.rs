//! The inbound mail tables, and only here: `inbound_mail` (every fetched message, stored
//! before anything acts on it) and `mail_cursor` (how far each folder was read).
//!
//! States: `new` (stored, not yet handled), `done` (handled), `duplicate` (same Message-ID as
//! an earlier message, not handled again), `quarantined` (failed; see the quarantine table),
//! `skipped` (already in the folder when a changed UIDVALIDITY was first seen, and not
//! imported: recorded so it is never taken for new mail).

use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::storage::{Db, now_ms};

pub struct Fetched<'a> {
    pub mailbox: &'a str,
    pub uidvalidity: u32,
    pub uid: u32,
    pub size: u32,
    /// None: the server returned no body however often it was asked (quarantined).
    pub raw: Option<Vec<u8>>,
    /// Only the header was fetched because the message is larger than the configured cap.
    pub oversized: bool,
}

/// The typed state of an inbound mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailState {
    New,
    Done,
    Duplicate,
    Quarantined,
    Skipped,
}

impl MailState {
    pub fn as_str(self) -> &'static str {
        match self {
            MailState::New => "new",
            MailState::Done => "done",
            MailState::Duplicate => "duplicate",
            MailState::Quarantined => "quarantined",
            MailState::Skipped => "skipped",
        }
    }
}

/// What the pipeline made of a mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailKind {
    Eoi,
    Correspondence,
    Automatic,
    /// The bot's own mail come back (a copy, a loop): never bridged or answered.
    Own,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Eoi => "eoi",
            MailKind::Correspondence => "correspondence",
            MailKind::Automatic => "automatic",
            MailKind::Own => "own",
        }
    }
}

/// The last UID handled in this mailbox under this UIDVALIDITY (0 when none or it changed).
pub async fn cursor(db: &Db, mailbox: &str, uidvalidity: u32) -> anyhow::Result<i64> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT uidvalidity, last_uid FROM mail_cursor WHERE mailbox = $1")
            .bind(mailbox)
            .fetch_optional(&db.pool)
            .await?;
    Ok(match row {
        Some((v, last)) if v == i64::from(uidvalidity) => last,
        Some((v, _)) => {
            tracing::warn!(
                mailbox,
                old = v,
                new = uidvalidity,
                "UIDVALIDITY changed: rescanning"
            );
            0
        }
        None => 0,
    })
}

pub async fn has_cursor(db: &Db, mailbox: &str) -> anyhow::Result<bool> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT last_uid FROM mail_cursor WHERE mailbox = $1")
        .bind(mailbox)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.is_some())
}

pub async fn advance_cursor(
    db: &Db,
    mailbox: &str,
    uidvalidity: u32,
    uid: i64,
) -> anyhow::Result<()> {
    sqlx::query(CURSOR_UPSERT)
        .bind(mailbox)
        .bind(i64::from(uidvalidity))
        .bind(uid)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The stored (UIDVALIDITY, last UID, last completed check) of a folder.
pub async fn cursor_row(db: &Db, mailbox: &str) -> anyhow::Result<Option<(i64, i64, Option<i64>)>> {
    Ok(sqlx::query_as(
        "SELECT uidvalidity, last_uid, checked_at FROM mail_cursor WHERE mailbox = $1",
    )
    .bind(mailbox)
    .fetch_optional(&db.pool)
    .await?)
}

/// Notes that the folder was read up to now (after a fetch pass that found it complete).
pub async fn mark_checked(db: &Db, mailbox: &str, at: i64) -> anyhow::Result<()> {
    sqlx::query("UPDATE mail_cursor SET checked_at = $1 WHERE mailbox = $2")
        .bind(at)
        .bind(mailbox)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Whether a mail with this dedup key ([`message_key`]) was ever stored, in any epoch.
pub async fn is_known(db: &Db, key: &str) -> anyhow::Result<bool> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM inbound_mail WHERE message_key = $1 LIMIT 1")
            .bind(key)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.is_some())
}

/// Records a message of a new UIDVALIDITY epoch that is not to be handled (already known, or
/// older than the change and not to be imported), without its bytes.
pub async fn record_skipped(
    db: &Db,
    mailbox: &str,
    uidvalidity: u32,
    uid: u32,
    key: &str,
    why: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO inbound_mail (mailbox, uidvalidity, uid, message_key, size, raw, state, error, received_at) \
         VALUES ($1, $2, $3, $4, 0, NULL, 'skipped', $5, $6) ON CONFLICT (mailbox, uidvalidity, uid) DO NOTHING",
    )
    .bind(mailbox)
    .bind(i64::from(uidvalidity))
    .bind(i64::from(uid))
    .bind(key)
    .bind(why)
    .bind(now_ms())
    .execute(&db.pool)
    .await?;
    Ok(())
}

const CURSOR_UPSERT: &str = "INSERT INTO mail_cursor (mailbox, uidvalidity, last_uid) VALUES ($1, $2, $3) \
     ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid";

/// The dedup key of a message: its Message-ID, else a hash of its bytes.
pub fn message_key(raw: &[u8]) -> String {
    message_id_key(raw).unwrap_or_else(|| format!("sha256:{:x}", Sha256::digest(raw)))
}

/// The Message-ID key (`<id>`) of a message or of its header alone, if it has one.
pub fn message_id_key(raw: &[u8]) -> Option<String> {
    let parsed = mail_parser::MessageParser::new().parse_headers(raw);
    match parsed.as_ref().and_then(|m| m.message_id()) {
        Some(id) if !id.trim().is_empty() => Some(format!("<{}>", id.trim())),
        _ => None,
    }
}

/// UIDs above `after` already recorded for this folder and epoch.
pub async fn stored_uids(
    db: &Db,
    mailbox: &str,
    uidvalidity: u32,
    after: i64,
) -> anyhow::Result<std::collections::HashSet<i64>> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT uid FROM inbound_mail WHERE mailbox = $1 AND uidvalidity = $2 AND uid > $3",
    )
    .bind(mailbox)
    .bind(i64::from(uidvalidity))
    .bind(after)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Stores a fetched message and moves the cursor, in one transaction. Returns the row id, or
/// None when this (mailbox, UIDVALIDITY, UID) was already stored.
pub async fn store(db: &Db, f: Fetched<'_>) -> anyhow::Result<Option<i64>> {
    let key = match &f.raw {
        Some(raw) => message_key(raw),
        None => format!("uid:{}:{}:{}", f.mailbox, f.uidvalidity, f.uid),
    };
    let mut tx = db.begin_write().await?;
    let seen: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM inbound_mail WHERE message_key = $1 AND state <> 'duplicate' LIMIT 1",
    )
    .bind(&key)
    .fetch_optional(&mut *tx)
    .await?;
    let state = if seen.is_some() { "duplicate" } else { "new" };
    let row = sqlx::query(
        "INSERT INTO inbound_mail (mailbox, uidvalidity, uid, message_key, size, raw, state, error, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (mailbox, uidvalidity, uid) DO NOTHING RETURNING id",
    )
    .bind(f.mailbox)
    .bind(i64::from(f.uidvalidity))
    .bind(i64::from(f.uid))
    .bind(&key)
    .bind(i64::from(f.size))
    .bind(&f.raw)
    .bind(state)
    .bind(match (&f.raw, f.oversized) {
        (None, _) => Some("the server returned no content for this message"),
        (Some(_), true) => Some("oversized: only the header was fetched"),
        _ => None,
    })
    .bind(now_ms())
    .fetch_optional(&mut *tx)
    .await?;
    sqlx::query(CURSOR_UPSERT)
        .bind(f.mailbox)
        .bind(i64::from(f.uidvalidity))
        .bind(i64::from(f.uid))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    if state == "duplicate" {
        tracing::info!(uid = f.uid, "duplicate Message-ID: not handled again");
        tracing::debug!(uid = f.uid, key, "the duplicate's Message-ID");
    }
    Ok(row.map(|r| r.get::<i64, _>(0)))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stored {
    pub id: i64,
    pub uid: i64,
    pub message_key: String,
    pub raw: Option<Vec<u8>>,
    pub attempts: i64,
    pub error: Option<String>,
}

/// The oldest message not yet handled.
pub async fn next_new(db: &Db) -> anyhow::Result<Option<Stored>> {
    Ok(sqlx::query_as(
        "SELECT id, uid, message_key, raw, attempts, error FROM inbound_mail WHERE state = 'new' ORDER BY id LIMIT 1",
    )
    .fetch_optional(&db.pool)
    .await?)
}

pub async fn load(db: &Db, id: i64) -> anyhow::Result<Option<Stored>> {
    Ok(sqlx::query_as(
        "SELECT id, uid, message_key, raw, attempts, error FROM inbound_mail WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?)
}

pub async fn bump_attempts(db: &Db, id: i64) -> anyhow::Result<()> {
    sqlx::query("UPDATE inbound_mail SET attempts = attempts + 1 WHERE id = $1")
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Remembers why handling failed (it will be retried).
pub async fn set_error(db: &Db, id: i64, why: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE inbound_mail SET error = $1 WHERE id = $2")
        .bind(why)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Marks a mail handled (inside the transaction that queued its effects).
pub async fn mark_done(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    kind: MailKind,
    group: Option<&str>,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE inbound_mail SET state = 'done', kind = $1, group_slug = $2, error = NULL WHERE id = $3",
    )
    .bind(kind.as_str())
    .bind(group)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Marks a mail quarantined (inside the transaction that records and reports it).
pub async fn mark_quarantined(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    reason: &str,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE inbound_mail SET state = 'quarantined', error = $1 WHERE id = $2")
        .bind(reason)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The group a handled mail was routed to.
pub async fn group_of(db: &Db, id: i64) -> anyhow::Result<Option<String>> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT group_slug FROM inbound_mail WHERE id = $1")
            .bind(id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.and_then(|r| r.0))
}

/// The first stored mail with this Message-ID (`<…>`), if any.
pub async fn id_by_message_id(db: &Db, bracketed: &str) -> anyhow::Result<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM inbound_mail WHERE message_key = $1 AND state <> 'skipped' ORDER BY id LIMIT 1",
    )
    .bind(bracketed)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|r| r.0))
}

/// The bytes of stored mail `id`.
pub async fn raw_of(db: &Db, id: i64) -> anyhow::Result<Option<Vec<u8>>> {
    let row: Option<(Option<Vec<u8>>,)> =
        sqlx::query_as("SELECT raw FROM inbound_mail WHERE id = $1")
            .bind(id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.and_then(|r| r.0))
}

#[cfg(test)]
mod tests;
