//! The sync loop and the event handlers: commands in rooms, invites, reactions.
//!
//! Start-up: handlers are registered, then one sync with a zero timeout catches up on what
//! happened while convene was down. Its room keys and invites are taken, but its messages are
//! not answered (the backlog from before the start is ignored); only after it do handlers act
//! on messages. Invites are accepted from the secretariat (`matrix.admins`) and for configured
//! rooms, and rejected otherwise. The bot's own events are ignored.

use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use matrix_sdk::config::SyncSettings;
use matrix_sdk::event_handler::Ctx as Handler;
use matrix_sdk::ruma::events::reaction::OriginalSyncReactionEvent;
use matrix_sdk::ruma::events::room::member::{MembershipState, StrippedRoomMemberEvent};
use matrix_sdk::ruma::events::room::message::{
    MessageType, OriginalSyncRoomMessageEvent, Relation,
};
use matrix_sdk::{Client, Room, RoomState};
use tokio_util::sync::CancellationToken;

use crate::app::Ctx;
use crate::commands::{self, Invocation};
use crate::matrix::outbox::{self, Post};

/// Registers the handlers once per process (a restarted sync worker must not add them again).
pub fn register_handlers(client: &Client, ctx: &Ctx) {
    client.add_event_handler_context(ctx.clone());
    client.add_event_handler(on_message);
    client.add_event_handler(on_invite);
    client.add_event_handler(on_reaction);
}

pub async fn run(ctx: Ctx, cancel: CancellationToken) -> anyhow::Result<()> {
    let client = ctx.matrix.clone().context("Matrix client not available")?;
    if !ctx.live.load(Ordering::SeqCst) {
        let first = client
            .sync_once(SyncSettings::default().timeout(Duration::ZERO))
            .await
            .context("first Matrix sync")?;
        join_configured_rooms(&ctx, &client).await;
        ctx.live.store(true, Ordering::SeqCst);
        tracing::info!(next_batch = %first.next_batch, "Matrix sync caught up; answering from now on");
    }
    ctx.health.set("matrix", true);
    let mut backoff = Duration::from_secs(1);
    loop {
        let settings = SyncSettings::default().timeout(Duration::from_secs(30));
        tokio::select! {
            r = client.sync_once(settings) => match r {
                Ok(_) => {
                    backoff = Duration::from_secs(1);
                    ctx.health.set("matrix", true);
                }
                Err(e) => {
                    ctx.health.set("matrix", false);
                    tracing::warn!(error = %e, retry_in = ?backoff, "Matrix sync failed");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = cancel.cancelled() => return Ok(()),
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                }
            },
            _ = cancel.cancelled() => return Ok(()),
        }
    }
}

/// Joins the management room and the group rooms (accepting a pending invite if there is one).
async fn join_configured_rooms(ctx: &Ctx, client: &Client) {
    for room in ctx.config.configured_rooms() {
        let id = match outbox::resolve_room(client, &room).await {
            Ok(id) => id,
            Err(e) => {
                tracing::warn!(room, error = %e, "cannot resolve configured room");
                continue;
            }
        };
        ctx.rooms
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_string(), room.clone());
        let joined = client
            .get_room(&id)
            .is_some_and(|r| r.state() == RoomState::Joined);
        if !joined && let Err(e) = client.join_room_by_id(&id).await {
            tracing::warn!(room, error = %e, "cannot join configured room (invite the bot)");
        }
    }
}

async fn on_invite(
    ev: StrippedRoomMemberEvent,
    room: Room,
    client: Client,
    Handler(ctx): Handler<Ctx>,
) {
    if ev.content.membership != MembershipState::Invite
        || Some(ev.state_key.as_ref()) != client.user_id()
    {
        return;
    }
    let configured = ctx.room_key(room.room_id().as_str()).is_some();
    if !configured && !ctx.config.is_admin(ev.sender.as_str()) {
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
}

async fn on_message(
    ev: OriginalSyncRoomMessageEvent,
    room: Room,
    client: Client,
    Handler(ctx): Handler<Ctx>,
) {
    if !ctx.live.load(Ordering::SeqCst) || Some(ev.sender.as_ref()) == client.user_id() {
        return;
    }
    let MessageType::Text(text) = &ev.content.msgtype else {
        return;
    };
    let body = strip_reply_fallback(&text.body);
    let thread_root = match &ev.content.relates_to {
        Some(Relation::Thread(t)) => Some(t.event_id.to_string()),
        _ => None,
    };
    let room_id = room.room_id().to_string();
    let room_key = ctx.room_key(&room_id);
    let group = room_key
        .as_deref()
        .and_then(|k| ctx.config.group_by_room(k))
        .map(|g| g.slug.clone());
    let in_management = room_key.as_deref() == Some(ctx.config.matrix.management_room.as_str());
    let inv = Invocation {
        text: body,
        sender: ev.sender.as_str(),
        group: group.as_deref(),
        is_admin: ctx.config.is_admin(ev.sender.as_str()),
        in_management_room: in_management,
        event_id: Some(ev.event_id.as_str()),
        thread_root: thread_root.as_deref(),
    };
    let reply = match commands::execute(&ctx, &inv).await {
        Ok(Some(reply)) => reply,
        Ok(None) => {
            if let Some(root) = thread_root.as_deref() {
                let sent = crate::mail::thread::reply_from_room(
                    &ctx,
                    ev.sender.as_str(),
                    &room_id,
                    ev.event_id.as_str(),
                    root,
                    body,
                )
                .await;
                if let Err(e) = sent {
                    tracing::warn!(error = format!("{e:#}"), "thread reply to mail failed");
                }
            }
            return;
        }
        Err(e) => {
            tracing::warn!(error = format!("{e:#}"), "command failed");
            commands::Reply::text(format!("Sorry, that failed: {e}"))
        }
    };
    let content = crate::matrix::reply_to(
        reply.content(),
        ev.event_id.as_str(),
        thread_root.as_deref(),
    );
    let post = Post::message(format!("cmd-{}", ev.event_id), room_id, content);
    if let Err(e) = outbox::enqueue(&ctx.db.pool, &ctx.install_id, &post).await {
        tracing::error!(error = %e, "cannot queue command reply");
    }
    ctx.wake.matrix_outbox.notify_one();
}

async fn on_reaction(
    ev: OriginalSyncReactionEvent,
    room: Room,
    client: Client,
    Handler(ctx): Handler<Ctx>,
) {
    if !ctx.live.load(Ordering::SeqCst) || Some(ev.sender.as_ref()) == client.user_id() {
        return;
    }
    let target = ev.content.relates_to.event_id.to_string();
    let key = ev.content.relates_to.key.clone();
    tracing::debug!(room = %room.room_id(), %target, key, "reaction");
    if let Err(e) = commands::on_reaction(
        &ctx,
        ev.sender.as_str(),
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
