//! Answers from the example timeline at fixed instants.

use chrono_tz::Europe::Brussels;

use super::*;
use crate::calendar::file;

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn cal() -> Calendar {
    file::parse(include_str!("../../../config/calendar.example.toml")).unwrap()
}

#[test]
fn next_meeting_and_deadline() {
    assert_eq!(
        next(&cal(), None, utc("2024-04-21T09:00:00Z"), Brussels),
        "**Next meeting**: Working Group online meeting — Wed 24 Apr, 10:00–12:30 Brussels time, in 3 days · \
         online — [join](https://meet.example.org/htp-wg-2024-04-24)\n\
         **Next deadline**: Comments on the draft issue papers — Fri 28 Jun, in 2 months"
    );
    assert_eq!(
        next(
            &cal(),
            Some("health"),
            utc("2025-02-10T09:00:00Z"),
            Brussels
        ),
        "**Next meeting** (Health): Working Group online meeting — June 2025 (date to be confirmed) · online\n\
         **Next deadline**: Good practices for Catalogue Volume 2 — Fri 13 Jun, 17:00 Brussels time, in 4 months"
    );
    assert_eq!(
        next(
            &cal(),
            Some("digital"),
            utc("2026-06-01T00:00:00Z"),
            Brussels
        ),
        "No meeting planned (Digital)."
    );
    // A meeting stays "next" until it starts.
    assert!(
        next(&cal(), None, utc("2024-04-24T06:00:00Z"), Brussels)
            .contains("Wed 24 Apr, 10:00–12:30 Brussels time, in 2 hours")
    );
    assert!(
        next(&cal(), None, utc("2024-04-24T08:00:00Z"), Brussels)
            .contains("2nd Working Group physical meeting")
    );
}

#[test]
fn meetings_of_a_year() {
    assert_eq!(
        meetings(
            &cal(),
            Some("digital"),
            2024,
            utc("2025-01-01T00:00:00Z"),
            Brussels
        ),
        "**Meetings 2024** (Digital)\n\
         - Wed 24 Apr 2024, 10:00–12:30 Brussels time · online — [join](https://meet.example.org/htp-wg-2024-04-24) · Working Group online meeting\n\
         - Fri 11 Oct 2024, 10:00–16:00 Brussels time · in person, European Commission, Brussels · 2nd Working Group physical meeting"
    );
    let mut c = cal();
    c.meetings[1].cancelled = true;
    c.meetings[1].minutes_link = Some("https://example.org/m.pdf".into());
    let text = meetings(&c, None, 2024, utc("2024-01-01T00:00:00Z"), Brussels);
    assert!(
        text.contains(
            "· ~~Working Group online meeting~~ (cancelled) · [minutes](https://example.org/m.pdf)"
        ),
        "{text}"
    );
    assert_eq!(
        meetings(&c, None, 2027, utc("2024-01-01T00:00:00Z"), Brussels),
        "No meetings in 2027."
    );
}

#[test]
fn agenda_by_date_id_or_next() {
    let now = utc("2024-04-21T09:00:00Z");
    let expected = "**Working Group online meeting** — Wed 24 Apr, 10:00–12:30 Brussels time, in 3 days\n\
                    Online — [join](https://meet.example.org/htp-wg-2024-04-24)\n\
                    1. Adoption of the agenda and of the minutes of 24 November 2023 — *point for decision*\n\
                    2. Progress of the issue papers — *information point*\n\
                    3. Good practices: what to collect and how — *point for discussion*\n\
                    4. Next steps — *information point*";
    assert_eq!(agenda(&cal(), None, "2024-04-24", now, Brussels), expected);
    assert_eq!(
        agenda(&cal(), Some("health"), "next", now, Brussels),
        expected
    );
    assert_eq!(
        agenda(&cal(), None, "online-2024-04-24", now, Brussels),
        expected
    );
    let june = agenda(&cal(), None, "2025-06", now, Brussels);
    assert_eq!(
        june,
        "**Working Group online meeting** — June 2025 (date to be confirmed)\nOnline\nThe agenda is not out yet."
    );
    assert_eq!(
        agenda(&cal(), None, "2030-01-01", now, Brussels),
        "No meeting matches “2030-01-01”. `!meetings` lists them."
    );
}

