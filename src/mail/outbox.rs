//! Mail out: outgoing mail is built once, stored in the `mail_outbox` table with a fixed
//! Message-ID, and sent by a worker over SMTP (lettre) with retries and backoff. A message that
//! keeps failing is marked failed after `smtp.max_attempts` and reported in the management room.
//!
//! Automatic replies (acknowledgements) carry `Auto-Submitted: auto-replied` and go out with a
//! null envelope sender (RFC 3834 §3.3), so a bounce of a bounce cannot loop back to us.

use std::time::Duration;

use anyhow::Context;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart, header::Header};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sha2::{Digest, Sha256};
use sqlx::Any;
use tokio_util::sync::CancellationToken;

use crate::app::Ctx;
use crate::config::{SmtpConfig, TlsMode};
use crate::storage::now_ms;

/// A mail to send. `dedup_key` makes enqueueing idempotent: the same key is queued once.
#[derive(Debug, Clone)]
pub struct OutMail {
    pub dedup_key: String,
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// `auto-replied` or `auto-generated` (RFC 3834); None for mail a person decided to send.
    pub auto_submitted: Option<&'static str>,
    /// A `text/calendar; method=REQUEST` part (meeting invitations).
    pub calendar: Option<String>,
}

#[derive(Clone, Debug)]
struct AutoSubmitted(String);

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted(s.to_owned()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// The Message-ID convene gives a queued mail: stable for a dedup key.
pub fn message_id_for(dedup_key: &str, from: &Mailbox) -> String {
    let hash = Sha256::digest(dedup_key.as_bytes());
    format!("<convene.{:x}@{}>", hash, from.email.domain())
}

/// Builds and queues a mail. Returns false when the dedup key was already queued.
pub async fn enqueue<'e, E>(ex: E, smtp: &SmtpConfig, mail: &OutMail) -> anyhow::Result<bool>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let from: Mailbox = smtp.from.parse().context("smtp.from")?;
    let message_id = message_id_for(&mail.dedup_key, &from);
    let mut builder = lettre::Message::builder()
        .from(from.clone())
        .subject(mail.subject.clone())
        .message_id(Some(message_id.clone()))
        .date_now();
    let mut recipients = Vec::new();
    for to in &mail.to {
        let mb: Mailbox = to.parse().with_context(|| format!("recipient `{to}`"))?;
        recipients.push(mb.email.to_string());
        builder = builder.to(mb);
    }
    if let Some(irt) = &mail.in_reply_to {
        builder = builder.in_reply_to(irt.clone());
    }
    if !mail.references.is_empty() {
        builder = builder.references(mail.references.join(" "));
    }
    if let Some(kind) = mail.auto_submitted {
        builder = builder.header(AutoSubmitted(kind.to_owned()));
    }
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(mail.text.clone());
    let message = match &mail.calendar {
        None => builder.singlepart(text)?,
        Some(ics) => builder.multipart(
            MultiPart::mixed().singlepart(text).singlepart(
                SinglePart::builder()
                    .header(ContentType::parse(
                        "text/calendar; method=REQUEST; charset=utf-8",
                    )?)
                    .body(ics.clone()),
            ),
        )?,
    };
    // RFC 3834 §3.3: automatic responses use the null reverse path.
    let envelope_from = if mail.auto_submitted.is_some() {
        String::new()
    } else {
        from.email.to_string()
    };
    let result = sqlx::query(
        "INSERT INTO mail_outbox (dedup_key, envelope_from, recipients, message_id, raw, state, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6) ON CONFLICT (dedup_key) DO NOTHING",
    )
    .bind(&mail.dedup_key)
    .bind(envelope_from)
    .bind(serde_json::to_string(&recipients)?)
    .bind(&message_id)
    .bind(message.formatted())
    .bind(now_ms())
    .execute(ex)
    .await?;
    Ok(result.rows_affected() > 0)
}

