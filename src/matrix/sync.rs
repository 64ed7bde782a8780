//! The sync loop and the event handlers: commands in rooms, invites, reactions.
//!
//! Start-up: handlers are registered, then one sync with a zero timeout catches up on what
//! happened while convene was down. Its room keys and invites are taken, but its messages are
//! not answered (the backlog from before the start is ignored); only after it do handlers act
//! on messages. Invites are accepted from the secretariat ([`Bot::standing`]: `matrix.admins`,
//! or a high enough power level in the management room, creators of version 12 rooms
//! included) and for configured rooms, and rejected otherwise. The bot's own events are
//! ignored. A command learns where it was asked: the room, whether it is a direct
//! conversation (the bot and the asker alone) and whether it is encrypted.
//!
//! A handler that panics is caught, counted as a restart of the `matrix-handlers` worker and
//! logged; the sync goes on and the next event is handled.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::FutureExt;
use matrix_sdk::config::SyncSettings;
use matrix_sdk::event_handler::Ctx as Handler;
use matrix_sdk::ruma::events::reaction::OriginalSyncReactionEvent;
use matrix_sdk::ruma::events::room::member::{MembershipState, StrippedRoomMemberEvent};
use matrix_sdk::ruma::events::room::message::{
    MessageType, OriginalSyncRoomMessageEvent, Relation,
};
use matrix_sdk::ruma::events::room::redaction::OriginalSyncRoomRedactionEvent;
use matrix_sdk::ruma::{OwnedRoomId, UserId};
use matrix_sdk::{Client, Room, RoomState};
use tokio_util::sync::CancellationToken;

use super::secretariat::{self, RoomView, Standing};
use crate::bridge::thread::{ThreadMessage, Threads};
use crate::chat::{Context, Invocation, Reply};
use crate::commands::Commands;
use crate::config::Groups;
use crate::health::Health;
use crate::outbox::{Key, Outbox};

/// What the handlers need: the command handler, the thread bridge, and who is who.
pub struct Bot {
    pub client: Client,
    pub outbox: Outbox,
    pub commands: Commands,
    pub threads: Threads,
    pub health: Arc<Health>,
    pub admins: Vec<String>,
    /// `matrix.secretariat_power_level`.
    pub secretariat_level: i64,
    pub management_room: String,
    pub groups: Groups,
    /// Set once the first sync has caught up; before that, messages are backlog.
    live: AtomicBool,
    /// Resolved room id → the room as configured (id or alias).
    rooms: RwLock<HashMap<String, String>>,
}

impl Bot {
    pub fn new(
        client: Client,
        outbox: Outbox,
        commands: Commands,
        threads: Threads,
        health: Arc<Health>,
        matrix: &crate::config::MatrixConfig,
        groups: Groups,
    ) -> Arc<Bot> {
        let mut rooms = HashMap::new();
        for room in std::iter::once(&matrix.management_room).chain(groups.iter().map(|g| &g.room)) {
            if room.starts_with('!') {
                rooms.insert(room.clone(), room.clone());
            }
        }
        Arc::new(Bot {
            client,
            outbox,
            commands,
            threads,
            health,
            admins: matrix.admins.clone(),
            secretariat_level: matrix.secretariat_power_level,
            management_room: matrix.management_room.clone(),
            groups,
            live: AtomicBool::new(false),
            rooms: RwLock::new(rooms),
        })
    }

    /// The room as configured, for a resolved room id (None: not a configured room).
    pub fn room_key(&self, room_id: &str) -> Option<String> {
        self.rooms
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(room_id)
            .cloned()
    }

    /// The standing of `user` towards the secretariat (rules in [`secretariat`]), from the
    /// management room's power levels and creators as the sync last stored them.
    pub async fn standing(&self, user: &str) -> Standing {
        let Ok(uid) = UserId::parse(user) else {
            return Standing::Not(format!("`{user}` is not a user id"));
        };
        let room = self
            .management_room_id()
            .and_then(|id| self.client.get_room(&id));
        let mut known = None;
        if let Some(room) = &room
            && let Ok(levels) = room.power_levels().await
        {
            let joined = matches!(
                room.get_member_no_sync(&uid).await,
                Ok(Some(m)) if *m.membership() == MembershipState::Join
            );
            known = Some((levels, joined));
        }
        let view = known.as_ref().map(|(levels, joined)| RoomView {
            levels,
            joined: *joined,
        });
        secretariat::judge(&uid, &self.admins, self.secretariat_level, view)
    }

