//! The Matrix transport of the outbox: performs each queued side effect with matrix-sdk —
//! events with the item's transaction id (a resend after a crash gets the event the server
//! already has), invites (one already invited or joined counts as done), media uploads
//! (encrypted in an encrypted room, by the SDK's attachment path), direct messages (the room
//! is found or created once, and remembered in `matrix_dm`, which this module owns), and
//! redactions — and classifies failures as transient or permanent.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use anyhow::anyhow;
use matrix_sdk::attachment::AttachmentConfig;
use matrix_sdk::room::reply::{EnforceThread, Reply};
use matrix_sdk::ruma::api::error::{ErrorKind, RetryAfter};
use matrix_sdk::ruma::events::room::member::MembershipState;
use matrix_sdk::ruma::{
    EventId, OwnedRoomId, OwnedRoomOrAliasId, OwnedTransactionId, RoomAliasId, RoomId, UserId,
};
use matrix_sdk::{Client, Room, RoomState};

use crate::outbox::queue::Item;
use crate::outbox::runner::{Deliver, SendError};
use crate::outbox::{MatrixOp, Transport};
use crate::storage::{Db, now_ms};

pub struct MatrixTransport {
    client: Client,
    db: Db,
    aliases: Mutex<HashMap<String, OwnedRoomId>>,
}

impl MatrixTransport {
    pub fn new(client: Client, db: Db) -> MatrixTransport {
        MatrixTransport {
            client,
            db,
            aliases: Mutex::new(HashMap::new()),
        }
    }

    async fn room_id(&self, room: &str) -> Result<OwnedRoomId, SendError> {
        if let Ok(id) = <&RoomId>::try_from(room) {
            return Ok(id.to_owned());
        }
        if let Some(id) = self
            .aliases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(room)
        {
            return Ok(id.clone());
        }
        let alias = <&RoomAliasId>::try_from(room)
            .map_err(|e| SendError::permanent(format!("bad room `{room}`: {e}")))?;
        let id = self
            .client
            .resolve_room_alias(alias)
            .await
            .map_err(|e| classify_http(&e, "resolving the alias"))?
            .room_id;
        self.aliases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(room.to_owned(), id.clone());
        Ok(id)
    }

    /// The room, joined (joining it when the bot was invited or it is public).
    async fn joined(&self, room: &str) -> Result<Room, SendError> {
        let id = self.room_id(room).await?;
        match self.client.get_room(&id) {
            Some(r) if r.state() == RoomState::Joined => Ok(r),
            _ => self
                .client
                .join_room_by_id(&id)
                .await
                .map_err(|e| classify(&e, "joining the room")),
        }
    }

    /// The direct-message room with `user`: remembered, else the one `m.direct` names, else a
    /// new one (created once: remembered before anything is sent in it).
    async fn dm_room(&self, user: &str) -> Result<Room, SendError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT room_id FROM matrix_dm WHERE user_id = $1")
                .bind(user)
                .fetch_optional(&self.db.pool)
                .await
                .map_err(|e| SendError::transient(format!("database: {e}")))?;
        if let Some((room,)) = row {
            return self.joined(&room).await;
        }
        let uid = UserId::parse(user)
            .map_err(|e| SendError::permanent(format!("bad user id `{user}`: {e}")))?;
        let room = match self.client.get_dm_room(&uid) {
            Some(r) => r,
            None => self
                .client
                .create_dm(&uid)
                .await
                .map_err(|e| classify(&e, "creating the direct-message room"))?,
        };
        sqlx::query(
            "INSERT INTO matrix_dm (user_id, room_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user)
        .bind(room.room_id().as_str())
        .bind(now_ms())
        .execute(&self.db.pool)
        .await
        .map_err(|e| SendError::transient(format!("database: {e}")))?;
        Ok(room)
    }

    async fn send(
        &self,
        room: &Room,
        event_type: &str,
        mut content: serde_json::Value,
        txn: &str,
        uncertain: bool,
    ) -> Result<String, SendError> {
        // The transaction id travels in the content too: another convene process (another
        // device, whose transaction ids the server does not share) can find the event.
        if let Some(map) = content.as_object_mut() {
            map.insert(TXN_KEY.into(), txn.into());
        }
        if uncertain && let Some(event) = self.already_sent(room, txn).await {
            tracing::info!(%event, "found in the room: sent before a takeover, not again");
            return Ok(event);
        }
        let txn: OwnedTransactionId = txn.into();
        let response = room
            .send_raw(event_type, content)
            .with_transaction_id(&txn)
            .await
            .map_err(|e| classify(&e, "sending"))?;
        Ok(response.response.event_id.to_string())
    }
}

/// The content field holding the outbox transaction id of every event the bot sends.
pub const TXN_KEY: &str = "org.convene.txn";

