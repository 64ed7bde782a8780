//! Safe in front of the public internet, on the real stack: each test sends its own hostile
//! mail (or reaction, or command) and checks what convene did with it — whose record it
//! changed, what it mailed to whom, what it posted where, what it decided.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use matrix_sdk::Room;
use matrix_sdk::media::{MediaFormat, MediaRequestParameters};
use matrix_sdk::ruma::OwnedRoomId;
use matrix_sdk::ruma::events::room::MediaSource;
use matrix_sdk::ruma::events::room::message::{MessageType, OriginalSyncRoomMessageEvent};
use serde_json::Value;

use crate::applications::helpers::{ask, card, catchall, mail, started, wait_mails};
use crate::support::{self, Backend, Options, Person, TestApp, unique};

const WAIT: Duration = Duration::from_secs(40);
const SETTLE: Duration = Duration::from_secs(3);

/// An application form with a name and an organisation of the caller's choosing.
fn form(name: &str, organisation: &str, extra: &str) -> String {
    format!(
        "Dear Secretariat,\n\nName: {name}\nOrganisation: {organisation}\n\
         Type of organisation: Public authority\nCountry: Sweden\nWorking group: Health\n\
         Role: Core team member\n{extra}Motivation: we run regional public-health programmes \
         and would like to share our experience with other regions in the working group.\n\n\
         Best regards,\n{name}\n"
    )
}

