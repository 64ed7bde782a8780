use super::*;

fn kv(k: &str, v: &str) -> (String, String) {
    (k.to_owned(), v.to_owned())
}

#[test]
fn key_values_with_and_without_quotes() {
    let got = parse_kv(
        r#"add id=wg-health-2026-05 group=health,digital start=2026-05-12T10:00 title="Health online meeting" location=“Rue de la Loi 200” Mode=online"#,
    )
    .unwrap();
    assert_eq!(
        got,
        vec![
            kv("", "add"),
            kv("id", "wg-health-2026-05"),
            kv("group", "health,digital"),
            kv("start", "2026-05-12T10:00"),
            kv("title", "Health online meeting"),
            kv("location", "Rue de la Loi 200"),
            kv("mode", "online"),
        ]
    );
    assert_eq!(
        parse_kv("cancel m1").unwrap(),
        vec![kv("", "cancel"), kv("", "m1")]
    );
    assert_eq!(parse_kv("  ").unwrap(), vec![]);
    assert_eq!(parse_kv("title=").unwrap(), vec![kv("title", "")]);
    assert!(parse_kv(r#"title="open"#).unwrap_err().contains("title"));
}

#[test]
fn the_text_after_the_command_name_keeps_its_quotes() {
    assert_eq!(
        raw_args(r#"!meeting add title="A  b""#),
        r#"add title="A  b""#
    );
    assert_eq!(raw_args("!meeting"), "");
}

#[test]
fn every_command_has_help_and_editing_is_for_the_secretariat() {
    for name in [
        "next",
        "meetings",
        "agenda",
        "deadlines",
        "calls",
        "timeline",
        "apply",
        "ics",
        "cadence",
    ] {
        assert!(handles(name), "{name}");
        assert!(!HELP.iter().find(|h| h.0 == name).unwrap().3);
    }
    for name in ["meeting", "deadline", "call"] {
        assert!(HELP.iter().find(|h| h.0 == name).unwrap().3, "{name}");
    }
    assert!(!handles("help"));
}

async fn ctx(dir: &std::path::Path) -> crate::daemon::Parts {
    let mut c = crate::config::Config::from_toml(crate::config::EXAMPLE, Vec::new()).unwrap();
    c.state_dir = dir.to_owned();
    crate::daemon::Parts::build(&c).await.unwrap()
}

async fn run(ctx: &crate::daemon::Parts, text: &str, group: Option<&str>, admin: bool) -> String {
    let inv = Invocation {
        text,
        sender: "@sec:example.org",
        group,
        is_admin: admin,
        in_management_room: group.is_none(),
        event_id: None,
        thread_root: None,
        context: Default::default(),
    };
    ctx.commands.execute(&inv).await.unwrap().unwrap().markdown
}

#[tokio::test]
async fn the_secretariat_adds_edits_and_cancels_and_members_see_it() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx(dir.path()).await;
    let add = r#"!meeting add id=wg-health-2099-05 start=2099-05-12T10:00 end=2099-05-12T12:00 mode=online title="Health online meeting""#;
    assert!(
        run(&ctx, add, Some("health"), false)
            .await
            .contains("secretariat only")
    );
    let out = run(&ctx, add, Some("health"), true).await;
    assert!(
        out.starts_with("Added meeting `wg-health-2099-05`"),
        "{out}"
    );
    let r = ItemRef {
        kind: ItemKind::Meeting,
        id: "wg-health-2099-05".into(),
    };
    let (Item::Meeting(m), 0) = store::get(&ctx.db, &r).await.unwrap().unwrap() else {
        panic!("stored at revision 0");
    };
    assert_eq!(
        m.groups,
        vec!["health".to_owned()],
        "the room's group by default"
    );

    let out = run(
        &ctx,
        "!meeting edit id=wg-health-2099-05 mode=physical location=\"Brussels, Rue Belliard 99\"",
        None,
        true,
    )
    .await;
    assert!(out.starts_with("Updated"), "{out}");
    let out = run(&ctx, "!meeting cancel wg-health-2099-05", None, true).await;
    assert!(out.starts_with("Cancelled"), "{out}");
    let (Item::Meeting(m), 2) = store::get(&ctx.db, &r).await.unwrap().unwrap() else {
        panic!("two changes, two revisions");
    };
    assert!(m.cancelled && m.mode == Mode::Physical && m.is_physical_in_brussels());
    assert!(
        run(&ctx, "!meeting edit id=nope title=x", None, true)
            .await
            .contains("no meeting `nope`")
    );
    assert!(
        run(&ctx, "!meeting add title=x", None, true)
            .await
            .contains("missing `start=…`")
    );
    assert!(
        run(&ctx, "!meeting add title=x start=2099-13-01", None, true)
            .await
            .contains("`start`")
    );
    assert!(
        run(
            &ctx,
            "!deadline add title=x due=2099-01-01 group=nope",
            None,
            true
        )
        .await
        .contains("no group `nope`")
    );

    let out = run(
        &ctx,
        r#"!deadline add title="Comments on the issue paper" due=2099-06-01 group=health"#,
        None,
        true,
    )
    .await;
    assert!(
        out.starts_with("Added deadline `comments-on-the-issue-paper-2099-06-01`"),
        "{out}"
    );
    let out = run(
        &ctx,
        r#"!call add title="Call for members" opens=2099-01-01 closes=2099-02-01"#,
        None,
        true,
    )
    .await;
    assert!(out.starts_with("Added call"), "{out}");

    let deadlines = run(&ctx, "!deadlines health", Some("digital"), false).await;
    assert!(
        deadlines.contains("Comments on the issue paper"),
        "{deadlines}"
    );
    assert!(
        !run(&ctx, "!deadlines", Some("digital"), false)
            .await
            .contains("Comments on")
    );
    let meetings = run(&ctx, "!meetings 2099", Some("health"), false).await;
    assert!(meetings.contains("Health online meeting"), "{meetings}");
    let ics = run(&ctx, "!ics", Some("health"), false).await;
    assert!(
        ics.contains("http://127.0.0.1:8080/calendar/health.ics"),
        "{ics}"
    );
    assert!(
        run(&ctx, "!cadence 2099", None, false)
            .await
            .contains("Cadence 2099")
    );
    assert!(
        run(&ctx, "!agenda", None, false)
            .await
            .contains("Which meeting")
    );
}
