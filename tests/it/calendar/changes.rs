//! Series and changes on the real stack: a series' next reminder arrives once; a moved
//! occurrence is announced, re-invited with a higher SEQUENCE and reminded at its new time
//! only; a cancelled one sends METHOD:CANCEL; the feed parses with `icalendar` and expands
//! with the `rrule` crate to the occurrences we compute.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Timelike as _, Utc};
use chrono_tz::Europe::Brussels;
use icalendar::Component as _;

use super::{EXAMPLE, SETTLE, WAIT, ask, calendar_part, events, outside_mail};
use crate::support::{Backend, Options, TestApp, unique};
use convene::calendar::file;

/// A near-future local instant in Brussels, to the second.
fn soon(seconds: i64) -> DateTime<chrono_tz::Tz> {
    (Utc::now() + TimeDelta::seconds(seconds))
        .with_timezone(&Brussels)
        .with_nanosecond(0)
        .unwrap()
}

fn local(t: &DateTime<chrono_tz::Tz>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Waits for mail to `to` whose calendar part contains `needle`; returns every such mail's
/// calendar part.
async fn wait_invitation(to: &str, needle: &str, timeout: Duration) -> Vec<String> {
    let deadline = Instant::now() + timeout;
    loop {
        let found: Vec<String> = outside_mail(to)
            .await
            .iter()
            .filter_map(|raw| calendar_part(raw))
            .filter(|ics| ics.contains(needle))
            .collect();
        if !found.is_empty() {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "no invitation with {needle:?} to {to}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn series_file(marker: &str, first: &DateTime<chrono_tz::Tz>, count: u32) -> String {
    format!(
        "timezone = \"Europe/Brussels\"\n[[meeting]]\nid = \"{marker}\"\ntitle = \"Series {marker}\"\ngroups = [\"health\"]\nmode = \"online\"\nstart = \"{}\"\njoin_link = \"https://meet.example/{marker}\"\nrepeat = \"daily\"\ncount = {count}\n",
        local(first)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_series_next_reminder_arrives_once_in_the_room() {
    let marker = format!("series-{}", unique());
    let mut app = TestApp::spawn(Options {
        extra_config: String::new(),
        ..Options::default()
    })
    .await;
    // A daily series that began yesterday: today's date is reminded 2 min before, 40 s on.
    let today = soon(160);
    let first = today - TimeDelta::days(1);
    let cal_path = app.dir.path().join("calendar.toml");
    std::fs::write(&cal_path, series_file(&marker, &first, 3)).unwrap();
    let config = std::fs::read_to_string(&app.config_path).unwrap();
    std::fs::write(
        &app.config_path,
        format!(
            "{config}\n[calendar]\nfile = \"{}\"\n[calendar.offsets]\nmeeting = [\"2m\"]\n",
            cal_path.display()
        ),
    )
    .unwrap();
    app.start_ready().await;
    app.wait_bot_joined().await;
    let got = app
        .secretariat
        .wait_for(&app.health, &marker, Duration::from_secs(120), SETTLE)
        .await;
    assert_eq!(got.len(), 1, "exactly one reminder: {got:?}");
    assert!(got[0].body.contains("🔔"), "{}", got[0].body);
    assert!(
        got[0].body.contains(&today.format("%H:%M").to_string()),
        "today's date of the series: {}",
        got[0].body
    );
    assert!(app.secretariat.matching(&app.digital, &marker).is_empty());
    app.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_one_date_tells_the_room_reinvites_and_the_old_time_stays_silent() {
    moving_one_date(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_one_date_postgres() {
    moving_one_date(Backend::Postgres).await;
}

async fn moving_one_date(backend: Backend) {
    let marker = format!("move-{}", unique());
    let secretariat = format!("secretariat-{}@example.test", unique());
    let mut app = TestApp::spawn(Options {
        backend,
        ..Options::default()
    })
    .await;
    // Reminders 30 s before: the first date's at +60 s, unless it moves 75 s later (+135 s).
    let first = soon(90);
    let cal_path = app.dir.path().join("calendar.toml");
    std::fs::write(&cal_path, series_file(&marker, &first, 3)).unwrap();
    let config = std::fs::read_to_string(&app.config_path).unwrap();
    std::fs::write(
        &app.config_path,
        format!(
            "{config}\n[calendar]\nfile = \"{}\"\nsecretariat_email = [\"{secretariat}\"]\n[calendar.offsets]\nmeeting = [\"30s\"]\n",
            cal_path.display()
        ),
    )
    .unwrap();
    app.start_ready().await;
    app.wait_bot_joined().await;

    let to = first + TimeDelta::seconds(75);
    let day = first.date_naive();
    let asked = Instant::now();
    let reply = ask(
        &app,
        &app.management,
        &format!("!meeting move {marker} on={day} to={}", local(&to)),
    )
    .await;
    assert!(reply.starts_with("Moved meeting"), "{reply}");
    let old_due = first.to_utc() - TimeDelta::seconds(30);
    assert!(
        Utc::now() < old_due,
        "the move came before the old reminder was due"
    );

    // The notice in the group's room, with the old and the new time.
    let notice = app
        .secretariat
        .wait_for(&app.health, "has moved", WAIT, Duration::ZERO)
        .await;
    eprintln!(
        "move notice seen {} ms after the command",
        asked.elapsed().as_millis()
    );
    assert_eq!(notice.len(), 1, "{notice:?}");
    let body = &notice[0].body;
    assert!(body.contains(&format!("Series {marker}")), "{body}");
    assert!(
        body.contains("Was: ") && body.contains(&first.format("%H:%M").to_string()),
        "{body}"
    );
    assert!(
        body.contains("Now: ") && body.contains(&to.format("%H:%M").to_string()),
        "{body}"
    );

    // The updated invitation in the secretariat's mailbox: the series with the moved date,
    // SEQUENCE 1 (the file's version was 0).
    let ics = wait_invitation(&secretariat, "METHOD:REQUEST", Duration::from_secs(60)).await;
    eprintln!(
        "updated invitation in the mailbox {} ms after the command",
        asked.elapsed().as_millis()
    );
    let ev = events(&ics[0]);
    assert_eq!(ev.len(), 2, "the series and its moved date: {}", ics[0]);
    for e in &ev {
        assert_eq!(e.property_value("SEQUENCE"), Some("1"), "{}", ics[0]);
    }
    let moved = ev
        .iter()
        .find(|e| e.property_value("RECURRENCE-ID").is_some())
        .expect("an overriding VEVENT");
    assert_eq!(
        moved.property_value("RECURRENCE-ID"),
        Some(first.format("%Y%m%dT%H%M%S").to_string().as_str())
    );
    assert_eq!(
        moved.property_value("DTSTART"),
        Some(to.format("%Y%m%dT%H%M%S").to_string().as_str())
    );

    // The reminder comes once, at the new time; none at the old one.
    let new_due = to.to_utc() - TimeDelta::seconds(30);
    let got = app
        .secretariat
        .wait_for(&app.health, "🔔", Duration::from_secs(150), Duration::ZERO)
        .await;
    let arrived = Utc::now();
    assert!(
        arrived >= new_due - TimeDelta::seconds(1),
        "a reminder arrived at {arrived}, before the new time's due {new_due}: {got:?}"
    );
    eprintln!(
        "reminder of the moved date seen {} ms after its due time",
        (arrived - new_due).num_milliseconds()
    );
    tokio::time::sleep(SETTLE).await;
    let got = app.secretariat.matching(&app.health, "🔔");
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].body.contains(&to.format("%H:%M").to_string()),
        "{}",
        got[0].body
    );

    // Cancelling the third date: METHOD:CANCEL for that date alone, SEQUENCE 2.
    let third = first + TimeDelta::days(2);
    let reply = ask(
        &app,
        &app.management,
        &format!("!meeting cancel {marker} on={}", third.date_naive()),
    )
    .await;
    assert!(reply.starts_with("Cancelled meeting"), "{reply}");
    let ics = wait_invitation(&secretariat, "METHOD:CANCEL", Duration::from_secs(60)).await;
    let ev = events(&ics[0]);
    assert_eq!(ev.len(), 1, "{}", ics[0]);
    assert_eq!(ev[0].property_value("SEQUENCE"), Some("2"));
    assert_eq!(ev[0].property_value("STATUS"), Some("CANCELLED"));
    assert_eq!(
        ev[0].property_value("RECURRENCE-ID"),
        Some(third.format("%Y%m%dT%H%M%S").to_string().as_str())
    );
    app.secretariat
        .wait_for(&app.health, "is cancelled", WAIT, Duration::ZERO)
        .await;
    app.stop();
}

/// The instants (UTC) of every VEVENT of `ics` with UID `uid`, expanded by the `rrule`
/// crate: the series' RRULE and EXDATEs, minus the dates overridden, plus the overrides'
/// own starts (unless cancelled).
fn expand(ics: &str, uid: &str) -> BTreeSet<DateTime<Utc>> {
    let all = events(ics);
    let mine: Vec<&icalendar::Event> = all.iter().filter(|e| e.get_uid() == Some(uid)).collect();
    let master = mine
        .iter()
        .find(|e| e.property_value("RECURRENCE-ID").is_none())
        .expect("the series' own VEVENT");
    let tzid = |e: &icalendar::Event, name: &str| {
        e.properties()
            .get(name)
            .and_then(|p| p.params().get("TZID"))
            .map(|p| p.value().to_owned())
    };
    let line = |e: &icalendar::Event, name: &str, value: &str| match tzid(e, name) {
        Some(tz) => format!("{name};TZID={tz}:{value}"),
        None => format!("{name}:{value}"),
    };
    let mut text = line(master, "DTSTART", master.property_value("DTSTART").unwrap());
    text.push_str(&format!(
        "\nRRULE:{}",
        master.property_value("RRULE").unwrap()
    ));
    for ex in master
        .multi_properties()
        .get("EXDATE")
        .into_iter()
        .flatten()
    {
        let tz = ex.params().get("TZID").map(|p| p.value().to_owned());
        match tz {
            Some(tz) => text.push_str(&format!("\nEXDATE;TZID={tz}:{}", ex.value())),
            None => text.push_str(&format!("\nEXDATE:{}", ex.value())),
        }
    }
    let set: rrule::RRuleSet = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
    let mut out: BTreeSet<DateTime<Utc>> = set
        .all(1000)
        .dates
        .into_iter()
        .map(|d| d.with_timezone(&Utc))
        .collect();
    // A RECURRENCE-ID or DTSTART as an instant: local time in its TZID, or UTC.
    let instant = |e: &icalendar::Event, name: &str| -> DateTime<Utc> {
        use chrono::TimeZone as _;
        let value = e.property_value(name).unwrap();
        let naive =
            chrono::NaiveDateTime::parse_from_str(value.trim_end_matches('Z'), "%Y%m%dT%H%M%S")
                .unwrap_or_else(|e| panic!("{name} {value}: {e}"));
        match tzid(e, name) {
            Some(tz) => tz
                .parse::<chrono_tz::Tz>()
                .unwrap()
                .from_local_datetime(&naive)
                .earliest()
                .unwrap()
                .with_timezone(&Utc),
            None => naive.and_utc(),
        }
    };
    for o in mine
        .iter()
        .filter(|e| e.property_value("RECURRENCE-ID").is_some())
    {
        out.remove(&instant(o, "RECURRENCE-ID"));
        if o.property_value("STATUS") != Some("CANCELLED") {
            out.insert(instant(o, "DTSTART"));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_parses_and_expands_to_the_same_occurrences() {
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
    // A series made by command, with one date cancelled and one moved.
    let add = "!meeting add id=tuth title=\"Tuesday and Thursday calls\" group=health start=2030-03-05T09:30 end=10:30 repeat=weekly days=tu,th count=8";
    assert!(ask(&app, &app.management, add).await.starts_with("Added"));
    let cancel = "!meeting cancel tuth on=2030-03-12";
    assert!(
        ask(&app, &app.management, cancel)
            .await
            .starts_with("Cancelled")
    );
    let mv = "!meeting move tuth on=2030-03-19 to=2030-03-20T16:00";
    assert!(ask(&app, &app.management, mv).await.starts_with("Moved"));

    let feed = reqwest::get(format!("http://127.0.0.1:{port}/calendar/all.ics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Ours, from the model: the example's series and the one made above.
    let mut cal = file::parse(&std::fs::read_to_string(EXAMPLE).unwrap()).unwrap();
    let made = file::parse(
        "[[meeting]]\nid = \"tuth\"\ntitle = \"x\"\nmode = \"online\"\nstart = \"2030-03-05T09:30\"\nend = \"10:30\"\nrepeat = \"weekly\"\ndays = [\"tu\", \"th\"]\ncount = 8\nexcept = [\"2030-03-12\"]\n[[meeting.moved]]\non = \"2030-03-19\"\nto = \"2030-03-20T16:00\"\n",
    )
    .unwrap();
    cal.meetings.extend(made.meetings);
    let series: Vec<_> = cal.meetings.iter().filter(|m| m.repeat.is_some()).collect();
    assert_eq!(series.len(), 3, "the example's two series and ours");
    for m in series {
        let ours: BTreeSet<DateTime<Utc>> = m
            .occurrences_from(DateTime::<Utc>::MIN_UTC, Brussels)
            .filter(|o| !o.cancelled)
            .map(|o| o.start().start_utc(Brussels))
            .collect();
        let theirs = expand(&feed, &format!("meeting-{}@convene", m.id));
        assert!(!ours.is_empty());
        assert_eq!(theirs, ours, "{}", m.id);
    }
    app.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ics_import_into_the_running_daemons_store_is_announced() {
    let marker = format!("import-{}", unique());
    let mut app = TestApp::spawn(Options::default()).await;
    let text = format!(
        "[[meeting]]\nid = \"{marker}\"\ntitle = \"Plenary {marker}\"\ngroups = [\"health\"]\nmode = \"online\"\nstart = \"2031-05-12T10:00\"\nend = \"12:00\"\n"
    );
    let cal_path = app.dir.path().join("calendar.toml");
    std::fs::write(&cal_path, &text).unwrap();
    let config = std::fs::read_to_string(&app.config_path).unwrap();
    std::fs::write(
        &app.config_path,
        format!("{config}\n[calendar]\nfile = \"{}\"\n", cal_path.display()),
    )
    .unwrap();
    app.start_ready().await;
    app.wait_bot_joined().await;
    app.wait_log("calendar loaded", WAIT).await;

    // Someone's calendar moved it by a day and made it physical; imported from the command
    // line while the daemon runs.
    let moved = file::parse(
        &text
            .replace("2031-05-12T10:00", "2031-05-13T14:00")
            .replace(
                "mode = \"online\"",
                "mode = \"physical\"\nlocation = \"Brussels\"",
            )
            .replace("end = \"12:00\"", "end = \"16:00\""),
    )
    .unwrap();
    let opts = convene::calendar::ics::FeedOptions {
        name: "theirs",
        dtstamp: Utc::now(),
        date_tz: Brussels,
    };
    let ics_path = app.dir.path().join("theirs.ics");
    std::fs::write(
        &ics_path,
        convene::calendar::ics::export(&moved, None, &|_| 0, &opts),
    )
    .unwrap();
    let started = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_convene"))
        .arg("--config")
        .arg(&app.config_path)
        .args(["calendar", "import"])
        .arg(&ics_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 items added or changed"));
    app.secretariat
        .wait_for(&app.health, "has moved", WAIT, Duration::ZERO)
        .await;
    eprintln!(
        "import notice seen {} ms after the import began",
        started.elapsed().as_millis()
    );
    tokio::time::sleep(SETTLE).await;
    let notice = app.secretariat.matching(&app.health, "has moved");
    assert_eq!(notice.len(), 1, "{notice:?}");
    let body = &notice[0].body;
    assert!(body.contains(&format!("Plenary {marker}")), "{body}");
    assert!(body.contains("Was: Mon 12 May 2031, 10:00–12:00"), "{body}");
    assert!(body.contains("Now: Tue 13 May 2031, 14:00–16:00"), "{body}");
    assert!(
        body.contains("Where: in person, Brussels (was online)"),
        "{body}"
    );
    app.stop();
}
