//! Feeds, invitations and import: round-trip, folding, and parsing with `icalendar`.

use std::str::FromStr;

use chrono_tz::Europe::Brussels;
use icalendar::{Component, EventLike};

use super::*;
use crate::calendar::file;
use crate::calendar::model::{AgendaItem, AgendaKind, Call, CallKind, Deadline};

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn opts() -> FeedOptions<'static> {
    FeedOptions {
        name: "Working groups",
        dtstamp: utc("2026-01-05T08:00:00Z"),
        date_tz: Brussels,
    }
}

fn example() -> Calendar {
    file::parse(include_str!("../../../config/calendar.example.toml")).unwrap()
}

/// The example plus the awkward cases: cancelled, other zone, multi-day, escaping, long UTF-8.
fn awkward() -> Calendar {
    let mut cal = example();
    let mut m = cal.meeting("online-2024-04-24").unwrap().clone();
    m.id = "lisbon-2024-06-03".into();
    m.title =
        "Réunion de travail « numérique » — sous-groupe données, compétences et inclusion".into();
    m.groups = vec!["digital".into(), "territorial".into()];
    m.mode = Mode::Physical;
    m.start = "2024-06-03T14:00 Europe/Lisbon".parse().unwrap();
    m.end = Some("2024-06-03T17:30 Europe/Lisbon".parse().unwrap());
    m.location = Some("Câmara Municipal, Praça do Município; Lisboa, Portugal".into());
    m.join_link = None;
    m.agenda.push(AgendaItem {
        n: "4.1".into(),
        title: "Any other business, if any".into(),
        kind: None,
        docs: vec![
            "https://example.org/docs/aob.pdf".into(),
            "https://example.org/docs/aob-annex.pdf?v=2".into(),
        ],
    });
    m.minutes_link = Some("https://example.org/minutes/2024-06-03.pdf".into());
    m.cancelled = true;
    let mut retreat = cal.meeting("physical-2025-10").unwrap().clone();
    retreat.id = "retreat-2025-05".into();
    retreat.groups = vec!["health".into()];
    retreat.start = "2025-05-12".parse().unwrap();
    retreat.end = Some("2025-05-14".parse().unwrap());
    cal.meetings.extend([m, retreat]);
    cal.deadlines.push(Deadline {
        id: "strategy-comments".into(),
        title: "Comments on the draft strategy, to the mailbox".into(),
        due: "2023-05-03T23:59".parse().unwrap(),
        groups: vec!["research-innovation".into()],
        source: Some("Minutes of 19 April 2023, point 3; see mail".into()),
        repeat: None,
    });
    cal.calls.push(Call {
        id: "experts-2024".into(),
        title: "External experts".into(),
        groups: vec![],
        kind: CallKind::Members,
        opens: "2024-09".parse().unwrap(),
        closes: "2024-10-15T17:00".parse().unwrap(),
        link: Some("https://example.org/experts".into()),
    });
    cal
}

#[test]
fn export_then_import_gives_the_same_items() {
    let cal = awkward();
    let text = export(&cal, None, &|_| 0, &opts());
    let back = Calendar::from_items(import_ics(&text, Brussels).unwrap());
    assert_eq!(back.meetings, cal.meetings);
    assert_eq!(back.deadlines, cal.deadlines);
    assert_eq!(back.calls, cal.calls);
    assert_eq!(back.milestones, cal.milestones);
}

#[test]
fn output_is_folded_crlf_and_parses_with_icalendar() {
    let text = export(
        &awkward(),
        None,
        &|r| {
            if r.kind == crate::calendar::model::ItemKind::Meeting {
                3
            } else {
                1
            }
        },
        &opts(),
    );
    assert!(text.ends_with("END:VCALENDAR\r\n"));
    assert!(!text.replace("\r\n", "").contains('\n'), "bare LF");
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    assert!(text.contains("\r\n "), "the long title must fold");
    icalendar::parser::read_calendar(&icalendar::parser::unfold(&text)).unwrap();
    let parsed = icalendar::Calendar::from_str(&text).unwrap();
    let events: Vec<&icalendar::Event> = parsed
        .components
        .iter()
        .filter_map(|c| c.as_event())
        .collect();
    // One VEVENT per item, plus one per moved occurrence of the example's two series.
    assert_eq!(events.len(), awkward().items().len() + 2);
    let lisbon = events
        .iter()
        .find(|e| e.get_uid() == Some("meeting-lisbon-2024-06-03@convene"))
        .unwrap();
    assert_eq!(
        lisbon.get_summary(),
        Some("Réunion de travail « numérique » — sous-groupe données, compétences et inclusion")
    );
    assert_eq!(
        lisbon.get_location(),
        Some("Câmara Municipal, Praça do Município; Lisboa, Portugal")
    );
    assert_eq!(lisbon.get_sequence(), Some(3));
    assert_eq!(lisbon.get_status(), Some(icalendar::EventStatus::Cancelled));
    assert_eq!(
        lisbon.get_start().unwrap().date_naive().to_string(),
        "2024-06-03"
    );
}

