//! `!help [command]`: what convene can do, for members and for the secretariat.

use super::Reply;

/// (name, arguments, what it does, secretariat only)
pub const COMMANDS: &[(&str, &str, &str, bool)] = &[(
    "help",
    "[command]",
    "this list, or help on one command",
    false,
)];

/// Every command convene knows: these, the applications' and the calendar's.
pub fn all() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str, bool)> {
    COMMANDS
        .iter()
        .chain(crate::applications::commands::HELP)
        .chain(crate::calendar::commands::HELP)
        .chain(super::outbox::HELP)
        .chain(super::mail::HELP)
        .chain(super::audit::HELP)
        .chain(crate::privacy::commands::HELP)
}

pub fn reply(prefix: &str, topic: Option<&str>, is_admin: bool) -> Reply {
    if let Some(topic) = topic {
        return match all().find(|c| c.0 == topic) {
            Some((name, args, what, admin)) => {
                let who = if *admin { " (secretariat only)" } else { "" };
                Reply::text(format!("`{prefix}{name} {args}`: {what}{who}."))
            }
            None => Reply::text(format!(
                "No command {}. Try `{prefix}help`.",
                crate::markup::code(&format!("{prefix}{}", crate::markup::truncate(topic, 64)))
            )),
        };
    }
    let mut out = String::from("**convene** — working-groups secretariat bot. Commands:\n\n");
    for (name, args, what, admin) in all() {
        if *admin && !is_admin {
            continue;
        }
        let who = if *admin { " *(secretariat)*" } else { "" };
        out.push_str(&format!("- `{prefix}{name} {args}`: {what}{who}\n"));
    }
    Reply::text(out.trim_end().to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn lists_help_and_explains_one() {
        let r = super::reply("!", None, false);
        assert!(r.markdown.contains("`!help [command]`"), "{}", r.markdown);
        assert!(
            super::reply("!", Some("help"), false)
                .markdown
                .starts_with("`!help")
        );
        assert!(
            super::reply("!", Some("nope"), false)
                .markdown
                .contains("No command")
        );
    }
}
