//! Backups: `convene backup DEST` and `convene restore SRC`.
//!
//! A backup is a directory: `convene.db` (the SQLite database, copied online and consistent
//! with `VACUUM INTO`, which reads one snapshot while the daemon keeps writing), `matrix/`
//! (the Matrix session and matrix-sdk's stores, each SQLite store copied the same way, other
//! files as they are), and `backup.json` (what it holds). With PostgreSQL the database is not
//! in it: `pg_dump` is the tool for that, and the backup holds the state directory only.
//!
//! Restoring needs the daemon stopped: the running daemon holds the lock file
//! `<state_dir>/convene.lock` ([`DaemonLock`]), and restore takes it.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sqlx::Connection;

use super::Backend;

/// What a backup holds (`backup.json`).
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub created_at: String,
    pub version: String,
    /// `sqlite` (the database is `convene.db`) or `postgres` (not included: use pg_dump).
    pub backend: String,
    pub matrix: bool,
}

/// Held by `convene run` for its whole life; `restore` refuses while someone holds it.
pub struct DaemonLock {
    _file: std::fs::File,
}

impl DaemonLock {
    /// Takes the lock of `state_dir`, or says that a daemon runs there.
    pub fn take(state_dir: &Path) -> anyhow::Result<DaemonLock> {
        std::fs::create_dir_all(state_dir)
            .with_context(|| format!("creating {}", state_dir.display()))?;
        let path = state_dir.join("convene.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(DaemonLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => bail!(
                "convene is running on {} (stop it first: systemctl stop convene)",
                state_dir.display()
            ),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
    }
}

/// The file of a SQLite URL (`sqlite:///var/lib/convene/convene.db?mode=rwc`), if it is one.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let path = rest.trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Copies a SQLite database file consistently, while others may write it.
pub async fn vacuum_into(src: &Path, dest: &Path) -> anyhow::Result<()> {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=ro", src.display());
    let mut conn = sqlx::AnyConnection::connect(&url)
        .await
        .with_context(|| format!("opening {}", src.display()))?;
    sqlx::query("PRAGMA busy_timeout = 10000")
        .execute(&mut conn)
        .await?;
    sqlx::query("VACUUM INTO $1")
        .bind(dest.display().to_string())
        .execute(&mut conn)
        .await
        .with_context(|| format!("copying {} with VACUUM INTO", src.display()))?;
    conn.close().await.ok();
    Ok(())
}

fn is_sqlite_file(path: &Path) -> bool {
    let mut head = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && &head == b"SQLite format 3\0"
}

/// Copies `src` into `dest` (created): SQLite files with [`vacuum_into`], their `-wal` and
/// `-shm` companions left out (the copy has everything), other files as they are.
fn copy_tree<'a>(
    src: &'a Path,
    dest: &'a Path,
) -> std::pin::Pin<Box<dyn Future<Output = anyhow::Result<()>> + 'a>> {
    Box::pin(async move {
        std::fs::create_dir_all(dest).with_context(|| format!("creating {}", dest.display()))?;
        for entry in std::fs::read_dir(src).with_context(|| format!("reading {}", src.display()))? {
            let entry = entry?;
            let path = entry.path();
            let name = entry.file_name();
            let to = dest.join(&name);
            let text = name.to_string_lossy();
            if entry.file_type()?.is_dir() {
                copy_tree(&path, &to).await?;
            } else if text.ends_with("-wal") || text.ends_with("-shm") || text.ends_with("-journal")
            {
                continue;
            } else if is_sqlite_file(&path) {
                vacuum_into(&path, &to).await?;
            } else {
                std::fs::copy(&path, &to).with_context(|| format!("copying {}", path.display()))?;
            }
        }
        Ok(())
    })
}

/// Makes a backup of the database (SQLite) and `<state_dir>/matrix` into `dest`, which must
/// not exist or be empty. Works while the daemon runs.
pub async fn backup(
    db_url: &str,
    backend: Backend,
    state_dir: &Path,
    dest: &Path,
) -> anyhow::Result<Manifest> {
    if dest.exists()
        && std::fs::read_dir(dest)
            .with_context(|| format!("reading {}", dest.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{} is not empty: back up into a new directory",
            dest.display()
        );
    }
    std::fs::create_dir_all(dest).with_context(|| format!("creating {}", dest.display()))?;
    set_private(dest);
    if backend == Backend::Sqlite {
        let Some(path) = sqlite_path(db_url) else {
            bail!("the database URL names no file");
        };
        vacuum_into(&path, &dest.join("convene.db")).await?;
    }
    let matrix = state_dir.join("matrix");
    let has_matrix = matrix.is_dir();
    if has_matrix {
        copy_tree(&matrix, &dest.join("matrix")).await?;
    }
    let manifest = Manifest {
        created_at: chrono::Utc::now().to_rfc3339(),
        version: env!("CARGO_PKG_VERSION").into(),
        backend: match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
        .into(),
        matrix: has_matrix,
    };
    std::fs::write(
        dest.join("backup.json"),
        serde_json::to_string_pretty(&manifest)?,
    )?;
    Ok(manifest)
}

