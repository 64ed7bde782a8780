//! `!eoi …` chat commands (secretariat only, enforced by the dispatcher) and the decision
//! reactions on EoI cards (`applications.accept_reaction`, `applications.decline_reaction`:
//! ✅ and ❌ by default, exactly those; the caller checks the secretariat).
//!
//! Every `!eoi` command shows applicants' personal data, so it answers only where that data
//! may go: the management room, a direct conversation with the asker, or the CLI; elsewhere
//! it refuses and says where to ask. `!eoi export` uploads the CSV into the room it was asked
//! in, only when that room is encrypted (matrix-sdk's attachment upload then encrypts the
//! file) unless `applications.export_unencrypted`; from the CLI it prints a code block.
//! `!eoi show` lists the status transitions; decisions on late applications are allowed and
//! say so in the answer. Every value from mail in an answer is escaped (`crate::markup`).

use super::extract::Role;
use super::review::Verdict;
use super::{Applications, card, export, store};
use crate::chat::{Invocation, Reply};
use crate::config::ApplicationsConfig;
use crate::markup::{escape_markdown_line, truncate};
use crate::outbox::Key;

/// (name, arguments, what it does, secretariat only)
pub const HELP: &[(&str, &str, &str, bool)] = &[
    (
        "eoi",
        "list [group] [status]",
        "list expressions of interest",
        true,
    ),
    ("eoi", "show ID", "one application in full", true),
    (
        "eoi",
        "review ID",
        "mark as under review (no mail to the applicant)",
        true,
    ),
    (
        "eoi",
        "accept ID [leader|member|expert] [group]",
        "accept (within the group's caps) and tell the applicant",
        true,
    ),
    (
        "eoi",
        "decline ID [reason]",
        "decline and tell the applicant",
        true,
    ),
    (
        "eoi",
        "waitlist ID",
        "put on the waiting list and tell the applicant",
        true,
    ),
    (
        "eoi",
        "ask ID question…",
        "mail a question to the applicant",
        true,
    ),
    (
        "eoi",
        "confirm ID",
        "a submitted application (forward, web form) is the applicant's own",
        true,
    ),
    (
        "eoi",
        "export",
        "all applications as a CSV file (encrypted rooms only)",
        true,
    ),
];

pub fn handles(name: &str) -> bool {
    HELP.iter().any(|h| h.0 == name)
}

fn usage() -> Reply {
    let mut out = String::from("Usage:\n");
    for (name, args, what, _) in HELP {
        out.push_str(&format!("- `!{name} {args}`: {what}\n"));
    }
    Reply::text(out)
}

fn parse_id(arg: Option<&&str>) -> Option<i64> {
    arg.map(|a| a.trim_start_matches('#'))
        .and_then(|a| a.parse().ok())
}

