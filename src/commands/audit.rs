//! `!audit [n]` (secretariat, management room): the last actions of the audit trail.

use super::{Invocation, Reply};
use crate::storage::Db;

/// (name, arguments, what it does, secretariat only)
pub const HELP: &[(&str, &str, &str, bool)] = &[(
    "audit",
    "[n]",
    "the last n secretariat actions (default 20), in the management room",
    true,
)];

pub fn handles(name: &str) -> bool {
    name == "audit"
}

pub async fn execute(db: &Db, inv: &Invocation<'_>, args: &[&str]) -> anyhow::Result<Reply> {
    if !inv.in_management_room {
        return Ok(Reply::text(
            "The audit trail is shown in the management room only.",
        ));
    }
    let n = match args {
        [] => 20,
        [n] => match n.parse::<i64>() {
            Ok(n) if (1..=500).contains(&n) => n,
            _ => return Ok(Reply::text("Usage: `!audit [n]` (1 to 500)")),
        },
        _ => return Ok(Reply::text("Usage: `!audit [n]`")),
    };
    let entries = crate::audit::list(db, None, n).await?;
    Ok(Reply::text(crate::audit::render_markdown(&entries)))
}
