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
use serde_json::json;

use crate::app::Ctx;
use crate::mail::outbox::{self as mail_outbox, OutMail};
use crate::matrix::outbox::{self, Post};
use crate::storage::{Db, now_ms};

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

/// The thread an inbound mail answers, from the ids it refers to ([`referenced_ids`]).
pub async fn find_thread(db: &Db, referenced: &[String]) -> anyhow::Result<Option<Thread>> {
    for id in referenced {
        let bracketed = format!("<{id}>");
        let sent: Option<(String, String)> =
            sqlx::query_as("SELECT room_id, root_event_id FROM mail_thread WHERE message_id = $1")
                .bind(&bracketed)
                .fetch_optional(&db.pool)
                .await?;
        if let Some((room_id, root_event_id)) = sent {
            return Ok(Some(Thread {
                room_id,
                root_event_id,
            }));
        }
        // A bridged mail: its room post is the thread root.
        let bridged: Option<(String, String)> = sqlx::query_as(
            "SELECT o.room_id, o.event_id FROM inbound_mail m \
             JOIN matrix_outbox o ON o.source = 'mail-' || CAST(m.id AS TEXT) \
             WHERE m.message_key = $1 AND o.event_id IS NOT NULL ORDER BY m.id LIMIT 1",
        )
        .bind(&bracketed)
        .fetch_optional(&db.pool)
        .await?;
        if let Some((room_id, root_event_id)) = bridged {
            return Ok(Some(Thread {
                room_id,
                root_event_id,
            }));
        }
    }
    Ok(None)
}

/// Adds the thread relation to a room post.
pub fn in_thread(mut content: serde_json::Value, thread: &Thread) -> serde_json::Value {
    content["m.relates_to"] = json!({
        "rel_type": "m.thread",
        "event_id": thread.root_event_id,
        "is_falling_back": true,
        "m.in_reply_to": { "event_id": thread.root_event_id },
    });
    content
}

/// The bridged inbound mail whose room post is `root_event_id`, if any.
async fn bridged_mail(db: &Db, root_event_id: &str) -> anyhow::Result<Option<(i64, Vec<u8>)>> {
    let Some(key) = outbox::key_for_event(db, root_event_id).await? else {
        return Ok(None);
    };
    let Some(id) = key
        .strip_prefix("mail-")
        .and_then(|i| i.parse::<i64>().ok())
    else {
        return Ok(None);
    };
    let row: Option<(Option<Vec<u8>>,)> =
        sqlx::query_as("SELECT raw FROM inbound_mail WHERE id = $1")
            .bind(id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.and_then(|r| r.0).map(|raw| (id, raw)))
}

/// Room → mail. Returns true when the message was a reply that went out (or was queued).
pub async fn reply_from_room(
    ctx: &Ctx,
    sender: &str,
    room_id: &str,
    event_id: &str,
    root_event_id: &str,
    body: &str,
) -> anyhow::Result<bool> {
    if !ctx.config.is_admin(sender) {
        return Ok(false);
    }
    let Some((_, raw)) = bridged_mail(&ctx.db, root_event_id).await? else {
        return Ok(false);
    };
    let Some(original) = MessageParser::default().parse(&raw) else {
        return Ok(false);
    };
    let to = original
        .reply_to()
        .or_else(|| original.from())
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(str::to_owned);
    let Some(to) = to else { return Ok(false) };
    let subject = original.subject().unwrap_or("").trim();
    let subject = if subject.to_ascii_lowercase().starts_with("re:") {
        subject.to_owned()
    } else {
        format!("Re: {subject}")
    };
    let original_id = original.message_id().map(|i| format!("<{i}>"));
    let mut references: Vec<String> = referenced_ids(&original)
        .into_iter()
        .rev()
        .map(|i| format!("<{i}>"))
        .collect();
    references.extend(original_id.clone());
    let mail = OutMail {
        dedup_key: format!("reply-{event_id}"),
        to: vec![to.clone()],
        subject,
        text: format!("{}\n", body.trim_end()),
        in_reply_to: original_id,
        references,
        auto_submitted: None,
        calendar: None,
    };
    let from: lettre::message::Mailbox = ctx.config.smtp.from.parse()?;
    let message_id = mail_outbox::message_id_for(&mail.dedup_key, &from);
    let mut tx = ctx.db.pool.begin().await?;
    mail_outbox::enqueue(&mut *tx, &ctx.config.smtp, &mail).await?;
    sqlx::query(
        "INSERT INTO mail_thread (message_id, room_id, root_event_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(&message_id)
    .bind(room_id)
    .bind(root_event_id)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    let ack = Post {
        key: format!("sent-{event_id}"),
        room: room_id.to_owned(),
        event_type: "m.reaction".into(),
        content: json!({ "m.relates_to": { "rel_type": "m.annotation", "event_id": event_id, "key": "📤" } }),
    };
    outbox::enqueue(&mut *tx, &ctx.install_id, &ack).await?;
    tx.commit().await?;
    tracing::info!(%to, %message_id, "thread reply queued as mail");
    ctx.wake.mail_outbox.notify_one();
    ctx.wake.matrix_outbox.notify_one();
    Ok(true)
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
        let v = in_thread(json!({"msgtype": "m.text", "body": "x"}), &t);
        assert_eq!(v["m.relates_to"]["rel_type"], "m.thread");
        assert_eq!(v["m.relates_to"]["event_id"], "$root");
    }
}
