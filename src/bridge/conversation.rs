//! The conversation tables, and only here: `bridge_conversation` (a mail conversation bridged
//! to a room thread) and `bridge_attachment` (files the secretariat posted in such a thread,
//! waiting to go out with its next mail).
//!
//! A conversation is rooted at a bridged mail's post (`root_key`, the outbox key of the post,
//! known before the post is sent) or at a secretariat's `!mail` message (`root_event`). It
//! knows where answers go (the Reply-To or From of the latest inbound mail, or the `!mail`
//! address), who took part, and the Message-IDs for `In-Reply-To`/`References`.

use sqlx::AnyConnection;

use crate::outbox::{Key, queue};
use crate::storage::{Db, now_ms};

/// At most this many Message-IDs are kept for `References` (the oldest first one and the
/// newest ones, as RFC 5322 §3.6.4 suggests trimming).
const MAX_REFS: usize = 20;

#[derive(Debug, Clone, sqlx::FromRow)]
struct Row {
    id: i64,
    room: String,
    root_key: Option<String>,
    root_event: Option<String>,
    subject: String,
    correspondent: String,
    participants: String,
    last_message_id: Option<String>,
    refs: String,
    last_mail_at: i64,
}

/// A conversation bridged to a room thread.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub id: i64,
    /// The room as posted to (configured id or alias, or a resolved id).
    pub room: String,
    /// The outbox key of the root post (a bridged mail), when the bot posted the root.
    pub root_key: Option<Key>,
    /// The root event, when a person's message is the root (`!mail`).
    pub root_event: Option<String>,
    pub subject: String,
    /// Where answers go.
    pub correspondent: String,
    /// Every address that wrote or was written to, lower-cased.
    pub participants: Vec<String>,
    /// The newest Message-ID of the conversation, in or out (`<…>`).
    pub last_message_id: Option<String>,
    /// `References` for the next mail (`<…>`, oldest first), `last_message_id` included.
    pub refs: Vec<String>,
    pub last_mail_at: i64,
}

impl From<Row> for Conversation {
    fn from(r: Row) -> Conversation {
        Conversation {
            id: r.id,
            room: r.room,
            root_key: r.root_key.as_deref().map(Key::parse),
            root_event: r.root_event,
            subject: r.subject,
            correspondent: r.correspondent,
            participants: serde_json::from_str(&r.participants).unwrap_or_default(),
            last_message_id: r.last_message_id,
            refs: serde_json::from_str(&r.refs).unwrap_or_default(),
            last_mail_at: r.last_mail_at,
        }
    }
}

const COLUMNS: &str = "id, room, root_key, root_event, subject, correspondent, participants, \
                       last_message_id, refs, last_mail_at";

/// The subject as compared for threading: without `Re:`/`Fwd:`/`AW:`/… prefixes and `[tags]`,
/// spaces collapsed, lower-cased.
pub fn normalise_subject(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let before = s;
        if let Some(rest) = s.strip_prefix('[').and_then(|r| r.split_once(']')) {
            s = rest.1.trim_start();
        }
        if let Some((head, rest)) = s.split_once(':') {
            let head = head.trim().to_lowercase();
            let head = head.trim_end_matches(|c: char| c.is_ascii_digit() || "[]()".contains(c));
            if matches!(
                head,
                "re" | "fw"
                    | "fwd"
                    | "aw"
                    | "wg"
                    | "tr"
                    | "rv"
                    | "r"
                    | "i"
                    | "sv"
                    | "vs"
                    | "antw"
                    | "odp"
                    | "ref"
                    | "rif"
                    | "enc"
                    | "res"
            ) {
                s = rest.trim_start();
            }
        }
        if s == before {
            break;
        }
    }
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn push_ref(refs: &mut Vec<String>, id: &str) {
    if !refs.iter().any(|r| r == id) {
        refs.push(id.to_owned());
    }
    if refs.len() > MAX_REFS {
        refs.remove(1);
    }
}

/// What starts a conversation.
pub struct New<'a> {
    pub room: &'a str,
    pub root_key: Option<&'a Key>,
    pub root_event: Option<&'a str>,
    pub subject: &'a str,
    pub correspondent: &'a str,
    /// The Message-ID of the first mail (`<…>`) and the ones it refers to, oldest first.
    pub message_id: Option<&'a str>,
    pub refs: &'a [String],
}

/// Starts a conversation (idempotent by its root); returns its id.
pub async fn create(conn: &mut AnyConnection, n: New<'_>) -> anyhow::Result<i64> {
    let mut refs: Vec<String> = Vec::new();
    for r in n.refs {
        push_ref(&mut refs, r);
    }
    if let Some(id) = n.message_id {
        push_ref(&mut refs, id);
    }
    let now = now_ms();
    let participants = vec![n.correspondent.to_ascii_lowercase()];
    sqlx::query(
        "INSERT INTO bridge_conversation (room, root_key, root_event, subject, norm_subject, \
         correspondent, participants, last_message_id, refs, last_mail_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) ON CONFLICT DO NOTHING",
    )
    .bind(n.room)
    .bind(n.root_key.map(Key::to_string))
    .bind(n.root_event)
    .bind(n.subject)
    .bind(normalise_subject(n.subject))
    .bind(n.correspondent)
    .bind(serde_json::to_string(&participants)?)
    .bind(n.message_id)
    .bind(serde_json::to_string(&refs)?)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let (id,): (i64,) =
        sqlx::query_as("SELECT id FROM bridge_conversation WHERE root_key = $1 OR root_event = $2")
            .bind(n.root_key.map(Key::to_string))
            .bind(n.root_event)
            .fetch_one(&mut *conn)
            .await?;
    Ok(id)
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> anyhow::Result<Option<Conversation>> {
    let sql = format!("SELECT {COLUMNS} FROM bridge_conversation WHERE id = $1");
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(Conversation::from))
}