pub fn transport(cfg: &SmtpConfig) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let tls_params = || -> anyhow::Result<TlsParameters> {
        let mut b = TlsParameters::builder(cfg.host.clone());
        if let Some(path) = &cfg.ca_file {
            let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            b = b.add_root_certificate(Certificate::from_pem(&pem)?);
        }
        Ok(b.build_rustls()?)
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(cfg.host.clone())
        .port(cfg.port)
        .timeout(Some(Duration::from_secs(60)));
    builder = match cfg.tls {
        TlsMode::Plain => builder.tls(Tls::None),
        TlsMode::Starttls => builder.tls(Tls::Required(tls_params()?)),
        TlsMode::Tls => builder.tls(Tls::Wrapper(tls_params()?)),
    };
    if let (Some(user), Some(secret)) = (&cfg.user, &cfg.secret) {
        builder = builder.credentials(Credentials::new(user.clone(), secret.expose()?));
    }
    Ok(builder.build())
}

#[derive(Debug, sqlx::FromRow)]
struct Row {
    id: i64,
    envelope_from: String,
    recipients: String,
    raw: Vec<u8>,
    attempts: i64,
    message_id: String,
}

pub async fn run(ctx: Ctx, cancel: CancellationToken) -> anyhow::Result<()> {
    let smtp = transport(&ctx.config.smtp)?;
    loop {
        let due: Vec<Row> = sqlx::query_as(
            "SELECT id, envelope_from, recipients, raw, attempts, message_id FROM mail_outbox \
             WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY id LIMIT 20",
        )
        .bind(now_ms())
        .fetch_all(&ctx.db.pool)
        .await?;
        for row in &due {
            if cancel.is_cancelled() {
                return Ok(());
            }
            match send(&smtp, row).await {
                Ok(()) => {
                    sqlx::query("UPDATE mail_outbox SET state = 'sent', sent_at = $1, attempts = attempts + 1 WHERE id = $2")
                        .bind(now_ms())
                        .bind(row.id)
                        .execute(&ctx.db.pool)
                        .await?;
                    tracing::info!(id = row.id, message_id = %row.message_id, "mail sent");
                }
                Err(e) => fail(&ctx, row, &format!("{e:#}")).await?,
            }
        }
        if due.len() == 20 {
            continue;
        }
        let wait = crate::storage::until_next_attempt(&ctx.db, "mail_outbox").await?;
        tokio::select! {
            _ = ctx.wake.mail_outbox.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = cancel.cancelled() => return Ok(()),
        }
    }
}

async fn send(smtp: &AsyncSmtpTransport<Tokio1Executor>, row: &Row) -> anyhow::Result<()> {
    let from: Option<Address> = if row.envelope_from.is_empty() {
        None
    } else {
        Some(row.envelope_from.parse()?)
    };
    let to: Vec<String> = serde_json::from_str(&row.recipients)?;
    let to = to
        .iter()
        .map(|t| t.parse())
        .collect::<Result<Vec<Address>, _>>()?;
    let envelope = lettre::address::Envelope::new(from, to)?;
    smtp.send_raw(&envelope, &row.raw).await?;
    Ok(())
}

async fn fail(ctx: &Ctx, row: &Row, error: &str) -> anyhow::Result<()> {
    use crate::storage::outbox::{Failed, fail_attempt};
    let max = i64::from(ctx.config.smtp.max_attempts);
    match fail_attempt(
        &ctx.db,
        "mail_outbox",
        row.id,
        row.attempts,
        max,
        2000,
        error,
    )
    .await?
    {
        Failed::Retry => tracing::warn!(id = row.id, error, "SMTP send failed; will retry"),
        Failed::GaveUp {
            quarantine_id,
            attempts,
        } => {
            tracing::error!(id = row.id, error, "giving up on outgoing mail");
            let text = format!(
                "⚠ Outgoing mail {} to {} failed {attempts} times: {error} (quarantine #{quarantine_id})",
                row.message_id, row.recipients
            );
            let room = ctx.config.matrix.management_room.clone();
            ctx.post_notice(&format!("quarantine-{quarantine_id}"), &room, &text)
                .await?;
        }
    }
    Ok(())
}
