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