/// The conversation of the thread rooted at `root_event`: a `!mail` message, or a post of
/// the bot whose key roots one.
pub async fn by_root(db: &Db, root_event: &str) -> anyhow::Result<Option<Conversation>> {
    let sql = format!("SELECT {COLUMNS} FROM bridge_conversation WHERE root_event = $1");
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(root_event)
        .fetch_optional(&db.pool)
        .await?;
    if let Some(r) = row {
        return Ok(Some(r.into()));
    }
    let Some(key) = queue::key_for_event(db, root_event).await? else {
        return Ok(None);
    };
    let sql = format!("SELECT {COLUMNS} FROM bridge_conversation WHERE root_key = $1");
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(key.to_string())
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(Conversation::from))
}

/// The conversation with this normalised subject in which `sender` took part, with mail
/// since `since` (ms), the most recent first.
pub async fn by_subject(
    conn: &mut AnyConnection,
    subject: &str,
    sender: &str,
    since: i64,
) -> anyhow::Result<Option<Conversation>> {
    let norm = normalise_subject(subject);
    if norm.chars().count() < 3 {
        return Ok(None);
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM bridge_conversation WHERE norm_subject = $1 AND last_mail_at >= $2 \
         ORDER BY last_mail_at DESC LIMIT 20"
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(norm)
        .bind(since)
        .fetch_all(&mut *conn)
        .await?;
    let sender = sender.to_ascii_lowercase();
    Ok(rows
        .into_iter()
        .map(Conversation::from)
        .find(|c| c.participants.contains(&sender)))
}

/// An inbound mail joined the conversation: answers now go to `reply_to`.
pub async fn note_inbound(
    conn: &mut AnyConnection,
    c: &Conversation,
    message_id: Option<&str>,
    reply_to: &str,
    sender: &str,
) -> anyhow::Result<()> {
    let mut refs = c.refs.clone();
    if let Some(id) = message_id {
        push_ref(&mut refs, id);
    }
    let mut participants = c.participants.clone();
    for a in [sender, reply_to] {
        let a = a.to_ascii_lowercase();
        if !a.is_empty() && !participants.contains(&a) && participants.len() < 50 {
            participants.push(a);
        }
    }
    sqlx::query(
        "UPDATE bridge_conversation SET correspondent = $1, participants = $2, refs = $3, \
         last_message_id = COALESCE($4, last_message_id), last_mail_at = $5 WHERE id = $6",
    )
    .bind(reply_to)
    .bind(serde_json::to_string(&participants)?)
    .bind(serde_json::to_string(&refs)?)
    .bind(message_id)
    .bind(now_ms())
    .bind(c.id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A mail went out in the conversation.
pub async fn note_outbound(
    conn: &mut AnyConnection,
    c: &Conversation,
    message_id: &str,
) -> anyhow::Result<()> {
    let mut refs = c.refs.clone();
    push_ref(&mut refs, message_id);
    sqlx::query(
        "UPDATE bridge_conversation SET refs = $1, last_message_id = $2, last_mail_at = $3 \
         WHERE id = $4",
    )
    .bind(serde_json::to_string(&refs)?)
    .bind(message_id)
    .bind(now_ms())
    .bind(c.id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A file posted in a conversation's thread, not yet mailed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Pending {
    pub id: i64,
    pub event_id: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    /// The event's media source, as JSON (plain `mxc://` URL or encrypted file).
    pub source: String,
}

/// Remembers a file posted in the thread (idempotent by event).
pub async fn record_attachment(
    db: &Db,
    conversation: i64,
    event_id: &str,
    filename: &str,
    content_type: &str,
    size: i64,
    source: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO bridge_attachment (conversation_id, event_id, filename, content_type, size, \
         source, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(conversation)
    .bind(event_id)
    .bind(filename)
    .bind(content_type)
    .bind(size)
    .bind(source)
    .bind(now_ms())
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The files posted since the conversation's last mail, oldest first.
pub async fn pending_attachments(db: &Db, conversation: i64) -> anyhow::Result<Vec<Pending>> {
    Ok(sqlx::query_as(
        "SELECT id, event_id, filename, content_type, size, source FROM bridge_attachment \
         WHERE conversation_id = $1 AND mailed_key IS NULL ORDER BY id LIMIT 20",
    )
    .bind(conversation)
    .fetch_all(&db.pool)
    .await?)
}

/// Marks files as gone out with the mail queued under `key`.
pub async fn mark_mailed(conn: &mut AnyConnection, ids: &[i64], key: &Key) -> anyhow::Result<()> {
    for id in ids {
        sqlx::query("UPDATE bridge_attachment SET mailed_key = $1 WHERE id = $2")
            .bind(key.to_string())
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
