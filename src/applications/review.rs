//! The secretariat's decisions on an application — accept (within the group's caps), decline,
//! waitlist — and questions to the applicant. Each records the status and queues the mail from
//! its template in one transaction; an acceptance then invites the applicant's Matrix id to
//! the group's room (the mail always carries the room's link).

use super::extract::Role;
use super::store::{self, Eoi};
use super::templates;
use crate::app::Ctx;
use crate::config::ApplicationsConfig;
use crate::mail::outbox::{self as mail_outbox, OutMail};

/// What the secretariat decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Into `group` (default: the first group applied for) as `role` (default: member, or
    /// expert when an expert role was sought).
    Accept {
        role: Option<Role>,
        group: Option<String>,
    },
    Decline {
        reason: Option<String>,
    },
    Waitlist,
}

/// Whether one more `role` fits a team of `members` (leaders included) and `leaders`.
pub fn check_caps(
    cfg: &ApplicationsConfig,
    members: u32,
    leaders: u32,
    role: Role,
) -> Result<(), String> {
    match role {
        Role::Expert => Ok(()),
        _ if members >= cfg.max_members => Err(format!(
            "the core team is full ({members} of {} members)",
            cfg.max_members
        )),
        Role::Leader if leaders >= cfg.max_leaders => Err(format!(
            "the group already has {leaders} of {} leaders",
            cfg.max_leaders
        )),
        _ => Ok(()),
    }
}

fn role_str(role: Role) -> &'static str {
    match role {
        Role::Member => "member",
        Role::Leader => "leader",
        Role::Expert => "expert",
    }
}

/// Takes the decision; returns the answer for the secretariat (Markdown). A refusal (cap,
/// unknown id, no group) is an answer, not an error.
pub async fn decide(ctx: &Ctx, id: i64, verdict: Verdict, actor: &str) -> anyhow::Result<String> {
    let Some(e) = store::get(&ctx.db.pool, id).await? else {
        return Ok(format!("No application #{id}."));
    };
    let (status, group, role) = match &verdict {
        Verdict::Accept { role, group } => {
            let Some(group) = group.clone().or_else(|| e.record.groups.first().cloned()) else {
                return Ok(format!(
                    "Application #{id} names no group: `!eoi accept {id} [leader] GROUP`."
                ));
            };
            if !ctx.config.groups.iter().any(|g| g.slug == group) {
                return Ok(format!("No group `{group}` is configured."));
            }
            let role = role.unwrap_or(if e.record.role == Some(Role::Expert) {
                Role::Expert
            } else {
                Role::Member
            });
            if e.status == "accepted" {
                return Ok(format!("Application #{id} is already accepted."));
            }
            let (members, leaders) = store::team_size(&ctx.db.pool, &group).await?;
            if let Err(why) = check_caps(&ctx.config.applications, members, leaders, role) {
                return Ok(format!(
                    "Not accepted: #{id} cannot join `{group}` as {}: {why}.",
                    role_str(role)
                ));
            }
            ("accepted", Some(group), Some(role_str(role)))
        }
        Verdict::Decline { .. } => ("declined", None, None),
        Verdict::Waitlist => ("waitlisted", e.record.groups.first().cloned(), None),
    };
    if e.status == status {
        return Ok(format!("Application #{id} is already {status}."));
    }
    let n = e.decisions + 1;
    let mail = decision_mail(ctx, &e, &verdict, status, group.as_deref(), role, n)?;
    let mut tx = ctx.db.pool.begin().await?;
    sqlx::query(
        "UPDATE eoi SET status = $1, group_slug = $2, decided_role = $3, decisions = $4, \
         updated_at = $5 WHERE id = $6",
    )
    .bind(status)
    .bind(if status == "accepted" {
        group.as_deref()
    } else {
        None
    })
    .bind(role)
    .bind(n)
    .bind(crate::storage::now_ms())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    store::transition(&mut *tx, id, status, Some(actor), crate::storage::now_ms()).await?;
    mail_outbox::enqueue(&mut *tx, &ctx.config.smtp, &mail).await?;
    tx.commit().await?;
    ctx.wake.mail_outbox.notify_one();
    tracing::info!(eoi = id, status, actor, "application decided");

    let mut answer = format!(
        "Application #{id} ({}){} is now **{status}**",
        e.email,
        late_note(ctx, &e).await?
    );
    if let (Some(g), Some(r)) = (&group, role)
        && status == "accepted"
    {
        answer.push_str(&format!(" in `{g}` as {r}"));
    }
    answer.push_str("; the applicant is told by mail.");
    if status == "accepted"
        && let (Some(mxid), Some(g)) = (&e.record.matrix_id, &group)
    {
        match invite(ctx, g, mxid).await {
            Ok(()) => answer.push_str(&format!(" {mxid} was invited to the group's room.")),
            Err(err) => answer.push_str(&format!(" Inviting {mxid} failed: {err:#}.")),
        }
    }
    Ok(answer)
}

