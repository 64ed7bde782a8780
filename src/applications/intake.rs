//! Taking in an expression of interest: [`prepare`] (pure, run by the mail pipeline under
//! `catch_unwind`) reads the mail and decides whose application it is; [`record`] stores it
//! inside the pipeline's transaction — the record (created, or merged with the same sender's
//! earlier mail of the same call), its history, the attachments, the acknowledgement mail and
//! the card — so a crash never leaves half an intake.
//!
//! Whose application ([`attribute`]): the mail belongs to the address that sent it — its From
//! address when that aligns with the envelope sender our server recorded (the topmost
//! `Return-Path`, [`crate::mail::trust::identity`]). Such a mail is the applicant's own: the
//! record's `email` is that address. An address written in the body (`Email: …`) is a contact
//! claim, kept and shown as one; it never picks, changes or reveals another record. Anything
//! else is submitted by someone for the address it names, and recorded apart, with `owner` the
//! submitter: a forward (the forwarded applicant), a web form (From a no-reply robot, the
//! applicant in `Reply-To:`), a mail whose From does not align with its envelope sender (the
//! From address, claimed). A submitted record joins the applicant's own when the applicant
//! writes from that address (the submitter's Matrix id is then dropped) or the secretariat
//! confirms it (`!eoi confirm`).
//!
//! Automatic replies go only to the aligned sender (never to an address named only in a body
//! or a header it could forge), only when `applications.ack_unverified` or our server verified
//! the sender, and within the limits of [`super::limits`].
//!
//! The call: the key of a record is (applicant's email lower-cased, submitter, call id). The
//! call is found in the stored calendar ([`calls::find`]): the open call of the EoI's kind for
//! its group(s) at the mail's date (its `Date:` header, or the time of intake when the header
//! is missing or in the future). An EoI outside every open window is recorded as `late` under
//! the most recently closed fitting call (or `none`) and gets a "call closed" reply instead of
//! the acknowledgement. A mail naming neither group nor partnership (a correction) is matched
//! with the groups of the same sender's latest record.
//!
//! Fallback: when the calendar holds no call at all, every EoI is recorded under
//! `applications.call` (default `"default"`) and acknowledged, as before calendars existed.

use mail_parser::{Message, MimeHeaders};
use serde_json::json;

use super::calls::{self, CallMatch};
use super::extract::{self, Application, ExtractConfig, GroupNames, MailKind};
use super::limits::{self, Allowance};
use super::store::{self, SenderAuth};
use super::{Applications, Settings, card, replies};
use crate::config::Config;
use crate::mail::trust::{self, Envelope, Trust};
use crate::outbox::{Key, MatrixOp, Report, Tx};
use crate::storage::now_ms;

/// An attachment as received, with its content when under the size cap.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: Option<String>,
    pub content_type: String,
    pub size: usize,
    pub content: Option<Vec<u8>>,
}

/// Whose application a mail is, by [`attribute`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    /// The applicant's address, lower-cased: the record's `email`.
    pub email: String,
    /// Empty when the mail is the applicant's own; else the submitting address.
    pub owner: String,
    /// An address the mail only wrote in its body, other than `email`: a contact claim.
    pub contact: Option<String>,
    /// The aligned sender: the only address an automatic reply may go to (none for a robot).
    pub reply_to: Option<String>,
}

/// What the pure stage read from an EoI mail.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub app: Application,
    /// The applicant's address, lower-cased: the record's key with `owner`.
    pub email: String,
    /// Empty when the sender is the applicant; else the submitting address.
    pub owner: String,
    /// An address written only in the body: a contact claim.
    pub contact: Option<String>,
    /// Where an automatic reply may go: the aligned sender, if any.
    pub reply_to: Option<String>,
    /// The sender as our server saw it.
    pub auth: SenderAuth,
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
    /// Why a reply that was due did not go (not aligned, unverified, a limit).
    pub not_acknowledged: Option<String>,
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

/// Reads a human-written mail; `Some` when it is an expression of interest from someone
/// (an aligned From, an envelope sender or a From address).
pub fn prepare(s: &Settings, msg: &Message) -> Option<Prepared> {
    let mut app = extract::extract(msg, &s.extract);
    local_matrix_id(&mut app, msg);
    if app.kind != MailKind::Eoi {
        return None;
    }
    let trust = trust::assess(msg, &s.authserv_ids);
    let who = attribute(&app, &trust, &s.extract)?;
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
        email: who.email,
        owner: who.owner,
        contact: who.contact,
        reply_to: who.reply_to,
        auth: sender_auth(&trust),
        attachments,
        sent_at: msg.date().map(|d| d.to_timestamp() * 1000),
    })
}

