//! What the two outboxes (Matrix and SMTP) share: failing a row with backoff, and giving up on
//! it with a quarantine record after too many attempts — never retried forever.

use super::{Db, now_ms};

/// The outcome of a failed attempt.
pub enum Failed {
    /// Retry later (the row's `next_attempt_at` was moved).
    Retry,
    /// Given up: the row is `failed`, and this is the quarantine record's id.
    GaveUp { quarantine_id: i64, attempts: i64 },
}

/// Records a failed attempt on `table` row `id`: exponential backoff from `base_ms`, or, at
/// `max_attempts`, state `failed` plus a quarantine record, in one transaction.
pub async fn fail_attempt(
    db: &Db,
    table: &'static str,
    id: i64,
    attempts_before: i64,
    max_attempts: i64,
    base_ms: i64,
    error: &str,
) -> anyhow::Result<Failed> {
    let attempts = attempts_before + 1;
    if attempts >= max_attempts {
        let mut tx = db.pool.begin().await?;
        let sql = format!(
            "UPDATE {table} SET state = 'failed', attempts = $1, last_error = $2 WHERE id = $3"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(attempts)
            .bind(error)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let quarantine_id = super::quarantine::record(&mut *tx, table, Some(id), error).await?;
        tx.commit().await?;
        return Ok(Failed::GaveUp {
            quarantine_id,
            attempts,
        });
    }
    let sql = format!(
        "UPDATE {table} SET attempts = $1, last_error = $2, next_attempt_at = $3 WHERE id = $4"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(attempts)
        .bind(error)
        .bind(now_ms() + (base_ms << attempts.min(10)))
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(Failed::Retry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn backs_off_then_gives_up_with_a_quarantine_record() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(
            &format!("sqlite://{}/t.db?mode=rwc", dir.path().display()),
            1,
        )
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO mail_outbox (dedup_key, envelope_from, recipients, message_id, raw, state, next_attempt_at, created_at) \
             VALUES ('k', '', '[]', '<m>', $1, 'pending', 0, 0)",
        )
        .bind(b"x".to_vec())
        .execute(&db.pool)
        .await
        .unwrap();
        let before = now_ms();
        assert!(matches!(
            fail_attempt(&db, "mail_outbox", 1, 0, 3, 1000, "boom")
                .await
                .unwrap(),
            Failed::Retry
        ));
        let (next, state): (i64, String) =
            sqlx::query_as("SELECT next_attempt_at, state FROM mail_outbox WHERE id = 1")
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert!(
            next >= before + 2000 && state == "pending",
            "{next} {state}"
        );
        match fail_attempt(&db, "mail_outbox", 1, 2, 3, 1000, "boom again")
            .await
            .unwrap()
        {
            Failed::GaveUp {
                quarantine_id,
                attempts,
            } => {
                assert_eq!(attempts, 3);
                let (reason,): (String,) =
                    sqlx::query_as("SELECT reason FROM quarantine WHERE id = $1")
                        .bind(quarantine_id)
                        .fetch_one(&db.pool)
                        .await
                        .unwrap();
                assert_eq!(reason, "boom again");
            }
            Failed::Retry => panic!("should give up at the third attempt"),
        }
        let (state,): (String,) = sqlx::query_as("SELECT state FROM mail_outbox WHERE id = 1")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(state, "failed");
    }
}
