//! Reminder due times across the 2026 Brussels DST changes, catch-up, keys and messages.

use super::*;
use crate::calendar::model::{Call, CallKind, Deadline, Meeting, Milestone};
use chrono_tz::Europe::Brussels;

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn meeting(id: &str, start: &str) -> Meeting {
    Meeting {
        id: id.into(),
        title: "Working Group online meeting".into(),
        groups: vec![],
        mode: Mode::Online,
        start: start.parse().unwrap(),
        end: None,
        location: None,
        join_link: Some("https://meet.example.org/wg".into()),
        agenda: vec![],
        minutes_link: None,
        cancelled: false,
        repeat: None,
    }
}

fn dues(item: &Item) -> Vec<String> {
    reminders_for(item, &Offsets::default(), Brussels)
        .map(|r| r.due.to_rfc3339_opts(SecondsFormat::Secs, true))
        .collect()
}

#[test]
fn day_offsets_keep_the_local_time_across_the_spring_change() {
    // 2 Apr 2026 10:00 CEST = 08:00 UTC; 7 days before is 26 Mar 10:00 CET = 09:00 UTC.
    let item = Item::Meeting(meeting("m1", "2026-04-02T10:00"));
    assert_eq!(
        dues(&item),
        [
            "2026-03-19T09:00:00Z",
            "2026-03-26T09:00:00Z",
            "2026-04-01T08:00:00Z",
            "2026-04-02T07:00:00Z"
        ]
    );
    let reminders: Vec<Reminder> = reminders_for(&item, &Offsets::default(), Brussels).collect();
    assert_eq!(reminders[1].key, "meeting:m1:604800:2026-03-26T09:00:00Z");
    assert_eq!(reminders[1].at, utc("2026-04-02T08:00:00Z"));
}

#[test]
fn day_offsets_keep_the_local_time_across_the_autumn_change() {
    // 28 Oct 2026 10:00 CET = 09:00 UTC; 7 days before is 21 Oct 10:00 CEST = 08:00 UTC.
    let item = Item::Meeting(meeting("m2", "2026-10-28T10:00"));
    assert_eq!(dues(&item)[1], "2026-10-21T08:00:00Z");
    assert_eq!(dues(&item)[2], "2026-10-27T09:00:00Z");
}

#[test]
fn hour_offsets_are_elapsed_time_and_gaps_resolve_forward() {
    // 1 hour before 03:30 CEST on 29 Mar 2026 (01:30 UTC) is 01:30 CET (00:30 UTC).
    let early = Item::Meeting(meeting("m3", "2026-03-29T03:30"));
    assert_eq!(dues(&early)[3], "2026-03-29T00:30:00Z");
    // 7 days before 02:30 on 5 Apr falls in the gap of 29 Mar: due at 03:00 CEST.
    let night = Item::Meeting(meeting("m4", "2026-04-05T02:30"));
    assert_eq!(dues(&night)[1], "2026-03-29T01:00:00Z");
    // 1 day before 02:30 on 26 Oct is the repeated 02:30: its first occurrence, CEST.
    let fold = Item::Meeting(meeting("m5", "2026-10-26T02:30"));
    assert_eq!(dues(&fold)[2], "2026-10-25T00:30:00Z");
}

#[test]
fn whole_days_count_back_from_nine_and_months_are_never_reminded() {
    let deadline = Item::Deadline(Deadline {
        id: "comments".into(),
        title: "Comments on the draft strategy".into(),
        due: "2023-05-03".parse().unwrap(),
        groups: vec![],
        source: None,
        repeat: None,
    });
    assert_eq!(
        dues(&deadline),
        ["2023-04-26T07:00:00Z", "2023-05-02T07:00:00Z"]
    );
    let call = Item::Call(Call {
        id: "c".into(),
        title: "Call for members".into(),
        groups: vec![],
        kind: CallKind::Members,
        opens: "2023-07-14".parse().unwrap(),
        closes: "2023-09-15".parse().unwrap(),
        link: None,
    });
    assert_eq!(
        dues(&call),
        ["2023-09-08T07:00:00Z", "2023-09-14T07:00:00Z"]
    );
    assert!(dues(&Item::Meeting(meeting("june", "2025-06"))).is_empty());
    let mut cancelled = meeting("x", "2026-04-02T10:00");
    cancelled.cancelled = true;
    assert!(dues(&Item::Meeting(cancelled)).is_empty());
    let milestone = Milestone {
        id: "p".into(),
        title: "Issue papers".into(),
        when: "2024-08-01".parse().unwrap(),
        groups: vec![],
    };
    assert!(dues(&Item::Milestone(milestone)).is_empty());
}

