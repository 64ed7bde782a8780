//! The quarantine: whatever failed in a pipeline is kept here with the reason, reported in the
//! management room once, and never retried forever.

use super::{Db, now_ms};

/// Records a quarantined item and returns its id. Takes any executor, so the record can share
/// a transaction with the state change it explains.
pub async fn record<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    ex: E,
    source: &str,
    ref_id: Option<i64>,
    reason: &str,
) -> anyhow::Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO quarantine (source, ref_id, reason, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(source)
    .bind(ref_id)
    .bind(reason)
    .bind(now_ms())
    .fetch_one(ex)
    .await?;
    Ok(id)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Entry {
    pub id: i64,
    pub source: String,
    pub ref_id: Option<i64>,
    pub reason: String,
    pub created_at: i64,
}

pub async fn list(db: &Db, limit: i64) -> anyhow::Result<Vec<Entry>> {
    Ok(sqlx::query_as(
        "SELECT id, source, ref_id, reason, created_at FROM quarantine ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&db.pool)
    .await?)
}
