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
    let mut conn = db.pool.acquire().await.unwrap();
    let sender = Some("chair@member.test");
    let (a, new) = add_proposal(&mut conn, "7:0", 7, Some("health"), sender, &p)
        .await
        .unwrap();
    let (b, again) = add_proposal(&mut conn, "7:0", 7, Some("health"), sender, &p)
        .await
        .unwrap();
    assert_eq!((a, new, again), (b, true, false));
    add_proposal(&mut conn, "8:0", 8, None, sender, &p)
        .await
        .unwrap();
    // The daily count of a sender leaves out the mail being handled (a retry after a crash).
    let since = now_ms() - 60_000;
    assert_eq!(
        proposals_from(&mut conn, "chair@member.test", since, 9)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        proposals_from(&mut conn, "chair@member.test", since, 8)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        proposals_from(&mut conn, "other@member.test", since, 0)
            .await
            .unwrap(),
        0
    );
    drop(conn);
    let got = proposal(&db, a).await.unwrap().unwrap();
    assert_eq!(got.group.as_deref(), Some("health"));
    assert_eq!(got.proposal, p);
    assert!(accept_proposal(&db, a).await.unwrap());
    assert!(!accept_proposal(&db, a).await.unwrap());
}

#[tokio::test]
async fn a_second_bell_ends_the_subscription_and_zones_snoozes_and_personal_reminders_keep() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(dir.path()).await;
    let mut tx = db.pool.begin().await.unwrap();
    assert!(
        toggle_subscription(&mut tx, "@ana:x", "health")
            .await
            .unwrap()
    );
    assert!(
        !toggle_subscription(&mut tx, "@ana:x", "health")
            .await
            .unwrap()
    );
    assert!(
        toggle_subscription(&mut tx, "@ana:x", "digital")
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    assert_eq!(
        subscriptions_of(&db, "@ana:x").await.unwrap(),
        vec!["digital"]
    );

    let lisbon = chrono_tz::Europe::Lisbon;
    set_member_tz(&db, "@ana:x", Some(chrono_tz::Asia::Tokyo))
        .await
        .unwrap();
    set_member_tz(&db, "@ana:x", Some(lisbon)).await.unwrap();
    assert_eq!(member_tz(&db, "@ana:x").await.unwrap(), Some(lisbon));
    assert_eq!(member_tzs(&db.pool).await.unwrap().len(), 1);
    set_member_tz(&db, "@ana:x", None).await.unwrap();
    assert_eq!(member_tz(&db, "@ana:x").await.unwrap(), None);

    let occ = ItemRef {
        kind: crate::calendar::ItemKind::Meeting,
        id: "sub@2026-05-12".into(),
    };
    let id = add_personal(&db, "@ana:x", &occ, chrono::TimeDelta::hours(1))
        .await
        .unwrap();
    let all = personal(&db).await.unwrap();
    assert_eq!(
        (all[0].id, &all[0].item, all[0].offset),
        (id, &occ, chrono::TimeDelta::hours(1))
    );

    let s = Snooze {
        user: "@ana:x".into(),
        key: "meeting:sub@2026-05-12:2026-05-12T08:00:00Z:3600:2026-05-12T07:00:00Z".into(),
        item: occ,
        due: chrono::DateTime::from_timestamp_millis(now_ms()).unwrap(),
    };
    assert!(snooze(&db, &s).await.unwrap());
    assert!(
        !snooze(&db, &s).await.unwrap(),
        "once per person and reminder"
    );
    assert_eq!(pending_snoozes(&db).await.unwrap(), vec![s.clone()]);
    let mut conn = db.pool.acquire().await.unwrap();
    assert!(fire_snooze(&mut conn, &s.user, &s.key).await.unwrap());
    assert!(!fire_snooze(&mut conn, &s.user, &s.key).await.unwrap());
    drop(conn);
    assert!(pending_snoozes(&db).await.unwrap().is_empty());
    assert!(
        !snooze(&db, &s).await.unwrap(),
        "come back once: not again after"
    );
}