impl MatrixTransport {
    /// The event the bot already posted in `room` with this transaction id, among the
    /// room's latest events.
    async fn already_sent(&self, room: &Room, txn: &str) -> Option<String> {
        let me = self.client.user_id()?.to_string();
        let mut options = matrix_sdk::room::MessagesOptions::backward();
        options.limit = 200u32.into();
        let page = room.messages(options).await.ok()?;
        page.chunk.iter().find_map(|ev| {
            let v: serde_json::Value = serde_json::from_str(ev.raw().json().get()).ok()?;
            (v["sender"] == me.as_str() && v["content"][TXN_KEY] == txn)
                .then(|| v["event_id"].as_str().map(str::to_owned))
                .flatten()
        })
    }
}

impl Deliver for MatrixTransport {
    fn transport(&self) -> Transport {
        Transport::Matrix
    }

    fn concurrency(&self) -> usize {
        8
    }

    async fn probe(&self) -> bool {
        self.client.whoami().await.is_ok()
    }

    async fn deliver(&self, item: &Item, txn: &str) -> Result<String, SendError> {
        let op: MatrixOp = serde_json::from_str(&item.op)
            .map_err(|e| SendError::permanent(format!("unreadable outbox item: {e}")))?;
        let op = match op {
            MatrixOp::InThreadOf { key, inner } => {
                let root = self.event_of(&key, "thread root").await?;
                inner.in_thread(&root)
            }
            other => other,
        };
        match op {
            MatrixOp::Send {
                room,
                event_type,
                content,
            } => {
                let room = self.joined(&room).await?;
                self.send(&room, &event_type, content, txn, item.uncertain)
                    .await
            }
            MatrixOp::DirectMessage { user, content } => {
                let room = self.dm_room(&user).await?;
                self.send(&room, "m.room.message", content, txn, item.uncertain)
                    .await
            }
            MatrixOp::Invite { room, user } => {
                let room = self.joined(&room).await?;
                let uid = UserId::parse(&user)
                    .map_err(|e| SendError::permanent(format!("bad user id `{user}`: {e}")))?;
                // A resend after a crash: the invite may have gone out already.
                if let Ok(Some(member)) = room.get_member_no_sync(&uid).await
                    && matches!(
                        member.membership(),
                        MembershipState::Invite | MembershipState::Join
                    )
                {
                    tracing::debug!(%user, "invite: {user} was already in the room");
                    return Ok(format!("{user} was already in"));
                }
                match room.invite_user_by_id(&uid).await {
                    Ok(()) => Ok(format!("invited {user}")),
                    Err(e) if is_already_member(&e) => {
                        tracing::debug!(%user, "invite: {user} was already in the room");
                        Ok(format!("{user} was already in"))
                    }
                    Err(e) => Err(classify(&e, "inviting")),
                }
            }
            MatrixOp::Upload {
                room,
                filename,
                content_type,
                thread_root,
            } => {
                let room = self.joined(&room).await?;
                let mime: mime::Mime = content_type
                    .parse()
                    .unwrap_or(mime::APPLICATION_OCTET_STREAM);
                let data = item.data.clone().unwrap_or_default();
                let mut config = AttachmentConfig::new().txn_id(txn.into());
                if let Some(root) = thread_root {
                    let event_id = EventId::parse(&root)
                        .map_err(|e| SendError::permanent(format!("bad thread root: {e}")))?;
                    config = config.reply(Some(Reply {
                        event_id,
                        enforce_thread: EnforceThread::Threaded(
                            matrix_sdk::ruma::events::room::message::ReplyWithinThread::No,
                        ),
                        add_mentions: matrix_sdk::ruma::events::room::message::AddMentions::No,
                    }));
                }
                let response = room
                    .send_attachment(filename, &mime, data, config)
                    .await
                    .map_err(|e| classify(&e, "uploading"))?;
                Ok(response.event_id.to_string())
            }
            MatrixOp::Replace { room, of, content } => {
                let target = self.event_of(&of, "edited post").await?;
                let room = self.joined(&room).await?;
                self.send(
                    &room,
                    "m.room.message",
                    edit_content(content, &target),
                    txn,
                    item.uncertain,
                )
                .await
            }
            MatrixOp::MailPost {
                room,
                content,
                fallback,
                inline,
            } => {
                let room = self.joined(&room).await?;
                let encrypted = room
                    .latest_encryption_state()
                    .await
                    .map_err(|e| classify(&e, "reading the room's encryption"))?
                    .is_encrypted();
                if encrypted || inline.is_empty() {
                    let content = if encrypted { fallback } else { content };
                    return self
                        .send(&room, "m.room.message", content, txn, item.uncertain)
                        .await;
                }
                // A resend after a crash uploads again (an orphan in the media repository);
                // the event itself goes once, by its transaction id.
                let data = item.data.as_deref().unwrap_or_default();
                let mut text = content.to_string();
                for img in &inline {
                    let bytes = data
                        .get(img.start..img.start + img.len)
                        .ok_or_else(|| SendError::permanent("inline image bytes missing"))?;
                    let mime: mime::Mime = img
                        .content_type
                        .parse()
                        .unwrap_or(mime::APPLICATION_OCTET_STREAM);
                    let uri = self
                        .client
                        .media()
                        .upload(&mime, bytes.to_vec(), None)
                        .await
                        .map_err(|e| classify(&e, "uploading an inline image"))?
                        .content_uri;
                    text = text.replace(&img.placeholder, uri.as_str());
                }
                let content: serde_json::Value = serde_json::from_str(&text)
                    .map_err(|e| SendError::permanent(format!("mail post: {e}")))?;
                self.send(&room, "m.room.message", content, txn, item.uncertain)
                    .await
            }
            MatrixOp::InThreadOf { .. } => Err(SendError::permanent("nested thread op")),
            MatrixOp::Redact {
                room,
                event_id,
                reason,
            } => {
                let room = self.joined(&room).await?;
                let event_id = EventId::parse(&event_id)
                    .map_err(|e| SendError::permanent(format!("bad event id: {e}")))?;
                let response = room
                    .redact(&event_id, reason.as_deref(), Some(txn.into()))
                    .await
                    .map_err(|e| classify_http(&e, "redacting"))?;
                Ok(response.event_id.to_string())
            }
        }
    }
}

