//! The EoI tables (`migrations/*/0002_applications.sql`, 0005, 0008): one record per
//! applicant email, submitter and call (`eoi`), every extraction that built it
//! (`eoi_history`) and the attachments (`eoi_attachment`), each status it went through
//! (`eoi_transition`), plus the pure rules: merging a correction, joining a submitted record
//! into the applicant's own, whether an application changed, the status on arrival,
//! acknowledgement throttling.
//!
//! Whose record: `owner` is empty for the applicant's own record — every mail that built it
//! came from `email`, aligned with its envelope sender — and holds the submitting address
//! otherwise (a forward, a web form, a sender whose From and envelope do not align). A
//! submitted record joins the applicant's own only when the applicant writes from `email`
//! or the secretariat confirms it (`!eoi confirm`); until then it is refused decisions.
//!
//! Statuses: `incomplete` or `complete` on arrival within an open call, `late` on arrival
//! outside every open call window, then `under_review`, `accepted`, `declined`, `waitlisted`.

use serde::{Deserialize, Serialize};
use sqlx::Any;

use super::extract::Application;
use crate::storage::Db;

/// Every status, in review order.
pub const STATUSES: &[&str] = &[
    "incomplete",
    "complete",
    "late",
    "under_review",
    "accepted",
    "declined",
    "waitlisted",
];

/// Who sent a mail, as far as our own server can tell: stored with the record (the latest
/// mail's) and with each mail of its history. Every text in it came from mail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderAuth {
    /// How the envelope sender relates to From: `exact`, `relaxed` or `unaligned`.
    pub alignment: String,
    /// The envelope sender our server recorded, as shown (`<a@b>`, `<>`, `(no Return-Path)`).
    pub envelope: String,
    /// `verified (DMARC)`, `unverified`, `unknown (no results from our server)`.
    pub verdict: String,
    pub verified: bool,
    /// The SPF, DKIM and DMARC results of our server's `Authentication-Results`
    /// (`spf=pass smtp.mailfrom=…`); empty when there was none.
    pub results: Vec<String>,
}

impl SenderAuth {
    /// What the card says of the sender: `verified (DMARC)` or `unverified (…)`.
    pub fn summary(&self) -> String {
        if self.verified {
            return self.verdict.clone();
        }
        let mut why = Vec::new();
        if self.results.is_empty() {
            why.push("no results from our server".to_string());
        } else {
            why.push(self.results.join(", "));
        }
        if self.alignment == "unaligned" {
            why.push(format!("From not aligned with envelope {}", self.envelope));
        }
        format!("unverified ({})", why.join("; "))
    }
}

/// An application as stored; `record` is the merged extraction.
#[derive(Debug, Clone)]
pub struct Eoi {
    pub id: i64,
    pub call_key: String,
    /// The applicant's address: for the applicant's own record, the address every mail of it
    /// came from; for a submitted one, the address the submission named.
    pub email: String,
    /// Empty for the applicant's own record; else the address that submitted it.
    pub owner: String,
    pub status: String,
    pub record: Application,
    /// Where automatic replies go: the aligned sender of the latest mail, empty for none.
    pub reply_to: String,
    /// Message-ID of the latest mail, for In-Reply-To.
    pub message_id: Option<String>,
    /// Set on acceptance: the group and the role granted.
    pub group_slug: Option<String>,
    pub decided_role: Option<String>,
    /// How many decisions were taken (numbers each decision mail).
    pub decisions: i64,
    pub last_ack_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Who submitted it, kept after it became the applicant's own.
    pub submitted_by: Option<String>,
    /// An address the mails only wrote in their body: a contact claim, never an identity.
    pub contact: Option<String>,
    /// The latest mail's sender, as our server saw it.
    pub sender_auth: Option<SenderAuth>,
    /// The applicant's own record this submitted one was joined into.
    pub joined_into: Option<i64>,
}

impl Eoi {
    /// The applicant's own record: its identity is the address its mails came from.
    pub fn is_own(&self) -> bool {
        self.owner.is_empty()
    }

