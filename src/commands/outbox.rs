//! `!outbox` (secretariat): what is waiting or failed in the outbox, and requeueing.

use super::Reply;
use crate::markup;
use crate::outbox::{Outbox, queue};

/// (name, arguments, what it does, secretariat only)
pub const HELP: &[(&str, &str, &str, bool)] = &[(
    "outbox",
    "[failed] | retry ID|failed | unhold ADDRESS",
    "what is waiting, held or failed; requeue one item or all failed and held ones; clear an address marked for bounces and send its held mail",
    true,
)];

pub fn handles(name: &str) -> bool {
    name == "outbox"
}

pub async fn execute(outbox: &Outbox, actor: &str, args: &[&str]) -> anyhow::Result<Reply> {
    let db = outbox.db();
    match args {
        ["retry", what] => {
            let id = match *what {
                "failed" | "all" => None,
                n => match n.trim_start_matches('#').parse::<i64>() {
                    Ok(id) => Some(id),
                    Err(_) => return Ok(Reply::text("Usage: `!outbox retry ID|failed`")),
                },
            };
            let requeued = queue::retry(db, id).await?;
            for (n, t) in &requeued {
                let target = format!("outbox #{n}");
                crate::audit::record(&db.pool, actor, "outbox.retry", &target, Some(t.as_str()))
                    .await?;
                outbox.wake(*t);
            }
            Ok(Reply::text(match (requeued.len(), id) {
                (0, Some(id)) => format!("Outbox item #{id} is not failed."),
                (0, None) => "Nothing has failed.".into(),
                (n, _) => format!("Requeued {n} item(s)."),
            }))
        }
        ["unhold", address] => {
            let address = address.trim_matches(['<', '>']);
            let was = crate::outbox::hold::clear(db, address).await?;
            crate::bridge::bounce::reset(db, address).await?;
            let released = queue::release_held_to(db, address).await?;
            outbox.wake(crate::outbox::Transport::Mail);
            let who = markup::escape_markdown_line(address);
            Ok(Reply::text(match (was, released) {
                (false, 0) => format!("{who} was not marked."),
                (_, n) => format!("{who} is no longer marked; {n} held mail(s) sent."),
            }))
        }
        [] | ["failed"] => {
            let failed_only = !args.is_empty();
            let items = queue::list(db, failed_only, 30).await?;
            let mut text = render(&items, failed_only);
            let marked = crate::outbox::hold::list(db).await?;
            if !marked.is_empty() {
                text.push_str("\n\nMarked for bounces (their mail is held):");
                for (address, reason, _) in marked {
                    text.push_str(&format!(
                        "\n- {} — {}",
                        markup::escape_markdown_line(&address),
                        markup::escape_markdown_line(&reason)
                    ));
                }
            }
            Ok(Reply::text(text))
        }
        _ => Ok(Reply::text(
            "Usage: `!outbox [failed]`, `!outbox retry ID|failed` or `!outbox unhold ADDRESS`",
        )),
    }
}

/// The list as Markdown (also printed by `convene outbox list`).
pub fn render(items: &[queue::Summary], failed_only: bool) -> String {
    if items.is_empty() {
        return if failed_only {
            "Nothing has failed.".into()
        } else {
            "The outbox is empty: everything was sent.".into()
        };
    }
    let mut out = String::new();
    for i in items {
        let when = chrono::DateTime::from_timestamp_millis(i.created_at)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default();
        let error = i
            .last_error
            .as_deref()
            .map(|e| format!(" — {}", markup::escape_markdown_line(e)))
            .unwrap_or_default();
        out.push_str(&format!(
            "- #{} {} {} to {} · **{}** · {} attempt(s) · queued {when}{error}\n",
            i.id,
            i.transport,
            markup::code(&i.key),
            markup::escape_markdown_line(&i.lane),
            i.state,
            i.attempts
        ));
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_servers_reason_and_an_address_stay_text_in_the_list() {
        let item = queue::Summary {
            id: 7,
            transport: "mail".into(),
            key: "eoi-ack-3".into(),
            lane: "mail:@room <x@y.test>".into(),
            state: "failed".into(),
            attempts: 2,
            next_attempt_at: 0,
            created_at: 0,
            last_error: Some("550 [click](https://evil.test) **now** @room".into()),
        };
        let text = render(&[item], true);
        let html = crate::chat::notice_markdown(&text)["formatted_body"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(!html.contains("<a "), "{html}");
        assert!(!html.contains("<strong>now"), "{html}");
        assert!(html.contains("<code>eoi-ack-3</code>"), "{html}");
        assert!(!text.contains("@room"), "a mention survived: {text}");
    }
}
