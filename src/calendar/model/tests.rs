//! Groups, Brussels, serialisation, lookups.

use super::*;

#[test]
fn empty_groups_concern_everyone() {
    assert!(concerns(&[], Some("health")));
    assert!(concerns(&["health".into()], None));
    assert!(!concerns(&["digital".into()], Some("health")));
}

#[test]
fn brussels_in_three_languages() {
    let mut m = Meeting {
        id: "m".into(),
        title: "t".into(),
        groups: vec![],
        mode: Mode::Physical,
        start: "2025-10".parse().unwrap(),
        end: None,
        location: Some("Commission européenne, Bruxelles".into()),
        join_link: None,
        agenda: vec![],
        minutes_link: None,
        cancelled: false,
        repeat: None,
    };
    assert!(m.is_physical_in_brussels());
    m.location = Some("Europese Commissie, Brussel".into());
    assert!(m.is_physical_in_brussels());
    m.location = Some("Bratislava".into());
    assert!(!m.is_physical_in_brussels());
    m.location = Some("Brussels".into());
    m.mode = Mode::Online;
    assert!(!m.is_physical_in_brussels());
}

#[test]
fn items_serialise_with_a_type_tag() {
    let item = Item::Milestone(Milestone {
        id: "m".into(),
        title: "Issue papers".into(),
        when: "2024-08".parse().unwrap(),
        groups: vec![],
    });
    let json = serde_json::to_string(&item).unwrap();
    assert_eq!(
        json,
        r#"{"type":"milestone","id":"m","title":"Issue papers","when":"2024-08","groups":[]}"#
    );
    assert_eq!(serde_json::from_str::<Item>(&json).unwrap(), item);
}

#[test]
fn items_come_back_by_reference() {
    let cal = crate::calendar::file::parse(include_str!("../../../config/calendar.example.toml"))
        .unwrap();
    let r = ItemRef {
        kind: ItemKind::Milestone,
        id: "issue-papers-2024".into(),
    };
    assert_eq!(r.to_string(), "milestone:issue-papers-2024");
    assert_eq!(cal.get(&r).unwrap().title(), "Publication of issue papers");
    assert_eq!(Calendar::from_items(cal.items()), cal);
}

mod occurrences {
    //! Occurrences of the example's series: windows, order, ids, exceptions, JSON.

    use chrono::{DateTime, Utc};
    use chrono_tz::Europe::Brussels;

    use super::*;
    use crate::calendar::recurrence::{Freq, Repeat};

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn example() -> Calendar {
        crate::calendar::file::parse(include_str!("../../../config/calendar.example.toml")).unwrap()
    }

    /// "id start [moved] [cancelled]" per occurrence in a window.
    fn lines(cal: &Calendar, from: &str, to: &str) -> Vec<String> {
        cal.occurrences_between(utc(from), utc(to), Brussels)
            .map(|o| {
                let mut line = format!("{} {}", o.id, o.start());
                if o.moved {
                    line.push_str(" moved");
                }
                if o.cancelled {
                    line.push_str(" cancelled");
                }
                line
            })
            .collect()
    }

    #[test]
    fn a_daily_webinar_week_with_a_cancelled_day_and_a_moved_one() {
        let cal = example();
        assert_eq!(
            lines(&cal, "2026-03-23T00:00:00Z", "2026-03-28T00:00:00Z"),
            [
                "health-webinar-week@2026-03-23 2026-03-23T12:00[Europe/Brussels]",
                "health-webinar-week@2026-03-24 2026-03-24T12:00[Europe/Brussels]",
                "health-webinar-week@2026-03-25 2026-03-25T12:00[Europe/Brussels] cancelled",
                "health-webinar-week@2026-03-26 2026-03-26T12:00[Europe/Brussels]",
                "health-webinar-week@2026-03-27 2026-03-27T10:00[Europe/Brussels] moved",
            ]
        );
        // The moved one keeps its hour-long slot; the series ends after five.
        let moved = cal
            .occurrence(&ItemRef {
                kind: ItemKind::Meeting,
                id: "health-webinar-week@2026-03-27".into(),
            })
            .unwrap();
        assert_eq!(
            moved.end().unwrap().to_string(),
            "2026-03-27T11:00[Europe/Brussels]"
        );
        assert_eq!(moved.original, Some("2026-03-27".parse().unwrap()));
        assert!(moved.item.repeat().is_none());
        assert!(
            lines(&cal, "2026-03-28T00:00:00Z", "2026-06-01T00:00:00Z")
                .iter()
                .all(|l| !l.starts_with("health-webinar-week"))
        );
    }

