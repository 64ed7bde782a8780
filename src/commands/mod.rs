//! Chat commands: parsing (`!name args…`), permission, execution, and the reply.
//!
//! The same [`execute`] serves a room (through the sync handler) and the CLI
//! (`convene command "<text>" [--group SLUG]`, run with the secretariat's rights), so every
//! command can be tried without Matrix. A message that does not start with the prefix is not
//! a command (`Ok(None)`); an unknown command gets a short hint, not silence.

mod help;

use crate::app::Ctx;

/// Who asked what, where.
#[derive(Debug, Clone)]
pub struct Invocation<'a> {
    pub text: &'a str,
    pub sender: &'a str,
    /// The group of the room it was asked in (or named with `--group`).
    pub group: Option<&'a str>,
    /// A member of the secretariat (`matrix.admins`, or the CLI).
    pub is_admin: bool,
    pub in_management_room: bool,
    pub event_id: Option<&'a str>,
    pub thread_root: Option<&'a str>,
}

/// A command's answer, written in Markdown; rooms get it as an `m.notice` with HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub markdown: String,
}

impl Reply {
    pub fn text(markdown: impl Into<String>) -> Reply {
        Reply {
            markdown: markdown.into(),
        }
    }

    pub fn content(&self) -> serde_json::Value {
        crate::matrix::notice_markdown(&self.markdown)
    }
}

/// What the text asks for: a command name and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help(Option<String>),
    /// A command of a domain module (applications, calendar), by name.
    Other {
        name: String,
        args: Vec<String>,
    },
}

impl Command {
    /// Parses the text after the prefix. Unknown names are a variant, not an error.
    pub fn parse(rest: &str) -> Command {
        let mut words = rest.split_whitespace();
        let name = words.next().unwrap_or_default().to_lowercase();
        let args: Vec<&str> = words.collect();
        match name.as_str() {
            "help" | "h" | "?" => Command::Help(
                args.first()
                    .map(|s| s.trim_start_matches('!').to_lowercase()),
            ),
            _ => Command::Other {
                name,
                args: args.iter().map(|a| a.to_string()).collect(),
            },
        }
    }
}

/// Runs a command if `inv.text` is one. Errors are reported to the asker by the caller.
pub async fn execute(ctx: &Ctx, inv: &Invocation<'_>) -> anyhow::Result<Option<Reply>> {
    let prefix = ctx.config.matrix.command_prefix.as_str();
    let Some(rest) = inv.text.strip_prefix(prefix) else {
        return Ok(None);
    };
    if rest.starts_with(char::is_whitespace) || rest.is_empty() {
        return Ok(None);
    }
    let reply = match Command::parse(rest) {
        Command::Help(topic) => help::reply(prefix, topic.as_deref(), inv.is_admin),
        Command::Other { name, args } => {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let secretariat_only = help::all().any(|c| c.0 == name && c.3);
            if secretariat_only && !inv.is_admin {
                Reply::text(format!("`{prefix}{name}` is for the secretariat only."))
            } else if crate::applications::commands::handles(&name) {
                crate::applications::commands::execute(ctx, inv, &name, &args).await?
            } else if crate::calendar::commands::handles(&name) {
                crate::calendar::commands::execute(ctx, inv, &name, &args).await?
            } else {
                Reply::text(format!(
                    "Unknown command `{prefix}{name}`. Try `{prefix}help`."
                ))
            }
        }
    };
    Ok(Some(reply))
}

/// A reaction on one of convene's events (✅/❌ on EoI cards, ✅ on proposals, 🔔 on reminders).
///
/// Only reactions on events convene posted itself are considered; each domain module looks at
/// the outbox key of the target event (e.g. `eoi-card-12`, `reminder-…`, `proposal-…`).
pub async fn on_reaction(
    ctx: &Ctx,
    sender: &str,
    room_id: &str,
    target_event: &str,
    key: &str,
    _reaction_event: &str,
) -> anyhow::Result<()> {
    let Some(target_key) = crate::matrix::outbox::key_for_event(&ctx.db, target_event).await?
    else {
        return Ok(());
    };
    if crate::applications::commands::on_reaction(ctx, sender, room_id, &target_key, key).await? {
        return Ok(());
    }
    crate::calendar::commands::on_reaction(ctx, sender, room_id, &target_key, key).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_is_case_insensitive_and_keeps_unknowns() {
        assert_eq!(Command::parse("HELP"), Command::Help(None));
        assert_eq!(
            Command::parse("help !next"),
            Command::Help(Some("next".into()))
        );
        assert_eq!(
            Command::parse("frobnicate 1 2"),
            Command::Other {
                name: "frobnicate".into(),
                args: vec!["1".into(), "2".into()]
            }
        );
    }
}
