//! Threads both ways between mail and rooms.
//!
//! Room → mail: a secretariat member (`matrix.admins`) writing in the thread of a mail
//! conversation ([`conversation`]) sends it as a mail from the functional mailbox — "Alice
//! Martin via Working Groups", Reply-To the mailbox, to the conversation's correspondent, `Re:`
//! subject, `In-Reply-To`/`References` set, the Markdown as text/plain + text/html, the files
//! the secretariat posted in the thread since the last mail attached — through the outbox.
//! A message starting with `bridge.internal_marker` stays in the room; a member who is not
//! secretariat gets a notice that nothing was sent. Each mailed message gets a status post
//! (queued / held), which the outbox edits when the mail is sent, fails or bounces. Editing
//! or deleting a mailed message gets a notice that the mail cannot be unsent. `!mail` starts
//! a conversation ([`Threads::start_conversation`]).
//!
//! Mail → room: an inbound mail whose `In-Reply-To`/`References` name a bridged mail or a mail
//! convene sent for a thread is posted into that thread.

use mail_parser::{HeaderValue, Message};

use super::conversation::{self, Conversation};
use super::inbound;
use crate::mail::compose::{Attachment, OutMail, Rich};
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
    /// Messages starting with this stay in the room (`bridge.internal_marker`).
    pub internal_marker: String,
    /// Files larger than this are not mailed (`bridge.max_upload_bytes`).
    pub max_attachment_bytes: u64,
}

/// A message in a room thread, as the Matrix side saw it.
pub struct ThreadMessage<'a> {
    pub is_secretariat: bool,
    pub sender: &'a str,
    /// The sender's display name in the room, if set.
    pub display_name: Option<&'a str>,
    pub room_id: &'a str,
    pub event_id: &'a str,
    pub root_event_id: &'a str,
    pub body: &'a str,
}

/// What became of a thread message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not a mail conversation's thread.
    NotBridged,
    /// An internal note: it stays in the room.
    Internal,
    /// Not from the secretariat: a notice says why nothing was sent.
    NotSecretariat,
    /// Queued (or held) as a mail.
    Mailed { message_id: String, held: bool },
}

impl Threads {
    /// The conversation of the thread rooted at `root_event_id`, if it is one.
    pub async fn conversation_of(
        &self,
        root_event_id: &str,
    ) -> anyhow::Result<Option<Conversation>> {
        conversation::by_root(&self.db, root_event_id).await
    }

    /// Files posted in the conversation since its last mail, to download and attach.
    pub async fn pending_attachments(
        &self,
        conversation: i64,
    ) -> anyhow::Result<Vec<conversation::Pending>> {
        conversation::pending_attachments(&self.db, conversation).await
    }

    /// Remembers a file the secretariat posted in a conversation's thread.
    pub async fn record_attachment(
        &self,
        root_event_id: &str,
        event_id: &str,
        filename: &str,
        content_type: &str,
        size: i64,
        source: &str,
    ) -> anyhow::Result<bool> {
        let Some(c) = self.conversation_of(root_event_id).await? else {
            return Ok(false);
        };
        conversation::record_attachment(
            &self.db,
            c.id,
            event_id,
            filename,
            content_type,
            size,
            source,
        )
        .await?;
        Ok(true)
    }

    /// A message in a thread: mailed to the conversation's correspondent when it is the
    /// secretariat's and not an internal note; `files` are the pending attachments, downloaded
    /// (id in `bridge_attachment`, and the file).
    pub async fn reply_from_room(
        &self,
        m: &ThreadMessage<'_>,
        files: Vec<(i64, Attachment)>,
    ) -> anyhow::Result<Outcome> {
        let Some(c) = self.conversation_of(m.root_event_id).await? else {
            return Ok(Outcome::NotBridged);
        };
        if !self.internal_marker.is_empty()
            && m.body.trim_start().starts_with(&self.internal_marker)
        {
            tracing::info!(event = m.event_id, "internal note: not mailed");
            return Ok(Outcome::Internal);
        }
        if !m.is_secretariat {
            let text = format!(
                "{}: only the secretariat's messages in this thread are mailed to {}; yours stays in this room.",
                crate::markup::single_line(m.sender),
                crate::markup::single_line(&c.correspondent)
            );
            let content = crate::chat::reply_to(
                crate::chat::notice(&text),
                m.event_id,
                Some(m.root_event_id),
            );
            self.outbox
                .notice_content(Key::NotMailed(m.event_id.to_owned()), m.room_id, content)
                .await?;
            return Ok(Outcome::NotSecretariat);
        }
        let subject = if c.subject.to_ascii_lowercase().starts_with("re:") {
            c.subject.clone()
        } else {
            format!("Re: {}", c.subject)
        };
        let mail = OutMail {
            to: vec![c.correspondent.clone()],
            subject,
            text: format!("{}\n", m.body.trim_end()),
            in_reply_to: c.last_message_id.clone(),
            references: c.refs.clone(),
            ..OutMail::default()
        };
        self.send(m, &c, mail, files).await
    }

