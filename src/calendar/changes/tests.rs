//! What a change means (pure, fixed instants over the 2026 Brussels DST changes) and what
//! saving it queues (a temporary database): notices per room and subscriber, mails with the
//! right METHOD and SEQUENCE, each once.

use chrono::TimeZone as _;
use chrono_tz::Europe::Brussels;

use super::*;
use crate::calendar::file;
use crate::calendar::store::tests::temp_db;
use crate::config::Config;
use crate::outbox::Outbox;
use crate::storage::Db;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn meeting(toml: &str) -> Meeting {
    file::parse(toml).unwrap().meetings.remove(0)
}

/// A weekly 10:00 series on Tuesdays across the spring change (29 Mar 2026).
const WEEKLY: &str = r#"
[[meeting]]
id = "sub"
title = "Digital sub-group call"
groups = ["digital"]
mode = "online"
start = "2026-03-17T10:00"
end = "11:00"
join_link = "https://meet.example/sub"
repeat = "weekly"
until = "2026-06-30"
"#;

#[test]
fn one_meeting_moved_cancelled_or_elsewhere_and_nothing_else() {
    let now = utc(2026, 3, 1, 9, 0);
    let one = meeting(
        "[[meeting]]\nid = \"m\"\ntitle = \"Health online meeting\"\nmode = \"online\"\nstart = \"2026-03-30T10:00\"\n",
    );
    let mut moved = one.clone();
    moved.start = "2026-03-31T14:00".parse().unwrap();
    let got = diff(&one, Some(&moved), now, Brussels);
    assert_eq!(got.len(), 1);
    assert!(got[0].moved() && !got[0].cancelled() && !got[0].place_changed());
    assert_eq!(got[0].original, None);

    let mut cancelled = one.clone();
    cancelled.cancelled = true;
    let got = diff(&one, Some(&cancelled), now, Brussels);
    assert!(got.len() == 1 && got[0].cancelled());
    assert!(diff(&cancelled, Some(&one), now, Brussels)[0].on_again());
    // Removed from the calendar: cancelled.
    assert!(diff(&one, None, now, Brussels)[0].cancelled());

    let mut physical = one.clone();
    physical.mode = Mode::Physical;
    physical.location = Some("European Commission, Brussels".into());
    let got = diff(&one, Some(&physical), now, Brussels);
    assert!(got.len() == 1 && got[0].place_changed() && !got[0].moved());

    // A new title or agenda is not news; nor is a change to a meeting already past.
    let mut retitled = one.clone();
    retitled.title = "Health online meeting (v2)".into();
    assert!(diff(&one, Some(&retitled), now, Brussels).is_empty());
    assert!(diff(&one, Some(&moved), utc(2026, 4, 1, 0, 0), Brussels).is_empty());
}

#[test]
fn one_occurrence_of_a_weekly_series_moved_or_cancelled() {
    let now = utc(2026, 3, 20, 9, 0);
    let series = meeting(WEEKLY);
    // Moving the 7 April date (after the DST change) to 8 April 14:00.
    let mut moved = series.clone();
    let rule = moved.repeat.as_mut().unwrap();
    rule.overrides.push(crate::calendar::Override {
        on: NaiveDate::from_ymd_opt(2026, 4, 7).unwrap(),
        to: Some("2026-04-08T14:00".parse().unwrap()),
        end: None,
        title: None,
        mode: None,
        location: None,
        join_link: None,
    });
    let got = diff(&series, Some(&moved), now, Brussels);
    assert_eq!(got.len(), 1, "{got:?}");
    let c = &got[0];
    assert_eq!(c.original, NaiveDate::from_ymd_opt(2026, 4, 7));
    assert!(c.moved());
    let (b, a) = (c.before.as_ref().unwrap(), c.after.as_ref().unwrap());
    // 10:00 CEST = 08:00 UTC before; 14:00 CEST = 12:00 UTC after, an hour long as the series.
    assert_eq!(b.start.start_utc(Brussels), utc(2026, 4, 7, 8, 0));
    assert_eq!(a.start.start_utc(Brussels), utc(2026, 4, 8, 12, 0));
    assert_eq!(
        a.end.as_ref().unwrap().start_utc(Brussels),
        utc(2026, 4, 8, 13, 0)
    );

    let mut cancelled = series.clone();
    cancelled
        .repeat
        .as_mut()
        .unwrap()
        .except
        .push(NaiveDate::from_ymd_opt(2026, 3, 31).unwrap());
    let got = diff(&series, Some(&cancelled), now, Brussels);
    assert_eq!(got.len(), 1);
    assert!(got[0].cancelled() && got[0].original == NaiveDate::from_ymd_opt(2026, 3, 31));

    // The series ends a month earlier: the dates it loses, and only those.
    let mut shorter = series.clone();
    shorter.repeat.as_mut().unwrap().end =
        crate::calendar::End::Until(NaiveDate::from_ymd_opt(2026, 5, 31).unwrap());
    let got = diff(&series, Some(&shorter), now, Brussels);
    let dates: Vec<String> = got
        .iter()
        .map(|c| c.original.unwrap().to_string())
        .collect();
    assert_eq!(
        dates,
        [
            "2026-06-02",
            "2026-06-09",
            "2026-06-16",
            "2026-06-23",
            "2026-06-30"
        ]
    );
    assert!(got.iter().all(OccurrenceChange::cancelled));
    // Past dates are not news.
    assert!(diff(&series, Some(&cancelled), utc(2026, 4, 1, 0, 0), Brussels).is_empty());
}

