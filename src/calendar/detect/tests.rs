//! Proposals from mail against a temporary database: escaped cards, the per-mail and the
//! per-sender daily caps (counted in the database), and a meeting's mode and place kept.

use super::*;
use crate::calendar::store::tests::temp_db;
use crate::config::Config;
use crate::outbox::Outbox;

async fn service(db: &crate::storage::Db, per_day: u32) -> Service {
    let mut c = Config::from_toml(crate::config::EXAMPLE, Vec::new()).unwrap();
    c.calendar.proposals_per_sender_per_day = Some(per_day);
    let outbox = Outbox::new(db.clone(), "WG <wg@example.org>".parse().unwrap(), "!m")
        .await
        .unwrap();
    let raw: crate::calendar::service::Lookup<i64, Option<Vec<u8>>> =
        std::sync::Arc::new(|id: i64| {
            Box::pin(async move {
                let from = if id < 100 {
                    "Chair <Chair@Member.test>"
                } else {
                    "other@x.test"
                };
                Ok(Some(
                    format!("From: {from}\r\nSubject: x\r\n\r\nx").into_bytes(),
                ))
            })
        });
    Service::new(
        db.clone(),
        outbox,
        crate::calendar::Settings::from_config(&c).unwrap(),
    )
    .wired(crate::calendar::Wiring {
        members: None,
        inbound_raw: Some(raw),
    })
}

async fn cards(db: &crate::storage::Db) -> Vec<(String, String)> {
    sqlx::query_as("SELECT key, op FROM outbox ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .unwrap()
}

fn dates(n: usize) -> String {
    (0..n)
        .map(|i| format!("Please send comments on paper {i} by 3 June 2099."))
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn a_mail_cards_at_most_three_and_a_sender_at_most_the_daily_cap() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(dir.path()).await;
    let svc = service(&db, 5).await;
    on_mail(&svc, 1, Some("health"), &dates(200), None)
        .await
        .unwrap();
    let q = cards(&db).await;
    assert_eq!(q.len(), 4, "{q:?}");
    assert!(q[..3].iter().all(|c| c.0.starts_with("proposal-")));
    assert_eq!(q[3].0, "notice-proposals-capped-1");
    assert!(q[3].1.contains("197 more dates") && q[3].1.contains("per mail"));
    // Handled again (a crash before the pipeline marked it done): nothing new.
    on_mail(&svc, 1, Some("health"), &dates(200), None)
        .await
        .unwrap();
    assert_eq!(cards(&db).await.len(), 4);
    // The same sender (another case of the address): two left today.
    on_mail(&svc, 2, None, &dates(3), None).await.unwrap();
    let q = cards(&db).await;
    assert_eq!(q.len(), 7, "{q:?}");
    assert!(
        q[6].1.contains("1 more dates") && q[6].1.contains("a day"),
        "{}",
        q[6].1
    );
    on_mail(&svc, 3, None, &dates(1), None).await.unwrap();
    assert_eq!(cards(&db).await.len(), 8, "capped: only the notice");
    // Another sender has their own count.
    on_mail(&svc, 100, None, &dates(1), None).await.unwrap();
    let q = cards(&db).await;
    assert_eq!(q.len(), 9);
    assert!(q[8].0.starts_with("proposal-"));
}

#[tokio::test]
async fn a_card_quotes_the_mail_inertly_and_a_meeting_keeps_mode_and_place() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(dir.path()).await;
    let svc = service(&db, 10).await;
    let text = format!(
        "The next meeting will take place on 12 May 2099 in Brussels. [Approve now](https://phish.example) <b>@room</b> {}",
        "word ".repeat(200)
    );
    on_mail(&svc, 7, Some("health"), &text, None).await.unwrap();
    let q = cards(&db).await;
    assert_eq!(q.len(), 1, "{q:?}");
    let op: serde_json::Value = serde_json::from_str(&q[0].1).unwrap();
    let body = op["content"]["body"].as_str().unwrap();
    let html = op["content"]["formatted_body"].as_str().unwrap();
    assert!(
        body.contains("Proposed meeting") && body.contains("in person, Brussels"),
        "{body}"
    );
    assert!(!html.contains("<a") && !html.contains("<b>"), "{html}");
    assert!(!body.contains("@room"), "{body}");
    assert!(
        body.len() < 700,
        "the sentence is truncated: {}",
        body.len()
    );

    let id: i64 = q[0].0.trim_start_matches("proposal-").parse().unwrap();
    accept(&svc, "!m", id).await.unwrap();
    let snap = store::load(&db).await.unwrap();
    let m = &snap.cal.meetings[0];
    assert_eq!(
        (m.mode, m.location.as_deref()),
        (Mode::Physical, Some("Brussels"))
    );
    assert_eq!(m.groups, vec!["health".to_owned()]);
    // Once, however many ✅.
    accept(&svc, "!m", id).await.unwrap();
    assert_eq!(
        cards(&db)
            .await
            .iter()
            .filter(|c| c.0.starts_with("proposal-added-"))
            .count(),
        1
    );
}