    /// Who submitted it for the applicant, if someone else did.
    pub fn submitter(&self) -> Option<&str> {
        if self.owner.is_empty() {
            self.submitted_by.as_deref()
        } else {
            Some(&self.owner)
        }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    call_key: String,
    email: String,
    owner: String,
    status: String,
    record: String,
    reply_to: String,
    message_id: Option<String>,
    group_slug: Option<String>,
    decided_role: Option<String>,
    decisions: i64,
    last_ack_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    submitted_by: Option<String>,
    contact: Option<String>,
    sender_auth: Option<String>,
    joined_into: Option<i64>,
}

const COLUMNS: &str = "id, call_key, email, owner, status, record, reply_to, message_id, \
                       group_slug, decided_role, decisions, last_ack_at, created_at, updated_at, \
                       submitted_by, contact, sender_auth, joined_into";

impl TryFrom<Row> for Eoi {
    type Error = anyhow::Error;
    fn try_from(r: Row) -> anyhow::Result<Eoi> {
        Ok(Eoi {
            record: serde_json::from_str(&r.record)?,
            id: r.id,
            call_key: r.call_key,
            email: r.email,
            owner: r.owner,
            status: r.status,
            reply_to: r.reply_to,
            message_id: r.message_id,
            group_slug: r.group_slug,
            decided_role: r.decided_role,
            decisions: r.decisions,
            last_ack_at: r.last_ack_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            submitted_by: r.submitted_by,
            contact: r.contact,
            // Unreadable (written by a later version): shown as unknown, never as verified.
            sender_auth: r.sender_auth.and_then(|s| serde_json::from_str(&s).ok()),
            joined_into: r.joined_into,
        })
    }
}

/// The record of `email` in `call` owned by `owner` (`""`: the applicant's own).
pub async fn find<'e, E>(ex: E, call: &str, email: &str, owner: &str) -> anyhow::Result<Option<Eoi>>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let sql =
        format!("SELECT {COLUMNS} FROM eoi WHERE call_key = $1 AND email = $2 AND owner = $3");
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(call)
        .bind(email)
        .bind(owner)
        .fetch_optional(ex)
        .await?;
    row.map(Eoi::try_from).transpose()
}

/// The records aligned senders (a forward's sender, not a robot or an unaligned or
/// unverified sender: their `reply_to` is empty) submitted for `email` in `call` that were
/// not joined yet, oldest first.
pub async fn submitted_for(
    conn: &mut sqlx::AnyConnection,
    call: &str,
    email: &str,
) -> anyhow::Result<Vec<Eoi>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM eoi WHERE call_key = $1 AND email = $2 AND owner <> '' \
         AND owner <> email AND reply_to <> '' AND joined_into IS NULL ORDER BY id"
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(call)
        .bind(email)
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter().map(Eoi::try_from).collect()
}

/// Makes submitted record `e` the applicant's own (no own record exists): `owner` becomes
/// empty, `submitted_by` keeps who submitted it, and the record becomes `record`.
pub async fn adopt(
    conn: &mut sqlx::AnyConnection,
    e: &Eoi,
    record: &Application,
    now: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE eoi SET owner = '', submitted_by = $1, record = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(e.submitter())
    .bind(serde_json::to_string(record)?)
    .bind(now)
    .bind(e.id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Joins submitted record `from` into the applicant's own record `into`, whose application
/// becomes `record`; `from` stays, pointing at `into`, and leaves the lists.
pub async fn join(
    conn: &mut sqlx::AnyConnection,
    from: i64,
    into: i64,
    record: &Application,
    now: i64,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE eoi SET record = $1, updated_at = $2 WHERE id = $3")
        .bind(serde_json::to_string(record)?)
        .bind(now)
        .bind(into)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE eoi SET joined_into = $1, updated_at = $2 WHERE id = $3")
        .bind(into)
        .bind(now)
        .bind(from)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn get<'e, E>(ex: E, id: i64) -> anyhow::Result<Option<Eoi>>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let sql = format!("SELECT {COLUMNS} FROM eoi WHERE id = $1");
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(ex)
        .await?;
    row.map(Eoi::try_from).transpose()
}

/// Every record not joined into another, oldest first, optionally of one group (named in the
/// application or granted) and one status.
pub async fn list(db: &Db, group: Option<&str>, status: Option<&str>) -> anyhow::Result<Vec<Eoi>> {
    let sql = format!("SELECT {COLUMNS} FROM eoi WHERE joined_into IS NULL ORDER BY id");
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(&db.pool)
        .await?;
    let mut out = Vec::new();
    for row in rows {
        let e = Eoi::try_from(row)?;
        let in_group = group.is_none_or(|g| {
            e.group_slug.as_deref() == Some(g) || e.record.groups.iter().any(|s| s == g)
        });
        if in_group && status.is_none_or(|s| e.status == s) {
            out.push(e);
        }
    }
    Ok(out)
}

/// How many records are in each status (for `/metrics`).
pub async fn count_by_status(db: &Db) -> anyhow::Result<Vec<(String, i64)>> {
    Ok(
        sqlx::query_as("SELECT status, COUNT(*) FROM eoi GROUP BY status ORDER BY status")
            .fetch_all(&db.pool)
            .await?,
    )
}

/// Accepted (members, leaders) of a group's core team; experts are not counted.
pub async fn team_size<'e, E>(ex: E, group: &str) -> anyhow::Result<(u32, u32)>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let rows: Vec<(Option<String>,)> = sqlx::query_as(
        "SELECT decided_role FROM eoi WHERE status = 'accepted' AND group_slug = $1",
    )
    .bind(group)
    .fetch_all(ex)
    .await?;
    let leaders = rows
        .iter()
        .filter(|r| r.0.as_deref() == Some("leader"))
        .count() as u32;
    let members = rows
        .iter()
        .filter(|r| r.0.as_deref() != Some("expert"))
        .count() as u32;
    Ok((members, leaders))
}

