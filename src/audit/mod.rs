//! The audit trail (table `audit`, migration 0010), and only here: every secretariat action —
//! decisions, questions, calendar edits, exports, erasures, outbox retries, backups — as who,
//! what, which target, when. Append-only (the database refuses updates and deletes).
//!
//! Domains call [`record`] inside the transaction that does the action, so the trail and the
//! action commit together. Targets and details name records by id (`eoi #12`), never by the
//! person's address or name: the trail outlives an erasure and must not undo it.

use sqlx::Any;

use crate::storage::{Db, now_ms};

/// One line of the trail.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct Entry {
    pub id: i64,
    /// Unix milliseconds.
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: Option<String>,
}

/// Records that `actor` (a Matrix user id, or `cli:<user>`) did `action` (`eoi.accepted`,
/// `calendar.meeting.add`, `outbox.retry`, …) to `target` (`eoi #12`, `meeting kickoff`).
pub async fn record<'e, E>(
    ex: E,
    actor: &str,
    action: &str,
    target: &str,
    detail: Option<&str>,
) -> anyhow::Result<()>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    sqlx::query(
        "INSERT INTO audit (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(now_ms())
    .bind(actor)
    .bind(action)
    .bind(target)
    .bind(detail)
    .execute(ex)
    .await?;
    Ok(())
}

/// The actor of a command run from the command line: `cli:<login>`.
pub fn cli_actor() -> String {
    let who = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{who}")
}

/// The newest `limit` entries at or after `since` (ms), oldest first.
pub async fn list(db: &Db, since: Option<i64>, limit: i64) -> anyhow::Result<Vec<Entry>> {
    let mut rows: Vec<Entry> = sqlx::query_as(
        "SELECT id, at, actor, action, target, detail FROM audit WHERE at >= $1 \
         ORDER BY id DESC LIMIT $2",
    )
    .bind(since.unwrap_or(0))
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.reverse();
    Ok(rows)
}

/// The entries as lines `YYYY-MM-DD HH:MM:SS UTC · actor · action · target (detail)`.
pub fn render_plain(entries: &[Entry]) -> String {
    entries
        .iter()
        .map(|e| {
            let detail = e
                .detail
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            format!(
                "#{} {} · {} · {} · {}{detail}",
                e.id,
                when(e.at),
                e.actor,
                e.action,
                e.target
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The entries as a Markdown list (every value escaped).
pub fn render_markdown(entries: &[Entry]) -> String {
    if entries.is_empty() {
        return "The audit trail is empty.".into();
    }
    let esc = crate::markup::escape_markdown_line;
    let mut out = format!("Audit trail, last {} action(s):\n", entries.len());
    for e in entries {
        let detail = e
            .detail
            .as_deref()
            .map(|d| format!(" ({})", esc(d)))
            .unwrap_or_default();
        out.push_str(&format!(
            "- #{} {} · {} · **{}** · {}{detail}\n",
            e.id,
            when(e.at),
            esc(&e.actor),
            esc(&e.action),
            esc(&e.target)
        ));
    }
    out.trim_end().to_owned()
}

fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn records_are_listed_in_order_and_cannot_be_changed_or_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/a.db?mode=rwc", dir.path().display());
        let db = Db::connect(&url, 1).await.unwrap();
        record(&db.pool, "@sec:x", "eoi.accepted", "eoi #1", None)
            .await
            .unwrap();
        let mut tx = db.pool.begin().await.unwrap();
        record(
            &mut *tx,
            "cli:root",
            "outbox.retry",
            "outbox #7",
            Some("mail"),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let all = list(&db, None, 10).await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].action, "eoi.accepted");
        assert_eq!(all[1].detail.as_deref(), Some("mail"));
        assert_eq!(list(&db, None, 1).await.unwrap()[0].action, "outbox.retry");
        assert!(
            list(&db, Some(now_ms() + 60_000), 10)
                .await
                .unwrap()
                .is_empty()
        );
        for sql in ["UPDATE audit SET actor = 'x'", "DELETE FROM audit"] {
            let err = sqlx::query(sql).execute(&db.pool).await.unwrap_err();
            assert!(err.to_string().contains("append-only"), "{err}");
        }
        let md = render_markdown(&all);
        assert!(
            md.contains("**eoi.accepted**") && md.contains("outbox #7"),
            "{md}"
        );
        assert!(render_plain(&all).contains("cli:root · outbox.retry"));
    }
}