/// " (late application)" for a record that arrived outside every open call window (late now,
/// or late at some point of its history).
async fn late_note(ctx: &Ctx, e: &Eoi) -> anyhow::Result<&'static str> {
    let was_late = e.status == "late"
        || e.call_key == "none"
        || store::transitions(&ctx.db, e.id)
            .await?
            .iter()
            .any(|t| t.0 == "late");
    Ok(if was_late { " (late application)" } else { "" })
}

/// Puts an application under review (no mail to the applicant); decided ones stay decided.
pub async fn under_review(ctx: &Ctx, id: i64, actor: &str) -> anyhow::Result<String> {
    let Some(e) = store::get(&ctx.db.pool, id).await? else {
        return Ok(format!("No application #{id}."));
    };
    match e.status.as_str() {
        "under_review" => return Ok(format!("Application #{id} is already under review.")),
        s @ ("accepted" | "declined") => {
            return Ok(format!("Application #{id} is already decided ({s})."));
        }
        _ => {}
    }
    let now = crate::storage::now_ms();
    let mut tx = ctx.db.pool.begin().await?;
    sqlx::query("UPDATE eoi SET status = 'under_review', updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    store::transition(&mut *tx, id, "under_review", Some(actor), now).await?;
    tx.commit().await?;
    tracing::info!(eoi = id, actor, "application under review");
    Ok(format!(
        "Application #{id} ({}){} is now **under_review**.",
        e.email,
        late_note(ctx, &e).await?
    ))
}

fn group_room(ctx: &Ctx, group: &str) -> Option<String> {
    ctx.config
        .groups
        .iter()
        .find(|g| g.slug == group)
        .map(|g| g.room.clone())
}

async fn invite(ctx: &Ctx, group: &str, mxid: &str) -> anyhow::Result<()> {
    let client = ctx
        .matrix
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("no Matrix connection here (CLI)"))?;
    let room = group_room(ctx, group).ok_or_else(|| anyhow::anyhow!("no room for `{group}`"))?;
    let room_id = crate::matrix::outbox::resolve_room(client, &room).await?;
    let room = client
        .get_room(&room_id)
        .ok_or_else(|| anyhow::anyhow!("the bot is not in {room}"))?;
    let user = matrix_sdk::ruma::UserId::parse(mxid)?;
    room.invite_user_by_id(&user).await?;
    Ok(())
}

