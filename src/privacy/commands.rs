//! `!privacy export ADDRESS` (the JSON of everything held, delivered to the asker by direct
//! message) and `!privacy erase ADDRESS` (asks to confirm; `!privacy erase ADDRESS confirm`
//! erases). Secretariat only, in the management room.

use crate::chat::{Invocation, Reply};
use crate::outbox::op::MatrixOp;
use crate::outbox::queue::Report;
use crate::outbox::{Key, Outbox};

/// (name, arguments, what it does, secretariat only)
pub const HELP: &[(&str, &str, &str, bool)] = &[
    (
        "privacy",
        "export ADDRESS",
        "everything held about an address, as JSON, by direct message",
        true,
    ),
    (
        "privacy",
        "erase ADDRESS [confirm]",
        "erase everything held about an address and redact the bot's posts about it",
        true,
    ),
];

pub fn handles(name: &str) -> bool {
    name == "privacy"
}

/// A direct message holds at most this much JSON; larger exports are for the command line.
const DM_MAX: usize = 48_000;

fn usage() -> Reply {
    Reply::text("Usage: `!privacy export ADDRESS` or `!privacy erase ADDRESS [confirm]`")
}

pub async fn execute(
    outbox: &Outbox,
    inv: &Invocation<'_>,
    args: &[&str],
) -> anyhow::Result<Reply> {
    if !inv.in_management_room {
        return Ok(Reply::text(
            "Privacy requests are handled in the management room only.",
        ));
    }
    let (verb, address, rest) = match args {
        [verb, address, rest @ ..] => (verb.to_lowercase(), *address, rest),
        _ => return Ok(usage()),
    };
    let Ok(address) = super::normalise(address) else {
        return Ok(Reply::text("That is not a mail address."));
    };
    match verb.as_str() {
        "export" => {
            let json = super::export(outbox.db(), &address).await?;
            let text = serde_json::to_string_pretty(&json)?;
            crate::audit::record(
                &outbox.db().pool,
                inv.sender,
                "privacy.export",
                "an address",
                Some(&format!(
                    "{} application(s)",
                    json["applications"].as_array().map_or(0, Vec::len)
                )),
            )
            .await?;
            let Some(event) = inv.event_id else {
                // The command line prints it.
                return Ok(Reply::text(text));
            };
            if text.len() > DM_MAX {
                return Ok(Reply::text(format!(
                    "The export is {} bytes, too large for a message: run `convene privacy export` on the server.",
                    text.len()
                )));
            }
            let body = format!("Privacy export (GDPR Art. 15):\n\n```json\n{text}\n```");
            let op = MatrixOp::DirectMessage {
                user: inv.sender.to_owned(),
                content: crate::chat::notice_markdown(&body),
            };
            let mut tx = outbox.begin().await?;
            let report = Report::in_room(outbox.management_room(), None);
            tx.matrix(Key::PrivacyExport(event.to_owned()), op, None, report)
                .await?;
            tx.commit().await?;
            Ok(Reply::text(
                "The export is on its way to you by direct message.",
            ))
        }
        "erase" => {
            if rest.first().map(|s| s.to_lowercase()).as_deref() != Some("confirm") {
                let held = super::find(outbox.db(), Some(&address), &[]).await?;
                return Ok(Reply::text(format!(
                    "This erases {} application(s), {} mail(s) and {} outbox item(s), and redacts \
                     the bot's posts about them. It cannot be undone. Repeat the command with \
                     `confirm` at the end to erase.",
                    held.eois.len(),
                    held.mails.len(),
                    held.items.len()
                )));
            }
            let e = super::erase(outbox, &address, inv.sender).await?;
            Ok(Reply::text(format!("Erased: {}.", e.summary())))
        }
        _ => Ok(usage()),
    }
}
