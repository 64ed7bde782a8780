//! `!outbox` (secretariat): what is waiting or failed in the outbox, and requeueing.

use super::Reply;
use crate::outbox::{Outbox, queue};

/// (name, arguments, what it does, secretariat only)
pub const HELP: &[(&str, &str, &str, bool)] = &[(
    "outbox",
    "[failed] | retry ID|failed",
    "what is waiting to be sent or failed; requeue one item or all failed ones",
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
        [] | ["failed"] => {
            let failed_only = !args.is_empty();
            let items = queue::list(db, failed_only, 30).await?;
            Ok(Reply::text(render(&items, failed_only)))
        }
        _ => Ok(Reply::text(
            "Usage: `!outbox [failed]` or `!outbox retry ID|failed`",
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
            .map(|e| format!(" — {}", crate::chat::escape(e)))
            .unwrap_or_default();
        out.push_str(&format!(
            "- #{} {} `{}` to {} · **{}** · {} attempt(s) · queued {when}{error}\n",
            i.id,
            i.transport,
            crate::chat::escape(&i.key),
            crate::chat::escape(&i.lane),
            i.state,
            i.attempts
        ));
    }
    out.trim_end().to_owned()
}