    /// Whether `user` is a member of the secretariat.
    pub async fn is_secretariat(&self, user: &str) -> bool {
        self.standing(user).await.is_secretariat()
    }

    /// The management room's id, once resolved (at once when configured as an id).
    fn management_room_id(&self) -> Option<OwnedRoomId> {
        let rooms = self.rooms.read().unwrap_or_else(|e| e.into_inner());
        rooms
            .iter()
            .find(|(_, configured)| **configured == self.management_room)
            .and_then(|(id, _)| OwnedRoomId::try_from(id.as_str()).ok())
    }

    fn configured_rooms(&self) -> Vec<String> {
        std::iter::once(self.management_room.clone())
            .chain(self.groups.iter().map(|g| g.room.clone()))
            .collect()
    }
}

/// Registers the handlers once per process (a restarted sync worker must not add them again).
pub fn register_handlers(bot: &Arc<Bot>) {
    bot.client.add_event_handler_context(bot.clone());
    bot.client.add_event_handler(on_message);
    bot.client.add_event_handler(on_invite);
    bot.client.add_event_handler(on_reaction);
    bot.client.add_event_handler(on_redaction);
}

/// Runs a handler's body; a panic is caught, counted and logged, never the end of the sync.
async fn guarded(bot: &Bot, what: &'static str, body: impl Future<Output = ()>) {
    if let Err(panic) = AssertUnwindSafe(body).catch_unwind().await {
        bot.health.worker_failed("matrix-handlers");
        tracing::error!(
            handler = what,
            panic = crate::failpoint::panic_message(&panic),
            "Matrix event handler panicked; carrying on"
        );
    }
}

pub async fn run(bot: Arc<Bot>, cancel: CancellationToken) -> anyhow::Result<()> {
    let client = bot.client.clone();
    if !bot.live.load(Ordering::SeqCst) {
        let first = client
            .sync_once(SyncSettings::default().timeout(Duration::ZERO))
            .await
            .map_err(|e| anyhow::anyhow!("first Matrix sync: {e}"))?;
        join_configured_rooms(&bot).await;
        bot.live.store(true, Ordering::SeqCst);
        tracing::info!(next_batch = %first.next_batch, "Matrix sync caught up; answering from now on");
    }
    bot.health.set("matrix", true);
    let mut backoff = Duration::from_secs(1);
    loop {
        let settings = SyncSettings::default().timeout(Duration::from_secs(30));
        tokio::select! {
            r = client.sync_once(settings) => match r {
                Ok(_) => {
                    backoff = Duration::from_secs(1);
                    bot.health.set("matrix", true);
                }
                Err(e) => {
                    bot.health.set("matrix", false);
                    tracing::warn!(error = %e, retry_in = ?backoff, "Matrix sync failed");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = cancel.cancelled() => return Ok(()),
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(4));
                }
            },
            _ = cancel.cancelled() => return Ok(()),
        }
    }
}

/// Joins the management room and the group rooms (accepting a pending invite if there is one).
async fn join_configured_rooms(bot: &Bot) {
    for room in bot.configured_rooms() {
        let id = match super::transport::resolve_room(&bot.client, &room).await {
            Ok(id) => id,
            Err(e) => {
                tracing::warn!(room, error = %e, "cannot resolve configured room");
                continue;
            }
        };
        bot.rooms
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_string(), room.clone());
        let joined = bot
            .client
            .get_room(&id)
            .is_some_and(|r| r.state() == RoomState::Joined);
        if !joined && let Err(e) = bot.client.join_room_by_id(&id).await {
            tracing::warn!(room, error = %e, "cannot join configured room (invite the bot)");
        }
    }
}

