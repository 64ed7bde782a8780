//! Chat commands: parsing (`!name args…`), permission, dispatch to the domain that answers,
//! and reactions on the bot's own events.
//!
//! The same [`Commands::execute`] serves a room (through the Matrix sync handlers) and the CLI
//! (`convene command "<text>" [--group SLUG]`, run with the secretariat's rights), so every
//! command can be tried without Matrix. A message that does not start with the prefix is not
//! a command (`Ok(None)`); an unknown command gets a short hint, not silence, with its name
//! shown as inert code (`crate::markup::code`): whatever was typed never becomes markup.
//! A secretariat command from someone else is refused with the reason the caller found.

mod audit;
mod help;
pub mod mail;
mod outbox;

pub use crate::chat::{Invocation, Reply};
pub use outbox::render as render_outbox;

use crate::applications::Applications;
use crate::outbox::{Key, Outbox};

/// What the text asks for: a command name and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help(Option<String>),
    /// A command of a domain module (applications, calendar, outbox), by name.
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

/// The command handler: the domains it dispatches to.
#[derive(Clone)]
pub struct Commands {
    prefix: String,
    apps: Applications,
    calendar: crate::calendar::Service,
    outbox: Outbox,
}

impl Commands {
    pub fn new(
        prefix: &str,
        apps: Applications,
        calendar: crate::calendar::Service,
        outbox: Outbox,
    ) -> Commands {
        Commands {
            prefix: prefix.to_owned(),
            apps,
            calendar,
            outbox,
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Runs a command if `inv.text` is one. Errors are reported to the asker by the caller.
    pub async fn execute(&self, inv: &Invocation<'_>) -> anyhow::Result<Option<Reply>> {
        let prefix = self.prefix.as_str();
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
                    let why = inv
                        .context
                        .not_secretariat
                        .as_deref()
                        .map(|w| format!(": {}", crate::markup::escape_markdown_line(w)))
                        .unwrap_or_default();
                    Reply::text(format!(
                        "`{prefix}{name}` is for the secretariat only{why}."
                    ))
                } else if crate::applications::commands::handles(&name) {
                    crate::applications::commands::execute(&self.apps, inv, &name, &args).await?
                } else if crate::calendar::commands::handles(&name) {
                    crate::calendar::commands::execute(&self.calendar, inv, &name, &args).await?
                } else if name == "mail" {
                    Reply::text(format!(
                        "`{prefix}mail` starts a conversation in a room: write it there, the text on the next lines."
                    ))
                } else if crate::privacy::commands::handles(&name) {
                    crate::privacy::commands::execute(&self.outbox, inv, &args).await?
                } else if audit::handles(&name) {
                    audit::execute(self.outbox.db(), inv, &args).await?
                } else if outbox::handles(&name) {
                    outbox::execute(&self.outbox, inv.sender, &args).await?
                } else {
                    let typed = crate::markup::truncate(&name, 64);
                    Reply::text(format!(
                        "Unknown command {}. Try {}.",
                        crate::markup::code(&format!("{prefix}{typed}")),
                        crate::markup::code(&format!("{prefix}help")),
                    ))
                }
            }
        };
        Ok(Some(reply))
    }

    /// A reaction on one of convene's events (the decision keys on application cards, ✅ on
    /// proposals, 🔔 on reminders): the key the event was posted under says what it was.
    /// `not_secretariat` says why the sender is not of the secretariat (`None`: they are).
    pub async fn on_reaction(
        &self,
        sender: &str,
        not_secretariat: Option<&str>,
        room_id: &str,
        target_event: &str,
        key: &str,
        reaction_event: &str,
    ) -> anyhow::Result<()> {
        let is_secretariat = not_secretariat.is_none();
        let Some(target) =
            crate::outbox::queue::key_for_event(self.outbox.db(), target_event).await?
        else {
            return Ok(());
        };
        if let Key::EoiCard(id) = target {
            if crate::applications::commands::reaction_verdict(&self.apps.s.cfg, key).is_none() {
                // Not a decision key (👍 "seen", 🎉, …): nothing to do, nothing to say.
                return Ok(());
            }
            if is_secretariat {
                return crate::applications::commands::on_card_reaction(
                    &self.apps,
                    sender,
                    id,
                    key,
                    reaction_event,
                )
                .await;
            }
            tracing::info!(
                eoi = id,
                sender,
                "decision reaction by a non-secretariat member"
            );
            let text = format!(
                "{sender}: only the secretariat decides on applications; your reaction changes \
                 nothing ({}).",
                crate::markup::plain_text(not_secretariat.unwrap_or_default()),
            );
            let mut content = crate::chat::notice(&text);
            if let Some(card) =
                crate::outbox::queue::event_id_for(&self.outbox.db().pool, &target).await?
            {
                content = crate::chat::reply_to(content, &card, Some(&card));
            }
            let mut tx = self.outbox.begin().await?;
            let key = Key::EoiDecided {
                eoi: id,
                event: reaction_event.to_owned(),
            };
            tx.post(key, room_id, content).await?;
            return tx.commit().await;
        }
        crate::calendar::commands::on_reaction(
            &self.calendar,
            sender,
            is_secretariat,
            room_id,
            &target,
            key,
            reaction_event,
        )
        .await?;
        Ok(())
    }

    /// A message that is no command, in the thread of (or in reply to) one of convene's
    /// events: the domain of the event's key may answer it ("remind me again in 1 hour" to a
    /// reminder). `None`: nobody took it (the caller bridges it as usual).
    pub async fn on_thread_reply(
        &self,
        inv: &Invocation<'_>,
        target_event: &str,
    ) -> anyhow::Result<Option<Reply>> {
        let Some(target) =
            crate::outbox::queue::key_for_event(self.outbox.db(), target_event).await?
        else {
            return Ok(None);
        };
        crate::calendar::commands::on_thread_reply(&self.calendar, inv.sender, &target, inv.text)
            .await
    }
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
