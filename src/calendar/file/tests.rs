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