async fn on_invite(ev: StrippedRoomMemberEvent, room: Room, Handler(bot): Handler<Arc<Bot>>) {
    let b = bot.clone();
    guarded(&bot, "invite", async move {
        if ev.content.membership != MembershipState::Invite
            || Some(ev.state_key.as_ref()) != b.client.user_id()
        {
            return;
        }
        let configured = b.room_key(room.room_id().as_str()).is_some();
        if !configured && !b.is_secretariat(ev.sender.as_str()).await {
            tracing::info!(room = %room.room_id(), "rejecting invite from outside the secretariat");
            tracing::debug!(room = %room.room_id(), inviter = %ev.sender, "the rejected inviter");
            let _ = room.leave().await;
            return;
        }
        tokio::spawn(async move {
            let mut delay = Duration::from_secs(1);
            for _ in 0..8 {
                match room.join().await {
                    Ok(()) => {
                        tracing::info!(room = %room.room_id(), inviter = %ev.sender, "joined on invite");
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(room = %room.room_id(), error = %e, "join failed; retrying");
                        tokio::time::sleep(delay).await;
                        delay *= 2;
                    }
                }
            }
        });
    })
    .await;
}

async fn on_message(ev: OriginalSyncRoomMessageEvent, room: Room, Handler(bot): Handler<Arc<Bot>>) {
    if !bot.health.leader() {
        // A standby: the leader answers; this process steps in (claims the event) only when
        // the leader has not done so in a few seconds.
        tokio::spawn(async move {
            tokio::time::sleep(crate::lease::STANDBY_DELAY).await;
            let b = bot.clone();
            guarded(&bot, "message", async move {
                handle_message(&b, ev, room).await
            })
            .await;
        });
        return;
    }
    let b = bot.clone();
    guarded(&bot, "message", async move {
        handle_message(&b, ev, room).await
    })
    .await;
}

