//! Chat, as the domain modules see it: who asked what where ([`Invocation`]), the answer
//! ([`Reply`]), and the Matrix event content the bot builds (notices, replies, threads).
//!
//! Pure: no Matrix client, no database. Every notice carries `m.mentions: {}`, so text the
//! bot quotes (a subject, an applicant's name) never pings anyone, whatever it contains; a
//! post that means to mention someone says so with [`with_mentions`].

use serde_json::{Value, json};

/// Who asked what, where.
#[derive(Debug, Clone)]
pub struct Invocation<'a> {
    pub text: &'a str,
    pub sender: &'a str,
    /// The group of the room it was asked in (or named with `--group`).
    pub group: Option<&'a str>,
    /// A member of the secretariat (or the CLI).
    pub is_admin: bool,
    pub in_management_room: bool,
    pub event_id: Option<&'a str>,
    pub thread_root: Option<&'a str>,
    /// The room and the asker's standing, beyond the above (default: the command line).
    pub context: Context,
}

/// Where a command was asked and why its sender is not of the secretariat. The default is
/// the command line: no room, run by the operator with the secretariat's rights.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The room's id; `None` on the command line.
    pub room_id: Option<String>,
    /// A direct conversation: a room outside the configuration with nobody but the bot and
    /// the asker in it.
    pub direct: bool,
    /// The room is end-to-end encrypted.
    pub encrypted: bool,
    /// For a sender who is not of the secretariat: why not (shown in refusals).
    pub not_secretariat: Option<String>,
}

impl Invocation<'_> {
    /// Asked where the secretariat's personal data may be shown: the management room, a
    /// direct conversation with the asker, or the command line.
    pub fn is_private(&self) -> bool {
        self.in_management_room || self.context.direct || self.context.room_id.is_none()
    }
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

    pub fn content(&self) -> Value {
        notice_markdown(&self.markdown)
    }
}

/// An `m.notice` with an HTML rendering of `markdown` (which the caller built from escaped
/// values).
pub fn notice_markdown(markdown: &str) -> Value {
    use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
    let mut v = serde_json::to_value(RoomMessageEventContent::notice_markdown(markdown))
        .unwrap_or_else(|_| notice(markdown));
    v["m.mentions"] = json!({});
    v
}

/// A plain `m.notice`.
pub fn notice(text: &str) -> Value {
    json!({ "msgtype": "m.notice", "body": text, "m.mentions": {} })
}

/// Says whom a post means to mention (replacing the empty default).
pub fn with_mentions(mut content: Value, users: &[&str]) -> Value {
    content["m.mentions"] = json!({ "user_ids": users });
    content
}

/// Makes `content` a reply to `event_id`, staying in the thread `thread_root` if there is one.
pub fn reply_to(mut content: Value, event_id: &str, thread_root: Option<&str>) -> Value {
    let relation = match thread_root {
        Some(root) => json!({
            "rel_type": "m.thread",
            "event_id": root,
            "is_falling_back": false,
            "m.in_reply_to": { "event_id": event_id },
        }),
        None => json!({ "m.in_reply_to": { "event_id": event_id } }),
    };
    content["m.relates_to"] = relation;
    content
}

/// Puts a post into the thread of `root` (as a thread message, not a reply to anyone).
pub fn in_thread(mut content: Value, root: &str) -> Value {
    content["m.relates_to"] = json!({
        "rel_type": "m.thread",
        "event_id": root,
        "is_falling_back": true,
        "m.in_reply_to": { "event_id": root },
    });
    content
}

/// A reaction (`m.annotation`) with `key` on `event_id`.
pub fn reaction(event_id: &str, key: &str) -> Value {
    json!({ "m.relates_to": { "rel_type": "m.annotation", "event_id": event_id, "key": key } })
}

/// Escapes text for inclusion in `formatted_body`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_notice_has_html_and_reply() {
        let v = reply_to(notice_markdown("**hi**"), "$e", None);
        assert_eq!(v["msgtype"], "m.notice");
        assert!(
            v["formatted_body"]
                .as_str()
                .unwrap()
                .contains("<strong>hi</strong>")
        );
        assert_eq!(v["m.relates_to"]["m.in_reply_to"]["event_id"], "$e");
        assert_eq!(v["m.mentions"], json!({}));
        let t = reply_to(notice("x"), "$e", Some("$root"));
        assert_eq!(t["m.relates_to"]["rel_type"], "m.thread");
        assert_eq!(t["m.relates_to"]["event_id"], "$root");
        let t = in_thread(notice("x"), "$root");
        assert_eq!(t["m.relates_to"]["event_id"], "$root");
        let m = with_mentions(notice("hi @a:b"), &["@a:b"]);
        assert_eq!(m["m.mentions"]["user_ids"][0], "@a:b");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
