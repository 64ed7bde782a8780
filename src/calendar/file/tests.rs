//! The calendar file: the example timeline and the errors that name entry and key.

use super::*;

const EXAMPLE: &str = include_str!("../../../config/calendar.example.toml");

#[test]
fn reads_the_example_timeline() {
    let cal = parse(EXAMPLE).unwrap();
    assert_eq!(cal.calls[0].id, "call-for-members-2023");
    assert_eq!(cal.calls[0].opens, "2023-07-14".parse().unwrap());
    let first = cal.meeting("physical-2023-11-24").unwrap();
    assert_eq!(first.start, "2023-11-24T10:00".parse().unwrap());
    assert_eq!(first.end, Some("2023-11-24T16:00".parse().unwrap()));
    assert!(first.is_physical_in_brussels() && first.groups.is_empty());
    assert!(
        first
            .agenda
            .iter()
            .any(|a| a.kind == Some(AgendaKind::Decision))
    );
    assert!(
        cal.meetings
            .iter()
            .any(|m| m.start == "2025-06".parse().unwrap())
    );
    assert!(
        cal.milestones
            .iter()
            .any(|m| m.when == "2024-08".parse().unwrap())
    );
}

fn error(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn errors_name_the_entry_and_the_key() {
    let text = "[[meeting]]\ntitle = \"Online\"\nmode = \"online\"\nstart = \"2024-04-24T10:00\"\n\n\
                [[meeting]]\ntitle = \"Kick-off\"\nmode = \"physical\"\nstart = \"2024-13-01\"\nlocation = \"Brussels\"\n";
    let msg = error(text);
    assert!(
        msg.contains("[[meeting]] #2 \"Kick-off\": `start`: invalid date \"2024-13-01\""),
        "{msg}"
    );
    let msg =
        error("[[meeting]]\ntitle = \"Visit\"\nmode = \"physical\"\nstart = \"2024-04-24\"\n");
    assert!(msg.contains("#1 \"Visit\": `location`"), "{msg}");
    let msg = error(
        "[[meeting]]\ntitle = \"M\"\nmode = \"online\"\nstart = \"2024-04-24T10:00\"\nend = \"09:00\"\n",
    );
    assert!(
        msg.contains("`end`: 2024-04-24T09:00[Europe/Brussels] is before the start"),
        "{msg}"
    );
    let msg = error(
        "[[call]]\ntitle = \"C\"\nkind = \"members\"\nopens = \"2023-09-15\"\ncloses = \"2023-07-14\"\n",
    );
    assert!(msg.contains("[[call]] #1 \"C\": `closes`"), "{msg}");
    let msg = error("[[deadline]]\nid = \"Comments!\"\ntitle = \"D\"\ndue = \"2023-05-03\"\n");
    assert!(msg.contains("`id`"), "{msg}");
    let msg = error(
        "[[milestone]]\ntitle = \"A\"\nwhen = \"2024-08\"\n[[milestone]]\ntitle = \"A\"\nwhen = \"2024-08\"\n",
    );
    assert!(msg.contains("id \"a-2024-08\" is also used"), "{msg}");
    let msg = error("[[milestone]]\ntitle = \"A\"\nwhen = \"2024-08\"\ncolour = \"red\"\n");
    assert!(msg.contains("unknown field `colour`"), "{msg}");
}

#[test]
fn end_shorthand_zones_and_agenda_numbers() {
    let cal = parse(
        "timezone = \"Europe/Lisbon\"\n[[meeting]]\ntitle = \"M\"\nmode = \"online\"\nstart = \"2024-04-24T10:00\"\nend = \"12:30\"\n\
         agenda = [{ n = 1, title = \"Welcome\" }, { n = \"1.2\", title = \"Agenda\", kind = \"decision\" }, { title = \"AOB\" }]\n\
         [[deadline]]\ntitle = \"D\"\ndue = \"2024-05-03T17:00\"\ntz = \"Europe/Brussels\"\n",
    )
    .unwrap();
    let m = &cal.meetings[0];
    assert_eq!(
        m.end,
        Some("2024-04-24T12:30 Europe/Lisbon".parse().unwrap())
    );
    let numbers: Vec<&str> = m.agenda.iter().map(|a| a.n.as_str()).collect();
    assert_eq!(numbers, ["1", "1.2", "3"]);
    assert_eq!(
        cal.deadlines[0].due,
        "2024-05-03T17:00 Europe/Brussels".parse().unwrap()
    );
}

#[test]
fn reads_the_example_series() {
    use crate::calendar::recurrence::{End, Freq};
    let cal = parse(EXAMPLE).unwrap();
    let sub = cal.meeting("digital-subgroup").unwrap();
    let rule = sub.repeat.as_ref().unwrap();
    assert_eq!((rule.freq, rule.interval), (Freq::Weekly, 2));
    assert_eq!(rule.days, ["tu".parse().unwrap()]);
    assert_eq!(rule.end, End::Until("2026-05-26".parse().unwrap()));
    assert_eq!(
        rule.except,
        ["2026-04-14".parse::<chrono::NaiveDate>().unwrap()]
    );
    let moved = &rule.overrides[0];
    assert_eq!(moved.to, Some("2026-04-01T14:00".parse().unwrap()));
    assert_eq!(
        moved.title.as_deref(),
        Some("Digital sub-group call — data spaces special")
    );
    // "to = "10:00"" is that time on the occurrence's own day.
    let webinar = cal.meeting("health-webinar-week").unwrap();
    let rule = webinar.repeat.as_ref().unwrap();
    assert_eq!((rule.freq, rule.end), (Freq::Daily, End::Count(5)));
    assert_eq!(
        rule.overrides[0].to,
        Some("2026-03-27T10:00".parse().unwrap())
    );
    // Entries without `repeat` stay one-off.
    assert!(cal.meeting("online-2024-04-24").unwrap().repeat.is_none());
}

#[test]
fn series_syntax_with_moves_and_deadlines() {
    let cal = parse(
        "[[deadline]]\ntitle = \"Monthly activity report\"\ndue = \"2026-01-30\"\n\
         repeat = \"monthly\"\nmonthdays = [-2]\ncount = 4\n\
         [[deadline.moved]]\non = \"2026-02-27\"\nto = \"2026-03-02\"\n\
         [[meeting]]\ntitle = \"Coordination\"\nmode = \"online\"\nstart = \"2026-01-08T09:30\"\n\
         end = \"10:30\"\ntz = \"Europe/Lisbon\"\nrepeat = \"monthly\"\ndays = [\"2th\"]\n\
         [[meeting.moved]]\non = \"2026-02-12\"\nmode = \"physical\"\nlocation = \"Lisboa\"\n\
         to = \"2026-02-13T14:00\"\nend = \"17:00\"\n",
    )
    .unwrap();
    let d = cal.deadlines[0].repeat.as_ref().unwrap();
    assert_eq!(d.monthdays, [-2]);
    assert_eq!(d.overrides[0].to, Some("2026-03-02".parse().unwrap()));
    let m = &cal.meetings[0];
    let o = &m.repeat.as_ref().unwrap().overrides[0];
    // The entry's zone applies to the move too, and a bare end time is on the new day.
    assert_eq!(
        o.to,
        Some("2026-02-13T14:00 Europe/Lisbon".parse().unwrap())
    );
    assert_eq!(
        o.end,
        Some("2026-02-13T17:00 Europe/Lisbon".parse().unwrap())
    );
    assert_eq!(o.mode, Some(Mode::Physical));
}

#[test]
fn series_errors_name_the_key() {
    let meeting = |extra: &str| {
        error(&format!(
            "[[meeting]]\ntitle = \"Sub-group\"\nmode = \"online\"\nstart = \"2026-02-03T14:00\"\n{extra}"
        ))
    };
    for (extra, expected) in [
        ("interval = 2\n", "`interval`: only a series has this"),
        (
            "except = [\"2026-02-10\"]\n",
            "`except`: only a series has this",
        ),
        (
            "repeat = \"weekly\"\ndays = [\"tue\"]\n",
            "`days`: \"tue\" is not a weekday",
        ),
        (
            "repeat = \"weekly\"\ndays = [\"2tu\"]\n",
            "`days`: 2tu: an ordinal weekday needs",
        ),
        (
            "repeat = \"weekly\"\ndays = [\"we\"]\n",
            "`start`: 2026-02-03 is not a date of the rule",
        ),
        (
            "repeat = \"weekly\"\ncount = 3\nuntil = \"2026-03-01\"\n",
            "`until`: give `count` or `until`",
        ),
        (
            "repeat = \"weekly\"\nuntil = \"2026-01-01\"\n",
            "`until`: 2026-01-01 is before the start",
        ),
        (
            "repeat = \"weekly\"\nuntil = \"1 March\"\n",
            "`until`: \"1 March\" is not a date",
        ),
        (
            "repeat = \"weekly\"\nexcept = [\"2026-02-11\"]\n",
            "`except`: 2026-02-11 is not a date of the series",
        ),
        (
            "repeat = \"daily\"\nmonthdays = [3]\n",
            "`monthdays`: only a monthly series",
        ),
        (
            "repeat = \"monthly\"\nmonthdays = [32]\n",
            "`monthdays`: 32 is not 1..31",
        ),
        (
            "repeat = \"weekly\"\ninterval = 0\n",
            "`interval`: must be at least 1",
        ),
        (
            "repeat = \"weekly\"\n[[meeting.moved]]\non = \"2026-02-11\"\nto = \"15:00\"\n",
            "`moved`: 2026-02-11 is not a date of the series",
        ),
        (
            "repeat = \"weekly\"\n[[meeting.moved]]\non = \"2026-02-10\"\nto = \"3pm\"\n",
            "`moved.to`: on 2026-02-10: \"3pm\" is not HH:MM",
        ),
        (
            "repeat = \"weekly\"\n[[meeting.moved]]\non = \"2026-02-10\"\nto = \"2026-02-11\"\n",
            "`moved`: 2026-02-10: 2026-02-11 must have the precision",
        ),
        (
            "repeat = \"weekly\"\n[[meeting.moved]]\non = \"2026-02-10\"\nmode = \"physical\"\n",
            "`moved.location`: on 2026-02-10: a physical meeting needs a location",
        ),
        (
            "repeat = \"weekly\"\n[[meeting.moved]]\non = \"2026-02-10\"\nroom = \"B\"\n",
            "unknown field `room`",
        ),
    ] {
        let msg = meeting(extra);
        // Unknown keys are TOML errors (with line and column); the rest name entry and key.
        let full = if expected.starts_with("unknown field") {
            expected.to_owned()
        } else {
            format!("[[meeting]] #1 \"Sub-group\": {expected}")
        };
        assert!(msg.contains(&full), "{extra}\n→ {msg}");
    }
    let msg = error(
        "[[meeting]]\ntitle = \"M\"\nmode = \"online\"\nstart = \"2026-02\"\nrepeat = \"monthly\"\n",
    );
    assert!(
        msg.contains("`repeat`: a month-only date cannot repeat"),
        "{msg}"
    );
    let msg = error(
        "[[meeting]]\ntitle = \"M\"\nmode = \"online\"\nstart = \"2026-02-03\"\nrepeat = \"yearly\"\n",
    );
    assert!(msg.contains("yearly"), "{msg}");
    let msg = error(
        "[[deadline]]\ntitle = \"D\"\ndue = \"2026-02-03\"\nrepeat = \"weekly\"\n\
         [[deadline.moved]]\non = \"2026-02-10\"\nlocation = \"Brussels\"\n",
    );
    assert!(
        msg.contains("[[deadline]] #1 \"D\": `moved.location`: on 2026-02-10: a deadline moves with `to` and `title` only"),
        "{msg}"
    );
}
