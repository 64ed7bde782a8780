//! What an outbox item does, as stored (JSON in `outbox.op`; bytes in `outbox.data`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
}
