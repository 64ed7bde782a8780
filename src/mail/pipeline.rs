//! The inbound pipeline: takes each stored mail in order and decides what it is and where it
//! goes — parse, detect automatic mail (RFC 3834), route to a group, and queue the room post —
//! recording the outcome in the same transaction as the queued post.
//!
//! Failures: a mail that cannot be parsed, is oversized, or panics anywhere in the pure stages
//! is quarantined at once with the reason and reported in the management room. Other errors
//! (database, …) are retried a few times, then quarantined: never dropped, never retried forever.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use mail_parser::MessageParser;
use tokio_util::sync::CancellationToken;

use super::inbound::{self, Stored};
use super::{automatic, render, route};
use crate::app::Ctx;
use crate::matrix::outbox::{self, Post};

const MAX_ATTEMPTS: i64 = 5;

pub async fn run(ctx: Ctx, cancel: CancellationToken) -> anyhow::Result<()> {
    loop {
        while let Some(mail) = inbound::next_new(&ctx.db).await? {
            if cancel.is_cancelled() {
                return Ok(());
            }
            if mail.attempts >= MAX_ATTEMPTS {
                let why = format!(
                    "failed {} times: {}",
                    mail.attempts,
                    mail.error.as_deref().unwrap_or("unknown error")
                );
                quarantine(&ctx, &mail, &why).await?;
                continue;
            }
            inbound::bump_attempts(&ctx.db, mail.id).await?;
            if let Err(e) = handle(&ctx, &mail).await {
                let why = format!("{e:#}");
                tracing::warn!(
                    id = mail.id,
                    error = why,
                    "mail handling failed; will retry"
                );
                sqlx::query("UPDATE inbound_mail SET error = $1 WHERE id = $2")
                    .bind(&why)
                    .bind(mail.id)
                    .execute(&ctx.db.pool)
                    .await?;
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                    _ = cancel.cancelled() => return Ok(()),
                }
            }
        }
        tokio::select! {
            _ = ctx.wake.pipeline.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(300)) => {}
            _ = cancel.cancelled() => return Ok(()),
        }
    }
}

/// What the pure stages decided about one mail.
struct Decision {
    route: route::Route,
    automatic: Option<String>,
    content: serde_json::Value,
    /// The text body, for the calendar's deadline detection.
    text: String,
    sent: Option<chrono::DateTime<chrono::Utc>>,
    /// Message-IDs this mail answers (to post it into the thread it belongs to).
    references: Vec<String>,
    /// An expression of interest, read from human-written mail.
    eoi: Option<crate::applications::intake::Prepared>,
}

fn decide(ctx: &Ctx, mail: &Stored, raw: &[u8]) -> Result<Decision, String> {
    let msg = MessageParser::default()
        .parse(raw)
        .ok_or("not a parseable mail message")?;
    if msg.headers().is_empty() {
        return Err("no headers: not a mail message".into());
    }
    let return_path = msg.return_address();
    let auto = automatic::detect_with_sender(&msg, return_path).map(|r| r.to_string());
    let mut route = route::route(&msg, &ctx.config);
    if auto.is_some() {
        // Automatic mail is shown to the secretariat only, and never answered.
        route = route::Route {
            group: route.group,
            room: ctx.config.matrix.management_room.clone(),
            why: "automatic",
        };
    }
    let note = auto
        .as_ref()
        .map(|r| format!("automatic mail ({r}): not answered"));
    let content = render::mail_event(&msg, mail.id, note.as_deref());
    let text = msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let sent = msg
        .date()
        .and_then(|d| chrono::DateTime::from_timestamp(d.to_timestamp(), 0));
    let references = super::thread::referenced_ids(&msg);
    // Automatic mail is never an application and never answered.
    let eoi = if auto.is_none() {
        crate::applications::intake::prepare(&ctx.config, &msg)
    } else {
        None
    };
    Ok(Decision {
        route,
        automatic: auto,
        content,
        text,
        sent,
        references,
        eoi,
    })
}

