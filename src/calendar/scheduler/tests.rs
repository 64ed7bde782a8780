//! The scheduler with injected instants: on time, catch-up (late / too old), no double
//! firing across a restart (the database reopened), cron jobs across the DST changes.

use chrono::TimeZone as _;

use super::*;
use crate::calendar::file;
use crate::calendar::store::tests::temp_db;
use crate::config::{Config, CronJob};
use crate::storage::Db;

const CAL: &str = r#"
[[meeting]]
id = "spring"
title = "Health online meeting"
groups = ["health"]
mode = "online"
start = "2026-03-29T10:00"
join_link = "https://meet.example/h"

[[deadline]]
id = "old"
title = "Old comments"
due = "2026-03-20T12:00"
groups = ["digital"]
"#;

fn config() -> Config {
    let mut c = Config::from_toml(crate::config::EXAMPLE, Vec::new()).unwrap();
    c.calendar.offsets = reminders::Offsets {
        meeting: vec![TimeDelta::days(1), TimeDelta::hours(1)],
        call_close: vec![],
        deadline: vec![TimeDelta::days(1)],
    };
    c.calendar.secretariat_email = vec!["Sec <sec@example.test>".into()];
    c.calendar.jobs = Vec::new();
    c
}

fn st(c: &Config) -> Settings {
    Settings::from_config(c).unwrap()
}

async fn ob(db: &Db) -> Outbox {
    Outbox::new(
        db.clone(),
        "WG <wg@example.org>".parse().unwrap(),
        "!secretariat-room-id",
    )
    .await
    .unwrap()
}

async fn svc(db: &Db, c: &Config) -> Service {
    Service::new(db.clone(), ob(db).await, st(c))
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

async fn posts(db: &Db) -> Vec<(String, String, String)> {
    sqlx::query_as("SELECT key, lane, op FROM outbox WHERE transport = 'matrix' ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .unwrap()
}

async fn mails(db: &Db) -> Vec<(String, String)> {
    let rows: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT key, data FROM outbox WHERE transport = 'mail' ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(k, raw)| (k, String::from_utf8_lossy(&raw).into_owned()))
        .collect()
}

#[tokio::test]
async fn on_time_once_then_late_then_never_again_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(dir.path()).await;
    let c = config();
    store::sync_file(&db, &file::parse(CAL).unwrap())
        .await
        .unwrap();

    // The 1-day reminder of a 10:00 CEST meeting on the day clocks go forward is due at
    // 10:00 CET the day before = 09:00 UTC.
    let snap = store::load(&db).await.unwrap();
    let next = next_wake(&snap.cal, &st(&c), utc(2026, 3, 28, 0, 0)).unwrap();
    assert_eq!(next, utc(2026, 3, 28, 9, 0));
    let pass = process(&svc(&db, &c).await, utc(2026, 3, 28, 0, 0), next)
        .await
        .unwrap();
    assert_eq!(pass.sent.len(), 1, "{pass:?}");
    assert!(pass.late.is_empty() && pass.skipped.is_empty());
    let p = posts(&db).await;
    assert_eq!(p.len(), 1, "one room: the meeting's group");
    assert!(p[0].0.starts_with("reminder-meeting:spring:86400:") && p[0].0.ends_with("@health"));
    let health = c.group("health").unwrap().room.clone();
    assert_eq!(p[0].1, health);
    let m = mails(&db).await;
    assert_eq!(m.len(), 1);
    assert!(m[0].1.contains("text/calendar") && m[0].1.contains("BEGIN:VEVENT"));
    assert!(m[0].1.contains("Auto-Submitted: auto-generated"));

    // The same window again, and after reopening the database: nothing more.
    let again = process(&svc(&db, &c).await, utc(2026, 3, 28, 0, 0), next)
        .await
        .unwrap();
    assert!(again.is_empty(), "{again:?}");
    db.pool.close().await;
    let db = temp_db(dir.path()).await;
    let again = process(
        &svc(&db, &c).await,
        utc(2026, 3, 27, 0, 0),
        utc(2026, 3, 28, 9, 30),
    )
    .await
    .unwrap();
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(posts(&db).await.len(), 1);

    // Down from 06:00 to 07:30 UTC: the 1-hour reminder (07:00 UTC = 10:00 CEST − 1 h) is
    // sent 30 minutes late, marked late.
    let pass = process(
        &svc(&db, &c).await,
        utc(2026, 3, 29, 6, 0),
        utc(2026, 3, 29, 7, 30),
    )
    .await
    .unwrap();
    assert_eq!(pass.late.len(), 1, "{pass:?}");
    let p = posts(&db).await;
    assert_eq!(p.len(), 2);
    assert!(p[1].2.contains("Sent late"), "{}", p[1].2);
    assert_eq!(store::firing(&db, &pass.late[0]).await.unwrap(), Some(1));
    assert_eq!(mails(&db).await.len(), 2);
}

