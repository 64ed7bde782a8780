use super::*;
use crate::applications::extract::{ExtractConfig, Role, parse_eml};

fn app(body: &str) -> Application {
    let raw = format!(
        "From: Ana <ana@x.test>\nSubject: Expression of interest\nMessage-ID: <1@x>\n\n{body}"
    );
    parse_eml(raw.as_bytes(), &ExtractConfig::default()).unwrap()
}

#[test]
fn correction_merges_and_keeps_what_it_does_not_repeat() {
    let mut old = app("");
    old.name = Some("Ana".into());
    old.country = Some("ES".into());
    old.missing = vec!["organisation".into(), "role".into(), "motivation".into()];
    let mut new = app("");
    new.country = Some("PT".into());
    new.role = Some(Role::Member);
    new.name = None;
    new.missing = vec!["name".into(), "organisation".into(), "motivation".into()];
    let m = merge(&old, &new);
    assert_eq!(m.name.as_deref(), Some("Ana"));
    assert_eq!(m.country.as_deref(), Some("PT"));
    assert_eq!(m.role, Some(Role::Member));
    assert_eq!(m.missing, vec!["organisation", "motivation"]);
    assert!(changed(&old, &m));
    assert!(!changed(&m, &merge(&m, &new)));
    assert_eq!(arrival_status(&m), "incomplete");
}

#[test]
fn ack_throttling() {
    let day = 24 * 3_600_000;
    assert!(should_ack(None, 0, day, false));
    assert!(!should_ack(Some(1000), 2000, day, false));
    assert!(should_ack(Some(1000), 2000, day, true));
    assert!(should_ack(Some(1000), 1000 + day, day, false));
}

#[tokio::test]
async fn empty_database_lists_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(
        &format!("sqlite://{}/t.db?mode=rwc", dir.path().display()),
        1,
    )
    .await
    .unwrap();
    assert!(list(&db, None, None).await.unwrap().is_empty());
    assert_eq!(team_size(&db.pool, "health").await.unwrap(), (0, 0));
    assert!(get(&db.pool, 1).await.unwrap().is_none());
}
