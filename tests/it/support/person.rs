//! A real Matrix client playing the secretariat or a member, syncing in the background.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use matrix_sdk::config::SyncSettings;
use matrix_sdk::ruma::api::client::filter::FilterDefinition;
use matrix_sdk::ruma::api::client::room::create_room::v3::{Request as CreateRoom, RoomPreset};
use matrix_sdk::ruma::api::client::sync::sync_events::v3::Filter;
use matrix_sdk::ruma::events::InitialStateEvent;
use matrix_sdk::ruma::events::room::encryption::RoomEncryptionEventContent;
use matrix_sdk::ruma::events::room::message::{
    OriginalSyncRoomMessageEvent, RoomMessageEventContent,
};
use matrix_sdk::ruma::{OwnedRoomId, OwnedUserId};
use matrix_sdk::{Client, Room};

use super::{env, register_user, unique};

/// A message seen by the test client.
#[derive(Debug, Clone)]
pub struct Seen {
    pub room: String,
    pub event_id: String,
    pub sender: String,
    pub body: String,
    pub msgtype: String,
    pub in_reply_to: Option<String>,
    pub thread_root: Option<String>,
}

/// A real Matrix client playing the secretariat (or a member), syncing in the background.
pub struct Person {
    pub client: Client,
    pub user: OwnedUserId,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    _dir: tempfile::TempDir,
}

impl Person {
    pub async fn new(tag: &str) -> Person {
        let localpart = format!("{tag}-{}", unique());
        let user = register_user(&localpart, "pw-person").await;
        let dir = tempfile::tempdir().unwrap();
        let client = Client::builder()
            .homeserver_url(env("MATRIX_HOMESERVER"))
            .sqlite_store(dir.path(), None)
            .build()
            .await
            .unwrap();
        client
            .matrix_auth()
            .login_username(&localpart, "pw-person")
            .send()
            .await
            .unwrap();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let sink = seen.clone();
        client.add_event_handler(move |ev: OriginalSyncRoomMessageEvent, room: Room| {
            let sink = sink.clone();
            async move {
                let in_reply_to = match &ev.content.relates_to {
                    Some(matrix_sdk::ruma::events::room::message::Relation::Reply(r)) => {
                        Some(r.in_reply_to.event_id.to_string())
                    }
                    Some(matrix_sdk::ruma::events::room::message::Relation::Thread(t)) => {
                        t.in_reply_to.as_ref().map(|r| r.event_id.to_string())
                    }
                    _ => None,
                };
                let thread_root = match &ev.content.relates_to {
                    Some(matrix_sdk::ruma::events::room::message::Relation::Thread(t)) => {
                        Some(t.event_id.to_string())
                    }
                    _ => None,
                };
                sink.lock().unwrap().push(Seen {
                    thread_root,
                    room: room.room_id().to_string(),
                    event_id: ev.event_id.to_string(),
                    sender: ev.sender.to_string(),
                    body: ev.content.body().to_owned(),
                    msgtype: ev.content.msgtype().to_owned(),
                    in_reply_to,
                });
            }
        });
        client
            .sync_once(SyncSettings::default().timeout(Duration::ZERO))
            .await
            .unwrap();
        let bg = client.clone();
        tokio::spawn(async move {
            // A long timeline per sync: a burst of posts must not come back `limited`, with
            // the older ones left out (this client does not backfill).
            let mut filter = FilterDefinition::default();
            filter.room.timeline.limit = Some(1000u32.into());
            let settings = SyncSettings::default()
                .timeout(Duration::from_secs(5))
                .filter(Filter::FilterDefinition(filter));
            // Synced again after a homeserver outage (the outage tests stop Synapse).
            loop {
                let _ = bg.sync(settings.clone()).await;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
        Person {
            client,
            user,
            seen,
            _dir: dir,
        }
    }

    pub async fn create_room(
        &self,
        name: &str,
        invite: &[&OwnedUserId],
        encrypted: bool,
    ) -> OwnedRoomId {
        let mut req = CreateRoom::new();
        req.name = Some(name.to_owned());
        req.preset = Some(RoomPreset::PrivateChat);
        req.invite = invite.iter().map(|u| (*u).clone()).collect();
        if encrypted {
            req.initial_state = vec![
                InitialStateEvent::with_empty_state_key(
                    RoomEncryptionEventContent::with_recommended_defaults(),
                )
                .to_raw_any(),
            ];
        }
        self.client
            .create_room(req)
            .await
            .unwrap()
            .room_id()
            .to_owned()
    }

    /// Waits until `user` has joined `room` (as seen by this client's sync).
    pub async fn wait_joined(&self, room: &OwnedRoomId, user: &OwnedUserId, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(r) = self.client.get_room(room)
                && let Ok(Some(m)) = r.get_member_no_sync(user).await
                && *m.membership() == matrix_sdk::ruma::events::room::member::MembershipState::Join
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{user} did not join {room} within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn say(&self, room: &OwnedRoomId, text: &str) -> String {
        let room = self
            .client
            .get_room(room)
            .expect("room known to the test client");
        room.send(RoomMessageEventContent::text_plain(text))
            .await
            .unwrap()
            .response
            .event_id
            .to_string()
    }

    /// Says `text` in the thread of `root` (a message in the thread, as Element sends it).
    pub async fn say_in_thread(&self, room: &OwnedRoomId, root: &str, text: &str) -> String {
        let room = self
            .client
            .get_room(room)
            .expect("room known to the test client");
        room.send_raw(
            "m.room.message",
            serde_json::json!({
                "msgtype": "m.text",
                "body": text,
                "m.relates_to": {"rel_type": "m.thread", "event_id": root, "is_falling_back": true,
                                 "m.in_reply_to": {"event_id": root}},
            }),
        )
        .await
        .unwrap()
        .response
        .event_id
        .to_string()
    }

    /// Messages in `room` whose body contains `needle`, from anyone but this person.
    pub fn matching(&self, room: &OwnedRoomId, needle: &str) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| {
                s.room == room.as_str() && s.body.contains(needle) && s.sender != self.user.as_str()
            })
            .cloned()
            .collect()
    }

    /// Waits for at least one matching message, then lets `settle` pass and returns them all.
    pub async fn wait_for(
        &self,
        room: &OwnedRoomId,
        needle: &str,
        timeout: Duration,
        settle: Duration,
    ) -> Vec<Seen> {
        let deadline = Instant::now() + timeout;
        while self.matching(room, needle).is_empty() {
            assert!(
                Instant::now() < deadline,
                "no message containing {needle:?} in {room} within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(settle).await;
        self.matching(room, needle)
    }
}
