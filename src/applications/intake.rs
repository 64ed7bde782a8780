//! Taking in an expression of interest: [`prepare`] (pure, run by the mail pipeline under
//! `catch_unwind`) reads the mail; [`record`] stores it inside the pipeline's transaction —
//! the record (created, or merged with the applicant's earlier mail of the same call), its
//! history, the attachments, the acknowledgement mail and the card — so a crash never leaves
//! half an intake.
//!
//! The call: every EoI is recorded under `applications.call` (default `"default"`); there is
//! no per-group call window yet. The key of a record is the applicant's email, lower-cased.

use mail_parser::{Message, MimeHeaders};
use serde_json::json;

use super::extract::{self, Application, ExtractConfig, GroupNames, MailKind};
use super::store::{self, Eoi};
use super::{card, templates};
use crate::app::Ctx;
use crate::config::Config;
use crate::mail::outbox::{self as mail_outbox, OutMail};
use crate::matrix::outbox::{self, Post};
use crate::storage::now_ms;

/// An attachment as received, with its content when under the size cap.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: Option<String>,
    pub content_type: String,
    pub size: usize,
    pub content: Option<Vec<u8>>,
}

/// What the pure stage read from an EoI mail.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub app: Application,
    /// The applicant's address, lower-cased: the record's key.
    pub email: String,
    /// Where the acknowledgement goes: the envelope sender (Return-Path), else From.
    pub reply_to: String,
    pub attachments: Vec<Attachment>,
}

/// What [`record`] did, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub id: i64,
    pub created: bool,
    pub acknowledged: bool,
}

/// The extractor's view of this deployment: configured groups (with the built-in aliases)
/// and our own address.
pub fn extract_config(config: &Config) -> ExtractConfig {
    let groups = config
        .groups
        .iter()
        .map(|g| GroupNames {
            slug: g.slug.clone(),
            names: std::iter::once(g.name.clone())
                .chain(g.aliases.iter().cloned())
                .collect(),
        })
        .collect();
    let mut cfg = ExtractConfig::with_default_aliases(groups);
    cfg.own_addresses = vec![config.mailbox.address.clone()];
    cfg
}

/// Reads a human-written mail; `Some` when it is an expression of interest with an address.
pub fn prepare(config: &Config, msg: &Message) -> Option<Prepared> {
    let mut app = extract::extract(msg, &extract_config(config));
    local_matrix_id(&mut app, msg);
    if app.kind != MailKind::Eoi {
        return None;
    }
    let sender = msg
        .return_address()
        .map(|a| {
            a.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
        .filter(|a| a.contains('@'));
    let email = app.email.clone().or_else(|| sender.clone())?.to_lowercase();
    let reply_to = sender.unwrap_or_else(|| email.clone());
    let cap = config.applications.max_attachment_bytes;
    let attachments = msg
        .attachments()
        .map(|part| {
            let content_type = part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_string(),
                })
                .unwrap_or_else(|| "application/octet-stream".into())
                .to_lowercase();
            let bytes = part.contents();
            Attachment {
                filename: part.attachment_name().map(str::to_string),
                content_type,
                size: bytes.len(),
                content: (bytes.len() as u64 <= cap).then(|| bytes.to_vec()),
            }
        })
        .collect();
    Some(Prepared {
        app,
        email,
        reply_to,
        attachments,
    })
}

/// The extractor accepts only Matrix ids on a dotted server name; a labelled
/// "Matrix …: @user:host" on a single-label host (`localhost`, an intranet name) is taken too.
fn local_matrix_id(app: &mut Application, msg: &Message) {
    static LABELLED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?im)^[ \t]*matrix[^:\n]{0,20}:[ \t]*(@[a-z0-9._=/+-]+:[a-z0-9-]+(?::\d{1,5})?)[ \t.\r]*$")
            .expect("valid regex")
    });
    if app.matrix_id.is_none()
        && let Some(text) = msg.body_text(0)
    {
        app.matrix_id = LABELLED.captures(&text).map(|c| c[1].to_string());
    }
}

/// A Message-ID in angle brackets, as In-Reply-To and References want it.
pub fn bracketed(id: &str) -> String {
    if id.starts_with('<') {
        id.to_string()
    } else {
        format!("<{id}>")
    }
}