/// The event `event_id` of `room` as the homeserver has it (the secretariat's view).
async fn raw_event(app: &TestApp, room: &OwnedRoomId, event_id: &str) -> Value {
    let token = app.secretariat.client.access_token().unwrap();
    reqwest::Client::new()
        .get(format!(
            "{}/_matrix/client/v3/rooms/{room}/event/{event_id}",
            support::env("MATRIX_HOMESERVER")
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The latest events of `room` (up to 200, newest first), as the homeserver has them.
async fn raw_messages(app: &TestApp, room: &OwnedRoomId) -> Vec<Value> {
    let token = app.secretariat.client.access_token().unwrap();
    let v: Value = reqwest::Client::new()
        .get(format!(
            "{}/_matrix/client/v3/rooms/{room}/messages?dir=b&limit=200",
            support::env("MATRIX_HOMESERVER")
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["chunk"].as_array().cloned().unwrap_or_default()
}

/// `person` says `command` in `room`; the bot's answer to it containing `needle`.
async fn ask_in(person: &Person, room: &OwnedRoomId, command: &str, needle: &str) -> String {
    let asked = person.say(room, command).await;
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(s) = person
            .matching(room, needle)
            .into_iter()
            .find(|s| s.in_reply_to.as_deref() == Some(asked.as_str()))
        {
            return s.body;
        }
        assert!(
            Instant::now() < deadline,
            "no answer to {command:?} containing {needle:?}; answers: {:?}",
            person
                .matching(room, "")
                .into_iter()
                .filter(|s| s.in_reply_to.as_deref() == Some(asked.as_str()))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The application id in a card's body (`**Expression of interest #12** — …`).
fn card_id(body: &str) -> String {
    body.split('#')
        .nth(1)
        .and_then(|s| s.split('*').next())
        .unwrap()
        .to_string()
}

/// A file event as the person's client decrypted it: room, file name, where its bytes are.
type Files = Arc<Mutex<Vec<(String, String, MediaSource)>>>;

/// Records every `m.file` the person's client sees (after decryption).
fn watch_files(person: &Person) -> Files {
    let files: Files = Arc::default();
    let sink = files.clone();
    person
        .client
        .add_event_handler(move |ev: OriginalSyncRoomMessageEvent, room: Room| {
            let sink = sink.clone();
            async move {
                if let MessageType::File(f) = &ev.content.msgtype {
                    sink.lock().unwrap().push((
                        room.room_id().to_string(),
                        f.body.clone(),
                        f.source.clone(),
                    ));
                }
            }
        });
    files
}

async fn wait_file(files: &Files, room: &OwnedRoomId, name_part: &str) -> MediaSource {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some((_, _, source)) = files
            .lock()
            .unwrap()
            .iter()
            .find(|(r, name, _)| r == room.as_str() && name.contains(name_part))
        {
            return source.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no file {name_part:?} in {room}: {:?}",
            files.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A member of the management room with the default power level (0).
async fn plain_member(app: &TestApp) -> Person {
    let member = Person::new("member").await;
    let room = app.secretariat.client.get_room(&app.management).unwrap();
    room.invite_user_by_id(&member.user).await.unwrap();
    member
        .client
        .join_room_by_id(&app.management)
        .await
        .unwrap();
    app.secretariat
        .wait_joined(&app.management, &member.user, WAIT)
        .await;
    // The member's client must know the room before it can send in it.
    let deadline = Instant::now() + WAIT;
    while member.client.get_room(&app.management).is_none() {
        assert!(Instant::now() < deadline, "member never saw the room");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    member
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strangers_mail_naming_an_applicant_leaves_her_record_and_data_alone() {
    let mut app = started(Backend::Sqlite).await;
    let u = unique();
    let vera = format!("vera-{u}@applicant.test");
    let mallory = format!("mallory-{u}@evil.test");
    mail(
        &vera,
        &format!("Vera Lind <{vera}>"),
        &app.address,
        "Expression of interest",
        &[],
        &form("Vera Lind", "Lund University", ""),
    )
    .await;
    let vera_card = card(&app, &vera, "Expression of interest").await;
    let vera_id = card_id(&vera_card[0].body);
    assert_eq!(
        wait_mails(&vera, 1).await.len(),
        1,
        "Vera's acknowledgement"
    );

    // Mallory, as herself, names Vera's address in the body ("what it states wins", once).
    mail(
        &mallory,
        &mallory,
        &app.address,
        "Expression of interest",
        &[],
        &form("Vera Lind", "Evil Corp", &format!("Email: {vera}\n")),
    )
    .await;
    // And forges Vera's From on her own envelope.
    mail(
        &mallory,
        &format!("Vera Lind <{vera}>"),
        &app.address,
        "Re: Expression of interest",
        &[],
        &form("Vera Lind", "Evil Corp Forged", ""),
    )
    .await;
    let claimed = card(&app, &mallory, "Expression of interest").await;
    assert!(
        claimed.iter().any(|c| c.body.contains("not verified")),
        "the body address is shown as a claim: {claimed:?}"
    );
    app.secretariat
        .wait_for(&app.management, "Evil Corp Forged", WAIT, SETTLE)
        .await;

    let show = ask(&app, &format!("!eoi show {vera_id}"), "mail(s) received").await;
    assert!(
        show.contains("Organisation: Lund University") && show.contains("1 mail(s) received"),
        "Vera's record changed: {show}"
    );
    let list = ask(&app, "!eoi list", "application(s)").await;
    assert!(list.starts_with("3 application(s)"), "{list}");
    assert!(list.contains("submitted by"), "{list}");

    // Mallory got one reply (to her own application), holding nothing of Vera's record; the
    // forged mail got none, and Vera got nothing but her own acknowledgement.
    let to_mallory = wait_mails(&mallory, 1).await;
    assert_eq!(to_mallory.len(), 1, "{to_mallory:?}");
    assert!(!to_mallory[0].contains("Lund"), "{}", to_mallory[0]);
    assert_eq!(catchall(&vera).await.len(), 1);
    // The forged record cannot be decided: its decision mail would go to Vera unconfirmed.
    let forged = app
        .secretariat
        .matching(&app.management, "Evil Corp Forged")
        .into_iter()
        .find(|s| s.body.starts_with("**Expression of interest #"))
        .expect("the forged mail's own card");
    let forged_id = card_id(&forged.body);
    assert_ne!(forged_id, vera_id);
    let refused = ask(&app, &format!("!eoi accept {forged_id}"), "!eoi confirm").await;
    assert!(refused.contains("nobody confirmed"), "{refused}");
    tokio::time::sleep(SETTLE).await;
    assert_eq!(catchall(&vera).await.len(), 1, "no decision mail to Vera");
    assert!(app.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_and_markdown_in_a_name_and_organisation_make_no_link_in_the_card() {
    let mut app = started(Backend::Sqlite).await;
    let u = unique();
    let ana = format!("ana-{u}@applicant.test");
    mail(
        &ana,
        &ana,
        &app.address,
        "Expression of interest <b>urgent</b> [click](https://phish.example/s)",
        &[],
        &form(
            "<a href=\"https://phish.example/n\">Accept here</a>",
            "[Approve now](https://phish.example/o) @room",
            "Region: <https://phish.example/r>\n",
        ),
    )
    .await;
    let cards = card(&app, &ana, "Expression of interest").await;
    assert_eq!(cards.len(), 1);
    let event = raw_event(&app, &app.management, &cards[0].event_id).await;
    let content = &event["content"];
    let html = content["formatted_body"].as_str().unwrap();
    assert!(!html.contains("<a"), "a link in the card: {html}");
    assert!(!html.contains("<b>"), "{html}");
    assert!(
        html.contains("Accept here") && html.contains("Approve now"),
        "{html}"
    );
    assert_eq!(content["m.mentions"], serde_json::json!({}));
    let body = content["body"].as_str().unwrap();
    assert!(!body.contains(" @room"), "a live @room: {body}");
    // `!eoi list` and `!eoi show` quote the same values, as inertly.
    let id = card_id(&cards[0].body);
    let asked = app
        .secretariat
        .say(&app.management, &format!("!eoi show {id}"))
        .await;
    let deadline = Instant::now() + WAIT;
    let answer = loop {
        if let Some(s) = app
            .secretariat
            .matching(&app.management, "mail(s) received")
            .into_iter()
            .find(|s| s.in_reply_to.as_deref() == Some(asked.as_str()))
        {
            break s;
        }
        assert!(Instant::now() < deadline, "no answer to !eoi show");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let event = raw_event(&app, &app.management, &answer.event_id).await;
    let html = event["content"]["formatted_body"].as_str().unwrap();
    assert!(!html.contains("<a"), "a link in !eoi show: {html}");
    assert!(app.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_changed_applications_in_a_minute_get_at_most_three_replies() {
    let mut app = started(Backend::Sqlite).await;
    let u = unique();
    let spam = format!("cannon-{u}@applicant.test");
    let before = support::count_in(&app.log(), "expression of interest recorded");
    for n in 0..20 {
        mail(
            &spam,
            &spam,
            &app.address,
            "Expression of interest",
            &[],
            &form(&format!("Victim Number {n}"), &format!("Org {n}"), ""),
        )
        .await;
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    while support::count_in(&app.log(), "expression of interest recorded") < before + 20 {
        assert!(
            Instant::now() < deadline,
            "not all 20 recorded:\n{}",
            app.log()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let replies = wait_mails(&spam, 3).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let replies_after = catchall(&spam).await;
    assert_eq!(replies.len(), 3, "{} replies", replies.len());
    assert_eq!(replies_after.len(), 3, "{} replies", replies_after.len());
    let told = app
        .secretariat
        .wait_for(&app.management, "are suppressed", WAIT, SETTLE)
        .await;
    assert_eq!(told.len(), 1, "told once: {told:?}");
    assert!(told[0].body.contains(&spam), "{}", told[0].body);
    // A restart does not reset the count: the next change gets no reply either.
    app.stop();
    app.start_ready().await;
    mail(
        &spam,
        &spam,
        &app.address,
        "Expression of interest",
        &[],
        &form("Victim After Restart", "Org R", ""),
    )
    .await;
    app.secretariat
        .wait_for(&app.management, "Victim After Restart", WAIT, SETTLE)
        .await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(catchall(&spam).await.len(), 3);
    assert!(app.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thumbs_up_decides_nothing_and_a_members_check_mark_is_refused_with_the_reason() {
    let mut app = started(Backend::Sqlite).await;
    let member = plain_member(&app).await;
    let u = unique();
    let ana = format!("ana-{u}@applicant.test");
    mail(
        &ana,
        &ana,
        &app.address,
        "Expression of interest",
        &[],
        &form("Ana Ruiz", "Junta", ""),
    )
    .await;
    let cards = card(&app, &ana, "Expression of interest").await;
    let id = card_id(&cards[0].body);
    wait_mails(&ana, 1).await;
    let react = |room: Room, key: &'static str| {
        let target = cards[0].event_id.clone();
        async move {
            room.send_raw(
                "m.reaction",
                serde_json::json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": key}}),
            )
            .await
            .unwrap();
        }
    };
    // The secretariat's "seen".
    react(
        app.secretariat.client.get_room(&app.management).unwrap(),
        "👍",
    )
    .await;
    // A member's ✅.
    react(member.client.get_room(&app.management).unwrap(), "✅").await;
    let why = app
        .secretariat
        .wait_for(
            &app.management,
            "only the secretariat decides",
            WAIT,
            SETTLE,
        )
        .await;
    assert_eq!(why.len(), 1, "{why:?}");
    assert!(
        why[0].body.contains(member.user.as_str()) && why[0].body.contains("power level 0"),
        "{}",
        why[0].body
    );
    assert_eq!(
        why[0].thread_root.as_deref(),
        Some(cards[0].event_id.as_str())
    );
    tokio::time::sleep(SETTLE).await;
    let show = ask(&app, &format!("!eoi show {id}"), "mail(s) received").await;
    assert!(show.contains("status **complete**"), "{show}");
    assert!(!show.contains("accepted"), "{show}");
    assert_eq!(catchall(&ana).await.len(), 1, "no decision mail");
    assert!(
        app.secretariat
            .matching(&app.management, "is now **accepted**")
            .is_empty()
    );
    assert!(app.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eoi_list_in_a_group_room_answers_that_it_works_in_the_management_room_only() {
    let mut app = started(Backend::Sqlite).await;
    let u = unique();
    let ana = format!("ana-{u}@applicant.test");
    mail(
        &ana,
        &ana,
        &app.address,
        "Expression of interest",
        &[],
        &form("Ana Ruiz", "Junta", ""),
    )
    .await;
    card(&app, &ana, "Expression of interest").await;
    let answer = ask_in(
        &app.secretariat,
        &app.health,
        "!eoi list",
        "management room",
    )
    .await;
    assert!(answer.contains("management room only"), "{answer}");
    assert!(!answer.contains(&ana), "{answer}");
    let export = ask_in(
        &app.secretariat,
        &app.health,
        "!eoi export",
        "management room",
    )
    .await;
    assert!(!export.contains("Exported"), "{export}");
    // In the management room it answers.
    let list = ask(&app, "!eoi list", "application(s)").await;
    assert!(list.contains(&ana), "{list}");
    assert!(app.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_version_12_creator_outside_matrix_admins_is_of_the_secretariat() {
    let mut app = TestApp::spawn(Options::default()).await;
    app.env
        .push(("CONVENE__MATRIX__ADMINS".into(), "[]".into()));
    app.start_ready().await;
    app.wait_bot_joined().await;
    let token = app.secretariat.client.access_token().unwrap();
    let hs = support::env("MATRIX_HOMESERVER");
    let http = reqwest::Client::new();
    let state = |kind: &str| {
        http.get(format!(
            "{hs}/_matrix/client/v3/rooms/{}/state/{kind}/",
            app.management
        ))
        .bearer_auth(&token)
        .send()
    };
    let create: Value = state("m.room.create").await.unwrap().json().await.unwrap();
    assert_eq!(create["room_version"], "12", "{create}");
    let levels: Value = state("m.room.power_levels")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        levels["users"].get(app.secretariat.user.as_str()).is_none(),
        "a version 12 creator has no power-level entry: {levels}"
    );

    let answer = ask(&app, "!eoi list", "pplication").await;
    assert_eq!(answer, "No applications.");

    // A member at power level 0 is refused, with the reason; raised to 100, answered.
    let member = plain_member(&app).await;
    let refused = ask_in(&member, &app.management, "!eoi list", "secretariat only").await;
    assert!(refused.contains("power level 0"), "{refused}");
    let mut levels = levels;
    levels["users"][member.user.as_str()] = serde_json::json!(100);
    let put = http
        .put(format!(
            "{hs}/_matrix/client/v3/rooms/{}/state/m.room.power_levels/",
            app.management
        ))
        .bearer_auth(&token)
        .json(&levels)
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{}", put.text().await.unwrap());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let answered = ask_in(&member, &app.management, "!eoi list", "pplication").await;
    assert_eq!(answered, "No applications.");
    assert!(app.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_subject_and_motivation_give_a_card_under_the_event_limit_with_the_rest_attached() {
    let mut app = started(Backend::Sqlite).await;
    let files = watch_files(&app.secretariat);
    let u = unique();
    let ana = format!("ana-{u}@applicant.test");
    let end = format!("END-OF-MOTIVATION-{u}");
    // A 48 KB subject, folded as a header must be, and a 55 KB motivation.
    let subject = format!(
        "Expression of interest {}",
        (0..4000)
            .map(|i| format!("subject{i}"))
            .collect::<Vec<_>>()
            .chunks(8)
            .map(|c| c.join(" "))
            .collect::<Vec<_>>()
            .join("\r\n ")
    );
    assert!(subject.len() > 40_000);
    let motivation = (0..4000)
        .map(|i| format!("motivation{i}"))
        .collect::<Vec<_>>()
        .chunks(6)
        .map(|c| c.join(" "))
        .collect::<Vec<_>>()
        .join("\n");
    let body = form("Ana Ruiz", "Junta", "").replace(
        "Motivation: we run",
        &format!("Motivation: {motivation} {end}\nwe run"),
    );
    assert!(body.len() > 45_000);
    mail(&ana, &ana, &app.address, &subject, &[], &body).await;
    let cards = card(&app, &ana, "Expression of interest").await;
    let event = raw_event(&app, &app.management, &cards[0].event_id).await;
    let content_size = serde_json::to_vec(&event["content"]).unwrap().len();
    assert!(
        content_size < 40 * 1024,
        "card content of {content_size} bytes"
    );
    eprintln!(
        "safety: a {} byte subject and {} byte body gave a card of {content_size} bytes",
        subject.len(),
        body.len()
    );
    let id = card_id(&cards[0].body);
    assert!(cards[0].body.contains(&format!("application-{id}.txt")));

    let source = wait_file(&files, &app.management, &format!("application-{id}.txt")).await;
    let request = MediaRequestParameters {
        source,
        format: MediaFormat::File,
    };
    let bytes = app
        .secretariat
        .client
        .media()
        .get_media_content(&request, false)
        .await
        .unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.contains(&end),
        "the attachment lacks the end of the motivation"
    );
    assert!(
        text.contains("subject3999"),
        "the attachment lacks the end of the subject"
    );

    // Every event the bot posted, the bridged mail included, stayed under the limit.
    tokio::time::sleep(SETTLE).await;
    for ev in raw_messages(&app, &app.management).await {
        if ev["sender"] == app.bot.as_str() {
            let size = serde_json::to_vec(&ev).unwrap().len();
            assert!(size < 65_536, "an event of {size} bytes");
        }
    }
    assert!(!app.log().contains("M_TOO_LARGE"), "{}", app.log());
    assert!(app.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_goes_encrypted_into_an_encrypted_room_and_is_refused_in_an_unencrypted_one() {
    let mut app = started(Backend::Sqlite).await;
    let files = watch_files(&app.secretariat);
    let u = unique();
    let ana = format!("ana-{u}@applicant.test");
    mail(
        &ana,
        &ana,
        &app.address,
        "Expression of interest",
        &[],
        &form("Ana Ruiz", "Junta", ""),
    )
    .await;
    card(&app, &ana, "Expression of interest").await;
    let refused = ask(&app, "!eoi export", "encrypted").await;
    assert!(refused.contains("only into an encrypted room"), "{refused}");

    // A direct conversation with the bot, encrypted.
    let dm = app
        .secretariat
        .create_room("Export", &[&app.bot], true)
        .await;
    app.secretariat.wait_joined(&dm, &app.bot, WAIT).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let done = ask_in(&app.secretariat, &dm, "!eoi export", "Exported").await;
    assert_eq!(done, "Exported 1 applications (encrypted).");
    let source = wait_file(&files, &dm, "eoi-export-").await;
    assert!(
        matches!(source, MediaSource::Encrypted(_)),
        "the CSV went up unencrypted: {source:?}"
    );
    // On the wire the file event is encrypted too, and the CSV decrypts to the applicant.
    let wire: Vec<Value> = raw_messages(&app, &dm)
        .await
        .into_iter()
        .filter(|e| e["sender"] == app.bot.as_str() && e.get("state_key").is_none())
        .collect();
    assert!(wire.len() >= 2, "the answer and the file: {wire:?}");
    assert!(
        wire.iter().all(|e| e["type"] == "m.room.encrypted"),
        "{wire:?}"
    );
    let bytes = app
        .secretariat
        .client
        .media()
        .get_media_content(
            &MediaRequestParameters {
                source,
                format: MediaFormat::File,
            },
            false,
        )
        .await
        .unwrap();
    let csv = String::from_utf8(bytes).unwrap();
    assert!(
        csv.starts_with("id,call,status,email") && csv.contains(&ana),
        "{csv}"
    );
    assert!(app.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_to_a_group_address_puts_no_contact_data_in_the_group_room() {
    let mut app = started(Backend::Sqlite).await;
    let u = unique();
    let email = format!("greta-{u}@applicant.test");
    let name = format!("Greta Lind{u}");
    mail(
        &email,
        &format!("{name} <{email}>"),
        &app.address.replace('@', "+health@"),
        "Expression of interest",
        &[],
        &form(&name, "Region Norrbotten", ""),
    )
    .await;
    // The card, with the contact data, is the secretariat's …
    let cards = card(&app, &email, "Expression of interest").await;
    assert_eq!(cards.len(), 1, "{cards:?}");
    // … the group's room gets one line that says an application came, nothing of whom.
    let notice = app
        .secretariat
        .wait_for(&app.health, "expression of interest", WAIT, SETTLE)
        .await;
    assert_eq!(notice.len(), 1, "{notice:?}");
    for event in raw_messages(&app, &app.health).await {
        let text = event["content"].to_string();
        assert!(
            !text.contains(&email) && !text.contains(&name) && !text.contains("Norrbotten"),
            "personal data in the group room: {text}"
        );
    }
    assert!(app.stop().success());
}