fn decision_mail(
    ctx: &Ctx,
    e: &Eoi,
    verdict: &Verdict,
    status: &str,
    group: Option<&str>,
    role: Option<&str>,
    n: i64,
) -> anyhow::Result<OutMail> {
    let group_name = group
        .and_then(|g| ctx.config.groups.iter().find(|c| c.slug == g))
        .map(|g| g.name.clone())
        .unwrap_or_default();
    let link = group
        .and_then(|g| group_room(ctx, g))
        .map(|r| format!("https://matrix.to/#/{r}"))
        .unwrap_or_default();
    let reason = match verdict {
        Verdict::Decline { reason: Some(r) } => format!("\n{r}\n"),
        _ => String::new(),
    };
    let id = e.id.to_string();
    let name = e.record.name.clone().unwrap_or_default();
    let rendered = templates::mail(
        ctx.config.applications.templates.as_deref(),
        &format!("decision-{status}"),
        &e.record.language,
        &[
            ("id", &id),
            ("name", &name),
            ("group", &group_name),
            ("role", role.unwrap_or("member")),
            ("room_link", &link),
            ("reason", &reason),
        ],
    )?;
    Ok(person_mail(
        e,
        format!("eoi-{}-decision-{n}", e.id),
        rendered,
    ))
}

/// A mail a person decided to send (no Auto-Submitted), to the applicant, in their thread.
fn person_mail(e: &Eoi, key: String, r: templates::Rendered) -> OutMail {
    let to = e.record.email.clone().unwrap_or_else(|| e.email.clone());
    OutMail {
        dedup_key: key,
        to: vec![to],
        subject: r.subject,
        text: r.body,
        in_reply_to: e.message_id.as_deref().map(super::intake::bracketed),
        references: e
            .message_id
            .as_deref()
            .map(super::intake::bracketed)
            .into_iter()
            .collect(),
        auto_submitted: None,
        calendar: None,
    }
}

/// Mails the secretariat's question to the applicant; `key` makes it idempotent.
pub async fn ask(ctx: &Ctx, id: i64, question: &str, key: &str) -> anyhow::Result<String> {
    let Some(e) = store::get(&ctx.db.pool, id).await? else {
        return Ok(format!("No application #{id}."));
    };
    let idt = id.to_string();
    let name = e.record.name.clone().unwrap_or_default();
    let rendered = templates::mail(
        ctx.config.applications.templates.as_deref(),
        "question",
        &e.record.language,
        &[("id", &idt), ("name", &name), ("question", question)],
    )?;
    let mail = person_mail(&e, format!("eoi-{id}-ask-{key}"), rendered);
    let card = crate::matrix::outbox::event_id_for(&ctx.db, &super::card::card_key(id)).await?;
    let mut tx = ctx.db.pool.begin().await?;
    mail_outbox::enqueue(&mut *tx, &ctx.config.smtp, &mail).await?;
    // The applicant's answer (In-Reply-To this mail) comes back into the card's thread.
    if let Some(root) = &card {
        let from: lettre::message::Mailbox = ctx.config.smtp.from.parse()?;
        sqlx::query(
            "INSERT INTO mail_thread (message_id, room_id, root_event_id, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(mail_outbox::message_id_for(&mail.dedup_key, &from))
        .bind(&ctx.config.matrix.management_room)
        .bind(root)
        .bind(crate::storage::now_ms())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    ctx.wake.mail_outbox.notify_one();
    let back = if card.is_some() {
        "; the answer will come back into the card's thread"
    } else {
        ""
    };
    Ok(format!(
        "Question mailed to {} (application #{id}){back}.",
        mail.to.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps() {
        let cfg = ApplicationsConfig::default();
        assert!(check_caps(&cfg, 0, 0, Role::Leader).is_ok());
        assert!(check_caps(&cfg, 19, 1, Role::Leader).is_ok());
        assert!(
            check_caps(&cfg, 19, 2, Role::Leader)
                .unwrap_err()
                .contains("2 of 2 leaders")
        );
        assert!(check_caps(&cfg, 19, 2, Role::Member).is_ok());
        assert!(
            check_caps(&cfg, 20, 0, Role::Member)
                .unwrap_err()
                .contains("20 of 20")
        );
        assert!(check_caps(&cfg, 20, 2, Role::Expert).is_ok());
    }
}
