//! Reminders of series: one set per occurrence, each reminder once, at the local time it is
//! meant for across both 2026 DST changes, however the scheduler slices time.

use std::collections::HashSet;

use super::*;
use crate::calendar::recurrence::{End, Freq, Repeat};

fn example() -> Calendar {
    crate::calendar::file::parse(include_str!("../../../../config/calendar.example.toml")).unwrap()
}

/// Weekly on Tuesday at 10:00 Brussels time, 3 March – 24 November 2026: across 29 March
/// and 25 October.
fn weekly() -> Calendar {
    let mut m = meeting("weekly", "2026-03-03T10:00");
    m.end = Some("2026-03-03T11:00".parse().unwrap());
    let mut rule = Repeat::new(Freq::Weekly);
    rule.days = vec!["tu".parse().unwrap()];
    rule.end = End::Until("2026-11-24".parse().unwrap());
    m.repeat = Some(rule);
    Calendar {
        meetings: vec![m],
        ..Calendar::default()
    }
}

const FROM: &str = "2026-02-01T00:00:00Z";
const TO: &str = "2026-12-31T00:00:00Z";

/// Concatenates `due_between` over the consecutive windows between `bounds`.
fn sliced(cal: &Calendar, bounds: &[DateTime<Utc>]) -> Vec<Reminder> {
    bounds
        .windows(2)
        .flat_map(|w| due_between(cal, &Offsets::default(), Brussels, w[0], w[1]))
        .collect()
}

#[test]
fn each_occurrence_gets_its_reminders_at_the_local_time_meant() {
    let cal = weekly();
    let all = due_between(&cal, &Offsets::default(), Brussels, utc(FROM), utc(TO));
    // 39 Tuesdays from 3 March to 24 November, four reminders each.
    assert_eq!(all.len(), 39 * 4);
    let keys: HashSet<&str> = all.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys.len(), all.len(), "keys must be unique");
    for r in &all {
        let local = r.due.with_timezone(&Brussels);
        let (weekday, time) = (
            local.format("%a").to_string(),
            local.format("%H:%M").to_string(),
        );
        if r.offset == TimeDelta::hours(1) {
            // An hour before 10:00 local, CET or CEST alike.
            assert_eq!((weekday.as_str(), time.as_str()), ("Tue", "09:00"), "{r:?}");
        } else {
            // Whole days count back on the wall clock: 10:00, never 09:00 or 11:00.
            assert_eq!(time, "10:00", "{r:?}");
        }
        assert_eq!(
            r.at.with_timezone(&Brussels).format("%H:%M").to_string(),
            "10:00"
        );
        assert!(r.occurrence.as_deref().unwrap().starts_with("weekly@2026-"));
    }
    // Either side of each change, in UTC: 09:00 / 08:00 for a 10:00 CET / CEST start.
    let at = |occurrence: &str| {
        all.iter()
            .find(|r| r.occurrence.as_deref() == Some(occurrence))
            .unwrap()
            .at
    };
    assert_eq!(at("weekly@2026-03-24"), utc("2026-03-24T09:00:00Z"));
    assert_eq!(at("weekly@2026-03-31"), utc("2026-03-31T08:00:00Z"));
    assert_eq!(at("weekly@2026-10-20"), utc("2026-10-20T08:00:00Z"));
    assert_eq!(at("weekly@2026-10-27"), utc("2026-10-27T09:00:00Z"));
    // The 7-day reminder for 31 March (CEST) is due on 24 March at 10:00 CET.
    let r = all
        .iter()
        .find(|r| {
            r.occurrence.as_deref() == Some("weekly@2026-03-31") && r.offset == TimeDelta::days(7)
        })
        .unwrap();
    assert_eq!(
        r.key,
        "meeting:weekly@2026-03-31:2026-03-31T08:00:00Z:604800:2026-03-24T09:00:00Z"
    );
}

#[test]
fn windows_split_anywhere_give_every_reminder_exactly_once() {
    let cal = weekly();
    let all = due_between(&cal, &Offsets::default(), Brussels, utc(FROM), utc(TO));
    let (from, to) = (utc(FROM), utc(TO));
    // Uneven steps from a small linear congruential generator: 1 minute to 3 days.
    let mut state: u64 = 0x2026_0329;
    let mut uneven = vec![from];
    while *uneven.last().unwrap() < to {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let minutes = 1 + (state >> 33) % (3 * 24 * 60);
        let next = *uneven.last().unwrap() + TimeDelta::minutes(minutes as i64);
        uneven.push(next.min(to));
    }
    // Boundaries on each due instant and a second either side of it.
    let mut on_dues = vec![from];
    for r in &all {
        for t in [
            r.due - TimeDelta::seconds(1),
            r.due,
            r.due + TimeDelta::seconds(1),
        ] {
            if t > *on_dues.last().unwrap() {
                on_dues.push(t);
            }
        }
    }
    on_dues.push(to);
    // Boundaries at the changes themselves and across the repeated and skipped hours.
    let changes: Vec<DateTime<Utc>> = [
        FROM,
        "2026-03-28T23:59:59Z",
        "2026-03-29T01:00:00Z",
        "2026-03-29T01:30:00Z",
        "2026-10-25T00:00:00Z",
        "2026-10-25T00:59:59Z",
        "2026-10-25T01:00:00Z",
        "2026-10-25T02:00:00Z",
        TO,
    ]
    .iter()
    .map(|s| utc(s))
    .collect();
    for (name, bounds) in [
        ("uneven", &uneven),
        ("on dues", &on_dues),
        ("changes", &changes),
    ] {
        let got = sliced(&cal, bounds);
        assert_eq!(got, all, "windows {name}");
    }
}

