//! Erasure (GDPR Art. 17): the rows a [`Held`] names deleted, the room events that carried
//! the data redacted through the outbox, an audit entry with counts and record numbers only,
//! then a sweep of every other text and blob column for the address, and the scrub that
//! makes the deleted bytes go from the files (see the module header of `privacy`).

use anyhow::Context;
use sqlx::AnyConnection;

use super::{Held, find, normalise, room_event};
use crate::outbox::op::MatrixOp;
use crate::outbox::queue::Report;
use crate::outbox::{Key, Outbox};
use crate::storage::{Backend, Db};

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
    use super::replace_ignoring_case;

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
}