#[test]
fn notices_give_the_old_and_the_new_time_in_the_readers_terms() {
    let now = utc(2026, 3, 20, 9, 0);
    let series = meeting(WEEKLY);
    let mut moved = series.clone();
    moved
        .repeat
        .as_mut()
        .unwrap()
        .overrides
        .push(crate::calendar::Override {
            on: NaiveDate::from_ymd_opt(2026, 4, 7).unwrap(),
            to: Some("2026-04-08T14:00".parse().unwrap()),
            end: None,
            title: None,
            mode: Some(Mode::Physical),
            location: Some("Rue de la Loi 200, Brussels".into()),
            join_link: None,
        });
    let changes = diff(&series, Some(&moved), now, Brussels);
    let lisbon = Zones::new(Brussels, Some(chrono_tz::Europe::Lisbon));
    let text = render(&moved, &changes, now, lisbon, Style::Markdown);
    assert!(
        text.contains("**Digital sub-group call** (Digital) (one meeting of the series) has moved"),
        "{text}"
    );
    assert!(
        text.contains("Was: Tue 7 Apr, 10:00–11:00 Brussels time (09:00 Lisbon time)"),
        "{text}"
    );
    assert!(
        text.contains("Now: Wed 8 Apr, 14:00–15:00 Brussels time (13:00 Lisbon time), in 2 weeks"),
        "{text}"
    );
    assert!(
        text.contains("Where: in person, Rue de la Loi 200, Brussels (was online)"),
        "{text}"
    );
    assert_eq!(
        subject(&moved, &changes, now, Brussels),
        "Moved: Digital sub-group call — Wed 8 Apr, 14:00 Brussels time, in 2 weeks"
    );

    // A whole series cancelled is one line, not one per date.
    let mut gone = series.clone();
    gone.cancelled = true;
    let changes = diff(&series, Some(&gone), now, Brussels);
    assert!(changes.len() > 10);
    let text = render(&gone, &changes, now, Brussels.into(), Style::Markdown);
    assert!(
        text.starts_with("❌ **Digital sub-group call** (Digital) is cancelled: no more meetings"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");

    // Text from elsewhere (a proposal's title) is escaped in rooms, not in mail.
    let mut odd = series.clone();
    odd.title = "[Approve](https://phish.example) @room".into();
    let mut odd_moved = moved.clone();
    odd_moved.title = odd.title.clone();
    let changes = diff(&odd, Some(&odd_moved), now, Brussels);
    let md = render(&odd_moved, &changes, now, Brussels.into(), Style::Markdown);
    assert!(md.contains("\\[Approve\\]"), "{md}");
    assert!(!md.contains("@room"), "mentions defused: {md}");
    let plain = render(&odd_moved, &changes, now, Brussels.into(), Style::Plain);
    assert!(
        plain.contains("[Approve](https://phish.example) @room"),
        "{plain}"
    );
}

fn config() -> Config {
    let mut c = Config::from_toml(crate::config::EXAMPLE, Vec::new()).unwrap();
    c.calendar.secretariat_email = vec!["Sec <sec@example.test>".into()];
    c.calendar.jobs = Vec::new();
    c
}

async fn service(db: &Db) -> Service {
    let outbox = Outbox::new(
        db.clone(),
        "WG <wg@example.org>".parse().unwrap(),
        "!secretariat-room-id",
    )
    .await
    .unwrap();
    Service::new(
        db.clone(),
        outbox,
        crate::calendar::Settings::from_config(&config()).unwrap(),
    )
}

/// (key, lane, op or mail text) of every outbox row, in order.
async fn queued(db: &Db) -> Vec<(String, String, String)> {
    let rows: Vec<(String, String, String, Option<Vec<u8>>)> =
        sqlx::query_as("SELECT key, lane, op, data FROM outbox ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(k, lane, op, data)| {
            let body = match data {
                Some(raw) => decoded(&raw),
                None => op,
            };
            (k, lane, body)
        })
        .collect()
}

/// A mail's subject, text and calendar parts, decoded.
fn decoded(raw: &[u8]) -> String {
    use mail_parser::MimeHeaders as _;
    let msg = mail_parser::MessageParser::default().parse(raw).unwrap();
    let mut out = format!("Subject: {}\n", msg.subject().unwrap_or_default());
    for part in &msg.parts {
        if part.content_type().is_some_and(|ct| ct.ctype() == "text") {
            out.push_str(&String::from_utf8_lossy(part.contents()));
            out.push('\n');
        }
    }
    out
}

/// A weekly series from next week, as the calendar file would have it.
fn upcoming_series() -> (String, NaiveDate) {
    let first = (Utc::now() + TimeDelta::days(7))
        .with_timezone(&Brussels)
        .date_naive();
    let text = format!(
        "[[meeting]]\nid = \"sub\"\ntitle = \"Digital sub-group call\"\ngroups = [\"digital\"]\nmode = \"online\"\nstart = \"{first}T10:00\"\nend = \"11:00\"\nrepeat = \"weekly\"\ncount = 6\n"
    );
    (text, first)
}

#[tokio::test]
async fn saving_a_moved_or_cancelled_date_tells_rooms_subscribers_and_the_secretariat_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(dir.path()).await;
    let svc = service(&db).await;
    let (text, first) = upcoming_series();
    let other = format!(
        "[[meeting]]\nid = \"other\"\ntitle = \"Health online meeting\"\ngroups = [\"health\"]\nmode = \"online\"\nstart = \"{}T09:30\"\n",
        first + TimeDelta::days(2)
    );
    let cal = file::parse(&format!("{text}{other}")).unwrap();
    assert_eq!(sync_file(&svc, &cal).await.unwrap(), 2);
    assert!(queued(&db).await.is_empty(), "a new meeting is no change");
    store::subscribe(&db, "@ana:x", "digital").await.unwrap();
    store::subscribe(&db, "@bo:x", "health").await.unwrap();
    store::set_member_tz(&db, "@ana:x", Some(chrono_tz::Europe::Lisbon))
        .await
        .unwrap();

    // The second date moves to the next day, 14:00.
    let second = first + TimeDelta::days(7);
    let mut m = cal.meetings[0].clone();
    m.repeat
        .as_mut()
        .unwrap()
        .overrides
        .push(crate::calendar::Override {
            on: second,
            to: Some(
                format!("{}T14:00", second + TimeDelta::days(1))
                    .parse()
                    .unwrap(),
            ),
            end: None,
            title: None,
            mode: None,
            location: None,
            join_link: None,
        });
    let (saved, told) = save(&svc, &Item::Meeting(m.clone()), store::COMMAND)
        .await
        .unwrap();
    assert!(told && saved.revision == 1);
    let q = queued(&db).await;
    let keys: Vec<&str> = q.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        keys,
        [
            "changed-1-meeting:sub@digital",
            "changed-1-meeting:sub|dm|@ana:x",
            "invitation|1|meeting:sub|sec@example.test",
        ]
    );
    let digital = config().group("digital").unwrap().room.clone();
    assert_eq!(q[0].1, digital);
    assert!(
        q[0].2.contains("has moved") && !q[0].2.contains("Lisbon time"),
        "{}",
        q[0].2
    );
    assert!(
        q[1].2.contains("Lisbon time"),
        "the subscriber's own zone: {}",
        q[1].2
    );
    let mail = &q[2].2;
    assert!(
        mail.contains("METHOD:REQUEST") && mail.contains("SEQUENCE:1"),
        "{mail}"
    );
    assert!(
        mail.contains("RECURRENCE-ID;TZID=Europe/Brussels:"),
        "{mail}"
    );
    assert!(
        mail.contains("Subject: Moved: Digital sub-group call"),
        "{mail}"
    );

    // The same again: nothing changes, nothing more is sent.
    save(&svc, &Item::Meeting(m.clone()), store::COMMAND)
        .await
        .unwrap();
    assert_eq!(queued(&db).await.len(), 3);

    // The third date is cancelled: METHOD:CANCEL for that date alone, a higher SEQUENCE.
    let third = first + TimeDelta::days(14);
    m.repeat.as_mut().unwrap().except.push(third);
    let (saved, _) = save(&svc, &Item::Meeting(m.clone()), store::COMMAND)
        .await
        .unwrap();
    assert_eq!(saved.revision, 2);
    let q = queued(&db).await;
    assert_eq!(q.len(), 6);
    assert!(q[3].2.contains("is cancelled"), "{}", q[3].2);
    let mail = &q[5].2;
    assert!(
        mail.contains("METHOD:CANCEL") && mail.contains("SEQUENCE:2"),
        "{mail}"
    );
    assert!(
        mail.contains("STATUS:CANCELLED") && !mail.contains("RRULE:FREQ=WEEKLY"),
        "{mail}"
    );
    assert!(
        mail.contains(&format!(
            "RECURRENCE-ID;TZID=Europe/Brussels:{}T100000",
            third.format("%Y%m%d")
        )),
        "{mail}"
    );

    // Removed from the file: cancelled. (The series is no longer the file's: the command
    // changed it, so the file does not remove it.)
    assert_eq!(
        sync_file(&svc, &file::parse(&text).unwrap()).await.unwrap(),
        1
    );
    let q = queued(&db).await;
    let keys: Vec<&str> = q[6..].iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        keys,
        [
            "changed-1-meeting:other@health",
            "changed-1-meeting:other|dm|@bo:x",
            "invitation|1|meeting:other|sec@example.test",
        ]
    );
    assert!(q[6].2.contains("is cancelled"), "{}", q[6].2);
    assert!(q[8].2.contains("METHOD:CANCEL") && q[8].2.contains("SEQUENCE:1"));
    assert!(q[8].2.contains("STATUS:CANCELLED"), "{}", q[8].2);
    // … and the command's changes to the series survive the reload (a restart, say).
    let r = Item::Meeting(m.clone()).item_ref();
    let (stored, _) = store::get(&db, &r).await.unwrap().unwrap();
    assert_eq!(stored, Item::Meeting(m));
}

#[tokio::test]
async fn a_changed_file_is_seen_and_reloaded_with_its_changes() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(dir.path()).await;
    let path = dir.path().join("calendar.toml");
    let (text, first) = upcoming_series();
    std::fs::write(&path, &text).unwrap();
    let mut c = config();
    c.calendar.file = Some(path.clone());
    let outbox = Outbox::new(db.clone(), "WG <wg@example.org>".parse().unwrap(), "!m")
        .await
        .unwrap();
    let svc = Service::new(
        db.clone(),
        outbox,
        crate::calendar::Settings::from_config(&c).unwrap(),
    );
    assert_eq!(load_file(&svc).await.unwrap(), 1);
    assert!(!file_changed(&svc));
    let moved = format!("{text}[[meeting.moved]]\non = \"{first}\"\nto = \"15:00\"\n");
    std::fs::write(&path, moved).unwrap();
    assert!(file_changed(&svc));
    assert_eq!(load_file(&svc).await.unwrap(), 1);
    assert!(!file_changed(&svc));
    let q = queued(&db).await;
    assert_eq!(q[0].0, "changed-1-meeting:sub@digital");
    assert!(
        q[0].2.contains("Now:") && q[0].2.contains("15:00"),
        "{}",
        q[0].2
    );
}