#[test]
fn deadlines_still_open() {
    assert_eq!(
        deadlines(
            &cal(),
            Some("territorial"),
            utc("2024-06-21T10:00:00Z"),
            Brussels
        ),
        "**Deadlines** (Territorial)\n\
         - Fri 28 Jun, in 7 days — Comments on the draft issue papers\n\
         - Fri 13 Jun 2025, 17:00 Brussels time, in 11 months — Good practices for Catalogue Volume 2\n\
         - Tue 31 Mar 2026, in 21 months — Finalisation of outputs for publication (January – March)"
    );
    // A whole-day deadline is open until the end of its day.
    assert!(
        deadlines(&cal(), None, utc("2024-06-28T21:59:00Z"), Brussels)
            .contains("Fri 28 Jun, today")
    );
    assert!(!deadlines(&cal(), None, utc("2024-06-28T22:00:00Z"), Brussels).contains("28 Jun"));
    assert_eq!(
        deadlines(&cal(), None, utc("2026-04-01T00:00:00Z"), Brussels),
        "No upcoming deadlines."
    );
}

#[test]
fn calls_open_and_upcoming() {
    assert_eq!(
        calls(&cal(), utc("2023-09-03T10:00:00Z"), Brussels),
        "**Open calls**\n\
         - Call for members of the working groups — closes Fri 15 Sep (12 days left)\n\
         **Upcoming calls**\n\
         - Expressions of interest to establish regional skills partnerships — opens Thu 10 Oct 2024, in 13 months"
    );
    assert!(
        calls(&cal(), utc("2023-09-15T12:00:00Z"), Brussels).contains("closes today, Fri 15 Sep")
    );
    assert_eq!(
        calls(&cal(), utc("2026-06-01T00:00:00Z"), Brussels),
        "No call is open or announced."
    );
}

#[test]
fn timeline_of_a_year() {
    assert_eq!(
        timeline(&cal(), Some(2025)),
        "**Timeline 2025**\n\
         - 10 Oct 2024 – 29 May 2026 · Expressions of interest to establish regional skills partnerships open\n\
         - 31 Jan 2025 · Working Group online meeting (online)\n\
         - Mar 2025 · Publication of Good Practices Catalogue Volume 1\n\
         - Mar 2025 · Knowledge sharing at the second HTP High-Level Event\n\
         - Jun 2025 · Working Group online meeting (online)\n\
         - 13 Jun 2025 · Deadline: Good practices for Catalogue Volume 2\n\
         - Sep 2025 · Publication of Good Practices Catalogue Volume 2\n\
         - Oct 2025 · 3rd Working Group physical meeting (European Commission, Brussels)"
    );
    let all = timeline(&cal(), None);
    assert!(all.starts_with("**Timeline**\n- 14 Jul 2023 – 15 Sep 2023 · Call for members of the working groups open\n- Sep 2023 · Selection"), "{all}");
    assert_eq!(
        timeline(&cal(), Some(2030)),
        "Nothing on the timeline for 2030."
    );
}

#[test]
fn how_to_apply() {
    let text = apply(
        &cal(),
        utc("2023-09-14T10:00:00Z"),
        "working-groups@example.org",
        Brussels,
    );
    assert!(text.starts_with("**How to apply**\nOpen now:\n- Call for members of the working groups — closes Fri 15 Sep (1 day left)\n\nEmail working-groups@example.org with:"), "{text}");
    assert!(text.contains("(core member, leader or external expert)"));
    assert_eq!(
        apply(
            &cal(),
            utc("2024-01-10T10:00:00Z"),
            "working-groups@example.org",
            Brussels
        ),
        "No call is open right now. Next: Expressions of interest to establish regional skills partnerships — opens Thu 10 Oct, in 9 months.\n\
         Questions: working-groups@example.org"
    );
}