/// Whose application a mail is (rules in the module documentation); `None` when nobody can
/// be named: no From address and no envelope sender.
pub fn attribute(app: &Application, t: &Trust, cfg: &ExtractConfig) -> Option<Attribution> {
    let lower = |m: &trust::Mailbox| m.to_string().to_lowercase();
    let from = t.identity.from.as_ref().map(lower);
    let aligned = from.clone().filter(|_| t.identity.alignment.is_aligned());
    let envelope = match &t.identity.envelope {
        Envelope::Address(m) => Some(lower(m)),
        _ => None,
    };
    // Who sent it: the aligned From, else the envelope sender our server recorded, else From.
    let sender = aligned.clone().or(envelope).or_else(|| from.clone())?;
    let robot = from.as_deref().is_some_and(|f| extract::is_robot(f, cfg));
    let named = app.email.clone().map(|e| e.to_lowercase());
    let reply_to = aligned.clone().filter(|_| !robot);
    if app.forwarded_by.is_none() && !robot && aligned.is_some() {
        let email = sender;
        return Some(Attribution {
            contact: named.filter(|n| *n != email),
            owner: String::new(),
            reply_to,
            email,
        });
    }
    // Submitted for someone: the forward's applicant, the web form's `Reply-To:` person, or
    // the From address of a mail that does not align with its envelope sender.
    let (email, contact) = if app.forwarded_by.is_some() || robot {
        (named.unwrap_or_else(|| sender.clone()), None)
    } else {
        let claimed = from.unwrap_or_else(|| sender.clone());
        let contact = named.filter(|n| *n != claimed);
        (claimed, contact)
    };
    // Forwarding one's own mail from the same address is still one's own.
    let owner = if aligned.as_deref() == Some(email.as_str()) {
        String::new()
    } else {
        sender
    };
    Some(Attribution {
        email,
        owner,
        contact,
        reply_to,
    })
}

