//! Series in feeds: RRULE, EXDATE and RECURRENCE-ID out, the same occurrences back in, and
//! series from other calendars.

use super::*;
use crate::calendar::model::Occurrence;

fn year_2026(cal: &Calendar) -> Vec<Occurrence> {
    cal.occurrences_between(
        utc("2026-01-01T00:00:00Z"),
        utc("2027-01-01T00:00:00Z"),
        Brussels,
    )
    .collect()
}

#[test]
fn a_series_is_one_event_with_rrule_and_exdate_and_one_per_moved_occurrence() {
    let text = export(&example(), Some("digital"), &|_| 2, &opts());
    for expected in [
        "UID:meeting-digital-subgroup@convene\r\nDTSTAMP:20260105T080000Z\r\nSEQUENCE:2\r\n\
         SUMMARY:Digital sub-group call\r\nDTSTART;TZID=Europe/Brussels:20260203T140000\r\n\
         DTEND;TZID=Europe/Brussels:20260203T153000\r\n\
         RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;UNTIL=20260526T120000Z\r\n\
         EXDATE;TZID=Europe/Brussels:20260414T140000\r\n",
        "UID:meeting-digital-subgroup@convene\r\nDTSTAMP:20260105T080000Z\r\nSEQUENCE:2\r\n\
         RECURRENCE-ID;TZID=Europe/Brussels:20260331T140000\r\n\
         SUMMARY:Digital sub-group call — data spaces special\r\n\
         DTSTART;TZID=Europe/Brussels:20260401T140000\r\nDTEND;TZID=Europe/Brussels:20260401T153000\r\n",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    // The override carries no rule of its own.
    let override_event = text.split("RECURRENCE-ID").nth(1).unwrap();
    let override_event = override_event.split("END:VEVENT").next().unwrap();
    assert!(!override_event.contains("RRULE") && !override_event.contains("EXDATE"));
    // The health webinar week is not in the digital feed.
    assert!(!text.contains("health-webinar-week"));

    // What clients read: the icalendar crate sees the rule, the exception and the override.
    let parsed = icalendar::Calendar::from_str(&export(&example(), None, &|_| 0, &opts())).unwrap();
    let webinar: Vec<&icalendar::Event> = parsed
        .components
        .iter()
        .filter_map(|c| c.as_event())
        .filter(|e| e.get_uid() == Some("meeting-health-webinar-week@convene"))
        .collect();
    assert_eq!(webinar.len(), 2);
    let (master, moved) = (webinar[0], webinar[1]);
    assert_eq!(master.property_value("RRULE"), Some("FREQ=DAILY;COUNT=5"));
    let exdates = &master.multi_properties()["EXDATE"];
    assert_eq!(exdates.len(), 1);
    assert_eq!(exdates[0].value(), "20260325T120000");
    assert_eq!(exdates[0].params()["TZID"].value(), "Europe/Brussels");
    assert!(master.get_recurrence_id().is_none());
    assert_eq!(
        moved.get_recurrence_id(),
        Some(icalendar::DatePerhapsTime::DateTime(
            icalendar::CalendarDateTime::WithTimezone {
                date_time: "2026-03-27T12:00:00".parse().unwrap(),
                tzid: "Europe/Brussels".into(),
            }
        ))
    );
    assert_eq!(
        moved.get_start().unwrap().date_naive().to_string(),
        "2026-03-27"
    );
}

#[test]
fn export_then_import_gives_the_same_occurrences() {
    let cal = awkward();
    let back =
        Calendar::from_items(import_ics(&export(&cal, None, &|_| 0, &opts()), Brussels).unwrap());
    let (sent, read) = (year_2026(&cal), year_2026(&back));
    assert!(sent.iter().filter(|o| o.original.is_some()).count() >= 12);
    assert!(sent.iter().any(|o| o.moved) && sent.iter().any(|o| o.cancelled));
    assert_eq!(read, sent);
}

#[test]
fn whole_day_series_use_dates() {
    use crate::calendar::recurrence::{End, Freq, Override, Repeat};
    let mut rule = Repeat::new(Freq::Monthly);
    rule.monthdays = vec![-1];
    rule.end = End::Until("2026-12-31".parse().unwrap());
    rule.except = vec!["2026-08-31".parse().unwrap()];
    rule.overrides = vec![Override {
        on: "2026-05-31".parse().unwrap(),
        to: Some("2026-05-29".parse().unwrap()),
        end: None,
        title: Some("Monthly report (May, before the long weekend)".into()),
        mode: None,
        location: None,
        join_link: None,
    }];
    let cal = Calendar {
        deadlines: vec![Deadline {
            id: "monthly-report".into(),
            title: "Monthly report".into(),
            due: "2026-01-31".parse().unwrap(),
            groups: vec!["territorial".into()],
            source: None,
            repeat: Some(rule),
        }],
        ..Calendar::default()
    };
    let text = export(&cal, None, &|_| 0, &opts());
    for expected in [
        "DTSTART;VALUE=DATE:20260131\r\nDTEND;VALUE=DATE:20260201\r\n\
         RRULE:FREQ=MONTHLY;BYMONTHDAY=-1;UNTIL=20261231\r\nEXDATE;VALUE=DATE:20260831\r\n",
        "RECURRENCE-ID;VALUE=DATE:20260531\r\nSUMMARY:Monthly report (May\\, before the long weekend)\r\n\
         DTSTART;VALUE=DATE:20260529\r\n",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    let back = Calendar::from_items(import_ics(&text, Brussels).unwrap());
    assert_eq!(back, cal);
    assert_eq!(year_2026(&back).len(), 12);
}

#[test]
fn an_invitation_to_a_series_carries_its_exceptions() {
    let m = example().meeting("digital-subgroup").unwrap().clone();
    let organizer = Party {
        name: None,
        email: "working-groups@example.org",
    };
    let attendee = Party {
        name: None,
        email: "ana@example.org",
    };
    let text =
        meeting_invitation(&m, 1, &organizer, &attendee, utc("2026-01-20T08:00:00Z")).unwrap();
    assert!(text.contains("METHOD:REQUEST"));
    assert!(text.contains("RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;UNTIL=20260526T120000Z"));
    assert!(text.contains("RECURRENCE-ID;TZID=Europe/Brussels:20260331T140000"));
    assert_eq!(text.matches("BEGIN:VEVENT").count(), 2);
    assert_eq!(text.matches("ATTENDEE").count(), 1);
    icalendar::Calendar::from_str(&text).unwrap();
}

#[test]
fn imports_a_series_from_another_calendar() {
    // As Outlook writes "every weekday, 10 times", with two EXDATEs on one line, a moved
    // occurrence and a cancelled one given as its own VEVENT (before the series, even).
    let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Other//EN\r\n\
        BEGIN:VEVENT\r\nUID:series-1\r\nRECURRENCE-ID:20260112T140000Z\r\nSTATUS:CANCELLED\r\n\
        SUMMARY:Territorial sub-group\r\nDTSTART:20260112T140000Z\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nUID:series-1\r\nSUMMARY:Territorial sub-group\r\n\
        DTSTART;TZID=Romance Standard Time:20260105T150000\r\n\
        DTEND;TZID=Romance Standard Time:20260105T160000\r\n\
        RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=10\r\n\
        EXDATE;TZID=Romance Standard Time:20260107T150000,20260108T150000\r\n\
        LOCATION:https://teams.example.com/l/meetup\r\nCATEGORIES:territorial\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nUID:series-1\r\nRECURRENCE-ID;TZID=Romance Standard Time:20260109T150000\r\n\
        SUMMARY:Territorial sub-group\r\nDTSTART;TZID=Romance Standard Time:20260109T090000\r\n\
        DTEND;TZID=Romance Standard Time:20260109T100000\r\n\
        LOCATION:https://teams.example.com/l/meetup\r\nEND:VEVENT\r\n\
        END:VCALENDAR\r\n";
    let items = import_ics(text, Brussels).unwrap();
    assert_eq!(items.len(), 1);
    let Item::Meeting(m) = &items[0] else {
        panic!("{items:?}")
    };
    let rule = m.repeat.as_ref().unwrap();
    assert_eq!(
        crate::calendar::recurrence::rrule::to_rrule(rule, &m.start),
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=10"
    );
    let except: Vec<String> = rule.except.iter().map(ToString::to_string).collect();
    assert_eq!(except, ["2026-01-07", "2026-01-08", "2026-01-12"]);
    assert_eq!(rule.overrides.len(), 1);
    let o = &rule.overrides[0];
    // Only what differs is kept: the time (the hour-long slot follows it).
    assert_eq!(o.to, Some("2026-01-09T09:00".parse().unwrap()));
    assert_eq!((&o.end, &o.title, &o.join_link), (&None, &None, &None));
    let cal = Calendar::from_items(items.clone());
    let dates: Vec<String> = cal
        .occurrences_between(
            utc("2026-01-01T00:00:00Z"),
            utc("2026-02-01T00:00:00Z"),
            Brussels,
        )
        .filter(|o| !o.cancelled)
        .map(|o| o.start().to_string()[5..16].to_owned())
        .collect();
    assert_eq!(
        dates,
        [
            "01-05T15:00",
            "01-06T15:00",
            "01-09T09:00",
            "01-13T15:00",
            "01-14T15:00",
            "01-15T15:00",
            "01-16T15:00"
        ]
    );
}

#[test]
fn rules_the_model_cannot_hold_are_refused_by_name() {
    let event = |extra: &str| {
        format!(
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:z\r\nSUMMARY:Z\r\n\
             DTSTART;TZID=Europe/Brussels:20260105T150000\r\nDTEND;TZID=Europe/Brussels:20260105T160000\r\n\
             {extra}END:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    };
    for (extra, expected) in [
        (
            "RRULE:FREQ=YEARLY\r\n",
            "event \"z\": RRULE: FREQ=YEARLY: only DAILY, WEEKLY and MONTHLY",
        ),
        (
            "RRULE:FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1\r\n",
            "event \"z\": RRULE: BYSETPOS is not supported",
        ),
        (
            "RRULE:FREQ=WEEKLY\r\nRDATE:20260301T150000\r\n",
            "event \"z\": RDATE is not supported",
        ),
        (
            "RRULE:FREQ=WEEKLY;UNTIL=20250101\r\n",
            "event \"z\": series: 2025-01-01 is before the start",
        ),
    ] {
        let err = format!("{:#}", import_ics(&event(extra), Brussels).unwrap_err());
        assert!(err.contains(expected), "{extra}→ {err}");
    }
}
