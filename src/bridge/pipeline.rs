//! The inbound pipeline: takes each stored mail in order and decides what it is and where it
//! goes — parse, recognise the bot's own mail and automatic mail (RFC 3834), route to a group,
//! read an application, render for the room — then records the outcome in the same
//! transaction that queues the room post, the application's card and its acknowledgement.
//!
//! [`decide`] is pure (no database, no network) and runs under `catch_unwind`. A mail that
//! cannot be parsed, is oversized, came without content, or panics anywhere in it is
//! quarantined at once with the reason and reported in the management room. Other errors
//! (the database, …) are retried a few times, then quarantined: never dropped, never retried
//! forever.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use mail_parser::MessageParser;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::inbound::{self, MailKind, Stored};
use crate::applications::Applications;
use crate::applications::intake::{self, Prepared};
use crate::mail::route::{self, Route, Routing};
use crate::mail::{automatic, compose, render};
use crate::outbox::{Key, Outbox};
use crate::storage::Db;

const MAX_ATTEMPTS: i64 = 5;

/// What the pipeline works with.
#[derive(Clone)]
pub struct Pipeline {
    pub db: Db,
    pub outbox: Outbox,
    pub apps: Applications,
    pub calendar: crate::calendar::Service,
    pub routing: Arc<Routing>,
    /// Woken by the IMAP worker when mail was stored.
    pub wake: Arc<Notify>,
}

/// What the pure stages decided about one mail.
pub struct Decision {
    pub kind: MailKind,
    pub route: Route,
    pub content: serde_json::Value,
    /// The text body, for the calendar's deadline detection.
    pub text: String,
    pub sent: Option<chrono::DateTime<chrono::Utc>>,
    /// Message-IDs this mail answers (to post it into the thread it belongs to).
    pub references: Vec<String>,
    /// An expression of interest, read from human-written mail.
    pub eoi: Option<Prepared>,
}

/// The pure stages: what a mail is and where it goes. `own_domain` is the domain of the
/// Message-IDs convene gives its own mail.
pub fn decide(
    routing: &Routing,
    apps: &crate::applications::Settings,
    own_domain: &str,
    mail_id: i64,
    raw: &[u8],
) -> Result<Decision, String> {
    let msg = MessageParser::default()
        .parse(raw)
        .ok_or("not a parseable mail message")?;
    if msg.headers().is_empty() {
        return Err("no headers: not a mail message".into());
    }
    let own = msg
        .message_id()
        .is_some_and(|id| compose::is_own_message_id(id, own_domain));
    let return_path = msg.return_address();
    let auto = automatic::detect_with_sender(&msg, return_path).map(|r| r.to_string());
    let mut route = route::route_with(&msg, routing);
    if auto.is_some() || own {
        // Automatic mail is shown to the secretariat only, and never answered.
        route = Route {
            group: route.group,
            room: routing.management_room.clone(),
            why: if own { "own mail" } else { "automatic" },
        };
    }
    let note = auto
        .as_ref()
        .map(|r| format!("automatic mail ({r}): not answered"));
    let content = render::mail_event(&msg, mail_id, note.as_deref());
    let text = msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let sent = msg
        .date()
        .and_then(|d| chrono::DateTime::from_timestamp(d.to_timestamp(), 0));
    let references = super::thread::referenced_ids(&msg);
    // Automatic mail is never an application and never answered.
    let eoi = if auto.is_none() && !own {
        intake::prepare(apps, &msg)
    } else {
        None
    };
    let kind = match (own, &auto, &eoi) {
        (true, _, _) => MailKind::Own,
        (false, Some(_), _) => MailKind::Automatic,
        (false, None, Some(_)) => MailKind::Eoi,
        (false, None, None) => MailKind::Correspondence,
    };
    Ok(Decision {
        kind,
        route,
        content,
        text,
        sent,
        references,
        eoi,
    })
}

