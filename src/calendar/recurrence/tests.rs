//! The RFC 5545 §3.8.5.3 examples the model holds, expansion in local time across DST,
//! exceptions, seeking, and validation.

use chrono::{DateTime, Utc};
use chrono_tz::America::New_York;
use chrono_tz::Europe::Brussels;

use super::rrule::{from_rrule, to_rrule};
use super::*;

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// The dates of an RFC example: DTSTART at 09:00 New York time, as the RFC's examples are.
fn rfc(start: &str, rule: &str, take: usize) -> Vec<String> {
    let start = DateSpec::parse(&format!("{start}T09:00 America/New_York"), New_York).unwrap();
    let repeat = from_rrule(rule, &start, New_York).unwrap();
    repeat
        .dates(start.first_day())
        .take(take)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .collect()
}

/// "1997-09-02" style lists from the RFC's "==> (1997 9:00 AM EDT) September 2-11" prose.
fn days(year_month: &str, list: &[u32]) -> Vec<String> {
    list.iter()
        .map(|d| format!("{year_month}-{d:02}"))
        .collect()
}

fn concat(parts: &[Vec<String>]) -> Vec<String> {
    parts.concat()
}

#[test]
fn rfc_daily_examples() {
    // Daily for 10 occurrences.
    assert_eq!(
        rfc("1997-09-02", "FREQ=DAILY;COUNT=10", 100),
        days("1997-09", &[2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    );
    // Daily until December 24, 1997: the UTC UNTIL is 19:00 on the 23rd in New York.
    let until = rfc("1997-09-02", "FREQ=DAILY;UNTIL=19971224T000000Z", 1000);
    assert_eq!(until.len(), 29 + 31 + 30 + 23);
    assert_eq!(until.first().unwrap(), "1997-09-02");
    assert_eq!(until.last().unwrap(), "1997-12-23");
    // Every other day, forever.
    assert_eq!(
        rfc("1997-09-02", "FREQ=DAILY;INTERVAL=2", 16),
        concat(&[
            days(
                "1997-09",
                &[2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
            ),
            days("1997-10", &[2]),
        ])
    );
    // Every 10 days, 5 occurrences.
    assert_eq!(
        rfc("1997-09-02", "FREQ=DAILY;INTERVAL=10;COUNT=5", 100),
        concat(&[days("1997-09", &[2, 12, 22]), days("1997-10", &[2, 12])])
    );
}

#[test]
fn rfc_weekly_examples() {
    // Weekly for 10 occurrences.
    assert_eq!(
        rfc("1997-09-02", "FREQ=WEEKLY;COUNT=10", 100),
        concat(&[
            days("1997-09", &[2, 9, 16, 23, 30]),
            days("1997-10", &[7, 14, 21, 28]),
            days("1997-11", &[4]),
        ])
    );
    // Weekly until December 24, 1997.
    assert_eq!(
        rfc("1997-09-02", "FREQ=WEEKLY;UNTIL=19971224T000000Z", 100),
        concat(&[
            days("1997-09", &[2, 9, 16, 23, 30]),
            days("1997-10", &[7, 14, 21, 28]),
            days("1997-11", &[4, 11, 18, 25]),
            days("1997-12", &[2, 9, 16, 23]),
        ])
    );
    // Every other week, forever (WKST=SU cannot matter with one weekday).
    assert_eq!(
        rfc("1997-09-02", "FREQ=WEEKLY;INTERVAL=2;WKST=SU", 13),
        concat(&[
            days("1997-09", &[2, 16, 30]),
            days("1997-10", &[14, 28]),
            days("1997-11", &[11, 25]),
            days("1997-12", &[9, 23]),
            days("1998-01", &[6, 20]),
            days("1998-02", &[3, 17]),
        ])
    );
    // Weekly on Tuesday and Thursday for five weeks, both ways the RFC writes it.
    let tu_th = concat(&[
        days("1997-09", &[2, 4, 9, 11, 16, 18, 23, 25, 30]),
        days("1997-10", &[2]),
    ]);
    assert_eq!(
        rfc(
            "1997-09-02",
            "FREQ=WEEKLY;UNTIL=19971007T000000Z;WKST=SU;BYDAY=TU,TH",
            100
        ),
        tu_th
    );
    assert_eq!(
        rfc(
            "1997-09-02",
            "FREQ=WEEKLY;COUNT=10;WKST=SU;BYDAY=TU,TH",
            100
        ),
        tu_th
    );
    // Every other week on Monday, Wednesday and Friday until December 24, 1997.
    assert_eq!(
        rfc(
            "1997-09-01",
            "FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;WKST=SU;BYDAY=MO,WE,FR",
            100
        ),
        concat(&[
            days("1997-09", &[1, 3, 5, 15, 17, 19, 29]),
            days("1997-10", &[1, 3, 13, 15, 17, 27, 29, 31]),
            days("1997-11", &[10, 12, 14, 24, 26, 28]),
            days("1997-12", &[8, 10, 12, 22]),
        ])
    );
    // Every other week on Tuesday and Thursday, for 8 occurrences.
    assert_eq!(
        rfc(
            "1997-09-02",
            "FREQ=WEEKLY;INTERVAL=2;COUNT=8;WKST=SU;BYDAY=TU,TH",
            100
        ),
        concat(&[
            days("1997-09", &[2, 4, 16, 18, 30]),
            days("1997-10", &[2, 14, 16])
        ])
    );
    // The WKST example: with weeks from Monday, Tuesday and Sunday of the same week.
    assert_eq!(
        rfc(
            "1997-08-05",
            "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO",
            100
        ),
        days("1997-08", &[5, 10, 19, 24])
    );
    // …and from Sunday, which the model cannot hold: refused, not expanded wrongly.
    let start = DateSpec::parse("1997-08-05T09:00", New_York).unwrap();
    let err = from_rrule(
        "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU",
        &start,
        New_York,
    )
    .unwrap_err();
    assert!(err.contains("WKST=SU"), "{err}");
}

#[test]
fn rfc_monthly_examples() {
    // Monthly on the first Friday for 10 occurrences, and until December 24, 1997.
    assert_eq!(
        rfc("1997-09-05", "FREQ=MONTHLY;COUNT=10;BYDAY=1FR", 100),
        [
            "1997-09-05",
            "1997-10-03",
            "1997-11-07",
            "1997-12-05",
            "1998-01-02",
            "1998-02-06",
            "1998-03-06",
            "1998-04-03",
            "1998-05-01",
            "1998-06-05"
        ]
    );
    assert_eq!(
        rfc(
            "1997-09-05",
            "FREQ=MONTHLY;UNTIL=19971224T000000Z;BYDAY=1FR",
            100
        ),
        ["1997-09-05", "1997-10-03", "1997-11-07", "1997-12-05"]
    );
    // Every other month on the first and last Sunday, 10 occurrences.
    assert_eq!(
        rfc(
            "1997-09-07",
            "FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU",
            100
        ),
        [
            "1997-09-07",
            "1997-09-28",
            "1997-11-02",
            "1997-11-30",
            "1998-01-04",
            "1998-01-25",
            "1998-03-01",
            "1998-03-29",
            "1998-05-03",
            "1998-05-31"
        ]
    );
    // Monthly on the second-to-last Monday for 6 months.
    assert_eq!(
        rfc("1997-09-22", "FREQ=MONTHLY;COUNT=6;BYDAY=-2MO", 100),
        [
            "1997-09-22",
            "1997-10-20",
            "1997-11-17",
            "1997-12-22",
            "1998-01-19",
            "1998-02-16"
        ]
    );
    // Monthly on the third-to-last day, forever.
    assert_eq!(
        rfc("1997-09-28", "FREQ=MONTHLY;BYMONTHDAY=-3", 6),
        [
            "1997-09-28",
            "1997-10-29",
            "1997-11-28",
            "1997-12-29",
            "1998-01-29",
            "1998-02-26"
        ]
    );
    // Monthly on the 2nd and 15th, and on the first and last day, 10 occurrences.
    assert_eq!(
        rfc("1997-09-02", "FREQ=MONTHLY;COUNT=10;BYMONTHDAY=2,15", 100),
        concat(&[
            days("1997-09", &[2, 15]),
            days("1997-10", &[2, 15]),
            days("1997-11", &[2, 15]),
            days("1997-12", &[2, 15]),
            days("1998-01", &[2, 15]),
        ])
    );
    assert_eq!(
        rfc("1997-09-30", "FREQ=MONTHLY;COUNT=10;BYMONTHDAY=1,-1", 100),
        [
            "1997-09-30",
            "1997-10-01",
            "1997-10-31",
            "1997-11-01",
            "1997-11-30",
            "1997-12-01",
            "1997-12-31",
            "1998-01-01",
            "1998-01-31",
            "1998-02-01"
        ]
    );
    // Every 18 months on the 10th to 15th, 10 occurrences.
    assert_eq!(
        rfc(
            "1997-09-10",
            "FREQ=MONTHLY;INTERVAL=18;COUNT=10;BYMONTHDAY=10,11,12,13,14,15",
            100
        ),
        concat(&[
            days("1997-09", &[10, 11, 12, 13, 14, 15]),
            days("1999-03", &[10, 11, 12, 13]),
        ])
    );
    // Every Tuesday, every other month.
    assert_eq!(
        rfc("1997-09-02", "FREQ=MONTHLY;INTERVAL=2;BYDAY=TU", 18),
        concat(&[
            days("1997-09", &[2, 9, 16, 23, 30]),
            days("1997-11", &[4, 11, 18, 25]),
            days("1998-01", &[6, 13, 20, 27]),
            days("1998-03", &[3, 10, 17, 24, 31]),
        ])
    );
    // An invalid date (30 February) is ignored, and does not count.
    assert_eq!(
        rfc("2007-01-15", "FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5", 100),
        [
            "2007-01-15",
            "2007-01-30",
            "2007-02-15",
            "2007-03-15",
            "2007-03-30"
        ]
    );
    // The first Saturday that follows the first Sunday of the month.
    assert_eq!(
        rfc(
            "1997-09-13",
            "FREQ=MONTHLY;BYDAY=SA;BYMONTHDAY=7,8,9,10,11,12,13",
            10
        ),
        [
            "1997-09-13",
            "1997-10-11",
            "1997-11-08",
            "1997-12-13",
            "1998-01-10",
            "1998-02-07",
            "1998-03-07",
            "1998-04-11",
            "1998-05-09",
            "1998-06-13"
        ]
    );
}

#[test]
fn friday_the_13th_with_an_exdate_on_an_unsynchronised_start() {
    // RFC 5545: DTSTART 2 Sep 1997 (a Tuesday) with EXDATE on it, every Friday the 13th. The
    // start is kept as an occurrence (and cancelled by the EXDATE), as clients do.
    let start = DateSpec::parse("1997-09-02T09:00", New_York).unwrap();
    let mut repeat = from_rrule("FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", &start, New_York).unwrap();
    repeat.except.push(date("1997-09-02"));
    assert_eq!(repeat.check(&start).unwrap_err().key, "start");
    let series = Series {
        start: &start,
        end: None,
        repeat: &repeat,
    };
    let kept: Vec<String> = series
        .from(utc("1997-01-01T00:00:00Z"), New_York)
        .filter(|i| i.status != Status::Cancelled)
        .take(5)
        .map(|i| i.original.to_string())
        .collect();
    assert_eq!(
        kept,
        [
            "1998-02-13",
            "1998-03-13",
            "1998-11-13",
            "1999-08-13",
            "2000-10-13"
        ]
    );
}

#[test]
fn months_without_the_day_are_skipped_and_impossible_rules_end() {
    let start = DateSpec::parse("2026-01-31T10:00", Brussels).unwrap();
    let rule = from_rrule("FREQ=MONTHLY", &start, Brussels).unwrap();
    let dates: Vec<String> = rule
        .dates(start.first_day())
        .take(4)
        .map(|d| d.to_string())
        .collect();
    assert_eq!(
        dates,
        ["2026-01-31", "2026-03-31", "2026-05-31", "2026-07-31"]
    );
    // The 30th every 12 months from a February: only the start, then nothing — not a hang.
    let feb = DateSpec::parse("2026-02-28", Brussels).unwrap();
    let mut never = Repeat::new(Freq::Monthly);
    never.interval = 12;
    never.monthdays = vec![30];
    assert_eq!(never.dates(feb.first_day()).count(), 1);
    assert_eq!(never.check(&feb).unwrap_err().key, "repeat");
}

#[test]
fn seeking_gives_the_same_dates_as_walking() {
    let first = date("2023-11-07");
    for text in [
        "FREQ=DAILY;INTERVAL=3",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH",
        "FREQ=MONTHLY;BYDAY=2TU,-1FR",
        "FREQ=MONTHLY;INTERVAL=5;BYMONTHDAY=7,-1",
    ] {
        let rule = from_rrule(text, &DateSpec::Day(first), Brussels).unwrap();
        for from in ["2023-11-07", "2024-02-29", "2026-03-29", "2031-12-31"] {
            let from = date(from);
            let walked: Vec<NaiveDate> = rule
                .dates(first)
                .skip_while(|d| *d < from)
                .take(20)
                .collect();
            let sought: Vec<NaiveDate> = rule.dates_from(first, from).take(20).collect();
            assert_eq!(sought, walked, "{text} from {from}");
            assert!(sought.iter().all(|d| *d >= from));
        }
    }
}

#[test]
fn seeking_far_into_an_open_series_is_immediate() {
    // Twenty thousand years of daily dates would take a walk; a seek goes straight there.
    let rule = Repeat::new(Freq::Daily);
    let first = date("2026-01-01");
    let far = date("9000-06-01");
    assert_eq!(rule.dates_from(first, far).next(), Some(far));
    assert!(rule.occurs_on(first, far));
}

fn weekly_brussels() -> (DateSpec, DateSpec, Repeat) {
    let start = DateSpec::parse("2026-03-03T10:00", Brussels).unwrap();
    let end = DateSpec::parse("2026-03-03T11:30", Brussels).unwrap();
    let mut rule = Repeat::new(Freq::Weekly);
    rule.days = vec!["tu".parse().unwrap()];
    (start, end, rule)
}

#[test]
fn any_instant_can_be_asked_about_in_any_zone() {
    // West of UTC, the earliest and latest instants have no local time: no panic, and the
    // series is found from its start, or ends.
    let start = DateSpec::parse("2026-03-03T10:00 America/New_York", Brussels).unwrap();
    let rule = Repeat::new(Freq::Weekly);
    let series = Series {
        start: &start,
        end: None,
        repeat: &rule,
    };
    let first = series
        .from(DateTime::<Utc>::MIN_UTC, Brussels)
        .next()
        .unwrap();
    assert_eq!(first.original, date("2026-03-03"));
    assert!(
        series
            .from(DateTime::<Utc>::MAX_UTC, Brussels)
            .next()
            .is_none()
    );
}

#[test]
fn a_weekly_series_keeps_its_local_time_across_both_changes() {
    let (start, end, rule) = weekly_brussels();
    let series = Series {
        start: &start,
        end: Some(&end),
        repeat: &rule,
    };
    let instances: Vec<Instance<'_>> = series
        .from(utc("2026-03-01T00:00:00Z"), Brussels)
        .take_while(|i| i.original <= date("2026-11-03"))
        .collect();
    assert_eq!(instances.len(), 36);
    for i in &instances {
        let at = i.start.start_utc(Brussels).with_timezone(&Brussels);
        let ends = i
            .end
            .as_ref()
            .unwrap()
            .start_utc(Brussels)
            .with_timezone(&Brussels);
        assert_eq!(at.format("%a %H:%M").to_string(), "Tue 10:00", "{i:?}");
        assert_eq!(ends.format("%H:%M").to_string(), "11:30", "{i:?}");
    }
    // 10:00 CET is 09:00 UTC before 29 March and after 25 October, 08:00 UTC between.
    let utc_hour = |d: &str| {
        let i = instances.iter().find(|i| i.original == date(d)).unwrap();
        i.start.start_utc(Brussels).format("%H:%M").to_string()
    };
    assert_eq!(utc_hour("2026-03-24"), "09:00");
    assert_eq!(utc_hour("2026-03-31"), "08:00");
    assert_eq!(utc_hour("2026-10-20"), "08:00");
    assert_eq!(utc_hour("2026-10-27"), "09:00");
}

#[test]
fn a_time_in_the_spring_gap_resolves_as_datespec_does() {
    let start = DateSpec::parse("2026-03-27T02:30", Brussels).unwrap();
    let mut rule = Repeat::new(Freq::Daily);
    rule.end = End::Count(4);
    let series = Series {
        start: &start,
        end: None,
        repeat: &rule,
    };
    let times: Vec<String> = series
        .from(utc("2026-03-01T00:00:00Z"), Brussels)
        .map(|i| {
            i.start
                .start_utc(Brussels)
                .with_timezone(&Brussels)
                .format("%d %H:%M %Z")
                .to_string()
        })
        .collect();
    // 02:30 does not exist on 29 March: 03:00 CEST, as `resolve_local` says.
    assert_eq!(
        times,
        [
            "27 02:30 CET",
            "28 02:30 CET",
            "29 03:00 CEST",
            "30 02:30 CEST"
        ]
    );
}

#[test]
fn exceptions_cancel_and_move_in_order_of_actual_start() {
    let (start, end, mut rule) = weekly_brussels();
    rule.end = End::Count(6); // 3, 10, 17, 24, 31 March, 7 April
    rule.except = vec![date("2026-03-17")];
    rule.overrides = vec![
        // The 10 March session moves after the 24 March one, with a longer slot.
        Override {
            on: date("2026-03-10"),
            to: Some(DateSpec::parse("2026-03-25T14:00", Brussels).unwrap()),
            end: Some(DateSpec::parse("2026-03-25T17:00", Brussels).unwrap()),
            title: Some("Joint session".into()),
            mode: Some(Mode::Physical),
            location: Some("Brussels".into()),
            join_link: None,
        },
        // The 31 March one only changes its title; it keeps its place.
        Override {
            on: date("2026-03-31"),
            to: None,
            end: None,
            title: Some("Wrap-up".into()),
            mode: None,
            location: None,
            join_link: None,
        },
    ];
    rule.check(&start).unwrap();
    let series = Series {
        start: &start,
        end: Some(&end),
        repeat: &rule,
    };
    let seen: Vec<(String, String, bool)> = series
        .from(utc("2026-01-01T00:00:00Z"), Brussels)
        .map(|i| {
            let state = match i.status {
                Status::Planned => "planned",
                Status::Cancelled => "cancelled",
                Status::Overridden(_) => "changed",
            };
            (
                i.original.to_string(),
                format!("{} {state}", i.start),
                i.moved,
            )
        })
        .collect();
    let row = |o: &str, s: &str, moved| (o.to_owned(), s.to_owned(), moved);
    assert_eq!(
        seen,
        [
            row(
                "2026-03-03",
                "2026-03-03T10:00[Europe/Brussels] planned",
                false
            ),
            row(
                "2026-03-17",
                "2026-03-17T10:00[Europe/Brussels] cancelled",
                false
            ),
            row(
                "2026-03-24",
                "2026-03-24T10:00[Europe/Brussels] planned",
                false
            ),
            row(
                "2026-03-10",
                "2026-03-25T14:00[Europe/Brussels] changed",
                true
            ),
            row(
                "2026-03-31",
                "2026-03-31T10:00[Europe/Brussels] changed",
                false
            ),
            row(
                "2026-04-07",
                "2026-04-07T10:00[Europe/Brussels] planned",
                false
            ),
        ]
    );
    // Starting after the original date but before the new one still finds the moved one;
    // starting after its new start does not.
    let from_mid =
        |t: &str| -> Vec<NaiveDate> { series.from(utc(t), Brussels).map(|i| i.original).collect() };
    assert_eq!(from_mid("2026-03-20T00:00:00Z")[1], date("2026-03-10"));
    assert!(!from_mid("2026-03-26T00:00:00Z").contains(&date("2026-03-10")));
    // A moved occurrence keeps the series' duration unless it says otherwise.
    let moved = series.get(date("2026-03-10")).unwrap();
    assert_eq!(
        moved.end.unwrap().to_string(),
        "2026-03-25T17:00[Europe/Brussels]"
    );
    assert!(series.get(date("2026-03-11")).is_none());
}

#[test]
fn check_names_the_key_at_fault() {
    let (start, _, rule) = weekly_brussels();
    let key = |edit: &dyn Fn(&mut Repeat)| {
        let mut r = rule.clone();
        edit(&mut r);
        r.check(&start).err().map(|e| e.key)
    };
    assert_eq!(key(&|_| {}), None);
    assert_eq!(key(&|r| r.interval = 0), Some("interval"));
    assert_eq!(
        key(&|r| r.days = vec!["2tu".parse().unwrap()]),
        Some("days")
    );
    assert_eq!(key(&|r| r.monthdays = vec![3]), Some("monthdays"));
    assert_eq!(key(&|r| r.end = End::Count(0)), Some("count"));
    assert_eq!(
        key(&|r| r.end = End::Until(date("2026-03-02"))),
        Some("until")
    );
    assert_eq!(
        key(&|r| r.except = vec![date("2026-03-11")]),
        Some("except")
    );
    assert_eq!(
        key(&|r| r.days = vec!["we".parse().unwrap()]),
        Some("start")
    );
    let moved = |on: &str, to: &str| Override {
        on: date(on),
        to: Some(DateSpec::parse(to, Brussels).unwrap()),
        end: None,
        title: None,
        mode: None,
        location: None,
        join_link: None,
    };
    assert_eq!(
        key(&|r| r.overrides = vec![moved("2026-03-11", "2026-03-12T10:00")]),
        Some("moved")
    );
    assert_eq!(
        key(&|r| r.overrides = vec![moved("2026-03-10", "2026-03-12")]),
        Some("moved")
    );
    assert_eq!(
        key(&|r| {
            r.except = vec![date("2026-03-10")];
            r.overrides = vec![moved("2026-03-10", "2026-03-12T10:00")];
        }),
        Some("moved")
    );
    let mut month = rule.clone();
    assert_eq!(
        month.check(&"2026-03".parse().unwrap()).unwrap_err().key,
        "repeat"
    );
}

#[test]
fn rrule_text_round_trips() {
    let at = DateSpec::parse("2026-03-03T10:00", Brussels).unwrap();
    let day = DateSpec::Day(date("2026-03-03"));
    for (start, text) in [
        (&at, "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"),
        (&at, "FREQ=DAILY;COUNT=5"),
        (&at, "FREQ=MONTHLY;BYDAY=1TU,-1TU;UNTIL=20261229T090000Z"),
        (&day, "FREQ=MONTHLY;BYMONTHDAY=3,-1;UNTIL=20261231"),
    ] {
        let rule = from_rrule(text, start, Brussels).unwrap();
        assert_eq!(to_rrule(&rule, start), text);
    }
    // UNTIL of an exact-time series is the UTC instant of its last possible start.
    let rule = from_rrule("FREQ=WEEKLY;UNTIL=20260630T080000Z", &at, Brussels).unwrap();
    assert_eq!(rule.end, End::Until(date("2026-06-30")));
    let before = from_rrule("FREQ=WEEKLY;UNTIL=20260630T075959Z", &at, Brussels).unwrap();
    assert_eq!(before.end, End::Until(date("2026-06-29")));
    // "Every weekday" as a daily rule is the weekly rule it equals.
    let weekdays = from_rrule("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", &at, Brussels).unwrap();
    assert_eq!(weekdays.freq, Freq::Weekly);
    assert_eq!(weekdays.days.len(), 5);
    for bad in [
        "FREQ=YEARLY",
        "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU",
        "FREQ=WEEKLY;BYMONTH=3",
        "INTERVAL=2",
        "FREQ=WEEKLY;COUNT=x",
        "FREQ=WEEKLY;BYDAY=XX",
    ] {
        assert!(from_rrule(bad, &at, Brussels).is_err(), "{bad}");
    }
}

#[test]
fn weekdays_read_and_write_as_in_the_file() {
    for (text, shown) in [
        ("tu", "tu"),
        ("TU", "tu"),
        ("2tu", "2tu"),
        ("+2TU", "2tu"),
        ("-1fr", "-1fr"),
    ] {
        assert_eq!(text.parse::<ByDay>().unwrap().to_string(), shown);
    }
    for bad in ["", "t", "xx", "0tu", "2", "tue"] {
        assert!(bad.parse::<ByDay>().is_err(), "{bad:?}");
    }
    // The stored JSON is compact: defaults are left out.
    let (_, _, rule) = weekly_brussels();
    assert_eq!(
        serde_json::to_string(&rule).unwrap(),
        r#"{"freq":"weekly","days":["tu"]}"#
    );
    let mut full = rule.clone();
    full.end = End::Until(date("2026-06-30"));
    full.except = vec![date("2026-04-14")];
    let json = serde_json::to_string(&full).unwrap();
    assert_eq!(
        json,
        r#"{"freq":"weekly","days":["tu"],"end":{"until":"2026-06-30"},"except":["2026-04-14"]}"#
    );
    assert_eq!(serde_json::from_str::<Repeat>(&json).unwrap(), full);
}
