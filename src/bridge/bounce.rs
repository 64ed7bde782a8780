//! The `bridge_bounce` table, and only here: a bounce score per recipient, as Mailman keeps
//! one — a hard bounce adds 1, a soft one 0.5, and the score halves every
//! `bridge.bounce_half_life`, so an address that bounced once long ago starts afresh. When the
//! score reaches `bridge.bounce_threshold` the address is marked (once) and the outbox holds
//! later mail to it ([`crate::outbox::hold`]) for a secretariat decision.

use sqlx::AnyConnection;

use crate::config::BridgeConfig;
use crate::storage::Db;

/// What one bounce did to an address's score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub score: f64,
    /// The score reached the threshold with this bounce (the address is now marked).
    pub newly_marked: bool,
}

/// `score` (at `last_at`) decayed to `now`.
pub fn decayed(score: f64, last_at: i64, now: i64, half_life_ms: i64) -> f64 {
    if half_life_ms <= 0 || now <= last_at {
        return score;
    }
    score * 0.5f64.powf((now - last_at) as f64 / half_life_ms as f64)
}

/// Counts a bounce of `address` at `now` (ms).
pub async fn record(
    conn: &mut AnyConnection,
    cfg: &BridgeConfig,
    address: &str,
    hard: bool,
    reason: &str,
    now: i64,
) -> anyhow::Result<Scored> {
    let address = address.to_ascii_lowercase();
    let row: Option<(i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT score_milli, last_at, marked_at FROM bridge_bounce WHERE address = $1",
    )
    .bind(&address)
    .fetch_optional(&mut *conn)
    .await?;
    let half_life = cfg.bounce_half_life.num_milliseconds();
    let weight = if hard { 1.0 } else { 0.5 };
    let (before, marked) = match row {
        Some((milli, last, marked)) => (
            decayed(milli as f64 / 1000.0, last, now, half_life),
            marked.is_some(),
        ),
        None => (0.0, false),
    };
    let score = before + weight;
    let newly_marked = !marked && score + 1e-9 >= cfg.bounce_threshold;
    let milli = (score * 1000.0).round() as i64;
    let (h, s) = if hard { (1i64, 0i64) } else { (0, 1) };
    sqlx::query(
        "INSERT INTO bridge_bounce (address, score_milli, hard, soft, last_at, last_reason, marked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (address) DO UPDATE SET \
         score_milli = $2, hard = bridge_bounce.hard + $3, soft = bridge_bounce.soft + $4, \
         last_at = $5, last_reason = $6, marked_at = COALESCE(bridge_bounce.marked_at, $7)",
    )
    .bind(&address)
    .bind(milli)
    .bind(h)
    .bind(s)
    .bind(now)
    .bind(reason)
    .bind(newly_marked.then_some(now))
    .execute(&mut *conn)
    .await?;
    Ok(Scored {
        score,
        newly_marked,
    })
}

/// Forgets the score and mark of `address` (the secretariat cleared it).
pub async fn reset(db: &Db, address: &str) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM bridge_bounce WHERE address = $1")
        .bind(address.to_ascii_lowercase())
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The marked addresses and their scores now: (address, score, hard bounces, last reason).
pub async fn marked(
    db: &Db,
    cfg: &BridgeConfig,
    now: i64,
) -> anyhow::Result<Vec<(String, f64, i64, Option<String>)>> {
    let rows: Vec<(String, i64, i64, i64, Option<String>)> = sqlx::query_as(
        "SELECT address, score_milli, last_at, hard, last_reason FROM bridge_bounce \
         WHERE marked_at IS NOT NULL ORDER BY address",
    )
    .fetch_all(&db.pool)
    .await?;
    let half = cfg.bounce_half_life.num_milliseconds();
    Ok(rows
        .into_iter()
        .map(|(a, m, last, hard, r)| (a, decayed(m as f64 / 1000.0, last, now, half), hard, r))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_score_halves_every_half_life() {
        let day = 86_400_000;
        assert!((decayed(4.0, 0, 7 * day, 7 * day) - 2.0).abs() < 1e-9);
        assert!((decayed(4.0, 0, 14 * day, 7 * day) - 1.0).abs() < 1e-9);
        assert_eq!(decayed(4.0, 10, 5, 7 * day), 4.0);
    }

    #[tokio::test]
    async fn hard_bounces_mark_at_the_threshold_once_soft_ones_count_half() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(
            &format!("sqlite://{}/t.db?mode=rwc", dir.path().display()),
            2,
        )
        .await
        .unwrap();
        let mut conn = db.pool.acquire().await.unwrap();
        let cfg = BridgeConfig {
            bounce_threshold: 2.0,
            ..BridgeConfig::default()
        };
        let t = 1_000_000;
        let a = record(&mut conn, &cfg, "Ana@X.test", false, "4.4.1", t)
            .await
            .unwrap();
        assert!((a.score - 0.5).abs() < 1e-9 && !a.newly_marked);
        let b = record(&mut conn, &cfg, "ana@x.test", true, "5.1.1", t)
            .await
            .unwrap();
        assert!(!b.newly_marked, "1.5 < 2");
        let c = record(&mut conn, &cfg, "ana@x.test", true, "5.1.1", t)
            .await
            .unwrap();
        assert!(c.newly_marked && (c.score - 2.5).abs() < 1e-9);
        let d = record(&mut conn, &cfg, "ana@x.test", true, "5.1.1", t)
            .await
            .unwrap();
        assert!(!d.newly_marked, "marked once");
        let m = marked(&db, &cfg, t).await.unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].0.as_str(), m[0].2), ("ana@x.test", 3));
        // Long after, one bounce does not mark a fresh address.
        reset(&db, "ana@x.test").await.unwrap();
        assert!(marked(&db, &cfg, t).await.unwrap().is_empty());
    }
}