#[test]
fn a_scheduler_sleeping_until_next_due_sends_each_once() {
    let cal = weekly();
    let offsets = Offsets::default();
    let all = due_between(&cal, &offsets, Brussels, utc(FROM), utc(TO));
    let mut sent = Vec::new();
    let mut last = utc(FROM);
    while let Some(wake) = next_due(&cal, &offsets, Brussels, last) {
        if wake > utc(TO) {
            break;
        }
        let batch = due_between(&cal, &offsets, Brussels, last, wake);
        assert!(
            !batch.is_empty() && batch.iter().all(|r| r.due == wake),
            "{wake}"
        );
        sent.extend(batch);
        last = wake;
    }
    assert_eq!(sent, all);
    assert_eq!(
        next_due(&cal, &offsets, Brussels, utc("2026-11-24T09:00:00Z")),
        None
    );
}

#[test]
fn a_moved_occurrence_has_new_keys_and_its_old_time_none() {
    let cal = example();
    let offsets = Offsets {
        meeting: vec![TimeDelta::days(1), TimeDelta::hours(1)],
        ..Offsets::default()
    };
    let week = |cal: &Calendar| -> Vec<Reminder> {
        due_between(
            cal,
            &offsets,
            Brussels,
            utc("2026-03-20T00:00:00Z"),
            utc("2026-03-28T00:00:00Z"),
        )
        .into_iter()
        .filter(|r| r.item.id == "health-webinar-week")
        .collect()
    };
    let reminders = week(&cal);
    let of = |day: &str| -> Vec<String> {
        reminders
            .iter()
            .filter(|r| r.occurrence.as_deref() == Some(&format!("health-webinar-week@{day}")))
            .map(|r| {
                r.due
                    .with_timezone(&Brussels)
                    .format("%d %H:%M")
                    .to_string()
            })
            .collect()
    };
    assert_eq!(of("2026-03-23"), ["22 12:00", "23 11:00"]);
    // Cancelled: nothing.
    assert!(of("2026-03-25").is_empty());
    // Moved from 12:00 to 10:00 on the 27th: reminded for 10:00, never for 11:00 (the old
    // one hour before).
    assert_eq!(of("2026-03-27"), ["26 10:00", "27 09:00"]);
    assert!(
        !reminders
            .iter()
            .any(|r| r.due == utc("2026-03-27T10:00:00Z"))
    );
    // Unmoved, the same occurrence had other keys: nothing recorded for them matches.
    let mut unmoved = cal.clone();
    let webinar = unmoved
        .meetings
        .iter_mut()
        .find(|m| m.id == "health-webinar-week")
        .unwrap();
    webinar.repeat.as_mut().unwrap().overrides.clear();
    let before: Vec<String> = week(&unmoved)
        .into_iter()
        .filter(|r| r.occurrence.as_deref() == Some("health-webinar-week@2026-03-27"))
        .map(|r| r.key)
        .collect();
    assert_eq!(before.len(), 2);
    assert!(before.iter().all(|k| reminders.iter().all(|r| &r.key != k)));
    // One-off items keep their old keys.
    let one_off = due_between(
        &cal,
        &offsets,
        Brussels,
        utc("2024-04-22T00:00:00Z"),
        utc("2024-04-25T00:00:00Z"),
    );
    assert_eq!(
        one_off[0].key,
        "meeting:online-2024-04-24:86400:2024-04-23T08:00:00Z"
    );
    assert_eq!(one_off[0].occurrence, None);
}

#[test]
fn the_message_speaks_of_the_occurrence() {
    let cal = example();
    let r = due_between(
        &cal,
        &Offsets::default(),
        Brussels,
        utc("2026-03-31T11:00:00Z"),
        utc("2026-03-31T12:00:00Z"),
    )
    .remove(0);
    assert_eq!(r.occurrence.as_deref(), Some("digital-subgroup@2026-03-31"));
    let item = cal.get(&r.item).unwrap();
    assert_eq!(
        render_reminder(&r, &item, utc("2026-03-31T12:00:00Z"), Brussels, false),
        "🔔 **Digital sub-group call — data spaces special** (Digital) — Wed 1 Apr, 14:00–15:30 Brussels time, tomorrow\n\
         Online: https://meet.example.org/htp-digital-subgroup"
    );
}

#[test]
fn open_series_stay_cheap_and_cancelled_ones_are_not_walked() {
    let mut cal = weekly();
    cal.meetings[0].repeat.as_mut().unwrap().end = End::Never;
    let offsets = Offsets::default();
    // Fourteen years on (Sunday 1 January 2040), found by seeking: the day-before reminder
    // of Tuesday the 3rd, at 10:00 CET.
    assert_eq!(
        next_due(&cal, &offsets, Brussels, utc("2040-01-01T00:00:00Z")),
        Some(utc("2040-01-02T09:00:00Z"))
    );
    // A cancelled open series has no reminder to find; the one-off beside it is next.
    cal.meetings[0].cancelled = true;
    cal.meetings.push(meeting("later", "2041-06-05T10:00"));
    assert_eq!(
        next_due(&cal, &offsets, Brussels, utc("2040-01-01T00:00:00Z")),
        Some(utc("2041-05-22T08:00:00Z"))
    );
    assert!(due_between(&cal, &offsets, Brussels, utc(FROM), utc(TO)).is_empty());
}