async fn handle_message(bot: &Bot, ev: OriginalSyncRoomMessageEvent, room: Room) {
    if !bot.live.load(Ordering::SeqCst) || Some(ev.sender.as_ref()) == bot.client.user_id() {
        return;
    }
    crate::failpoint::panic_if("matrix-handler");
    let room_id = room.room_id().to_string();
    // Both processes of a pair sync; the first to claim the event handles it.
    match crate::lease::claim(bot.outbox.db(), ev.event_id.as_str()).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(
                error = format!("{e:#}"),
                "cannot claim the event; not handled"
            );
            return;
        }
    }
    let thread_root = match &ev.content.relates_to {
        Some(Relation::Thread(t)) => Some(t.event_id.to_string()),
        _ => None,
    };
    // An edit of a message already mailed cannot change the mail.
    if let Some(Relation::Replacement(r)) = &ev.content.relates_to {
        let changed = bot
            .threads
            .on_change(&room_id, r.event_id.as_str(), ev.event_id.as_str(), false)
            .await;
        if let Err(e) = changed {
            tracing::warn!(error = format!("{e:#}"), "edit of a mailed message");
        }
        return;
    }
    // A file the secretariat posts in a mail's thread goes out with the next answer.
    if let (Some(root), Some((filename, content_type, size, source))) =
        (thread_root.as_deref(), media_of(&ev.content.msgtype))
    {
        if bot.is_secretariat(ev.sender.as_str()).await {
            let recorded = bot
                .threads
                .record_attachment(
                    root,
                    ev.event_id.as_str(),
                    &filename,
                    &content_type,
                    size,
                    &source,
                )
                .await;
            if let Err(e) = recorded {
                tracing::warn!(error = format!("{e:#}"), "recording a thread attachment");
            }
        }
        return;
    }
    let MessageType::Text(text) = &ev.content.msgtype else {
        return;
    };
    let body = strip_reply_fallback(&text.body);
    // What the message answers: its thread's root, or the event it replies to.
    let answers = match &ev.content.relates_to {
        Some(Relation::Reply(r)) => Some(r.in_reply_to.event_id.to_string()),
        _ => thread_root.clone(),
    };
    if answers.is_none() && !body.starts_with(bot.commands.prefix()) {
        // Neither a command nor an answer to anything: nothing to look up.
        return;
    }
    let room_key = bot.room_key(&room_id);
    let group = room_key
        .as_deref()
        .and_then(|k| bot.groups.by_room(k))
        .map(|g| g.slug.clone());
    let in_management = room_key.as_deref() == Some(bot.management_room.as_str());
    let standing = bot.standing(ev.sender.as_str()).await;
    let is_secretariat = standing.is_secretariat();
    let inv = Invocation {
        text: body,
        sender: ev.sender.as_str(),
        group: group.as_deref(),
        is_admin: is_secretariat,
        in_management_room: in_management,
        event_id: Some(ev.event_id.as_str()),
        thread_root: thread_root.as_deref(),
        context: Context {
            room_id: Some(room_id.clone()),
            direct: room_key.is_none() && is_direct_with(&room, &ev.sender).await,
            encrypted: is_encrypted(&room).await,
            not_secretariat: standing.why_not().map(str::to_owned),
        },
    };
    let display_name = match room.get_member_no_sync(&ev.sender).await {
        Ok(Some(m)) => m.display_name().map(str::to_owned),
        _ => None,
    };
    let message = ThreadMessage {
        is_secretariat,
        sender: ev.sender.as_str(),
        display_name: display_name.as_deref(),
        room_id: &room_id,
        event_id: ev.event_id.as_str(),
        root_event_id: thread_root.as_deref().unwrap_or(ev.event_id.as_str()),
        body,
    };
    let executed = match crate::commands::mail::parse(bot.commands.prefix(), body) {
        Some(cmd) if thread_root.is_none() => {
            crate::commands::mail::execute(&bot.threads, &message, cmd).await
        }
        _ => bot.commands.execute(&inv).await,
    };
    let reply = match executed {
        Ok(Some(reply)) => reply,
        Ok(None) => {
            // A domain may take a reply to one of its events ("remind me again in 1 hour").
            let taken = match answers.as_deref() {
                Some(target) => bot.commands.on_thread_reply(&inv, target).await,
                None => Ok(None),
            };
            match taken {
                Ok(Some(reply)) => {
                    return queue_reply(bot, &ev, &room_id, thread_root, reply).await;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = format!("{e:#}"), "thread reply hook failed"),
            }
            if thread_root.is_some() {
                let files = if is_secretariat {
                    thread_files(bot, &message).await
                } else {
                    Vec::new()
                };
                let sent = bot.threads.reply_from_room(&message, files).await;
                if let Err(e) = sent {
                    tracing::warn!(error = format!("{e:#}"), "thread reply to mail failed");
                }
            }
            return;
        }
        Err(e) => {
            tracing::warn!(error = format!("{e:#}"), "command failed");
            // The error may quote what was typed: inert.
            Reply::text(format!(
                "Sorry, that failed: {}",
                crate::markup::escape_markdown(&e.to_string())
            ))
        }
    };
    queue_reply(bot, &ev, &room_id, thread_root, reply).await
}

/// Answers message `ev` (in its thread if it has one): at once on the fast path, queued when
/// that fails.
async fn queue_reply(
    bot: &Bot,
    ev: &OriginalSyncRoomMessageEvent,
    room_id: &str,
    thread_root: Option<String>,
    reply: Reply,
) {
    let content = crate::chat::reply_to(
        reply.content(),
        ev.event_id.as_str(),
        thread_root.as_deref(),
    );
    let key = Key::Command(ev.event_id.to_string());
    let room = <&matrix_sdk::ruma::RoomId>::try_from(room_id)
        .ok()
        .and_then(|id| bot.client.get_room(id));
    match room {
        Some(room) => reply_now(bot, &room, key, content).await,
        None => queue(bot, room_id, key, content).await,
    }
}

async fn queue(bot: &Bot, room_id: &str, key: Key, content: serde_json::Value) {
    let queued = async {
        let mut tx = bot.outbox.begin().await?;
        tx.post(key, room_id, content).await?;
        tx.commit().await
    };
    if let Err(e) = queued.await {
        tracing::error!(error = %e, "cannot queue command reply");
    }
}

