//! The `outbox_hold` table, and only here: recipients whose mail is held for a secretariat
//! decision (marked by the bridge when their bounce score passes the threshold). Every mail
//! queued to one of them is queued `held` instead of `pending`, whoever queues it; `!outbox
//! retry ID` sends one anyway, `!outbox unhold ADDRESS` clears the mark and sends them all.

use sqlx::AnyConnection;

use crate::storage::{Db, now_ms};

/// Marks `address` (idempotent: the first reason stays).
pub async fn mark(conn: &mut AnyConnection, address: &str, reason: &str) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO outbox_hold (address, reason, since) VALUES ($1, $2, $3) \
         ON CONFLICT (address) DO NOTHING",
    )
    .bind(address.to_ascii_lowercase())
    .bind(reason)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Clears the mark of `address`; true when it was marked.
pub async fn clear(db: &Db, address: &str) -> anyhow::Result<bool> {
    let done = sqlx::query("DELETE FROM outbox_hold WHERE address = $1")
        .bind(address.to_ascii_lowercase())
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Why mail to any of `recipients` is held, if one is marked.
pub async fn reason_for(
    conn: &mut AnyConnection,
    recipients: &[String],
) -> anyhow::Result<Option<(String, String)>> {
    for r in recipients {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT reason FROM outbox_hold WHERE address = $1")
                .bind(r.to_ascii_lowercase())
                .fetch_optional(&mut *conn)
                .await?;
        if let Some((reason,)) = row {
            return Ok(Some((r.clone(), reason)));
        }
    }
    Ok(None)
}

/// Every marked address: (address, reason, since).
pub async fn list(db: &Db) -> anyhow::Result<Vec<(String, String, i64)>> {
    Ok(
        sqlx::query_as("SELECT address, reason, since FROM outbox_hold ORDER BY since")
            .fetch_all(&db.pool)
            .await?,
    )
}