impl MatrixTransport {
    /// The event id of the item queued under `key`: waits (transient) while it is pending,
    /// fails when it failed or was never queued.
    async fn event_of(&self, key: &str, what: &str) -> Result<String, SendError> {
        use crate::outbox::queue::{self, State};
        let key = crate::outbox::Key::parse(key);
        let db = |e: anyhow::Error| SendError::transient(format!("database: {e}"));
        if let Some(ev) = queue::event_id_for(&self.db.pool, &key).await.map_err(db)? {
            return Ok(ev);
        }
        match queue::state_of(&self.db.pool, Transport::Matrix, &key)
            .await
            .map_err(db)?
        {
            Some(State::Pending | State::Held) => Err(SendError::Transient {
                reason: format!("waiting for the {what} ({key}) to be posted"),
                retry_after: Some(Duration::from_secs(1)),
            }),
            Some(_) => Err(SendError::permanent(format!(
                "the {what} ({key}) was not posted"
            ))),
            None => Err(SendError::permanent(format!(
                "the {what} ({key}) was never queued"
            ))),
        }
    }
}

/// An `m.replace` edit of `target` to `content` (with the `* ` fallback older clients show).
fn edit_content(content: serde_json::Value, target: &str) -> serde_json::Value {
    let mut edit = content.clone();
    if let Some(body) = content["body"].as_str() {
        edit["body"] = serde_json::Value::String(format!("* {body}"));
    }
    edit["m.new_content"] = content;
    edit["m.relates_to"] = serde_json::json!({"rel_type": "m.replace", "event_id": target});
    edit
}

fn is_already_member(e: &matrix_sdk::Error) -> bool {
    matches!(e.client_api_error_kind(), Some(ErrorKind::Forbidden))
        && e.to_string().to_lowercase().contains("already")
}

/// Rate limits (with the server's wait), server errors and network trouble are transient;
/// other refusals of the server (`M_FORBIDDEN`, `M_TOO_LARGE`, a room that does not exist)
/// are permanent.
fn classify(e: &matrix_sdk::Error, what: &str) -> SendError {
    match e {
        matrix_sdk::Error::Http(h) => classify_http(h, what),
        other => SendError::transient(format!("{what}: {other}")),
    }
}

fn classify_http(e: &matrix_sdk::HttpError, what: &str) -> SendError {
    let reason = format!("{what}: {e}");
    let Some(api) = e.as_client_api_error() else {
        // Connection refused, timeouts, a proxy's HTML page: try again.
        return SendError::transient(reason);
    };
    if let Some(ErrorKind::LimitExceeded(data)) = api.error_kind() {
        let retry_after = data.retry_after.as_ref().map(|r| match r {
            RetryAfter::Delay(d) => *d,
            RetryAfter::DateTime(t) => t
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO),
        });
        return SendError::Transient {
            reason,
            retry_after,
        };
    }
    let status = api.status_code.as_u16();
    if status >= 500 || status == 408 {
        SendError::transient(reason)
    } else {
        SendError::Permanent(reason)
    }
}

/// Resolves a configured room (id or alias) to its id.
pub async fn resolve_room(client: &Client, room: &str) -> anyhow::Result<OwnedRoomId> {
    let target =
        OwnedRoomOrAliasId::try_from(room).map_err(|e| anyhow!("bad room `{room}`: {e}"))?;
    if let Ok(id) = <&RoomId>::try_from(target.as_str()) {
        return Ok(id.to_owned());
    }
    let alias = <&RoomAliasId>::try_from(target.as_str())?;
    Ok(client.resolve_room_alias(alias).await?.room_id)
}