/// The fast path of a command's reply: sent at once, then recorded in the outbox as sent.
///
/// The durable write first is not needed here: the transaction id is the one the outbox
/// would use (`<install id>-cmd-<event>`), fixed by the command's event, so a resend — the
/// queued fallback below, after an error that hid a success — gets the event the server
/// already has, never a second reply. A crash before the send leaves the command unanswered
/// (the restarted bot does not answer its backlog): at most once, as before. Recording after
/// the send keeps reactions on the reply resolving to its key. A reply over the size budget
/// is refused by the server and goes the queued way, where it is cut.
async fn reply_now(bot: &Bot, room: &Room, key: Key, mut content: serde_json::Value) {
    let started = std::time::Instant::now();
    let room_id = room.room_id().to_string();
    let txn = bot.outbox.txn_id(&key.to_string());
    // As the transport does: another process can find the event by its transaction id.
    content[super::transport::TXN_KEY] = serde_json::Value::String(txn.clone());
    let txn: matrix_sdk::ruma::OwnedTransactionId = txn.into();
    let sent = room
        .send_raw("m.room.message", content.clone())
        .with_transaction_id(&txn)
        .await;
    let sent_in = started.elapsed();
    let op = crate::outbox::MatrixOp::Send {
        room: room_id.clone(),
        event_type: "m.room.message".into(),
        content: content.clone(),
    };
    match sent {
        Ok(r) => {
            let event_id = r.response.event_id.to_string();
            if let Err(e) = bot.outbox.record_sent(key, op, &event_id).await {
                tracing::warn!(error = %e, %event_id, "command reply sent but not recorded");
            }
            tracing::debug!(%event_id, sent_ms = sent_in.as_secs_f64() * 1e3, total_ms = started.elapsed().as_secs_f64() * 1e3, "command answered");
        }
        Err(e) => {
            tracing::warn!(error = %e, "command reply not sent at once; queueing it");
            queue(bot, &room_id, key, content).await;
        }
    }
}

async fn on_reaction(ev: OriginalSyncReactionEvent, room: Room, Handler(bot): Handler<Arc<Bot>>) {
    if !bot.health.leader() {
        // A standby, as for messages.
        tokio::spawn(async move {
            tokio::time::sleep(crate::lease::STANDBY_DELAY).await;
            let b = bot.clone();
            guarded(&bot, "reaction", async move {
                handle_reaction(&b, ev, room).await
            })
            .await;
        });
        return;
    }
    let b = bot.clone();
    guarded(&bot, "reaction", async move {
        handle_reaction(&b, ev, room).await
    })
    .await;
}

async fn on_redaction(
    ev: OriginalSyncRoomRedactionEvent,
    room: Room,
    Handler(bot): Handler<Arc<Bot>>,
) {
    let b = bot.clone();
    guarded(&bot, "redaction", async move {
        if !b.live.load(Ordering::SeqCst) || Some(ev.sender.as_ref()) == b.client.user_id() {
            return;
        }
        let Some(target) = ev.content.redacts.clone().or(ev.redacts.clone()) else {
            return;
        };
        let changed = b
            .threads
            .on_change(
                room.room_id().as_str(),
                target.as_str(),
                ev.event_id.as_str(),
                true,
            )
            .await;
        if let Err(e) = changed {
            tracing::warn!(error = format!("{e:#}"), "redaction of a mailed message");
        }
    })
    .await;
}

/// A file, image, video or audio message: (file name, type, size, media source as JSON).
fn media_of(msgtype: &MessageType) -> Option<(String, String, i64, String)> {
    let (name, mime, size, source) = match msgtype {
        MessageType::File(f) => (
            f.filename().to_owned(),
            f.info.as_ref().and_then(|i| i.mimetype.clone()),
            f.info.as_ref().and_then(|i| i.size),
            &f.source,
        ),
        MessageType::Image(f) => (
            f.filename().to_owned(),
            f.info.as_ref().and_then(|i| i.mimetype.clone()),
            f.info.as_ref().and_then(|i| i.size),
            &f.source,
        ),
        MessageType::Video(f) => (
            f.filename().to_owned(),
            f.info.as_ref().and_then(|i| i.mimetype.clone()),
            f.info.as_ref().and_then(|i| i.size),
            &f.source,
        ),
        MessageType::Audio(f) => (
            f.filename().to_owned(),
            f.info.as_ref().and_then(|i| i.mimetype.clone()),
            f.info.as_ref().and_then(|i| i.size),
            &f.source,
        ),
        _ => return None,
    };
    let source = serde_json::to_string(source).ok()?;
    Some((
        name,
        mime.unwrap_or_else(|| "application/octet-stream".into()),
        size.map_or(0, |s| i64::try_from(u64::from(s)).unwrap_or(i64::MAX)),
        source,
    ))
}