#[test]
fn moving_a_meeting_changes_its_keys() {
    let keys = |start: &str| -> Vec<String> {
        reminders_for(
            &Item::Meeting(meeting("m", start)),
            &Offsets::default(),
            Brussels,
        )
        .map(|r| r.key)
        .collect()
    };
    let (before, after) = (keys("2026-04-02T10:00"), keys("2026-04-02T11:00"));
    assert_eq!(before.len(), 4);
    assert!(before.iter().all(|b| !after.contains(b)));
}

#[test]
fn catch_up_classification() {
    let due = utc("2026-03-26T09:00:00Z");
    let grace = TimeDelta::hours(6);
    assert_eq!(
        classify_due(due, utc("2026-03-26T08:59:59Z"), grace),
        Due::NotYet
    );
    assert_eq!(classify_due(due, due, grace), Due::OnTime);
    assert_eq!(
        classify_due(due, utc("2026-03-26T09:01:00Z"), grace),
        Due::OnTime
    );
    assert_eq!(
        classify_due(due, utc("2026-03-26T09:01:01Z"), grace),
        Due::Late
    );
    assert_eq!(
        classify_due(due, utc("2026-03-26T15:00:00Z"), grace),
        Due::Late
    );
    assert_eq!(
        classify_due(due, utc("2026-03-26T15:00:01Z"), grace),
        Due::TooOld
    );
}

#[test]
fn a_restart_sees_what_fell_due_while_down_once() {
    let cal = Calendar {
        meetings: vec![meeting("m1", "2026-04-02T10:00")],
        ..Calendar::default()
    };
    let offsets = Offsets::default();
    // Down from 25 Mar 12:00 to 1 Apr 12:00 UTC: the 7-day and 1-day reminders fell due.
    let (last_seen, restart) = (utc("2026-03-25T12:00:00Z"), utc("2026-04-01T12:00:00Z"));
    let missed = due_between(&cal, &offsets, Brussels, last_seen, restart);
    let classes: Vec<Due> = missed
        .iter()
        .map(|r| classify_due(r.due, restart, TimeDelta::hours(6)))
        .collect();
    assert_eq!(classes, [Due::TooOld, Due::Late]);
    // The window is half-open: a reminder due exactly at the last check is not seen twice.
    assert!(due_between(&cal, &offsets, Brussels, missed[1].due, restart).is_empty());
    assert_eq!(
        next_due(&cal, &offsets, Brussels, restart),
        Some(utc("2026-04-02T07:00:00Z"))
    );
}

#[test]
fn offsets_parse_format_and_deserialise() {
    assert_eq!(parse_offset("14d").unwrap(), TimeDelta::days(14));
    assert_eq!(parse_offset("1d12h").unwrap(), TimeDelta::hours(36));
    assert_eq!(parse_offset("2w").unwrap(), TimeDelta::days(14));
    for bad in ["", "7", "7x", "d"] {
        assert!(parse_offset(bad).is_err(), "{bad}");
    }
    assert_eq!(format_offset(TimeDelta::hours(36)), "1d12h");
    assert_eq!(format_offset(TimeDelta::minutes(90)), "1h30m");
    let offsets: Offsets = toml::from_str("meeting = [\"2d\", \"30m\"]").unwrap();
    assert_eq!(
        offsets.meeting,
        [TimeDelta::days(2), TimeDelta::minutes(30)]
    );
    assert_eq!(offsets.deadline, Offsets::default().deadline);
    assert!(toml::from_str::<Offsets>("meeting = [\"soon\"]").is_err());
}

#[test]
fn renders_a_reminder_in_the_readers_terms() {
    let mut m = meeting("online-2026-04-02", "2026-04-02T10:00");
    m.end = Some("2026-04-02T12:30".parse().unwrap());
    m.groups = vec!["health".into()];
    let item = Item::Meeting(m);
    let reminder = reminders_for(&item, &Offsets::default(), Brussels)
        .nth(1)
        .unwrap();
    let now = utc("2026-03-26T09:00:00Z");
    assert_eq!(
        render_reminder(&reminder, &item, now, Brussels, false),
        "🔔 **Working Group online meeting** (Health) — Thu 2 Apr, 10:00–12:30 Brussels time, in 7 days\n\
         Online: https://meet.example.org/wg"
    );
    let late = render_reminder(
        &reminder,
        &item,
        utc("2026-03-26T11:00:00Z"),
        Brussels,
        true,
    );
    assert!(
        late.ends_with("\n_Sent late: due Thu 26 Mar, 10:00 Brussels time._"),
        "{late}"
    );
}

mod series;