/// Puts a backup back: the database file (SQLite) and `<state_dir>/matrix`. The daemon must
/// be stopped (the caller holds [`DaemonLock`]).
pub async fn restore(
    db_url: &str,
    backend: Backend,
    state_dir: &Path,
    src: &Path,
    _lock: &DaemonLock,
) -> anyhow::Result<Manifest> {
    let text = std::fs::read_to_string(src.join("backup.json"))
        .with_context(|| format!("{} is not a convene backup (no backup.json)", src.display()))?;
    let manifest: Manifest = serde_json::from_str(&text).context("reading backup.json")?;
    let theirs = manifest.backend.as_str();
    match (backend, theirs) {
        (Backend::Sqlite, "sqlite") => {
            let Some(path) = sqlite_path(db_url) else {
                bail!("the database URL names no file");
            };
            let from = src.join("convene.db");
            if !is_sqlite_file(&from) {
                bail!("{} is missing or not a SQLite database", from.display());
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            // Into a new file first, then over the old one: a failed copy leaves it as it was.
            let tmp = path.with_extension("db.restoring");
            std::fs::copy(&from, &tmp).with_context(|| format!("copying {}", from.display()))?;
            for companion in ["-wal", "-shm"] {
                let mut p = path.clone().into_os_string();
                p.push(companion);
                let _ = std::fs::remove_file(PathBuf::from(p));
            }
            std::fs::rename(&tmp, &path)
                .with_context(|| format!("replacing {}", path.display()))?;
        }
        (Backend::Postgres, _) => {}
        (Backend::Sqlite, other) => {
            bail!("this backup is of a {other} installation: restore its database with pg_restore")
        }
    }
    if manifest.matrix {
        let from = src.join("matrix");
        let to = state_dir.join("matrix");
        let staging = state_dir.join("matrix.restoring");
        let _ = std::fs::remove_dir_all(&staging);
        copy_tree(&from, &staging).await?;
        if to.exists() {
            std::fs::remove_dir_all(&to).with_context(|| format!("removing {}", to.display()))?;
        }
        std::fs::rename(&staging, &to)?;
    }
    Ok(manifest)
}

fn set_private(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Db;

    #[tokio::test]
    async fn backup_while_writing_and_restore_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        std::fs::create_dir_all(state.join("matrix/store")).unwrap();
        std::fs::write(state.join("matrix/session.json"), b"{\"token\":1}").unwrap();
        let url = format!("sqlite://{}/convene.db?mode=rwc", state.display());
        let db = Db::connect(&url, 2).await.unwrap();
        db.kv_set("before", "1").await.unwrap();
        // A matrix-sdk-like store: a SQLite file of its own, in WAL mode.
        let store = state.join("matrix/store/matrix-sdk-state.sqlite3");
        let store_db = Db::connect_only(&format!("sqlite://{}?mode=rwc", store.display()), 1)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (v TEXT)")
            .execute(&store_db.pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO t VALUES ('room-state')")
            .execute(&store_db.pool)
            .await
            .unwrap();

        let dest = dir.path().join("backup");
        let m = backup(&url, Backend::Sqlite, &state, &dest).await.unwrap();
        assert!(m.matrix && m.backend == "sqlite");
        assert!(dest.join("convene.db").exists());
        assert!(
            !dest
                .join("matrix/store/matrix-sdk-state.sqlite3-wal")
                .exists()
        );
        let again = backup(&url, Backend::Sqlite, &state, &dest).await;
        assert!(again.unwrap_err().to_string().contains("not empty"));

        // Changes after the backup are undone by the restore.
        db.kv_set("after", "1").await.unwrap();
        std::fs::write(state.join("matrix/session.json"), b"changed").unwrap();
        drop(db);
        drop(store_db);
        let lock = DaemonLock::take(&state).unwrap();
        assert!(
            DaemonLock::take(&state)
                .err()
                .unwrap()
                .to_string()
                .contains("running"),
            "a second holder is refused"
        );
        restore(&url, Backend::Sqlite, &state, &dest, &lock)
            .await
            .unwrap();
        drop(lock);
        let db = Db::connect(&url, 1).await.unwrap();
        assert_eq!(db.kv_get("before").await.unwrap().as_deref(), Some("1"));
        assert_eq!(db.kv_get("after").await.unwrap(), None);
        assert_eq!(
            std::fs::read(state.join("matrix/session.json")).unwrap(),
            b"{\"token\":1}"
        );
        let store_db = Db::connect_only(&format!("sqlite://{}", store.display()), 1)
            .await
            .unwrap();
        let (v,): (String,) = sqlx::query_as("SELECT v FROM t")
            .fetch_one(&store_db.pool)
            .await
            .unwrap();
        assert_eq!(v, "room-state");
    }

    #[test]
    fn sqlite_paths_from_urls() {
        assert_eq!(
            sqlite_path("sqlite:///var/lib/convene/convene.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/convene/convene.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x/y"), None);
    }
}