pub async fn execute(
    ctx: &Applications,
    inv: &Invocation<'_>,
    name: &str,
    args: &[&str],
) -> anyhow::Result<Reply> {
    if name != "eoi" {
        anyhow::bail!("`{name}` is not an application command");
    }
    let Some(sub) = args.first().map(|s| s.to_lowercase()) else {
        return Ok(usage());
    };
    if !inv.is_private() {
        return Ok(Reply::text(format!(
            "`!eoi {}` shows applicants' personal data, so it works in the management room \
             only (or in a direct message with me).",
            escape_markdown_line(&truncate(&sub, 40)).replace('`', "'")
        )));
    }
    let rest = &args[1..];
    if matches!(sub.as_str(), "list" | "export") {
        return match sub.as_str() {
            "list" => list(ctx, rest).await,
            _ => export(ctx, inv).await,
        };
    }
    let Some(id) = parse_id(rest.first()) else {
        return Ok(usage());
    };
    let tail = rest[1..].join(" ");
    let answer = match sub.as_str() {
        "show" => match store::get(&ctx.db.pool, id).await? {
            Some(e) => {
                let mut md = card::markdown(&e, "Expression of interest");
                if let Some(into) = e.joined_into {
                    md.push_str(&format!("\nJoined into #{into}, the applicant's own.\n"));
                }
                let mails = store::history_len(&ctx.db, id).await?;
                md.push_str(&format!("\n{mails} mail(s) received."));
                for (f, t, size, kept) in store::attachments(&ctx.db, id).await? {
                    let kept = if kept {
                        ""
                    } else {
                        ", over the size cap: not kept"
                    };
                    md.push_str(&format!(
                        "\n- attachment {} ({}, {size} bytes{kept})",
                        f.as_deref()
                            .map(|f| escape_markdown_line(&truncate(f, 120)))
                            .unwrap_or_else(|| "unnamed".into()),
                        escape_markdown_line(&truncate(&t, 120)),
                    ));
                }
                md.push_str(&transitions(ctx, id).await?);
                md
            }
            None => format!("No application #{id}."),
        },
        "confirm" => ctx.confirm(id, inv.sender).await?,
        "accept" => {
            let mut role = None;
            let mut group = None;
            for word in &rest[1..] {
                match word.to_lowercase().as_str() {
                    "leader" => role = Some(Role::Leader),
                    "member" => role = Some(Role::Member),
                    "expert" => role = Some(Role::Expert),
                    other => group = Some(other.to_string()),
                }
            }
            ctx.decide(id, Verdict::Accept { role, group }, inv.sender)
                .await?
        }
        "decline" => {
            let reason = (!tail.is_empty()).then_some(tail);
            ctx.decide(id, Verdict::Decline { reason }, inv.sender)
                .await?
        }
        "waitlist" => ctx.decide(id, Verdict::Waitlist, inv.sender).await?,
        "review" => ctx.under_review(id, inv.sender).await?,
        "ask" if !tail.is_empty() => {
            let key = inv
                .event_id
                .map(str::to_string)
                .unwrap_or_else(|| crate::storage::now_ms().to_string());
            ctx.ask(id, &tail, &key, inv.sender).await?
        }
        _ => return Ok(usage()),
    };
    Ok(Reply::text(answer))
}

/// The file upload into the (encrypted) room asked in, the code block from the CLI.
async fn export(ctx: &Applications, inv: &Invocation<'_>) -> anyhow::Result<Reply> {
    crate::audit::record(
        &ctx.db.pool,
        inv.sender,
        "eoi.export",
        "all applications",
        None,
    )
    .await?;
    if let Some(room) = &inv.context.room_id {
        if !inv.context.encrypted && !ctx.s.cfg.export_unencrypted {
            return Ok(Reply::text(
                "The export holds every applicant's personal data, so it is uploaded only \
                 into an encrypted room, and this one is not. Ask in an encrypted direct \
                 message with me (or set `applications.export_unencrypted = true`).",
            ));
        }
        let key = inv
            .event_id
            .map(str::to_owned)
            .unwrap_or_else(|| crate::storage::now_ms().to_string());
        let n = export::upload(ctx, Key::EoiExport(key), room).await?;
        let how = if inv.context.encrypted {
            " (encrypted)"
        } else {
            ""
        };
        return Ok(Reply::text(format!("Exported {n} applications{how}.")));
    }
    let all = store::list(&ctx.db, None, None).await?;
    Ok(Reply::text(format!(
        "```\n{}```",
        export::csv(&all).replace("\r\n", "\n")
    )))
}

/// "Status history" lines of `!eoi show`: each status, by whom (intake: the mail), when (UTC).
async fn transitions(ctx: &Applications, id: i64) -> anyhow::Result<String> {
    let steps = store::transitions(&ctx.db, id).await?;
    if steps.is_empty() {
        return Ok(String::new());
    }
    let mut out = String::from("\n\nStatus history:");
    for (status, actor, at) in steps {
        let when = chrono::DateTime::from_timestamp_millis(at)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default();
        let by = actor
            .as_deref()
            .map(escape_markdown_line)
            .unwrap_or_else(|| "on arrival".into());
        out.push_str(&format!(
            "\n- {when}: **{}** ({by})",
            escape_markdown_line(&status)
        ));
    }
    Ok(out)
}