/// Attachment names, types and sizes of a record (never the content).
pub async fn attachments(
    db: &Db,
    id: i64,
) -> anyhow::Result<Vec<(Option<String>, String, i64, bool)>> {
    let rows: Vec<(Option<String>, String, i64, i64)> = sqlx::query_as(
        "SELECT filename, content_type, size, CASE WHEN content IS NULL THEN 0 ELSE 1 END \
         FROM eoi_attachment WHERE eoi_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(f, t, s, kept)| (f, t, s, kept == 1))
        .collect())
}

/// Notes that record `id` went to `status` (`actor`: who, `None` for the intake).
pub async fn transition<'e, E>(
    ex: E,
    id: i64,
    status: &str,
    actor: Option<&str>,
    at: i64,
) -> anyhow::Result<()>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    sqlx::query("INSERT INTO eoi_transition (eoi_id, status, actor, at) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(status)
        .bind(actor)
        .bind(at)
        .execute(ex)
        .await?;
    Ok(())
}

/// The statuses record `id` went through, oldest first: (status, actor, at in ms).
pub async fn transitions(db: &Db, id: i64) -> anyhow::Result<Vec<(String, Option<String>, i64)>> {
    Ok(
        sqlx::query_as(
            "SELECT status, actor, at FROM eoi_transition WHERE eoi_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&db.pool)
        .await?,
    )
}

/// How many mails built the record.
pub async fn history_len(db: &Db, id: i64) -> anyhow::Result<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM eoi_history WHERE eoi_id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await?;
    Ok(n)
}

/// A correction over the record: what the new mail states wins, what it does not repeat is
/// kept; a field is missing only when neither mail gave it; attachments accumulate (a file
/// with the same name, type and size counts once).
pub fn merge(old: &Application, new: &Application) -> Application {
    fn pick<T: Clone>(new: &Option<T>, old: &Option<T>) -> Option<T> {
        new.clone().or_else(|| old.clone())
    }
    let mut attachments = old.attachments.clone();
    for a in &new.attachments {
        // The same file sent again is not a new attachment.
        if !attachments.contains(a) {
            attachments.push(a.clone());
        }
    }
    Application {
        kind: new.kind.clone(),
        language: new.language.clone(),
        name: pick(&new.name, &old.name),
        email: pick(&new.email, &old.email),
        organisation: pick(&new.organisation, &old.organisation),
        stakeholder_type: pick(&new.stakeholder_type, &old.stakeholder_type),
        country: pick(&new.country, &old.country),
        region: pick(&new.region, &old.region),
        groups: if new.groups.is_empty() {
            old.groups.clone()
        } else {
            new.groups.clone()
        },
        partnership: pick(&new.partnership, &old.partnership),
        role: pick(&new.role, &old.role),
        motivation: pick(&new.motivation, &old.motivation),
        matrix_id: pick(&new.matrix_id, &old.matrix_id),
        attachments,
        forwarded_by: pick(&new.forwarded_by, &old.forwarded_by),
        is_correction: new.is_correction,
        missing: old
            .missing
            .iter()
            .filter(|m| new.missing.contains(m))
            .cloned()
            .collect(),
        subject: pick(&new.subject, &old.subject),
        message_id: pick(&new.message_id, &old.message_id),
    }
}

/// The application of a submitted record joined with the applicant's own: what the applicant
/// stated wins, the submission fills the gaps. The submitter's Matrix id is kept only when
/// `keep_matrix_id` (the secretariat confirmed the submission); otherwise only a Matrix id
/// the applicant gave counts, since only the record's identity may be invited.
pub fn joined(submitted: &Application, own: &Application, keep_matrix_id: bool) -> Application {
    let mut out = merge(submitted, own);
    if !keep_matrix_id {
        out.matrix_id = own.matrix_id.clone();
    }
    out
}

/// Whether the application itself differs (not the mail it came in).
pub fn changed(old: &Application, new: &Application) -> bool {
    let key = |a: &Application| {
        (
            a.name.clone(),
            a.email.clone(),
            a.organisation.clone(),
            a.stakeholder_type.clone(),
            a.country.clone(),
            a.region.clone(),
            a.groups.clone(),
            a.partnership.clone(),
            a.role,
            a.motivation.clone(),
            a.matrix_id.clone(),
            a.attachments.len(),
        )
    };
    key(old) != key(new)
}

/// Status on arrival: complete when nothing required is missing.
pub fn arrival_status(app: &Application) -> &'static str {
    if app.missing.is_empty() {
        "complete"
    } else {
        "incomplete"
    }
}

/// At most one acknowledgement per sender per period, unless the application changed.
pub fn should_ack(last_ack_at: Option<i64>, now: i64, period_ms: i64, changed: bool) -> bool {
    match last_ack_at {
        None => true,
        Some(at) => changed || now - at >= period_ms,
    }
}

#[cfg(test)]
mod tests;
