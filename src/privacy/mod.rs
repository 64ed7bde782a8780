//! Data protection (GDPR Art. 15 and 17): what convene holds about a person, as JSON
//! ([`export`]); erasing it ([`erase`]), and the retention purge ([`purge`]) built on the same
//! erasure.
//!
//! A person's data reaches many tables: their records (`eoi`, `eoi_history`,
//! `eoi_attachment`, `eoi_transition`), the mails they sent (`inbound_mail`, with the raw
//! bytes), what convene sent or posted about them (`outbox`: bridged mails and cards with
//! their content, acknowledgements and decisions with the mail bytes, command answers that
//! listed them), quarantine reports, calendar proposals read from their mail, and the tables
//! older versions wrote. This module is the one place that knows them all, so an erasure
//! cannot miss one that a domain forgot: records and mails are found by address, outbox
//! items by their keys (`mail-<id>`, `eoi-card-<id>`, …) and by content.
//!
//! Erasing deletes the rows (mails keep an empty row, so the mailbox cursor and duplicate
//! detection still hold), queues a redaction of every room event the bot posted that carried
//! the data (`Key::Redact`, through the outbox), and writes an audit entry that names counts
//! and record numbers only. Then the bytes themselves go: SQLite runs with `secure_delete`
//! (deleted content is zeroed, see `storage`) and the WAL is checkpointed and truncated;
//! PostgreSQL tables are rewritten with `VACUUM FULL`.

pub mod commands;
mod erase;
pub mod purge;

pub use erase::{Erased, erase, erase_held, scrub};

use std::collections::BTreeSet;

use serde_json::{Value, json};
use sqlx::Row;

use crate::outbox::Key;
use crate::outbox::op::MatrixOp;
use crate::storage::Db;

/// An outbox item that concerns the person.
#[derive(Clone, Debug, sqlx::FromRow)]
struct Item {
    id: i64,
    transport: String,
    key: String,
    lane: String,
    state: String,
    created_at: i64,
    op: String,
    result: Option<String>,
}

/// Everything found about one person (or one set of records).
#[derive(Debug, Default)]
pub struct Held {
    pub eois: Vec<i64>,
    pub mails: Vec<i64>,
    items: Vec<Item>,
    pub quarantine: Vec<i64>,
    pub proposals: Vec<i64>,
    /// Rows of the tables older versions wrote (`matrix_outbox`, `mail_outbox`) and `kv`.
    legacy: Vec<(&'static str, &'static str, String)>,
    /// The address looked for (none for a record-only purge): after the targeted deletes, a
    /// sweep of every text and byte column of every table removes what is left of it.
    address: Option<String>,
}

impl Held {
    pub fn is_empty(&self) -> bool {
        self.eois.is_empty()
            && self.mails.is_empty()
            && self.items.is_empty()
            && self.quarantine.is_empty()
            && self.proposals.is_empty()
            && self.legacy.is_empty()
    }
}

/// The address as it is matched: trimmed, `<…>` removed, lower case.
pub fn normalise(address: &str) -> anyhow::Result<String> {
    let a = address
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_lowercase();
    let valid = a
        .split_once('@')
        .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !a.contains(char::is_whitespace));
    anyhow::ensure!(valid, "`{address}` is not a mail address");
    Ok(a)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.len() <= hay.len()
        && hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

const BATCH: i64 = 500;

/// id, raw, message_key, error
type MailRow = (i64, Option<Vec<u8>>, String, Option<String>);

/// The keys of outbox items that belong to these records and mails.
fn belongs(key: &Key, eois: &BTreeSet<i64>, mails: &BTreeSet<i64>, quarantine: &[i64]) -> bool {
    match key {
        Key::Mail(m) | Key::Ack(m) | Key::CallClosed(m) => mails.contains(m),
        Key::MailPart { mail, .. } => mails.contains(mail),
        Key::EoiCard(e)
        | Key::EoiUpdate { eoi: e, .. }
        | Key::EoiDecided { eoi: e, .. }
        | Key::EoiInvite { eoi: e, .. }
        | Key::EoiSpaceInvite { eoi: e, .. }
        | Key::Decision { eoi: e, .. }
        | Key::Ask { eoi: e, .. } => eois.contains(e),
        Key::Quarantine(q) => quarantine.contains(q),
        _ => false,
    }
}

