//! Storage: one connection pool for SQLite (the embedded default, WAL) or PostgreSQL,
//! chosen from the URL scheme, with the migrations of `migrations/<backend>/` applied at start.
//!
//! Queries are written once, at run time (`query().bind()`), through sqlx's `Any` driver:
//! numbered placeholders `$1…`, BIGINT timestamps in Unix milliseconds, TEXT and BLOB/BYTEA,
//! `ON CONFLICT … DO NOTHING` and `RETURNING`, which both backends accept. Each domain module
//! owns its tables and their queries; this module owns the pool and small shared helpers.

use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database handle every worker shares (cheap to clone).
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
}

impl Db {
    /// Connects, tunes SQLite (WAL, busy timeout), and applies pending migrations.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
        let db = Self::connect_only(url, max_connections).await?;
        db.migrate().await?;
        Ok(db)
    }

    pub async fn connect_only(url: &str, max_connections: u32) -> anyhow::Result<Db> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            bail!("database url: unsupported scheme (use sqlite:// or postgres://)");
        };
        if backend == Backend::Sqlite {
            ensure_sqlite_parent(url)?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        // Deleted content is overwritten with zeros (an erasure must leave
                        // no bytes behind in free pages).
                        conn.execute("PRAGMA secure_delete = ON").await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await
            // The URL may hold a password: never include it in the error.
            .with_context(|| format!("connecting to the {backend:?} database"))?;
        Ok(Db { pool, backend })
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        migrator
            .run(&self.pool)
            .await
            .context("applying database migrations")?;
        Ok(())
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`, waiting up to the busy timeout): a deferred transaction that reads
    /// first fails at its first write with `SQLITE_BUSY_SNAPSHOT` whenever another connection
    /// wrote in between — with no wait at all — which under a backlog made the IMAP worker
    /// reconnect every few mails. PostgreSQL: a plain `BEGIN`.
    pub async fn begin_write(&self) -> anyhow::Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// A small persistent key/value, for session markers and the like.
    pub async fn kv_get(&self, key: &str) -> anyhow::Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT value FROM kv WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.0))
    }

    pub async fn kv_set(&self, key: &str, value: &str) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO kv (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// How long an outbox worker may sleep: until the earliest pending row of `table` is due
/// (at most an hour; new rows wake the worker anyway).
pub async fn until_next_attempt(
    db: &Db,
    table: &'static str,
) -> anyhow::Result<std::time::Duration> {
    let sql = format!("SELECT MIN(next_attempt_at) FROM {table} WHERE state = 'pending'");
    let next: Option<(Option<i64>,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_optional(&db.pool)
        .await?;
    Ok(match next.and_then(|r| r.0) {
        Some(t) => Duration::from_millis((t - now_ms()).clamp(0, 3_600_000) as u64),
        None => Duration::from_secs(3600),
    })
}

/// Milliseconds since the Unix epoch: the one timestamp format in the database.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn ensure_sqlite_parent(url: &str) -> anyhow::Result<()> {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating database directory {}", parent.display()))?;
    }
    Ok(())
}

pub mod backup;
pub mod quarantine;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_migrates_and_round_trips_with_numbered_placeholders() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/sub/c.db?mode=rwc", dir.path().display());
        let db = Db::connect(&url, 2).await.unwrap();
        db.kv_set("a", "1").await.unwrap();
        db.kv_set("a", "2").await.unwrap();
        assert_eq!(db.kv_get("a").await.unwrap().as_deref(), Some("2"));
        assert_eq!(db.kv_get("b").await.unwrap(), None);
        // Reopening applies no migration twice.
        drop(db);
        let db = Db::connect(&url, 2).await.unwrap();
        assert_eq!(db.kv_get("a").await.unwrap().as_deref(), Some("2"));
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[tokio::test]
    async fn unknown_scheme_is_a_clear_error() {
        let err = Db::connect("mysql://x", 1).await.unwrap_err().to_string();
        assert!(err.contains("unsupported scheme"), "{err}");
    }
}
