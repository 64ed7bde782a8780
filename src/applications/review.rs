//! The secretariat's decisions on an application — accept (within the group's caps), decline,
//! waitlist — and questions to the applicant. Each records the status and queues the mail from
//! its template in one transaction; an acceptance then invites the applicant's Matrix id to
//! the group's room (the mail always carries the room's link).

use super::extract::Role;
use super::store::{self, Eoi};
use super::{Applications, Settings, templates};
use crate::config::ApplicationsConfig;
use crate::mail::compose::OutMail;
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
        let (status, group, role) = match &verdict {
            Verdict::Accept { role, group } => {
                let Some(group) = group.clone().or_else(|| e.record.groups.first().cloned()) else {
                    return Ok(format!(
                        "Application #{id} names no group: `!eoi accept {id} [leader] GROUP`."
                    ));
                };
                if self.s.groups.get(&group).is_none() {
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
                let (members, leaders) = store::team_size(&self.db.pool, &group).await?;
                if let Err(why) = check_caps(&self.s.cfg, members, leaders, role) {
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
        let mail = decision_mail(&self.s, &e, &verdict, status, group.as_deref(), role)?;
        let invite = match (status, &e.record.matrix_id, &group) {
            ("accepted", Some(mxid), Some(g)) => self
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
            e.email,
            self.late_note(&e).await?
        );
        if let (Some(g), Some(r)) = (&group, role)
            && status == "accepted"
        {
            answer.push_str(&format!(" in `{g}` as {r}"));
        }
        answer.push_str("; the applicant is told by mail.");
        if let Some((mxid, _)) = &invite {
            answer.push_str(&format!(" {mxid} is invited to the group's room."));
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
        let mut tx = self.db.pool.begin().await?;
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
            e.email,
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
        let idt = id.to_string();
        let name = e.record.name.clone().unwrap_or_default();
        let rendered = templates::mail(
            self.s.cfg.templates.as_deref(),
            "question",
            &e.record.language,
            &[("id", &idt), ("name", &name), ("question", question)],
        )?;
        let mail = person_mail(&e, rendered);
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
        Ok(format!(
            "Question mailed to {} (application #{id}){back}.",
            mail.to.join(", ")
        ))
    }
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
    Ok(person_mail(e, rendered))
}

/// A mail a person decided to send (no Auto-Submitted), to the applicant, in their thread.
fn person_mail(e: &Eoi, r: templates::Rendered) -> OutMail {
    let to = e.record.email.clone().unwrap_or_else(|| e.email.clone());
    OutMail {
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
