//! Integration tests of the calendar on the real stack (and, in `cli`, of the
//! `convene calendar` subcommands, which need no servers).

mod changes;
mod cli;
mod people;
mod proposals;

use std::time::{Duration, Instant};

use chrono::{TimeDelta, Timelike as _, Utc};
use futures_util::StreamExt as _;
use mail_parser::MimeHeaders as _;
use serde_json::json;

use crate::support::{Backend, Options, TestApp, env, send_mail, unique};
use convene::calendar::{Item, answers, file};

const WAIT: Duration = Duration::from_secs(30);
const SETTLE: Duration = Duration::from_secs(5);
const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config/calendar.example.toml");

/// Messages of the catch-all mailbox `outside` addressed to `to`, raw.
async fn outside_mail(to: &str) -> Vec<Vec<u8>> {
    let cfg: convene::config::MailboxConfig = toml::from_str(&format!(
        "host = \"127.0.0.1\"\nport = {}\ntls = \"plain\"\nuser = \"{}\"\nsecret = \"{}\"\naddress = \"{}\"\n",
        env("IMAP_PORT"),
        env("CATCHALL_USER"),
        env("CATCHALL_PASSWORD"),
        env("CATCHALL_ADDRESS"),
    ))
    .unwrap();
    let mut session = convene::bridge::imap::connect(&cfg).await.unwrap();
    session.select("INBOX").await.unwrap();
    let found = session.search(format!("TO \"{to}\"")).await.unwrap();
    let mut out = Vec::new();
    if !found.is_empty() {
        let set: Vec<String> = found.iter().map(u32::to_string).collect();
        let mut stream = session.fetch(set.join(","), "BODY.PEEK[]").await.unwrap();
        while let Some(item) = stream.next().await {
            if let Some(body) = item.unwrap().body() {
                out.push(body.to_vec());
            }
        }
    }
    let _ = session.logout().await;
    out
}

/// The `text/calendar` part of a raw mail.
fn calendar_part(raw: &[u8]) -> Option<String> {
    let msg = mail_parser::MessageParser::default().parse(raw)?;
    msg.parts.iter().find_map(|p| {
        let ct = p.content_type()?;
        (ct.ctype() == "text" && ct.subtype() == Some("calendar"))
            .then(|| String::from_utf8_lossy(p.contents()).into_owned())
    })
}

/// The distinct UIDs of a calendar's VEVENTs: one per item (a series' moved dates are
/// VEVENTs of their own with the series' UID).
fn uids(ics: &str) -> std::collections::BTreeSet<String> {
    use icalendar::Component as _;
    events(ics)
        .iter()
        .filter_map(|e| e.get_uid().map(str::to_owned))
        .collect()
}

