//! Two convene processes on one PostgreSQL database (high availability).
//!
//! - **The leader's lease** (table `leader_lease`, one row): the process holding it runs
//!   ingestion (IMAP, the pipeline), the outboxes, the scheduler and the purge. It renews
//!   the lease every [`RENEW_EVERY`]; the other process tries to take it at the same pace
//!   and gets it once it has not been renewed for [`TTL`] (the leader died or lost the
//!   database). Expiry is judged by the database's clock, so the hosts' clocks do not
//!   matter. A leader that cannot renew for [`TTL`]` / 2` stops leading by itself, before
//!   the other can take over.
//! - **Claims** (table `matrix_claim`): both processes sync Matrix and run the handlers;
//!   the first to claim an event handles it (its replies go into the shared outbox, sent by
//!   whoever leads), the other skips it. A standby waits [`STANDBY_DELAY`] before it tries,
//!   so the leader answers while it lives and the standby covers the moments it does not.
//!
//! With SQLite there is one process: it always leads.

use std::time::Duration;

use sqlx::Row;

use crate::storage::{Backend, Db, now_ms};

/// A lease not renewed for this long may be taken over.
pub const TTL: Duration = Duration::from_secs(5);
/// How often the leader renews, and the other process tries.
pub const RENEW_EVERY: Duration = Duration::from_secs(1);
/// A standby handles a Matrix event only if the leader has not claimed it within this.
pub const STANDBY_DELAY: Duration = Duration::from_secs(3);

/// The database's clock in milliseconds (PostgreSQL), so two hosts agree on expiry.
const DB_NOW: &str = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";

/// This process's name in the lease and the claims.
pub fn holder() -> &'static str {
    crate::outbox::runner::instance()
}

/// Tries to take (or keep) the lease; returns the term held, if any.
pub async fn try_acquire(db: &Db, me: &str) -> anyhow::Result<Option<i64>> {
    if db.backend == Backend::Sqlite {
        return Ok(Some(0));
    }
    let ttl = TTL.as_millis() as i64;
    let sql = format!(
        "INSERT INTO leader_lease (id, holder, term, expires_at) VALUES (1, $1, 1, {DB_NOW} + $2) \
         ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, \
         expires_at = excluded.expires_at, \
         term = CASE WHEN leader_lease.holder = excluded.holder THEN leader_lease.term \
                ELSE leader_lease.term + 1 END \
         WHERE leader_lease.holder = excluded.holder OR leader_lease.expires_at < {DB_NOW} \
         RETURNING term"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(me)
        .bind(ttl)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|r| r.get::<i64, _>(0)))
}

/// Renews the lease of `term`; false when it is someone else's now.
pub async fn renew(db: &Db, me: &str, term: i64) -> anyhow::Result<bool> {
    if db.backend == Backend::Sqlite {
        return Ok(true);
    }
    let sql = format!(
        "UPDATE leader_lease SET expires_at = {DB_NOW} + $1 WHERE id = 1 AND holder = $2 AND term = $3"
    );
    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(TTL.as_millis() as i64)
        .bind(me)
        .bind(term)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives the lease up (a graceful stop), so the other process takes over at once.
pub async fn release(db: &Db, me: &str) -> anyhow::Result<()> {
    if db.backend == Backend::Postgres {
        sqlx::query("UPDATE leader_lease SET expires_at = 0 WHERE id = 1 AND holder = $1")
            .bind(me)
            .execute(&db.pool)
            .await?;
    }
    Ok(())
}

/// Claims a Matrix event for this process; true when this call claimed it (handle it).
pub async fn claim(db: &Db, event_id: &str) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO matrix_claim (event_id, holder, at) VALUES ($1, $2, $3) \
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event_id)
    .bind(holder())
    .bind(now_ms())
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Forgets claims older than `days` (the events are long handled).
pub async fn prune_claims(db: &Db, days: i64) -> anyhow::Result<u64> {
    let before = now_ms() - days * 86_400_000;
    Ok(sqlx::query("DELETE FROM matrix_claim WHERE at < $1")
        .bind(before)
        .execute(&db.pool)
        .await?
        .rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_always_leads_and_an_event_is_claimed_once() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/l.db?mode=rwc", dir.path().display());
        let db = Db::connect(&url, 1).await.unwrap();
        assert_eq!(try_acquire(&db, "a").await.unwrap(), Some(0));
        assert!(renew(&db, "a", 0).await.unwrap());
        assert!(claim(&db, "$e1").await.unwrap());
        assert!(!claim(&db, "$e1").await.unwrap(), "claimed once");
        assert_eq!(prune_claims(&db, -1).await.unwrap(), 1);
    }
}