/// Stores the EoI of inbound mail `mail_id` and queues its acknowledgement and card, all on
/// `conn` (the pipeline's transaction).
pub async fn record(
    conn: &mut sqlx::AnyConnection,
    ctx: &Ctx,
    mail_id: i64,
    p: &Prepared,
) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config.applications;
    let now = now_ms();
    let existing = store::find(&mut *conn, &cfg.call, &p.email).await?;
    let (id, created, changed, last_ack) = match &existing {
        None => {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO eoi (call_key, email, status, record, reply_to, message_id, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
            )
            .bind(&cfg.call)
            .bind(&p.email)
            .bind(store::arrival_status(&p.app))
            .bind(serde_json::to_string(&p.app)?)
            .bind(&p.reply_to)
            .bind(p.app.message_id.as_deref())
            .bind(now)
            .fetch_one(&mut *conn)
            .await?;
            (id, true, true, None)
        }
        Some(old) => {
            let merged = store::merge(&old.record, &p.app);
            let changed = store::changed(&old.record, &merged);
            let status = if matches!(old.status.as_str(), "incomplete" | "complete") {
                store::arrival_status(&merged)
            } else {
                old.status.as_str()
            };
            sqlx::query(
                "UPDATE eoi SET status = $1, record = $2, reply_to = $3, message_id = $4, \
                 updated_at = $5 WHERE id = $6",
            )
            .bind(status)
            .bind(serde_json::to_string(&merged)?)
            .bind(&p.reply_to)
            .bind(p.app.message_id.as_deref())
            .bind(now)
            .bind(old.id)
            .execute(&mut *conn)
            .await?;
            (old.id, false, changed, old.last_ack_at)
        }
    };
    sqlx::query(
        "INSERT INTO eoi_history (eoi_id, inbound_mail_id, extracted, received_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(mail_id)
    .bind(serde_json::to_string(&p.app)?)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    for a in &p.attachments {
        sqlx::query(
            "INSERT INTO eoi_attachment (eoi_id, inbound_mail_id, filename, content_type, size, \
             content, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(mail_id)
        .bind(a.filename.as_deref())
        .bind(&a.content_type)
        .bind(a.size as i64)
        .bind(a.content.clone())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    let eoi = store::get(&mut *conn, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("EoI {id} vanished"))?;

    let period = cfg.ack_period_hours as i64 * 3_600_000;
    let acknowledged = store::should_ack(last_ack, now, period, changed);
    if acknowledged {
        let mail = ack_mail(ctx, &eoi, mail_id)?;
        mail_outbox::enqueue(&mut *conn, &ctx.config.smtp, &mail).await?;
        sqlx::query("UPDATE eoi SET last_ack_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }

    let room = &ctx.config.matrix.management_room;
    let post = if created {
        Post::message(
            card::card_key(id),
            room,
            card::content(&eoi, "Expression of interest", true),
        )
    } else {
        let content = card::content(&eoi, "Expression of interest updated", false);
        let card_event: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT event_id FROM matrix_outbox WHERE source = $1 ORDER BY id LIMIT 1",
        )
        .bind(card::card_key(id))
        .fetch_optional(&mut *conn)
        .await?;
        let content = match card_event.and_then(|r| r.0) {
            Some(root) => crate::matrix::reply_to(content, &root, Some(&root)),
            None => content,
        };
        Post::message(format!("eoi-update-{id}-{mail_id}"), room, content)
    };
    outbox::enqueue(&mut *conn, &ctx.install_id, &post).await?;
    Ok(Outcome {
        id,
        created,
        acknowledged,
    })
}

/// The acknowledgement: in the applicant's language, what was received and what is missing;
/// RFC 3834 auto-reply to the sender, in reply to their mail.
fn ack_mail(ctx: &Ctx, e: &Eoi, mail_id: i64) -> anyhow::Result<OutMail> {
    let r = &e.record;
    let lang = r.language.as_str();
    let mut received = Vec::new();
    let mut add = |field: &str, value: Option<String>| {
        if let Some(v) = value {
            received.push(format!("- {}: {v}", templates::field_label(field, lang)));
        }
    };
    add("name", r.name.clone());
    add("email", Some(e.email.clone()));
    add("organisation", r.organisation.clone());
    add("country", r.country.clone());
    add("region", r.region.clone());
    add("group", (!r.groups.is_empty()).then(|| r.groups.join(", ")));
    add("partnership", r.partnership.clone());
    add("role", card::role_name(r));
    add("motivation", r.motivation.as_ref().map(|_| "✓".to_string()));
    add("matrix_id", r.matrix_id.clone());
    let files: Vec<&str> = r
        .attachments
        .iter()
        .filter_map(|a| a.filename.as_deref())
        .collect();
    add("attachments", (!files.is_empty()).then(|| files.join(", ")));
    let missing = if r.missing.is_empty() {
        templates::nothing(lang).to_string()
    } else {
        r.missing
            .iter()
            .map(|m| format!("- {}", templates::field_label(m, lang)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let id = e.id.to_string();
    let name = r.name.clone().unwrap_or_default();
    let received = received.join("\n");
    let rendered = templates::mail(
        ctx.config.applications.templates.as_deref(),
        "ack",
        lang,
        &[
            ("id", &id),
            ("name", &name),
            ("received", &received),
            ("missing", &missing),
        ],
    )?;
    Ok(OutMail {
        dedup_key: format!("eoi-ack-{mail_id}"),
        to: vec![e.reply_to.clone()],
        subject: rendered.subject,
        text: rendered.body,
        in_reply_to: r.message_id.as_deref().map(bracketed),
        references: r.message_id.as_deref().map(bracketed).into_iter().collect(),
        auto_submitted: Some("auto-replied"),
        calendar: None,
    })
}

/// The JSON `convene eoi parse` prints: what the daemon would store.
pub fn parse_json(config: &Config, raw: &[u8]) -> anyhow::Result<serde_json::Value> {
    let mut app = extract::parse_eml(raw, &extract_config(config))?;
    if let Some(msg) = mail_parser::MessageParser::default().parse(raw) {
        local_matrix_id(&mut app, &msg);
    }
    Ok(json!(app))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_matrix_ids_and_brackets() {
        let raw = b"From: a@x.test\r\nSubject: Expression of interest\r\n\r\nName: A\r\nMatrix id: @ann:localhost\r\n";
        let msg = mail_parser::MessageParser::default()
            .parse(&raw[..])
            .unwrap();
        let mut app = extract::extract(&msg, &ExtractConfig::default());
        local_matrix_id(&mut app, &msg);
        assert_eq!(app.matrix_id.as_deref(), Some("@ann:localhost"));
        assert_eq!(bracketed("m1@x"), "<m1@x>");
        assert_eq!(bracketed("<m1@x>"), "<m1@x>");
    }
}
