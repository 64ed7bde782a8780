//! What an outbox item does, as stored (JSON in `outbox.op`; bytes in `outbox.data`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Key;

/// The two transports, each with its own worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Matrix,
    Mail,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Matrix => "matrix",
            Transport::Mail => "mail",
        }
    }

    pub fn parse(s: &str) -> Option<Transport> {
        match s {
            "matrix" => Some(Transport::Matrix),
            "mail" => Some(Transport::Mail),
            _ => None,
        }
    }
}

/// A Matrix side effect. Rooms are as configured (id or alias) or resolved ids.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum MatrixOp {
    /// An event, sent with the item's transaction id.
    Send {
        room: String,
        event_type: String,
        content: Value,
    },
    /// An invite of `user` to `room` (one already invited or joined counts as done).
    Invite { room: String, user: String },
    /// The item's bytes uploaded to the media repository (encrypted in an encrypted room),
    /// then posted as an `m.file`/`m.image`/… event, in the thread of `thread_root` if given.
    Upload {
        room: String,
        filename: String,
        content_type: String,
        thread_root: Option<String>,
    },
    /// An event in the direct-message room of `user` (found, or created once).
    DirectMessage { user: String, content: Value },
    /// A redaction of one of the bot's events.
    Redact {
        room: String,
        event_id: String,
        reason: Option<String>,
    },
    /// `inner`, in the thread of the event posted under `key` (resolved when it is sent: the
    /// root may still be queued when this is). Waits while the root is pending; fails when
    /// the root failed.
    InThreadOf { key: String, inner: Box<MatrixOp> },
    /// An edit (`m.replace`) of the event posted under `of`, its new content `content`.
    Replace {
        room: String,
        of: String,
        content: Value,
    },
    /// A bridged mail with inline images: the images (the item's bytes, cut by `inline`) are
    /// uploaded, their `mxc://` URIs put in place of each placeholder of `content`, and the
    /// event sent with the item's transaction id, all in one item. In an encrypted room, where
    /// an `<img>` cannot show encrypted media, `fallback` is sent instead (the images follow in
    /// the thread as encrypted `m.image` events either way).
    MailPost {
        room: String,
        content: Value,
        fallback: Value,
        inline: Vec<Inline>,
    },
}

/// One inline image of a [`MatrixOp::MailPost`]: `len` bytes at `start` of the item's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inline {
    pub placeholder: String,
    pub content_type: String,
    pub start: usize,
    pub len: usize,
}

impl MatrixOp {
    /// Items of one lane are sent in queue order.
    pub fn lane(&self) -> String {
        match self {
            MatrixOp::Send { room, .. }
            | MatrixOp::Invite { room, .. }
            | MatrixOp::Upload { room, .. }
            | MatrixOp::Redact { room, .. } => room.clone(),
            MatrixOp::DirectMessage { user, .. } => format!("dm:{user}"),
            MatrixOp::InThreadOf { inner, .. } => inner.lane(),
            MatrixOp::Replace { room, .. } | MatrixOp::MailPost { room, .. } => room.clone(),
        }
    }

    /// The op with its thread root filled in (see [`MatrixOp::InThreadOf`]).
    pub fn in_thread(self, root: &str) -> MatrixOp {
        match self {
            MatrixOp::Send {
                room,
                event_type,
                content,
            } => MatrixOp::Send {
                room,
                event_type,
                content: crate::chat::in_thread(content, root),
            },
            MatrixOp::Upload {
                room,
                filename,
                content_type,
                ..
            } => MatrixOp::Upload {
                room,
                filename,
                content_type,
                thread_root: Some(root.to_owned()),
            },
            MatrixOp::MailPost {
                room,
                content,
                fallback,
                inline,
            } => MatrixOp::MailPost {
                room,
                content: crate::chat::in_thread(content, root),
                fallback: crate::chat::in_thread(fallback, root),
                inline,
            },
            MatrixOp::InThreadOf { inner, .. } => inner.in_thread(root),
            other => other,
        }
    }

    /// A few words for reports: "post to !room", "invite @u to !room".
    pub fn describe(&self) -> String {
        match self {
            MatrixOp::Send { room, .. } => format!("post to {room}"),
            MatrixOp::Invite { room, user } => format!("invite {user} to {room}"),
            MatrixOp::Upload { room, filename, .. } => format!("upload {filename} to {room}"),
            MatrixOp::DirectMessage { user, .. } => format!("direct message to {user}"),
            MatrixOp::Redact { room, event_id, .. } => format!("redact {event_id} in {room}"),
            MatrixOp::InThreadOf { inner, .. } => inner.describe(),
            MatrixOp::Replace { room, .. } => format!("edit a post in {room}"),
            MatrixOp::MailPost { room, .. } => format!("post to {room}"),
        }
    }
}

/// A mail's envelope; its bytes are the item's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailOp {
    /// Empty: the null reverse path (automatic replies).
    pub envelope_from: String,
    pub recipients: Vec<String>,
    pub message_id: String,
}

impl MailOp {
    pub fn describe(&self) -> String {
        format!("mail {} to {}", self.message_id, self.recipients.join(", "))
    }
}

/// The edit of a status post: `text` as an `m.notice`, replacing the post under `of`.
pub fn status_edit(room: &str, of: &Key, text: &str) -> MatrixOp {
    MatrixOp::Replace {
        room: room.to_owned(),
        of: of.to_string(),
        content: crate::chat::notice(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_are_stored_as_tagged_json() {
        let op = MatrixOp::Invite {
            room: "!r".into(),
            user: "@u:x".into(),
        };
        let v = serde_json::to_value(&op).unwrap();
        assert_eq!(v["op"], "invite");
        assert_eq!(serde_json::from_value::<MatrixOp>(v).unwrap(), op);
        // The shape the migration writes for old rows.
        let old: MatrixOp = serde_json::from_str(
            r#"{"op":"send","room":"!r","event_type":"m.room.message","content":{"body":"x"}}"#,
        )
        .unwrap();
        assert_eq!(old.lane(), "!r");
        let dm = MatrixOp::DirectMessage {
            user: "@u:x".into(),
            content: Value::Null,
        };
        assert_eq!(dm.lane(), "dm:@u:x");
        assert_eq!(Transport::parse("mail"), Some(Transport::Mail));
    }

    #[test]
    fn a_deferred_thread_root_fills_the_inner_op() {
        let inner = MatrixOp::Upload {
            room: "!r".into(),
            filename: "a.pdf".into(),
            content_type: "application/pdf".into(),
            thread_root: None,
        };
        let op = MatrixOp::InThreadOf {
            key: "mail-1".into(),
            inner: Box::new(inner),
        };
        let stored = serde_json::to_string(&op).unwrap();
        let back: MatrixOp = serde_json::from_str(&stored).unwrap();
        assert_eq!(back, op);
        assert_eq!(back.lane(), "!r");
        let MatrixOp::InThreadOf { inner, .. } = back else {
            unreachable!()
        };
        match inner.in_thread("$root") {
            MatrixOp::Upload { thread_root, .. } => {
                assert_eq!(thread_root.as_deref(), Some("$root"))
            }
            other => panic!("{other:?}"),
        }
        let send = MatrixOp::Send {
            room: "!r".into(),
            event_type: "m.room.message".into(),
            content: serde_json::json!({"body": "x"}),
        }
        .in_thread("$root");
        let MatrixOp::Send { content, .. } = send else {
            unreachable!()
        };
        assert_eq!(content["m.relates_to"]["rel_type"], "m.thread");
        assert_eq!(content["m.relates_to"]["event_id"], "$root");
    }
}
