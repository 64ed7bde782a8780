use super::*;

#[test]
fn subjects_compare_without_prefixes_and_tags() {
    assert_eq!(
        normalise_subject("Re: AW: [Health]  Agenda  May"),
        "agenda may"
    );
    assert_eq!(normalise_subject("Fwd: RE[2]: agenda may"), "agenda may");
    assert_eq!(normalise_subject("TR: Réunion"), "réunion");
    assert_eq!(
        normalise_subject("Re: Re: Question: budget"),
        "question: budget"
    );
}

#[tokio::test]
async fn a_conversation_keeps_its_references_and_participants() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(
        &format!("sqlite://{}/t.db?mode=rwc", dir.path().display()),
        1,
    )
    .await
    .unwrap();
    let mut conn = db.pool.acquire().await.unwrap();
    let key = Key::Mail(5);
    let n = || New {
        room: "!r",
        root_key: Some(&key),
        root_event: None,
        subject: "Agenda",
        correspondent: "Ana@x.test",
        message_id: Some("<m1@x.test>"),
        refs: &[],
    };
    let id = create(&mut conn, n()).await.unwrap();
    assert_eq!(create(&mut conn, n()).await.unwrap(), id, "idempotent");
    let c = get(&mut conn, id).await.unwrap().unwrap();
    note_inbound(
        &mut conn,
        &c,
        Some("<m2@x.test>"),
        "ana@x.test",
        "bo@x.test",
    )
    .await
    .unwrap();
    let c = get(&mut conn, id).await.unwrap().unwrap();
    note_outbound(&mut conn, &c, "<convene.1@wg>")
        .await
        .unwrap();
    let c = get(&mut conn, id).await.unwrap().unwrap();
    assert_eq!(c.refs, vec!["<m1@x.test>", "<m2@x.test>", "<convene.1@wg>"]);
    assert_eq!(c.last_message_id.as_deref(), Some("<convene.1@wg>"));
    assert_eq!(c.participants, vec!["ana@x.test", "bo@x.test"]);
    let found = by_subject(&mut conn, "RE: agenda", "BO@x.test", 0)
        .await
        .unwrap();
    assert_eq!(found.map(|c| c.id), Some(id));
    assert!(
        by_subject(&mut conn, "Re: Agenda", "eve@x.test", 0)
            .await
            .unwrap()
            .is_none(),
        "a stranger with the same subject does not join"
    );
}
