//! Reminders people control, on the real stack: 🔔 on a reminder subscribes, a second 🔔
//! ends it; "remind me again in 1 minute" in a reminder's thread brings it back once, by
//! direct message.

use std::time::{Duration, Instant};

use chrono::{TimeDelta, Timelike as _, Utc};
use matrix_sdk::ruma::OwnedRoomId;
use serde_json::json;

use super::{SETTLE, WAIT};
use crate::support::{Backend, Options, TestApp, unique};

/// Spawns convene with one Health meeting `marker` starting in `seconds` and the given
/// reminder offsets.
async fn with_meeting(marker: &str, seconds: i64, offsets: &str, backend: Backend) -> TestApp {
    let tz = chrono_tz::Europe::Brussels;
    let mut app = TestApp::spawn(Options {
        backend,
        ..Options::default()
    })
    .await;
    let start = (Utc::now() + TimeDelta::seconds(seconds))
        .with_timezone(&tz)
        .with_nanosecond(0)
        .unwrap();
    let cal_path = app.dir.path().join("calendar.toml");
    std::fs::write(
        &cal_path,
        format!(
            "[[meeting]]\nid = \"{marker}\"\ntitle = \"Meeting {marker}\"\ngroups = [\"health\"]\nmode = \"online\"\nstart = \"{}\"\n",
            start.format("%Y-%m-%dT%H:%M:%S")
        ),
    )
    .unwrap();
    let config = std::fs::read_to_string(&app.config_path).unwrap();
    std::fs::write(
        &app.config_path,
        format!(
            "{config}\n[calendar]\nfile = \"{}\"\n[calendar.offsets]\nmeeting = {offsets}\n",
            cal_path.display()
        ),
    )
    .unwrap();
    app.start_ready().await;
    app.wait_bot_joined().await;
    app
}

/// Joins the direct-message room the bot invites the secretariat to (it creates it with the
/// first direct message).
async fn join_dm(app: &TestApp, timeout: Duration) -> OwnedRoomId {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(r) = app.secretariat.client.invited_rooms().into_iter().next() {
            r.join().await.unwrap();
            return r.room_id().to_owned();
        }
        assert!(Instant::now() < deadline, "no DM invitation");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn react(app: &TestApp, room: &OwnedRoomId, event: &str, key: &str) {
    let room = app.secretariat.client.get_room(room).unwrap();
    let reaction =
        json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": event, "key": key}});
    room.send_raw("m.reaction", reaction).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_bell_ends_the_subscription() {
    let marker = format!("bells-{}", unique());
    // Reminders 135, 90 and 45 s before: 40, 85 and 130 s from now.
    let app = with_meeting(
        &marker,
        175,
        "[\"135s\", \"90s\", \"45s\"]",
        Backend::Sqlite,
    )
    .await;
    let first = app
        .secretariat
        .wait_for(
            &app.health,
            &marker,
            Duration::from_secs(120),
            Duration::ZERO,
        )
        .await;
    react(&app, &app.health, &first[0].event_id, "🔔").await;
    let dm = join_dm(&app, WAIT).await;
    app.secretariat
        .wait_for(&dm, "next Health reminders", WAIT, Duration::ZERO)
        .await;

    // The second reminder comes to the room and, subscribed, by direct message.
    let deadline = Instant::now() + Duration::from_secs(120);
    let second = loop {
        let seen = app.secretariat.matching(&app.health, &marker);
        if let Some(s) = seen.iter().find(|s| s.event_id != first[0].event_id) {
            break s.clone();
        }
        assert!(Instant::now() < deadline, "no second reminder");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    app.secretariat
        .wait_for(&dm, &marker, WAIT, Duration::ZERO)
        .await;
    // 🔔 again, on that one: the subscription ends.
    react(&app, &app.health, &second.event_id, "🔔").await;
    app.secretariat
        .wait_for(&dm, "No more Health reminders", WAIT, Duration::ZERO)
        .await;

    // The third comes to the room only.
    let deadline = Instant::now() + Duration::from_secs(120);
    while app.secretariat.matching(&app.health, &marker).len() < 3 {
        assert!(Instant::now() < deadline, "no third reminder in the room");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(SETTLE).await;
    let by_dm = app.secretariat.matching(&dm, &marker);
    assert_eq!(by_dm.len(), 1, "only the second reminder by DM: {by_dm:?}");
    assert_eq!(app.secretariat.matching(&app.health, &marker).len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snoozed_reminder_comes_back_once_by_direct_message() {
    snoozed(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snoozed_reminder_comes_back_once_postgres() {
    snoozed(Backend::Postgres).await;
}

async fn snoozed(backend: Backend) {
    let marker = format!("snooze-{}", unique());
    let app = with_meeting(&marker, 160, "[\"2m\"]", backend).await;
    let first = app
        .secretariat
        .wait_for(
            &app.health,
            &marker,
            Duration::from_secs(120),
            Duration::ZERO,
        )
        .await;
    let root = first[0].event_id.clone();
    let asked = Utc::now();
    app.secretariat
        .say_in_thread(&app.health, &root, "remind me again in 1 minute")
        .await;
    let answer = app
        .secretariat
        .wait_for(&app.health, "remind you again", WAIT, Duration::ZERO)
        .await;
    assert_eq!(
        answer[0].thread_root.as_deref(),
        Some(root.as_str()),
        "{answer:?}"
    );
    // ⏰ as well: still one snooze for this person and reminder.
    react(&app, &app.health, &root, "⏰").await;

    // The bot opens the direct-message room with the message itself, a minute on.
    let dm = join_dm(&app, Duration::from_secs(120)).await;
    let back = app
        .secretariat
        .wait_for(
            &dm,
            "Reminder again",
            Duration::from_secs(120),
            Duration::ZERO,
        )
        .await;
    let after = Utc::now() - asked;
    assert!(
        after >= TimeDelta::seconds(59),
        "back after {after}, not before the minute asked"
    );
    assert!(back[0].body.contains(&marker), "{}", back[0].body);
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(app.secretariat.matching(&dm, "Reminder again").len(), 1);
    // The thread reply was the calendar's: it was not also mailed out or bridged.
    assert_eq!(app.secretariat.matching(&app.health, &marker).len(), 1);
}