#[test]
fn feed_lines_for_a_meeting_and_a_month_only_milestone() {
    let text = export(&example(), Some("health"), &|_| 2, &opts());
    for expected in [
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Working groups",
        "BEGIN:VTIMEZONE\r\nTZID:Europe/Brussels\r\nBEGIN:DAYLIGHT",
        "BEGIN:VEVENT\r\nUID:meeting-online-2024-04-24@convene\r\nDTSTAMP:20260105T080000Z\r\nSEQUENCE:2\r\n\
         SUMMARY:Working Group online meeting\r\nDTSTART;TZID=Europe/Brussels:20240424T100000\r\n\
         DTEND;TZID=Europe/Brussels:20240424T123000\r\nURL:https://meet.example.org/htp-wg-2024-04-24\r\n\
         DESCRIPTION:Online meeting: https://meet.example.org/htp-wg-2024-04-24\\n\\nA\r\n genda:\\n1. Adoption",
        "UID:milestone-issue-papers-2024@convene\r\nDTSTAMP:20260105T080000Z\r\nSEQUENCE:2\r\n\
         SUMMARY:Publication of issue papers\r\nDTSTART;VALUE=DATE:20240801\r\nDTEND;VALUE=DATE:20240901\r\n\
         TRANSP:TRANSPARENT\r\n",
        "UID:meeting-online-2025-06@convene",
        "STATUS:TENTATIVE",
        "UID:call-call-for-members-2023@convene\r\nDTSTAMP:20260105T080000Z\r\nSEQUENCE:2\r\n\
         SUMMARY:Call for members of the working groups\r\nDTSTART;VALUE=DATE:20230714\r\nDTEND;VALUE=DATE:20230916\r\n",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    // A group's feed leaves out what concerns only other groups.
    let mut cal = example();
    cal.deadlines[0].groups = vec!["digital".into()];
    assert!(!export(&cal, Some("health"), &|_| 0, &opts()).contains("issue-papers-comments"));
    assert!(export(&cal, Some("digital"), &|_| 0, &opts()).contains("issue-papers-comments"));
}

#[test]
fn zones_without_a_vtimezone_are_written_in_utc() {
    let mut cal = Calendar::default();
    let mut m = example().meeting("online-2024-04-24").unwrap().clone();
    m.start = "2024-04-24T10:00 America/New_York".parse().unwrap();
    m.end = None;
    cal.meetings.push(m);
    let text = export(&cal, None, &|_| 0, &opts());
    assert!(text.contains("DTSTART:20240424T140000Z"), "{text}");
    assert!(!text.contains("BEGIN:VTIMEZONE"));
    let back = import_ics(&text, Brussels).unwrap();
    let crate::calendar::model::Item::Meeting(m) = &back[0] else {
        panic!()
    };
    assert_eq!(m.start, "2024-04-24T16:00 Europe/Brussels".parse().unwrap());
}

#[test]
fn invitation_requests_or_cancels() {
    let mut m = example().meeting("physical-2024-10-11").unwrap().clone();
    let organizer = Party {
        name: Some("HTP Secretariat"),
        email: "working-groups@example.org",
    };
    let attendee = Party {
        name: Some("Ana \"Dev\" Silva"),
        email: "ana@example.org",
    };
    let text =
        meeting_invitation(&m, 4, &organizer, &attendee, utc("2024-09-27T08:00:00Z")).unwrap();
    for expected in [
        "METHOD:REQUEST",
        "TZID:Europe/Brussels",
        "DTSTART;TZID=Europe/Brussels:20241011T100000",
        "SEQUENCE:4",
        "ORGANIZER;CN=\"HTP Secretariat\":mailto:working-groups@example.org",
        "ATTENDEE;CN=\"Ana Dev Silva\";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP\r\n =FALSE:mailto:ana@example.org",
        "LOCATION:European Commission\\, Brussels",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    let parsed = icalendar::Calendar::from_str(&text).unwrap();
    assert_eq!(parsed.property_value("METHOD"), Some("REQUEST"));
    m.cancelled = true;
    let cancel =
        meeting_invitation(&m, 5, &organizer, &attendee, utc("2024-10-01T08:00:00Z")).unwrap();
    assert!(cancel.contains("METHOD:CANCEL") && cancel.contains("STATUS:CANCELLED"));
    assert!(
        meeting_invitation(
            example().meeting("online-2025-06").unwrap(),
            0,
            &organizer,
            &attendee,
            utc("2025-05-01T00:00:00Z")
        )
        .is_none()
    );
}

#[test]
fn imports_events_from_other_calendars() {
    let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Other//EN\r\n\
        BEGIN:VEVENT\r\nUID:040000008200E00074C5B7101A82E008\r\nSUMMARY:Health sub-group call\r\n\
        DTSTART;TZID=Romance Standard Time:20250312T140000\r\nDURATION:PT1H30M\r\n\
        LOCATION:https://teams.example.com/l/meetup\r\nCATEGORIES:health,Work\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nUID:abc123@google.com\r\nSUMMARY:Physical meeting\r\n\
        DTSTART:20251016T080000Z\r\nDTEND:20251016T140000Z\r\nLOCATION:Berlaymont\\, Brussels\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nUID:x1\r\nSUMMARY:Submit case studies\r\nDTSTART;VALUE=DATE:20250930\r\n\
        DTEND;VALUE=DATE:20251001\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nUID:x2\r\nSUMMARY:Dropped\r\nDTSTART;VALUE=DATE:20250930\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n\
        END:VCALENDAR\r\n";
    let items = import_ics(text, Brussels).unwrap();
    assert_eq!(items.len(), 3);
    let Item::Meeting(online) = &items[0] else {
        panic!("{:?}", items[0])
    };
    assert_eq!(online.id, "040000008200e00074c5b7101a82e008");
    assert_eq!(
        (
            online.mode,
            online.join_link.as_deref(),
            online.location.as_deref()
        ),
        (
            Mode::Online,
            Some("https://teams.example.com/l/meetup"),
            None
        )
    );
    assert_eq!(online.end, Some("2025-03-12T15:30".parse().unwrap()));
    assert_eq!(online.groups, ["health"]);
    let Item::Meeting(physical) = &items[1] else {
        panic!()
    };
    assert_eq!(physical.start, "2025-10-16T10:00".parse().unwrap());
    assert!(physical.is_physical_in_brussels());
    let Item::Deadline(d) = &items[2] else {
        panic!()
    };
    assert_eq!(
        (d.id.as_str(), &d.due),
        ("x1", &"2025-09-30".parse().unwrap())
    );
    let err = import_ics(
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:z\r\nDTSTART;TZID=Mars/Olympus:20250101T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        Brussels,
    );
    assert!(
        format!("{:#}", err.unwrap_err())
            .contains("event \"z\": unknown time zone \"Mars/Olympus\"")
    );
}

#[test]
fn agenda_lines_read_back() {
    let a = import::agenda_line("1.2. Adoption of the agenda (decision)").unwrap();
    assert_eq!(
        (a.n.as_str(), a.title.as_str(), a.kind),
        ("1.2", "Adoption of the agenda", Some(AgendaKind::Decision))
    );
    let b = import::agenda_line("3. Tour de table (everyone)").unwrap();
    assert_eq!(
        (b.title.as_str(), b.kind),
        ("Tour de table (everyone)", None)
    );
    assert!(import::agenda_line("Coffee break").is_none());
}

mod series;

#[test]
fn url_and_uid_values_cannot_start_a_property() {
    let mut cal = example();
    let m = &mut cal.meetings[0];
    m.id = "x;y,z\\w".into();
    m.join_link = Some("https://meet.example/a\r\nATTENDEE:mailto:evil@example\n".into());
    let text = export(&cal, None, &|_| 0, &opts());
    assert!(!text.contains("\r\nATTENDEE"), "{text}");
    assert!(text.contains("URL:https://meet.example/aATTENDEE:mailto:evil@example\r\n"));
    assert!(
        text.contains("UID:meeting-x\\;y\\,z\\\\w@convene\r\n"),
        "{text}"
    );
}
