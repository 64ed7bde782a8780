//! Taking in an expression of interest: [`prepare`] (pure, run by the mail pipeline under
//! `catch_unwind`) reads the mail; [`record`] stores it inside the pipeline's transaction —
//! the record (created, or merged with the applicant's earlier mail of the same call), its
//! history, the attachments, the acknowledgement mail and the card — so a crash never leaves
//! half an intake.
//!
//! The call: the key of a record is (applicant's email lower-cased, call id). The call is
//! found in the stored calendar ([`calls::find`]): the open call of the EoI's kind for its
//! group(s) at the mail's date (its `Date:` header, or the time of intake when the header is
//! missing or in the future). An EoI outside every open window is recorded as `late` under the
//! most recently closed fitting call (or `none`) and gets a "call closed" reply instead of
//! the acknowledgement. A mail naming neither group nor partnership (a correction) is matched
//! with the groups of the applicant's latest record.
//!
//! Fallback: when the calendar holds no call at all, every EoI is recorded under
//! `applications.call` (default `"default"`) and acknowledged, as before calendars existed.

use mail_parser::{Message, MimeHeaders};
use serde_json::json;

use super::calls::{self, CallMatch};
use super::extract::{self, Application, ExtractConfig, GroupNames, MailKind};
use super::store;
use super::{Applications, Settings, card, replies};
use crate::config::Config;
use crate::outbox::{Key, Report, Tx};
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
    /// The `Date:` header, in ms since the epoch.
    pub sent_at: Option<i64>,
}

/// What [`record`] did, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub id: i64,
    pub created: bool,
    /// An acknowledgement or a "call closed" reply was queued.
    pub acknowledged: bool,
    /// Recorded under this call.
    pub call: String,
    pub late: bool,
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
pub fn prepare(s: &Settings, msg: &Message) -> Option<Prepared> {
    let mut app = extract::extract(msg, &s.extract);
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
    let cap = s.cfg.max_attachment_bytes;
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
        sent_at: msg.date().map(|d| d.to_timestamp() * 1000),
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

impl Applications {
    /// Stores the EoI of inbound mail `mail_id` and queues its acknowledgement and card, all in
    /// `conn` (the pipeline's transaction).
    pub async fn record(
        &self,
        conn: &mut Tx,
        mail_id: i64,
        p: &Prepared,
    ) -> anyhow::Result<Outcome> {
        let cfg = &self.s.cfg;
        let now = now_ms();
        let at = p.sent_at.filter(|d| *d <= now).unwrap_or(now);
        let at = chrono::DateTime::from_timestamp_millis(at).unwrap_or_else(chrono::Utc::now);
        let all_calls = calls::load(conn).await?;
        let (groups, partnership) = match (&p.app.groups, &p.app.partnership) {
            (g, None) if g.is_empty() && !all_calls.is_empty() => {
                match latest_record(conn, &p.email).await? {
                    Some(prev) => (prev.groups, prev.partnership.is_some()),
                    None => (Vec::new(), false),
                }
            }
            (g, pship) => (g.clone(), pship.is_some()),
        };
        let found = calls::find(&all_calls, at, &groups, partnership, self.s.tz);
        let call_key = found.key(&cfg.call).to_string();
        let late = matches!(found, CallMatch::Late { .. });
        let existing = store::find(&mut **conn, &call_key, &p.email).await?;
        let (id, created, changed, last_ack) = match &existing {
            None => {
                let status = if late {
                    "late"
                } else {
                    store::arrival_status(&p.app)
                };
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO eoi (call_key, email, status, record, reply_to, message_id, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
                )
                .bind(&call_key)
                .bind(&p.email)
                .bind(status)
                .bind(serde_json::to_string(&p.app)?)
                .bind(&p.reply_to)
                .bind(p.app.message_id.as_deref())
                .bind(now)
                .fetch_one(&mut **conn)
                .await?;
                store::transition(&mut **conn, id, status, None, now).await?;
                (id, true, true, None)
            }
            Some(old) => {
                let merged = store::merge(&old.record, &p.app);
                let changed = store::changed(&old.record, &merged);
                let status = match old.status.as_str() {
                    "incomplete" | "complete" | "late" if late => "late",
                    "incomplete" | "complete" | "late" => store::arrival_status(&merged),
                    decided => decided,
                };
                if status != old.status {
                    store::transition(&mut **conn, old.id, status, None, now).await?;
                }
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
                .execute(&mut **conn)
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
        .execute(&mut **conn)
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
        .execute(&mut **conn)
        .await?;
        }
        let eoi = store::get(&mut **conn, id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("EoI {id} vanished"))?;

        let period = cfg.ack_period_hours as i64 * 3_600_000;
        let acknowledged = store::should_ack(last_ack, now, period, changed);
        if acknowledged {
            let (key, mail) = match found {
                CallMatch::Late { closed, next } => (
                    Key::CallClosed(mail_id),
                    replies::closed_mail(&self.s, &eoi, closed, next)?,
                ),
                _ => (Key::Ack(mail_id), replies::ack_mail(&self.s, &eoi)?),
            };
            conn.mail(key, &mail, Report::none()).await?;
            sqlx::query("UPDATE eoi SET last_ack_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut **conn)
                .await?;
        }

        let room = self.s.management_room.clone();
        if created {
            let minimal = self.s.minimal_cards;
            let content = card::content_as(&eoi, "Expression of interest", true, minimal);
            conn.post(Key::EoiCard(id), &room, content).await?;
        } else {
            let minimal = self.s.minimal_cards;
            let content = card::content_as(&eoi, "Expression of interest updated", false, minimal);
            let content = match conn.event_id_for(&Key::EoiCard(id)).await? {
                Some(root) => crate::chat::reply_to(content, &root, Some(&root)),
                None => content,
            };
            conn.post(
                Key::EoiUpdate {
                    eoi: id,
                    mail: mail_id,
                },
                &room,
                content,
            )
            .await?;
        }
        Ok(Outcome {
            id,
            created,
            acknowledged,
            call: call_key,
            late,
        })
    }
}

/// The application of the applicant's most recently updated record, any call.
async fn latest_record(
    conn: &mut sqlx::AnyConnection,
    email: &str,
) -> anyhow::Result<Option<Application>> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT record FROM eoi WHERE email = $1 ORDER BY updated_at DESC, id DESC LIMIT 1",
    )
    .bind(email)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.and_then(|(r,)| serde_json::from_str(&r).ok()))
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
