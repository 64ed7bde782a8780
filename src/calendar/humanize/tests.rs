use super::*;
use chrono_tz::Europe::Brussels;

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn spec(s: &str) -> DateSpec {
    s.parse().unwrap()
}

#[test]
fn labels_zones_by_city() {
    assert_eq!(tz_label(Brussels), "Brussels time");
    assert_eq!(tz_label(chrono_tz::America::New_York), "New York time");
    assert_eq!(tz_label(chrono_tz::UTC), "UTC");
    assert_eq!(group_label("research-innovation"), "Research & Innovation");
    assert_eq!(
        groups_suffix(&["territorial".into(), "urban-rural".into()]),
        " (Territorial, Urban Rural)"
    );
}

#[test]
fn exact_times_in_the_readers_terms() {
    let now = utc("2024-04-21T09:00:00Z");
    assert_eq!(
        when(&spec("2024-04-24T10:00"), now, Brussels),
        "Wed 24 Apr, 10:00 Brussels time, in 3 days"
    );
    let end = spec("2024-04-24T12:30");
    assert_eq!(
        span(&spec("2024-04-24T10:00"), Some(&end), now, Brussels),
        "Wed 24 Apr, 10:00–12:30 Brussels time, in 3 days"
    );
    // A Lisbon meeting read in Brussels time.
    assert_eq!(
        when(&spec("2024-04-22T10:00 Europe/Lisbon"), now, Brussels),
        "Mon 22 Apr, 11:00 Brussels time, tomorrow"
    );
    assert_eq!(
        when(&spec("2024-04-21T12:30"), now, Brussels),
        "Sun 21 Apr, 12:30 Brussels time, in 1 hour"
    );
    assert_eq!(
        when(&spec("2024-04-21T18:00"), now, Brussels),
        "Sun 21 Apr, 18:00 Brussels time, today"
    );
    assert_eq!(
        when(&spec("2025-01-31T10:00"), now, Brussels),
        "Fri 31 Jan 2025, 10:00 Brussels time, in 9 months"
    );
}

#[test]
fn a_reader_in_another_zone_sees_their_time_beside_ours() {
    let now = utc("2026-03-27T09:00:00Z");
    let lisbon = Zones::new(Brussels, Some(chrono_tz::Europe::Lisbon));
    // Before and after the spring change (29 Mar 2026, both zones change together).
    assert_eq!(
        when_in(&spec("2026-03-28T10:00"), now, lisbon),
        "Sat 28 Mar, 10:00 Brussels time (09:00 Lisbon time), tomorrow"
    );
    assert_eq!(
        when_in(&spec("2026-03-30T10:00"), now, lisbon),
        "Mon 30 Mar, 10:00 Brussels time (09:00 Lisbon time), in 3 days"
    );
    // Another day for the reader; nothing more where both read the same.
    let tokyo = Zones::new(Brussels, Some(chrono_tz::Asia::Tokyo));
    assert_eq!(
        span_plain_in(&spec("2026-04-24T18:30"), None, now.date_naive(), tokyo),
        "Fri 24 Apr, 18:30 Brussels time (Sat 25 Apr, 01:30 Tokyo time)"
    );
    let paris = Zones::new(Brussels, Some(chrono_tz::Europe::Paris));
    assert_eq!(
        when_in(&spec("2026-03-28T10:00"), now, paris),
        when(&spec("2026-03-28T10:00"), now, Brussels)
    );
    // Whole days have no time to convert.
    assert_eq!(
        when_in(&spec("2026-03-28"), now, tokyo),
        "Sat 28 Mar, tomorrow"
    );
}

#[test]
fn days_and_months() {
    let now = utc("2023-09-14T10:00:00Z");
    assert_eq!(
        when(&spec("2023-09-15"), now, Brussels),
        "Fri 15 Sep, tomorrow"
    );
    assert_eq!(
        when(&spec("2023-09-11"), now, Brussels),
        "Mon 11 Sep, 3 days ago"
    );
    assert_eq!(
        when(&spec("2023-09-14"), now, Brussels),
        "Thu 14 Sep, today"
    );
    assert_eq!(when(&spec("2025-03"), now, Brussels), "March 2025");
    let multi = span(
        &spec("2023-05-30"),
        Some(&spec("2023-06-01")),
        utc("2023-05-01T10:00:00Z"),
        Brussels,
    );
    assert_eq!(multi, "Tue 30 May – Thu 1 Jun, in 4 weeks");
    assert_eq!(short(&spec("2024-08")), "Aug 2024");
    assert_eq!(short(&spec("2024-04-24T10:00")), "24 Apr 2024");
}

#[test]
fn rules_in_words() {
    let tue = NaiveDate::from_ymd_opt(2026, 2, 3).unwrap();
    let rule = |text: &str| {
        let start = DateSpec::Day(tue);
        crate::calendar::recurrence::rrule::from_rrule(text, &start, Brussels).unwrap()
    };
    let cases = [
        ("FREQ=DAILY;COUNT=5", "daily, 5 times"),
        ("FREQ=WEEKLY", "weekly on Tuesday"),
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH",
            "every 2 weeks on Tuesday and Thursday",
        ),
        ("FREQ=MONTHLY;BYDAY=1FR", "monthly on the first Friday"),
        (
            "FREQ=MONTHLY;BYDAY=2SU,-1SU",
            "monthly on the second Sunday and the last Sunday",
        ),
        (
            "FREQ=MONTHLY;BYDAY=-2MO",
            "monthly on the second to last Monday",
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=1,-1",
            "monthly on the 1st and the last day",
        ),
        (
            "FREQ=MONTHLY;UNTIL=20260630",
            "monthly on the 3rd, until 30 Jun 2026",
        ),
        (
            "FREQ=MONTHLY;INTERVAL=2;BYDAY=TU",
            "every 2 months on every Tuesday",
        ),
    ];
    for (text, words) in cases {
        assert_eq!(repeat(&rule(text), tue), words, "{text}");
    }
    assert_eq!(ordinal(22), "22nd");
    assert_eq!(ordinal(13), "13th");
}

#[test]
fn relative_day_steps() {
    let today = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let rel = |days: i64| relative_day(today + chrono::TimeDelta::days(days), today);
    assert_eq!(rel(13), "in 13 days");
    assert_eq!(rel(14), "in 2 weeks");
    assert_eq!(rel(59), "in 8 weeks");
    assert_eq!(rel(60), "in 2 months");
    assert_eq!(rel(-2), "2 days ago");
    assert_eq!(rel(-21), "3 weeks ago");
}