#[tokio::test]
async fn reminders_older_than_the_grace_period_are_reported_once_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(dir.path()).await;
    let c = config();
    store::sync_file(&db, &file::parse(CAL).unwrap())
        .await
        .unwrap();
    // The deadline's 1-day reminder was due 19 Mar 12:00 CET = 11:00 UTC; we look 2 days on.
    let (from, to) = (utc(2026, 3, 1, 0, 0), utc(2026, 3, 21, 11, 0));
    let pass = process(&svc(&db, &c).await, from, to).await.unwrap();
    assert_eq!(pass.skipped.len(), 1, "{pass:?}");
    assert!(pass.sent.is_empty() && pass.late.is_empty());
    let p = posts(&db).await;
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].1, c.matrix.management_room);
    assert!(
        p[0].2.contains("Old comments") && p[0].2.contains("not sent"),
        "{}",
        p[0].2
    );
    assert_eq!(store::firing(&db, &pass.skipped[0]).await.unwrap(), Some(2));
    assert!(
        process(&svc(&db, &c).await, from, to)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(posts(&db).await.len(), 1);
}

#[tokio::test]
async fn a_job_at_a_skipped_or_repeated_time_fires_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(dir.path()).await;
    let mut c = config();
    c.calendar.jobs = vec![
        CronJob {
            name: "gap".into(),
            schedule: "30 2 * * *".into(),
            action: crate::config::JobAction::Digest,
        },
        CronJob {
            name: "cadence".into(),
            schedule: "0 9 1 * *".into(),
            action: crate::config::JobAction::Cadence,
        },
    ];
    store::sync_file(&db, &file::parse(CAL).unwrap())
        .await
        .unwrap();
    // 29 Mar 2026: 02:30 does not exist in Brussels; 25 Oct 2026: it happens twice.
    let mut fired = Vec::new();
    for (from, to) in [
        (utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 3, 0)),
        (utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 3, 0)),
    ] {
        // Walk the window minute by minute as a running scheduler would.
        let mut t = from;
        while t < to {
            let next = t + TimeDelta::minutes(1);
            fired.extend(process(&svc(&db, &c).await, t, next).await.unwrap().jobs);
            t = next;
        }
    }
    assert_eq!(
        fired,
        vec![
            "job:gap:2026-03-29T01:00:00Z".to_owned(),
            "job:gap:2026-10-25T00:30:00Z".to_owned()
        ]
    );
    let p = posts(&db).await;
    assert!(p.iter().all(|r| r.1 == c.matrix.management_room));
    assert!(p[0].2.contains("coming 3 weeks"), "{}", p[0].2);

    // Down for weeks: each job fires once, at its latest instant (the daily one included).
    let pass = process(
        &svc(&db, &c).await,
        utc(2026, 4, 15, 0, 0),
        utc(2026, 6, 1, 7, 5),
    )
    .await
    .unwrap();
    assert_eq!(
        pass.jobs,
        vec![
            "job:gap:2026-06-01T00:30:00Z".to_owned(),
            "job:cadence:2026-06-01T07:00:00Z".to_owned()
        ]
    );
    let last = posts(&db).await.pop().unwrap();
    assert!(last.2.contains("Cadence 2026"), "{}", last.2);
}