async fn list(ctx: &Applications, args: &[&str]) -> anyhow::Result<Reply> {
    let mut group = None;
    let mut status = None;
    for a in args {
        if store::STATUSES.contains(a) {
            status = Some(*a);
        } else {
            group = Some(*a);
        }
    }
    let all = store::list(&ctx.db, group, status).await?;
    if all.is_empty() {
        return Ok(Reply::text("No applications."));
    }
    let field = |v: Option<&str>| {
        v.map(|v| escape_markdown_line(&truncate(v, 120)))
            .unwrap_or_else(|| "—".into())
    };
    let mut out = format!("{} application(s):\n\n", all.len());
    for e in &all {
        let groups = if e.record.groups.is_empty() {
            "—".into()
        } else {
            field(Some(&e.record.groups.join(", ")))
        };
        let by = e
            .submitter()
            .filter(|_| !e.is_own())
            .map(|s| format!(" · submitted by {}", field(Some(s))))
            .unwrap_or_default();
        out.push_str(&format!(
            "- #{} {} · {} · {} · {groups} · **{}**{by}\n",
            e.id,
            field(e.record.name.as_deref()),
            field(Some(&e.email)),
            field(e.record.organisation.as_deref()),
            e.status
        ));
    }
    Ok(Reply::text(out.trim_end().to_string()))
}

/// Whether a reaction key is the configured accept or decline key (an emoji presentation
/// selector U+FE0F, which clients add or not, aside); no other key decides anything.
pub fn reaction_verdict(cfg: &ApplicationsConfig, key: &str) -> Option<Verdict> {
    let bare = |k: &str| k.trim().trim_end_matches('\u{fe0f}').to_owned();
    let key = bare(key);
    if key.is_empty() {
        None
    } else if key == bare(&cfg.accept_reaction) {
        Some(Verdict::Accept {
            role: None,
            group: None,
        })
    } else if key == bare(&cfg.decline_reaction) {
        Some(Verdict::Decline { reason: None })
    } else {
        None
    }
}

/// A reaction by a member of the secretariat (the caller checked) on the card of
/// application `id`: the accept key accepts, the decline key declines; the answer goes into
/// the card's thread, keyed by the reaction so a reaction handled twice answers once. Other
/// keys are ignored.
pub async fn on_card_reaction(
    ctx: &Applications,
    sender: &str,
    id: i64,
    key: &str,
    reaction_event: &str,
) -> anyhow::Result<()> {
    let Some(verdict) = reaction_verdict(&ctx.s.cfg, key) else {
        return Ok(());
    };
    let answer = ctx.decide(id, verdict, sender).await?;
    // A Matrix user id (the homeserver's, not the mail's) cannot form markup: as it is.
    let mut content = crate::chat::notice_markdown(&format!("{sender}: {answer}"));
    if let Some(card_event) =
        crate::outbox::queue::event_id_for(&ctx.db.pool, &Key::EoiCard(id)).await?
    {
        content = crate::chat::reply_to(content, &card_event, Some(&card_event));
    }
    let mut tx = ctx.outbox.begin().await?;
    let room = ctx.s.management_room.clone();
    tx.post(
        Key::EoiDecided {
            eoi: id,
            event: reaction_event.to_owned(),
        },
        &room,
        content,
    )
    .await?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reactions_and_ids() {
        let cfg = ApplicationsConfig::default();
        assert!(matches!(
            reaction_verdict(&cfg, "✅"),
            Some(Verdict::Accept { .. })
        ));
        assert!(matches!(
            reaction_verdict(&cfg, "✅\u{fe0f}"),
            Some(Verdict::Accept { .. })
        ));
        assert!(matches!(
            reaction_verdict(&cfg, "❌"),
            Some(Verdict::Decline { .. })
        ));
        assert!(reaction_verdict(&cfg, "🎉").is_none());
        // "Seen" is not a decision, and neither are look-alikes of the configured keys.
        for other in ["👍", "✔", "✔️", "✖", "☑️", "✅✅", "", "\u{fe0f}"] {
            assert!(reaction_verdict(&cfg, other).is_none(), "{other:?}");
        }
        let custom = ApplicationsConfig {
            accept_reaction: "🟢".into(),
            decline_reaction: "🔴".into(),
            ..ApplicationsConfig::default()
        };
        assert!(reaction_verdict(&custom, "✅").is_none());
        assert!(matches!(
            reaction_verdict(&custom, "🟢"),
            Some(Verdict::Accept { .. })
        ));
        assert_eq!(parse_id(Some(&"#12")), Some(12));
        assert_eq!(parse_id(Some(&"x")), None);
        assert!(handles("eoi") && !handles("next"));
    }
}
