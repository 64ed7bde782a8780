//! Threads both ways between mail and rooms.
//!
//! Room → mail: a secretariat member (`matrix.admins`) answering in the thread of a bridged
//! mail sends that answer as an email reply from the functional mailbox — to the original's
//! Reply-To or From, `Re:` subject, `In-Reply-To`/`References` set — through the SMTP outbox.
//! Others' thread messages stay in Matrix. The bot marks the message with 📤 once queued.
//!
//! Mail → room: an inbound mail whose `In-Reply-To`/`References` name a bridged mail or a mail
//! convene sent for a thread is posted into that thread.

use mail_parser::{HeaderValue, Message, MessageParser};

use super::inbound;
use crate::mail::compose::OutMail;
use crate::outbox::{Key, Outbox, Report, queue};
use crate::storage::Db;

/// A thread in a room: where an answer belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    pub room_id: String,
    pub root_event_id: String,
}

/// The ids a mail refers to (In-Reply-To first, then References, newest first), without `<>`.
pub fn referenced_ids(msg: &Message<'_>) -> Vec<String> {
    let mut ids = Vec::new();
    for value in [msg.in_reply_to(), msg.references()] {
        match value {
            HeaderValue::Text(t) => ids.push(t.to_string()),
            HeaderValue::TextList(list) => ids.extend(list.iter().rev().map(|t| t.to_string())),
            _ => {}
        }
    }
    ids.into_iter()
        .map(|i| i.trim().trim_matches(['<', '>']).to_owned())
        .filter(|i| !i.is_empty())
        .collect()
}

/// The thread an inbound mail answers, from the ids it refers to ([`referenced_ids`]): a mail
/// convene sent for a thread, or a bridged mail (its room post is the thread root).
pub async fn find_thread(db: &Db, referenced: &[String]) -> anyhow::Result<Option<Thread>> {
    for id in referenced {
        let bracketed = format!("<{id}>");
        if let Some((room_id, root_event_id)) =
            crate::outbox::thread::of_message(db, &bracketed).await?
        {
            return Ok(Some(Thread {
                room_id,
                root_event_id,
            }));
        }
        if let Some(mail) = inbound::id_by_message_id(db, &bracketed).await?
            && let Some((room_id, root_event_id)) = queue::posted(db, &Key::Mail(mail)).await?
        {
            return Ok(Some(Thread {
                room_id,
                root_event_id,
            }));
        }
    }
    Ok(None)
}

/// Adds the thread relation to a room post.
pub fn in_thread(content: serde_json::Value, thread: &Thread) -> serde_json::Value {
    crate::chat::in_thread(content, &thread.root_event_id)
}

/// Room → mail: a secretariat answer in the thread of a bridged mail.
#[derive(Clone)]
pub struct Threads {
    pub db: Db,
    pub outbox: Outbox,
}

impl Threads {
    /// Sends `body` (the message `event_id` in `room_id`, in the thread of `root_event_id`) as
    /// an email reply to the bridged mail of that thread. Returns true when it was queued.
    pub async fn reply_from_room(
        &self,
        is_secretariat: bool,
        room_id: &str,
        event_id: &str,
        root_event_id: &str,
        body: &str,
    ) -> anyhow::Result<bool> {
        if !is_secretariat {
            return Ok(false);
        }
        let Some(Key::Mail(id)) = queue::key_for_event(&self.db, root_event_id).await? else {
            return Ok(false);
        };
        let Some(raw) = inbound::raw_of(&self.db, id).await? else {
            return Ok(false);
        };
        let Some(original) = MessageParser::default().parse(&raw) else {
            return Ok(false);
        };
        let Some(mail) = reply_to_mail(&original, body) else {
            return Ok(false);
        };
        let mut tx = self.outbox.begin().await?;
        let report = Report::in_room(room_id, Some(root_event_id));
        let message_id = tx
            .mail(Key::Reply(event_id.to_owned()), &mail, report)
            .await?;
        tx.event(
            Key::Sent(event_id.to_owned()),
            room_id,
            "m.reaction",
            crate::chat::reaction(event_id, "📤"),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(mail = id, %message_id, "thread reply queued as mail");
        Ok(true)
    }
}

/// The email reply to `original` saying `body`: to its Reply-To or From, `Re:` subject,
/// In-Reply-To and References set.
pub fn reply_to_mail(original: &Message<'_>, body: &str) -> Option<OutMail> {
    let to = original
        .reply_to()
        .or_else(|| original.from())
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(str::to_owned)?;
    let subject = original.subject().unwrap_or("").trim();
    let subject = if subject.to_ascii_lowercase().starts_with("re:") {
        subject.to_owned()
    } else {
        format!("Re: {subject}")
    };
    let original_id = original.message_id().map(|i| format!("<{i}>"));
    let mut references: Vec<String> = referenced_ids(original)
        .into_iter()
        .rev()
        .map(|i| format!("<{i}>"))
        .collect();
    references.extend(original_id.clone());
    Some(OutMail {
        to: vec![to],
        subject,
        text: format!("{}\n", body.trim_end()),
        in_reply_to: original_id,
        references,
        ..OutMail::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_newest_first_without_brackets() {
        let raw = b"In-Reply-To: <b@x>\r\nReferences: <a@x> <b@x>\r\nSubject: Re: s\r\n\r\nhi";
        let msg = MessageParser::default().parse(&raw[..]).unwrap();
        assert_eq!(referenced_ids(&msg), vec!["b@x", "b@x", "a@x"]);
    }

    #[test]
    fn thread_relation_points_at_the_root() {
        let t = Thread {
            room_id: "!r".into(),
            root_event_id: "$root".into(),
        };
        let v = in_thread(serde_json::json!({"msgtype": "m.text", "body": "x"}), &t);
        assert_eq!(v["m.relates_to"]["rel_type"], "m.thread");
        assert_eq!(v["m.relates_to"]["event_id"], "$root");
    }

    #[test]
    fn a_reply_answers_the_sender_in_the_thread() {
        let raw = b"From: Ana <ana@x.test>\r\nReply-To: office@x.test\r\nMessage-ID: <m2@x>\r\nReferences: <m1@x>\r\nSubject: Agenda\r\n\r\nhi";
        let msg = MessageParser::default().parse(&raw[..]).unwrap();
        let mail = reply_to_mail(&msg, "Thanks  ").unwrap();
        assert_eq!(mail.to, vec!["office@x.test"]);
        assert_eq!(mail.subject, "Re: Agenda");
        assert_eq!(mail.in_reply_to.as_deref(), Some("<m2@x>"));
        assert_eq!(mail.references, vec!["<m1@x>", "<m2@x>"]);
        assert_eq!(mail.text, "Thanks\n");
        assert!(mail.auto_submitted.is_none());
    }
}