async fn handle(ctx: &Ctx, mail: &Stored) -> anyhow::Result<()> {
    let Some(raw) = mail.raw.as_deref() else {
        return quarantine(ctx, mail, "no content stored").await;
    };
    if let Some(err) = mail.error.as_deref().filter(|e| e.starts_with("oversized")) {
        return quarantine(
            ctx,
            mail,
            &format!("{err} (larger than mailbox.max_message_bytes)"),
        )
        .await;
    }
    let decision = match std::panic::catch_unwind(AssertUnwindSafe(|| decide(ctx, mail, raw))) {
        Ok(Ok(d)) => d,
        Ok(Err(why)) => return quarantine(ctx, mail, &why).await,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            return quarantine(
                ctx,
                mail,
                &format!("internal error while reading the mail: {what}"),
            )
            .await;
        }
    };
    let kind = match (&decision.automatic, &decision.eoi) {
        (Some(_), _) => "automatic",
        (None, Some(_)) => "eoi",
        (None, None) => "correspondence",
    };
    let thread = match decision.automatic {
        None => super::thread::find_thread(&ctx.db, &decision.references).await?,
        Some(_) => None,
    };
    let post = match &thread {
        // An answer to a mail of a thread goes into that thread, in that room.
        Some(t) => Post::message(
            format!("mail-{}", mail.id),
            &t.room_id,
            super::thread::in_thread(decision.content, t),
        ),
        None => Post::message(
            format!("mail-{}", mail.id),
            &decision.route.room,
            decision.content,
        ),
    };
    let mut tx = ctx.db.pool.begin().await?;
    outbox::enqueue(&mut *tx, &ctx.install_id, &post).await?;
    // The EoI record, its acknowledgement and its card commit with the mail's own post.
    let intake = match &decision.eoi {
        Some(p) => Some(crate::applications::intake::record(&mut tx, ctx, mail.id, p).await?),
        None => None,
    };
    sqlx::query("UPDATE inbound_mail SET state = 'done', kind = $1, group_slug = $2, error = NULL WHERE id = $3")
        .bind(kind)
        .bind(decision.route.group.as_deref())
        .bind(mail.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(id = mail.id, uid = mail.uid, key = %mail.message_key, kind, group = ?decision.route.group, why = decision.route.why, "mail routed");
    if let Some(outcome) = &intake {
        tracing::info!(
            id = mail.id,
            eoi = outcome.id,
            created = outcome.created,
            acknowledged = outcome.acknowledged,
            "expression of interest recorded"
        );
        ctx.wake.mail_outbox.notify_one();
    }
    crate::failpoint::hit("after-route");
    ctx.wake.matrix_outbox.notify_one();
    if decision.automatic.is_none()
        && let Err(e) =
            crate::calendar::detect::on_mail(ctx, mail.id, &decision.text, decision.sent).await
    {
        tracing::warn!(
            id = mail.id,
            error = format!("{e:#}"),
            "deadline detection failed"
        );
    }
    Ok(())
}

/// Keeps the mail with the reason and tells the management room.
pub async fn quarantine(ctx: &Ctx, mail: &Stored, reason: &str) -> anyhow::Result<()> {
    tracing::warn!(id = mail.id, key = %mail.message_key, reason, "mail quarantined");
    // Record, state and report commit together: a crash cannot quarantine a mail twice.
    let mut tx = ctx.db.pool.begin().await?;
    let qid =
        crate::storage::quarantine::record(&mut *tx, "inbound_mail", Some(mail.id), reason).await?;
    sqlx::query("UPDATE inbound_mail SET state = 'quarantined', error = $1 WHERE id = $2")
        .bind(reason)
        .bind(mail.id)
        .execute(&mut *tx)
        .await?;
    let text = format!(
        "⚠ Mail {} (UID {}) was quarantined: {reason} (quarantine #{qid})",
        mail.message_key, mail.uid
    );
    let post = Post::message(
        format!("quarantine-{qid}"),
        &ctx.config.matrix.management_room,
        crate::matrix::notice(&text),
    );
    outbox::enqueue(&mut *tx, &ctx.install_id, &post).await?;
    tx.commit().await?;
    ctx.wake.matrix_outbox.notify_one();
    Ok(())
}
