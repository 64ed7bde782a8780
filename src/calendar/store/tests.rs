use super::*;
use crate::calendar::file;

pub(crate) async fn temp_db(dir: &std::path::Path) -> Db {
    Db::connect(&format!("sqlite://{}/cal.db?mode=rwc", dir.display()), 2)
        .await
        .unwrap()
}

const FILE_TEXT: &str = r#"
[[meeting]]
id = "m1"
title = "Health online meeting"
groups = ["health"]
mode = "online"
start = "2026-03-29T10:00"

[[deadline]]
id = "d1"
title = "Comments on the issue paper"
due = "2026-04-10"
"#;

#[tokio::test]
async fn upsert_bumps_the_revision_only_on_change() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(dir.path()).await;
    let cal = file::parse(FILE_TEXT).unwrap();
    assert_eq!(sync_file(&db, &cal).await.unwrap(), 2);
    assert_eq!(sync_file(&db, &cal).await.unwrap(), 0, "unchanged file");
    let r = cal.meetings[0].clone();
    let key = Item::Meeting(r.clone()).item_ref();
    assert_eq!(load(&db).await.unwrap().sequence(&key), 0);

    let mut moved = r;
    moved.title = "Health online meeting (moved)".into();
    let changed = Item::Meeting(moved);
    assert_eq!(
        upsert(&db, &changed, COMMAND).await.unwrap(),
        Change::Updated
    );
    assert_eq!(
        upsert(&db, &changed, COMMAND).await.unwrap(),
        Change::Unchanged
    );
    let snap = load(&db).await.unwrap();
    assert_eq!(snap.sequence(&key), 1);
    assert_eq!(snap.cal.meetings[0].title, "Health online meeting (moved)");
    assert_eq!(get(&db, &key).await.unwrap().unwrap().1, 1);

    // An item dropped from the file goes; the command-edited meeting is no longer the file's.
    let fewer = file::parse(
        &FILE_TEXT
            .replace("[[deadline]]", "[[milestone]]")
            .replace("due =", "when ="),
    )
    .unwrap();
    sync_file(&db, &fewer).await.unwrap();
    let snap = load(&db).await.unwrap();
    assert!(snap.cal.deadlines.is_empty());
    assert_eq!(snap.cal.milestones.len(), 1);
}

#[tokio::test]
async fn a_firing_is_recorded_once_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(dir.path()).await;
    assert!(record_firing(&db.pool, "k1", Firing::Late).await.unwrap());
    assert!(!record_firing(&db.pool, "k1", Firing::OnTime).await.unwrap());
    db.pool.close().await;
    let db = temp_db(dir.path()).await;
    assert!(!record_firing(&db.pool, "k1", Firing::OnTime).await.unwrap());
    assert_eq!(firing(&db, "k1").await.unwrap(), Some(1));
    assert_eq!(firing(&db, "k2").await.unwrap(), None);
}

#[tokio::test]
async fn a_rolled_back_firing_is_not_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(dir.path()).await;
    let mut tx = db.pool.begin().await.unwrap();
    assert!(record_firing(&mut *tx, "k", Firing::OnTime).await.unwrap());
    tx.rollback().await.unwrap();
    assert!(record_firing(&db.pool, "k", Firing::OnTime).await.unwrap());
}

#[tokio::test]
async fn proposals_are_stored_once_and_accepted_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(dir.path()).await;
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let p = crate::calendar::phrases::detect("Please send comments by 3 May 2026.", day)
        .pop()
        .unwrap();
    let a = add_proposal(
        &mut db.pool.acquire().await.unwrap(),
        "7:0",
        7,
        Some("health"),
        &p,
    )
    .await
    .unwrap();
    let b = add_proposal(
        &mut db.pool.acquire().await.unwrap(),
        "7:0",
        7,
        Some("health"),
        &p,
    )
    .await
    .unwrap();
    assert_eq!(a, b);
    let got = proposal(&db, a).await.unwrap().unwrap();
    assert_eq!(got.group.as_deref(), Some("health"));
    assert_eq!(got.proposal, p);
    assert!(accept_proposal(&db, a).await.unwrap());
    assert!(!accept_proposal(&db, a).await.unwrap());
}