/// Finds what is held: by `address` (records, mails and outbox items that contain it), and
/// by the records `eois` given (the purge), with their mails and items.
pub async fn find(db: &Db, address: Option<&str>, eois: &[i64]) -> anyhow::Result<Held> {
    let needle = address.map(str::as_bytes);
    let hit = |b: &[u8]| needle.is_some_and(|n| contains(b, n));
    let mut held = Held {
        address: address.map(str::to_lowercase),
        ..Held::default()
    };
    let mut eoi_set: BTreeSet<i64> = eois.iter().copied().collect();
    if let Some(a) = address {
        let rows: Vec<(i64, String, String, String)> =
            sqlx::query_as("SELECT id, email, record, reply_to FROM eoi ORDER BY id")
                .fetch_all(&db.pool)
                .await?;
        for (id, email, record, reply_to) in rows {
            if email.eq_ignore_ascii_case(a) || hit(record.as_bytes()) || hit(reply_to.as_bytes()) {
                eoi_set.insert(id);
            }
        }
    }
    held.eois = eoi_set.iter().copied().collect();

    // Mails: the records' own, and any whose bytes hold the address.
    let mut mails: BTreeSet<i64> = BTreeSet::new();
    for id in &held.eois {
        for table in ["eoi_history", "eoi_attachment"] {
            let sql = format!(
                "SELECT inbound_mail_id FROM {table} WHERE eoi_id = $1 AND inbound_mail_id IS NOT NULL"
            );
            let rows: Vec<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_all(&db.pool)
                .await?;
            mails.extend(rows.into_iter().map(|r| r.0));
        }
    }
    if needle.is_some() {
        let mut after = 0i64;
        loop {
            let rows: Vec<MailRow> = sqlx::query_as(
                "SELECT id, raw, message_key, error FROM inbound_mail WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(BATCH)
            .fetch_all(&db.pool)
            .await?;
            let Some(last) = rows.last().map(|r| r.0) else {
                break;
            };
            after = last;
            for (id, raw, key, error) in rows {
                if raw.as_deref().is_some_and(hit)
                    || hit(key.as_bytes())
                    || error.as_deref().is_some_and(|e| hit(e.as_bytes()))
                {
                    mails.insert(id);
                }
            }
        }
    }
    held.mails = mails.iter().copied().collect();

    let rows: Vec<(i64, Option<i64>, String)> =
        sqlx::query_as("SELECT id, ref_id, reason FROM quarantine ORDER BY id")
            .fetch_all(&db.pool)
            .await?;
    held.quarantine = rows
        .into_iter()
        .filter(|(_, r, reason)| r.is_some_and(|r| mails.contains(&r)) || hit(reason.as_bytes()))
        .map(|r| r.0)
        .collect();
    let rows: Vec<(i64, Option<i64>, String)> =
        sqlx::query_as("SELECT id, inbound_id, body FROM calendar_proposal ORDER BY id")
            .fetch_all(&db.pool)
            .await?;
    held.proposals = rows
        .into_iter()
        .filter(|(_, m, body)| m.is_some_and(|m| mails.contains(&m)) || hit(body.as_bytes()))
        .map(|r| r.0)
        .collect();

    // Outbox items: by key, then by content; then the failure reports of those.
    let mut found: Vec<Item> = Vec::new();
    let mut after = 0i64;
    loop {
        let rows = sqlx::query(
            "SELECT id, transport, key, lane, state, created_at, op, data, result, last_error, \
             report_thread FROM outbox WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(BATCH)
        .fetch_all(&db.pool)
        .await?;
        let Some(last) = rows.last().map(|r| r.get::<i64, _>(0)) else {
            break;
        };
        after = last;
        for r in rows {
            let key: String = r.get(2);
            let lane: String = r.get(3);
            let op: String = r.get(6);
            let data: Option<Vec<u8>> = r.get(7);
            let result: Option<String> = r.get(8);
            let error: Option<String> = r.get(9);
            let by_key = belongs(&Key::parse(&key), &eoi_set, &mails, &held.quarantine);
            let by_content = hit(key.as_bytes())
                || hit(lane.as_bytes())
                || hit(op.as_bytes())
                || data.as_deref().is_some_and(hit)
                || result.as_deref().is_some_and(|x| hit(x.as_bytes()))
                || error.as_deref().is_some_and(|x| hit(x.as_bytes()));
            if by_key || by_content {
                found.push(Item {
                    id: r.get(0),
                    transport: r.get(1),
                    key,
                    lane,
                    state: r.get(4),
                    created_at: r.get(5),
                    op,
                    result,
                });
            }
        }
    }
    let ids: BTreeSet<i64> = found.iter().map(|i| i.id).collect();
    let reports: Vec<Item> = sqlx::query_as(
        "SELECT id, transport, key, lane, state, created_at, op, result FROM outbox \
         WHERE key LIKE 'failure-%'",
    )
    .fetch_all(&db.pool)
    .await?;
    for item in reports {
        let of = match Key::parse(&item.key) {
            Key::Failure(n) | Key::FailureHere(n) => n,
            _ => continue,
        };
        if ids.contains(&of) && !ids.contains(&item.id) {
            found.push(item);
        }
    }
    held.items = found;

    if needle.is_some() {
        let m: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT id, room_id, content FROM matrix_outbox")
                .fetch_all(&db.pool)
                .await?;
        for (id, _, content) in m {
            if hit(content.as_bytes()) {
                held.legacy.push(("matrix_outbox", "id", id.to_string()));
            }
        }
        let m: Vec<(i64, String, Vec<u8>)> =
            sqlx::query_as("SELECT id, recipients, raw FROM mail_outbox")
                .fetch_all(&db.pool)
                .await?;
        for (id, recipients, raw) in m {
            if hit(recipients.as_bytes()) || hit(&raw) {
                held.legacy.push(("mail_outbox", "id", id.to_string()));
            }
        }
        let kv: Vec<(String, String)> = sqlx::query_as("SELECT key, value FROM kv")
            .fetch_all(&db.pool)
            .await?;
        for (k, v) in kv {
            if hit(k.as_bytes()) || hit(v.as_bytes()) {
                held.legacy.push(("kv", "key", k));
            }
        }
        let threads: Vec<(String,)> = sqlx::query_as("SELECT message_id FROM mail_thread")
            .fetch_all(&db.pool)
            .await?;
        for (m,) in threads {
            if hit(m.as_bytes()) {
                held.legacy.push(("mail_thread", "message_id", m));
            }
        }
    }
    Ok(held)
}

fn ms(t: i64) -> String {
    chrono::DateTime::from_timestamp_millis(t)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
}

/// The room event an item was posted as: (room as queued, event id), once sent.
async fn room_event(db: &Db, item: &Item) -> anyhow::Result<Option<(String, String)>> {
    if item.transport != "matrix" || item.state != "sent" {
        return Ok(None);
    }
    let Some(ev) = item.result.as_deref().filter(|r| r.starts_with('$')) else {
        return Ok(None);
    };
    let room = match serde_json::from_str::<MatrixOp>(&item.op) {
        Ok(MatrixOp::Send { room, .. }) | Ok(MatrixOp::Upload { room, .. }) => Some(room),
        Ok(MatrixOp::DirectMessage { user, .. }) => {
            sqlx::query_as::<_, (String,)>("SELECT room_id FROM matrix_dm WHERE user_id = $1")
                .bind(user)
                .fetch_optional(&db.pool)
                .await?
                .map(|r| r.0)
        }
        _ => None,
    };
    Ok(room.map(|r| (r, ev.to_owned())))
}

/// Everything held about `address`, as JSON (GDPR Art. 15).
pub async fn export(db: &Db, address: &str) -> anyhow::Result<Value> {
    let address = normalise(address)?;
    let held = find(db, Some(&address), &[]).await?;
    let mut records = Vec::new();
    for id in &held.eois {
        let row = sqlx::query(
            "SELECT call_key, email, status, record, reply_to, group_slug, decided_role, \
             created_at, updated_at FROM eoi WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&db.pool)
        .await?;
        let record: String = row.get(3);
        let history: Vec<(Option<i64>, String, i64)> = sqlx::query_as(
            "SELECT inbound_mail_id, extracted, received_at FROM eoi_history WHERE eoi_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&db.pool)
        .await?;
        let attachments: Vec<(Option<String>, String, i64, bool, i64)> = sqlx::query_as(
            "SELECT filename, content_type, size, content IS NOT NULL, received_at \
             FROM eoi_attachment WHERE eoi_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&db.pool)
        .await?;
        let transitions: Vec<(String, Option<String>, i64)> = sqlx::query_as(
            "SELECT status, actor, at FROM eoi_transition WHERE eoi_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&db.pool)
        .await?;
        records.push(json!({
            "id": id,
            "call": row.get::<String, _>(0),
            "email": row.get::<String, _>(1),
            "status": row.get::<String, _>(2),
            "record": serde_json::from_str::<Value>(&record).unwrap_or(Value::String(record)),
            "reply_to": row.get::<String, _>(4),
            "group": row.get::<Option<String>, _>(5),
            "role": row.get::<Option<String>, _>(6),
            "created_at": ms(row.get(7)),
            "updated_at": ms(row.get(8)),
            "history": history.into_iter().map(|(mail, extracted, at)| json!({
                "mail": mail,
                "extracted": serde_json::from_str::<Value>(&extracted).unwrap_or(Value::String(extracted)),
                "received_at": ms(at),
            })).collect::<Vec<_>>(),
            "attachments": attachments.into_iter().map(|(name, ty, size, kept, at)| json!({
                "filename": name, "content_type": ty, "size": size, "content_kept": kept,
                "received_at": ms(at),
            })).collect::<Vec<_>>(),
            "status_history": transitions.into_iter().map(|(s, actor, at)| json!({
                "status": s, "by": actor, "at": ms(at),
            })).collect::<Vec<_>>(),
        }));
    }
    let mut mails = Vec::new();
    for id in &held.mails {
        let row = sqlx::query(
            "SELECT received_at, state, kind, group_slug, size, raw FROM inbound_mail WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&db.pool)
        .await?;
        let raw: Option<Vec<u8>> = row.get(5);
        mails.push(json!({
            "id": id,
            "received_at": ms(row.get(0)),
            "state": row.get::<String, _>(1),
            "kind": row.get::<Option<String>, _>(2),
            "group": row.get::<Option<String>, _>(3),
            "size": row.get::<i64, _>(4),
            "message": raw.map(|r| String::from_utf8_lossy(&r).into_owned()),
        }));
    }
    let mut items = Vec::new();
    let mut events = Vec::new();
    for i in &held.items {
        items.push(json!({
            "id": i.id, "transport": i.transport, "key": i.key, "to": i.lane,
            "state": i.state, "queued_at": ms(i.created_at),
        }));
        if let Some((room, ev)) = room_event(db, i).await? {
            events.push(json!({ "room": room, "event_id": ev, "key": i.key }));
        }
    }
    Ok(json!({
        "address": address,
        "generated_at": chrono::Utc::now().to_rfc3339(),
        "applications": records,
        "mails": mails,
        "outbox_items": items,
        "room_events": events,
        "quarantine": held.quarantine,
        "calendar_proposals": held.proposals,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised_and_checked() {
        assert_eq!(normalise(" <Ana@Example.ORG> ").unwrap(), "ana@example.org");
        assert!(normalise("ana").is_err());
        assert!(normalise("a b@c.d").is_err());
        assert!(contains(b"From: ANA@example.org", b"ana@example.org"));
        assert!(!contains(b"an", b"ana"));
    }
}