#[test]
fn digest_lists_the_coming_three_weeks() {
    let cal = file::parse(CAL).unwrap();
    let tz = chrono_tz::Europe::Brussels;
    let text = digest(&cal, utc(2026, 3, 15, 8, 0), tz);
    assert!(
        text.contains("Health online meeting") && text.contains("Deadline: Old comments"),
        "{text}"
    );
    assert!(digest(&cal, utc(2026, 5, 1, 8, 0), tz).contains("nothing planned"));
}

#[tokio::test]
async fn subscribers_get_the_reminders_of_their_groups_once_by_dm() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(dir.path()).await;
    let c = config();
    store::sync_file(&db, &file::parse(CAL).unwrap())
        .await
        .unwrap();
    assert!(store::subscribe(&db, "@ana:x", "health").await.unwrap());
    assert!(!store::subscribe(&db, "@ana:x", "health").await.unwrap());
    store::subscribe(&db, "@ana:x", "digital").await.unwrap();
    store::subscribe(&db, "@bo:x", "digital").await.unwrap();
    assert!(store::unsubscribe(&db, "@bo:x", "digital").await.unwrap());
    assert!(!store::unsubscribe(&db, "@bo:x", "digital").await.unwrap());
    let pass = process(
        &svc(&db, &c).await,
        utc(2026, 3, 28, 8, 0),
        utc(2026, 3, 28, 9, 0),
    )
    .await
    .unwrap();
    assert_eq!(pass.sent.len(), 1);
    let rooms: Vec<String> = posts(&db).await.into_iter().map(|p| p.1).collect();
    let health = c.group("health").unwrap().room.clone();
    assert_eq!(rooms, vec![health, "dm:@ana:x".to_owned()]);
}

/// A weekly Tuesday 10:00 series across the spring change, with an agenda.
const SERIES: &str = r#"
[[meeting]]
id = "sub"
title = "Digital sub-group call"
groups = ["digital"]
mode = "online"
start = "2026-03-17T10:00"
end = "11:00"
repeat = "weekly"
count = 4
agenda = [
  { n = 1, title = "Adoption of the agenda", kind = "decision" },
  { n = 2, title = "Data spaces", kind = "discussion", docs = ["https://example.org/ds.pdf"] },
]
"#;

/// Walks `(from, to]` in steps of `step` minutes, as a running scheduler would.
async fn walk(svc: &Service, from: DateTime<Utc>, to: DateTime<Utc>, step: i64) -> Vec<String> {
    let mut fired = Vec::new();
    let mut t = from;
    while t < to {
        let next = (t + TimeDelta::minutes(step)).min(to);
        let pass = process(svc, t, next).await.unwrap();
        assert!(!pass.stale);
        fired.extend(pass.sent);
        fired.extend(pass.late);
        fired.extend(pass.personal);
        t = next;
    }
    fired
}