fn events(ics: &str) -> Vec<icalendar::Event> {
    let cal: icalendar::Calendar = ics.parse().expect("parses as iCalendar");
    cal.components
        .into_iter()
        .filter_map(|c| match c {
            icalendar::CalendarComponent::Event(e) => Some(e),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_reminder_arrives_once_in_the_room_and_the_mailbox() {
    reminder_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_reminder_arrives_once_postgres() {
    reminder_once(Backend::Postgres).await;
}

async fn reminder_once(backend: Backend) {
    let marker = format!("rem-{}", unique());
    let secretariat = format!("secretariat-{}@example.test", unique());
    let tz = chrono_tz::Europe::Brussels;
    // Due (start − 2 min) 40 s after now: after the daemon is up, without long waits.
    let start = (Utc::now() + TimeDelta::seconds(160))
        .with_timezone(&tz)
        .with_nanosecond(0)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cal_path = dir.path().join("calendar.toml");
    std::fs::write(
        &cal_path,
        format!(
            "timezone = \"Europe/Brussels\"\n[[meeting]]\nid = \"{marker}\"\ntitle = \"Meeting {marker}\"\ngroups = [\"health\"]\nmode = \"online\"\nstart = \"{}\"\njoin_link = \"https://meet.example/{marker}\"\n",
            start.format("%Y-%m-%dT%H:%M:%S")
        ),
    )
    .unwrap();
    let mut app = TestApp::spawn(Options {
        extra_config: format!(
            "[calendar]\nfile = \"{}\"\nsecretariat_email = [\"{secretariat}\"]\n[calendar.offsets]\nmeeting = [\"2m\"]\n",
            cal_path.display()
        ),
        backend,
        ..Options::default()
    })
    .await;
    app.start_ready().await;
    app.wait_bot_joined().await;

    app.secretariat
        .wait_for(
            &app.health,
            &marker,
            Duration::from_secs(120),
            Duration::ZERO,
        )
        .await;
    let arrived = Utc::now();
    tokio::time::sleep(SETTLE).await;
    let got = app.secretariat.matching(&app.health, &marker);
    assert_eq!(got.len(), 1, "exactly one reminder: {got:?}");
    assert!(got[0].body.contains("🔔"), "{}", got[0].body);
    assert!(!got[0].body.contains("Sent late"), "{}", got[0].body);
    assert!(app.secretariat.matching(&app.digital, &marker).is_empty());
    let due = start.to_utc() - TimeDelta::minutes(2);
    eprintln!(
        "reminder seen {} ms after it was due",
        (arrived - due).num_milliseconds()
    );

    // One mail to the secretariat, with a valid invitation.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mails = loop {
        let mails = outside_mail(&secretariat).await;
        if !mails.is_empty() || Instant::now() > deadline {
            break mails;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(mails.len(), 1, "one reminder mail");
    let ics = calendar_part(&mails[0]).expect("a text/calendar part");
    assert!(ics.contains("METHOD:REQUEST"), "{ics}");
    let ev = events(&ics);
    assert_eq!(ev.len(), 1);
    use icalendar::Component as _;
    assert_eq!(
        ev[0].get_summary(),
        Some(format!("Meeting {marker}").as_str())
    );

    // A restart fires nothing again.
    app.stop();
    app.start_ready().await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(app.secretariat.matching(&app.health, &marker).len(), 1);
    assert_eq!(outside_mail(&secretariat).await.len(), 1);
}

/// Says `text` in `room` and returns the bot's reply to it.
async fn ask(app: &TestApp, room: &matrix_sdk::ruma::OwnedRoomId, text: &str) -> String {
    let asked = app.secretariat.say(room, text).await;
    let deadline = Instant::now() + WAIT;
    loop {
        let seen = app.secretariat.seen.lock().unwrap().clone();
        if let Some(s) = seen
            .iter()
            .find(|s| s.in_reply_to.as_deref() == Some(asked.as_str()))
        {
            return s.body.clone();
        }
        assert!(Instant::now() < deadline, "no reply to {text:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_feeds_and_a_confirmed_proposal() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut app = TestApp::spawn(Options {
        extra_config: format!(
            "[http]\nlisten = \"127.0.0.1:{port}\"\n[calendar]\nfile = \"{EXAMPLE}\"\n"
        ),
        ..Options::default()
    })
    .await;
    app.start_ready().await;
    app.wait_bot_joined().await;
    app.wait_log("calendar loaded", WAIT).await;

    // Each member command answers from the example timeline.
    let cal = file::parse(&std::fs::read_to_string(EXAMPLE).unwrap()).unwrap();
    let tz = chrono_tz::Europe::Brussels;
    let now = Utc::now();
    let g = Some("health");
    let with_agenda = cal
        .meetings
        .iter()
        .find(|m| !m.agenda.is_empty() && Item::Meeting((*m).clone()).concerns(g))
        .expect("the example has a meeting with an agenda");
    let agenda_cmd = format!("!agenda {}", with_agenda.id);
    let cases = [
        ("!next", answers::next(&cal, g, now, tz)),
        ("!meetings 2024", answers::meetings(&cal, g, 2024, now, tz)),
        (
            agenda_cmd.as_str(),
            answers::agenda(&cal, g, &with_agenda.id, now, tz),
        ),
        ("!deadlines", answers::deadlines(&cal, g, now, tz)),
        ("!calls", answers::calls(&cal, now, tz)),
        ("!timeline 2024", answers::timeline(&cal, Some(2024))),
        ("!apply", answers::apply(&cal, now, &app.address, tz)),
        (
            "!ics",
            format!("This group: http://127.0.0.1:{port}/calendar/health.ics"),
        ),
        (
            "!cadence 2024",
            convene::calendar::cadence::render_table(
                &cal,
                &["health", "digital"],
                2024,
                &Default::default(),
            ),
        ),
    ];
    for (cmd, expected) in cases {
        let body = ask(&app, &app.health, cmd).await;
        assert!(
            body.contains(&first_line(&expected)),
            "{cmd}: {body}\nexpected: {expected}"
        );
    }
    let body = ask(&app, &app.health, "!meetings 2024").await;
    assert_eq!(body, answers::meetings(&cal, g, 2024, now, tz));

    // The feeds parse with a standard iCalendar library.
    let http = reqwest::Client::new();
    let all = http
        .get(format!("http://127.0.0.1:{port}/calendar/all.ics"))
        .send()
        .await
        .unwrap();
    assert_eq!(all.status(), 200);
    assert_eq!(
        all.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    assert_eq!(uids(&all.text().await.unwrap()).len(), cal.items().len());
    let health = http
        .get(format!("http://127.0.0.1:{port}/calendar/health.ics"))
        .send()
        .await
        .unwrap();
    let n = cal.items().iter().filter(|i| i.concerns(g)).count();
    assert_eq!(uids(&health.text().await.unwrap()).len(), n);
    let none = http
        .get(format!("http://127.0.0.1:{port}/calendar/nope.ics"))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 404);

    // Minutes asking for comments by a date → a proposal; ✅ from the secretariat → a deadline.
    let marker = format!("min-{}", unique());
    let body = "Dear members,\n\nthank you for the meeting. Please send comments on the draft issue paper by 15 March 2027.\n\nBest regards";
    let today = now.with_timezone(&tz).date_naive();
    let proposal = convene::calendar::phrases::detect(body, today)
        .pop()
        .expect("a proposal");
    send_mail(
        "chair@member.test",
        &app.address,
        &format!("Minutes {marker}"),
        body,
        &[],
    )
    .await;
    let cards = app
        .secretariat
        .wait_for(
            &app.management,
            "Proposed deadline",
            Duration::from_secs(60),
            SETTLE,
        )
        .await;
    assert_eq!(cards.len(), 1, "{cards:?}");
    assert!(cards[0].body.contains(&proposal.title), "{}", cards[0].body);
    let room = app.secretariat.client.get_room(&app.management).unwrap();
    let reaction = json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": cards[0].event_id, "key": "✅"}});
    room.send_raw("m.reaction", reaction).await.unwrap();
    let added = app
        .secretariat
        .wait_for(&app.management, "Added deadline", WAIT, SETTLE)
        .await;
    assert_eq!(added.len(), 1, "{added:?}");
    let deadlines = ask(&app, &app.management, "!deadlines").await;
    assert!(deadlines.contains(&proposal.title), "{deadlines}");
    assert!(deadlines.contains("15 Mar"), "{deadlines}");
    app.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bell_on_a_reminder_brings_the_next_one_by_direct_message() {
    let marker = format!("bell-{}", unique());
    let tz = chrono_tz::Europe::Brussels;
    // Reminders 2 min and 1 min before: the first 40 s after now, the second a minute later.
    let start = (Utc::now() + TimeDelta::seconds(160)).with_timezone(&tz);
    let dir = tempfile::tempdir().unwrap();
    let cal_path = dir.path().join("calendar.toml");
    std::fs::write(
        &cal_path,
        format!(
            "[[meeting]]\nid = \"{marker}\"\ntitle = \"Meeting {marker}\"\ngroups = [\"health\"]\nmode = \"online\"\nstart = \"{}\"\n",
            start.format("%Y-%m-%dT%H:%M:%S")
        ),
    )
    .unwrap();
    let mut app = TestApp::spawn(Options {
        extra_config: format!(
            "[calendar]\nfile = \"{}\"\n[calendar.offsets]\nmeeting = [\"2m\", \"1m\"]\n",
            cal_path.display()
        ),
        ..Options::default()
    })
    .await;
    app.start_ready().await;
    app.wait_bot_joined().await;
    let first = app
        .secretariat
        .wait_for(
            &app.health,
            &marker,
            Duration::from_secs(120),
            Duration::ZERO,
        )
        .await;
    let room = app.secretariat.client.get_room(&app.health).unwrap();
    let bell = json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": first[0].event_id, "key": "🔔"}});
    room.send_raw("m.reaction", bell).await.unwrap();

    // The bot invites the secretariat to a direct-message room.
    let deadline = Instant::now() + WAIT;
    let dm = loop {
        if let Some(r) = app.secretariat.client.invited_rooms().into_iter().next() {
            r.join().await.unwrap();
            break r.room_id().to_owned();
        }
        assert!(Instant::now() < deadline, "no DM invitation");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    app.secretariat
        .wait_for(&dm, "next Health reminders", WAIT, Duration::ZERO)
        .await;
    let got = app
        .secretariat
        .wait_for(&dm, &marker, Duration::from_secs(120), SETTLE)
        .await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(app.secretariat.matching(&app.health, &marker).len(), 2);
}