/// The sender as our server saw it, for the record.
pub fn sender_auth(t: &Trust) -> SenderAuth {
    let alignment = match t.identity.alignment {
        trust::Alignment::Exact => "exact",
        trust::Alignment::Relaxed => "relaxed",
        trust::Alignment::Unaligned => "unaligned",
    };
    let results = t
        .results
        .iter()
        .flat_map(|r| r.results.iter())
        .filter(|r| matches!(r.method.as_str(), "spf" | "dkim" | "dmarc"))
        .map(|r| {
            let mut text = format!("{}={}", r.method, r.result);
            for (name, value) in &r.properties {
                text.push_str(&format!(" {name}={value}"));
            }
            text
        })
        .collect();
    SenderAuth {
        alignment: alignment.into(),
        envelope: t.identity.envelope.to_string(),
        verdict: t.verdict.to_string(),
        verified: t.verdict.is_verified(),
        results,
    }
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
                match latest_record(conn, &p.email, &p.owner).await? {
                    Some(prev) => (prev.groups, prev.partnership.is_some()),
                    None => (Vec::new(), false),
                }
            }
            (g, pship) => (g.clone(), pship.is_some()),
        };
        let found = calls::find(&all_calls, at, &groups, partnership, self.s.tz);
        let call_key = found.key(&cfg.call).to_string();
        let late = matches!(found, CallMatch::Late { .. });
        let mut existing = store::find(&mut **conn, &call_key, &p.email, &p.owner).await?;
        let mut notes = Vec::new();
        let apart;
        let p = if p.owner.is_empty()
            && !p.auth.verified
            && existing
                .as_ref()
                .and_then(|e| e.sender_auth.as_ref())
                .is_some_and(|a| a.verified)
        {
            // Our server verified the applicant's mail before: an unverified one in their name
            // may be forged. Recorded apart, never merged into theirs nor answered.
            apart = Prepared {
                owner: p.email.clone(),
                reply_to: None,
                ..p.clone()
            };
            existing = store::find(&mut **conn, &call_key, &apart.email, &apart.owner).await?;
            notes.push(format!(
                "An unverified mail in the name of {}, whose application our server verified \
                 before: recorded apart, not merged and not answered.",
                crate::markup::escape_markdown_line(&apart.email)
            ));
            &apart
        } else {
            p
        };
        // The applicant writes from an address aligned senders submitted for (a colleague's
        // forward): those submissions join the applicant's own record (the oldest becomes it
        // when there is none yet). Unaligned, unverified and web-form submissions wait for
        // `!eoi confirm`: nobody vouched for their sender.
        let mut pending = if p.owner.is_empty() {
            store::submitted_for(conn, &call_key, &p.email).await?
        } else {
            Vec::new()
        };
        if existing.is_none() && !pending.is_empty() {
            let first = pending.remove(0);
            let mut record = first.record.clone();
            // Only the record's identity may be invited: a Matrix id the submitter wrote goes.
            record.matrix_id = None;
            store::adopt(conn, &first, &record, now).await?;
            notes.push(format!(
                "The applicant wrote from {}: the application submitted by {} is now their own.",
                crate::markup::escape_markdown_line(&first.email),
                crate::markup::escape_markdown_line(first.submitter().unwrap_or_default()),
            ));
            existing = store::get(&mut **conn, first.id).await?;
        }
        let auth = serde_json::to_string(&p.auth)?;
        let reply_to = p.reply_to.clone().unwrap_or_default();
        let (id, created, changed, last_ack) = match &existing {
            None => {
                let status = if late {
                    "late"
                } else {
                    store::arrival_status(&p.app)
                };
                let submitted_by = (!p.owner.is_empty()).then_some(p.owner.as_str());
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO eoi (call_key, email, owner, status, record, reply_to, \
                     message_id, created_at, updated_at, submitted_by, contact, sender_auth) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11) RETURNING id",
                )
                .bind(&call_key)
                .bind(&p.email)
                .bind(&p.owner)
                .bind(status)
                .bind(serde_json::to_string(&p.app)?)
                .bind(&reply_to)
                .bind(p.app.message_id.as_deref())
                .bind(now)
                .bind(submitted_by)
                .bind(p.contact.as_deref())
                .bind(&auth)
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
                     updated_at = $5, contact = $6, sender_auth = $7 WHERE id = $8",
                )
                .bind(status)
                .bind(serde_json::to_string(&merged)?)
                .bind(&reply_to)
                .bind(p.app.message_id.as_deref())
                .bind(now)
                .bind(p.contact.as_deref().or(old.contact.as_deref()))
                .bind(&auth)
                .bind(old.id)
                .execute(&mut **conn)
                .await?;
                (old.id, false, changed, old.last_ack_at)
            }
        };
        sqlx::query(
            "INSERT INTO eoi_history (eoi_id, inbound_mail_id, extracted, received_at, \
             sender_auth) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(mail_id)
        .bind(serde_json::to_string(&p.app)?)
        .bind(now)
        .bind(&auth)
        .execute(&mut **conn)
        .await?;
        for a in &p.attachments {
            sqlx::query(
                "INSERT INTO eoi_attachment (eoi_id, inbound_mail_id, filename, content_type, \
                 size, content, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
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
        for other in &pending {
            self.join_into(conn, other, id, false, now).await?;
            notes.push(format!(
                "Application #{} submitted by {} joined this one: the applicant wrote from {}.",
                other.id,
                crate::markup::escape_markdown_line(other.submitter().unwrap_or_default()),
                crate::markup::escape_markdown_line(&other.email),
            ));
        }
        let eoi = store::get(&mut **conn, id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("EoI {id} vanished"))?;

        let period = cfg.ack_period_hours as i64 * 3_600_000;
        let due = store::should_ack(last_ack, now, period, changed);
        let (acknowledged, not_acknowledged) = if due {
            self.acknowledge(conn, mail_id, p, &eoi, &found, now)
                .await?
        } else {
            (false, None)
        };
        if let Some(why) = &not_acknowledged {
            notes.push(format!("Not acknowledged: {why}."));
        }

        let room = self.s.management_room.clone();
        let root = conn.event_id_for(&Key::EoiCard(id)).await?;
        let key = if created {
            let content = card::content_as(&self.s, &eoi, "Expression of interest", true, &notes);
            conn.post(Key::EoiCard(id), &room, content).await?;
            Key::EoiCard(id)
        } else {
            let content = card::content_as(
                &self.s,
                &eoi,
                "Expression of interest updated",
                false,
                &notes,
            );
            let content = match &root {
                Some(root) => crate::chat::reply_to(content, root, Some(root)),
                None => content,
            };
            let key = Key::EoiUpdate {
                eoi: id,
                mail: mail_id,
            };
            conn.post(key.clone(), &room, content).await?;
            key
        };
        if card::is_cut(&eoi) {
            // What the card had to cut, whole, as a file beside it (in its thread once known).
            let op = MatrixOp::Upload {
                room: room.clone(),
                filename: format!("application-{id}.txt"),
                content_type: "text/plain; charset=utf-8".into(),
                thread_root: root,
            };
            let text = card::full_text(&eoi);
            conn.matrix(
                Key::Overflow(Box::new(key)),
                op,
                Some(text.as_bytes()),
                Report::none(),
            )
            .await?;
        }
        Ok(Outcome {
            id,
            created,
            acknowledged,
            not_acknowledged,
            call: call_key,
            late,
        })
    }

    /// Queues the acknowledgement (or the "call closed" reply) of `eoi` when it may go:
    /// only to the aligned sender, only for a verified sender unless
    /// `applications.ack_unverified`, and within the limits. Returns whether it was queued,
    /// and why not.
    async fn acknowledge(
        &self,
        conn: &mut Tx,
        mail_id: i64,
        p: &Prepared,
        eoi: &store::Eoi,
        found: &CallMatch<'_>,
        now: i64,
    ) -> anyhow::Result<(bool, Option<String>)> {
        let cfg = &self.s.cfg;
        let Some(to) = p.reply_to.as_deref() else {
            return Ok((
                false,
                Some("no sender aligned with the envelope to reply to".into()),
            ));
        };
        if !p.auth.verified && !cfg.ack_unverified {
            return Ok((
                false,
                Some("the sender is unverified (applications.ack_unverified = false)".into()),
            ));
        }
        let kind = if matches!(found, CallMatch::Late { .. }) {
            "closed"
        } else {
            "ack"
        };
        match limits::admit(conn, cfg, to, mail_id, kind, now).await? {
            Allowance::Send => {}
            Allowance::Suppressed { limit, first } => {
                tracing::info!(mail_id, ?limit, "automatic reply suppressed by a limit");
                if first {
                    let text = limits::notice(cfg, limit, &crate::markup::plain_text(to));
                    let room = self.s.management_room.clone();
                    conn.post(Key::ReplyLimit(mail_id), &room, crate::chat::notice(&text))
                        .await?;
                }
                let which = match limit {
                    limits::Limit::Address => "applications.replies_per_address_per_day",
                    limits::Limit::Hourly => "applications.replies_per_hour",
                };
                return Ok((
                    false,
                    Some(format!("automatic replies are at their limit ({which})")),
                ));
            }
        }
        let (key, mail) = match found {
            CallMatch::Late { closed, next } => (
                Key::CallClosed(mail_id),
                replies::closed_mail(&self.s, eoi, *closed, *next)?,
            ),
            _ => (Key::Ack(mail_id), replies::ack_mail(&self.s, eoi)?),
        };
        conn.mail(key, &mail, Report::none()).await?;
        sqlx::query("UPDATE eoi SET last_ack_at = $1 WHERE id = $2")
            .bind(now)
            .bind(eoi.id)
            .execute(&mut **conn)
            .await?;
        Ok((true, None))
    }

    /// Joins submitted record `from` into the applicant's own record `into` (what the
    /// applicant stated wins) and says so in the submitted card's thread.
    pub(super) async fn join_into(
        &self,
        conn: &mut Tx,
        from: &store::Eoi,
        into: i64,
        keep_matrix_id: bool,
        now: i64,
    ) -> anyhow::Result<()> {
        let own = store::get(&mut **conn, into)
            .await?
            .ok_or_else(|| anyhow::anyhow!("EoI {into} vanished"))?;
        let record = store::joined(&from.record, &own.record, keep_matrix_id);
        store::join(conn, from.id, into, &record, now).await?;
        let text = format!(
            "Application #{} is joined into #{into}, the applicant's own; see it there.",
            from.id
        );
        let mut content = crate::chat::notice(&text);
        if let Some(root) = conn.event_id_for(&Key::EoiCard(from.id)).await? {
            content = crate::chat::reply_to(content, &root, Some(&root));
        }
        let room = self.s.management_room.clone();
        conn.post(Key::EoiJoined { eoi: from.id, into }, &room, content)
            .await?;
        Ok(())
    }
}

/// The application of the same sender's most recently updated record for `email`, any call.
async fn latest_record(
    conn: &mut sqlx::AnyConnection,
    email: &str,
    owner: &str,
) -> anyhow::Result<Option<Application>> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT record FROM eoi WHERE email = $1 AND owner = $2 \
         ORDER BY updated_at DESC, id DESC LIMIT 1",
    )
    .bind(email)
    .bind(owner)
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
