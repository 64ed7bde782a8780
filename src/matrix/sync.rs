//! The sync loop and the event handlers: commands in rooms, invites, reactions.
//!
//! Start-up: handlers are registered, then one sync with a zero timeout catches up on what
//! happened while convene was down. Its room keys and invites are taken, but its messages are
//! not answered (the backlog from before the start is ignored); only after it do handlers act
//! on messages. Invites are accepted from the secretariat (`matrix.admins`) and for configured
//! rooms, and rejected otherwise. The bot's own events are ignored.
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
use matrix_sdk::{Client, Room, RoomState};
use tokio_util::sync::CancellationToken;

use crate::bridge::thread::Threads;
use crate::chat::{Invocation, Reply};
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

    /// Whether `user` is a member of the secretariat.
    pub fn is_secretariat(&self, user: &str) -> bool {
        self.admins.iter().any(|a| a == user)
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
        if !configured && !b.is_secretariat(ev.sender.as_str()) {
            tracing::info!(room = %room.room_id(), inviter = %ev.sender, "rejecting invite from outside the secretariat");
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
    let MessageType::Text(text) = &ev.content.msgtype else {
        return;
    };
    let body = strip_reply_fallback(&text.body);
    let thread_root = match &ev.content.relates_to {
        Some(Relation::Thread(t)) => Some(t.event_id.to_string()),
        _ => None,
    };
    let room_id = room.room_id().to_string();
    let room_key = bot.room_key(&room_id);
    let group = room_key
        .as_deref()
        .and_then(|k| bot.groups.by_room(k))
        .map(|g| g.slug.clone());
    let in_management = room_key.as_deref() == Some(bot.management_room.as_str());
    let is_secretariat = bot.is_secretariat(ev.sender.as_str());
    let inv = Invocation {
        text: body,
        sender: ev.sender.as_str(),
        group: group.as_deref(),
        is_admin: is_secretariat,
        in_management_room: in_management,
        event_id: Some(ev.event_id.as_str()),
        thread_root: thread_root.as_deref(),
    };
    let reply = match bot.commands.execute(&inv).await {
        Ok(Some(reply)) => reply,
        Ok(None) => {
            if let Some(root) = thread_root.as_deref() {
                let sent = bot
                    .threads
                    .reply_from_room(is_secretariat, &room_id, ev.event_id.as_str(), root, body)
                    .await;
                if let Err(e) = sent {
                    tracing::warn!(error = format!("{e:#}"), "thread reply to mail failed");
                }
            }
            return;
        }
        Err(e) => {
            tracing::warn!(error = format!("{e:#}"), "command failed");
            Reply::text(format!("Sorry, that failed: {e}"))
        }
    };
    let content = crate::chat::reply_to(
        reply.content(),
        ev.event_id.as_str(),
        thread_root.as_deref(),
    );
    let key = Key::Command(ev.event_id.to_string());
    reply_now(bot, &room, key, content).await;
}

/// The fast path of a command's reply: sent at once, then recorded in the outbox as sent.
///
/// The durable write first is not needed here: the transaction id is the one the outbox
/// would use (`<install id>-cmd-<event>`), fixed by the command's event, so a resend — the
/// queued fallback below, after an error that hid a success — gets the event the server
/// already has, never a second reply. A crash before the send leaves the command unanswered
/// (the restarted bot does not answer its backlog): at most once, as before. Recording after
/// the send keeps reactions on the reply resolving to its key.
async fn reply_now(bot: &Bot, room: &Room, key: Key, content: serde_json::Value) {
    let started = std::time::Instant::now();
    let room_id = room.room_id().to_string();
    let txn = bot.outbox.txn_id(&key.to_string());
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
            let queued = async {
                let mut tx = bot.outbox.begin().await?;
                tx.post(key, &room_id, content).await?;
                tx.commit().await
            };
            if let Err(e) = queued.await {
                tracing::error!(error = %e, "cannot queue command reply");
            }
        }
    }
}

async fn on_reaction(ev: OriginalSyncReactionEvent, room: Room, Handler(bot): Handler<Arc<Bot>>) {
    let b = bot.clone();
    guarded(&bot, "reaction", async move {
        if !b.live.load(Ordering::SeqCst) || Some(ev.sender.as_ref()) == b.client.user_id() {
            return;
        }
        let target = ev.content.relates_to.event_id.to_string();
        let key = ev.content.relates_to.key.clone();
        tracing::debug!(room = %room.room_id(), %target, key, "reaction");
        if let Err(e) = b
            .commands
            .on_reaction(
                ev.sender.as_str(),
                b.is_secretariat(ev.sender.as_str()),
                room.room_id().as_str(),
                &target,
                &key,
                ev.event_id.as_str(),
            )
            .await
        {
            tracing::warn!(error = format!("{e:#}"), "reaction handling failed");
        }
    })
    .await;
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