#[tokio::test]
async fn a_moved_occurrence_is_reminded_at_its_new_time_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(dir.path()).await;
    let c = config();
    let service = svc(&db, &c).await;
    let cal = file::parse(SERIES).unwrap();
    store::sync_file(&db, &cal).await.unwrap();
    // 31 Mar (the first date after the change) moves to 1 Apr 14:00.
    let mut m = cal.meetings[0].clone();
    m.repeat
        .as_mut()
        .unwrap()
        .overrides
        .push(crate::calendar::Override {
            on: chrono::NaiveDate::from_ymd_opt(2026, 3, 31).unwrap(),
            to: Some("2026-04-01T14:00".parse().unwrap()),
            end: None,
            title: None,
            mode: None,
            location: None,
            join_link: None,
        });
    store::upsert(&db, &Item::Meeting(m), store::COMMAND)
        .await
        .unwrap();
    // From 29 Mar to 2 Apr, a pass every 10 minutes: the 1-day and 1-hour reminders of
    // 1 Apr 14:00 CEST (12:00 UTC), none at 30 Mar / 31 Mar 10:00.
    let fired = walk(&service, utc(2026, 3, 29, 0, 0), utc(2026, 4, 2, 0, 0), 10).await;
    assert_eq!(
        fired,
        vec![
            "meeting:sub@2026-03-31:2026-04-01T12:00:00Z:86400:2026-03-31T12:00:00Z".to_owned(),
            "meeting:sub@2026-03-31:2026-04-01T12:00:00Z:3600:2026-04-01T11:00:00Z".to_owned(),
        ]
    );
    let p = posts(&db).await;
    assert_eq!(p.len(), 2, "one room, two reminders");
    assert!(
        p.iter().all(|r| r.2.contains("Wed 1 Apr, 14:00–15:00")),
        "{p:?}"
    );
    // The reminder mail is dated by the occurrence, and carries the whole series.
    let m = mails(&db).await;
    assert_eq!(m.len(), 2);
    assert!(m[0].1.contains("Wed 1 Apr, 14:00"), "{}", m[0].1);
    assert!(m[0].1.contains("RRULE:FREQ=3DWEEKLY") || m[0].1.contains("RRULE:FREQ=WEEKLY"));
}

#[tokio::test]
async fn personal_reminders_and_snoozes_come_by_direct_message_once_in_the_readers_zone() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(dir.path()).await;
    let c = config();
    let service = svc(&db, &c).await;
    store::sync_file(&db, &file::parse(SERIES).unwrap())
        .await
        .unwrap();
    store::set_member_tz(&db, "@ana:x", Some(chrono_tz::Europe::Lisbon))
        .await
        .unwrap();
    let occ = crate::calendar::ItemRef {
        kind: crate::calendar::ItemKind::Meeting,
        id: "sub@2026-03-31".into(),
    };
    store::add_personal(&db, "@ana:x", &occ, TimeDelta::minutes(30))
        .await
        .unwrap();
    // Snoozed at 09:00 UTC on 24 Mar for an hour: back at 10:00 UTC.
    store::snooze(
        &db,
        &store::Snooze {
            user: "@bo:x".into(),
            key: "meeting:sub@2026-03-24:2026-03-24T09:00:00Z:3600:2026-03-24T08:00:00Z".into(),
            item: crate::calendar::ItemRef {
                kind: crate::calendar::ItemKind::Meeting,
                id: "sub@2026-03-24".into(),
            },
            due: utc(2026, 3, 24, 10, 0),
        },
    )
    .await
    .unwrap();
    let snap = store::load(&db).await.unwrap();
    assert_eq!(
        next_stored(&service, &snap.cal, utc(2026, 3, 24, 0, 0))
            .await
            .unwrap(),
        Some(utc(2026, 3, 24, 10, 0))
    );
    let fired = walk(
        &service,
        utc(2026, 3, 24, 9, 30),
        utc(2026, 3, 24, 10, 30),
        5,
    )
    .await;
    assert_eq!(fired.len(), 1, "{fired:?}");
    let fired = walk(&service, utc(2026, 3, 31, 7, 0), utc(2026, 3, 31, 9, 0), 5).await;
    assert_eq!(fired, vec!["personal:1:2026-03-31T08:00:00Z".to_owned()]);
    let dms: Vec<(String, String, String)> = posts(&db)
        .await
        .into_iter()
        .filter(|p| p.1.starts_with("dm:"))
        .collect();
    assert_eq!(dms.len(), 2, "{dms:?}");
    assert!(dms[0].0.starts_with("snoozed|meeting:sub@2026-03-24") && dms[0].1 == "dm:@bo:x");
    assert!(dms[0].2.contains("Reminder again") && dms[0].2.contains("Tue 24 Mar, 10:00"));
    assert_eq!(
        dms[1].0,
        "reminder-personal:1:2026-03-31T08:00:00Z|dm|@ana:x"
    );
    assert!(dms[1].2.contains("Your reminder"), "{}", dms[1].2);
    assert!(
        dms[1]
            .2
            .contains("10:00–11:00 Brussels time (09:00 Lisbon time)"),
        "{}",
        dms[1].2
    );
    // Nothing twice, after reopening the database too.
    db.pool.close().await;
    let db = temp_db(dir.path()).await;
    let again = svc(&db, &c).await;
    let fired = walk(&again, utc(2026, 3, 24, 0, 0), utc(2026, 3, 31, 9, 0), 600).await;
    assert!(
        fired.iter().all(|k| k.starts_with("meeting:")),
        "only the room's own reminders: {fired:?}"
    );
    let dms = posts(&db)
        .await
        .into_iter()
        .filter(|p| p.1.starts_with("dm:"))
        .count();
    assert_eq!(dms, 2);
}

