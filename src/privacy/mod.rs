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
pub mod purge;

use std::collections::BTreeSet;

use anyhow::Context;
use serde_json::{Value, json};
use sqlx::{AnyConnection, Row};

use crate::outbox::op::MatrixOp;
use crate::outbox::queue::Report;
use crate::outbox::{Key, Outbox};
use crate::storage::{Backend, Db};

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

/// What an erasure did (no personal data: for the answer and the audit entry).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Erased {
    pub records: Vec<i64>,
    pub mails: usize,
    pub outbox_items: usize,
    pub redactions: usize,
    pub other_rows: usize,
}

impl Erased {
    pub fn summary(&self) -> String {
        let ids: Vec<String> = self.records.iter().map(|i| format!("#{i}")).collect();
        format!(
            "{} application(s) ({}), {} mail(s), {} outbox item(s), {} other row(s); {} room event(s) to redact",
            self.records.len(),
            if ids.is_empty() {
                "none".into()
            } else {
                ids.join(", ")
            },
            self.mails,
            self.outbox_items,
            self.other_rows,
            self.redactions
        )
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

/// Erases everything held about `address` (GDPR Art. 17); see the module header.
pub async fn erase(outbox: &Outbox, address: &str, actor: &str) -> anyhow::Result<Erased> {
    let address = normalise(address)?;
    let held = find(outbox.db(), Some(&address), &[]).await?;
    erase_held(outbox, held, actor, "privacy.erase").await
}

/// Deletes what `held` names, queues the redactions, records the audit entry, and scrubs.
pub async fn erase_held(
    outbox: &Outbox,
    held: Held,
    actor: &str,
    action: &str,
) -> anyhow::Result<Erased> {
    let db = outbox.db().clone();
    let mut out = Erased {
        records: held.eois.clone(),
        mails: held.mails.len(),
        outbox_items: held.items.len(),
        ..Erased::default()
    };
    if held.is_empty() && held.address.is_none() {
        return Ok(out);
    }
    let mut redact = Vec::new();
    for i in &held.items {
        if let Some(ev) = room_event(&db, i).await? {
            redact.push(ev);
        }
    }
    let management = outbox.management_room().to_owned();
    let mut tx = outbox.begin().await?;
    for (room, ev) in &redact {
        let op = MatrixOp::Redact {
            room: room.clone(),
            event_id: ev.clone(),
            reason: Some("data erased".into()),
        };
        if tx
            .matrix(
                Key::Redact(ev.clone()),
                op,
                None,
                Report::in_room(&management, None),
            )
            .await?
        {
            out.redactions += 1;
        }
        let done = sqlx::query("DELETE FROM mail_thread WHERE root_event_id = $1")
            .bind(ev)
            .execute(&mut *tx)
            .await?;
        out.other_rows += done.rows_affected() as usize;
    }
    for i in &held.items {
        del(&mut tx, "DELETE FROM outbox WHERE id = $1", i.id).await?;
    }
    for id in &held.eois {
        for sql in [
            "DELETE FROM eoi_transition WHERE eoi_id = $1",
            "DELETE FROM eoi_history WHERE eoi_id = $1",
            "DELETE FROM eoi_attachment WHERE eoi_id = $1",
            "DELETE FROM eoi WHERE id = $1",
        ] {
            del(&mut tx, sql, *id).await?;
        }
    }
    for id in &held.mails {
        // The row stays (the cursor and duplicate detection count on it), empty.
        sqlx::query(
            "UPDATE inbound_mail SET raw = NULL, error = 'erased', \
             message_key = $1, state = CASE WHEN state = 'new' THEN 'skipped' ELSE state END \
             WHERE id = $2",
        )
        .bind(format!("erased:{id}"))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    for id in &held.quarantine {
        out.other_rows += del(&mut tx, "DELETE FROM quarantine WHERE id = $1", *id).await?;
    }
    for id in &held.proposals {
        out.other_rows += del(&mut tx, "DELETE FROM calendar_proposal WHERE id = $1", *id).await?;
    }
    for (table, column, value) in &held.legacy {
        let sql = format!("DELETE FROM {table} WHERE {column} = $1");
        let q = sqlx::query(sqlx::AssertSqlSafe(sql));
        let q = if *column == "id" {
            q.bind(value.parse::<i64>().unwrap_or_default())
        } else {
            q.bind(value.clone())
        };
        out.other_rows += q.execute(&mut *tx).await?.rows_affected() as usize;
    }
    if let Some(address) = &held.address {
        out.other_rows += sweep(&mut tx, db.backend, address).await?;
    }
    let ids: Vec<String> = held.eois.iter().map(|i| format!("eoi #{i}")).collect();
    let target = if ids.is_empty() {
        "no application".to_owned()
    } else {
        ids.join(", ")
    };
    crate::audit::record(&mut *tx, actor, action, &target, Some(&out.summary())).await?;
    tx.commit().await?;
    scrub(&db).await?;
    tracing::info!(records = ?out.records, mails = out.mails, items = out.outbox_items, redactions = out.redactions, "personal data erased");
    Ok(out)
}

/// Tables the sweep leaves alone: the audit trail holds ids only (and refuses changes), the
/// others hold no personal data.
const UNSWEPT: &[&str] = &["audit", "_sqlx_migrations", "leader_lease", "matrix_claim"];

/// Every column of every table that still holds `address` (lower-cased), in any case: text
/// has it replaced by a marker unique to the row (unique keys stay unique), bytes are emptied
/// (or, where a value is required, the row of an old table goes). Whatever the targeted
/// deletes did not know about — a table a later version added, a column that quotes a
/// submitter — ends here, so no byte of the address stays. Returns the rows changed.
async fn sweep(conn: &mut AnyConnection, backend: Backend, address: &str) -> anyhow::Result<usize> {
    let columns: Vec<(String, String, String, bool)> = match backend {
        Backend::Sqlite => {
            let tables: Vec<(String,)> = sqlx::query_as(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(&mut *conn)
            .await?;
            let mut out = Vec::new();
            for (t,) in tables {
                let cols: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT name, upper(type), \"notnull\" FROM pragma_table_info($1)",
                )
                .bind(&t)
                .fetch_all(&mut *conn)
                .await?;
                out.extend(
                    cols.into_iter()
                        .map(|(c, ty, nn)| (t.clone(), c, ty, nn != 0)),
                );
            }
            out
        }
        Backend::Postgres => {
            let cols: Vec<(String, String, String, String)> = sqlx::query_as(
                "SELECT table_name::text, column_name::text, upper(data_type::text), \
                 is_nullable::text FROM information_schema.columns \
                 WHERE table_schema = current_schema()",
            )
            .fetch_all(&mut *conn)
            .await?;
            cols.into_iter()
                .map(|(t, c, ty, nullable)| (t, c, ty, nullable == "NO"))
                .collect()
        }
    };
    let needle = address.to_lowercase();
    let mut changed = 0;
    for (table, column, ty, not_null) in columns {
        if UNSWEPT.contains(&table.as_str()) {
            continue;
        }
        let is_text = ty.contains("TEXT") || ty.contains("CHAR") || ty.contains("JSON");
        let is_bytes = ty.contains("BLOB") || ty.contains("BYTEA");
        if !is_text && !is_bytes {
            continue;
        }
        // Identifiers come from the catalogue, quoted; the address is bound.
        let (t, c) = (format!("\"{table}\""), format!("\"{column}\""));
        let row_id = match backend {
            Backend::Sqlite => "CAST(rowid AS TEXT)",
            Backend::Postgres => "ctid::text",
        };
        let matches = match (backend, is_text) {
            (Backend::Sqlite, true) => format!("instr(lower({c}), $1) > 0"),
            (Backend::Sqlite, false) => format!("instr(lower(CAST({c} AS TEXT)), $1) > 0"),
            (Backend::Postgres, true) => format!("strpos(lower({c}), $1) > 0"),
            (Backend::Postgres, false) => {
                format!("strpos(lower(encode({c}, 'escape')), $1) > 0")
            }
        };
        let find = format!("SELECT {row_id} FROM {t} WHERE {matches}");
        let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(find))
            .bind(&needle)
            .fetch_all(&mut *conn)
            .await?;
        let by_row = match backend {
            Backend::Sqlite => "rowid = CAST($1 AS INTEGER)",
            Backend::Postgres => "ctid = $1::tid",
        };
        for (row,) in rows {
            if is_text {
                let get = format!("SELECT {c} FROM {t} WHERE {by_row}");
                let (value,): (String,) = sqlx::query_as(sqlx::AssertSqlSafe(get))
                    .bind(&row)
                    .fetch_one(&mut *conn)
                    .await?;
                let marker = format!("[erased {table} {row}]");
                let clean = replace_ignoring_case(&value, &needle, &marker);
                let set = format!("UPDATE {t} SET {c} = $2 WHERE {by_row}");
                sqlx::query(sqlx::AssertSqlSafe(set))
                    .bind(&row)
                    .bind(clean)
                    .execute(&mut *conn)
                    .await?;
            } else if not_null {
                let drop = format!("DELETE FROM {t} WHERE {by_row}");
                sqlx::query(sqlx::AssertSqlSafe(drop))
                    .bind(&row)
                    .execute(&mut *conn)
                    .await?;
            } else {
                let set = format!("UPDATE {t} SET {c} = NULL WHERE {by_row}");
                sqlx::query(sqlx::AssertSqlSafe(set))
                    .bind(&row)
                    .execute(&mut *conn)
                    .await?;
            }
            tracing::debug!(table, column, "swept");
            changed += 1;
        }
    }
    Ok(changed)
}

/// `text` with every occurrence of `needle` (lower-case) replaced, whatever its case.
fn replace_ignoring_case(text: &str, needle: &str, with: &str) -> String {
    let lower = text.to_lowercase();
    // Lower-casing can change byte lengths outside ASCII: fall back to the lower-cased text.
    if lower.len() != text.len() {
        return lower.replace(needle, with);
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (i, _) in lower.match_indices(needle) {
        out.push_str(&text[last..i]);
        out.push_str(with);
        last = i + needle.len();
    }
    out.push_str(&text[last..]);
    out
}

async fn del(conn: &mut AnyConnection, sql: &'static str, id: i64) -> anyhow::Result<usize> {
    Ok(sqlx::query(sql)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected() as usize)
}

/// Makes deleted bytes unrecoverable from the files: SQLite already zeroed them in the
/// database (`secure_delete`); the WAL still has the old pages until it is checkpointed and
/// truncated. PostgreSQL rewrites the touched tables.
pub async fn scrub(db: &Db) -> anyhow::Result<()> {
    match db.backend {
        Backend::Sqlite => {
            for attempt in 0..50 {
                let (busy, _, _): (i64, i64, i64) =
                    sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                        .fetch_one(&db.pool)
                        .await
                        .context("checkpointing the WAL")?;
                if busy == 0 {
                    return Ok(());
                }
                tracing::debug!(attempt, "WAL checkpoint busy; trying again");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            anyhow::bail!("the WAL could not be checkpointed (a reader kept it busy)")
        }
        Backend::Postgres => {
            for table in [
                "eoi",
                "eoi_history",
                "eoi_attachment",
                "eoi_transition",
                "inbound_mail",
                "outbox",
                "quarantine",
                "calendar_proposal",
                "mail_thread",
                "matrix_outbox",
                "mail_outbox",
                "kv",
            ] {
                let sql = format!("VACUUM FULL {table}");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&db.pool)
                    .await
                    .with_context(|| format!("VACUUM FULL {table}"))?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacing_keeps_the_rest_and_ignores_case() {
        assert_eq!(
            replace_ignoring_case("To: Ana@X.test, ana@x.test!", "ana@x.test", "[e]"),
            "To: [e], [e]!"
        );
        assert_eq!(
            replace_ignoring_case("nothing", "ana@x.test", "[e]"),
            "nothing"
        );
    }

    #[test]
    fn addresses_are_normalised_and_checked() {
        assert_eq!(normalise(" <Ana@Example.ORG> ").unwrap(), "ana@example.org");
        assert!(normalise("ana").is_err());
        assert!(normalise("a b@c.d").is_err());
        assert!(contains(b"From: ANA@example.org", b"ana@example.org"));
        assert!(!contains(b"an", b"ana"));
    }
}