/// The files posted in the thread's conversation since its last mail, downloaded (and
/// decrypted) for attaching; a file that cannot be had is left out and logged.
async fn thread_files(
    bot: &Bot,
    m: &ThreadMessage<'_>,
) -> Vec<(i64, crate::mail::compose::Attachment)> {
    use matrix_sdk::media::{MediaFormat, MediaRequestParameters};
    use matrix_sdk::ruma::events::room::MediaSource;
    let pending = match bot.threads.conversation_of(m.root_event_id).await {
        Ok(Some(c)) => bot
            .threads
            .pending_attachments(c.id)
            .await
            .unwrap_or_default(),
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for p in pending {
        let Ok(source) = serde_json::from_str::<MediaSource>(&p.source) else {
            continue;
        };
        let request = MediaRequestParameters {
            source,
            format: MediaFormat::File,
        };
        match bot.client.media().get_media_content(&request, false).await {
            Ok(data) => out.push((
                p.id,
                crate::mail::compose::Attachment {
                    filename: p.filename,
                    content_type: p.content_type,
                    data,
                },
            )),
            Err(e) => {
                tracing::warn!(event = p.event_id, error = %e, "cannot download a thread file")
            }
        }
    }
    out
}

/// A room of two: nobody joined or invited but the bot and `user`, who has joined.
async fn is_direct_with(room: &Room, user: &UserId) -> bool {
    room.joined_members_count() + room.invited_members_count() <= 2
        && matches!(
            room.get_member_no_sync(user).await,
            Ok(Some(m)) if *m.membership() == MembershipState::Join
        )
}

/// Whether the room is end-to-end encrypted (asking the server when the store does not know).
async fn is_encrypted(room: &Room) -> bool {
    let state = room.encryption_state();
    if state.is_unknown() {
        return room
            .latest_encryption_state()
            .await
            .is_ok_and(|s| s.is_encrypted());
    }
    state.is_encrypted()
}

async fn handle_reaction(b: &Bot, ev: OriginalSyncReactionEvent, room: Room) {
    if !b.live.load(Ordering::SeqCst) || Some(ev.sender.as_ref()) == b.client.user_id() {
        return;
    }
    if !crate::lease::claim(b.outbox.db(), ev.event_id.as_str())
        .await
        .unwrap_or(false)
    {
        return;
    }
    let target = ev.content.relates_to.event_id.to_string();
    let key = ev.content.relates_to.key.clone();
    tracing::debug!(room = %room.room_id(), %target, key, "reaction");
    let standing = b.standing(ev.sender.as_str()).await;
    if let Err(e) = b
        .commands
        .on_reaction(
            ev.sender.as_str(),
            standing.why_not(),
            room.room_id().as_str(),
            &target,
            &key,
            ev.event_id.as_str(),
        )
        .await
    {
        tracing::warn!(error = format!("{e:#}"), "reaction handling failed");
    }
}

/// Drops the quoted fallback (`> …` lines) a client puts at the top of a reply.
fn strip_reply_fallback(body: &str) -> &str {
    if !body.starts_with("> ") {
        return body.trim();
    }
    match body.find("\n\n") {
        Some(i) => body[i + 2..].trim(),
        None => body.trim(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reply_fallback_is_stripped() {
        assert_eq!(
            super::strip_reply_fallback("> <@a:b> hi\n> there\n\n!help"),
            "!help"
        );
        assert_eq!(super::strip_reply_fallback("  !help "), "!help");
    }
}