    /// `!mail <address> <subject>` + text: a new outbound conversation rooted at the command's
    /// own message, bridged like any other thread.
    pub async fn start_conversation(
        &self,
        m: &ThreadMessage<'_>,
        to: &str,
        subject: &str,
        text: &str,
    ) -> anyhow::Result<Outcome> {
        let mut tx = self.outbox.begin().await?;
        let id = conversation::create(
            &mut tx,
            conversation::New {
                room: m.room_id,
                root_key: None,
                root_event: Some(m.event_id),
                subject,
                correspondent: to,
                message_id: None,
                refs: &[],
            },
        )
        .await?;
        let c = conversation::get(&mut tx, id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("conversation {id} vanished"))?;
        tx.commit().await?;
        let mail = OutMail {
            to: vec![to.to_owned()],
            subject: subject.to_owned(),
            text: format!("{}\n", text.trim_end()),
            ..OutMail::default()
        };
        self.send(m, &c, mail, Vec::new()).await
    }

    async fn send(
        &self,
        m: &ThreadMessage<'_>,
        c: &Conversation,
        mail: OutMail,
        files: Vec<(i64, Attachment)>,
    ) -> anyhow::Result<Outcome> {
        let html = markdown_html(&mail.text);
        let mut ids = Vec::new();
        let mut attachments = Vec::new();
        let mut skipped = Vec::new();
        for (id, a) in files {
            ids.push(id);
            if a.data.len() as u64 > self.max_attachment_bytes {
                skipped.push(a.filename);
            } else {
                attachments.push(a);
            }
        }
        let rich = Rich {
            sender_name: m.display_name.map(str::to_owned).or_else(|| {
                m.sender
                    .strip_prefix('@')
                    .and_then(|s| s.split(':').next())
                    .map(str::to_owned)
            }),
            reply_to_mailbox: true,
            html: Some(html),
            attachments,
        };
        let key = Key::Reply(m.event_id.to_owned());
        let status = Key::Sent(m.event_id.to_owned());
        // The root of the thread: the `!mail` message is its own root.
        let root = m.root_event_id;
        let mut tx = self.outbox.begin().await?;
        let held = crate::outbox::hold::reason_for(&mut tx, &mail.to).await?;
        let report = Report::in_room(m.room_id, Some(root)).with_status(status.clone());
        let message_id = tx.mail_rich(key.clone(), &mail, &rich, report).await?;
        conversation::note_outbound(&mut tx, c, &message_id).await?;
        conversation::mark_mailed(&mut tx, &ids, &key).await?;
        let to = mail.to.join(", ");
        let mut text = match &held {
            Some((address, reason)) => format!(
                "⏸ Held: {address} is marked for bounces ({reason}). `!outbox` lists the mail; `!outbox retry ID` sends it."
            ),
            None => format!("📤 Queued: mail to {to}"),
        };
        if !skipped.is_empty() {
            text.push_str(&format!(
                " (not attached, larger than the limit: {})",
                skipped.join(", ")
            ));
        }
        let content = crate::chat::reply_to(crate::chat::notice(&text), m.event_id, Some(root));
        tx.post(status, m.room_id, content).await?;
        tx.commit().await?;
        tracing::info!(conversation = c.id, %message_id, held = held.is_some(), "thread message queued as mail");
        Ok(Outcome::Mailed {
            message_id,
            held: held.is_some(),
        })
    }

    /// An edit or redaction of `original`: if that message was mailed, says in its thread that
    /// the mail cannot be unsent. True when it was.
    pub async fn on_change(
        &self,
        room_id: &str,
        original: &str,
        change_event: &str,
        redacted: bool,
    ) -> anyhow::Result<bool> {
        let key = Key::Reply(original.to_owned());
        let message_id = self.outbox.message_id(&key);
        let Some(item) = queue::mail_by_message_id(&self.db, &message_id).await? else {
            return Ok(false);
        };
        let what = if redacted { "Deleting" } else { "Editing" };
        let to = serde_json::from_str::<crate::outbox::MailOp>(&item.op)
            .map(|op| op.recipients.join(", "))
            .unwrap_or_default();
        let text = format!(
            "✉ {what} this message does not change the mail already sent to {to}: a mail cannot be unsent. Write a correction in the thread to mail it."
        );
        let mut content = crate::chat::notice(&text);
        if let Some(root) = item.report_thread.as_deref() {
            content = crate::chat::in_thread(content, root);
        }
        self.outbox
            .notice_content(Key::Unsendable(change_event.to_owned()), room_id, content)
            .await?;
        Ok(true)
    }
}

/// The HTML alternative of a chat message: its Markdown rendered, then sanitised like mail
/// HTML (raw HTML written in the message cannot reach the correspondent).
pub fn markdown_html(text: &str) -> String {
    use matrix_sdk::ruma::events::room::message::FormattedBody;
    let html = match FormattedBody::markdown(text) {
        Some(f) => f.body,
        None => format!(
            "<p>{}</p>",
            crate::markup::escape_html(text.trim()).replace('\n', "<br>")
        ),
    };
    let clean = crate::mail::html::sanitize(&html, &|_| crate::mail::html::CidImage::Missing {
        name: None,
    });
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>{}</body></html>",
        clean.fragment.to_html()
    )
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
mod tests;