    #[test]
    fn a_window_merges_series_and_one_off_items_in_order() {
        let cal = example();
        let got = lines(&cal, "2026-03-27T00:00:00Z", "2026-04-15T00:00:00Z");
        assert_eq!(
            got,
            [
                "health-webinar-week@2026-03-27 2026-03-27T10:00[Europe/Brussels] moved",
                "outputs-final 2026-03-31",
                // The 31 March call moved to 1 April, after the month-only April meeting
                // (which sorts as 1 April, 00:00).
                "online-2026-04 2026-04",
                "digital-subgroup@2026-03-31 2026-04-01T14:00[Europe/Brussels] moved",
                "digital-subgroup@2026-04-14 2026-04-14T14:00[Europe/Brussels] cancelled",
            ]
        );
        let moved = cal
            .occurrence(&ItemRef {
                kind: ItemKind::Meeting,
                id: "digital-subgroup@2026-03-31".into(),
            })
            .unwrap();
        assert_eq!(
            moved.item.title(),
            "Digital sub-group call — data spaces special"
        );
        assert_eq!(moved.item.item_ref().id, "digital-subgroup");
        // Not a date of the rule, or not an occurrence id at all: nothing.
        for id in [
            "digital-subgroup@2026-04-01",
            "digital-subgroup",
            "nope@2026-03-31",
        ] {
            let r = ItemRef {
                kind: ItemKind::Meeting,
                id: id.into(),
            };
            assert!(cal.occurrence(&r).is_none(), "{id}");
        }
    }

    #[test]
    fn next_occurrence_and_next_of_each_skip_what_is_cancelled() {
        let cal = example();
        // After the 31 March slot was due, the moved call (1 April) is next; after it, the
        // cancelled 14 April is skipped for 28 April.
        let next = cal
            .next_occurrence(utc("2026-04-01T12:30:00Z"), Brussels)
            .unwrap();
        assert_eq!(next.id, "digital-subgroup@2026-04-28");
        let now = utc("2026-03-24T12:00:00Z");
        let of_each: Vec<String> = cal
            .next_of_each(now, Brussels, |i| i.repeat().is_some())
            .into_iter()
            .map(|o| o.id)
            .collect();
        assert_eq!(
            of_each,
            [
                "health-webinar-week@2026-03-26",
                "digital-subgroup@2026-03-31"
            ]
        );
    }

    #[test]
    fn an_open_series_never_ends_but_questions_about_others_do() {
        let mut cal = Calendar::default();
        let mut weekly = example().meeting("digital-subgroup").unwrap().clone();
        let mut rule = Repeat::new(Freq::Weekly);
        rule.interval = 2;
        weekly.repeat = Some(rule);
        cal.meetings.push(weekly);
        // Ten years on, it is still there, found by seeking rather than walking.
        let far = cal
            .next_occurrence(utc("2036-01-01T00:00:00Z"), Brussels)
            .unwrap();
        assert_eq!(far.start().to_string(), "2036-01-08T14:00[Europe/Brussels]");
        // Nothing for health: the answer comes back instead of walking the series forever.
        let health = cal.next_of_each(utc("2026-03-01T00:00:00Z"), Brussels, |i| {
            i.concerns(Some("health")) && !i.groups().is_empty()
        });
        assert!(health.is_empty());
    }

    #[test]
    fn one_off_items_keep_their_json_and_series_round_trip() {
        // Stored items are compared as JSON for revisions: no `repeat` key on one-off items.
        let cal = example();
        let one_off = serde_json::to_string(&Item::Meeting(
            cal.meeting("online-2024-04-24").unwrap().clone(),
        ))
        .unwrap();
        assert!(!one_off.contains("repeat"), "{one_off}");
        let series = Item::Meeting(cal.meeting("digital-subgroup").unwrap().clone());
        let json = serde_json::to_string(&series).unwrap();
        assert!(
            json.contains(
                r#""repeat":{"freq":"weekly","interval":2,"days":["tu"],"end":{"until":"2026-05-26"},"except":["2026-04-14"],"overrides":[{"on":"2026-03-31","to":"2026-04-01T14:00[Europe/Brussels]","title":"Digital sub-group call — data spaces special"}]}"#
            ),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Item>(&json).unwrap(), series);
    }
}
