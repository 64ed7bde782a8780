//! Limits on automatic mail (the `auto_reply` table, migration 0008, is owned here): at most
//! `applications.replies_per_address_per_day` automatic replies to one address in any 24
//! hours and `applications.replies_per_hour` to all addresses together in any hour, as
//! Mailman limits its auto-responses. Every reply convene decides to send is counted in the
//! database, so a restart resets nothing; a reply past a limit is recorded as suppressed,
//! and the first suppression of a window says so, so that the management room is told once
//! per address per day and once per hourly window.
//!
//! The windows slide: a reply counts for 24 hours (or one hour) after it was queued.

use sqlx::AnyConnection;

use crate::config::ApplicationsConfig;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// Which limit held a reply back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// `replies_per_address_per_day` for this address.
    Address,
    /// `replies_per_hour` for everyone.
    Hourly,
}

impl Limit {
    fn as_str(self) -> &'static str {
        match self {
            Limit::Address => "address",
            Limit::Hourly => "hourly",
        }
    }
}

/// Whether an automatic reply may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowance {
    Send,
    /// Held back by `limit`; `first` when it is the first one held back in the limit's
    /// window (the one to tell the management room about).
    Suppressed {
        limit: Limit,
        first: bool,
    },
}

/// The pure rule: `to_address` replies to this address in the last 24 hours, `in_hour`
/// replies to anyone in the last hour (neither counting suppressed ones).
pub fn allowance(cfg: &ApplicationsConfig, to_address: i64, in_hour: i64) -> Result<(), Limit> {
    if to_address >= i64::from(cfg.replies_per_address_per_day) {
        Err(Limit::Address)
    } else if in_hour >= i64::from(cfg.replies_per_hour) {
        Err(Limit::Hourly)
    } else {
        Ok(())
    }
}

/// Decides and records one automatic reply of `kind` (`ack`, `closed`) to `address` for
/// inbound mail `mail_id`, at `now`, in the caller's transaction.
pub async fn admit(
    conn: &mut AnyConnection,
    cfg: &ApplicationsConfig,
    address: &str,
    mail_id: i64,
    kind: &str,
    now: i64,
) -> anyhow::Result<Allowance> {
    let address = address.to_lowercase();
    let (to_address,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM auto_reply WHERE address = $1 AND at > $2 AND suppressed IS NULL",
    )
    .bind(&address)
    .bind(now - DAY_MS)
    .fetch_one(&mut *conn)
    .await?;
    let (in_hour,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM auto_reply WHERE at > $1 AND suppressed IS NULL")
            .bind(now - HOUR_MS)
            .fetch_one(&mut *conn)
            .await?;
    let outcome = match allowance(cfg, to_address, in_hour) {
        Ok(()) => Allowance::Send,
        Err(limit) => {
            let (earlier,): (i64,) =
                match limit {
                    Limit::Address => {
                        sqlx::query_as(
                            "SELECT COUNT(*) FROM auto_reply WHERE address = $1 AND at > $2 \
                         AND suppressed = 'address'",
                        )
                        .bind(&address)
                        .bind(now - DAY_MS)
                        .fetch_one(&mut *conn)
                        .await?
                    }
                    Limit::Hourly => sqlx::query_as(
                        "SELECT COUNT(*) FROM auto_reply WHERE at > $1 AND suppressed = 'hourly'",
                    )
                    .bind(now - HOUR_MS)
                    .fetch_one(&mut *conn)
                    .await?,
                };
            Allowance::Suppressed {
                limit,
                first: earlier == 0,
            }
        }
    };
    let suppressed = match outcome {
        Allowance::Send => None,
        Allowance::Suppressed { limit, .. } => Some(limit.as_str()),
    };
    sqlx::query(
        "INSERT INTO auto_reply (address, inbound_mail_id, kind, suppressed, at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&address)
    .bind(mail_id)
    .bind(kind)
    .bind(suppressed)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(outcome)
}

/// The management room's notice of the first reply a limit held back (plain text: the address
/// came from mail and is made inert by the caller's `markup::plain_text`).
pub fn notice(cfg: &ApplicationsConfig, limit: Limit, address: &str) -> String {
    match limit {
        Limit::Address => format!(
            "⚠ Automatic replies to {address} are suppressed: {} were sent in the last 24 hours \
             (applications.replies_per_address_per_day). Its mails are still recorded and \
             carded; further replies wait until the count drops. This is said once a day.",
            cfg.replies_per_address_per_day
        ),
        Limit::Hourly => format!(
            "⚠ Automatic replies are suppressed for everyone: {} were sent in the last hour \
             (applications.replies_per_hour), held back this time for {address}. Mails are \
             still recorded and carded. This is said once an hour.",
            cfg.replies_per_hour
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Db;

    #[test]
    fn the_rule() {
        let cfg = ApplicationsConfig::default();
        assert_eq!(allowance(&cfg, 0, 0), Ok(()));
        assert_eq!(allowance(&cfg, 2, 99), Ok(()));
        assert_eq!(allowance(&cfg, 3, 0), Err(Limit::Address));
        assert_eq!(allowance(&cfg, 0, 100), Err(Limit::Hourly));
    }

    #[tokio::test]
    async fn counted_in_the_database_told_once_per_window() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db?mode=rwc", dir.path().display());
        let cfg = ApplicationsConfig {
            replies_per_hour: 5,
            ..ApplicationsConfig::default()
        };
        let mut got = Vec::new();
        {
            let db = Db::connect(&url, 1).await.unwrap();
            let mut conn = db.pool.acquire().await.unwrap();
            for n in 0..5 {
                got.push(
                    admit(&mut conn, &cfg, "Ana@x.test", n, "ack", 1000 + n)
                        .await
                        .unwrap(),
                );
            }
        }
        // A restart (a new pool on the same file) keeps counting.
        let db = Db::connect(&url, 1).await.unwrap();
        let mut conn = db.pool.acquire().await.unwrap();
        got.push(
            admit(&mut conn, &cfg, "ana@x.test", 9, "ack", 2000)
                .await
                .unwrap(),
        );
        let sent = got.iter().filter(|a| **a == Allowance::Send).count();
        assert_eq!(sent, 3, "{got:?}");
        assert_eq!(
            got[3],
            Allowance::Suppressed {
                limit: Limit::Address,
                first: true
            }
        );
        assert_eq!(
            got[5],
            Allowance::Suppressed {
                limit: Limit::Address,
                first: false
            }
        );
        // A day later the address may be answered again.
        let later = 2000 + DAY_MS;
        let a = admit(&mut conn, &cfg, "ana@x.test", 10, "ack", later)
            .await
            .unwrap();
        assert_eq!(a, Allowance::Send);
        // The hourly limit, across addresses: 5 per hour.
        for n in 0..4 {
            let who = format!("p{n}@x.test");
            let a = admit(&mut conn, &cfg, &who, 20 + n, "ack", later + n)
                .await
                .unwrap();
            assert_eq!(a, Allowance::Send, "{who}");
        }
        let held = admit(&mut conn, &cfg, "q@x.test", 30, "ack", later + 10)
            .await
            .unwrap();
        assert_eq!(
            held,
            Allowance::Suppressed {
                limit: Limit::Hourly,
                first: true
            }
        );
        let again = admit(&mut conn, &cfg, "r@x.test", 31, "ack", later + 11)
            .await
            .unwrap();
        assert_eq!(
            again,
            Allowance::Suppressed {
                limit: Limit::Hourly,
                first: false
            }
        );
    }
}
