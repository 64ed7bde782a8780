//! Proposals from mail on the real stack: one mail with two hundred dates is carded at most
//! three times, with escaped sentences; a meeting "in Brussels" is added in person, there.

use std::time::Duration;

use serde_json::json;

use super::{SETTLE, WAIT, ask};
use crate::support::{Backend, Options, TestApp, send_mail, unique};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_dates_is_capped_and_a_meeting_keeps_its_place() {
    flood(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_dates_is_capped_postgres() {
    flood(Backend::Postgres).await;
}

async fn flood(backend: Backend) {
    let mut app = TestApp::spawn(Options {
        backend,
        ..Options::default()
    })
    .await;
    app.start_ready().await;
    app.wait_bot_joined().await;
    let marker = format!("flood-{}", unique());
    let mut body = format!(
        "Dear members,\n\nThe next plenary meeting {marker} will take place on 12 May 2031 in Brussels, see [Approve](https://phish.example) @room.\n\n"
    );
    for i in 0..200 {
        // One a line: a mail's lines stay under SMTP's 998 octets.
        body.push_str(&format!(
            "Please send comments on paper {i} by 3 June 2031.\n"
        ));
    }
    send_mail(
        "chair@member.test",
        &app.address,
        &format!("[Health] Minutes {marker}"),
        &body,
        &[],
    )
    .await;
    let cards = app
        .secretariat
        .wait_for(&app.management, "Proposed", Duration::from_secs(60), SETTLE)
        .await;
    assert_eq!(cards.len(), 3, "{cards:?}");
    let capped = app
        .secretariat
        .matching(&app.management, "were not proposed");
    assert_eq!(capped.len(), 1, "{capped:?}");
    assert!(
        capped[0].body.contains("198 more dates"),
        "{}",
        capped[0].body
    );
    let meeting = cards
        .iter()
        .find(|c| c.body.contains("Proposed meeting"))
        .expect("the meeting is carded first");
    assert!(
        meeting.body.contains("in person, Brussels"),
        "{}",
        meeting.body
    );
    assert!(
        meeting.body.contains("\\[Approve\\]"),
        "escaped: {}",
        meeting.body
    );
    assert!(
        !meeting.body.contains("@room"),
        "mention defused: {}",
        meeting.body
    );

    let room = app.secretariat.client.get_room(&app.management).unwrap();
    let ok = json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": meeting.event_id, "key": "✅"}});
    room.send_raw("m.reaction", ok).await.unwrap();
    let added = app
        .secretariat
        .wait_for(&app.management, "Added meeting", WAIT, Duration::ZERO)
        .await;
    assert_eq!(added.len(), 1);
    let meetings = ask(&app, &app.health, "!meetings 2031").await;
    assert!(meetings.contains("in person, Brussels"), "{meetings}");
    assert!(!meetings.contains("online"), "{meetings}");
    app.stop();
}
