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
        Reply { markdown: markdown.into() }
    }

    pub fn content(&self) -> serde_json::Value {
        crate::matrix::notice_markdown(&self.markdown)
    }
}

/// What the text asks for: a command name and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help(Option<String>),
    Unknown(String),
}

impl Command {
    /// Parses the text after the prefix. Unknown names are a variant, not an error.
    pub fn parse(rest: &str) -> Command {
        let mut words = rest.split_whitespace();
        let name = words.next().unwrap_or_default().to_lowercase();
        let args: Vec<&str> = words.collect();
        match name.as_str() {
            "help" | "h" | "?" => Command::Help(args.first().map(|s| s.trim_start_matches('!').to_lowercase())),
            _ => Command::Unknown(name),
        }
    }
}

/// Runs a command if `inv.text` is one. Errors are reported to the asker by the caller.
pub async fn execute(ctx: &Ctx, inv: &Invocation<'_>) -> anyhow::Result<Option<Reply>> {
    let prefix = ctx.config.matrix.command_prefix.as_str();
    let Some(rest) = inv.text.strip_prefix(prefix) else { return Ok(None) };
    if rest.starts_with(char::is_whitespace) || rest.is_empty() {
        return Ok(None);
    }
    let reply = match Command::parse(rest) {
        Command::Help(topic) => help::reply(prefix, topic.as_deref(), inv.is_admin),
        Command::Unknown(name) => Reply::text(format!("Unknown command `{prefix}{name}`. Try `{prefix}help`.")),
    };
    Ok(Some(reply))
}

/// A reaction on one of convene's events (✅/❌ on EoI cards, ✅ on proposals, 🔔 on reminders).
pub async fn on_reaction(
    _ctx: &Ctx,
    _sender: &str,
    _room_id: &str,
    _target_event: &str,
    _key: &str,
    _reaction_event: &str,
) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_is_case_insensitive_and_keeps_unknowns() {
        assert_eq!(Command::parse("HELP"), Command::Help(None));
        assert_eq!(Command::parse("help !next"), Command::Help(Some("next".into())));
        assert_eq!(Command::parse("frobnicate 1 2"), Command::Unknown("frobnicate".into()));
    }
}
