//! The secretariat's decisions on an application — accept (within the group's caps), decline,
//! waitlist — questions to the applicant, and the confirmation that a submitted application is
//! the applicant's own. Each records the status and queues the mail from its template in one
//! transaction; an acceptance then invites the applicant's Matrix id to the group's room (the
//! mail always carries the room's link).
//!
//! Decision and question mails go to the record's identity — the address its mails came from
//! — never to an address written in a body. A record someone else submitted (a forward, a web
//! form, an unaligned sender) is decided only once it is the applicant's own: when the
//! applicant wrote from its address, or after `!eoi confirm`; a question about it goes to the
//! submitter, if that sender was aligned. Only the record's identity's Matrix id is invited.

use super::extract::Role;
use super::store::{self, Eoi};
use super::{Applications, Settings, templates};
use crate::config::ApplicationsConfig;
use crate::mail::compose::OutMail;
use crate::markup::{code, escape_markdown_line};
use crate::outbox::{Key, MatrixOp, Report};

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

impl Applications {
    /// Takes the decision; returns the answer for the secretariat (Markdown). A refusal (cap,
    /// unknown id, no group) is an answer, not an error. The status, the decision mail and the
    /// room invite are recorded and queued in one transaction.
    pub async fn decide(&self, id: i64, verdict: Verdict, actor: &str) -> anyhow::Result<String> {
        let Some(e) = store::get(&self.db.pool, id).await? else {
            return Ok(format!("No application #{id}."));
        };
        if let Some(why) = not_decidable(&e) {
            return Ok(why);
        }
        let (status, group, role) = match &verdict {
            Verdict::Accept { role, group } => {
                let Some(group) = group.clone().or_else(|| e.record.groups.first().cloned()) else {
                    return Ok(format!(
                        "Application #{id} names no group: `!eoi accept {id} [leader] GROUP`."
                    ));
                };
                if self.s.groups.get(&group).is_none() {
                    return Ok(format!("No group {} is configured.", code(&group)));
                }
                let role = role.unwrap_or(if e.record.role == Some(Role::Expert) {
                    Role::Expert
                } else {
                    Role::Member
                });
                if e.status == "accepted" {
                    return Ok(format!("Application #{id} is already accepted."));
                }
                let (members, leaders) = store::team_size(&self.db.pool, &group).await?;
                if let Err(why) = check_caps(&self.s.cfg, members, leaders, role) {
                    return Ok(format!(
                        "Not accepted: #{id} cannot join {} as {}: {why}.",
                        code(&group),
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
        let mail = decision_mail(&self.s, &e, &verdict, status, group.as_deref(), role)?;
        // Only the record's identity is invited: every mail of an own record came from it.
        let invite = match (status, &e.record.matrix_id, &group) {
            ("accepted", Some(mxid), Some(g)) if e.is_own() => self
                .s
                .group_room(g)
                .map(|room| (mxid.clone(), room.to_owned())),
            _ => None,
        };
        let mut tx = self.outbox.begin().await?;
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
        let action = format!("eoi.{status}");
        crate::audit::record(
            &mut *tx,
            actor,
            &action,
            &format!("eoi #{id}"),
            group.as_deref(),
        )
        .await?;
        tx.mail(Key::Decision { eoi: id, n }, &mail, Report::none())
            .await?;
        if let Some((user, room)) = &invite {
            let op = MatrixOp::Invite {
                room: room.clone(),
                user: user.clone(),
            };
            let report = Report::in_room(&self.s.management_room, None);
            tx.matrix(Key::EoiInvite { eoi: id, n }, op, None, report.clone())
                .await?;
            if let Some(space) = &self.s.space {
                let op = MatrixOp::Invite {
                    room: space.clone(),
                    user: user.clone(),
                };
                tx.matrix(Key::EoiSpaceInvite { eoi: id, n }, op, None, report)
                    .await?;
            }
        }
        tx.commit().await?;
        tracing::info!(eoi = id, status, actor, "application decided");

        let mut answer = format!(
            "Application #{id} ({}){} is now **{status}**",
            escape_markdown_line(&e.email),
            self.late_note(&e).await?
        );
        if let (Some(g), Some(r)) = (&group, role)
            && status == "accepted"
        {
            answer.push_str(&format!(" in {} as {r}", code(g)));
        }
        answer.push_str("; the applicant is told by mail.");
        if let Some((mxid, _)) = &invite {
            answer.push_str(&format!(" {} is invited to the group's room.", code(mxid)));
        }
        Ok(answer)
    }

    /// " (late application)" for a record that arrived outside every open call window (late now,
    /// or late at some point of its history).
    async fn late_note(&self, e: &Eoi) -> anyhow::Result<&'static str> {
        let was_late = e.status == "late"
            || e.call_key == "none"
            || store::transitions(&self.db, e.id)
                .await?
                .iter()
                .any(|t| t.0 == "late");
        Ok(if was_late { " (late application)" } else { "" })
    }

    /// Puts an application under review (no mail to the applicant); decided ones stay decided.
    pub async fn under_review(&self, id: i64, actor: &str) -> anyhow::Result<String> {
        let Some(e) = store::get(&self.db.pool, id).await? else {
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
        let mut tx = self.db.begin_write().await?;
        sqlx::query("UPDATE eoi SET status = 'under_review', updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        store::transition(&mut *tx, id, "under_review", Some(actor), now).await?;
        crate::audit::record(
            &mut *tx,
            actor,
            "eoi.under_review",
            &format!("eoi #{id}"),
            None,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(eoi = id, actor, "application under review");
        Ok(format!(
            "Application #{id} ({}){} is now **under_review**.",
            escape_markdown_line(&e.email),
            self.late_note(&e).await?
        ))
    }

    /// Mails the secretariat's question to the applicant; `at` (the command's event) makes it
    /// idempotent. The answer comes back into the card's thread.
    pub async fn ask(
        &self,
        id: i64,
        question: &str,
        at: &str,
        actor: &str,
    ) -> anyhow::Result<String> {
        let Some(e) = store::get(&self.db.pool, id).await? else {
            return Ok(format!("No application #{id}."));
        };
        if let Some(into) = e.joined_into {
            return Ok(format!(
                "Application #{id} is joined into #{into}: ask there."
            ));
        }
        let to = match person_address(&e) {
            Ok(to) => to,
            Err(why) => return Ok(why),
        };
        let idt = id.to_string();
        let name = e.record.name.clone().unwrap_or_default();
        let rendered = templates::mail(
            self.s.cfg.templates.as_deref(),
            "question",
            &e.record.language,
            &[("id", &idt), ("name", &name), ("question", question)],
        )?;
        let mail = person_mail(&e, &to, rendered);
        let card = crate::outbox::queue::event_id_for(&self.db.pool, &Key::EoiCard(id)).await?;
        let mut tx = self.outbox.begin().await?;
        let report = Report::in_room(&self.s.management_room, card.as_deref());
        tx.mail(
            Key::Ask {
                eoi: id,
                at: at.to_owned(),
            },
            &mail,
            report,
        )
        .await?;
        // The question itself may hold personal data: the trail names the record only.
        crate::audit::record(&mut *tx, actor, "eoi.ask", &format!("eoi #{id}"), None).await?;
        tx.commit().await?;
        let back = if card.is_some() {
            "; the answer will come back into the card's thread"
        } else {
            ""
        };
        let whom = if e.is_own() { "" } else { "the submitter " };
        Ok(format!(
            "Question mailed to {whom}{} (application #{id}){back}.",
            escape_markdown_line(&to)
        ))
    }

    /// The secretariat confirms that submitted application `id` is the applicant's own: it
    /// becomes their record (keeping the Matrix id it names), or joins the one they have.
    pub async fn confirm(&self, id: i64, actor: &str) -> anyhow::Result<String> {
        let Some(e) = store::get(&self.db.pool, id).await? else {
            return Ok(format!("No application #{id}."));
        };
        if let Some(into) = e.joined_into {
            return Ok(format!("Application #{id} is already joined into #{into}."));
        }
        if e.is_own() {
            return Ok(format!(
                "Application #{id} is already the applicant's own ({}).",
                escape_markdown_line(&e.email)
            ));
        }
        let now = crate::storage::now_ms();
        let mut tx = self.outbox.begin().await?;
        let own = store::find(&mut *tx, &e.call_key, &e.email, "").await?;
        let answer = match own {
            None => {
                store::adopt(&mut tx, &e, &e.record, now).await?;
                format!(
                    "Application #{id} (submitted by {}) is now the own application of {}:                      decisions and questions go to that address.",
                    escape_markdown_line(e.submitter().unwrap_or_default()),
                    escape_markdown_line(&e.email)
                )
            }
            Some(own) => {
                self.join_into(&mut tx, &e, own.id, true, now).await?;
                format!(
                    "Application #{id} (submitted by {}) is joined into #{}, the own application                      of {}.",
                    escape_markdown_line(e.submitter().unwrap_or_default()),
                    own.id,
                    escape_markdown_line(&e.email)
                )
            }
        };
        tx.commit().await?;
        tracing::info!(eoi = id, actor, "submitted application confirmed");
        Ok(answer)
    }
}

/// Why a record cannot be decided yet, if it cannot.
fn not_decidable(e: &Eoi) -> Option<String> {
    if let Some(into) = e.joined_into {
        return Some(format!(
            "Application #{} is joined into #{into}: decide there.",
            e.id
        ));
    }
    if e.is_own() {
        return None;
    }
    if e.submitter() == Some(e.email.as_str()) {
        return Some(format!(
            "Application #{id} came in the name of {email} without proof that it is theirs \
             (an unaligned or unverified sender): the decision mail would go to an address \
             nobody confirmed. Confirm first (`!eoi confirm {id}`).",
            id = e.id,
            email = escape_markdown_line(&e.email),
        ));
    }
    Some(format!(
        "Application #{id} was submitted by {by} for {email}, which has not written to us          itself: the decision mail would go to an address nobody confirmed. Confirm first          (`!eoi confirm {id}`), or wait for a mail from that address.",
        id = e.id,
        by = escape_markdown_line(e.submitter().unwrap_or_default()),
        email = escape_markdown_line(&e.email),
    ))
}

/// Where a person's mail about `e` goes: the record's identity, or for a submitted record
/// the submitter when that sender was aligned; never an address written in a body.
fn person_address(e: &Eoi) -> Result<String, String> {
    if e.is_own() {
        return Ok(e.email.clone());
    }
    if !e.reply_to.is_empty() {
        return Ok(e.reply_to.clone());
    }
    Err(format!(
        "Application #{} was submitted by {}, whose From did not align with its envelope          sender: there is no address to write to. `!eoi confirm {}` if {} is the applicant's.",
        e.id,
        escape_markdown_line(e.submitter().unwrap_or_default()),
        e.id,
        escape_markdown_line(&e.email),
    ))
}

fn decision_mail(
    s: &Settings,
    e: &Eoi,
    verdict: &Verdict,
    status: &str,
    group: Option<&str>,
    role: Option<&str>,
) -> anyhow::Result<OutMail> {
    let group_name = group
        .and_then(|g| s.groups.get(g))
        .map(|g| g.name.clone())
        .unwrap_or_default();
    let link = group
        .and_then(|g| s.group_room(g))
        .map(|r| format!("https://matrix.to/#/{r}"))
        .unwrap_or_default();
    let reason = match verdict {
        Verdict::Decline { reason: Some(r) } => format!("\n{r}\n"),
        _ => String::new(),
    };
    let id = e.id.to_string();
    let name = e.record.name.clone().unwrap_or_default();
    let rendered = templates::mail(
        s.cfg.templates.as_deref(),
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
    Ok(person_mail(e, &e.email, rendered))
}

/// A mail a person decided to send (no Auto-Submitted), to `to`, in the applicant's thread.
fn person_mail(e: &Eoi, to: &str, r: templates::Rendered) -> OutMail {
    OutMail {
        to: vec![to.to_owned()],
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
