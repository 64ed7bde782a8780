//! `!mail <address> <subject>` (secretariat), the text on the next lines: starts a new
//! outbound conversation whose thread — rooted at the command's own message — is bridged like
//! any other: answers by mail come back into it, and secretariat messages in it are mailed.
//!
//! Only in a room (the Matrix side calls [`execute`] with the message); the address is
//! parsed as a bare mailbox before anything is queued.

use super::Reply;
use crate::bridge::thread::{Outcome, ThreadMessage, Threads};

/// (name, arguments, what it does, secretariat only)
pub const HELP: &[(&str, &str, &str, bool)] = &[(
    "mail",
    "ADDRESS SUBJECT, then the text on the next lines",
    "mail someone; the answer comes back into this message's thread, where your messages are mailed too",
    true,
)];

/// A parsed `!mail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailCommand {
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// `Some` when `body` is a `!mail` command (well-formed or not: `Err` says what is missing).
pub fn parse(prefix: &str, body: &str) -> Option<Result<MailCommand, String>> {
    let rest = body.strip_prefix(prefix)?;
    let (first, text) = rest.split_once('\n').unwrap_or((rest, ""));
    let mut words = first.split_whitespace();
    if !words.next()?.eq_ignore_ascii_case("mail") {
        return None;
    }
    let usage = format!("Usage: `{prefix}mail ADDRESS SUBJECT`, then the text on the next lines.");
    let Some(to) = words.next() else {
        return Some(Err(usage));
    };
    let subject = words.collect::<Vec<_>>().join(" ");
    let text = text.trim();
    if subject.is_empty() || text.is_empty() {
        return Some(Err(usage));
    }
    let to = to.trim_matches(['<', '>']);
    match to.parse::<lettre::Address>() {
        Ok(a) => Some(Ok(MailCommand {
            to: a.to_string(),
            subject,
            text: text.to_owned(),
        })),
        Err(_) => Some(Err(format!(
            "`{}` is not a mail address. {usage}",
            crate::markup::escape_markdown_line(to)
        ))),
    }
}

/// Starts the conversation; the answer is posted in the command's thread.
pub async fn execute(
    threads: &Threads,
    m: &ThreadMessage<'_>,
    cmd: Result<MailCommand, String>,
) -> anyhow::Result<Option<Reply>> {
    if !m.is_secretariat {
        return Ok(Some(Reply::text("`!mail` is for the secretariat only.")));
    }
    let cmd = match cmd {
        Ok(c) => c,
        Err(usage) => return Ok(Some(Reply::text(usage))),
    };
    match threads
        .start_conversation(m, &cmd.to, &cmd.subject, &cmd.text)
        .await?
    {
        // The status post in the thread says queued or held.
        Outcome::Mailed { .. } => Ok(None),
        other => Ok(Some(Reply::text(format!("Not sent: {other:?}")))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_line_has_address_and_subject_the_rest_is_the_text() {
        let c = parse(
            "!",
            "!mail ana@x.test Agenda for May\nDear Ana,\n\nhere it is.",
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.to, "ana@x.test");
        assert_eq!(c.subject, "Agenda for May");
        assert_eq!(c.text, "Dear Ana,\n\nhere it is.");
        assert!(parse("!", "!mail ana@x.test Agenda").unwrap().is_err());
        assert!(
            parse("!", "!mail not-an-address Agenda\ntext")
                .unwrap()
                .is_err()
        );
        assert!(parse("!", "!mailbox x").is_none());
        assert!(parse("!", "hello").is_none());
    }
}
