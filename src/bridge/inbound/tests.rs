use super::*;

#[test]
fn key_is_message_id_or_hash() {
    assert_eq!(
        message_key(b"Message-ID: <a@b>\r\nSubject: x\r\n\r\nhi"),
        "<a@b>"
    );
    let k = message_key(b"Subject: x\r\n\r\nhi");
    assert!(k.starts_with("sha256:") && k.len() == 7 + 64, "{k}");
    assert_eq!(k, message_key(b"Subject: x\r\n\r\nhi"));
}

#[tokio::test]
async fn same_uid_twice_is_one_row_and_same_message_id_is_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(
        &format!("sqlite://{}/t.db?mode=rwc", dir.path().display()),
        1,
    )
    .await
    .unwrap();
    let raw = b"Message-ID: <m1@x>\r\nSubject: s\r\n\r\nbody".to_vec();
    let f = |uid, uidvalidity| Fetched {
        mailbox: "INBOX",
        uidvalidity,
        uid,
        size: 10,
        raw: Some(raw.clone()),
        oversized: false,
    };
    assert!(store(&db, f(1, 7)).await.unwrap().is_some());
    assert!(
        store(&db, f(1, 7)).await.unwrap().is_none(),
        "same UID stored twice"
    );
    assert_eq!(cursor(&db, "INBOX", 7).await.unwrap(), 1);
    // UIDVALIDITY changed: the cursor restarts and the copy is marked duplicate.
    assert_eq!(cursor(&db, "INBOX", 8).await.unwrap(), 0);
    let id = store(&db, f(1, 8)).await.unwrap().unwrap();
    let (state,): (String,) = sqlx::query_as("SELECT state FROM inbound_mail WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(state, "duplicate");
    let first = next_new(&db).await.unwrap().unwrap();
    assert_eq!(first.message_key, "<m1@x>");
}
