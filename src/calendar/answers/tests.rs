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
                    2. Progress of the issue papers — *information point* · [document](<https://example.org/htp/issue-papers-draft.pdf>)\n\
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

#[test]
fn series_answer_by_occurrence() {
    let c = cal();
    // Next: the series' next date, with its rule.
    assert_eq!(
        next(&c, Some("digital"), utc("2026-03-10T12:00:00Z"), Brussels),
        "**Next meeting** (Digital): Digital sub-group call — Tue 17 Mar, 14:00–15:30 Brussels time, in 7 days · \
         online — [join](https://meet.example.org/htp-digital-subgroup) · every 2 weeks on Tuesday, until 26 May 2026\n\
         **Next deadline**: Finalisation of outputs for publication (January – March) — Tue 31 Mar, in 3 weeks"
    );
    // The cancelled webinar day is skipped; the moved one is next at its new time.
    assert!(
        next(&c, Some("health"), utc("2026-03-24T12:00:00Z"), Brussels).starts_with(
            "**Next meeting** (Health): Health skills webinar — Thu 26 Mar, 12:00–13:00"
        )
    );
    assert!(
        next(&c, Some("health"), utc("2026-03-26T12:00:00Z"), Brussels)
            .contains("Fri 27 Mar, 10:00–11:00 Brussels time, tomorrow")
    );
}

#[test]
fn meetings_list_each_occurrence_of_the_year() {
    let text = meetings(
        &cal(),
        Some("digital"),
        2026,
        utc("2026-01-10T00:00:00Z"),
        Brussels,
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "**Meetings 2026** (Digital)");
    assert_eq!(
        lines[1],
        "- January 2026 · online · Working Group online meeting"
    );
    assert_eq!(
        lines[2],
        "- Tue 3 Feb, 14:00–15:30 Brussels time · online — [join](https://meet.example.org/htp-digital-subgroup) · Digital sub-group call"
    );
    assert!(
        lines[6].starts_with("- April 2026 · online · Last Working Group online meeting"),
        "{text}"
    );
    assert!(
        lines[7]
            .ends_with("· Digital sub-group call — data spaces special · moved from Tue 31 Mar"),
        "{text}"
    );
    assert!(
        lines[8].ends_with("· ~~Digital sub-group call~~ (cancelled)"),
        "{text}"
    );
    assert!(lines[8].starts_with("- Tue 14 Apr, 14:00–15:30"), "{text}");
    // January + April + 9 Tuesdays from 3 February to 26 May.
    assert_eq!(lines.len(), 1 + 2 + 9, "{text}");
    assert!(lines.last().unwrap().starts_with("- Tue 26 May"));
    // Other groups do not see them.
    assert!(
        !meetings(
            &cal(),
            Some("health"),
            2026,
            utc("2026-01-10T00:00:00Z"),
            Brussels
        )
        .contains("sub-group")
    );
}

#[test]
fn agenda_finds_an_occurrence_by_date_id_or_series() {
    let c = cal();
    let now = utc("2026-03-20T09:00:00Z");
    let moved = agenda(&c, None, "2026-04-01", now, Brussels);
    assert!(
        moved.starts_with(
            "**Digital sub-group call — data spaces special** — Wed 1 Apr, 14:00–15:30 Brussels time, in 12 days\n\
             Online — [join](https://meet.example.org/htp-digital-subgroup)\nThe agenda is not out yet."
        ),
        "{moved}"
    );
    assert_eq!(
        agenda(&c, None, "digital-subgroup@2026-03-31", now, Brussels),
        moved
    );
    // The series by its id: its next date.
    assert!(
        agenda(&c, None, "digital-subgroup", now, Brussels)
            .starts_with("**Digital sub-group call — data spaces special** — Wed 1 Apr")
    );
    // Its original date holds nothing any more.
    assert!(agenda(&c, None, "2026-03-31", now, Brussels).starts_with("No meeting matches"));
}

#[test]
fn a_recurring_deadline_shows_its_next_date_and_rule() {
    use crate::calendar::recurrence::{Freq, Repeat};
    let mut c = cal();
    let mut rule = Repeat::new(Freq::Monthly);
    rule.monthdays = vec![-1];
    c.deadlines.push(crate::calendar::model::Deadline {
        id: "activity-report".into(),
        title: "Monthly activity report".into(),
        due: "2026-01-31".parse().unwrap(),
        groups: vec!["territorial".into()],
        source: None,
        repeat: Some(rule),
    });
    assert_eq!(
        deadlines(
            &c,
            Some("territorial"),
            utc("2026-03-02T10:00:00Z"),
            Brussels
        ),
        "**Deadlines** (Territorial)\n\
         - Tue 31 Mar, in 4 weeks — Finalisation of outputs for publication (January – March)\n\
         - Tue 31 Mar, in 4 weeks — Monthly activity report · monthly on the last day"
    );
    // An open series does not keep `!deadlines` of other groups waiting.
    assert_eq!(
        deadlines(&c, Some("health"), utc("2026-04-01T00:00:00Z"), Brussels),
        "No upcoming deadlines (Health)."
    );
    assert!(timeline(&c, Some(2031)).contains(
        "- 31 Jan 2031 · Deadline: Monthly activity report · monthly on the last day (Territorial)"
    ));
}

#[test]
fn the_timeline_shows_a_series_once_with_its_rule() {
    let text = timeline(&cal(), Some(2026));
    assert!(
        text.contains(
            "\n- 3 Feb 2026 · Digital sub-group call (online) · every 2 weeks on Tuesday, until 26 May 2026 (Digital)\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "\n- 23 Mar 2026 · Health skills webinar (online) · daily, 5 times (Health)\n"
        ),
        "{text}"
    );
    assert_eq!(text.matches("Digital sub-group").count(), 1);
    assert!(!timeline(&cal(), Some(2025)).contains("sub-group"));
}

#[test]
fn titles_places_and_links_from_elsewhere_stay_text_and_readers_see_their_time() {
    // As an accepted proposal or an imported calendar may have them.
    let mut cal = Calendar::default();
    cal.meetings.push(crate::calendar::Meeting {
        id: "m".into(),
        title: "[Approve](https://phish.example) *now* @room".into(),
        groups: vec![],
        mode: Mode::Physical,
        start: "2024-04-24T10:00".parse().unwrap(),
        end: None,
        location: Some("<b>Brussels</b>".into()),
        join_link: Some("javascript:alert(1)".into()),
        agenda: vec![],
        minutes_link: None,
        cancelled: false,
        repeat: None,
    });
    let now = utc("2024-04-21T09:00:00Z");
    let lisbon = Zones::new(Brussels, Some(chrono_tz::Europe::Lisbon));
    let text = next(&cal, None, now, lisbon);
    assert!(
        text.contains("\\[Approve\\](https://phish.example) \\*now\\*"),
        "{text}"
    );
    assert!(!text.contains("@room") && text.contains("\\<b>"), "{text}");
    assert!(
        text.contains("10:00 Brussels time (09:00 Lisbon time)"),
        "{text}"
    );
    let mut online = cal.clone();
    online.meetings[0].mode = Mode::Online;
    let text = next(&online, None, now, Brussels);
    assert!(
        !text.contains("javascript") && text.contains("· online"),
        "{text}"
    );
}