impl Pipeline {
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<()> {
        loop {
            while let Some(mail) = inbound::next_new(&self.db).await? {
                if cancel.is_cancelled() {
                    return Ok(());
                }
                if mail.attempts >= MAX_ATTEMPTS {
                    let why = format!(
                        "failed {} times: {}",
                        mail.attempts,
                        mail.error.as_deref().unwrap_or("unknown error")
                    );
                    self.quarantine(&mail, &why).await?;
                    continue;
                }
                inbound::bump_attempts(&self.db, mail.id).await?;
                if let Err(e) = self.handle(&mail).await {
                    let why = format!("{e:#}");
                    tracing::warn!(
                        id = mail.id,
                        error = why,
                        "mail handling failed; will retry"
                    );
                    inbound::set_error(&self.db, mail.id, &why).await?;
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                        _ = cancel.cancelled() => return Ok(()),
                    }
                }
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(300)) => {}
                _ = cancel.cancelled() => return Ok(()),
            }
        }
    }

    async fn handle(&self, mail: &Stored) -> anyhow::Result<()> {
        let Some(raw) = mail.raw.as_deref() else {
            let why = mail.error.as_deref().unwrap_or("no content stored");
            return self.quarantine(mail, why).await;
        };
        if let Some(err) = mail.error.as_deref().filter(|e| e.starts_with("oversized")) {
            return self
                .quarantine(
                    mail,
                    &format!("{err} (larger than mailbox.max_message_bytes)"),
                )
                .await;
        }
        let own_domain = self.outbox.from().domain().to_owned();
        let decided = std::panic::catch_unwind(AssertUnwindSafe(|| {
            crate::failpoint::panic_if("pipeline-decide");
            decide(&self.routing, &self.apps.s, &own_domain, mail.id, raw)
        }));
        let decision = match decided {
            Ok(Ok(d)) => d,
            Ok(Err(why)) => return self.quarantine(mail, &why).await,
            Err(panic) => {
                let what = crate::failpoint::panic_message(&panic);
                return self
                    .quarantine(
                        mail,
                        &format!("internal error while reading the mail: {what}"),
                    )
                    .await;
            }
        };
        let kind = decision.kind;
        // Looked up before the transaction: a pool connection awaited while a transaction
        // holds another can starve the pool (workers waiting on each other's connections).
        let thread = match kind {
            MailKind::Automatic | MailKind::Own => None,
            _ => super::thread::find_thread(&self.db, &decision.references).await?,
        };
        let mut tx = self.outbox.begin().await?;
        if kind == MailKind::Own {
            // Our own mail come back (a copy to ourselves, a loop): never bridged or answered.
            inbound::mark_done(&mut tx, mail.id, kind, None).await?;
            tx.commit().await?;
            tracing::info!(id = mail.id, key = %mail.message_key, "own mail come back: ignored");
            return Ok(());
        }
        match &thread {
            // An answer to a mail of a thread goes into that thread, in that room.
            Some(t) => {
                let content = super::thread::in_thread(decision.content, t);
                tx.post(Key::Mail(mail.id), &t.room_id, content).await?
            }
            None => {
                tx.post(Key::Mail(mail.id), &decision.route.room, decision.content)
                    .await?
            }
        };
        // The EoI record, its acknowledgement and its card commit with the mail's own post.
        let intake = match &decision.eoi {
            Some(p) => Some(self.apps.record(&mut tx, mail.id, p).await?),
            None => None,
        };
        inbound::mark_done(&mut tx, mail.id, kind, decision.route.group.as_deref()).await?;
        tx.commit().await?;
        tracing::info!(id = mail.id, uid = mail.uid, key = %mail.message_key, kind = kind.as_str(), group = ?decision.route.group, why = decision.route.why, "mail routed");
        if let Some(outcome) = &intake {
            tracing::info!(
                id = mail.id,
                eoi = outcome.id,
                created = outcome.created,
                acknowledged = outcome.acknowledged,
                "expression of interest recorded"
            );
        }
        crate::failpoint::hit("after-route");
        if kind != MailKind::Automatic
            && let Err(e) = crate::calendar::detect::on_mail(
                &self.calendar,
                mail.id,
                decision.route.group.as_deref(),
                &decision.text,
                decision.sent,
            )
            .await
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
    pub async fn quarantine(&self, mail: &Stored, reason: &str) -> anyhow::Result<()> {
        tracing::warn!(id = mail.id, key = %mail.message_key, reason, "mail quarantined");
        // Record, state and report commit together: a crash cannot quarantine a mail twice.
        let mut tx = self.outbox.begin().await?;
        let qid =
            crate::storage::quarantine::record(&mut *tx, "inbound_mail", Some(mail.id), reason)
                .await?;
        inbound::mark_quarantined(&mut tx, mail.id, reason).await?;
        let text = format!(
            "⚠ Mail {} (UID {}) was quarantined: {reason} (quarantine #{qid})",
            mail.message_key, mail.uid
        );
        let room = self.outbox.management_room().to_owned();
        tx.post(Key::Quarantine(qid), &room, crate::chat::notice(&text))
            .await?;
        tx.commit().await
    }
}