#[tokio::test]
async fn the_agenda_goes_to_the_members_with_the_invitation_ahead_of_each_date() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(dir.path()).await;
    let mut c = config();
    c.calendar.offsets = reminders::Offsets {
        meeting: vec![],
        call_close: vec![],
        deadline: vec![],
    };
    c.calendar.agenda_before = Some("2d".into());
    let wiring = crate::calendar::Wiring {
        members: Some(std::sync::Arc::new(|slug: String| {
            Box::pin(async move {
                Ok(match slug.as_str() {
                    "digital" => vec!["ana@member.test".to_owned(), "not an address".to_owned()],
                    _ => vec!["health@member.test".to_owned()],
                })
            })
        })),
        inbound_raw: None,
    };
    let service = svc(&db, &c).await.wired(wiring);
    store::sync_file(&db, &file::parse(SERIES).unwrap())
        .await
        .unwrap();
    let snap = store::load(&db).await.unwrap();
    assert_eq!(
        next_wake(&snap.cal, &service.s, utc(2026, 3, 16, 0, 0)),
        Some(utc(2026, 3, 22, 9, 0)),
        "2 days before 24 Mar 10:00 CET (the 17 Mar one was due before 16 Mar)"
    );
    let fired = walk(&service, utc(2026, 3, 20, 0, 0), utc(2026, 3, 23, 0, 0), 60).await;
    assert_eq!(
        fired,
        vec![
            "agenda:meeting:sub@2026-03-24:2026-03-24T09:00:00Z:172800:2026-03-22T09:00:00Z"
                .to_owned()
        ]
    );
    let m = mails(&db).await;
    assert_eq!(m.len(), 1, "one member of digital with an address");
    assert_eq!(m[0].0, "agenda-mail|0|sub@2026-03-24|ana@member.test");
    assert!(
        m[0].1.contains("Subject: Agenda: Digital sub-group call"),
        "{}",
        m[0].1
    );
    assert!(m[0].1.contains("METHOD:REQUEST") && m[0].1.contains("Data spaces"));
}

#[test]
fn the_digest_lists_a_series_by_occurrence() {
    let cal = file::parse(SERIES).unwrap();
    let mut cal2 = cal.clone();
    cal2.meetings[0]
        .repeat
        .as_mut()
        .unwrap()
        .except
        .push(chrono::NaiveDate::from_ymd_opt(2026, 3, 31).unwrap());
    let tz = chrono_tz::Europe::Brussels;
    let text = digest(&cal2, utc(2026, 3, 16, 8, 0), tz);
    assert_eq!(text.matches("Digital sub-group call").count(), 2, "{text}");
    assert!(
        text.contains("Tue 17 Mar") && text.contains("Tue 24 Mar"),
        "{text}"
    );
    assert!(!text.contains("31 Mar"), "cancelled: {text}");
    assert_eq!(
        digest(&cal, utc(2026, 3, 16, 8, 0), tz)
            .matches("Digital sub-group call")
            .count(),
        3
    );
}
